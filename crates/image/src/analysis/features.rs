//! Node features per frame, a table ready for a classifier: one row per (frame, component).
//!
//! The SciPy 2021 OrNet classifier used five per component: mean row and col, variance along
//! each, and the number of pixels whose most probable component it is. These are those, the
//! covariance's eigenvalues (its ellipse's squared semi-axes, which do not depend on how the
//! structure is turned), the weight, and two graph features in the graph the Laplacian is
//! built on (edge weights = the heat-kernel [`affinity`](crate::affinity) of the distances):
//!
//! ```text
//! degree_i      = sum_j A_ij
//! centrality_i  = x_i,  x = the unit-norm Perron eigenvector of A (A x = lambda_max x, x >= 0)
//! ```

use std::fmt::Write as _;

use ndarray::Axis;
use rayon::prelude::*;

use crate::analysis::data::{problem, TrackData};
use crate::distance::affinity;
use crate::error::Result;
use crate::io::npy;

/// Per (frame, component) features, row-major: row `t * K + k` is frame `t`'s component `k`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeFeatures {
    /// Each frame's index in the input file, `(F,)`.
    pub frames: Vec<i64>,
    /// `K`.
    pub n_components: usize,
    /// The columns' names, `(C,)`: `row, col` (`z, row, col` for volumes), `var_row, var_col`
    /// (the covariance's diagonal), `cov_eig_0 ...` (its eigenvalues, ascending), `weight`,
    /// `degree`, `eigenvector_centrality`, then `pixels` or `expected_pixels` when known
    /// ([`node_features`]).
    pub columns: Vec<String>,
    /// `F * K * C` values, row-major.
    pub values: Vec<f64>,
}

impl NodeFeatures {
    /// Column `name` for frame `t` (counted from 0 in the track) and component `k`.
    pub fn get(&self, t: usize, k: usize, name: &str) -> Option<f64> {
        let c = self.columns.iter().position(|n| n == name)?;
        self.values.get((t * self.n_components + k) * self.columns.len() + c).copied()
    }
    /// Column `name`, `F * K` values (frame-major).
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let c = self.columns.iter().position(|n| n == name)?;
        Some(self.values.iter().skip(c).step_by(self.columns.len()).copied().collect())
    }
}

/// The unit-norm eigenvector centrality of the symmetric non-negative `k x k` matrix `a`: the
/// all-ones vector projected on the eigenspace of the largest eigenvalue, so that a graph in
/// equal separate groups (a repeated largest eigenvalue, where a solver's vector would be any
/// mix of the groups') gets the same answer each time, and every entry is `>= 0` (rounding's
/// tiny negatives set to 0).
fn eigenvector_centrality(a: &[f64], k: usize) -> Vec<f64> {
    let (values, vectors) = einmix::symmetric_eigen(a, k);
    let top = values[k - 1];
    let tolerance = 1e-9 * top.abs().max(f64::MIN_POSITIVE);
    let mut x = vec![0.0; k];
    for j in (0..k).filter(|&j| top - values[j] <= tolerance) {
        let u = &vectors[j * k..(j + 1) * k];
        let along: f64 = u.iter().sum();
        x.iter_mut().zip(u).for_each(|(xi, ui)| *xi += along * ui);
    }
    x.iter_mut().for_each(|v| *v = v.max(0.0));
    let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        x.iter_mut().for_each(|v| *v /= norm);
        x
    } else {
        vec![1.0 / (k as f64).sqrt(); k]
    }
}

/// `v^T C^-1 v` from the lower Cholesky factor `l` of `C`.
fn quad(l: &[f64], d: usize, v: &[f64]) -> f64 {
    let mut y = [0.0; 3];
    let mut total = 0.0;
    for i in 0..d {
        let s = v[i] - (0..i).map(|p| l[i * d + p] * y[p]).sum::<f64>();
        y[i] = s / l[i * d + i];
        total += y[i] * y[i];
    }
    total
}

/// For each component, the cells of a `shape` grid whose most probable component it is:
/// `argmax_k ln w_k + ln N(x | mu_k, Sigma_k)` over the Gaussians (the learned floor is not a
/// candidate, as in OrNet's `predict_proba` over every pixel), at the cells' coordinates
/// (index times the track's `voxel_size`). O(cells K D^2) per frame.
fn pixel_counts(data: &TrackData, t: usize, shape: &[usize]) -> Result<Vec<f64>> {
    let (k, d) = (data.n_components(), data.dims());
    let (means, covs, weights) = (data.means(), data.covariances(), data.weights());
    let mut factors = Vec::with_capacity(k);
    for c in 0..k {
        let cov: Vec<f64> = covs.index_axis(Axis(0), t).index_axis(Axis(0), c).iter().copied().collect();
        let l = einmix::cholesky_lower(&cov, d).ok_or_else(|| {
            problem(
                data.path(),
                format!("covars of frame {}, component {c}, is not positive definite", data.frames()[t]),
            )
        })?;
        let log_det: f64 = (0..d).map(|i| 2.0 * l[i * d + i].ln()).sum();
        factors.push((l, weights[[t, c]].ln() - 0.5 * log_det));
    }
    let axes = data.grid().axes().to_vec();
    let mut counts = vec![0.0; k];
    let cells: usize = shape.iter().product();
    let (mut x, mut v) = (vec![0.0; d], vec![0.0; d]);
    for cell in 0..cells {
        // Cell index -> coordinates, last axis fastest.
        let mut rest = cell;
        for a in (0..d).rev() {
            x[a] = (rest % shape[a]) as f64 * axes[a];
            rest /= shape[a];
        }
        let mut best = (usize::MAX, f64::NEG_INFINITY);
        for (c, (l, constant)) in factors.iter().enumerate() {
            (0..d).for_each(|a| v[a] = x[a] - means[[t, c, a]]);
            let score = constant - 0.5 * quad(l, d, &v);
            if score > best.1 {
                best = (c, score);
            }
        }
        if best.0 < k {
            counts[best.0] += 1.0;
        }
    }
    Ok(counts)
}

/// The node features of every frame (the columns of [`NodeFeatures::columns`]; degree and
/// centrality in the graph of the heat-kernel [`affinity`](crate::affinity)). The pixel column:
/// - with `frame_shape` (`(H, W)`, or `(Z, H, W)` for volumes): `pixels`, the cells of that
///   grid whose most probable Gaussian each component is (the frame's mixture evaluated at
///   every cell; the floor is not a candidate);
/// - else, when the track holds `n_points`: `expected_pixels = weight * n_points`, the
///   component's share of the fitted points' intensity times their number: an
///   intensity-weighted expectation, not a count (the `.npz` holds no pixels to count);
/// - else no pixel column.
pub fn node_features(data: &TrackData, frame_shape: Option<&[usize]>) -> Result<NodeFeatures> {
    let (f, k, d) = (data.n_frames(), data.n_components(), data.dims());
    if let Some(shape) = frame_shape {
        if shape.len() != d || shape.contains(&0) {
            return Err(problem(
                data.path(),
                format!(
                    "frame shape {shape:?} does not fit the track's {d}-D coordinates: give {}",
                    if d == 2 { "(H, W)" } else { "(Z, H, W)" }
                ),
            ));
        }
    }
    let axes: &[&str] = if d == 3 { &["z", "row", "col"] } else { &["row", "col"] };
    let mut columns: Vec<String> = axes.iter().map(|a| a.to_string()).collect();
    columns.extend(axes.iter().map(|a| format!("var_{a}")));
    columns.extend((0..d).map(|i| format!("cov_eig_{i}")));
    columns.extend(["weight", "degree", "eigenvector_centrality"].map(String::from));
    match (frame_shape, data.n_points()) {
        (Some(_), _) => columns.push("pixels".into()),
        (None, Some(_)) => columns.push("expected_pixels".into()),
        (None, None) => {}
    }
    let (means, covs, weights) = (data.means(), data.covariances(), data.weights());
    let per_frame: Vec<Vec<f64>> = (0..f)
        .into_par_iter()
        .map(|t| -> Result<Vec<f64>> {
            let a = affinity(data.distances_at(t));
            let flat: Vec<f64> = a.iter().copied().collect();
            let centrality = eigenvector_centrality(&flat, k);
            let pixels = match (frame_shape, data.n_points()) {
                (Some(shape), _) => Some(pixel_counts(data, t, shape)?),
                (None, Some(n)) => Some((0..k).map(|c| weights[[t, c]] * n[t] as f64).collect()),
                (None, None) => None,
            };
            let mut rows = Vec::with_capacity(k * columns.len());
            for c in 0..k {
                rows.extend((0..d).map(|i| means[[t, c, i]]));
                rows.extend((0..d).map(|i| covs[[t, c, i, i]]));
                let cov: Vec<f64> =
                    covs.index_axis(Axis(0), t).index_axis(Axis(0), c).iter().copied().collect();
                rows.extend(crate::eigen::symmetric_eigenvalues(&cov, d));
                rows.extend([weights[[t, c]], a.row(c).sum(), centrality[c]]);
                if let Some(p) = &pixels {
                    rows.push(p[c]);
                }
            }
            Ok(rows)
        })
        .collect::<Result<_>>()?;
    Ok(NodeFeatures { frames: data.frames().to_vec(), n_components: k, columns, values: per_frame.concat() })
}

/// `features.csv`: `frame,component,` then the columns, one line per (frame, component),
/// numbers in their shortest exact form.
pub fn features_csv(features: &NodeFeatures) -> String {
    let mut out = format!("frame,component,{}\n", features.columns.join(","));
    let c = features.columns.len();
    for (row, values) in features.values.chunks(c.max(1)).enumerate() {
        let (t, k) = (row / features.n_components, row % features.n_components);
        let _ = write!(out, "{},{k}", features.frames[t]);
        values.iter().for_each(|v| {
            let _ = write!(out, ",{v}");
        });
        out.push('\n');
    }
    out
}

/// The features as `.npz` members (for [`einmix_io::npz::archive`]): `features` (F,K,C)
/// float64, `feature_names` (C) str, `frames` (F) int64.
pub fn features_npz_members(features: &NodeFeatures) -> Vec<(String, Vec<u8>)> {
    let (f, k, c) = (features.frames.len(), features.n_components, features.columns.len());
    vec![
        ("features".to_string(), npy::f64_bytes(&[f, k, c], &features.values)),
        ("feature_names".to_string(), npy::str_bytes(&features.columns)),
        ("frames".to_string(), npy::i64_bytes(&[f], &features.frames)),
    ]
}

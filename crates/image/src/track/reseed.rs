//! Components that emptied, collapsed or left the data, and where to re-seed them: where the
//! model explains the image worst (the largest residual share of intensity).

use einmix::{CovarianceType, Mixture};
use ndarray::{Array2, Array3, Axis};

use super::{Reason, Reseed, Tracker};
use crate::error::{Error, Result};
use crate::points::Points;

impl Tracker {
    /// The components that emptied, collapsed or left the data.
    pub(super) fn degenerate(&self, m: &Mixture, points: &Points) -> Vec<(usize, Reason)> {
        let k = m.n_components();
        let px = self.options.pixel_size;
        // Relative to the structures' share: with a learned floor the Gaussians hold only what
        // the floor does not.
        let structures: f64 = m.weights().sum();
        let weight_floor = self.options.weight_floor.unwrap_or(0.01 / k as f64) * structures;
        let eigen_floor = self.options.eigen_floor * px * px;
        let covs = m.covariances();
        let (h, w) = points.occupied.dim();
        let mut bad = Vec::new();
        for i in 0..k {
            let weight = m.weights()[i];
            let (a, b, d) = (covs[[i, 0, 0]], covs[[i, 0, 1]], covs[[i, 1, 1]]);
            let (l_small, l_big) = eig2(a, b, d);
            if weight < weight_floor {
                bad.push((i, Reason::Emptied { weight }));
            } else if l_small < eigen_floor {
                bad.push((i, Reason::Collapsed { eigenvalue: l_small }));
            } else {
                // Scan the 2-sigma ellipse's bounding box for a data pixel.
                let (mr, mc) = (m.means()[[i, 0]] / px, m.means()[[i, 1]] / px);
                let reach = 2.0 * l_big.sqrt() / px;
                let r0 = (mr - reach).floor().max(0.0) as usize;
                let r1 = ((mr + reach).ceil().min(h as f64 - 1.0)).max(-1.0) as isize;
                let c0 = (mc - reach).floor().max(0.0) as usize;
                let c1 = ((mc + reach).ceil().min(w as f64 - 1.0)).max(-1.0) as isize;
                let det = a * d - b * b;
                // Most components sit on data: look at the pixel under the mean first.
                let (ri, ci) = (mr.round(), mc.round());
                let under_mean = ri >= 0.0
                    && ci >= 0.0
                    && (ri as usize) < h
                    && (ci as usize) < w
                    && points.occupied[[ri as usize, ci as usize]];
                let found = under_mean
                    || (r0 as isize..=r1).any(|r| {
                        (c0 as isize..=c1).any(|c| {
                            let (r, c) = (r as usize, c as usize);
                            if !points.occupied[[r, c]] {
                                return false;
                            }
                            let (dr, dc) = (r as f64 * px - mr * px, c as f64 * px - mc * px);
                            // Mahalanobis distance squared with the 2x2 inverse.
                            (d * dr * dr - 2.0 * b * dr * dc + a * dc * dc) / det <= 4.0
                        })
                    });
                if !found {
                    bad.push((i, Reason::LeftData));
                }
            }
        }
        bad
    }

    /// `m` with the `bad` components moved to where the model explains the image worst.
    pub(super) fn reseeded(
        &self,
        m: &Mixture,
        points: &Points,
        bad: &[(usize, Reason)],
        frame_index: usize,
    ) -> Result<(Mixture, Vec<Reseed>)> {
        let px = self.options.pixel_size;
        let log_p = m
            .score_samples(points.coords.view())
            .map_err(|source| Error::Fit { frame: frame_index, source })?;
        let total: f64 = points.weights.sum();
        let area = px * px;
        // Residual share of each pixel: observed share minus the model's.
        let mut residual: Vec<f64> =
            points.weights.iter().zip(log_p.iter()).map(|(w, lp)| w / total - lp.exp() * area).collect();
        let mut means = m.means().to_owned();
        let mut weights = m.weights().to_owned();
        let k = m.n_components();
        let covs_full = m.covariances().into_dimensionality::<ndarray::Ix3>().expect("full").to_owned();
        let mut covs: Array3<f64> = covs_full;
        let s2 = (self.options.init_size * px).powi(2);
        let exclusion = (2.0 * self.options.init_size * px).powi(2);
        let mut out = Vec::new();
        for &(component, reason) in bad {
            let (best, _) = residual.iter().enumerate().fold((0, f64::NEG_INFINITY), |acc, (i, &r)| {
                if r > acc.1 {
                    (i, r)
                } else {
                    acc
                }
            });
            let position = [points.coords[[best, 0]], points.coords[[best, 1]]];
            // No second seed next to this one.
            for (i, r) in residual.iter_mut().enumerate() {
                let (dr, dc) = (points.coords[[i, 0]] - position[0], points.coords[[i, 1]] - position[1]);
                if dr * dr + dc * dc <= exclusion {
                    *r = f64::NEG_INFINITY;
                }
            }
            means[[component, 0]] = position[0];
            means[[component, 1]] = position[1];
            covs.index_axis_mut(Axis(0), component).assign(&Array2::from_diag_elem(2, s2));
            weights[component] = 1.0 / k as f64;
            out.push(Reseed { frame: frame_index, component, reason, position });
        }
        let total_w = weights.sum();
        weights.mapv_inplace(|v| v / total_w);
        let fit_error = |source| Error::Fit { frame: frame_index, source };
        let start = Mixture::from_parameters(
            CovarianceType::Full,
            weights.view(),
            means.view(),
            covs.into_dyn().view(),
        )
        .map_err(fit_error)?;
        // The floor stays as it was learned.
        let start = match m.background() {
            Some(b) => start.with_background(b.clone()).map_err(fit_error)?,
            None => start,
        };
        Ok((start, out))
    }
}

/// Eigenvalues (smaller, larger) of the symmetric 2x2 matrix `[[a, b], [b, d]]`.
fn eig2(a: f64, b: f64, d: f64) -> (f64, f64) {
    let mean = 0.5 * (a + d);
    let r = (0.25 * (a - d) * (a - d) + b * b).sqrt();
    (mean - r, mean + r)
}

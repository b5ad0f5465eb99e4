//! Spatial anomalies: the components whose place in the graph moves most from frame to frame.
//!
//! ```text
//! L_t = I - D^-1/2 A_t D^-1/2 = V_t diag(lambda) V_t^T     (A_t the heat-kernel affinity)
//! row i of V_t:  component i's coordinates in all K eigenvectors (the spectral embedding)
//! move_i(t)   =  || V_t[i, :] - V_{t-1}[i, :] ||            (V_t's columns sign-aligned to V_{t-1}'s)
//! score_i     =  mean over t = 1 .. F-1 of move_i(t)
//! ```
//! OrNet's `spatial_anomaly_detection.py` totals `move_i(t)` over the frames; the mean ranks
//! the same and compares across tracks of different lengths. OrNet took every eigenvector, and
//! so does this: `V_t` is orthogonal, so each row has norm 1 and a move lies in `[0, 2]`, and
//! nothing is chosen by hand. OrNet did not align signs; an eigenvector is defined up to sign,
//! so a solver's arbitrary flip would read as a move of the whole column: each column of `V_t`
//! is negated when its dot product with the same column of the (aligned) `V_{t-1}` is negative.
//! What alignment cannot fix: eigenvalues that cross or coincide (a graph in separate groups
//! has one 0 per group) make their eigenvectors swap or rotate, and every row moves at once.

use std::fmt::Write as _;

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::analysis::data::{problem, TrackData};
use crate::distance::normalised_laplacian;
use crate::error::{Error, Result};

/// The eigenvalues (ascending) and eigenvectors of the normalised Laplacian of the affinity
/// of `distances` (the graph of [`laplacian_spectrum`](crate::laplacian_spectrum)): a
/// `K x K` matrix whose column `j` is the unit eigenvector of eigenvalue `j`, so that row `i`
/// is component `i`'s spectral embedding. Each eigenvector's sign is arbitrary.
///
/// ```
/// use ndarray::array;
/// let d = array![[0.0, 0.1, 0.9], [0.1, 0.0, 0.9], [0.9, 0.9, 0.0]];
/// let (values, vectors) = einmix_image::laplacian_eigenvectors(d.view());
/// let spectrum = einmix_image::laplacian_spectrum(d.view());
/// assert!(values.iter().zip(&spectrum).all(|(a, b)| (a - b).abs() < 1e-10));
/// // Orthonormal: V^T V = I.
/// let gram = vectors.t().dot(&vectors);
/// assert!(gram.indexed_iter().all(|((i, j), v)| (v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-10));
/// ```
pub fn laplacian_eigenvectors(distances: ArrayView2<f64>) -> (Array1<f64>, Array2<f64>) {
    let k = distances.nrows();
    // The crate's own solver (`eigen.rs`) returns values only; the core's Jacobi sweeps, its
    // tested twin, return the vectors too (rows, in the values' order).
    let (values, vectors) = einmix::symmetric_eigen(&normalised_laplacian(distances), k);
    (Array1::from(values), Array2::from_shape_fn((k, k), |(i, j)| vectors[j * k + i]))
}

/// How far each component's spectral embedding moves into each frame, `(F - 1, K)`: row
/// `t - 1`, column `i` holds `|| V_t[i, :] - V_{t-1}[i, :] ||`, the Euclidean distance between
/// component `i`'s rows of the eigenvector matrices ([`laplacian_eigenvectors`]) of frames
/// `t - 1` and `t`, every eigenvector of frame `t` first negated where its dot product with
/// frame `t - 1`'s (itself aligned) is negative, since an eigenvector's sign is arbitrary. An
/// error for a track of one frame.
pub fn eigenvector_moves(data: &TrackData) -> Result<Array2<f64>> {
    let (f, k) = (data.n_frames(), data.n_components());
    if f < 2 {
        return Err(problem(data.path(), "spatial anomalies need at least 2 frames; the track has 1"));
    }
    // Frames are independent until their signs are aligned, so they are solved in parallel
    // (each with the same arithmetic whatever the thread count).
    let mut vectors: Vec<Array2<f64>> =
        (0..f).into_par_iter().map(|t| laplacian_eigenvectors(data.distances_at(t)).1).collect();
    let mut moves = Array2::zeros((f - 1, k));
    for t in 1..f {
        let (before, now) = vectors.split_at_mut(t);
        let (prev, cur) = (&before[t - 1], &mut now[0]);
        for j in 0..k {
            if prev.column(j).dot(&cur.column(j)) < 0.0 {
                cur.column_mut(j).mapv_inplace(|v| -v);
            }
        }
        for (i, row) in moves.index_axis_mut(Axis(0), t - 1).iter_mut().enumerate() {
            *row = cur.row(i).iter().zip(prev.row(i)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
        }
    }
    Ok(moves)
}

/// One component's movement in the spectral embedding over the track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComponentMovement {
    /// The component.
    pub component: usize,
    /// The mean move per frame, in `[0, 2]`.
    pub score: f64,
    /// The frame (input-file index) at the end of its largest move (the first, on ties).
    pub frame_of_largest_move: i64,
    /// That move.
    pub largest_move: f64,
}

/// The `top_k` components that move most ([`eigenvector_moves`], mean per frame), largest
/// score first (ties by component index); all `K` when `top_k >= K`. OrNet also kept only
/// components that do not overlap on frame 0, to draw their boxes: that is a choice for a
/// picture, left to the caller.
pub fn spatial_anomalies(data: &TrackData, top_k: usize) -> Result<Vec<ComponentMovement>> {
    if top_k == 0 {
        return Err(Error::InvalidParameter {
            name: "top_k",
            value: "0".into(),
            expected: "top_k is the number of components to report: at least 1",
        });
    }
    let moves = eigenvector_moves(data)?;
    let mut ranked: Vec<ComponentMovement> =
        (0..data.n_components())
            .map(|i| {
                let column = moves.column(i);
                let (at, largest) = column
                    .iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (t, &m)| if m > best.1 { (t, m) } else { best });
                ComponentMovement {
                    component: i,
                    score: column.sum() / column.len() as f64,
                    frame_of_largest_move: data.frames()[at + 1],
                    largest_move: largest,
                }
            })
            .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.component.cmp(&b.component)));
    ranked.truncate(top_k);
    Ok(ranked)
}

/// `spatial.csv`: `component,score,frame_of_largest_move`, one line per component, in the
/// order given (largest score first from [`spatial_anomalies`]).
pub fn spatial_csv(movements: &[ComponentMovement]) -> String {
    let mut out = String::from("component,score,frame_of_largest_move\n");
    for m in movements {
        let _ = writeln!(out, "{},{},{}", m.component, m.score, m.frame_of_largest_move);
    }
    out
}

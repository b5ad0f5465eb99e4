//! What a [`Track`] writes: one `.npz` with every per-frame array, and a per-frame CSV summary.
//!
//! The `.npz` holds OrNet's layout (`means` (F,K,D), `covars` (F,K,D,D), `weights` (F,K),
//! `precs` (F,K,D,D)) and adds `distances` (F,K,K, the metric in `metric`), `laplacian`
//! (F,K), `frames`, `lower_bound`, `n_iter`, `n_points`, `background`, `floor_share` (F; NaN
//! when the floor is subtracted), `voxel_size` (D: the side of a cell along each coordinate),
//! and the re-seed report `reseed_frame`, `reseed_component` (R) int64, `reseed_reason` (R)
//! str, `reseed_position` (R,D). D = 2 for images, coordinates (row, col) times `pixel_size`;
//! D = 3 for volumes, coordinates (z, row, col) times `voxel_size`.

use std::fmt::Write as _;

use crate::error::{Error, Result};
use crate::io::npy;
use crate::track::Track;

impl Track {
    /// The arrays of the `.npz`, by name, as `.npy` bytes.
    pub fn npz_members(&self) -> Vec<(String, Vec<u8>)> {
        let f = |name: &str, a: ndarray::ArrayD<f64>| {
            (
                name.to_string(),
                npy::f64_bytes(a.shape(), a.as_standard_layout().as_slice().expect("standard")),
            )
        };
        let per_frame =
            |g: &dyn Fn(&crate::FrameFit) -> f64| -> Vec<f64> { self.frames.iter().map(g).collect() };
        let n = self.frames.len();
        let reseeds: Vec<_> = self.reseeds().collect();
        let r = reseeds.len();
        vec![
            f("means", self.means()),
            f("covars", self.covariances()),
            f("weights", self.weights()),
            f("precs", self.precisions()),
            f("distances", self.distances()),
            f("laplacian", self.laplacian()),
            ("metric".into(), npy::str_bytes(&[self.metric.to_string()])),
            ("pixel_size".into(), npy::f64_bytes(&[], &[self.pixel_size])),
            ("voxel_size".into(), npy::f64_bytes(&[self.dims()], self.grid.axes())),
            (
                "frames".into(),
                npy::i64_bytes(&[n], &self.frames.iter().map(|f| f.frame as i64).collect::<Vec<_>>()),
            ),
            ("lower_bound".into(), npy::f64_bytes(&[n], &per_frame(&|f| f.lower_bound))),
            (
                "n_iter".into(),
                npy::i64_bytes(&[n], &self.frames.iter().map(|f| f.n_iter as i64).collect::<Vec<_>>()),
            ),
            (
                "n_points".into(),
                npy::i64_bytes(&[n], &self.frames.iter().map(|f| f.n_points as i64).collect::<Vec<_>>()),
            ),
            ("background".into(), npy::f64_bytes(&[n], &per_frame(&|f| f.background))),
            ("floor_share".into(), npy::f64_bytes(&[n], &per_frame(&|f| f.floor_share.unwrap_or(f64::NAN)))),
            (
                "reseed_frame".into(),
                npy::i64_bytes(&[r], &reseeds.iter().map(|s| s.frame as i64).collect::<Vec<_>>()),
            ),
            (
                "reseed_component".into(),
                npy::i64_bytes(&[r], &reseeds.iter().map(|s| s.component as i64).collect::<Vec<_>>()),
            ),
            (
                "reseed_reason".into(),
                npy::str_bytes(&reseeds.iter().map(|s| s.reason.name().to_string()).collect::<Vec<_>>()),
            ),
            (
                "reseed_position".into(),
                npy::f64_bytes(
                    &[r, self.dims()],
                    &reseeds.iter().flat_map(|s| s.position.iter().copied()).collect::<Vec<_>>(),
                ),
            ),
        ]
    }

    /// The `.npz` bytes.
    pub fn to_npz(&self) -> Result<Vec<u8>> {
        einmix_io::npz::archive(&self.npz_members()).map_err(|e| Error::Encode { message: e.to_string() })
    }

    /// One CSV line per frame: `frame, n_points, background, n_iter, converged, lower_bound,
    /// n_reseeded, mean_distance, mean_nearest_distance, algebraic_connectivity, time_ms,
    /// effective_k, floor_share` (the learned floor's share of the frame's intensity; empty
    /// when the floor is subtracted).
    pub fn summary_csv(&self) -> String {
        let mut s = String::from(
            "frame,n_points,background,n_iter,converged,lower_bound,n_reseeded,mean_distance,\
             mean_nearest_distance,algebraic_connectivity,time_ms,effective_k,floor_share\n",
        );
        for f in &self.frames {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{:.6},{},{:.6},{:.6},{:.6},{:.3},{},{}",
                f.frame,
                f.n_points,
                f.background,
                f.n_iter,
                f.converged,
                f.lower_bound,
                f.reseeds.len(),
                f.mean_distance(),
                f.mean_nearest_distance(),
                f.algebraic_connectivity(),
                f.elapsed.as_secs_f64() * 1e3,
                f.effective_components,
                f.floor_share.map_or(String::new(), |w| format!("{w:.6}"))
            );
        }
        s
    }

    /// One CSV line per re-seeding: `frame, component, reason, row, col` (`z, row, col` for
    /// volumes).
    pub fn reseeds_csv(&self) -> String {
        let axes = if self.grid.volume { "z,row,col" } else { "row,col" };
        let mut s = format!("frame,component,reason,{axes}\n");
        for r in self.reseeds() {
            let position: Vec<String> = r.position.iter().map(|x| x.to_string()).collect();
            let _ = writeln!(s, "{},{},{},{}", r.frame, r.component, r.reason.name(), position.join(","));
        }
        s
    }
}

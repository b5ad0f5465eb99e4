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

use crate::distance::Metric;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::io::npy;
use crate::track::{Reseed, Track};

/// The per-frame members of the `.npz`, in the archive's order among the others: each frame
/// adds the same number of values to each.
pub(crate) const FRAME_MEMBERS: [&str; 12] = [
    "means",
    "covars",
    "weights",
    "precs",
    "distances",
    "laplacian",
    "frames",
    "lower_bound",
    "n_iter",
    "n_points",
    "background",
    "floor_share",
];

/// The per-re-seeding members (`reseed_reason`, strings, is built from the reasons' names).
pub(crate) const RESEED_MEMBERS: [&str; 3] = ["reseed_frame", "reseed_component", "reseed_position"];

/// Whether a member holds int64 (else float64).
fn is_int(name: &str) -> bool {
    matches!(name, "frames" | "n_iter" | "n_points" | "reseed_frame" | "reseed_component")
}

/// Appends frame `f`'s little-endian values of each of [`FRAME_MEMBERS`] to `out`.
pub(crate) fn frame_values(f: &crate::FrameFit, out: &mut [Vec<u8>]) {
    let floats = |out: &mut Vec<u8>, values: &mut dyn Iterator<Item = f64>| {
        values.for_each(|v| out.extend_from_slice(&v.to_le_bytes()))
    };
    let m = &f.mixture;
    floats(&mut out[0], &mut m.means().iter().copied());
    floats(&mut out[1], &mut m.covariances().iter().copied());
    floats(&mut out[2], &mut m.weights().iter().copied());
    floats(&mut out[3], &mut m.precisions().iter().copied());
    floats(&mut out[4], &mut f.distances.iter().copied());
    floats(&mut out[5], &mut f.laplacian.iter().copied());
    out[6].extend_from_slice(&(f.frame as i64).to_le_bytes());
    out[7].extend_from_slice(&f.lower_bound.to_le_bytes());
    out[8].extend_from_slice(&(f.n_iter as i64).to_le_bytes());
    out[9].extend_from_slice(&(f.n_points as i64).to_le_bytes());
    out[10].extend_from_slice(&f.background.to_le_bytes());
    out[11].extend_from_slice(&f.floor_share.unwrap_or(f64::NAN).to_le_bytes());
}

/// Appends a re-seeding's values of each of [`RESEED_MEMBERS`] to `out`.
pub(crate) fn reseed_values(r: &Reseed, out: &mut [Vec<u8>]) {
    out[0].extend_from_slice(&(r.frame as i64).to_le_bytes());
    out[1].extend_from_slice(&(r.component as i64).to_le_bytes());
    r.position.iter().for_each(|v| out[2].extend_from_slice(&v.to_le_bytes()));
}

/// Where a member's data comes from when the archive is put together.
pub(crate) enum Part {
    /// Member `i` of [`FRAME_MEMBERS`].
    Frame(usize),
    /// Member `i` of [`RESEED_MEMBERS`].
    Reseed(usize),
    /// Bytes known whole (small: the metric, the sizes, the re-seed reasons).
    Bytes(Vec<u8>),
}

/// The sizes that shape a track's arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Frames.
    pub n: usize,
    /// Components.
    pub k: usize,
    /// Coordinates.
    pub d: usize,
    /// Laplacian eigenvalues per frame (`K`, or 0 when not computed).
    pub l: usize,
    /// Re-seedings.
    pub r: usize,
}

/// Every member of the `.npz` in order: its name, its `.npy` header, and where its data is.
pub(crate) fn npz_plan(
    shape: Shape,
    metric: Metric,
    pixel_size: f64,
    grid: &Grid,
    reasons: &[String],
) -> Vec<(String, Vec<u8>, Part)> {
    let Shape { n, k, d, l, r } = shape;
    let tail = |name: &str| -> Vec<usize> {
        match name {
            "means" => vec![k, d],
            "covars" | "precs" => vec![k, d, d],
            "weights" => vec![k],
            "distances" => vec![k, k],
            "laplacian" => vec![l],
            "reseed_position" => vec![d],
            _ => vec![],
        }
    };
    let header = |name: &str, rows: usize| {
        let mut full = vec![rows];
        full.extend(tail(name));
        if is_int(name) {
            npy::i64_header(&full)
        } else {
            npy::f64_header(&full)
        }
    };
    let frame = |i: usize| (FRAME_MEMBERS[i].to_string(), header(FRAME_MEMBERS[i], n), Part::Frame(i));
    let whole = |name: &str, bytes: Vec<u8>| {
        // A whole member's header is the front of its `.npy` bytes; the plan keeps them apart.
        let at = bytes[8..10].iter().rev().fold(0usize, |acc, &b| (acc << 8) | b as usize) + 10;
        (name.to_string(), bytes[..at].to_vec(), Part::Bytes(bytes[at..].to_vec()))
    };
    let mut plan: Vec<_> = (0..6).map(frame).collect();
    plan.push(whole("metric", npy::str_bytes(&[metric.to_string()])));
    plan.push(whole("pixel_size", npy::f64_bytes(&[], &[pixel_size])));
    plan.push(whole("voxel_size", npy::f64_bytes(&[grid.dims()], grid.axes())));
    plan.extend((6..12).map(frame));
    plan.push(("reseed_frame".into(), header("reseed_frame", r), Part::Reseed(0)));
    plan.push(("reseed_component".into(), header("reseed_component", r), Part::Reseed(1)));
    plan.push(whole("reseed_reason", npy::str_bytes(reasons)));
    plan.push(("reseed_position".into(), header("reseed_position", r), Part::Reseed(2)));
    plan
}

impl Track {
    /// The arrays of the `.npz`, by name, as `.npy` bytes.
    pub fn npz_members(&self) -> Vec<(String, Vec<u8>)> {
        let mut frame_parts = vec![Vec::new(); FRAME_MEMBERS.len()];
        self.frames.iter().for_each(|f| frame_values(f, &mut frame_parts));
        let mut reseed_parts = vec![Vec::new(); RESEED_MEMBERS.len()];
        self.reseeds().for_each(|r| reseed_values(r, &mut reseed_parts));
        let reasons: Vec<String> = self.reseeds().map(|r| r.reason.name().to_string()).collect();
        let shape = Shape {
            n: self.frames.len(),
            k: self.n_components(),
            d: self.dims(),
            l: self.frames.first().map_or(0, |f| f.laplacian.len()),
            r: reasons.len(),
        };
        npz_plan(shape, self.metric, self.pixel_size, &self.grid, &reasons)
            .into_iter()
            .map(|(name, mut bytes, part)| {
                match part {
                    Part::Frame(i) => bytes.extend_from_slice(&frame_parts[i]),
                    Part::Reseed(i) => bytes.extend_from_slice(&reseed_parts[i]),
                    Part::Bytes(b) => bytes.extend_from_slice(&b),
                }
                (name, bytes)
            })
            .collect()
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
        let mut s = String::from(SUMMARY_HEADER);
        for f in &self.frames {
            s.push_str(&summary_row(f));
        }
        s
    }

    /// One CSV line per re-seeding: `frame, component, reason, row, col` (`z, row, col` for
    /// volumes).
    pub fn reseeds_csv(&self) -> String {
        let mut s = reseeds_header(&self.grid);
        self.reseeds().for_each(|r| s.push_str(&reseed_row(r)));
        s
    }
}

/// The first line of `summary.csv`.
pub(crate) const SUMMARY_HEADER: &str = "frame,n_points,background,n_iter,converged,lower_bound,n_reseeded,\
     mean_distance,mean_nearest_distance,algebraic_connectivity,time_ms,effective_k,floor_share\n";

/// Frame `f`'s line of `summary.csv`.
pub(crate) fn summary_row(f: &crate::FrameFit) -> String {
    let mut s = String::new();
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
    s
}

/// The first line of `reseeds.csv`.
pub(crate) fn reseeds_header(grid: &Grid) -> String {
    let axes = if grid.volume { "z,row,col" } else { "row,col" };
    format!("frame,component,reason,{axes}\n")
}

/// A re-seeding's line of `reseeds.csv`.
pub(crate) fn reseed_row(r: &Reseed) -> String {
    let position: Vec<String> = r.position.iter().map(|x| x.to_string()).collect();
    format!("{},{},{},{}\n", r.frame, r.component, r.reason.name(), position.join(","))
}

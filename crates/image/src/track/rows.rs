//! A time-lapse of volumes puts the same voxels at the same places frame after frame; only
//! their intensities change. The fit's chunked copy of millions of voxel coordinates (and the
//! coordinates themselves) are therefore made once and kept while the frames' nonzero voxels
//! stay the same (`einmix::ChunkedRows`): a frame then lays out only its weights. The fit is
//! the same, bit for bit (`GaussianMixture::fit_rows`).

use einmix::{ChunkedRows, Fit, FitOptions, GaussianMixture};
use ndarray::{Array2, Array3, ArrayView3};

use super::Tracker;
use crate::error::Result;
use crate::floor::Floor;
use crate::grid::Grid;
use crate::points::{cells, Background, Cells, Points};

/// The rows kept between frames: their layout, their cells, and (between frames) their
/// coordinates.
struct KeptRows {
    rows: ChunkedRows,
    /// Which cells are its rows.
    laid: Array3<bool>,
    coords: Array2<f64>,
    /// Whether `rows` holds this frame's weights.
    current: bool,
}

/// A tracker's kept rows, if any, and the cells of a frame about to be laid out.
#[derive(Default)]
pub(super) struct Kept {
    rows: Option<KeptRows>,
    pending: Option<Array3<bool>>,
}

impl Clone for Kept {
    /// A clone of a tracker lays its rows out again at its next frame (hundreds of megabytes
    /// are not copied for that).
    fn clone(&self) -> Self {
        Kept::default()
    }
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.rows {
            Some(k) => write!(f, "Kept({} rows)", k.rows.n_rows()),
            None => f.write_str("Kept(none)"),
        }
    }
}

impl Tracker {
    /// Whether frames' rows are kept: volumes with the learned floor (every voxel a point, so
    /// the same rows each frame; above a subtracted level they change), fitted by EM to
    /// convergence (the online and variational fits make their own passes).
    fn keeps_rows(&self) -> bool {
        self.volume && self.options.floor == Floor::Learned && !self.options.online && !self.options.bayesian
    }

    /// The frame's weighted points; for a volume whose voxels are the kept ones, the kept
    /// coordinates and layout with this frame's weights.
    pub(super) fn frame_points(
        &mut self,
        frame_index: usize,
        frame: ArrayView3<f32>,
        level: Background,
        grid: &Grid,
    ) -> Result<Points> {
        let mask = self.mask.as_ref();
        if !self.keeps_rows() {
            let what = Cells { with_coords: true, at_level: false };
            return cells(frame, mask, level, grid, what).map(|(points, _)| points);
        }
        // Every voxel is a point, the dark ones at weight 0 (so the rows stay the same). The
        // coordinates are gathered only when there are no kept ones to reuse.
        let with_coords = self.kept.rows.is_none();
        let (mut points, laid) = cells(frame, mask, level, grid, Cells { with_coords, at_level: true })?;
        if !points.weights.iter().any(|&w| w > 0.0) {
            return Err(crate::Error::EmptyFrame { frame: frame_index, background: points.background });
        }
        match self.kept.rows.take() {
            // The coordinates are back from the previous frame (not lost to an error since).
            Some(mut kept) if kept.laid == laid && kept.coords.nrows() == points.weights.len() => {
                let fit_error = |source| crate::Error::Fit { frame: frame_index, source };
                kept.rows.set_weights(points.weights.view()).map_err(fit_error)?;
                kept.current = true;
                points.coords = std::mem::replace(&mut kept.coords, Array2::zeros((0, 0)));
                self.kept.rows = Some(kept);
                Ok(points)
            }
            _ if with_coords => {
                self.kept.pending = Some(laid);
                Ok(points)
            }
            // The voxels changed: their coordinates are gathered afresh.
            _ => {
                let (points, laid) =
                    cells(frame, mask, level, grid, Cells { with_coords: true, at_level: true })?;
                self.kept.pending = Some(laid);
                Ok(points)
            }
        }
    }

    /// EM by `spec` on `points`: over the kept rows when they hold this frame, else directly
    /// (a volume's rows are laid out first, and kept).
    pub(super) fn fit_points(
        &mut self,
        spec: &GaussianMixture,
        points: &Points,
        options: FitOptions<'_>,
    ) -> einmix::Result<Fit> {
        if self.keeps_rows() {
            if !self.kept.rows.as_ref().is_some_and(|k| k.current) {
                let rows = spec.chunked_rows(points.coords.view(), Some(points.weights.view()))?;
                let laid = self.kept.pending.take().expect("a frame's cells come before its fit");
                self.kept.rows = Some(KeptRows { rows, laid, coords: Array2::zeros((0, 0)), current: true });
            }
            let kept = self.kept.rows.as_ref().expect("laid out above");
            return spec.fit_rows(&kept.rows, options);
        }
        spec.fit_with(points.coords.view(), Some(points.weights.view()), options)
    }

    /// The frame is done: its coordinates go back to the kept rows for the next frame.
    pub(super) fn keep_points(&mut self, points: Points) {
        if let Some(kept) = self.kept.rows.as_mut() {
            kept.coords = points.coords;
            kept.current = false;
        }
    }
}

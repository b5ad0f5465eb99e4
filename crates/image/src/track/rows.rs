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
    occupied: Array3<bool>,
    coords: Array2<f64>,
    /// Whether `rows` holds this frame's weights.
    current: bool,
}

/// A tracker's kept rows, if any.
#[derive(Default)]
pub(super) struct Kept(Option<KeptRows>);

impl Clone for Kept {
    /// A clone of a tracker lays its rows out again at its next frame (hundreds of megabytes
    /// are not copied for that).
    fn clone(&self) -> Self {
        Kept(None)
    }
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(k) => write!(f, "Kept({} rows)", k.rows.n_rows()),
            None => f.write_str("Kept(none)"),
        }
    }
}

impl Tracker {
    /// Whether frames' rows are kept: volumes fitted by EM to convergence (the online and
    /// variational fits make their own passes).
    fn keeps_rows(&self) -> bool {
        self.volume && !self.options.online && !self.options.bayesian
    }

    /// The frame's weighted points; for a volume whose nonzero voxels are the kept ones, the
    /// kept coordinates and layout with this frame's weights.
    pub(super) fn frame_points(
        &mut self,
        frame_index: usize,
        frame: ArrayView3<f32>,
        level: Background,
        grid: &Grid,
    ) -> Result<Points> {
        if !self.keeps_rows() {
            return cells(
                frame,
                self.mask.as_ref(),
                level,
                grid,
                Cells { with_coords: true, at_level: false },
            );
        }
        // With the learned floor every voxel is a point, the dark ones at weight 0.
        let at_level = self.options.floor == Floor::Learned;
        let mut points =
            cells(frame, self.mask.as_ref(), level, grid, Cells { with_coords: false, at_level })?;
        match self.kept.0.take() {
            Some(mut kept) if kept.occupied == points.occupied && !points.weights.is_empty() => {
                let fit_error = |source| crate::Error::Fit { frame: frame_index, source };
                kept.rows.set_weights(points.weights.view()).map_err(fit_error)?;
                kept.current = true;
                points.coords = std::mem::replace(&mut kept.coords, Array2::zeros((0, 0)));
                self.kept.0 = Some(kept);
                Ok(points)
            }
            _ => cells(frame, self.mask.as_ref(), level, grid, Cells { with_coords: true, at_level }),
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
            if !self.kept.0.as_ref().is_some_and(|k| k.current) {
                let rows = spec.chunked_rows(points.coords.view(), Some(points.weights.view()))?;
                let occupied = points.occupied.clone();
                self.kept.0 = Some(KeptRows { rows, occupied, coords: Array2::zeros((0, 0)), current: true });
            }
            let kept = self.kept.0.as_ref().expect("laid out above");
            return spec.fit_rows(&kept.rows, options);
        }
        spec.fit_with(points.coords.view(), Some(points.weights.view()), options)
    }

    /// The frame is done: its coordinates go back to the kept rows for the next frame.
    pub(super) fn keep_points(&mut self, points: Points) {
        if let Some(kept) = self.kept.0.as_mut() {
            kept.coords = points.coords;
            kept.current = false;
        }
    }
}

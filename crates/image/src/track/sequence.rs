//! A tracked time-lapse: the frames' fits side by side, in OrNet's array layouts.

use ndarray::IxDyn;

use super::{FrameFit, Reseed, TrackOptions, Tracker};
use crate::distance::Metric;
use crate::error::Result;
use crate::grid::Grid;
use crate::stack::{Mask, Stack};

/// A tracked time-lapse: one [`FrameFit`] per frame.
#[derive(Debug, Clone)]
pub struct Track {
    /// The frames, in order.
    pub frames: Vec<FrameFit>,
    /// The metric of every `distances` matrix.
    pub metric: Metric,
    /// The pixel size of the coordinates.
    pub pixel_size: f64,
    /// Where the cells sit: the coordinates' axes and the sides of a pixel or voxel.
    pub grid: Grid,
}

/// Tracks every frame of `stack`; `observer` sees each frame's fit as it is made.
pub fn track(
    stack: &Stack,
    mask: Option<&Mask>,
    options: &TrackOptions,
    observer: &mut dyn FnMut(&FrameFit),
) -> Result<Track> {
    track_until(stack, mask, options, &mut |fit| {
        observer(fit);
        true
    })
}

/// As [`track`], stopping after the first frame for which `observer` returns false (a user's
/// interrupt, say): the track then holds the frames fitted so far. A stack of volumes is
/// fitted in 3-D, with `options.voxel_size`, else the one the file states, else cubes of
/// `options.pixel_size`.
pub fn track_until(
    stack: &Stack,
    mask: Option<&Mask>,
    options: &TrackOptions,
    observer: &mut dyn FnMut(&FrameFit) -> bool,
) -> Result<Track> {
    if let Some(m) = mask {
        m.check_shape(stack.shape())?;
    }
    let mut options = options.clone();
    if stack.volume && options.voxel_size.is_none() {
        options.voxel_size = stack.voxel_size;
    }
    let mut tracker = Tracker::new(options.clone(), mask.cloned())?;
    let mut frames = Vec::with_capacity(stack.n_frames());
    for f in 0..stack.n_frames() {
        let fit = match stack.plane(f) {
            Some(plane) => tracker.step(stack.source_frames[f], plane)?,
            None => tracker.step_volume(stack.source_frames[f], stack.volume(f))?,
        };
        let go_on = observer(&fit);
        frames.push(fit);
        if !go_on {
            break;
        }
    }
    Ok(Track { frames, metric: options.metric, pixel_size: options.pixel_size, grid: tracker.grid() })
}

impl Track {
    /// `K`.
    pub fn n_components(&self) -> usize {
        self.frames.first().map_or(0, |f| f.mixture.n_components())
    }
    fn stacked(&self, per: impl Fn(&FrameFit) -> Vec<f64>, shape: &[usize]) -> ndarray::ArrayD<f64> {
        let mut full = vec![self.frames.len()];
        full.extend_from_slice(shape);
        let data: Vec<f64> = self.frames.iter().flat_map(per).collect();
        ndarray::ArrayD::from_shape_vec(IxDyn(&full), data).expect("every frame has K components")
    }
    /// `D`: 2 for (row, col), 3 for (z, row, col).
    pub fn dims(&self) -> usize {
        self.grid.dims()
    }
    /// Means, `(F, K, D)`.
    pub fn means(&self) -> ndarray::ArrayD<f64> {
        self.stacked(|f| f.mixture.means().iter().copied().collect(), &[self.n_components(), self.dims()])
    }
    /// Covariances, `(F, K, D, D)`.
    pub fn covariances(&self) -> ndarray::ArrayD<f64> {
        let (k, d) = (self.n_components(), self.dims());
        self.stacked(|f| f.mixture.covariances().iter().copied().collect(), &[k, d, d])
    }
    /// Precisions (inverse covariances), `(F, K, D, D)`.
    pub fn precisions(&self) -> ndarray::ArrayD<f64> {
        let (k, d) = (self.n_components(), self.dims());
        self.stacked(|f| f.mixture.precisions().iter().copied().collect(), &[k, d, d])
    }
    /// Mixing weights, `(F, K)`.
    pub fn weights(&self) -> ndarray::ArrayD<f64> {
        self.stacked(|f| f.mixture.weights().to_vec(), &[self.n_components()])
    }
    /// Distances, `(F, K, K)`.
    pub fn distances(&self) -> ndarray::ArrayD<f64> {
        let k = self.n_components();
        self.stacked(|f| f.distances.iter().copied().collect(), &[k, k])
    }
    /// Laplacian eigenvalues, `(F, K)` (`(F, 0)` when not computed).
    pub fn laplacian(&self) -> ndarray::ArrayD<f64> {
        let n = self.frames.first().map_or(0, |f| f.laplacian.len());
        self.stacked(|f| f.laplacian.to_vec(), &[n])
    }
    /// Every re-seeding, in frame order.
    pub fn reseeds(&self) -> impl Iterator<Item = &Reseed> {
        self.frames.iter().flat_map(|f| f.reseeds.iter())
    }
}

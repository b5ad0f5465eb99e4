//! A tracked time-lapse: the frames' fits side by side, in OrNet's array layouts.

use ndarray::IxDyn;

use super::{FrameFit, Reseed, TrackOptions, Tracker};
use crate::distance::Metric;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::io::frames::{FrameSource, StackFrames};
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
    track_frames(&mut StackFrames::new(stack), mask, options, observer)
}

/// As [`track_until`], the frames read one at a time from `source` (a file's
/// [`open_frames`](crate::io::open_frames), an array): only the fits are kept.
pub fn track_frames(
    source: &mut dyn FrameSource,
    mask: Option<&Mask>,
    options: &TrackOptions,
    observer: &mut dyn FnMut(&FrameFit) -> bool,
) -> Result<Track> {
    let mut tracker = tracker_for(source, mask, options)?;
    let mut frames = Vec::with_capacity(source.n_frames());
    for i in 0..source.n_frames() {
        let fit = step(&mut tracker, source, i)?;
        let go_on = observer(&fit);
        frames.push(fit);
        if !go_on {
            break;
        }
    }
    let options = tracker.options();
    Ok(Track { frames, metric: options.metric, pixel_size: options.pixel_size, grid: tracker.grid() })
}

/// A tracker for the frames of `source`: the mask checked against them, and a volume's voxel
/// size `options.voxel_size`, else the one the source states, else cubes of `pixel_size`.
pub(crate) fn tracker_for(
    source: &dyn FrameSource,
    mask: Option<&Mask>,
    options: &TrackOptions,
) -> Result<Tracker> {
    let (_, h, w) = source.frame_shape();
    if let Some(m) = mask {
        m.check_shape((h, w))?;
    }
    let mut options = options.clone();
    if source.is_volume() && options.voxel_size.is_none() {
        options.voxel_size = source.voxel_size();
    }
    Tracker::new(options, mask.cloned())
}

/// Reads frame `i` of `source` and fits it; an error names the frame.
pub(crate) fn step(tracker: &mut Tracker, source: &mut dyn FrameSource, i: usize) -> Result<FrameFit> {
    let frame = source.source_frame(i);
    let pixels = source.read_frame(i).map_err(|e| Error::Frame { frame, source: Box::new(e) })?;
    fit_pixels(tracker, frame, source.is_volume(), pixels.view())
}

/// Fits one frame's pixels `(Z, H, W)`.
pub(crate) fn fit_pixels(
    tracker: &mut Tracker,
    frame: usize,
    volume: bool,
    pixels: ndarray::ArrayView3<f32>,
) -> Result<FrameFit> {
    if volume {
        tracker.step_volume(frame, pixels)
    } else {
        tracker.step(frame, pixels.index_axis(ndarray::Axis(0), 0))
    }
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

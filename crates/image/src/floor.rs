//! The image's floor (the camera's offset and the noise around it), without a threshold to
//! tune: a uniform background component learns how much of each frame's intensity the floor
//! holds, and peaks for `-k auto` must stand above a level estimated from the image itself.
//!
//! ```text
//! floor = median(S),  sigma = 1.4826 median(|S - floor|)     (S: the smoothed frame, in the mask)
//! peaks: S(p) > floor + PEAK_SIGMAS sigma
//! ```
//! The median and the scaled median absolute deviation are the floor's mean and spread when
//! structures cover less than half of the pixels (fluorescent organelles, cells on a dark
//! field); they are robust to the bright half, which a mean and a standard deviation are not.

use ndarray::{ArrayView2, ArrayView3, Axis};

use einmix::{Background, Mixture};

use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::points::{masked_values, percentile};
use crate::stack::Mask;

/// How the pipeline treats a frame's floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Floor {
    /// Every pixel goes in with its intensity, and a uniform background component over the
    /// image, whose weight EM learns frame by frame, explains the floor (the default).
    #[default]
    Learned,
    /// The level `TrackOptions::background` is subtracted and pixels at or below it are left
    /// out (the explicit override).
    Subtract,
}

/// How many robust standard deviations above the floor a peak must stand: for Gaussian noise
/// a pixel passes by chance with probability below 3e-7, so a megapixel frame gets no noise
/// peak in most frames, while a structure twice as bright as the noise is wide passes.
pub const PEAK_SIGMAS: f64 = 5.0;

/// A frame's floor and noise, estimated robustly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseLevel {
    /// The floor's level: the median intensity.
    pub floor: f64,
    /// Its spread: 1.4826 times the median absolute deviation (the standard deviation for
    /// Gaussian noise).
    pub sigma: f64,
}

impl NoiseLevel {
    /// The level peaks must exceed: `floor + PEAK_SIGMAS sigma`.
    pub fn peak_threshold(&self) -> f64 {
        self.floor + PEAK_SIGMAS * self.sigma
    }
}

/// The floor and noise of `frame` (usually smoothed as peak finding sees it) inside `mask`.
pub fn noise_level(frame: ArrayView2<f32>, mask: Option<&Mask>) -> NoiseLevel {
    volume_noise_level(frame.insert_axis(Axis(0)), mask)
}

/// [`noise_level`] of a `(Z, H, W)` volume, over all its voxels inside `mask`.
pub fn volume_noise_level(volume: ArrayView3<f32>, mask: Option<&Mask>) -> NoiseLevel {
    let mut values = masked_values(volume, mask);
    let floor = percentile(&mut values, 50.0);
    let mut deviations: Vec<f32> = values.iter().map(|&v| (v as f64 - floor).abs() as f32).collect();
    let sigma = 1.4826 * percentile(&mut deviations, 50.0);
    NoiseLevel { floor, sigma }
}

/// The region a frame's floor is spread over: the pixels' squares, `[-1/2, H - 1/2] x
/// [-1/2, W - 1/2]` times the pixel size, or the bounding box of the mask's pixels.
pub fn floor_region(shape: (usize, usize), mask: Option<&Mask>, pixel_size: f64) -> (Vec<f64>, Vec<f64>) {
    grid_region((1, shape.0, shape.1), mask, &Grid::planar(pixel_size))
}

/// [`floor_region`] of a `(Z, H, W)` frame on `grid`: for a volume, the voxels' boxes
/// `[-1/2, Z - 1/2]` along z too, times the voxel's sides.
pub fn grid_region(shape: (usize, usize, usize), mask: Option<&Mask>, grid: &Grid) -> (Vec<f64>, Vec<f64>) {
    let (depth, h, w) = shape;
    let (mut r0, mut c0, mut r1, mut c1) = (0, 0, h.saturating_sub(1), w.saturating_sub(1));
    if let Some(m) = mask {
        (r0, c0, r1, c1) = (usize::MAX, usize::MAX, 0, 0);
        for ((r, c), &inside) in m.view().indexed_iter() {
            if inside {
                (r0, c0, r1, c1) = (r0.min(r), c0.min(c), r1.max(r), c1.max(c));
            }
        }
    }
    // Cell centres are at index x side; a cell reaches half a side either way.
    let (first, last) = ([0, r0, c0], [depth.saturating_sub(1), r1, c1]);
    let axes = 3 - grid.dims()..3;
    let lower = axes.clone().map(|a| (first[a] as f64 - 0.5) * grid.spacing[a]).collect();
    let upper = axes.map(|a| (last[a] as f64 + 0.5) * grid.spacing[a]).collect();
    (lower, upper)
}

/// The share of the frame's intensity the estimated floor accounts for: `floor x pixels /
/// total` over the pixels inside `mask`, kept in [0.05, 0.95] (0.5 for an empty frame).
pub(crate) fn floor_share_estimate(frame: ArrayView3<f32>, mask: Option<&Mask>, level: NoiseLevel) -> f64 {
    let (mut pixels, mut total) = (0usize, 0.0f64);
    for v in masked_values(frame, mask) {
        if v > 0.0 {
            pixels += 1;
            total += v as f64;
        }
    }
    if total > 0.0 {
        (level.floor.max(0.0) * pixels as f64 / total).clamp(0.05, 0.95)
    } else {
        0.5
    }
}

/// `start` with a background over the frame's region, starting at the share of the frame's
/// intensity the estimated floor accounts for (`floor x pixels / total`, kept in [0.05, 0.95]).
pub(crate) fn with_floor(
    start: Mixture,
    frame: ArrayView3<f32>,
    mask: Option<&Mask>,
    grid: &Grid,
    level: NoiseLevel,
    frame_index: usize,
) -> Result<Mixture> {
    let (lower, upper) = grid_region(frame.dim(), mask, grid);
    let share = floor_share_estimate(frame, mask, level);
    let fit_error = |source| Error::Fit { frame: frame_index, source };
    let background = Background::new(lower, upper, share).map_err(fit_error)?;
    start.with_background(background).map_err(fit_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn the_floor_and_its_noise_come_from_the_median_and_the_mad() {
        // A floor of 99s and 101s (180 each) and a bright block of 40 pixels: the median is
        // 101 (the 200th and 201st values), the absolute deviations 0 (180), 2 (180) and 4899
        // (40), whose median is 2.
        let frame = Array2::from_shape_fn((20, 20), |(r, c)| {
            if r < 2 {
                5000.0
            } else if (r + c) % 2 == 0 {
                101.0
            } else {
                99.0
            }
        });
        let level = noise_level(frame.view(), None);
        assert_eq!(level.floor, 101.0);
        assert!((level.sigma - 1.4826 * 2.0).abs() < 1e-12, "{level:?}");
        assert!((level.peak_threshold() - (101.0 + 5.0 * 1.4826 * 2.0)).abs() < 1e-12);
        let (lower, upper) = floor_region((20, 30), None, 0.5);
        assert_eq!((lower, upper), (vec![-0.25, -0.25], vec![9.75, 14.75]));
    }
}

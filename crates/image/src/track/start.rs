//! The first frame's start: one component per peak standing above the floor's noise (the
//! peaks found in 2-D or, for a volume, in 3-D with a box of the same length along z), and the
//! learned floor's background component.

use einmix::Mixture;
use ndarray::{Array1, Array2, ArrayView3};

use super::{Init, Tracker};
use crate::error::{Error, Result};
use crate::floor::{volume_noise_level, Floor, NoiseLevel};
use crate::peaks::{peaks_in_volume, smooth_volume, PeakOptions, PeakSpacing};
use crate::points::Points;

impl Tracker {
    /// The first frame's starting mixture (peaks), or `None` for k-means++.
    pub(super) fn initial(
        &self,
        frame_index: usize,
        frame: ArrayView3<f32>,
        points: &Points,
    ) -> Result<Option<Mixture>> {
        let Init::Peaks(peak_options) = &self.options.init else { return Ok(None) };
        let grid = self.grid();
        // Lengths "in pixels" are along the rows; along z they are the same length in z steps.
        let in_z = |pixels: f64| pixels * grid.spacing[1] / grid.spacing[0];
        let sigma = peak_options.smooth_sigma;
        let smoothed = smooth_volume(frame, [if grid.volume { in_z(sigma) } else { 0.0 }, sigma, sigma]);
        // Above the floor's noise, as the image itself gives it (and above a subtracted level).
        let level = volume_noise_level(smoothed.view(), self.mask.as_ref());
        let threshold = peak_options.threshold_abs.unwrap_or(points.background.max(level.peak_threshold()));
        let spacing = peak_spacing(peak_options, grid.volume.then(|| in_z(peak_options.min_distance as f64)));
        let mut peaks =
            peaks_in_volume(smoothed.view(), self.mask.as_ref(), threshold, &spacing, peak_options.num_peaks);
        // A component must start on data: a cell above background.
        peaks.retain(|&[z, r, c]| points.occupied[[z, r, c]]);
        if peaks.is_empty() {
            return Err(Error::NoPeaks {
                frame: frame_index,
                threshold,
                min_distance: peak_options.min_distance,
            });
        }
        let d = grid.dims();
        let positions: Vec<f64> = peaks.iter().flat_map(|&[z, r, c]| grid.position((z, r, c))).collect();
        let means = Array2::from_shape_vec((peaks.len(), d), positions).expect("D per peak");
        let base = if self.options.floor == Floor::Learned { level.floor } else { points.background };
        let heights: Vec<f64> =
            peaks.iter().map(|&[z, r, c]| (frame[[z, r, c]] as f64 - base).max(f64::MIN_POSITIVE)).collect();
        let total: f64 = heights.iter().sum();
        let weights = Array1::from_iter(heights.iter().map(|h| h / total));
        let start = self.mixture_from(weights, means)?;
        Ok(Some(self.with_learned_floor(start, frame, level, frame_index)?))
    }

    /// `start` with the learned floor's background component, when the options ask for it.
    fn with_learned_floor(
        &self,
        start: Mixture,
        frame: ArrayView3<f32>,
        level: NoiseLevel,
        frame_index: usize,
    ) -> Result<Mixture> {
        if self.options.floor != Floor::Learned {
            return Ok(start);
        }
        crate::floor::with_floor(start, frame, self.mask.as_ref(), &self.grid(), level, frame_index)
    }

    /// A new component's covariance: diagonal, a standard deviation of `init_size` cells along
    /// each axis (isotropic for square pixels; for a volume as many z steps as pixels, since a
    /// microscope's Z step is chosen for its PSF's longer axial extent).
    pub(super) fn start_covariance(&self) -> Array2<f64> {
        let axes = self.grid().axes().to_vec();
        Array2::from_diag(&Array1::from_iter(axes.iter().map(|s| (self.options.init_size * s).powi(2))))
    }

    /// A mixture of the options' covariance kind with
    /// [`start_covariance`](Tracker::start_covariance)s, in the kind's form (its diagonal for
    /// diag, the diagonal's mean for spherical).
    pub(super) fn mixture_from(&self, weights: Array1<f64>, means: Array2<f64>) -> Result<Mixture> {
        let k = means.nrows();
        let start = self.start_covariance();
        let dense: Vec<f64> = (0..k).flat_map(|_| start.iter().copied()).collect();
        super::dense::mixture_of_kind(self.options.covariance_type, &weights, means.view(), &dense)
            .map_err(|source| Error::Fit { frame: 0, source })
    }
}

/// The peaks' spacing: `min_distance` pixels along the rows and columns and, for a volume,
/// `z_distance` z steps (rounded, at least one) along z; the border as wide.
fn peak_spacing(options: &PeakOptions, z_distance: Option<f64>) -> PeakSpacing {
    let md = options.min_distance;
    let rz = z_distance.map_or(0, |z| (z.round() as usize).max(1));
    let radii = [rz, md, md];
    let border = if options.exclude_border { radii } else { [0; 3] };
    PeakSpacing { radii, border }
}

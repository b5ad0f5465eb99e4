//! A frame fitted by the variational mixture (`TrackOptions::bayesian`): its evidence, its
//! priors, the learned floor as a background beside the posterior, and where it starts.

use einmix::{BackgroundRegion, FitOptions, InitParams};
use ndarray::ArrayView3;

use super::{Init, Tracker};
use crate::error::{Error, Result};
use crate::floor::{floor_share_estimate, grid_region, volume_noise_level, Floor};
use crate::points::Points;

impl Tracker {
    /// A frame fitted by the variational mixture: the first from its peaks (the posterior one
    /// M-step from them, with the learned floor's background) or from `k` components by
    /// k-means++, later ones warm-started from the previous posterior.
    pub(super) fn variational_step(
        &self,
        frame_index: usize,
        frame: ArrayView3<f32>,
        points: &Points,
    ) -> Result<einmix::BayesianFit> {
        let fit_err = |source| Error::Fit { frame: frame_index, source };
        // A frame's evidence is its pixels, not its photon counts: the weights are scaled to
        // average 1 per pixel, so the prior weighs as much against a frame of dim pixels as
        // against a bright one (as frequencies, raw intensities would swamp any prior).
        // With the learned floor every pixel is a point, floor included: the excess above the
        // floor's level is scaled to average 1 per pixel above it, so a structure weighs as
        // many pixels as it covers, as with a subtracted level (per pixel of the whole frame,
        // the floor's pixels would dilute a structure's evidence until the prior empties it:
        // 2 of the 11 structures EM finds on the demo frame).
        let level =
            (self.options.floor == Floor::Learned).then(|| volume_noise_level(frame, self.mask.as_ref()));
        let scale = match level {
            Some(level) => {
                let floor = level.floor;
                let (mut count, mut excess) = (0usize, 0.0);
                for &v in points.weights.iter().filter(|&&v| v > floor) {
                    count += 1;
                    excess += v - floor;
                }
                if excess > 0.0 {
                    count as f64 / excess
                } else {
                    points.weights.len() as f64 / points.weights.sum()
                }
            }
            None => points.weights.len() as f64 / points.weights.sum(),
        };
        let scaled = points.weights.mapv(|v| v * scale);
        let (x, w) = (points.coords.view(), scaled.view());
        // Frame 0 starts from its peaks (the posterior one M-step from them, the learned floor
        // included) or from k-means++; later frames from the previous posterior.
        let (k, seed, peaks) = match (&self.posterior, &self.options.init) {
            (Some((m, _)), _) => (m.mixture.n_components(), 0, None),
            (None, Init::KMeansPlusPlus { k, seed }) => (*k, *seed, None),
            (None, Init::Peaks(_)) => match self.initial(frame_index, frame, points)? {
                Some(start) => (start.n_components(), 0, Some(start)),
                None => (1, 0, None),
            },
        };
        // The bound is a sum over the scaled weights: `tol` per pixel unit, and with the
        // learned floor EM's rule, on the structures' share of it (see `Tracker::em`).
        let floor_share = match (&self.posterior, &peaks, level) {
            (Some((m, _)), _, _) => m.mixture.background().map_or(0.0, |b| b.weight()),
            (None, Some(start), _) => start.background().map_or(0.0, |b| b.weight()),
            (None, None, Some(level)) => floor_share_estimate(frame, self.mask.as_ref(), level),
            (None, None, None) => 0.0,
        };
        let total_weight = if level.is_some() { scaled.sum() } else { points.weights.len() as f64 };
        let mut spec = einmix::BayesianGaussianMixture::new(k)
            .covariance_type(self.options.covariance_type)
            .init_params(InitParams::KMeansPlusPlus)
            .random_state(seed)
            .tol(self.options.tol * total_weight * (1.0 - floor_share).max(1e-3))
            .max_iter(self.options.max_iter)
            .reg_covar(self.reg_covar());
        if let Some(t) = self.options.n_threads {
            spec = spec.n_threads(t);
        }
        if let Some(alpha) = self.options.weight_concentration_prior {
            spec = spec.weight_concentration_prior(alpha);
        }
        if self.options.floor == Floor::Learned {
            // With the learned floor every pixel is a point, so a structure holds a small share
            // of the pixels, and scikit-learn's default Gauss-Wishart prior (the data's
            // covariance, i.e. the frame's extent, around the data's mean with the weight of
            // one pixel) pulls its covariance by (extent + its distance from the centre^2) /
            // its pixels: 80 % for a small spot on a floor. A prior the size of a starting
            // component, its mean of little weight, leaves the structures to their pixels.
            // In the kind's form: the start's diagonal for diag, its mean for spherical.
            let start: Vec<f64> = self.start_covariance().iter().copied().collect();
            let prior =
                self.options.covariance_type.from_dense_covariances(&start, &[1.0], self.grid().dims());
            spec = spec.covariance_prior(prior).mean_precision_prior(0.01);
            let (lower, upper) = grid_region(frame.dim(), self.mask.as_ref(), &self.grid());
            spec = spec.background(BackgroundRegion::Box { lower, upper });
        }
        match (&self.posterior, peaks) {
            (Some((m, lb)), _) => spec.fit_with(x, Some(w), FitOptions::new().warm_start(m, *lb)),
            (None, Some(start)) => spec.posterior_from(x, Some(w), &start).and_then(|posterior| {
                spec.fit_with(x, Some(w), FitOptions::new().warm_start(&posterior, f64::NEG_INFINITY))
            }),
            (None, None) => spec.fit(x, Some(w)),
        }
        .map_err(fit_err)
    }
}

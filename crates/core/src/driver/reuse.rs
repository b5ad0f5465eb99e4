//! Rows laid out once, fitted many times: the frames of a time-lapse put the same pixels (or
//! voxels) at the same places and change only their weights, so the chunked copy, its
//! spatial order and its bounding boxes are made once and each frame only lays out its
//! weights ([`ChunkedRows::set_weights`]). A fit over them is the fit over the rows themselves
//! ([`GaussianMixture::fit_with`]), bit for bit.

use std::time::Duration;

use ndarray::{ArrayView1, ArrayView2};

use super::memory::{em_initialise, InMemory};
use super::{drive, start_and_progress, FitOptions};
use crate::background::{Background, BackgroundRegion};
use crate::chunks::{spatial_order, Chunked, Element, WeightScale};
use crate::error::{Error, Result};
use crate::estimator::GaussianMixture;
use crate::model::Fit;
use crate::parallel::Parallel;
use crate::validate;

/// Rows in the fused pass's chunked layout, with their weights, ready for repeated fits
/// ([`GaussianMixture::fit_rows`]); made by [`GaussianMixture::chunked_rows`].
///
/// ```
/// use einmix::{FitOptions, GaussianMixture};
/// use ndarray::array;
///
/// let x = array![[0.0, 0.1], [0.2, -0.1], [-0.1, 0.0], [5.0, 5.1], [5.2, 4.9], [4.9, 5.0]];
/// let spec = GaussianMixture::new(2).random_state(0);
/// let mut rows = spec.chunked_rows(x.view(), Some(array![1.0, 2.0, 1.0, 1.0, 1.0, 3.0].view()))?;
/// let first = spec.fit_rows(&rows, FitOptions::new())?;
/// // The next frame: the same places, new weights, warm-started.
/// let w = array![2.0, 1.0, 1.0, 3.0, 1.0, 1.0];
/// rows.set_weights(w.view())?;
/// let next = spec.fit_rows(&rows, FitOptions::new().warm_start_from(&first))?;
/// let direct = spec.fit_with(x.view(), Some(w.view()), FitOptions::new().warm_start_from(&first))?;
/// assert_eq!(next.mixture, direct.mixture);
/// # Ok::<(), einmix::Error>(())
/// ```
pub struct ChunkedRows {
    data: Chunked,
    /// Rows of positive weight: a cold start needs `n_components` of them.
    effective: usize,
    /// The rows' bounding box, for a background over it.
    lower: Vec<f64>,
    upper: Vec<f64>,
}

impl ChunkedRows {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.data.n
    }
    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.data.d
    }
    /// New weights for the same rows (one per row, in the rows' original order), checked as a
    /// fit checks them.
    pub fn set_weights(&mut self, sample_weight: ArrayView1<f64>) -> Result<()> {
        self.effective = validate::sample_weight(sample_weight, self.data.n)?;
        self.data.set_weights(Some(sample_weight), WeightScale::MeanOne);
        Ok(())
    }
}

impl GaussianMixture {
    /// Lays out `x` (with `sample_weight`) for repeated fits by this specification: checked as
    /// [`GaussianMixture::fit`] checks them, in spatial order where culling pays (unless
    /// [`GaussianMixture::rows_in_spatial_order`] says they are).
    pub fn chunked_rows<T: Element>(
        &self,
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
    ) -> Result<ChunkedRows> {
        self.validate()?;
        validate::fit_input(x, sample_weight, None)?;
        let effective = match sample_weight {
            Some(w) => validate::sample_weight(w, x.nrows())?,
            None => x.nrows(),
        };
        let d = x.ncols();
        let cull = self.culling && d <= 3 && self.n_components >= 4;
        let order = (cull && !self.rows_in_spatial_order)
            .then(|| Parallel::new(self.n_threads).map(|par| spatial_order(x, Some(&par))))
            .transpose()?;
        let data = Chunked::build(x, sample_weight, order, WeightScale::MeanOne);
        let (mut lower, mut upper) = (vec![f64::INFINITY; d], vec![f64::NEG_INFINITY; d]);
        for c in 0..data.n_chunks {
            for j in 0..d {
                lower[j] = lower[j].min(data.bounds[c * 2 * d + j]);
                upper[j] = upper[j].max(data.bounds[c * 2 * d + d + j]);
            }
        }
        Ok(ChunkedRows { data, effective, lower, upper })
    }

    /// [`GaussianMixture::fit_with`] over rows laid out by [`GaussianMixture::chunked_rows`]:
    /// the same fit (the same initialisation, EM, background and warm start), without laying
    /// the rows out again, bit for bit when the rows were laid out by a specification of the
    /// same `n_components` as the fit's `K` (which decides their spatial order) or with
    /// [`GaussianMixture::rows_in_spatial_order`]. The final labels are not computed
    /// (`labels` is empty).
    pub fn fit_rows(&self, rows: &ChunkedRows, options: FitOptions<'_>) -> Result<Fit> {
        self.validate()?;
        let d = rows.data.d;
        if let Some((m, _)) = options.start {
            if m.n_features() != d {
                return Err(Error::DimensionMismatch { expected: m.n_features(), found: d });
            }
        } else {
            self.validate_inits(d)?;
            if rows.effective < self.n_components {
                return Err(Error::TooFewSamples {
                    n_samples: rows.effective,
                    n_components: self.n_components,
                });
            }
        }
        let k = options.start.map_or(self.n_components, |(m, _)| m.n_components());
        let background = match &self.background {
            Some(BackgroundRegion::BoundingBox) => {
                Some(Background::from_bounds(rows.lower.clone(), rows.upper.clone(), 1.0 / (k as f64 + 1.0))?)
            }
            Some(region @ BackgroundRegion::Box { .. }) => {
                let x = ndarray::Array2::<f64>::zeros((0, d));
                Some(Background::resolve(region, x.view(), 1.0 / (k as f64 + 1.0))?)
            }
            None => None,
        };
        let mut source = InMemory::over(self, &rows.data, k, em_initialise(self, background))?;
        let (mixture, info) = drive(self, &mut source, start_and_progress(options), Duration::ZERO)?;
        Ok(Fit { mixture, info, labels: Default::default() })
    }
}

//! Partitions summed by another engine (Dask, Ray, MPI, Spark): the engine maps the block
//! kernel ([`crate::blockwise`]) over its partitions and sums the vectors; the loop,
//! convergence and restarts stay here.

use std::time::Duration;

use super::{drive, start_and_progress, FitOptions, Source};
use crate::background::{Background, BackgroundRegion};
use crate::blockwise::{culls, unpack_checked, Layout};
use crate::covariance::SuffStats;
use crate::error::Error;
use crate::estimator::GaussianMixture;
use crate::model::Mixture;
use crate::stream::StreamFit;

/// Data held by another engine, in partitions: what the EM driver needs of it.
///
/// ```
/// use einmix::blockwise::{add, block_statistics, Layout};
/// use einmix::{FitOptions, GaussianMixture, InitParams, Mixture, PartitionSource};
/// use ndarray::{s, Array2};
///
/// /// Two "partitions" of one array, summed here as an engine would on its workers.
/// struct Halves(Array2<f64>, Mixture);
/// impl PartitionSource for Halves {
///     type Error = einmix::Error;
///     fn n_features(&self) -> usize {
///         self.0.ncols()
///     }
///     fn initial_mixture(&mut self, _run: usize) -> einmix::Result<Mixture> {
///         Ok(self.1.clone())
///     }
///     fn summed_statistics(&mut self, m: &Mixture, _cull: bool) -> einmix::Result<Vec<f64>> {
///         let mut total = vec![0.0; Layout::of(m).len()];
///         for rows in [0..500, 500..1000] {
///             add(&mut total, &block_statistics(m, self.0.slice(s![rows, ..]), None)?)?;
///         }
///         Ok(total)
///     }
/// }
///
/// let x = Array2::from_shape_fn((1000, 2), |(i, j)| (i % 2) as f64 * 6.0 + ((i * 7 + j * 3) % 11) as f64 / 11.0);
/// let spec = GaussianMixture::new(2).init_params(InitParams::KMeansPlusPlus).random_state(0);
/// let start = spec.clone().max_iter(0).fit(x.view(), None)?.mixture;
/// let fit = spec.fit_partitions(&mut Halves(x, start), FitOptions::new())?;
/// assert!(fit.info.converged);
/// # Ok::<(), einmix::Error>(())
/// ```
pub trait PartitionSource {
    /// The engine's own failure; core errors convert into it.
    type Error: From<Error>;
    /// Number of features `D` of every row.
    fn n_features(&self) -> usize;
    /// The first mixture of run `run` (0-based): initialisation happens where the data are
    /// (k-means|| over the partitions, or a sample), then comes here.
    fn initial_mixture(&mut self, run: usize) -> Result<Mixture, Self::Error>;
    /// The block statistics of every partition under `m` (raw weights, [`Layout::of`]`(m)`),
    /// summed; `cull` says whether the kernel may cull (see
    /// [`crate::blockwise::BlockStatistics::set_cull`]).
    fn summed_statistics(&mut self, m: &Mixture, cull: bool) -> Result<Vec<f64>, Self::Error>;
}

/// A [`PartitionSource`] as the driver sees it.
struct Partitions<'p, P: PartitionSource> {
    engine: &'p mut P,
    cull: bool,
    stats: Option<(SuffStats, f64)>,
    /// The background added to each initial mixture that has none (its region given).
    background: Option<Background>,
}

impl<P: PartitionSource> Source<Mixture> for Partitions<'_, P> {
    type Error = P::Error;

    fn culls(&self) -> bool {
        self.cull
    }

    fn initial_mixture(&mut self, run: usize) -> Result<Mixture, P::Error> {
        let m = self.engine.initial_mixture(run)?;
        Ok(match &self.background {
            Some(b) if m.background().is_none() => m.with_background(b.clone())?,
            _ => m,
        })
    }

    fn pass(&mut self, model: &Mixture, cull: bool) -> Result<(), P::Error> {
        let summed = self.engine.summed_statistics(model, cull)?;
        self.stats = Some(unpack_checked(&Layout::of(model), &summed)?);
        Ok(())
    }

    fn statistics(&self) -> (&SuffStats, f64) {
        let (stats, total_weight) = self.stats.as_ref().expect("statistics are read after a pass");
        (stats, *total_weight)
    }
}

impl GaussianMixture {
    /// Fits by EM over data held in partitions by another engine (see [`PartitionSource`]):
    /// `n_init` runs from its initialisations (one from [`FitOptions::warm_start`]), each
    /// iteration one summed pass.
    pub fn fit_partitions<P: PartitionSource>(
        &self,
        partitions: &mut P,
        options: FitOptions<'_>,
    ) -> Result<StreamFit, P::Error> {
        self.validate()?;
        let (k, d) = match options.start {
            Some((m, _)) => (m.n_components(), m.n_features()),
            None => (self.n_components, partitions.n_features()),
        };
        // A background's region must be given: its bounding box would need a pass of its own.
        let background = match &self.background {
            None => None,
            Some(BackgroundRegion::BoundingBox) => {
                return Err(Error::InvalidBackground {
                    problem: "a partitioned fit needs the region given (BackgroundRegion::Box): the engine computes the bounding box".into(),
                }
                .into())
            }
            Some(BackgroundRegion::Box { lower, upper }) => {
                if lower.len() != d {
                    return Err(Error::InvalidBackground {
                        problem: format!("the region has {} features, but the data has {d}", lower.len()),
                    }
                    .into());
                }
                Some(Background::new(lower.clone(), upper.clone(), 1.0 / (k as f64 + 1.0))?)
            }
        };
        let mut source = Partitions { engine: partitions, cull: culls(k, d), stats: None, background };
        let (mixture, info) = drive(self, &mut source, start_and_progress(options), Duration::ZERO)?;
        Ok(StreamFit { mixture, info })
    }
}

//! The in-memory source: the data copied once into chunks (in spatial order where culling
//! pays), a workspace sized once per fit, and the fused pass on a thread pool of the fit's own.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use ndarray::{ArrayView1, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{drive, start_and_progress, FitOptions, Model, RunFn, RunResult, Source};
use crate::background::Background;
use crate::chunks::{spatial_order, Chunked, Element, Scratch, WeightScale};
use crate::covariance::{Prepared, SuffStats};
use crate::error::{Error, Result};
use crate::estimator::{GaussianMixture, Precision};
use crate::init;
use crate::model::{Fit, Mixture};
use crate::parallel::Parallel;
use crate::pass::run::{em_statistics, labels, worker_scratch};
use crate::validate;

/// Everything an EM pass needs, sized once per fit.
struct Workspace {
    prepared: Prepared,
    scratch: Vec<Mutex<Scratch>>,
    block_stats: Vec<SuffStats>,
    total: SuffStats,
}

impl Workspace {
    fn new<M: Model>(model: &M, data: &Chunked, par: &Parallel, precision: Precision) -> Workspace {
        let (kind, k, d) = model.shape();
        let mut prepared = Prepared::new(kind, k, d);
        prepared.set_precision(precision);
        Workspace {
            prepared,
            scratch: worker_scratch(par, k, d),
            block_stats: vec![SuffStats::new(kind, k, d); data.n_blocks()],
            total: SuffStats::new(kind, k, d),
        }
    }
}

/// How a model's run starts from the chunked data: the initialisation of run `run`.
pub(crate) type Initialise<'a, M> = Box<dyn FnMut(&Chunked, &mut ChaCha8Rng, &Parallel) -> Result<M> + 'a>;

/// The chunks a source reads: its own, or laid out once for many fits ([`super::reuse::ChunkedRows`]).
pub(crate) enum Rows<'a> {
    Owned(Chunked),
    Borrowed(&'a Chunked),
}

impl std::ops::Deref for Rows<'_> {
    type Target = Chunked;
    fn deref(&self) -> &Chunked {
        match self {
            Rows::Owned(c) => c,
            Rows::Borrowed(c) => c,
        }
    }
}

/// Data in memory, chunked.
pub(crate) struct InMemory<'a, M = Mixture> {
    data: Rows<'a>,
    par: Parallel,
    rng: ChaCha8Rng,
    cull: bool,
    /// The passes' arithmetic (the fit's; scoring and labels are always f64).
    precision: Precision,
    workspace: Option<Workspace>,
    initialise: Initialise<'a, M>,
}

impl<'a> InMemory<'a, Mixture> {
    /// Lays out `x` for EM with `k` components (weights rescaled to mean 1, see `Chunked`).
    pub(crate) fn new<T: Element>(
        spec: &'a GaussianMixture,
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
        k: usize,
    ) -> Result<InMemory<'a, Mixture>> {
        // The background's region is resolved once, from all of the data (its bounding box).
        let background = match &spec.background {
            Some(region) => Some(Background::resolve(region, x, 1.0 / (k as f64 + 1.0))?),
            None => None,
        };
        InMemory::with_model(spec, x, sample_weight, k, WeightScale::MeanOne, em_initialise(spec, background))
    }
}

/// EM's initialisation of a run from the chunks, with `background` (resolved once) attached.
pub(crate) fn em_initialise(
    spec: &GaussianMixture,
    background: Option<Background>,
) -> Initialise<'_, Mixture> {
    Box::new(move |data, rng, par| {
        let m = init::initial_mixture(spec, data, rng, par)?;
        match &background {
            Some(b) => m.with_background(b.clone()),
            None => Ok(m),
        }
    })
}

/// A fit's thread pool, its seeded random state, and whether its passes cull (where it
/// pays: low dimensions, several components).
fn pool_rng_cull(spec: &GaussianMixture, d: usize, k: usize) -> Result<(Parallel, ChaCha8Rng, bool)> {
    let rng = match spec.random_state {
        Some(seed) => ChaCha8Rng::seed_from_u64(seed),
        None => ChaCha8Rng::from_os_rng(),
    };
    Ok((Parallel::new(spec.n_threads)?, rng, spec.culling && d <= 3 && k >= 4))
}

impl<'a, M: Model> InMemory<'a, M> {
    /// Lays out `x` for `k` components (culling, and so the spatial order, where it pays:
    /// low dimensions, several components), weights as `scale` says.
    pub(crate) fn with_model<T: Element>(
        spec: &GaussianMixture,
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
        k: usize,
        scale: WeightScale,
        initialise: Initialise<'a, M>,
    ) -> Result<InMemory<'a, M>> {
        let (par, rng, cull) = pool_rng_cull(spec, x.ncols(), k)?;
        let order = (cull && !spec.rows_in_spatial_order).then(|| spatial_order(x, Some(&par)));
        let data = Chunked::build(x, sample_weight, order, scale);
        let precision = spec.precision;
        Ok(InMemory { data: Rows::Owned(data), par, rng, cull, precision, workspace: None, initialise })
    }

    /// A source over chunks laid out beforehand, for `k` components.
    pub(crate) fn over(
        spec: &GaussianMixture,
        data: &'a Chunked,
        k: usize,
        initialise: Initialise<'a, M>,
    ) -> Result<InMemory<'a, M>> {
        let (par, rng, cull) = pool_rng_cull(spec, data.d, k)?;
        let precision = spec.precision;
        Ok(InMemory { data: Rows::Borrowed(data), par, rng, cull, precision, workspace: None, initialise })
    }

    /// The final labels of `model` (`argmax_k` of its log terms), in row order.
    pub(crate) fn labels(&self, model: &M) -> Vec<usize> {
        let (kind, k, d) = model.shape();
        let mut prepared = Prepared::new(kind, k, d);
        prepared.cull = self.cull;
        model.prepare(&mut prepared);
        labels(&prepared, &self.data, &self.par)
    }
}

impl<M: Model> Source<M> for InMemory<'_, M> {
    type Error = Error;

    fn culls(&self) -> bool {
        self.cull
    }

    fn initial_mixture(&mut self, _run: usize) -> Result<M> {
        (self.initialise)(&self.data, &mut self.rng, &self.par)
    }

    fn pass(&mut self, model: &M, cull: bool) -> Result<()> {
        let (data, par, precision) = (&*self.data, &self.par, self.precision);
        let ws = self.workspace.get_or_insert_with(|| Workspace::new(model, data, par, precision));
        ws.prepared.cull = cull;
        model.prepare(&mut ws.prepared);
        em_statistics(&ws.prepared, data, par, &ws.scratch, &mut ws.block_stats, &mut ws.total);
        Ok(())
    }

    fn statistics(&self) -> (&SuffStats, f64) {
        let ws = self.workspace.as_ref().expect("statistics are read after a pass");
        (&ws.total, self.data.total_weight)
    }

    /// Runs at once, one per thread of the fit's pool, where a run alone leaves cores idle;
    /// else one after another (see [`runs_at_once_pay`]). Each run's source shares the chunks
    /// and has a one-thread pass of its own: its result is bitwise the same either way.
    fn runs<R: Send>(&mut self, starts: Vec<M>, run: &RunFn<'_, M, R, Error>) -> Vec<RunResult<R, Error>> {
        if !runs_at_once_pay(starts.len(), self.par.n_threads(), self.data.n_blocks()) {
            return starts.into_iter().enumerate().map(|(index, model)| run(self, index, model)).collect();
        }
        let (data, cull, precision) = (&*self.data, self.cull, self.precision);
        let mut slots: Vec<(Option<M>, Option<Result<R>>)> =
            starts.into_iter().map(|m| (Some(m), None)).collect();
        self.par.for_each(&mut slots, |index, (start, outcome)| {
            let model = start.take().expect("each run starts once");
            *outcome = Some(
                one_thread_source(data, cull, precision)
                    .and_then(|mut source| run(&mut source, index, model)),
            );
        });
        slots.into_iter().map(|(_, outcome)| outcome.expect("every run ran")).collect()
    }
}

/// Whether `n_runs` runs should run at once, one per thread, rather than one after another on
/// all `threads`: when a run's `n_blocks` blocks of chunks are fewer than the threads, so that a
/// run alone leaves cores idle. Measured (`benches/em.rs --n-init`, 2 threads, `n_init = 8`):
/// 4,000 rows (one block) 1.6x faster at once; 12,000 rows (three blocks) 0.84x, since runs of
/// unequal lengths side by side leave a core idle at the end, where one run after another
/// keeps both busy.
pub(crate) fn runs_at_once_pay(n_runs: usize, threads: usize, n_blocks: usize) -> bool {
    threads > 1 && n_runs > 1 && n_blocks < threads
}

/// A source over `data` with a one-thread pass, for one run of [`InMemory::runs`]; it is handed
/// its start, so it draws none.
fn one_thread_source<M: Model>(data: &Chunked, cull: bool, precision: Precision) -> Result<InMemory<'_, M>> {
    Ok(InMemory {
        data: Rows::Borrowed(data),
        par: Parallel::new(Some(1))?,
        rng: ChaCha8Rng::seed_from_u64(0),
        cull,
        precision,
        workspace: None,
        initialise: Box::new(|_, _, _| unreachable!("a run's source is handed its start")),
    })
}

impl GaussianMixture {
    /// Fits by EM from the chosen initialisation. `sample_weight`, if given, holds one
    /// non-negative weight per row (an integer weight acts as that many copies of the row).
    ///
    /// ```
    /// use einmix::{CovarianceType, GaussianMixture};
    /// use ndarray::array;
    ///
    /// let x = array![[0.0, 0.1], [0.2, -0.1], [-0.1, 0.0], [5.0, 5.1], [5.2, 4.9], [4.9, 5.0]];
    /// let fit = GaussianMixture::new(2).covariance_type(CovarianceType::Diag).random_state(0).fit(x.view(), None)?;
    /// assert_eq!(fit.labels[0], fit.labels[1]);
    /// assert_ne!(fit.labels[0], fit.labels[3]);
    /// # Ok::<(), einmix::Error>(())
    /// ```
    pub fn fit<T: Element>(&self, x: ArrayView2<T>, sample_weight: Option<ArrayView1<f64>>) -> Result<Fit> {
        self.fit_with(x, sample_weight, FitOptions::new())
    }

    /// [`GaussianMixture::fit`] with [`FitOptions`]: a warm start, a progress observer.
    pub fn fit_with<T: Element>(
        &self,
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
        options: FitOptions<'_>,
    ) -> Result<Fit> {
        self.validate()?;
        validate::fit_input(x, sample_weight, options.start.is_none().then_some(self.n_components))?;
        let d = x.ncols();
        if let Some((m, _)) = options.start {
            if m.n_features() != d {
                return Err(Error::DimensionMismatch { expected: m.n_features(), found: d });
            }
        } else {
            self.validate_inits(d)?;
        }
        let k = options.start.map_or(self.n_components, |(m, _)| m.n_components());
        let mut source = InMemory::new(self, x, sample_weight, k)?;
        let (mixture, mut info) = drive(self, &mut source, start_and_progress(options), Duration::ZERO)?;
        let t = Instant::now();
        let labels = if self.final_labels { source.labels(&mixture).into() } else { Default::default() };
        info.em_time += t.elapsed();
        Ok(Fit { mixture, info, labels })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::CovarianceType;
    use crate::datasets;
    use crate::estimator::InitParams;
    use crate::mstep::MStepScratch;

    fn max_rel(a: &[f64], b: &[f64]) -> f64 {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1e-3 * scale)).fold(0.0, f64::max)
    }

    /// Culling skips work, never changes the answer beyond 1e-12 relative: EM iterations with
    /// and without it, from the same start on the seed workload, for every covariance kind
    /// (from the spiky k-means++ start, through convergence).
    #[test]
    fn culled_iterations_equal_unculled_ones() {
        let (_, x) = datasets::seed_workload(30_000, 30, 3);
        for kind in CovarianceType::ALL {
            let spec = GaussianMixture::new(30)
                .covariance_type(kind)
                .init_params(InitParams::KMeansPlusPlus)
                .random_state(1)
                .max_iter(0)
                .n_threads(2);
            let start = spec.fit(x.view(), None).unwrap().mixture;
            let mut culled_source = InMemory::new(&spec, x.view(), None, 30).unwrap();
            let mut full_source = InMemory::new(&spec, x.view(), None, 30).unwrap();
            assert!(culled_source.cull);
            full_source.cull = false;
            let (mut culled, mut full) = (start.clone(), start);
            let mut scratch = MStepScratch::new(30, 2);
            for iteration in 0..25 {
                let lb_c =
                    super::super::iterate(&mut culled_source, &mut culled, 1e-6, &mut scratch).unwrap();
                let lb_f = super::super::iterate(&mut full_source, &mut full, 1e-6, &mut scratch).unwrap();
                assert!(
                    culled_source.statistics().0.culled_pairs > 0,
                    "{kind}: nothing was culled, the test proves nothing"
                );
                assert!((lb_c - lb_f).abs() <= 1e-12 * lb_f.abs(), "{kind} it {iteration}: {lb_c} vs {lb_f}");
                for (a, b) in [
                    (culled.weights_slice(), full.weights_slice()),
                    (culled.means_slice(), full.means_slice()),
                    (culled.precisions_cholesky_slice(), full.precisions_cholesky_slice()),
                ] {
                    assert!(max_rel(a, b) <= 1e-12, "{kind} iteration {iteration}: {}", max_rel(a, b));
                }
                if iteration % 8 == 0 {
                    let (data, par) = (&culled_source.data, &culled_source.par);
                    let with = |cull: bool| labels(&crate::pass::run::prepared(&culled, cull), data, par);
                    assert_eq!(with(true), with(false));
                }
            }
        }
    }

    /// `n_init` runs at once (two threads, few blocks) give bitwise the fit of the same runs
    /// one after another (one thread, and two threads with an observer), and run 0 is bitwise
    /// the fit with `n_init = 1`.
    #[test]
    fn runs_at_once_are_bitwise_the_runs_one_after_another() {
        for kind in CovarianceType::ALL {
            let truth = datasets::random_mixture(kind, 4, 5, 1.0, 2);
            let (x, _) = truth.sample(3_000, 4);
            let spec = |threads: usize, n_init: usize| {
                GaussianMixture::new(4)
                    .covariance_type(kind)
                    .n_init(n_init)
                    .random_state(7)
                    .n_threads(threads)
            };
            let data = Chunked::new(x.view(), None);
            assert!(runs_at_once_pay(5, 2, data.n_blocks()), "the data must take the concurrent path");
            let at_once = spec(2, 5).fit(x.view(), None).unwrap();
            let one_thread = spec(1, 5).fit(x.view(), None).unwrap();
            let mut ignore = |_: &crate::estimator::Progress| {};
            let watched =
                spec(2, 5).fit_with(x.view(), None, FitOptions::new().progress(&mut ignore)).unwrap();
            for other in [&one_thread, &watched] {
                assert_eq!(at_once.info.run_lower_bounds, other.info.run_lower_bounds, "{kind}");
                assert_eq!(at_once.info.best_run, other.info.best_run, "{kind}");
                assert_eq!(at_once.mixture.means_slice(), other.mixture.means_slice(), "{kind}");
                assert_eq!(
                    at_once.mixture.precisions_cholesky_slice(),
                    other.mixture.precisions_cholesky_slice(),
                    "{kind}"
                );
                assert_eq!(at_once.labels, other.labels, "{kind}");
            }
            let alone = spec(2, 1).fit(x.view(), None).unwrap();
            assert_eq!(at_once.info.run_lower_bounds[0], alone.info.lower_bound, "{kind}");
            let distinct: std::collections::HashSet<u64> =
                at_once.info.run_lower_bounds.iter().map(|b| b.to_bits()).collect();
            assert!(
                distinct.len() > 1,
                "{kind}: the runs must differ, or the test proves little: {:?}",
                at_once.info.run_lower_bounds
            );
        }
    }

    /// `Precision::F32` fits the same model as f64 to within 1e-6 relative in the lower bound
    /// (above the crossovers, for every kind), and changes nothing below them (bitwise).
    #[test]
    fn single_precision_fits_within_a_millionth_and_changes_nothing_below_the_crossover() {
        use crate::estimator::Precision;
        for (d, k) in [(40usize, 6usize), (2, 6)] {
            for kind in CovarianceType::ALL {
                let truth = datasets::random_mixture(kind, k, d, 4.0, 3);
                let (x, _) = truth.sample(6_000, 5);
                let spec =
                    GaussianMixture::new(k).covariance_type(kind).random_state(1).max_iter(20).n_threads(2);
                let double = spec.clone().fit(x.view(), None).unwrap();
                let single = spec.precision(Precision::F32).fit(x.view(), None).unwrap();
                let (a, b) = (single.info.lower_bound, double.info.lower_bound);
                if d == 2 || kind == CovarianceType::Tied {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{kind} d={d}: lanes are f64 whatever the precision"
                    );
                    assert_eq!(single.mixture.means_slice(), double.mixture.means_slice(), "{kind} d={d}");
                } else {
                    assert!((a - b).abs() <= 1e-6 * b.abs(), "{kind} d={d}: {a} vs {b}");
                    assert_ne!(
                        a.to_bits(),
                        b.to_bits(),
                        "{kind} d={d}: the single-precision products did not run"
                    );
                    assert!(
                        max_rel(single.mixture.means_slice(), double.mixture.means_slice()) <= 1e-4,
                        "{kind}"
                    );
                }
            }
        }
    }
}

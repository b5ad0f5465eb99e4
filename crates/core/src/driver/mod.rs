//! The EM driver: one loop for every model source (in memory, streamed from disk, partitions
//! summed by another engine), as scikit-learn's `BaseMixture.fit_predict` serves its estimators.
//!
//! ```text
//! for run in 0..n_init:                         (one run for a warm start)
//!     theta = source.initial_mixture(run)        (or the warm start)
//!     repeat up to max_iter:
//!         s = source.statistics(theta, cull)     one fused pass over all the data
//!         if culling lost mass: s = source.statistics(theta, no cull)
//!         L(theta) = s.log_lik / total weight    the lower bound of the parameters that entered
//!         theta = m_step(s)
//!         stop when |L - L_prev| < tol           (scikit-learn's rule)
//! keep the run with the highest final L
//! ```
//! A source supplies only the pass and the initialisation; the loop, the culling fallback,
//! convergence, restarts, progress and the [`FitInfo`] are here.

pub(crate) mod memory;
pub(crate) mod online;
pub(crate) mod partitions;
pub(crate) mod reuse;
pub mod stream;

use std::time::{Duration, Instant};

use crate::covariance::{CovarianceType, Prepared, SuffStats};
use crate::error::{Error, Result};
use crate::estimator::{GaussianMixture, Progress};
use crate::model::{Fit, FitInfo, Mixture};
use crate::mstep::{m_step, MStepScratch, WeightNorm};

/// How a fit is run, beyond the specification: where it starts and who watches it.
///
/// ```
/// use einmix::{FitOptions, GaussianMixture};
/// use ndarray::Array2;
///
/// let x = Array2::from_shape_fn((400, 2), |(i, j)| (i % 2) as f64 * 9.0 + ((i * 7 + j * 3) % 11) as f64 / 11.0);
/// let spec = GaussianMixture::new(2).random_state(0);
/// let first = spec.fit(x.view(), None)?;
/// let mut iterations = 0;
/// let mut count = |_: &einmix::Progress| iterations += 1;
/// let again = spec.fit_with(x.view(), None, FitOptions::new().warm_start_from(&first).progress(&mut count))?;
/// assert!(again.info.converged);
/// assert_eq!(iterations, again.info.n_iter);
/// # Ok::<(), einmix::Error>(())
/// ```
pub struct FitOptions<'a, M = Mixture> {
    start: Option<(&'a M, f64)>,
    progress: Option<&'a mut dyn FnMut(&Progress)>,
    sample_size: Option<usize>,
}

impl<M> Default for FitOptions<'_, M> {
    fn default() -> Self {
        FitOptions { start: None, progress: None, sample_size: None }
    }
}

impl<'a, M> FitOptions<'a, M> {
    /// Cold start from the specification's initialisation, no observer.
    pub fn new() -> FitOptions<'a, M> {
        FitOptions::default()
    }

    /// Warm start: EM from the parameters of `start` (one run; `n_init` and the initialisation
    /// settings are ignored), as scikit-learn's `warm_start=True` does. `previous_lower_bound`
    /// is the lower bound the start reached (`f64::NEG_INFINITY` if unknown); the first
    /// iteration's change is measured from it.
    pub fn warm_start(mut self, start: &'a M, previous_lower_bound: f64) -> Self {
        self.start = Some((start, previous_lower_bound));
        self
    }

    /// Calls `observer` after every EM iteration.
    pub fn progress(mut self, observer: &'a mut dyn FnMut(&Progress)) -> Self {
        self.progress = Some(observer);
        self
    }

    /// Streamed fits only: the rows of the uniform sample the initialisation runs on (default
    /// [`stream::DEFAULT_SAMPLE_SIZE`]; at least `n_components`).
    pub fn sample_size(mut self, rows: usize) -> Self {
        self.sample_size = Some(rows);
        self
    }
}

impl<'a, M: Clone> FitOptions<'a, M> {
    /// `(the warm start, owned; the observer; the sample size)`.
    pub(crate) fn into_parts(self) -> (Option<(M, f64)>, Observer<'a>, Option<usize>) {
        (self.start.map(|(m, b)| (m.clone(), b)), self.progress, self.sample_size)
    }
}

impl<'a> FitOptions<'a, Mixture> {
    /// Warm start from a previous [`Fit`] (its mixture and final lower bound).
    pub fn warm_start_from(self, previous: &'a Fit) -> Self {
        self.warm_start(&previous.mixture, previous.info.lower_bound)
    }
}

/// A progress observer, if any.
pub(crate) type Observer<'a> = Option<&'a mut dyn FnMut(&Progress)>;

/// How [`drive`] begins: a warm start (model, its lower bound) or none, and an observer.
pub(crate) type Begin<'a, M> = (Option<(M, f64)>, Observer<'a>);

/// The warm start (owned) and the observer of `options`, as [`drive`] takes them.
pub(crate) fn start_and_progress<M: Clone>(options: FitOptions<'_, M>) -> Begin<'_, M> {
    let (start, progress, _) = options.into_parts();
    (start, progress)
}

/// A model the driver fits: how the pass reads it, and its M-step. EM's [`Mixture`] and the
/// variational mixture are the two; each adds only its formulas.
pub(crate) trait Model: Clone + Send {
    /// `(kind, K, D)`.
    fn shape(&self) -> (CovarianceType, usize, usize);
    /// The parameters as the kernels read them (and whether the pass sums `r log r`).
    fn prepare(&self, prepared: &mut Prepared);
    /// Whether what culling left out cannot change this model's M-step beyond rounding
    /// (EM: every component's skipped mass below 1e-13 of its own; a model with priors may
    /// measure it against what the prior adds).
    fn culling_was_exact(&self, stats: &SuffStats) -> bool {
        stats.culling_was_exact()
    }
    /// The M-step in place from the E-step's statistics (around this model's means, total
    /// weight `total_weight`); `e_step_bound` is the mean log-likelihood the E-step found.
    /// Returns the iteration's lower bound.
    fn update(
        &mut self,
        stats: &SuffStats,
        total_weight: f64,
        e_step_bound: f64,
        reg_covar: f64,
        scratch: &mut MStepScratch,
    ) -> Result<f64>;
}

impl Model for Mixture {
    fn shape(&self) -> (CovarianceType, usize, usize) {
        (self.covariance_type(), self.n_components(), self.n_features())
    }

    fn prepare(&self, prepared: &mut Prepared) {
        crate::pass::run::refresh(prepared, self);
    }

    /// EM's lower bound is the E-step's: the mean log-likelihood of the parameters that entered.
    fn update(
        &mut self,
        stats: &SuffStats,
        _: f64,
        e_step_bound: f64,
        reg_covar: f64,
        scratch: &mut MStepScratch,
    ) -> Result<f64> {
        // The statistics were accumulated around the means that entered.
        let mut shifts = std::mem::take(&mut scratch.shifts);
        shifts.clear();
        shifts.extend_from_slice(self.means_slice());
        let result = m_step(stats, &shifts, reg_covar, WeightNorm::SumOfCounts, self, scratch);
        scratch.shifts = shifts;
        result.map(|()| e_step_bound)
    }
}

/// Where the data of a fit come from, as the driver sees them: an initialisation and a pass.
pub(crate) trait Source<M: Model> {
    /// The source's own failure (I/O, another engine's); core errors convert into it.
    type Error: From<Error>;
    /// Whether the pass culls (exactly) for this data and model shape.
    fn culls(&self) -> bool;
    /// The first model of run `run` (0-based).
    fn initial_mixture(&mut self, run: usize) -> std::result::Result<M, Self::Error>;
    /// One pass: the statistics of all the data under `model`, kept for [`Source::statistics`].
    fn pass(&mut self, model: &M, cull: bool) -> std::result::Result<(), Self::Error>;
    /// The last pass's statistics, with sample weights rescaled to average 1 per row, and
    /// that rescaled total weight.
    fn statistics(&self) -> (&SuffStats, f64);

    /// Runs `run(source, index, model)` for every model of `starts` (index = the run) and
    /// returns the outcomes in run order. By default one after another on this source; a
    /// source with idle cores may run them at once, each on a source of its own, since a run's
    /// result never depends on how many threads its passes use.
    fn runs<R: Send>(
        &mut self,
        starts: Vec<M>,
        run: &RunFn<'_, M, R, Self::Error>,
    ) -> Vec<RunResult<R, Self::Error>>
    where
        Self: Sized,
    {
        starts.into_iter().enumerate().map(|(index, model)| run(self, index, model)).collect()
    }
}

/// One run of EM on a source (a [`Source::runs`] argument).
pub(crate) type RunFn<'r, M, R, E> =
    dyn Fn(&mut dyn Source<M, Error = E>, usize, M) -> RunResult<R, E> + Sync + 'r;

/// A run's outcome, or its source's error.
pub(crate) type RunResult<R, E> = std::result::Result<R, E>;

/// What one EM run (one initialisation) ends with.
pub(crate) struct Run<M> {
    mixture: M,
    lower_bound: f64,
    lower_bounds: Vec<f64>,
    n_iter: usize,
    converged: bool,
}

/// The E-step: one pass over the source under `model` (again without culling if culling lost
/// mass), leaving the statistics in the source; returns the lower bound of `model`.
pub(crate) fn e_step<M: Model, S: Source<M> + ?Sized>(
    source: &mut S,
    model: &M,
) -> std::result::Result<f64, S::Error> {
    let cull = source.culls();
    source.pass(model, cull)?;
    if cull && !model.culling_was_exact(source.statistics().0) {
        // A component lost a non-negligible share to culling (it is nearly empty): this
        // iteration is computed in full.
        source.pass(model, false)?;
    }
    let (stats, total_weight) = source.statistics();
    let lower_bound = stats.log_lik / total_weight;
    if !lower_bound.is_finite() {
        return Err(Error::NonFiniteLikelihood.into());
    }
    Ok(lower_bound)
}

/// One EM iteration in place: returns its lower bound (the model's own definition).
fn iterate<M: Model, S: Source<M> + ?Sized>(
    source: &mut S,
    model: &mut M,
    reg_covar: f64,
    scratch: &mut MStepScratch,
) -> std::result::Result<f64, S::Error> {
    let e_step_bound = e_step(source, model)?;
    let (stats, total_weight) = source.statistics();
    Ok(model.update(stats, total_weight, e_step_bound, reg_covar, scratch)?)
}

/// scikit-learn's iteration loop for one run, from `model`: iterate until the lower bound
/// changes by less than `tol`, or `max_iter` times.
fn run_em<M: Model, S: Source<M> + ?Sized>(
    spec: &GaussianMixture,
    source: &mut S,
    (run, n_runs): (usize, usize),
    mut model: M,
    start_bound: f64,
    observer: &mut dyn FnMut(&Progress),
) -> std::result::Result<Run<M>, S::Error> {
    let (_, k, d) = model.shape();
    let mut scratch = MStepScratch::new(k, d);
    let mut lower_bound = start_bound;
    let (mut lower_bounds, mut converged, mut n_iter) = (Vec::new(), false, 0);
    for iteration in 1..=spec.max_iter {
        let previous = lower_bound;
        lower_bound = iterate(source, &mut model, spec.reg_covar, &mut scratch)?;
        lower_bounds.push(lower_bound);
        n_iter = iteration;
        let change = lower_bound - previous;
        observer(&Progress { run, n_runs, iteration, max_iter: spec.max_iter, lower_bound, change });
        if change.abs() < spec.tol {
            converged = true;
            break;
        }
    }
    if spec.max_iter == 0 {
        lower_bound = f64::NEG_INFINITY;
    }
    Ok(Run { mixture: model, lower_bound, lower_bounds, n_iter, converged })
}

/// Runs EM on `source`: `n_init` runs (one from a warm start), the best kept as scikit-learn
/// keeps it (the highest final lower bound; while the best is `-inf`, as with `max_iter = 0`,
/// the latest run). `init_time` is what the caller already spent preparing the initialisation.
pub(crate) fn drive<M: Model, S: Source<M>>(
    spec: &GaussianMixture,
    source: &mut S,
    (start, progress): Begin<'_, M>,
    mut init_time: Duration,
) -> std::result::Result<(M, FitInfo), S::Error> {
    let mut ignore = |_: &Progress| {};
    // Runs report progress in order, so a watched fit runs them one after another.
    let watched = progress.is_some();
    let observer: &mut dyn FnMut(&Progress) = match progress {
        Some(observer) => observer,
        None => &mut ignore,
    };
    let n_runs = if start.is_some() { 1 } else { spec.n_init };
    let mut best: Option<(Run<M>, usize)> = None;
    let (mut run_lower_bounds, mut total_iter, mut em_time) = (Vec::new(), 0, Duration::ZERO);
    let mut keep = |outcome: Run<M>, run: usize| {
        run_lower_bounds.push(outcome.lower_bound);
        total_iter += outcome.n_iter;
        let better = match &best {
            None => true,
            Some((b, _)) => outcome.lower_bound > b.lower_bound || b.lower_bound == f64::NEG_INFINITY,
        };
        if better {
            best = Some((outcome, run));
        }
    };
    if start.is_none() && !watched && n_runs > 1 {
        // Every run's start first, in run order (the same draws as one run after another:
        // EM itself draws nothing), then the runs, at once where the source has idle cores.
        let t0 = Instant::now();
        let starts =
            (0..n_runs).map(|run| source.initial_mixture(run)).collect::<std::result::Result<Vec<M>, _>>()?;
        init_time += t0.elapsed();
        let t1 = Instant::now();
        let each = |source: &mut dyn Source<M, Error = S::Error>, run: usize, model: M| {
            run_em(spec, source, (run, n_runs), model, f64::NEG_INFINITY, &mut |_: &Progress| {})
        };
        let outcomes = source.runs(starts, &each);
        em_time += t1.elapsed();
        for (run, outcome) in outcomes.into_iter().enumerate() {
            keep(outcome?, run);
        }
    } else {
        for run in 0..n_runs {
            let t0 = Instant::now();
            let model = match &start {
                Some((m, _)) => m.clone(),
                None => source.initial_mixture(run)?,
            };
            init_time += t0.elapsed();
            let t1 = Instant::now();
            let start_bound = start.as_ref().map_or(f64::NEG_INFINITY, |(_, lb)| *lb);
            let outcome = run_em(spec, source, (run, n_runs), model, start_bound, observer)?;
            em_time += t1.elapsed();
            keep(outcome, run);
        }
    }
    let Some((Run { mixture, lower_bound, lower_bounds, n_iter, converged }, best_run)) = best else {
        // n_init >= 1 is validated, so there was a run.
        return Err(Error::InvalidParameter {
            name: "n_init",
            value: n_runs.to_string(),
            expected: "n_init must be >= 1.",
        }
        .into());
    };
    let info = FitInfo {
        converged,
        n_iter,
        lower_bound,
        lower_bounds,
        run_lower_bounds,
        best_run,
        init_time,
        em_time,
        total_iter,
    };
    Ok((mixture, info))
}

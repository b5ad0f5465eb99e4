//! The EM driver: `n_init` runs, convergence, the best run, and a final E-step.
//!
//! Each iteration is one fused pass over the data (E-step + the M-step's statistics, see
//! [`crate::estep`]) followed by the M-step on `O(K D^2)` numbers. The lower bound reported for
//! iteration `t` is the mean (weighted) log-likelihood under the parameters that entered it, as
//! in scikit-learn; a run converges when it changes by less than `tol`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use ndarray::{ArrayView1, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::{Chunked, Element};
use crate::error::{Error, Result};
use crate::estep::{EmBlock, Prepared, ScoreOutput, Scratch, SuffStats};
use crate::estimator::{GaussianMixture, Progress};
use crate::kernels::dispatch;
use crate::model::{Fit, FitInfo, Mixture};
use crate::mstep::{m_step, MStepScratch, WeightNorm};
use crate::parallel::Parallel;
use crate::{init, validate};

/// Everything an EM iteration needs, sized once per fit.
pub(crate) struct Workspace {
    prepared: Prepared,
    scratch: Vec<Mutex<Scratch>>,
    block_stats: Vec<SuffStats>,
    total: SuffStats,
    mstep: MStepScratch,
}

impl Workspace {
    pub(crate) fn new(model: &Mixture, data: &Chunked, par: &Parallel, cull: bool) -> Workspace {
        let (kind, k, d) = (model.covariance_type(), model.n_components(), model.n_features());
        let mut prepared = Prepared::new(kind, k, d);
        prepared.cull = cull;
        Workspace {
            prepared,
            scratch: (0..par.n_threads()).map(|_| Mutex::new(Scratch::new(k, d))).collect(),
            block_stats: vec![SuffStats::new(kind, k, d); data.n_blocks()],
            total: SuffStats::new(kind, k, d),
            mstep: MStepScratch::new(k, d),
        }
    }

    /// One EM iteration in place; returns the lower bound of the parameters that entered it.
    pub(crate) fn iterate(
        &mut self,
        data: &Chunked,
        model: &mut Mixture,
        reg_covar: f64,
        par: &Parallel,
    ) -> Result<f64> {
        self.prepared.update(model);
        self.pass(data, par);
        if self.prepared.cull && !self.total.culling_was_exact() {
            // A component lost a non-negligible share to culling (it is nearly empty):
            // this iteration is computed in full.
            self.prepared.cull = false;
            self.pass(data, par);
            self.prepared.cull = true;
        }
        let lower_bound = self.total.log_lik / data.total_weight;
        if !lower_bound.is_finite() {
            return Err(Error::NonFiniteLikelihood);
        }
        m_step(
            &self.total,
            &self.prepared.means,
            reg_covar,
            WeightNorm::SumOfCounts,
            model,
            &mut self.mstep,
        )?;
        Ok(lower_bound)
    }
}

impl Workspace {
    /// The fused pass over all blocks, reduced in block order into `self.total`.
    fn pass(&mut self, data: &Chunked, par: &Parallel) {
        let (prepared, scratch) = (&self.prepared, &self.scratch);
        par.for_each(&mut self.block_stats, |b, stats| {
            stats.clear();
            let mut scratch = scratch[par.worker()].lock().expect("not poisoned");
            dispatch(EmBlock { prepared, data, range: data.block_chunks(b), scratch: &mut scratch, stats })
        });
        self.total.clear();
        for b in &self.block_stats {
            self.total.add(b);
        }
    }
}

/// Labels (`argmax_k` of the weighted log-densities) of every row, in parallel blocks.
pub(crate) fn labels(model: &Mixture, data: &Chunked, par: &Parallel, cull: bool) -> Vec<usize> {
    let mut prepared = Prepared::new(model.covariance_type(), model.n_components(), model.n_features());
    prepared.cull = cull;
    prepared.update(model);
    let block_rows = crate::data::BLOCK_CHUNKS * crate::data::CHUNK;
    let mut out = vec![0.0; data.n];
    let mut blocks: Vec<&mut [f64]> = out.chunks_mut(block_rows).collect();
    let scratch: Vec<Mutex<Scratch>> = (0..par.n_threads())
        .map(|_| Mutex::new(Scratch::new(model.n_components(), model.n_features())))
        .collect();
    par.for_each(&mut blocks, |b, rows| {
        let mut scratch = scratch[par.worker()].lock().expect("not poisoned");
        dispatch(crate::estep::ScoreBlock {
            prepared: &prepared,
            data,
            range: data.block_chunks(b),
            scratch: &mut scratch,
            what: ScoreOutput::Label,
            out: rows,
        })
    });
    let mut labels = vec![0; data.n];
    for (position, v) in out.into_iter().enumerate() {
        labels[data.original_row(position)] = v as usize;
    }
    labels
}

/// What one EM run (one initialisation) ends with.
pub(crate) struct Run {
    pub mixture: Mixture,
    pub lower_bound: f64,
    pub lower_bounds: Vec<f64>,
    pub n_iter: usize,
    pub converged: bool,
}

/// scikit-learn's iteration loop: from `model`, call `iterate` (one E-step + M-step in place,
/// returning the lower bound of the parameters that entered it) until the lower bound changes
/// by less than `tol`, or `max_iter` times. Shared by the in-memory and streaming drivers.
pub(crate) fn run_em<E>(
    spec: &GaussianMixture,
    (run, n_runs): (usize, usize),
    mut model: Mixture,
    start_bound: f64,
    iterate: &mut dyn FnMut(&mut Mixture) -> std::result::Result<f64, E>,
    observer: &mut dyn FnMut(&Progress),
) -> std::result::Result<Run, E> {
    let mut lower_bound = start_bound;
    let (mut lower_bounds, mut converged, mut n_iter) = (Vec::new(), false, 0);
    for iteration in 1..=spec.max_iter {
        let previous = lower_bound;
        lower_bound = iterate(&mut model)?;
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

/// The best of several runs, kept as scikit-learn keeps them.
#[derive(Default)]
pub(crate) struct BestRun {
    best: Option<(Run, usize)>,
    run_lower_bounds: Vec<f64>,
    total_iter: usize,
}

impl BestRun {
    pub(crate) fn offer(&mut self, index: usize, run: Run) {
        self.run_lower_bounds.push(run.lower_bound);
        self.total_iter += run.n_iter;
        // A run is kept when it beats the best so far, or while the best is -inf (so with
        // max_iter = 0 the last run's initialisation is returned).
        let keep = match &self.best {
            None => true,
            Some((best, _)) => run.lower_bound > best.lower_bound || best.lower_bound == f64::NEG_INFINITY,
        };
        if keep {
            self.best = Some((run, index));
        }
    }

    /// (best run, its index, every run's final lower bound, iterations over all runs).
    pub(crate) fn finish(self) -> (Run, usize, Vec<f64>, usize) {
        let (best, index) = self.best.expect("at least one run");
        (best, index, self.run_lower_bounds, self.total_iter)
    }
}

/// Validates everything, then runs EM (`start`: warm start from a model and its lower bound).
pub(crate) fn fit<T: Element>(
    spec: &GaussianMixture,
    x: ArrayView2<T>,
    sample_weight: Option<ArrayView1<f64>>,
    start: Option<(&Mixture, f64)>,
    observer: &mut dyn FnMut(&Progress),
) -> Result<Fit> {
    spec.validate()?;
    validate::data(x)?;
    let (n, d) = x.dim();
    let effective = match sample_weight {
        Some(w) => validate::sample_weight(w, n)?,
        None => n,
    };
    if let Some((m, _)) = start {
        if m.n_features() != d {
            return Err(Error::DimensionMismatch { expected: m.n_features(), found: d });
        }
    } else {
        if effective < spec.n_components {
            return Err(Error::TooFewSamples { n_samples: effective, n_components: spec.n_components });
        }
        spec.validate_inits(d)?;
    }
    let k = start.map_or(spec.n_components, |(m, _)| m.n_components());
    // Culling pays where components are local in space: low dimensions, several components.
    let cull = spec.culling && d <= 3 && k >= 4;
    let par = Parallel::new(spec.n_threads)?;
    let data =
        if cull { Chunked::new_spatial(x, sample_weight, &par) } else { Chunked::new(x, sample_weight) };
    let mut rng = match spec.random_state {
        Some(seed) => ChaCha8Rng::seed_from_u64(seed),
        None => ChaCha8Rng::from_os_rng(),
    };
    let n_runs = if start.is_some() { 1 } else { spec.n_init };
    let mut runs = BestRun::default();
    let (mut init_time, mut em_time) = (Duration::ZERO, Duration::ZERO);
    let mut workspace: Option<Workspace> = None;
    for run in 0..n_runs {
        let t0 = Instant::now();
        let model = match start {
            Some((m, _)) => m.clone(),
            None => init::initial_mixture(spec, &data, &mut rng, &par)?,
        };
        init_time += t0.elapsed();
        let t1 = Instant::now();
        let ws = workspace.get_or_insert_with(|| Workspace::new(&model, &data, &par, cull));
        let start_bound = start.map_or(f64::NEG_INFINITY, |(_, lb)| lb);
        let mut iterate = |m: &mut Mixture| ws.iterate(&data, m, spec.reg_covar, &par);
        let outcome = run_em(spec, (run, n_runs), model, start_bound, &mut iterate, observer)?;
        em_time += t1.elapsed();
        runs.offer(run, outcome);
    }
    let (best, best_run, run_lower_bounds, total_iter) = runs.finish();
    let Run { mixture, lower_bound, lower_bounds, n_iter, converged } = best;
    let t2 = Instant::now();
    let labels =
        if spec.final_labels { labels(&mixture, &data, &par, cull).into() } else { Default::default() };
    em_time += t2.elapsed();
    Ok(Fit {
        mixture,
        info: FitInfo {
            converged,
            n_iter,
            lower_bound,
            lower_bounds,
            run_lower_bounds,
            best_run,
            init_time,
            em_time,
            total_iter,
        },
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::CovarianceType;
    use crate::datasets;
    use crate::estimator::InitParams;

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
                .max_iter(0);
            let start = spec.fit(x.view(), None).unwrap().mixture;
            let par = Parallel::new(Some(2)).unwrap();
            let data = Chunked::new_spatial(x.view(), None, &par);
            let (mut culled, mut full) = (start.clone(), start);
            let mut ws_culled = Workspace::new(&culled, &data, &par, true);
            let mut ws_full = Workspace::new(&full, &data, &par, false);
            for iteration in 0..25 {
                let lb_c = ws_culled.iterate(&data, &mut culled, 1e-6, &par).unwrap();
                let lb_f = ws_full.iterate(&data, &mut full, 1e-6, &par).unwrap();
                assert!(
                    ws_culled.total.culled_pairs > 0,
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
                    assert_eq!(labels(&culled, &data, &par, true), labels(&culled, &data, &par, false));
                }
            }
        }
    }
}

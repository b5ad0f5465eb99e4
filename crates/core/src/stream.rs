//! Streaming EM: fit data that need not fit in memory, from a [`RowSource`] that hands over
//! its rows block by block, once per pass.
//!
//! ```text
//! init:   one pass keeps a uniform reservoir sample of at most `sample_size` rows (all rows,
//!         in order, when there are fewer) and initialises on it as the in-memory fit would
//! EM:     per iteration one pass: s = sum_blocks statistics(block | theta)  (crate::blockwise),
//!         theta' = m_step(s); stop when the mean lower bound changes by less than `tol`
//! ```
//! Memory is `O(block + sample_size D)`, whatever the number of rows. From the same initial
//! mixture the iterates equal the in-memory fit's ([`GaussianMixture::fit_from`]) up to the
//! rounding of a different summation order (tested to 1e-10 relative); when every row fits in
//! the reservoir and `n_init = 1`, the initialisation is the in-memory one too.
//!
//! ```
//! use einmix::stream::{self, Blocks};
//! use einmix::{GaussianMixture, InitParams};
//! use ndarray::Array2;
//!
//! let x = Array2::from_shape_fn((3000, 2), |(i, j)| (i % 3) as f64 * 5.0 + ((i * 7 + j * 3) % 13) as f64 / 13.0);
//! let spec = GaussianMixture::new(3).init_params(InitParams::KMeansPlusPlus).random_state(1);
//! let streamed = stream::fit(&spec, &mut Blocks::new(x.view(), None, 700), None, &mut |_| {})?;
//! let in_memory = spec.fit(x.view(), None)?;
//! assert_eq!(streamed.info.n_iter, in_memory.info.n_iter);
//! assert!((streamed.info.lower_bound - in_memory.info.lower_bound).abs() < 1e-10);
//! # Ok::<(), einmix::Error>(())
//! ```

use std::time::{Duration, Instant};

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::blockwise::{m_step_from_statistics, BlockStatistics};
use crate::em::{run_em, BestRun, Run};
use crate::error::{Error, Result};
use crate::estimator::{GaussianMixture, Progress};
use crate::model::{FitInfo, Mixture};

/// Rows of the reservoir sample the initialisation runs on.
pub const DEFAULT_SAMPLE_SIZE: usize = 200_000;

/// What a [`RowSource`] calls on each block: the rows `(rows, D)` and their weights, if any.
pub type OnBlock<'a> = dyn FnMut(ArrayView2<f64>, Option<ArrayView1<f64>>) -> Result<()> + 'a;

/// A source of rows that can be passed over any number of times, always in the same blocks
/// and order (a file read chunk by chunk, a memory map, a list of arrays).
pub trait RowSource {
    /// The source's own failure (I/O, parsing); core errors convert into it.
    type Error: From<Error>;
    /// Number of features `D` of every row.
    fn n_features(&self) -> usize;
    /// Calls `f` on consecutive blocks of rows (`(rows, D)`, with their weights if any) that
    /// together cover every row once.
    fn for_each_block(&mut self, f: &mut OnBlock<'_>) -> std::result::Result<(), Self::Error>;
}

/// An in-memory array handed over `rows` at a time: for tests, and a model of a source.
pub struct Blocks<'a> {
    x: ArrayView2<'a, f64>,
    w: Option<ArrayView1<'a, f64>>,
    rows: usize,
}

impl<'a> Blocks<'a> {
    /// Blocks of `rows` rows (at least 1) of `x` and its weights.
    pub fn new(x: ArrayView2<'a, f64>, w: Option<ArrayView1<'a, f64>>, rows: usize) -> Blocks<'a> {
        Blocks { x, w, rows: rows.max(1) }
    }
}

impl RowSource for Blocks<'_> {
    type Error = Error;
    fn n_features(&self) -> usize {
        self.x.ncols()
    }
    fn for_each_block(&mut self, f: &mut OnBlock<'_>) -> Result<()> {
        let n = self.x.nrows();
        let mut start = 0;
        while start < n {
            let end = (start + self.rows).min(n);
            f(self.x.slice(s![start..end, ..]), self.w.map(|w| w.slice_move(s![start..end])))?;
            start = end;
        }
        Ok(())
    }
}

/// What a streamed fit returns: the mixture and its report (no labels: they would be `O(N)`).
#[derive(Debug, Clone)]
pub struct StreamFit {
    /// The fitted mixture.
    pub mixture: Mixture,
    /// Convergence, lower bounds, timings.
    pub info: FitInfo,
}

/// A uniform sample of the rows (Vitter's algorithm R), their weights, and what one pass
/// learns about the whole source.
struct Reservoir {
    rows: Vec<f64>,
    weights: Vec<f64>,
    seen: usize,
    positive: usize,
}

fn reservoir<S: RowSource>(
    source: &mut S,
    capacity: usize,
    seed: u64,
) -> std::result::Result<Reservoir, S::Error> {
    let d = source.n_features();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut r = Reservoir { rows: Vec::new(), weights: Vec::new(), seen: 0, positive: 0 };
    let mut weighted = false;
    source.for_each_block(&mut |x, w| {
        if x.ncols() != d {
            return Err(Error::DimensionMismatch { expected: d, found: x.ncols() });
        }
        crate::validate::finite_2d(x, crate::error::Input::X)?;
        weighted |= w.is_some();
        for (i, row) in x.outer_iter().enumerate() {
            let wt = w.map_or(1.0, |w| w[i]);
            if !wt.is_finite() {
                let what = if wt.is_nan() { "NaN" } else { "infinity" };
                return Err(Error::NonFinite {
                    input: crate::error::Input::SampleWeight,
                    what,
                    row: r.seen,
                    column: 0,
                });
            }
            if wt < 0.0 {
                return Err(Error::NegativeWeight { row: r.seen, value: wt });
            }
            r.positive += (wt > 0.0) as usize;
            let slot = if r.seen < capacity {
                r.rows.extend(row.iter());
                r.weights.push(wt);
                None
            } else {
                let j = rng.random_range(0..=r.seen);
                (j < capacity).then_some(j)
            };
            if let Some(j) = slot {
                r.rows[j * d..(j + 1) * d].iter_mut().zip(row).for_each(|(a, b)| *a = *b);
                r.weights[j] = wt;
            }
            r.seen += 1;
        }
        Ok(())
    })?;
    if !weighted {
        r.weights.clear();
    }
    Ok(r)
}

/// Fits `spec` by streamed EM over `source` (see the module docs). `start`: warm start from a
/// mixture and its lower bound (one run, no initialisation pass). `observer` sees every
/// iteration. Sample weights are used as the in-memory fit uses them (rescaled to mean 1).
pub fn fit<S: RowSource>(
    spec: &GaussianMixture,
    source: &mut S,
    start: Option<(&Mixture, f64)>,
    observer: &mut dyn FnMut(&Progress),
) -> std::result::Result<StreamFit, S::Error> {
    fit_with_sample_size(spec, source, start, DEFAULT_SAMPLE_SIZE, observer)
}

/// [`fit`] with the reservoir's size chosen (at least `n_components` rows).
pub fn fit_with_sample_size<S: RowSource>(
    spec: &GaussianMixture,
    source: &mut S,
    start: Option<(&Mixture, f64)>,
    sample_size: usize,
    observer: &mut dyn FnMut(&Progress),
) -> std::result::Result<StreamFit, S::Error> {
    spec.validate()?;
    let d = source.n_features();
    let seed = spec.random_state.unwrap_or_else(|| ChaCha8Rng::from_os_rng().random());
    let t0 = Instant::now();
    let (n_runs, sample) = match start {
        Some((m, _)) => {
            if m.n_features() != d {
                return Err(Error::DimensionMismatch { expected: m.n_features(), found: d }.into());
            }
            (1, None)
        }
        None => {
            spec.validate_inits(d)?;
            let r = reservoir(source, sample_size.max(spec.n_components), seed ^ 0x5eed_5a3b_1e00_0001)?;
            if r.seen == 0 {
                return Err(Error::EmptyData { n_samples: 0, n_features: d }.into());
            }
            if r.positive == 0 {
                return Err(Error::ZeroWeights { n_samples: r.seen }.into());
            }
            if r.positive < spec.n_components {
                return Err(
                    Error::TooFewSamples { n_samples: r.positive, n_components: spec.n_components }.into()
                );
            }
            (spec.n_init, Some(r))
        }
    };
    let mut init_time = t0.elapsed();
    let mut em_time = Duration::ZERO;
    let mut runs = BestRun::default();
    for run in 0..n_runs {
        let t0 = Instant::now();
        let model = match (start, &sample) {
            (Some((m, _)), _) => m.clone(),
            (None, Some(r)) => {
                let x = Array2::from_shape_vec((r.rows.len() / d, d), r.rows.clone()).expect("shape");
                let w = (!r.weights.is_empty()).then(|| Array1::from(r.weights.clone()));
                // The initialisation alone: max_iter = 0 returns it. Run r uses the seed the
                // in-memory fit uses for a single run, moved on by r.
                let init = spec.clone().max_iter(0).n_init(1).random_state(seed.wrapping_add(run as u64));
                init.fit(x.view(), w.as_ref().map(|w| w.view()))?.mixture
            }
            (None, None) => unreachable!("a sample is drawn when there is no start"),
        };
        init_time += t0.elapsed();
        let t1 = Instant::now();
        let mut engine = BlockStatistics::new(&model, spec.n_threads)?;
        // Blocks come in file order: sorted, their chunks are compact and culling pays.
        engine.set_sort_rows(true);
        let layout = engine.layout();
        let start_bound = start.map_or(f64::NEG_INFINITY, |(_, lb)| lb);
        let mut iterate = |model: &mut Mixture| -> std::result::Result<f64, S::Error> {
            engine.set_mixture(model)?;
            let mut total = vec![0.0; layout.len()];
            source.for_each_block(&mut |x, w| engine.add_block(x, w, &mut total))?;
            if engine.cull() && !layout.culling_was_exact(&total) {
                // As the in-memory driver: a nearly empty component lost a non-negligible
                // share to culling, so this iteration is computed in full.
                engine.set_cull(false);
                total.fill(0.0);
                source.for_each_block(&mut |x, w| engine.add_block(x, w, &mut total))?;
                engine.set_cull(true);
            }
            let (next, bound) = m_step_from_statistics(model, &total, spec.reg_covar)?;
            *model = next;
            Ok(bound)
        };
        let outcome = run_em(spec, (run, n_runs), model, start_bound, &mut iterate, observer)?;
        em_time += t1.elapsed();
        runs.offer(run, outcome);
    }
    let (best, best_run, run_lower_bounds, total_iter) = runs.finish();
    let Run { mixture, lower_bound, lower_bounds, n_iter, converged } = best;
    Ok(StreamFit {
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::CovarianceType;
    use crate::datasets;
    use crate::estimator::InitParams;

    fn max_rel(a: &Mixture, b: &Mixture) -> f64 {
        let flat = |m: &Mixture| -> Vec<f64> {
            m.weights().iter().chain(m.means().iter()).chain(m.covariances().iter()).copied().collect()
        };
        let (a, b) = (flat(a), flat(b));
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        a.iter().zip(&b).map(|(x, y)| (x - y).abs() / y.abs().max(1e-3 * scale)).fold(0.0, f64::max)
    }

    /// The streamed fit is the in-memory fit: same initialisation (every row in the
    /// reservoir), same iterations, parameters to 1e-10, for every kind and block size.
    #[test]
    fn streamed_fit_equals_the_in_memory_fit() {
        let (_, x) = datasets::seed_workload(5_000, 8, 4);
        let w = Array1::from_shape_fn(x.nrows(), |i| 1.0 + (i % 5) as f64);
        for kind in CovarianceType::ALL {
            for weights in [None, Some(w.view())] {
                let spec = GaussianMixture::new(8).covariance_type(kind).random_state(9).tol(1e-6);
                let reference = spec.fit(x.view(), weights).unwrap();
                for rows in [1usize << 20, 999, 4096] {
                    let got =
                        fit(&spec, &mut Blocks::new(x.view(), weights, rows), None, &mut |_| {}).unwrap();
                    assert_eq!(got.info.n_iter, reference.info.n_iter, "{kind} rows {rows}");
                    let rel = max_rel(&got.mixture, &reference.mixture);
                    assert!(rel <= 1e-10, "{kind} rows {rows} weighted {}: {rel}", weights.is_some());
                }
            }
        }
    }

    #[test]
    fn a_sample_smaller_than_the_data_still_fits_well() {
        let (truth, x) = datasets::seed_workload(20_000, 5, 1);
        let spec = GaussianMixture::new(5).init_params(InitParams::KMeans).random_state(2);
        let got =
            fit_with_sample_size(&spec, &mut Blocks::new(x.view(), None, 3000), None, 2_000, &mut |_| {})
                .unwrap();
        let reference = spec.fit(x.view(), None).unwrap();
        assert!(got.info.converged);
        assert!(got.info.lower_bound > reference.info.lower_bound - 0.05, "{:?}", got.info.lower_bound);
        assert_eq!(got.mixture.n_components(), truth.n_components());
    }

    #[test]
    fn errors_are_reported() {
        let x = Array2::<f64>::zeros((0, 2));
        let spec = GaussianMixture::new(2);
        let err = fit(&spec, &mut Blocks::new(x.view(), None, 10), None, &mut |_| {}).unwrap_err();
        assert!(matches!(err, Error::EmptyData { .. }));
        let x = Array2::from_shape_fn((3, 2), |(i, _)| i as f64);
        let err = fit(&GaussianMixture::new(4), &mut Blocks::new(x.view(), None, 2), None, &mut |_| {})
            .unwrap_err();
        assert!(matches!(err, Error::TooFewSamples { .. }));
    }
}

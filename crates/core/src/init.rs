//! Initial parameters, as scikit-learn makes them: responsibilities from the chosen method,
//! one M-step from those, then any user-given `weights_init` / `means_init` / `precisions_init`
//! replace the estimates.
//!
//! - `kmeans`: hard responsibilities from weighted k-means (k-means++ seeding + Lloyd);
//! - `k-means++`: one point per component, chosen by weighted greedy k-means++;
//! - `random`: uniform random responsibilities, normalised per point;
//! - `random_from_data`: one point per component, drawn without replacement with probability
//!   proportional to its weight.
//!
//! With a single point per component the initial covariance is `reg_covar * I` and the weights
//! are normalised to sum to 1 (scikit-learn leaves them summing to K/N, which shifts only the
//! first lower bound).

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::chunks::{Chunked, Scratch, CHUNK};
use crate::covariance::{accumulate_chunk, CovarianceType, SuffStats};
use crate::error::Result;
use crate::estimator::{GaussianMixture, InitParams};
use crate::kernels::{dispatch, Arith, Kernel};
use crate::kmeans;
use crate::model::Mixture;
use crate::mstep::{m_step, MStepScratch, WeightNorm};
use crate::parallel::Parallel;
use crate::pass::run::{reduce_blocks, worker_scratch};

/// Where the initial responsibilities come from.
enum Responsibilities<'a> {
    /// One label per row: `r_ik = [label_i == k]`.
    Labels(&'a [u32]),
    /// One row per component: `r_ik = [i == rows[k]]`.
    Rows(&'a [usize]),
    /// Uniform random, normalised per row; each chunk draws from its own stream of `seed`.
    Random(u64),
}

impl Responsibilities<'_> {
    /// Fills `lp[k][lane]` with `r_ik` for the rows of chunk `c`.
    fn fill(&self, c: usize, k: usize, lp: &mut [f64]) {
        match self {
            Responsibilities::Labels(labels) => {
                lp.fill(0.0);
                for i in 0..CHUNK {
                    let l = labels[c * CHUNK + i];
                    if (l as usize) < k {
                        lp[l as usize * CHUNK + i] = 1.0;
                    }
                }
            }
            Responsibilities::Rows(rows) => {
                lp.fill(0.0);
                for (comp, &row) in rows.iter().enumerate() {
                    if row / CHUNK == c {
                        lp[comp * CHUNK + row % CHUNK] = 1.0;
                    }
                }
            }
            Responsibilities::Random(seed) => {
                let mut rng = ChaCha8Rng::seed_from_u64(*seed);
                rng.set_stream(c as u64);
                for i in 0..CHUNK {
                    let mut sum = 0.0;
                    for comp in 0..k {
                        let u: f64 = rng.random();
                        lp[comp * CHUNK + i] = u;
                        sum += u;
                    }
                    for comp in 0..k {
                        lp[comp * CHUNK + i] /= sum;
                    }
                }
            }
        }
    }
}

struct RespBlock<'a> {
    kind: CovarianceType,
    k: usize,
    data: &'a Chunked,
    range: std::ops::Range<usize>,
    resp: &'a Responsibilities<'a>,
    shifts: &'a [f64],
    scratch: &'a mut Scratch,
    stats: &'a mut SuffStats,
}

impl Kernel for RespBlock<'_> {
    type Output = ();
    #[inline(always)]
    fn run<A: Arith>(self) {
        for c in self.range {
            let (xs, w) = self.data.chunk(c);
            self.resp.fill(c, self.k, &mut self.scratch.lp);
            self.scratch.scale.copy_from_slice(w);
            let form = self.kind.form(xs.len() / CHUNK);
            accumulate_chunk::<A>(self.kind, form, self.shifts, xs, self.scratch, self.stats);
        }
    }
}

/// Weighted statistics of given responsibilities around `shifts`, reduced in block order.
fn statistics(
    kind: CovarianceType,
    k: usize,
    data: &Chunked,
    resp: &Responsibilities,
    shifts: &[f64],
    par: &Parallel,
) -> SuffStats {
    let d = data.d;
    match resp {
        Responsibilities::Labels(labels) => {
            let pairs = (0..data.n).map(|pos| (pos, labels[pos] as usize));
            return hard_statistics(kind, k, data, pairs, shifts, false);
        }
        Responsibilities::Rows(rows) => {
            let pairs = rows.iter().enumerate().map(|(comp, &pos)| (pos, comp));
            // One point per component: each chosen row counts once, whatever its weight, as a row
            // repeated w times would be chosen once (so the initial mixing weights are 1/K).
            return hard_statistics(kind, k, data, pairs, shifts, true);
        }
        Responsibilities::Random(_) => {}
    }
    let scratch = worker_scratch(par, k, d);
    let mut blocks = vec![SuffStats::new(kind, k, d); data.n_blocks()];
    let mut total = SuffStats::new(kind, k, d);
    reduce_blocks(data, par, &scratch, &mut blocks, &mut total, |range, scratch, stats| {
        dispatch(RespBlock { kind, k, data, range, resp, shifts, scratch, stats })
    });
    total
}

/// Statistics of hard assignments, point by point: `O(N D^2)` instead of the dense
/// `O(N K D^2)` pass, for the k-means and one-point initialisations.
fn hard_statistics(
    kind: CovarianceType,
    k: usize,
    data: &Chunked,
    pairs: impl Iterator<Item = (usize, usize)>,
    shifts: &[f64],
    count_rows_once: bool,
) -> SuffStats {
    let d = data.d;
    let mut stats = SuffStats::new(kind, k, d);
    let (mut point, mut dx) = (vec![0.0; d], vec![0.0; d]);
    for (pos, comp) in pairs {
        let w = data.weight(pos);
        if comp >= k || w == 0.0 {
            continue;
        }
        let w = if count_rows_once { 1.0 } else { w };
        point.iter_mut().enumerate().for_each(|(j, p)| *p = data.value(pos, j));
        stats.add_point(kind, comp, w, &point, &shifts[comp * d..(comp + 1) * d], &mut dx);
    }
    stats
}

/// The statistics of the initial responsibilities (scikit-learn's `resp` from `init_params`),
/// around the initial means: `(statistics, shifts, how EM normalises the first weights)`.
pub(crate) fn initial_statistics(
    spec: &GaussianMixture,
    data: &Chunked,
    rng: &mut ChaCha8Rng,
    par: &Parallel,
) -> (SuffStats, Vec<f64>, WeightNorm) {
    let (k, d, kind) = (spec.n_components, data.d, spec.covariance_type);
    let labels;
    let rows;
    let (resp, norm) = match spec.init_params {
        InitParams::KMeans => {
            labels = kmeans::kmeans(data, k, rng, par);
            (Responsibilities::Labels(&labels), WeightNorm::TotalWeight(data.total_weight))
        }
        InitParams::KMeansPlusPlus => {
            rows = kmeans::kmeans_plusplus(data, k, rng, par);
            (Responsibilities::Rows(&rows), WeightNorm::SumOfCounts)
        }
        InitParams::Random => {
            (Responsibilities::Random(rng.next_u64()), WeightNorm::TotalWeight(data.total_weight))
        }
        InitParams::RandomFromData => {
            rows = weighted_rows_without_replacement(data, k, rng);
            (Responsibilities::Rows(&rows), WeightNorm::SumOfCounts)
        }
    };
    // Two passes: means (around 0), then the scatter around those means.
    let zeros = vec![0.0; k * d];
    let first = statistics(kind, k, data, &resp, &zeros, par);
    let shifts: Vec<f64> =
        (0..k * d).map(|at| first.sx[at] / (first.sr[at / d] + crate::mstep::EMPTY_GUARD)).collect();
    let second = statistics(kind, k, data, &resp, &shifts, par);
    (second, shifts, norm)
}

/// The initial mixture for one run.
pub(crate) fn initial_mixture(
    spec: &GaussianMixture,
    data: &Chunked,
    rng: &mut ChaCha8Rng,
    par: &Parallel,
) -> Result<Mixture> {
    let (k, d, kind) = (spec.n_components, data.d, spec.covariance_type);
    let mut model = Mixture::zeros(kind, k, d);
    let all_given =
        spec.weights_init.is_some() && spec.means_init.is_some() && spec.precisions_init.is_some();
    if !all_given {
        let (stats, shifts, norm) = initial_statistics(spec, data, rng, par);
        let mut scratch = MStepScratch::new(k, d);
        m_step(&stats, &shifts, spec.reg_covar, norm, &mut model, &mut scratch)?;
    }
    let parts = model.parts_mut();
    if let Some(w) = &spec.weights_init {
        parts.weights.iter_mut().zip(w.iter()).for_each(|(a, b)| *a = *b);
    }
    if let Some(m) = &spec.means_init {
        parts.means.iter_mut().zip(m.iter()).for_each(|(a, b)| *a = *b);
    }
    if let Some(p) = &spec.precisions_init {
        let flat: Vec<f64> = p.iter().copied().collect();
        let (chol, cov) = kind.factor_precisions(&flat, k, d)?;
        parts.precisions_cholesky.copy_from_slice(&chol);
        parts.covariances.copy_from_slice(&cov);
    }
    Ok(model)
}

/// `k` distinct rows, drawn with probability proportional to their weight (Efraimidis &
/// Spirakis 2006: the `k` largest keys `u^(1/w)`, compared as `ln(u) / w`).
fn weighted_rows_without_replacement(data: &Chunked, k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = (0..data.n)
        .filter(|&r| data.weight(r) > 0.0)
        .map(|r| {
            let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            (u.ln() / data.weight(r), r)
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().take(k).map(|(_, r)| r).collect()
}

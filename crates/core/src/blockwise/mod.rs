//! Engine-neutral EM kernels: what one block of rows contributes to an iteration, as one flat
//! vector that any engine (a loop over a file, Dask, Ray, MPI, Spark) sums and hands back.
//!
//! ```text
//! block b:  s_b = [ sum_i w_i r_ik | sum_i w_i r_ik (x_i - c_k) | sum_i w_i r_ik (x_i - c_k)(x_i - c_k)^T
//!                 | sum_i w_i log p(x_i) | sum_i w_i | n_b | skipped_k ]
//! engine:   s = sum_b s_b            (any association; the result moves by rounding only)
//! M-step:   theta' = m_step(s, c)    with c_k = the means of the parameters that entered
//! ```
//!
//! The shift `c_k` is the current mean, so the scatter is centred and nothing cancels (see
//! [`crate::mstep`]). Sample weights are used raw in the blocks; the M-step rescales the summed
//! statistics once by `n / sum_i w_i`, which is exactly what the in-memory fit does to every
//! weight (rows average weight 1, see `Chunked`), so a blockwise fit reproduces the in-memory
//! iterates up to the rounding of a different summation order. `skipped_k` bounds the mass
//! culling left out; [`Layout::culling_was_exact`] on the sum says whether the iteration must
//! be redone without culling (as the in-memory driver does).
//!
//! k-means|| initialisation (Bahmani, Moseley, Vattani, Kumar and Vassilvitskii, *Scalable
//! K-Means++*, VLDB 2012) comes in the same per-block pieces: [`min_sq_distances`] (cost pass,
//! incremental), [`sample_candidates`] (each row kept with probability `min(1, l w_i d_i^2 / phi)`),
//! [`candidate_weights`], then [`reduce_candidates`] (weighted k-means++ and Lloyd on the few
//! candidates, locally) and [`hard_statistics`] + [`mixture_from_hard_statistics`] for the
//! first mixture. Every random choice is a function of `(seed, block index, round)` only.
//!
//! ```
//! use einmix::blockwise::{block_statistics, m_step_from_statistics, Layout};
//! use einmix::{GaussianMixture, InitParams};
//! use ndarray::Array2;
//!
//! let x = Array2::from_shape_fn((1000, 2), |(i, j)| (i % 2) as f64 * 6.0 + ((i * 7 + j * 3) % 11) as f64 / 11.0);
//! let start = GaussianMixture::new(2).init_params(InitParams::KMeansPlusPlus).random_state(0).max_iter(0)
//!     .fit(x.view(), None)?.mixture;
//! // Two blocks, summed by the "engine", then one M-step.
//! let layout = Layout::of(&start);
//! let mut total = vec![0.0; layout.len()];
//! for rows in [0..300, 300..1000] {
//!     let s = block_statistics(&start, x.slice(ndarray::s![rows, ..]), None)?;
//!     einmix::blockwise::add(&mut total, &s)?;
//! }
//! let (next, lower_bound) = m_step_from_statistics(&start, &total, 1e-6)?;
//! let one = GaussianMixture::new(2).max_iter(1);
//! let reference = one.fit_with(x.view(), None, einmix::FitOptions::new().warm_start(&start, f64::NEG_INFINITY))?;
//! assert!((next.means()[[0, 0]] - reference.mixture.means()[[0, 0]]).abs() < 1e-12);
//! assert!((lower_bound - reference.info.lower_bound).abs() < 1e-12);
//! # Ok::<(), einmix::Error>(())
//! ```

mod kmeans_parallel;

use std::sync::Mutex;

use ndarray::{ArrayView1, ArrayView2};

use crate::chunks::{spatial_order as order_rows, Chunked, Scratch, WeightScale};
use crate::covariance::{CovarianceType, Prepared, SuffStats};
use crate::error::{Error, Input, Result};
use crate::model::Mixture;
use crate::mstep::{m_step, MStepScratch, WeightNorm};
use crate::parallel::Parallel;
use crate::pass::run::{em_statistics, refresh, worker_scratch};
use crate::validate;

pub use crate::chunks::Element;
pub use kmeans_parallel::{
    candidate_weights, hard_statistics, min_sq_distances, mixture_from_hard_statistics, reduce_candidates,
    sample_candidates, spatial_order, weighted_row,
};

/// Where each statistic sits in the flat vector of a mixture of `K` components in `D`
/// dimensions: `[sr (K) | sx (K D) | scatter (S) | log_lik | total_weight | n_samples | skipped (K)]`,
/// with `S = K D D` (full, row-major per component, upper triangle used), `D D` (tied),
/// `K D` (diag, spherical: the squares); a mixture with a background adds one last value,
/// its weighted responsibility `sum_i w_i r_i0`.
///
/// ```
/// use einmix::blockwise::Layout;
/// use einmix::CovarianceType;
/// let l = Layout::new(CovarianceType::Full, 3, 2);
/// assert_eq!(l.len(), 3 + 6 + 12 + 3 + 3);
/// assert_eq!(l.log_lik(), 21);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    kind: CovarianceType,
    k: usize,
    d: usize,
    background: bool,
}

impl Layout {
    /// The layout for `k` components of kind `kind` in `d` dimensions.
    pub fn new(kind: CovarianceType, k: usize, d: usize) -> Layout {
        Layout { kind, k, d, background: false }
    }
    /// The layout of the statistics of `m` (with the background's slot if it has one).
    pub fn of(m: &Mixture) -> Layout {
        Layout {
            background: m.background().is_some(),
            ..Layout::new(m.covariance_type(), m.n_components(), m.n_features())
        }
    }
    fn scatter_len(&self) -> usize {
        self.kind.scatter_len(self.k, self.d)
    }
    /// Offset of `sum_i w_i r_ik (x_i - c_k)`.
    pub fn sx(&self) -> usize {
        self.k
    }
    /// Offset of the centred scatter.
    pub fn scatter(&self) -> usize {
        self.k + self.k * self.d
    }
    /// Offset of `sum_i w_i log p(x_i)`.
    pub fn log_lik(&self) -> usize {
        self.scatter() + self.scatter_len()
    }
    /// Offset of `sum_i w_i` (raw weights).
    pub fn total_weight(&self) -> usize {
        self.log_lik() + 1
    }
    /// Offset of the number of rows.
    pub fn n_samples(&self) -> usize {
        self.log_lik() + 2
    }
    /// Offset of the culling bounds (`K` values).
    pub fn skipped(&self) -> usize {
        self.log_lik() + 3
    }
    /// Offset of the background's weighted responsibility (the last value; only with a
    /// background).
    pub fn background(&self) -> usize {
        self.skipped() + self.k
    }
    /// Length of the vector.
    pub fn len(&self) -> usize {
        self.skipped() + self.k + usize::from(self.background)
    }
    /// Never: a layout has at least one component.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// Mean log-likelihood of the summed statistics (the lower bound of the parameters that
    /// produced them).
    pub fn lower_bound(&self, summed: &[f64]) -> f64 {
        summed[self.log_lik()] / summed[self.total_weight()]
    }
    /// Whether culling lost nothing that matters (every component's skipped mass below 1e-13
    /// of what it received, over all blocks); if not, compute the iteration again with
    /// culling off.
    pub fn culling_was_exact(&self, summed: &[f64]) -> bool {
        (0..self.k).all(|c| summed[self.skipped() + c] <= 1e-13 * summed[c])
    }

    fn check(&self, v: &[f64]) -> Result<()> {
        if v.len() != self.len() {
            return Err(Error::InvalidParameter {
                name: "statistics",
                value: format!("a vector of length {}", v.len()),
                expected: "the statistics vector must have the layout's length for this mixture.",
            });
        }
        Ok(())
    }

    /// Adds `stats` (plus the block's weight and row count) into `into`.
    pub(crate) fn push(&self, stats: &SuffStats, total_weight: f64, n: usize, into: &mut [f64]) {
        let parts: [(usize, &[f64]); 4] = [
            (0, &stats.sr),
            (self.sx(), &stats.sx),
            (self.scatter(), &stats.scatter),
            (self.skipped(), &stats.skipped),
        ];
        for (at, values) in parts {
            into[at..at + values.len()].iter_mut().zip(values).for_each(|(a, b)| *a += b);
        }
        into[self.log_lik()] += stats.log_lik;
        into[self.total_weight()] += total_weight;
        into[self.n_samples()] += n as f64;
        if self.background {
            into[self.background()] += stats.background;
        }
    }

    /// The summed statistics with weights rescaled to average 1 per row (as the in-memory fit
    /// uses them), and the rescaled total weight.
    fn unpack(&self, summed: &[f64]) -> (SuffStats, f64) {
        let (raw, n) = (summed[self.total_weight()], summed[self.n_samples()]);
        let factor = if raw != n && raw > 0.0 { n / raw } else { 1.0 };
        let mut s = SuffStats::new(self.kind, self.k, self.d);
        let scaled =
            |from: &[f64], to: &mut [f64]| to.iter_mut().zip(from).for_each(|(a, b)| *a = b * factor);
        scaled(&summed[..self.k], &mut s.sr);
        scaled(&summed[self.sx()..self.scatter()], &mut s.sx);
        scaled(&summed[self.scatter()..self.log_lik()], &mut s.scatter);
        s.log_lik = summed[self.log_lik()] * factor;
        if self.background {
            s.background = summed[self.background()] * factor;
        }
        (s, raw * factor)
    }
}

/// `acc += other`, entry by entry (the engine's reduction; any association will do). Vectors
/// of different lengths come from different layouts: an error, nothing added.
pub fn add(acc: &mut [f64], other: &[f64]) -> Result<()> {
    if acc.len() != other.len() {
        return Err(Error::InvalidParameter {
            name: "statistics",
            value: format!("vectors of lengths {} and {}", acc.len(), other.len()),
            expected: "statistics vectors summed together must come from the same layout.",
        });
    }
    acc.iter_mut().zip(other).for_each(|(a, b)| *a += b);
    Ok(())
}

/// Checks a block against the model's dimension: finite values, weights one per row,
/// finite and non-negative. An empty block is allowed (it contributes nothing).
pub(crate) fn check_block<T: Element>(x: ArrayView2<T>, w: Option<ArrayView1<f64>>, d: usize) -> Result<()> {
    if x.ncols() != d {
        return Err(Error::DimensionMismatch { expected: d, found: x.ncols() });
    }
    for (row, r) in x.outer_iter().enumerate() {
        for (column, &v) in r.iter().enumerate() {
            let v: f64 = v.into();
            if !v.is_finite() {
                let what = if v.is_nan() { "NaN" } else { "infinity" };
                return Err(Error::NonFinite { input: Input::X, what, row, column });
            }
        }
    }
    if let Some(w) = w {
        if x.nrows() > 0 {
            // Not-all-zero is a property of the whole data set, checked by the driver.
            match validate::sample_weight(w, x.nrows()) {
                Ok(_) | Err(Error::ZeroWeights { .. }) => {}
                Err(e) => return Err(e),
            }
        } else if !w.is_empty() {
            return Err(Error::WrongShape {
                input: Input::SampleWeight,
                expected: "(0,)".into(),
                found: format!("({},)", w.len()),
            });
        }
    }
    Ok(())
}

/// Whether the in-memory fit culls for this shape (the same rule as the EM driver).
pub(crate) fn culls(k: usize, d: usize) -> bool {
    d <= 3 && k >= 4
}

/// The E-step statistics engine: the model's parameters prepared once per iteration, scratch
/// sized once, and blocks of rows added into a flat vector (see [`Layout`]), each block split
/// into fixed sub-blocks run on `n_threads` and reduced in order.
pub struct BlockStatistics {
    layout: Layout,
    prepared: Prepared,
    par: Parallel,
    scratch: Vec<Mutex<Scratch>>,
    mixture: Mixture,
    sort_rows: bool,
}

impl BlockStatistics {
    /// An engine for mixtures shaped like `m`, with its parameters; `n_threads: None` uses
    /// every core. Culling is on where the in-memory fit uses it (`D <= 3`, `K >= 4`); it
    /// pays only when the rows of a block are spatially ordered (see [`spatial_order`]).
    pub fn new(m: &Mixture, n_threads: Option<usize>) -> Result<BlockStatistics> {
        let (kind, k, d) = (m.covariance_type(), m.n_components(), m.n_features());
        let par = Parallel::new(n_threads)?;
        let mut prepared = Prepared::new(kind, k, d);
        prepared.cull = culls(k, d);
        refresh(&mut prepared, m);
        let scratch = worker_scratch(&par, k, d);
        Ok(BlockStatistics {
            layout: Layout::of(m),
            prepared,
            par,
            scratch,
            mixture: m.clone(),
            sort_rows: false,
        })
    }

    /// The layout of the vectors this engine fills.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Turns culling on or off (on is exact, with the check of [`Layout::culling_was_exact`]).
    pub fn set_cull(&mut self, on: bool) {
        if on != self.prepared.cull {
            self.prepared.cull = on;
            if on {
                // Refresh the bounds culling reads.
                refresh(&mut self.prepared, &self.mixture);
            }
        }
    }

    /// Whether each block's rows are put in [`spatial_order`] before the pass (while culling
    /// is on): for blocks that arrive in no particular order, such as a file's. Costs a sort
    /// per block and pass; pays when `K` is large. Off by default.
    pub fn set_sort_rows(&mut self, on: bool) {
        self.sort_rows = on;
    }

    /// Whether culling is on.
    pub fn cull(&self) -> bool {
        self.prepared.cull
    }

    /// New parameters (same shape) for the next iteration.
    pub fn set_mixture(&mut self, m: &Mixture) -> Result<()> {
        if Layout::of(m) != self.layout {
            return Err(Error::DimensionMismatch { expected: self.layout.d, found: m.n_features() });
        }
        refresh(&mut self.prepared, m);
        self.mixture.clone_from(m);
        Ok(())
    }

    /// Adds the statistics of the rows `x` (weights `w`, raw) into `into`.
    pub fn add_block<T: Element>(
        &mut self,
        x: ArrayView2<T>,
        w: Option<ArrayView1<f64>>,
        into: &mut [f64],
    ) -> Result<()> {
        self.layout.check(into)?;
        check_block(x, w, self.layout.d)?;
        if x.nrows() == 0 {
            return Ok(());
        }
        let order = (self.sort_rows && self.prepared.cull).then(|| order_rows(x, None));
        let data = Chunked::build(x, w, order, WeightScale::Raw);
        let Layout { kind, k, d, .. } = self.layout;
        let mut blocks = vec![SuffStats::new(kind, k, d); data.n_blocks()];
        let mut total = SuffStats::new(kind, k, d);
        em_statistics(&self.prepared, &data, &self.par, &self.scratch, &mut blocks, &mut total);
        self.layout.push(&total, data.total_weight, data.n, into);
        Ok(())
    }
}

/// The statistics of one block under `m` on the calling thread (culling as the in-memory fit
/// decides; see [`BlockStatistics`] for control and reuse).
pub fn block_statistics<T: Element>(
    m: &Mixture,
    x: ArrayView2<T>,
    w: Option<ArrayView1<f64>>,
) -> Result<Vec<f64>> {
    let mut engine = BlockStatistics::new(m, Some(1))?;
    let mut out = vec![0.0; engine.layout().len()];
    engine.add_block(x, w, &mut out)?;
    Ok(out)
}

/// One M-step from statistics summed over every block under `previous` (whose means were the
/// shifts): the next mixture and the lower bound of `previous`. (The EM driver does this step
/// itself; this is for an engine that runs its own loop.)
pub fn m_step_from_statistics(previous: &Mixture, summed: &[f64], reg_covar: f64) -> Result<(Mixture, f64)> {
    let layout = Layout::of(previous);
    let (stats, total_weight) = unpack_checked(&layout, summed)?;
    let lower_bound = stats.log_lik / total_weight;
    if !lower_bound.is_finite() {
        return Err(Error::NonFiniteLikelihood);
    }
    let mut next = previous.clone();
    let mut scratch = MStepScratch::new(layout.k, layout.d);
    m_step(&stats, previous.means_slice(), reg_covar, WeightNorm::SumOfCounts, &mut next, &mut scratch)?;
    Ok((next, lower_bound))
}

/// The summed statistics checked (length, some rows, positive total weight) and unpacked with
/// weights rescaled to average 1 per row; and that rescaled total weight.
pub(crate) fn unpack_checked(layout: &Layout, summed: &[f64]) -> Result<(SuffStats, f64)> {
    layout.check(summed)?;
    let n = summed[layout.n_samples()] as usize;
    if n == 0 {
        return Err(Error::EmptyData { n_samples: 0, n_features: layout.d, min_samples: 1 });
    }
    let total = summed[layout.total_weight()];
    if total.is_nan() || total <= 0.0 {
        return Err(Error::ZeroWeights { n_samples: n });
    }
    Ok(layout.unpack(summed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets;
    use crate::estimator::{GaussianMixture, InitParams};
    use ndarray::{s, Array1};

    fn max_rel(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1e-3 * scale)).fold(0.0, f64::max)
    }

    fn flat(m: &Mixture) -> Array1<f64> {
        m.weights().iter().chain(m.means().iter()).chain(m.precisions_cholesky().iter()).copied().collect()
    }

    /// Blockwise EM, summed over uneven blocks (one smaller than K, one empty), reproduces the
    /// in-memory warm-started iterates to 1e-10 for every kind, weighted and not.
    #[test]
    fn blockwise_em_equals_the_in_memory_fit() {
        let (_, x) = datasets::seed_workload(6_000, 6, 2);
        let n = x.nrows();
        let weights = Array1::from_shape_fn(n, |i| 0.5 + (i % 7) as f64 * 0.37);
        for kind in CovarianceType::ALL {
            for w in [None, Some(weights.view())] {
                let start = GaussianMixture::new(6)
                    .covariance_type(kind)
                    .init_params(InitParams::KMeansPlusPlus)
                    .random_state(3)
                    .max_iter(0)
                    .fit(x.view(), w)
                    .unwrap()
                    .mixture;
                let spec = GaussianMixture::new(6).covariance_type(kind).max_iter(12).tol(0.0);
                let reference = spec
                    .fit_with(x.view(), w, crate::FitOptions::new().warm_start(&start, f64::NEG_INFINITY))
                    .unwrap();
                let cuts = [0, 3, 3, 1000, 4100, n];
                let mut m = start.clone();
                let mut engine = BlockStatistics::new(&m, Some(2)).unwrap();
                let mut lb = 0.0;
                for _ in 0..12 {
                    let mut total = vec![0.0; engine.layout().len()];
                    for pair in cuts.windows(2) {
                        let xb = x.slice(s![pair[0]..pair[1], ..]);
                        let wb = w.map(|w| w.slice_move(s![pair[0]..pair[1]]));
                        engine.add_block(xb, wb, &mut total).unwrap();
                    }
                    assert!(engine.layout().culling_was_exact(&total));
                    let (next, bound) = m_step_from_statistics(&m, &total, 1e-6).unwrap();
                    m = next;
                    lb = bound;
                    engine.set_mixture(&m).unwrap();
                }
                let rel = max_rel(flat(&m).view(), flat(&reference.mixture).view());
                assert!(rel <= 1e-10, "{kind} weighted={}: {rel}", w.is_some());
                assert!((lb - reference.info.lower_bound).abs() <= 1e-10 * lb.abs());
            }
        }
    }

    #[test]
    fn float32_blocks_give_the_statistics_of_their_float64_values() {
        let (_, x) = datasets::seed_workload(700, 3, 2);
        let x32 = x.mapv(|v| v as f32);
        let x64 = x32.mapv(|v| v as f64);
        let m = GaussianMixture::new(3).random_state(0).max_iter(2).fit(x64.view(), None).unwrap().mixture;
        let a = block_statistics(&m, x32.view(), None).unwrap();
        let b = block_statistics(&m, x64.view(), None).unwrap();
        assert_eq!(a, b);
        // A transposed (non-contiguous) view reads the same values.
        let t = x64.t().to_owned();
        assert_eq!(block_statistics(&m, t.t(), None).unwrap(), b);
    }

    #[test]
    fn kmeans_parallel_pieces_find_separated_centers() {
        let (truth, x) = datasets::seed_workload(4_000, 5, 2);
        let k = truth.n_components();
        let first = x
            .slice(s![weighted_row(x.nrows(), None, 0.3)..weighted_row(x.nrows(), None, 0.3) + 1, ..])
            .to_owned();
        let mut centers = first.clone();
        let mut d2 = min_sq_distances(x.view(), centers.view(), None).unwrap();
        for round in 0..5 {
            let cost = d2.sum();
            let new =
                sample_candidates(x.view(), None, d2.view(), 2.0 * k as f64, cost, 7, 0, round).unwrap();
            d2 = min_sq_distances(x.view(), new.view(), Some(d2.view())).unwrap();
            centers = ndarray::concatenate(ndarray::Axis(0), &[centers.view(), new.view()]).unwrap();
        }
        assert!(centers.nrows() > k);
        let weights = candidate_weights(x.view(), None, centers.view()).unwrap();
        assert_eq!(weights.sum(), x.nrows() as f64);
        let reduced = reduce_candidates(centers.view(), weights.view(), k, 1).unwrap();
        let stats = hard_statistics(CovarianceType::Full, reduced.view(), x.view(), None).unwrap();
        let m = mixture_from_hard_statistics(CovarianceType::Full, reduced.view(), &stats, 1e-6).unwrap();
        assert!((m.weights().sum() - 1.0).abs() < 1e-12);
        assert_eq!(spatial_order(x.view()).len(), x.nrows());
    }
}

//! The fused pass over a block of chunks: cull, log-densities, log-sum-exp, statistics (EM);
//! or cull, log-densities and a per-point output (scoring).

use super::background::{bounds_chunk, fill_terms};
use super::cull::cull;
use super::logsumexp::{background_responsibility, log_sum_exp_chunk, weighted_log_lik};
use crate::chunks::{Chunked, Scratch, CHUNK};
use crate::covariance::{accumulate_chunk, log_prob_chunk, Prepared, SuffStats};
use crate::kernels::{Arith, Kernel};

/// One block of the fused EM pass: statistics of chunks `range` into `stats`.
pub(crate) struct EmBlock<'a> {
    pub prepared: &'a Prepared,
    pub data: &'a Chunked,
    pub range: std::ops::Range<usize>,
    pub scratch: &'a mut Scratch,
    pub stats: &'a mut SuffStats,
}

impl Kernel for EmBlock<'_> {
    type Output = ();
    #[inline(always)]
    fn run<A: Arith>(self) {
        let p = self.prepared;
        if !p.cull {
            self.scratch.activate_all(p.k);
        }
        for c in self.range {
            let (xs, w) = self.data.chunk(c);
            if p.cull {
                cull(p, self.data, c, self.scratch, Some(&mut *self.stats));
            }
            let n_active = self.scratch.active.len();
            if n_active == 0 {
                if let Some(term) = bounds_chunk(p, self.data, c) {
                    // Every Gaussian culled and the chunk inside the background's box: each
                    // point's log-sum-exp is the background's term alone (its sum exactly 1),
                    // so the exponentials are skipped; what follows is the same arithmetic.
                    background_only(term, w, self.scratch, self.stats);
                    continue;
                }
            }
            log_prob_chunk::<A>(p, xs, self.scratch);
            let background = fill_terms(p, self.data, c, xs, self.scratch);
            log_sum_exp_chunk::<A>(n_active, w, self.scratch, background);
            self.stats.log_lik += weighted_log_lik(w, self.scratch);
            if background {
                self.stats.background += background_responsibility(self.scratch);
            }
            accumulate_chunk::<A>(p.kind, p.form, &p.means, xs, self.scratch, self.stats);
        }
    }
}

/// The statistics of a chunk whose points have the background's `term` alone: every point's
/// log-likelihood is `term` and its whole weight is the background's (what
/// [`log_sum_exp_chunk`] gives there, bit for bit, without its `exp` and `ln` per point).
#[inline(always)]
fn background_only(term: f64, w: &[f64], s: &mut Scratch, stats: &mut SuffStats) {
    s.log_lik[..CHUNK].fill(term);
    stats.log_lik += weighted_log_lik(w, s);
    s.background[..CHUNK].fill(1.0);
    s.scale[..CHUNK].copy_from_slice(&w[..CHUNK]);
    stats.background += background_responsibility(s);
}

/// What a scoring pass writes per point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScoreOutput {
    /// `log p(x_i)`, one value per point.
    LogLikelihood,
    /// Responsibilities, `K` values per point (row-major `N x K`).
    Responsibilities,
    /// `argmax_k log p_ik`, as f64, one per point.
    Label,
}

/// Scores chunks `range` and writes per-point results into `out` (the block's rows).
pub(crate) struct ScoreBlock<'a> {
    pub prepared: &'a Prepared,
    pub data: &'a Chunked,
    pub range: std::ops::Range<usize>,
    pub scratch: &'a mut Scratch,
    pub what: ScoreOutput,
    pub out: &'a mut [f64],
}

impl Kernel for ScoreBlock<'_> {
    type Output = ();
    #[inline(always)]
    fn run<A: Arith>(self) {
        let p = self.prepared;
        let first_row = self.range.start * CHUNK;
        let ones = [1.0; CHUNK];
        // Culling is exact for labels: a culled component's log-density is below the
        // maximum for every point, so it cannot be the argmax.
        let cull_labels = p.cull && self.what == ScoreOutput::Label;
        if !cull_labels {
            self.scratch.activate_all(p.k);
        }
        for c in self.range {
            let (xs, _) = self.data.chunk(c);
            if cull_labels {
                cull(p, self.data, c, self.scratch, None);
            }
            log_prob_chunk::<A>(p, xs, self.scratch);
            let background = fill_terms(p, self.data, c, xs, self.scratch);
            let len = self.data.chunk_len(c);
            let row0 = c * CHUNK - first_row;
            if self.what == ScoreOutput::Label {
                let s = &*self.scratch;
                for i in 0..len {
                    // The background is label K, chosen only where its term is strictly best.
                    let (mut label, mut top) = (p.k, f64::NEG_INFINITY);
                    for row in 0..s.active.len() {
                        if row == 0 || s.lp[row * CHUNK + i] > top {
                            (label, top) = (s.active[row], s.lp[row * CHUNK + i]);
                        }
                    }
                    if background && (s.active.is_empty() || s.background[i] > top) {
                        label = p.k;
                    }
                    self.out[row0 + i] = label as f64;
                }
                continue;
            }
            log_sum_exp_chunk::<A>(p.k, &ones, self.scratch, background);
            match self.what {
                ScoreOutput::LogLikelihood => {
                    self.out[row0..row0 + len].copy_from_slice(&self.scratch.log_lik[..len]);
                }
                ScoreOutput::Responsibilities => {
                    // A background's responsibility is the last column.
                    let stride = p.k + p.background_columns();
                    let s = &*self.scratch;
                    for i in 0..len {
                        for k in 0..p.k {
                            self.out[(row0 + i) * stride + k] = s.lp[k * CHUNK + i] * s.scale[i];
                        }
                        if stride > p.k {
                            self.out[(row0 + i) * stride + p.k] =
                                if background { s.background[i] * s.scale[i] } else { 0.0 };
                        }
                    }
                }
                ScoreOutput::Label => unreachable!(),
            }
        }
    }
}

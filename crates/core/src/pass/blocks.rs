//! The fused pass over a block of chunks: cull, log-densities, log-sum-exp, statistics (EM);
//! or cull, log-densities and a per-point output (scoring).

use super::cull::cull;
use super::logsumexp::{log_sum_exp_chunk, weighted_log_lik};
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
            log_prob_chunk::<A>(p, xs, self.scratch);
            log_sum_exp_chunk::<A>(n_active, w, self.scratch);
            self.stats.log_lik += weighted_log_lik(w, self.scratch);
            accumulate_chunk::<A>(p.kind, &p.means, xs, self.scratch, self.stats);
        }
    }
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
            let len = self.data.chunk_len(c);
            let row0 = c * CHUNK - first_row;
            if self.what == ScoreOutput::Label {
                let s = &*self.scratch;
                for i in 0..len {
                    let mut best = 0;
                    for row in 1..s.active.len() {
                        if s.lp[row * CHUNK + i] > s.lp[best * CHUNK + i] {
                            best = row;
                        }
                    }
                    self.out[row0 + i] = s.active[best] as f64;
                }
                continue;
            }
            log_sum_exp_chunk::<A>(p.k, &ones, self.scratch);
            match self.what {
                ScoreOutput::LogLikelihood => {
                    self.out[row0..row0 + len].copy_from_slice(&self.scratch.log_lik[..len]);
                }
                ScoreOutput::Responsibilities => {
                    for i in 0..len {
                        for k in 0..p.k {
                            self.out[(row0 + i) * p.k + k] =
                                self.scratch.lp[k * CHUNK + i] * self.scratch.scale[i];
                        }
                    }
                }
                ScoreOutput::Label => unreachable!(),
            }
        }
    }
}

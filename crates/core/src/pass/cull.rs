//! Culling: which components a chunk of nearby points can skip without changing the answer.
//!
//! For a box `B` holding the chunk's points and `t = x - mu_k`, with `a_kj <= b_kj` bounding
//! the precision `P_k` per feature (see `covariance::Prepared`):
//!
//! ```text
//! log p_ik <= c_k - 1/2 max(sum_j a_kj dist_j^2, max_j c_kj dist_j^2)   (dist_j(mu_k, B): to
//!                                                           the box along feature j)
//! log p_ik >= c_k - 1/2 sum_j b_kj far_j(mu_k, B)^2     (farthest corner)
//! ```
//! The best lower bound `L` bounds every point's maximum from below, so `r_ik <= exp(upper_k - L)`.

use crate::chunks::{Chunked, Scratch};
use crate::covariance::{Prepared, SuffStats};

/// Components whose responsibility in a chunk is below `exp(-CULL_MARGIN)` times that of the
/// best component, for every point of the chunk, are skipped: their terms cannot change a
/// double-precision log-sum-exp (K e^-50 < 1e-19 relative), and the statistics they would add
/// are bounded and checked afterwards (`SuffStats::culling_was_exact`): where the bound is not
/// negligible against a component's own total, the pass is redone without culling. The results
/// are therefore the unculled ones to ~1e-13 relative (the issue allows 1e-12).
pub(crate) const CULL_MARGIN: f64 = 50.0;

/// Chooses the components of chunk `c` worth evaluating into `s.active`, and adds an upper
/// bound on the weighted responsibility of each skipped one to `skipped`.
/// (The bounds are the module's equations.)
#[inline(always)]
pub(crate) fn cull(p: &Prepared, data: &Chunked, c: usize, s: &mut Scratch, stats: Option<&mut SuffStats>) {
    let d = p.d;
    let lo = &data.bounds[c * 2 * d..c * 2 * d + d];
    let hi = &data.bounds[c * 2 * d + d..(c + 1) * 2 * d];
    let upper = &mut s.upper;
    let mut best_lower = f64::NEG_INFINITY;
    for k in 0..p.k {
        let (mut near, mut far, mut near_axis) = (0.0, 0.0, 0.0f64);
        for j in 0..d {
            let m = p.means[k * d + j];
            let gap = (lo[j] - m).max(m - hi[j]).max(0.0);
            let span = (m - lo[j]).abs().max((hi[j] - m).abs());
            near += p.bound_min[k * d + j] * gap * gap;
            far += p.bound_max[k * d + j] * span * span;
            near_axis = near_axis.max(p.bound_axis[k * d + j] * gap * gap);
        }
        // Two lower bounds of the same quadratic: the larger is kept.
        let near = near.max(near_axis);
        upper[k] = p.log_const[k] - 0.5 * near;
        best_lower = best_lower.max(p.log_const[k] - 0.5 * far);
    }
    // A background covering the chunk is a term of every point's sum: a lower bound too. It
    // only culls more, and what it culls is negligible against the background's own term.
    if let Some(term) = super::background::bounds_chunk(p, data, c) {
        best_lower = best_lower.max(term);
    }
    s.active.clear();
    let w = data.chunk_weight[c];
    let mut stats = stats;
    for k in 0..p.k {
        if upper[k] >= best_lower - CULL_MARGIN || !best_lower.is_finite() {
            s.active.push(k);
        } else if let Some(stats) = stats.as_deref_mut() {
            // Below e^-700 the bound is under 1e-304 of the chunk's weight: nothing to add, and
            // `exp`'s slow underflow path (most culled pairs lie there) is not taken.
            let gap = upper[k] - best_lower;
            if gap > -700.0 {
                stats.skipped[k] += w * gap.exp();
            }
            stats.culled_pairs += 1;
        }
    }
}

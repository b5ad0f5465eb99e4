//! The background component's term in each point's log-sum-exp: `ln pi_0 - ln V` inside its
//! box, no term (`-inf`) outside (see `crate::background`).

use crate::chunks::{Chunked, Scratch, CHUNK};
use crate::covariance::Prepared;

/// Fills `s.background` with the background's log term for each lane of chunk `c` (points
/// `xs`, feature-major); returns false, filling nothing, when the model has no background.
#[inline(always)]
pub(crate) fn fill_terms(p: &Prepared, data: &Chunked, c: usize, xs: &[f64], s: &mut Scratch) -> bool {
    let Some(term) = p.background else { return false };
    let d = p.d;
    let (lo, hi) = (&data.bounds[c * 2 * d..c * 2 * d + d], &data.bounds[c * 2 * d + d..(c + 1) * 2 * d]);
    let lanes = &mut s.background[..CHUNK];
    if p.background_covers(lo, hi) {
        // Every point of the chunk is inside (always so for the data's own bounding box).
        lanes.fill(term);
        return true;
    }
    let (lower, upper) = p.background_box.split_at(d);
    for (i, lane) in lanes.iter_mut().enumerate() {
        let inside = (0..d).all(|j| {
            let v = xs[j * CHUNK + i];
            lower[j] <= v && v <= upper[j]
        });
        *lane = if inside { term } else { f64::NEG_INFINITY };
    }
    true
}

/// Whether the background's term is a lower bound on every point's largest term in chunk `c`
/// (the chunk's box lies inside the background's): then culling may use it.
#[inline(always)]
pub(crate) fn bounds_chunk(p: &Prepared, data: &Chunked, c: usize) -> Option<f64> {
    let term = p.background?;
    let d = p.d;
    let (lo, hi) = (&data.bounds[c * 2 * d..c * 2 * d + d], &data.bounds[c * 2 * d + d..(c + 1) * 2 * d]);
    p.background_covers(lo, hi).then_some(term)
}

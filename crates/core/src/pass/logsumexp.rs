//! The per-point log-sum-exp of a chunk, and the weighted log-likelihood it gives.
//!
//! ```text
//! log p(x_i) = logsumexp_k log p_ik = m_i + log sum_k exp(log p_ik - m_i),  m_i = max_k log p_ik
//! w_i r_ik   = exp(log p_ik - m_i) * w_i / sum_k exp(log p_ik - m_i)
//! ```

use crate::chunks::{lanes, lanes_mut, Scratch, CHUNK};
use crate::kernels::{exp_nonpositive, sum_lanes, Arith, LANES};

/// Log-sum-exp per point: replaces `s.lp` by `exp(lp - max)`, fills `s.log_lik` and
/// `s.scale = w / sum`, so that `w_i r_ik = s.lp[k][i] * s.scale[i]`. With `background`, the
/// terms in `s.background` (`-inf` for none) join the sum, last, and are replaced by their
/// exponentials the same way; `k` may then be 0 (every Gaussian culled).
#[inline(always)]
pub(crate) fn log_sum_exp_chunk<A: Arith>(k: usize, w: &[f64], s: &mut Scratch, background: bool) {
    let max: &mut [f64; CHUNK] = lanes_mut(&mut s.max, 0);
    if k > 0 {
        max.copy_from_slice(lanes(&s.lp, 0));
    } else {
        max.fill(f64::NEG_INFINITY);
    }
    for c in 1..k {
        let lp = lanes(&s.lp, c);
        for i in 0..CHUNK {
            max[i] = max[i].max(lp[i]);
        }
    }
    if background {
        let bg = lanes(&s.background, 0);
        for i in 0..CHUNK {
            max[i] = max[i].max(bg[i]);
        }
    }
    let sum: &mut [f64; CHUNK] = lanes_mut(&mut s.sum, 0);
    sum.fill(0.0);
    if !A::exp_rows(&mut s.lp[..k * CHUNK], max, sum) {
        for c in 0..k {
            let lp = lanes_mut(&mut s.lp, c);
            for i in 0..CHUNK {
                let e = exp_nonpositive::<A>(lp[i] - max[i]);
                lp[i] = e;
                sum[i] += e;
            }
        }
    }
    if background {
        let bg = lanes_mut(&mut s.background, 0);
        for i in 0..CHUNK {
            // Outside the box there is no term (not exp of -inf - max, which may be NaN).
            let e = if bg[i] == f64::NEG_INFINITY { 0.0 } else { exp_nonpositive::<A>(bg[i] - max[i]) };
            bg[i] = e;
            sum[i] += e;
        }
    }
    let w: &[f64; CHUNK] = lanes(w, 0);
    let (ll, scale) = (&mut s.log_lik, &mut s.scale);
    for i in 0..CHUNK {
        ll[i] = max[i] + ln_at_least_one::<A>(sum[i]);
        scale[i] = w[i] / sum[i];
    }
}

/// `sum_i w_i r_i0`: the background's weighted responsibility over the chunk, after
/// [`log_sum_exp_chunk`] with a background.
#[inline(always)]
pub(crate) fn background_responsibility(s: &Scratch) -> f64 {
    let (bg, scale) = (lanes(&s.background, 0), lanes(&s.scale, 0));
    let mut total = 0.0;
    for i in 0..CHUNK {
        total += bg[i] * scale[i];
    }
    total
}

/// `ln(x)` for `1 <= x < 2^1023`, vectorisable: `x = 2^e m` with `m` in `[sqrt(1/2), sqrt(2))`,
/// `ln m = 2 atanh(z)`, `z = (m - 1) / (m + 1)`, `|z| < 0.172`, by its odd series to `z^23`
/// (truncation below 1e-19 relative).
#[inline(always)]
pub(crate) fn ln_at_least_one<A: Arith>(x: f64) -> f64 {
    // fdlibm's ln2_hi and ln2_lo (bits 0x3fe62e42fee00000 and 0x3dea39ef35793c76).
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let bits = x.to_bits();
    // Exponent relative to sqrt(1/2): subtracting the bits of sqrt(1/2) puts the cut there.
    let offset = bits.wrapping_sub(0x3fe6_a09e_667f_3bcd);
    let e = ((offset as i64) >> 52) as f64;
    let m = f64::from_bits(bits.wrapping_sub(offset & 0xfff0_0000_0000_0000));
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    const INV_ODD: [f64; 12] = [
        1.0,
        1.0 / 3.0,
        1.0 / 5.0,
        1.0 / 7.0,
        1.0 / 9.0,
        1.0 / 11.0,
        1.0 / 13.0,
        1.0 / 15.0,
        1.0 / 17.0,
        1.0 / 19.0,
        1.0 / 21.0,
        1.0 / 23.0,
    ];
    let mut p = INV_ODD[11];
    for &c in INV_ODD[..11].iter().rev() {
        p = A::mul_add(p, z2, c);
    }
    let half_log_m = z * p;
    A::mul_add(e, LN2_HI, A::mul_add(e, LN2_LO, 2.0 * half_log_m))
}

/// `sum_i w_i log p(x_i)` over the chunk, in lane order.
#[inline(always)]
pub(crate) fn weighted_log_lik(w: &[f64], s: &Scratch) -> f64 {
    let mut acc = [0.0; LANES];
    for g in 0..CHUNK / LANES {
        for l in 0..LANES {
            let i = g * LANES + l;
            // A zero weight (padding) must contribute exactly zero.
            acc[l] += if w[i] == 0.0 { 0.0 } else { w[i] * s.log_lik[i] };
        }
    }
    sum_lanes(&acc)
}

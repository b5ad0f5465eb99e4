//! The one home of instruction-set dispatch and of `unsafe`.
//!
//! The hot loops elsewhere are written as plain safe Rust over contiguous slices, generic over
//! [`Arith`] and marked `#[inline(always)]`. Here they are instantiated inside functions compiled
//! for AVX-512 or AVX2+FMA and chosen at run time by CPU detection, so one portable binary
//! auto-vectorises to the widest vectors the machine has. (This is the multiversioning that
//! `pulp` and `multiversion` package; three hand-written wrappers are all we need.)
//!
//! Results depend only on the instruction set, never on the thread count: every reduction
//! is written with a fixed lane structure ([`LANES`] partial sums, combined in a fixed order).

#![allow(unsafe_code)]

use std::sync::OnceLock;

use crate::chunks::CHUNK;

/// Width of the partial-sum arrays used for reductions over points. Fixed, so a reduction's
/// rounding does not depend on the vector width the CPU happens to have.
pub(crate) const LANES: usize = 8;

/// How a multiply-add is performed: fused where the CPU has FMA, separate otherwise
/// (calling libm's software `fma` would be far slower than two roundings).
pub(crate) trait Arith: Copy {
    fn mul_add(a: f64, b: f64, c: f64) -> f64;

    /// One component's 2-D statistics over a chunk in [`LANES`] partial sums each (see
    /// [`Lanes2d`]), where this arithmetic has a hand-vectorised kernel for them; `None`
    /// where the generic loop serves (which computes the very same values).
    #[inline(always)]
    fn lane_sums_2d(_input: &Lanes2d<'_>) -> Option<[[f64; LANES]; 6]> {
        None
    }

    /// `row[i] = exp(row[i] - max[i])`, `sum[i] += row[i]` for each of the `CHUNK`-long rows
    /// of `rows`, by [`exp_nonpositive`]'s arithmetic, where this arithmetic has a
    /// hand-vectorised kernel for it (returns whether it ran; else the generic loop serves).
    #[inline(always)]
    fn exp_rows(_rows: &mut [f64], _max: &[f64; CHUNK], _sum: &mut [f64; CHUNK]) -> bool {
        false
    }
}

/// A chunk's inputs to one component's 2-D statistics: `r_i = e_i scale_i`,
/// `dx_i = x_i - mu`; the sums are `r`, `r dx_0`, `r dx_1`, `r dx_0 dx_0`, `r dx_0 dx_1`,
/// `r dx_1 dx_1`, point `i` going to partial sum `i % LANES`, in the order of the points.
pub(crate) struct Lanes2d<'a> {
    pub e: &'a [f64; CHUNK],
    pub scale: &'a [f64; CHUNK],
    pub x0: &'a [f64; CHUNK],
    pub x1: &'a [f64; CHUNK],
    pub mu: [f64; 2],
}

/// Fused multiply-add (one rounding).
#[derive(Clone, Copy)]
pub(crate) struct Fused;
/// Separate multiply and add (two roundings).
#[derive(Clone, Copy)]
pub(crate) struct Unfused;

impl Arith for Fused {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }

    #[inline(always)]
    fn lane_sums_2d(input: &Lanes2d<'_>) -> Option<[[f64; LANES]; 6]> {
        #[cfg(target_arch = "x86_64")]
        match level() {
            // SAFETY: `level()` is Avx512 only after detecting avx512f/dq/vl and fma.
            Level::Avx512 => return Some(unsafe { lane_sums_2d_avx512(input) }),
            // SAFETY: `level()` is Avx2 only after detecting avx2 and fma.
            Level::Avx2 => return Some(unsafe { lane_sums_2d_avx2(input) }),
            Level::Baseline => {}
        }
        let _ = input;
        None
    }

    #[inline(always)]
    fn exp_rows(rows: &mut [f64], max: &[f64; CHUNK], sum: &mut [f64; CHUNK]) -> bool {
        #[cfg(target_arch = "x86_64")]
        match level() {
            // SAFETY: `level()` is Avx512 only after detecting avx512f/dq/vl and fma.
            Level::Avx512 => return unsafe { exp_rows_avx512(rows, max, sum) },
            // SAFETY: `level()` is Avx2 only after detecting avx2 and fma.
            Level::Avx2 => return unsafe { exp_rows_avx2(rows, max, sum) },
            Level::Baseline => {}
        }
        let _ = (rows, max, sum);
        false
    }
}

/// [`Arith::exp_rows`] with AVX2 and FMA: [`exp_nonpositive`]'s operations on four vectors
/// at a time, so that four of its thirteen-step polynomial chains are in flight together
/// (one vector at a time, the loop waits on each chain's latency); the same operations per
/// value, so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn exp_rows_avx2(rows: &mut [f64], max: &[f64; CHUNK], sum: &mut [f64; CHUNK]) -> bool {
    use std::arch::x86_64::*;
    const WIDE: usize = 4;
    let floor = _mm256_set1_pd(-708.0);
    let (log2e, shifter) = (_mm256_set1_pd(std::f64::consts::LOG2_E), _mm256_set1_pd(SHIFTER));
    let (ln2_hi, ln2_lo) = (_mm256_set1_pd(LN2_HI), _mm256_set1_pd(LN2_LO));
    let coefficients: [__m256d; 13] = std::array::from_fn(|j| _mm256_set1_pd(EXP_TAYLOR[j]));
    let bias = _mm256_set1_epi64x(1023);
    for row in rows.chunks_exact_mut(CHUNK) {
        for g in 0..CHUNK / (4 * WIDE) {
            let at = g * 4 * WIDE;
            // SAFETY: `at + 4 * WIDE <= CHUNK`; `row`, `max` and `sum` hold CHUNK values.
            let load = |v: &[f64], j: usize| unsafe { _mm256_loadu_pd(v.as_ptr().add(at + 4 * j)) };
            let x: [__m256d; WIDE] = std::array::from_fn(|j| _mm256_sub_pd(load(row, j), load(max, j)));
            // `x < -708` is false for NaN, which so passes through as NaN.
            let below: [__m256d; WIDE] = std::array::from_fn(|j| _mm256_cmp_pd::<_CMP_LT_OQ>(x[j], floor));
            let clamped: [__m256d; WIDE] = std::array::from_fn(|j| _mm256_blendv_pd(x[j], floor, below[j]));
            let shifted: [__m256d; WIDE] =
                std::array::from_fn(|j| _mm256_fmadd_pd(clamped[j], log2e, shifter));
            let r: [__m256d; WIDE] = std::array::from_fn(|j| {
                let k = _mm256_sub_pd(shifted[j], shifter);
                _mm256_fnmadd_pd(k, ln2_lo, _mm256_fnmadd_pd(k, ln2_hi, clamped[j]))
            });
            let mut p = [coefficients[12]; WIDE];
            for c in coefficients[..12].iter().rev() {
                for j in 0..WIDE {
                    p[j] = _mm256_fmadd_pd(p[j], r[j], *c);
                }
            }
            for j in 0..WIDE {
                let scale = _mm256_castsi256_pd(_mm256_slli_epi64::<52>(_mm256_add_epi64(
                    _mm256_castpd_si256(shifted[j]),
                    bias,
                )));
                let e = _mm256_blendv_pd(_mm256_mul_pd(p[j], scale), _mm256_setzero_pd(), below[j]);
                // SAFETY: as for `load`.
                unsafe {
                    _mm256_storeu_pd(row.as_mut_ptr().add(at + 4 * j), e);
                    let total = _mm256_add_pd(load(sum, j), e);
                    _mm256_storeu_pd(sum.as_mut_ptr().add(at + 4 * j), total);
                }
            }
        }
    }
    true
}

/// [`Arith::exp_rows`] with AVX-512: [`exp_rows_avx2`]'s operations on eight lanes a vector,
/// the range checks as mask registers; the same operations per value, so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
unsafe fn exp_rows_avx512(rows: &mut [f64], max: &[f64; CHUNK], sum: &mut [f64; CHUNK]) -> bool {
    use std::arch::x86_64::*;
    const WIDE: usize = 4;
    const LANES_512: usize = 8;
    let floor = _mm512_set1_pd(-708.0);
    let (log2e, shifter) = (_mm512_set1_pd(std::f64::consts::LOG2_E), _mm512_set1_pd(SHIFTER));
    let (ln2_hi, ln2_lo) = (_mm512_set1_pd(LN2_HI), _mm512_set1_pd(LN2_LO));
    let coefficients: [__m512d; 13] = std::array::from_fn(|j| _mm512_set1_pd(EXP_TAYLOR[j]));
    let bias = _mm512_set1_epi64(1023);
    for row in rows.chunks_exact_mut(CHUNK) {
        for g in 0..CHUNK / (LANES_512 * WIDE) {
            let at = g * LANES_512 * WIDE;
            // SAFETY: `at + LANES_512 * WIDE <= CHUNK`; `row`, `max` and `sum` hold CHUNK values.
            let load = |v: &[f64], j: usize| unsafe { _mm512_loadu_pd(v.as_ptr().add(at + LANES_512 * j)) };
            let x: [__m512d; WIDE] = std::array::from_fn(|j| _mm512_sub_pd(load(row, j), load(max, j)));
            // `x < -708` is false for NaN, which so passes through as NaN.
            let below: [__mmask8; WIDE] =
                std::array::from_fn(|j| _mm512_cmp_pd_mask::<_CMP_LT_OQ>(x[j], floor));
            let clamped: [__m512d; WIDE] =
                std::array::from_fn(|j| _mm512_mask_blend_pd(below[j], x[j], floor));
            let shifted: [__m512d; WIDE] =
                std::array::from_fn(|j| _mm512_fmadd_pd(clamped[j], log2e, shifter));
            let r: [__m512d; WIDE] = std::array::from_fn(|j| {
                let k = _mm512_sub_pd(shifted[j], shifter);
                _mm512_fnmadd_pd(k, ln2_lo, _mm512_fnmadd_pd(k, ln2_hi, clamped[j]))
            });
            let mut p = [coefficients[12]; WIDE];
            for c in coefficients[..12].iter().rev() {
                for j in 0..WIDE {
                    p[j] = _mm512_fmadd_pd(p[j], r[j], *c);
                }
            }
            for j in 0..WIDE {
                let scale = _mm512_castsi512_pd(_mm512_slli_epi64::<52>(_mm512_add_epi64(
                    _mm512_castpd_si512(shifted[j]),
                    bias,
                )));
                let e = _mm512_mask_blend_pd(below[j], _mm512_mul_pd(p[j], scale), _mm512_setzero_pd());
                // SAFETY: as for `load`.
                unsafe {
                    _mm512_storeu_pd(row.as_mut_ptr().add(at + LANES_512 * j), e);
                    let total = _mm512_add_pd(load(sum, j), e);
                    _mm512_storeu_pd(sum.as_mut_ptr().add(at + LANES_512 * j), total);
                }
            }
        }
    }
    true
}

/// [`Arith::lane_sums_2d`] with AVX-512: one vector holds a group's [`LANES`] points, so the six
/// accumulators cover all the lanes in one sweep; the same operations per lane as the generic
/// loop, so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
unsafe fn lane_sums_2d_avx512(input: &Lanes2d<'_>) -> [[f64; LANES]; 6] {
    use std::arch::x86_64::*;
    const _: () = assert!(LANES == 8, "one 512-bit vector per group of lanes");
    let mut out = [[0.0; LANES]; 6];
    let (mu0, mu1) = (_mm512_set1_pd(input.mu[0]), _mm512_set1_pd(input.mu[1]));
    let mut acc = [_mm512_setzero_pd(); 6];
    for g in 0..CHUNK / LANES {
        let i = g * LANES;
        // SAFETY: `i + LANES <= CHUNK`, and every slice holds CHUNK values.
        let load = |v: &[f64; CHUNK]| unsafe { _mm512_loadu_pd(v.as_ptr().add(i)) };
        let r = _mm512_mul_pd(load(input.e), load(input.scale));
        let dx0 = _mm512_sub_pd(load(input.x0), mu0);
        let dx1 = _mm512_sub_pd(load(input.x1), mu1);
        let rdx0 = _mm512_mul_pd(r, dx0);
        let rdx1 = _mm512_mul_pd(r, dx1);
        acc[0] = _mm512_add_pd(acc[0], r);
        acc[1] = _mm512_add_pd(acc[1], rdx0);
        acc[2] = _mm512_add_pd(acc[2], rdx1);
        acc[3] = _mm512_fmadd_pd(rdx0, dx0, acc[3]);
        acc[4] = _mm512_fmadd_pd(rdx0, dx1, acc[4]);
        acc[5] = _mm512_fmadd_pd(rdx1, dx1, acc[5]);
    }
    for (sums, a) in out.iter_mut().zip(acc) {
        // SAFETY: `sums` holds LANES = 8 values.
        unsafe { _mm512_storeu_pd(sums.as_mut_ptr(), a) };
    }
    out
}

/// [`Arith::lane_sums_2d`] with AVX2 and FMA: the compiler's own vectorisation of this
/// reduction (six lane accumulators) shuffles and spills, so it is written out, two vectors
/// of four lanes per group of [`LANES`] points, each lane's sums taking the same operations in
/// the same order as the generic loop (so the same bits).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn lane_sums_2d_avx2(input: &Lanes2d<'_>) -> [[f64; LANES]; 6] {
    use std::arch::x86_64::*;
    let mut out = [[0.0; LANES]; 6];
    let (mu0, mu1) = (_mm256_set1_pd(input.mu[0]), _mm256_set1_pd(input.mu[1]));
    // One half of the lanes at a time: six accumulators stay in registers.
    for half in 0..2 {
        let mut acc = [_mm256_setzero_pd(); 6];
        for g in 0..CHUNK / LANES {
            let i = g * LANES + half * 4;
            // SAFETY: `i + 4 <= CHUNK`, and every slice holds CHUNK values.
            let load = |v: &[f64; CHUNK]| unsafe { _mm256_loadu_pd(v.as_ptr().add(i)) };
            let r = _mm256_mul_pd(load(input.e), load(input.scale));
            let dx0 = _mm256_sub_pd(load(input.x0), mu0);
            let dx1 = _mm256_sub_pd(load(input.x1), mu1);
            let rdx0 = _mm256_mul_pd(r, dx0);
            let rdx1 = _mm256_mul_pd(r, dx1);
            acc[0] = _mm256_add_pd(acc[0], r);
            acc[1] = _mm256_add_pd(acc[1], rdx0);
            acc[2] = _mm256_add_pd(acc[2], rdx1);
            acc[3] = _mm256_fmadd_pd(rdx0, dx0, acc[3]);
            acc[4] = _mm256_fmadd_pd(rdx0, dx1, acc[4]);
            acc[5] = _mm256_fmadd_pd(rdx1, dx1, acc[5]);
        }
        for (sums, a) in out.iter_mut().zip(acc) {
            // SAFETY: `half * 4 + 4 <= LANES`.
            unsafe { _mm256_storeu_pd(sums.as_mut_ptr().add(half * 4), a) };
        }
    }
    out
}
impl Arith for Unfused {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
}

/// A hot kernel, written once, compiled for each instruction set by [`dispatch`].
pub(crate) trait Kernel {
    type Output;
    fn run<A: Arith>(self) -> Self::Output;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Baseline,
}

fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Level::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                return Level::Avx2;
            }
        }
        Level::Baseline
    })
}

/// A short name of the instruction set the kernels run with on this CPU.
pub fn instruction_set() -> &'static str {
    match level() {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => "avx512",
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => "avx2+fma",
        Level::Baseline => "baseline",
    }
}

/// Runs `kernel` compiled for the best instruction set this CPU supports.
#[inline]
pub(crate) fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    match level() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level()` returned Avx512 only after detecting avx512f/dq/vl and fma.
        Level::Avx512 => unsafe { run_avx512(kernel) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level()` returned Avx2 only after detecting avx2 and fma.
        Level::Avx2 => unsafe { run_avx2(kernel) },
        Level::Baseline => run_baseline(kernel),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
unsafe fn run_avx512<K: Kernel>(kernel: K) -> K::Output {
    kernel.run::<Fused>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<K: Kernel>(kernel: K) -> K::Output {
    kernel.run::<Fused>()
}

fn run_baseline<K: Kernel>(kernel: K) -> K::Output {
    // aarch64 always has FMA; x86-64 without AVX2 may not.
    if cfg!(target_arch = "aarch64") {
        kernel.run::<Fused>()
    } else {
        kernel.run::<Unfused>()
    }
}

/// Sums the partial lanes in a fixed order.
#[inline(always)]
pub(crate) fn sum_lanes(acc: &[f64; LANES]) -> f64 {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// `ln 2` in two parts (Cody & Waite): `k ln2_hi` is exact for the `k` of [`exp_nonpositive`].
const LN2_HI: f64 = 6.931_471_803_691_238e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// `1.5 * 2^52`: adding it rounds to an integer held in the low mantissa bits.
const SHIFTER: f64 = 6_755_399_441_055_744.0;
/// `1 / j!` for `j = 0..=12`: `exp(r)`'s Taylor coefficients.
const EXP_TAYLOR: [f64; 13] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362880.0,
    1.0 / 3628800.0,
    1.0 / 39916800.0,
    1.0 / 479001600.0,
];

/// `exp(x)` for `x <= 0`, written so the compiler vectorises it (no table, no branch).
///
/// Range reduction `x = k ln2 + r`, `|r| <= ln2/2`, with `ln2` split in two parts (Cody & Waite)
/// so `r` is exact to double precision; `exp(r)` by its degree-12 Taylor polynomial (truncation
/// below 2e-16 relative on that interval); `2^k` built in the exponent bits. The round-to-integer
/// uses the 1.5 * 2^52 shifter trick, whose low mantissa bits then hold `k`.
/// Below -708 the true value is subnormal or zero (under 1e-307): it returns 0, which cannot
/// change a sum that contains the maximal term exp(0) = 1.
#[inline(always)]
pub(crate) fn exp_nonpositive<A: Arith>(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const C: [f64; 13] = EXP_TAYLOR;
    // Written as a comparison (not `max`) so that a NaN argument stays NaN.
    let clamped = if x < -708.0 { -708.0 } else { x };
    let shifted = A::mul_add(clamped, LOG2E, SHIFTER);
    let k = shifted - SHIFTER;
    let r = A::mul_add(-k, LN2_HI, clamped);
    let r = A::mul_add(-k, LN2_LO, r);
    let mut p = C[12];
    p = A::mul_add(p, r, C[11]);
    p = A::mul_add(p, r, C[10]);
    p = A::mul_add(p, r, C[9]);
    p = A::mul_add(p, r, C[8]);
    p = A::mul_add(p, r, C[7]);
    p = A::mul_add(p, r, C[6]);
    p = A::mul_add(p, r, C[5]);
    p = A::mul_add(p, r, C[4]);
    p = A::mul_add(p, r, C[3]);
    p = A::mul_add(p, r, C[2]);
    p = A::mul_add(p, r, C[1]);
    p = A::mul_add(p, r, C[0]);
    // k + 1023 lies in [1, 1023] for x in [-708, 0]: a normal power of two.
    let scale = f64::from_bits(shifted.to_bits().wrapping_add(1023) << 52);
    if x < -708.0 {
        0.0
    } else {
        p * scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct ExpMany<'a>(&'a [f64], &'a mut [f64]);
    impl Kernel for ExpMany<'_> {
        type Output = ();
        fn run<A: Arith>(self) {
            for (o, &x) in self.1.iter_mut().zip(self.0) {
                *o = exp_nonpositive::<A>(x);
            }
        }
    }

    fn max_relative_error(xs: &[f64], got: &[f64]) -> f64 {
        xs.iter()
            .zip(got)
            .filter(|(x, _)| **x >= -708.0)
            .map(|(x, g)| ((g - x.exp()) / x.exp()).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn vectorised_exp_matches_libm_to_two_ulps() {
        let xs: Vec<f64> = (0..200_001).map(|i| -708.0 * i as f64 / 200_000.0).collect();
        let mut got = vec![0.0; xs.len()];
        dispatch(ExpMany(&xs, &mut got));
        assert!(max_relative_error(&xs, &got) < 4.5e-16, "{}", max_relative_error(&xs, &got));
        let small: Vec<f64> = (0..10_001).map(|i| -1e-3 * i as f64 / 10_000.0).collect();
        let mut got_small = vec![0.0; small.len()];
        dispatch(ExpMany(&small, &mut got_small));
        assert!(max_relative_error(&small, &got_small) < 4.5e-16);
        assert_eq!(got[0], 1.0);
    }

    #[test]
    fn exp_unfused_matches_libm_too() {
        let xs: Vec<f64> = (0..50_001).map(|i| -700.0 * i as f64 / 50_000.0).collect();
        let got: Vec<f64> = xs.iter().map(|&x| exp_nonpositive::<Unfused>(x)).collect();
        assert!(max_relative_error(&xs, &got) < 4.5e-16);
    }

    #[test]
    fn exp_underflows_to_zero_not_nan() {
        for x in [-708.5, -745.0, -1e5, f64::NEG_INFINITY] {
            assert_eq!(exp_nonpositive::<Unfused>(x), 0.0);
        }
    }

    #[test]
    fn exp_of_nan_is_nan() {
        assert!(exp_nonpositive::<Unfused>(f64::NAN).is_nan());
        assert!(exp_nonpositive::<Fused>(f64::NAN).is_nan());
    }

    /// The hand-vectorised exponentials are the scalar formula's, bit for bit: values across
    /// the range, at and below the underflow cut, zero, and NaN.
    #[test]
    fn hand_vectorised_exponentials_equal_the_scalar_ones_bit_for_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let k = 3;
        let mut rows: Vec<f64> = (0..k * CHUNK).map(|_| rng.random_range(-760.0..0.0)).collect();
        let special = [0.0, -0.0, -708.0, -708.0000001, -707.9999999, -1e-300, -745.2, f64::NAN, -1e-9];
        for (i, v) in special.iter().enumerate() {
            rows[i * 29] = *v;
        }
        let max: [f64; CHUNK] =
            std::array::from_fn(|i| if i % 5 == 0 { 0.0 } else { rng.random_range(-2.0..0.0) });
        let start: [f64; CHUNK] = std::array::from_fn(|i| i as f64 * 0.25);
        let forms = exp_rows_forms();
        if forms.is_empty() {
            return; // no hand-vectorised kernel on this CPU: the generic loop is the only one
        }
        for (name, form) in forms {
            let (mut fast, mut fast_sum) = (rows.clone(), start);
            form(&mut fast, &max, &mut fast_sum);
            let mut sum = start;
            for (c, row) in rows.chunks_exact(CHUNK).enumerate() {
                for i in 0..CHUNK {
                    let e = exp_nonpositive::<Fused>(row[i] - max[i]);
                    assert_eq!(
                        fast[c * CHUNK + i].to_bits(),
                        e.to_bits(),
                        "{name}: row {c} value {i}: exp({})",
                        row[i] - max[i]
                    );
                    sum[i] += e;
                }
            }
            for i in 0..CHUNK {
                assert_eq!(fast_sum[i].to_bits(), sum[i].to_bits(), "{name}: sum {i}");
            }
        }
    }

    type ExpRows = Box<dyn Fn(&mut [f64], &[f64; CHUNK], &mut [f64; CHUNK])>;
    type LaneSums = Box<dyn Fn(&Lanes2d<'_>) -> [[f64; LANES]; 6]>;

    /// Every hand-vectorised `exp_rows` this CPU can run, by name (not only the dispatched one).
    fn exp_rows_forms() -> Vec<(&'static str, ExpRows)> {
        let mut forms: Vec<(&'static str, ExpRows)> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if level() != Level::Baseline {
                // SAFETY: avx2 and fma were detected (any level above baseline has them).
                forms.push(("avx2", Box::new(|r, m, s| _ = unsafe { exp_rows_avx2(r, m, s) })));
            }
            if level() == Level::Avx512 {
                // SAFETY: avx512f/dq/vl and fma were detected.
                forms.push(("avx512", Box::new(|r, m, s| _ = unsafe { exp_rows_avx512(r, m, s) })));
            }
        }
        forms
    }

    /// Every hand-vectorised `lane_sums_2d` this CPU can run, by name.
    fn lane_sums_forms() -> Vec<(&'static str, LaneSums)> {
        let mut forms: Vec<(&'static str, LaneSums)> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if level() != Level::Baseline {
                // SAFETY: avx2 and fma were detected.
                forms.push(("avx2", Box::new(|input| unsafe { lane_sums_2d_avx2(input) })));
            }
            if level() == Level::Avx512 {
                // SAFETY: avx512f/dq/vl and fma were detected.
                forms.push(("avx512", Box::new(|input| unsafe { lane_sums_2d_avx512(input) })));
            }
        }
        forms
    }

    /// The hand-vectorised 2-D statistics are the generic loop's, bit for bit.
    #[test]
    fn hand_vectorised_statistics_equal_the_plain_sums_bit_for_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let arr = |rng: &mut rand_chacha::ChaCha8Rng, lo: f64, hi: f64| -> [f64; CHUNK] {
            std::array::from_fn(|_| rng.random_range(lo..hi))
        };
        let (e, scale) = (arr(&mut rng, 0.0, 1.0), arr(&mut rng, 0.0, 3.0));
        let (x0, x1) = (arr(&mut rng, -50.0, 50.0), arr(&mut rng, -50.0, 50.0));
        let input = Lanes2d { e: &e, scale: &scale, x0: &x0, x1: &x1, mu: [3.5, -7.25] };
        let mut plain = [[0.0; LANES]; 6];
        for i in 0..CHUNK {
            let l = i % LANES;
            let r = e[i] * scale[i];
            let (d0, d1) = (x0[i] - 3.5, x1[i] + 7.25);
            let (rd0, rd1) = (r * d0, r * d1);
            plain[0][l] += r;
            plain[1][l] += rd0;
            plain[2][l] += rd1;
            plain[3][l] = rd0.mul_add(d0, plain[3][l]);
            plain[4][l] = rd0.mul_add(d1, plain[4][l]);
            plain[5][l] = rd1.mul_add(d1, plain[5][l]);
        }
        for (name, form) in lane_sums_forms() {
            let fast = form(&input);
            for (s, (a, b)) in fast.iter().zip(&plain).enumerate() {
                let (a, b): (Vec<u64>, Vec<u64>) =
                    (a.iter().map(|v| v.to_bits()).collect(), b.iter().map(|v| v.to_bits()).collect());
                assert_eq!(a, b, "{name}: statistic {s}");
            }
        }
    }
}

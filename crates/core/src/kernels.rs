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

/// Width of the partial-sum arrays used for reductions over points. Fixed, so a reduction's
/// rounding does not depend on the vector width the CPU happens to have.
pub(crate) const LANES: usize = 8;

/// How a multiply-add is performed: fused where the CPU has FMA, separate otherwise
/// (calling libm's software `fma` would be far slower than two roundings).
pub(crate) trait Arith: Copy {
    fn mul_add(a: f64, b: f64, c: f64) -> f64;
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
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const SHIFTER: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
    const C: [f64; 13] = [
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
}

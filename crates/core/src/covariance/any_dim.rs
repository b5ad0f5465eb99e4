//! The statistics kernel for any dimension and kind, one statistic at a time over the lanes
//! (the fixed-dimension kernels live with their kinds).

use super::{full::GEMM_MIN_DIM, CovarianceType, SuffStats};
use crate::chunks::{lanes, lanes_mut, Scratch, CHUNK};
use crate::kernels::{sum_lanes, Arith, LANES};
use crate::linalg::{gemm, view};

/// Scatter for any dimension and kind, one statistic at a time over the lanes.
#[inline(always)]
pub(crate) fn scatter_any<A: Arith>(
    kind: CovarianceType,
    k: usize,
    d: usize,
    shifts: &[f64],
    xs: &[f64],
    s: &mut Scratch,
    stats: &mut SuffStats,
) {
    let scale: &[f64; CHUNK] = lanes(&s.scale, 0);
    debug_assert_eq!(k, s.active.len());
    for (row, &c) in s.active.iter().enumerate() {
        let e = lanes_mut(&mut s.lp, row);
        let mut acc_r = [0.0; LANES];
        for g in 0..CHUNK / LANES {
            for l in 0..LANES {
                let i = g * LANES + l;
                e[i] *= scale[i];
                acc_r[l] += e[i];
            }
        }
        stats.sr[c] += sum_lanes(&acc_r);
        let r = lanes(&s.lp, row);
        for a in 0..d {
            let (x, mu) = (lanes(xs, a), shifts[c * d + a]);
            let (dx, rdx) = (lanes_mut(&mut s.dx, a), lanes_mut(&mut s.rdx, a));
            let mut acc = [0.0; LANES];
            for g in 0..CHUNK / LANES {
                for l in 0..LANES {
                    let i = g * LANES + l;
                    dx[i] = x[i] - mu;
                    rdx[i] = r[i] * dx[i];
                    acc[l] += rdx[i];
                }
            }
            stats.sx[c * d + a] += sum_lanes(&acc);
        }
        let diagonal_only = matches!(kind, CovarianceType::Diag | CovarianceType::Spherical);
        let base = match kind {
            CovarianceType::Full => c * d * d,
            CovarianceType::Tied => 0,
            CovarianceType::Diag | CovarianceType::Spherical => c * d,
        };
        if !diagonal_only && d >= GEMM_MIN_DIM {
            // S += RDX DX^T: the whole scatter by one matrix multiply.
            let (rdx, dx) = (view(&s.rdx, d, CHUNK, CHUNK, 1), view(&s.dx, CHUNK, d, 1, CHUNK));
            gemm(rdx, dx, 1.0, &mut stats.scatter[base..base + d * d]);
            continue;
        }
        for a in 0..d {
            let rdx = lanes(&s.rdx, a);
            let upto = if diagonal_only { a + 1 } else { d };
            for b in a..upto {
                let dx = lanes(&s.dx, b);
                let mut acc = [0.0; LANES];
                for g in 0..CHUNK / LANES {
                    for l in 0..LANES {
                        let i = g * LANES + l;
                        acc[l] = A::mul_add(rdx[i], dx[i], acc[l]);
                    }
                }
                let at = if diagonal_only { base + a } else { base + a * d + b };
                stats.scatter[at] += sum_lanes(&acc);
            }
        }
    }
}

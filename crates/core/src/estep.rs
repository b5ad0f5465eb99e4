//! The E-step, fused with the M-step's sufficient statistics: the hot loop.
//!
//! For point `x_i` and component `k`, with `P_k = U_k U_k^T`:
//!
//! ```text
//! log p_ik = log pi_k + log det U_k - D/2 log(2 pi) - 1/2 |(x_i - mu_k)^T U_k|^2
//! log p(x_i) = logsumexp_k log p_ik = m_i + log sum_k exp(log p_ik - m_i),  m_i = max_k log p_ik
//! r_ik = exp(log p_ik - log p(x_i))
//! ```
//!
//! One pass per EM iteration computes, chunk by chunk, the log-densities, the log-sum-exp and
//! the weighted statistics `sum_i w_i r_ik`, `sum_i w_i r_ik (x_i - c_k)` and the centred scatter
//! `sum_i w_i r_ik (x_i - c_k)(x_i - c_k)^T` around the shift `c_k` (the current mean), so no
//! `N x K` responsibility matrix ever exists and no raw second moment is ever formed.
//!
//! Per chunk, three tight loops over contiguous lanes: log-densities into a `K x CHUNK` scratch;
//! max, vectorised exp and sum per point; then the statistics. All kernels are generic over
//! [`Arith`] and inlined into the instruction-set wrappers of [`crate::kernels`].

use crate::covariance::CovarianceType;
use crate::data::{Chunked, CHUNK};
use crate::kernels::{exp_nonpositive, sum_lanes, Arith, Kernel, LANES};
use crate::model::Mixture;

/// `-D/2 log(2 pi)` per dimension.
const HALF_LOG_2PI: f64 = 0.918_938_533_204_672_7;

/// The model's parameters in the form the kernels read, refreshed in place every iteration.
pub(crate) struct Prepared {
    pub kind: CovarianceType,
    pub k: usize,
    pub d: usize,
    /// `log pi_k + log det U_k - D/2 log(2 pi)`.
    pub log_const: Vec<f64>,
    pub means: Vec<f64>,
    pub prec_chol: Vec<f64>,
    /// `tied` only: `mu_k^T U` (`K x D`), as scikit-learn evaluates `X U - mu U`.
    pub mean_prec: Vec<f64>,
}

impl Prepared {
    pub(crate) fn new(kind: CovarianceType, k: usize, d: usize) -> Prepared {
        Prepared {
            kind,
            k,
            d,
            log_const: vec![0.0; k],
            means: vec![0.0; k * d],
            prec_chol: vec![0.0; kind.len(k, d)],
            mean_prec: vec![
                0.0;
                if kind == CovarianceType::Tied {
                    k * d
                } else {
                    0
                }
            ],
        }
    }

    pub(crate) fn from_mixture(m: &Mixture) -> Prepared {
        let mut p = Prepared::new(m.covariance_type(), m.n_components(), m.n_features());
        p.update(m);
        p
    }

    /// Copies the parameters of `m` (same shape) without allocating.
    pub(crate) fn update(&mut self, m: &Mixture) {
        let (k, d) = (self.k, self.d);
        self.means.copy_from_slice(m.means_slice());
        self.prec_chol
            .copy_from_slice(m.precisions_cholesky_slice());
        let offset = -(d as f64) * HALF_LOG_2PI;
        for c in 0..k {
            let log_det = match self.kind {
                CovarianceType::Full => (0..d)
                    .map(|j| self.prec_chol[c * d * d + j * d + j].ln())
                    .sum(),
                CovarianceType::Tied => (0..d).map(|j| self.prec_chol[j * d + j].ln()).sum(),
                CovarianceType::Diag => self.prec_chol[c * d..(c + 1) * d]
                    .iter()
                    .map(|u| u.ln())
                    .sum(),
                CovarianceType::Spherical => d as f64 * self.prec_chol[c].ln(),
            };
            self.log_const[c] = m.weights_slice()[c].ln() + log_det + offset;
        }
        if self.kind == CovarianceType::Tied {
            for c in 0..k {
                for l in 0..d {
                    self.mean_prec[c * d + l] = (0..=l)
                        .map(|j| self.means[c * d + j] * self.prec_chol[j * d + l])
                        .sum();
                }
            }
        }
    }
}

/// Per-thread scratch of the hot loop, sized once per fit.
pub(crate) struct Scratch {
    /// `K x CHUNK`: log-densities, then their exponentials.
    pub lp: Vec<f64>,
    /// `D x CHUNK`: centred coordinates (or `X U` for tied).
    pub dx: Vec<f64>,
    /// `D x CHUNK`: responsibility-weighted centred coordinates.
    pub rdx: Vec<f64>,
    /// Per-lane work arrays.
    pub max: Vec<f64>,
    pub sum: Vec<f64>,
    pub acc: Vec<f64>,
    pub y: Vec<f64>,
    /// `w_i / sum_k exp(log p_ik - m_i)`: turns an exponential into a weighted responsibility.
    pub scale: Vec<f64>,
    /// `log p(x_i)`.
    pub log_lik: Vec<f64>,
}

impl Scratch {
    pub(crate) fn new(k: usize, d: usize) -> Scratch {
        Scratch {
            lp: vec![0.0; k * CHUNK],
            dx: vec![0.0; d * CHUNK],
            rdx: vec![0.0; d * CHUNK],
            max: vec![0.0; CHUNK],
            sum: vec![0.0; CHUNK],
            acc: vec![0.0; CHUNK],
            y: vec![0.0; CHUNK],
            scale: vec![0.0; CHUNK],
            log_lik: vec![0.0; CHUNK],
        }
    }
}

/// Weighted sufficient statistics of one EM pass (or one block of it).
#[derive(Clone, Debug)]
pub(crate) struct SuffStats {
    /// `sum_i w_i r_ik`.
    pub sr: Vec<f64>,
    /// `sum_i w_i r_ik (x_i - c_k)`, `K x D`.
    pub sx: Vec<f64>,
    /// Centred scatter: `K x D x D` (full), `D x D` pooled (tied), `K x D` squares (diag, spherical).
    pub scatter: Vec<f64>,
    /// `sum_i w_i log p(x_i)`.
    pub log_lik: f64,
}

impl SuffStats {
    pub(crate) fn new(kind: CovarianceType, k: usize, d: usize) -> SuffStats {
        SuffStats {
            sr: vec![0.0; k],
            sx: vec![0.0; k * d],
            scatter: vec![0.0; kind.scatter_len(k, d)],
            log_lik: 0.0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.sr.fill(0.0);
        self.sx.fill(0.0);
        self.scatter.fill(0.0);
        self.log_lik = 0.0;
    }

    pub(crate) fn add(&mut self, other: &SuffStats) {
        let pairs = [
            (&mut self.sr, &other.sr),
            (&mut self.sx, &other.sx),
            (&mut self.scatter, &other.scatter),
        ];
        for (a, b) in pairs {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.log_lik += other.log_lik;
    }
}

#[inline(always)]
fn lanes(xs: &[f64], j: usize) -> &[f64; CHUNK] {
    xs[j * CHUNK..(j + 1) * CHUNK].try_into().unwrap()
}

#[inline(always)]
fn lanes_mut(xs: &mut [f64], j: usize) -> &mut [f64; CHUNK] {
    (&mut xs[j * CHUNK..(j + 1) * CHUNK]).try_into().unwrap()
}

/// Fills `s.lp[k][i] = log pi_k + log N(x_i | k)` for the chunk `xs` (`D x CHUNK`).
#[inline(always)]
pub(crate) fn log_prob_chunk<A: Arith>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    match (p.kind, p.d) {
        (CovarianceType::Full, 1) => full_fixed::<A, 1>(p, xs, s),
        (CovarianceType::Full, 2) => full_fixed::<A, 2>(p, xs, s),
        (CovarianceType::Full, 3) => full_fixed::<A, 3>(p, xs, s),
        (CovarianceType::Full, _) => full_any::<A>(p, xs, s),
        (CovarianceType::Tied, _) => tied_any::<A>(p, xs, s),
        (CovarianceType::Diag, _) | (CovarianceType::Spherical, _) => diagonal_any::<A>(p, xs, s),
    }
}

/// Full covariance, dimension known at compile time: the whole quadratic form in registers.
#[inline(always)]
fn full_fixed<A: Arith, const D: usize>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    let cols: [&[f64; CHUNK]; D] = std::array::from_fn(|j| lanes(xs, j));
    for k in 0..p.k {
        let mu: [f64; D] = std::array::from_fn(|j| p.means[k * D + j]);
        let u: [[f64; D]; D] =
            std::array::from_fn(|j| std::array::from_fn(|l| p.prec_chol[(k * D + j) * D + l]));
        let c = p.log_const[k];
        let out = lanes_mut(&mut s.lp, k);
        for i in 0..CHUNK {
            let dx: [f64; D] = std::array::from_fn(|j| cols[j][i] - mu[j]);
            let mut acc = 0.0;
            for l in 0..D {
                let mut y = dx[0] * u[0][l];
                for j in 1..=l {
                    y = A::mul_add(dx[j], u[j][l], y);
                }
                acc = A::mul_add(y, y, acc);
            }
            out[i] = A::mul_add(-0.5, acc, c);
        }
    }
}

/// Full covariance, any dimension: `y_l = sum_{j<=l} dx_j U[j][l]` one output row at a time,
/// each a loop over the chunk's lanes.
#[inline(always)]
fn full_any<A: Arith>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    let d = p.d;
    for k in 0..p.k {
        for j in 0..d {
            let (x, mu, dx) = (lanes(xs, j), p.means[k * d + j], lanes_mut(&mut s.dx, j));
            for i in 0..CHUNK {
                dx[i] = x[i] - mu;
            }
        }
        let acc: &mut [f64; CHUNK] = (&mut s.acc[..]).try_into().unwrap();
        acc.fill(0.0);
        let u = &p.prec_chol[k * d * d..(k + 1) * d * d];
        quadratic_form_upper::<A>(&s.dx, u, d, &mut s.y, acc);
        let (c, out) = (p.log_const[k], lanes_mut(&mut s.lp, k));
        for i in 0..CHUNK {
            out[i] = A::mul_add(-0.5, acc[i], c);
        }
    }
}

/// `acc_i += |dx_i^T U|^2` for upper-triangular `U`, four output columns at a time so each
/// load of `dx_j` feeds four multiply-adds.
#[inline(always)]
fn quadratic_form_upper<A: Arith>(
    dx: &[f64],
    u: &[f64],
    d: usize,
    y: &mut [f64],
    acc: &mut [f64; CHUNK],
) {
    let _ = y;
    let mut l = 0;
    while l + 4 <= d {
        let mut y0 = [0.0; CHUNK];
        let mut y1 = [0.0; CHUNK];
        let mut y2 = [0.0; CHUNK];
        let mut y3 = [0.0; CHUNK];
        for j in 0..(l + 4) {
            let x = lanes(dx, j);
            let (u0, u1, u2, u3) = (
                u[j * d + l],
                u[j * d + l + 1],
                u[j * d + l + 2],
                u[j * d + l + 3],
            );
            for i in 0..CHUNK {
                y0[i] = A::mul_add(x[i], u0, y0[i]);
                y1[i] = A::mul_add(x[i], u1, y1[i]);
                y2[i] = A::mul_add(x[i], u2, y2[i]);
                y3[i] = A::mul_add(x[i], u3, y3[i]);
            }
        }
        for i in 0..CHUNK {
            acc[i] = A::mul_add(y0[i], y0[i], acc[i]);
            acc[i] = A::mul_add(y1[i], y1[i], acc[i]);
            acc[i] = A::mul_add(y2[i], y2[i], acc[i]);
            acc[i] = A::mul_add(y3[i], y3[i], acc[i]);
        }
        l += 4;
    }
    while l < d {
        let mut y0 = [0.0; CHUNK];
        for j in 0..=l {
            let (x, u0) = (lanes(dx, j), u[j * d + l]);
            for i in 0..CHUNK {
                y0[i] = A::mul_add(x[i], u0, y0[i]);
            }
        }
        for i in 0..CHUNK {
            acc[i] = A::mul_add(y0[i], y0[i], acc[i]);
        }
        l += 1;
    }
}

/// Tied covariance: `X U` once per chunk, then `|x^T U - mu_k^T U|^2` per component.
#[inline(always)]
fn tied_any<A: Arith>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    let d = p.d;
    for l in 0..d {
        let mut y = [0.0; CHUNK];
        for j in 0..=l {
            let (x, u) = (lanes(xs, j), p.prec_chol[j * d + l]);
            for i in 0..CHUNK {
                y[i] = A::mul_add(x[i], u, y[i]);
            }
        }
        lanes_mut(&mut s.dx, l).copy_from_slice(&y);
    }
    for k in 0..p.k {
        let acc: &mut [f64; CHUNK] = (&mut s.acc[..]).try_into().unwrap();
        acc.fill(0.0);
        for l in 0..d {
            let (xu, mu) = (lanes(&s.dx, l), p.mean_prec[k * d + l]);
            for i in 0..CHUNK {
                let y = xu[i] - mu;
                acc[i] = A::mul_add(y, y, acc[i]);
            }
        }
        let (c, out) = (p.log_const[k], lanes_mut(&mut s.lp, k));
        for i in 0..CHUNK {
            out[i] = A::mul_add(-0.5, acc[i], c);
        }
    }
}

/// Diagonal and spherical covariances: `sum_j ((x_j - mu_kj) u_kj)^2`.
#[inline(always)]
fn diagonal_any<A: Arith>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    let d = p.d;
    let spherical = p.kind == CovarianceType::Spherical;
    for k in 0..p.k {
        let acc: &mut [f64; CHUNK] = (&mut s.acc[..]).try_into().unwrap();
        acc.fill(0.0);
        for j in 0..d {
            let x = lanes(xs, j);
            let mu = p.means[k * d + j];
            let u = if spherical {
                p.prec_chol[k]
            } else {
                p.prec_chol[k * d + j]
            };
            for i in 0..CHUNK {
                let y = (x[i] - mu) * u;
                acc[i] = A::mul_add(y, y, acc[i]);
            }
        }
        let (c, out) = (p.log_const[k], lanes_mut(&mut s.lp, k));
        for i in 0..CHUNK {
            out[i] = A::mul_add(-0.5, acc[i], c);
        }
    }
}

/// Log-sum-exp per point: replaces `s.lp` by `exp(lp - max)`, fills `s.log_lik` and
/// `s.scale = w / sum`, so that `w_i r_ik = s.lp[k][i] * s.scale[i]`.
#[inline(always)]
pub(crate) fn normalise_chunk<A: Arith>(k: usize, w: &[f64], s: &mut Scratch) {
    let max: &mut [f64; CHUNK] = (&mut s.max[..]).try_into().unwrap();
    max.copy_from_slice(lanes(&s.lp, 0));
    for c in 1..k {
        let lp = lanes(&s.lp, c);
        for i in 0..CHUNK {
            max[i] = max[i].max(lp[i]);
        }
    }
    let sum: &mut [f64; CHUNK] = (&mut s.sum[..]).try_into().unwrap();
    sum.fill(0.0);
    for c in 0..k {
        let lp = lanes_mut(&mut s.lp, c);
        for i in 0..CHUNK {
            let e = exp_nonpositive::<A>(lp[i] - max[i]);
            lp[i] = e;
            sum[i] += e;
        }
    }
    let w: &[f64; CHUNK] = w.try_into().unwrap();
    let (ll, scale) = (&mut s.log_lik, &mut s.scale);
    for i in 0..CHUNK {
        ll[i] = max[i] + ln_at_least_one::<A>(sum[i]);
        scale[i] = w[i] / sum[i];
    }
}

/// `ln(x)` for `1 <= x < 2^1023`, vectorisable: `x = 2^e m` with `m` in `[sqrt(1/2), sqrt(2))`,
/// `ln m = 2 atanh(z)`, `z = (m - 1) / (m + 1)`, `|z| < 0.172`, by its odd series to `z^23`
/// (truncation below 1e-19 relative).
#[inline(always)]
pub(crate) fn ln_at_least_one<A: Arith>(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
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

/// Adds the chunk's weighted statistics around `shifts` (the current means) to `stats`.
/// Expects `s.lp` to hold `exp(lp - max)` and `s.scale` the per-point factors.
#[inline(always)]
pub(crate) fn accumulate_chunk<A: Arith>(
    kind: CovarianceType,
    k: usize,
    d: usize,
    shifts: &[f64],
    xs: &[f64],
    s: &mut Scratch,
    stats: &mut SuffStats,
) {
    match (kind, d) {
        (CovarianceType::Full | CovarianceType::Tied, 1) => {
            scatter_fixed::<A, 1>(kind, k, shifts, xs, s, stats)
        }
        (CovarianceType::Full | CovarianceType::Tied, 2) => {
            scatter_fixed::<A, 2>(kind, k, shifts, xs, s, stats)
        }
        (CovarianceType::Full | CovarianceType::Tied, 3) => {
            scatter_fixed::<A, 3>(kind, k, shifts, xs, s, stats)
        }
        _ => scatter_any::<A>(kind, k, d, shifts, xs, s, stats),
    }
}

/// Full/tied scatter with the dimension known at compile time: one pass over the lanes,
/// every statistic in a register-held lane accumulator.
#[inline(always)]
fn scatter_fixed<A: Arith, const D: usize>(
    kind: CovarianceType,
    k: usize,
    shifts: &[f64],
    xs: &[f64],
    s: &mut Scratch,
    stats: &mut SuffStats,
) {
    let cols: [&[f64; CHUNK]; D] = std::array::from_fn(|j| lanes(xs, j));
    let scale: &[f64; CHUNK] = (&s.scale[..]).try_into().unwrap();
    for c in 0..k {
        let e = lanes(&s.lp, c);
        let mu: [f64; D] = std::array::from_fn(|j| shifts[c * D + j]);
        let mut acc_r = [0.0; LANES];
        let mut acc_x = [[0.0; LANES]; D];
        let mut acc_xx = [[[0.0; LANES]; D]; D];
        for g in 0..CHUNK / LANES {
            for l in 0..LANES {
                let i = g * LANES + l;
                let r = e[i] * scale[i];
                acc_r[l] += r;
                for a in 0..D {
                    let dxa = cols[a][i] - mu[a];
                    let rdx = r * dxa;
                    acc_x[a][l] += rdx;
                    for b in a..D {
                        acc_xx[a][b][l] = A::mul_add(rdx, cols[b][i] - mu[b], acc_xx[a][b][l]);
                    }
                }
            }
        }
        stats.sr[c] += sum_lanes(&acc_r);
        let base = if kind == CovarianceType::Tied {
            0
        } else {
            c * D * D
        };
        for a in 0..D {
            stats.sx[c * D + a] += sum_lanes(&acc_x[a]);
            for b in a..D {
                stats.scatter[base + a * D + b] += sum_lanes(&acc_xx[a][b]);
            }
        }
    }
}

/// Scatter for any dimension and kind, one statistic at a time over the lanes.
#[inline(always)]
fn scatter_any<A: Arith>(
    kind: CovarianceType,
    k: usize,
    d: usize,
    shifts: &[f64],
    xs: &[f64],
    s: &mut Scratch,
    stats: &mut SuffStats,
) {
    let scale: &[f64; CHUNK] = (&s.scale[..]).try_into().unwrap();
    for c in 0..k {
        let e = lanes_mut(&mut s.lp, c);
        let mut acc_r = [0.0; LANES];
        for g in 0..CHUNK / LANES {
            for l in 0..LANES {
                let i = g * LANES + l;
                e[i] *= scale[i];
                acc_r[l] += e[i];
            }
        }
        stats.sr[c] += sum_lanes(&acc_r);
        let r = lanes(&s.lp, c);
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
                let at = if diagonal_only {
                    base + a
                } else {
                    base + a * d + b
                };
                stats.scatter[at] += sum_lanes(&acc);
            }
        }
    }
}

/// `sum_i w_i log p(x_i)` over the chunk, in lane order.
#[inline(always)]
pub(crate) fn weighted_log_lik(w: &[f64], s: &Scratch) -> f64 {
    let mut acc = [0.0; LANES];
    for g in 0..CHUNK / LANES {
        for l in 0..LANES {
            let i = g * LANES + l;
            // A zero weight (padding) must contribute exactly zero.
            acc[l] += if w[i] == 0.0 {
                0.0
            } else {
                w[i] * s.log_lik[i]
            };
        }
    }
    sum_lanes(&acc)
}

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
        for c in self.range {
            let (xs, w) = self.data.chunk(c);
            log_prob_chunk::<A>(p, xs, self.scratch);
            normalise_chunk::<A>(p.k, w, self.scratch);
            self.stats.log_lik += weighted_log_lik(w, self.scratch);
            accumulate_chunk::<A>(p.kind, p.k, p.d, &p.means, xs, self.scratch, self.stats);
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
        for c in self.range {
            let (xs, _) = self.data.chunk(c);
            log_prob_chunk::<A>(p, xs, self.scratch);
            let len = self.data.chunk_len(c);
            let row0 = c * CHUNK - first_row;
            if self.what == ScoreOutput::Label {
                for i in 0..len {
                    let mut best = 0;
                    for k in 1..p.k {
                        if self.scratch.lp[k * CHUNK + i] > self.scratch.lp[best * CHUNK + i] {
                            best = k;
                        }
                    }
                    self.out[row0 + i] = best as f64;
                }
                continue;
            }
            normalise_chunk::<A>(p.k, &ones, self.scratch);
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

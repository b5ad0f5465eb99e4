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
use crate::linalg::{gemm, view};
use crate::model::Mixture;

/// From this dimension on, the `O(D^2)` per-point terms of full and tied covariances
/// (Mahalanobis form and scatter) go through matrix multiplies instead of lane loops.
pub(crate) const GEMM_MIN_DIM: usize = 8;

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
    /// Whether chunks skip components that provably cannot matter (see [`cull`]).
    pub cull: bool,
    /// Per component and feature, weights `a_kj <= b_kj` with
    /// `sum_j a_kj t_j^2 <= t^T P_k t <= sum_j b_kj t_j^2` for every `t`: the extreme
    /// eigenvalues of `P_k` (bounds on them for D > 2), or the diagonal precisions themselves.
    pub bound_min: Vec<f64>,
    pub bound_max: Vec<f64>,
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
            mean_prec: vec![0.0; if kind == CovarianceType::Tied { k * d } else { 0 }],
            cull: false,
            bound_min: vec![0.0; k * d],
            bound_max: vec![0.0; k * d],
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
        self.prec_chol.copy_from_slice(m.precisions_cholesky_slice());
        let offset = -(d as f64) * HALF_LOG_2PI;
        for c in 0..k {
            let log_det = match self.kind {
                CovarianceType::Full => (0..d).map(|j| self.prec_chol[c * d * d + j * d + j].ln()).sum(),
                CovarianceType::Tied => (0..d).map(|j| self.prec_chol[j * d + j].ln()).sum(),
                CovarianceType::Diag => self.prec_chol[c * d..(c + 1) * d].iter().map(|u| u.ln()).sum(),
                CovarianceType::Spherical => d as f64 * self.prec_chol[c].ln(),
            };
            self.log_const[c] = m.weights_slice()[c].ln() + log_det + offset;
        }
        if self.cull {
            self.update_bounds();
        }
        if self.kind == CovarianceType::Tied {
            for c in 0..k {
                for l in 0..d {
                    self.mean_prec[c * d + l] =
                        (0..=l).map(|j| self.means[c * d + j] * self.prec_chol[j * d + l]).sum();
                }
            }
        }
    }
}

impl Prepared {
    /// Eigenvalue bounds of every precision, for culling.
    fn update_bounds(&mut self) {
        let (k, d) = (self.k, self.d);
        for c in 0..k {
            let (lo, hi) = match self.kind {
                CovarianceType::Full | CovarianceType::Tied => {
                    let base = if self.kind == CovarianceType::Full { c * d * d } else { 0 };
                    let u = &self.prec_chol[base..base + d * d];
                    // P = U U^T, so P_ij = sum_l U_il U_jl.
                    let p = |i: usize, j: usize| (0..d).map(|l| u[i * d + l] * u[j * d + l]).sum::<f64>();
                    if d == 2 {
                        let (a, b, e) = (p(0, 0), p(0, 1), p(1, 1));
                        let half_trace = 0.5 * (a + e);
                        let radius = (0.25 * (a - e) * (a - e) + b * b).sqrt();
                        ((half_trace - radius).max(0.0), half_trace + radius)
                    } else {
                        // lambda_max <= trace(P), and lambda_min = det(P) / (product of the
                        // others) >= det(P) / trace(P)^(d-1).
                        let trace: f64 = (0..d).map(|i| p(i, i)).sum();
                        let log_det: f64 = (0..d).map(|i| 2.0 * u[i * d + i].ln()).sum();
                        ((log_det - (d as f64 - 1.0) * trace.ln()).exp(), trace)
                    }
                }
                CovarianceType::Diag => {
                    for j in 0..d {
                        let v = self.prec_chol[c * d + j] * self.prec_chol[c * d + j];
                        self.bound_min[c * d + j] = v * (1.0 - 1e-9);
                        self.bound_max[c * d + j] = v * (1.0 + 1e-9);
                    }
                    continue;
                }
                CovarianceType::Spherical => {
                    let v = self.prec_chol[c] * self.prec_chol[c];
                    (v, v)
                }
            };
            for j in 0..d {
                // Slack so that rounding in the eigenvalues cannot make a bound invalid.
                self.bound_min[c * d + j] = lo * (1.0 - 1e-9);
                self.bound_max[c * d + j] = hi * (1.0 + 1e-9);
            }
        }
    }
}

/// Components whose responsibility in a chunk is below `exp(-CULL_MARGIN)` times that of the
/// best component, for every point of the chunk, are skipped: their terms cannot change a
/// double-precision log-sum-exp (K e^-50 < 1e-19 relative), and the statistics they would add
/// are bounded and checked afterwards (`SuffStats::culling_was_exact`): where the bound is not
/// negligible against a component's own total, the pass is redone without culling. The results
/// are therefore the unculled ones to ~1e-13 relative (the issue allows 1e-12).
pub(crate) const CULL_MARGIN: f64 = 50.0;

/// Chooses the components of chunk `c` worth evaluating into `s.active`, and adds an upper
/// bound on the weighted responsibility of each skipped one to `skipped`.
///
/// For a box `B` holding the chunk's points and `t = x - mu_k`:
/// `log p_ik <= c_k - 1/2 sum_j a_kj dist_j(mu_k, B)^2` (nearest point of the box) and
/// `log p_ik >= c_k - 1/2 sum_j b_kj far_j(mu_k, B)^2` (farthest corner). The best lower bound
/// `L` bounds every point's maximum from below, so `r_ik <= exp(upper_k - L)`.
#[inline(always)]
pub(crate) fn cull(p: &Prepared, data: &Chunked, c: usize, s: &mut Scratch, stats: Option<&mut SuffStats>) {
    let d = p.d;
    let lo = &data.bounds[c * 2 * d..c * 2 * d + d];
    let hi = &data.bounds[c * 2 * d + d..(c + 1) * 2 * d];
    let upper = &mut s.upper;
    let mut best_lower = f64::NEG_INFINITY;
    for k in 0..p.k {
        let (mut near, mut far) = (0.0, 0.0);
        for j in 0..d {
            let m = p.means[k * d + j];
            let gap = (lo[j] - m).max(m - hi[j]).max(0.0);
            let span = (m - lo[j]).abs().max((hi[j] - m).abs());
            near += p.bound_min[k * d + j] * gap * gap;
            far += p.bound_max[k * d + j] * span * span;
        }
        upper[k] = p.log_const[k] - 0.5 * near;
        best_lower = best_lower.max(p.log_const[k] - 0.5 * far);
    }
    s.active.clear();
    let w = data.chunk_weight[c];
    let mut stats = stats;
    for k in 0..p.k {
        if upper[k] >= best_lower - CULL_MARGIN || !best_lower.is_finite() {
            s.active.push(k);
        } else if let Some(stats) = stats.as_deref_mut() {
            stats.skipped[k] += w * (upper[k] - best_lower).exp();
            stats.culled_pairs += 1;
        }
    }
}

/// Per-thread scratch of the hot loop, sized once per fit.
pub(crate) struct Scratch {
    /// `K x CHUNK`: log-densities, then their exponentials.
    pub lp: Vec<f64>,
    /// `D x CHUNK`: centred coordinates (or `X U` for tied).
    pub dx: Vec<f64>,
    /// `D x CHUNK`: responsibility-weighted centred coordinates (and `U^T DX` on the
    /// matrix-multiply path).
    pub rdx: Vec<f64>,
    /// Per-lane work arrays.
    pub max: Vec<f64>,
    pub sum: Vec<f64>,
    pub acc: Vec<f64>,
    /// `w_i / sum_k exp(log p_ik - m_i)`: turns an exponential into a weighted responsibility.
    pub scale: Vec<f64>,
    /// `log p(x_i)`.
    pub log_lik: Vec<f64>,
    /// The components evaluated for the current chunk (all of them unless culled); row `a`
    /// of `lp` belongs to component `active[a]`.
    pub active: Vec<usize>,
    /// Per component: the culling upper bound of its log-density in the chunk.
    pub upper: Vec<f64>,
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
            scale: vec![0.0; CHUNK],
            log_lik: vec![0.0; CHUNK],
            active: (0..k).collect(),
            upper: vec![0.0; k],
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
    /// Upper bound on the weighted responsibility each component lost to culling.
    pub skipped: Vec<f64>,
    /// (chunk, component) pairs skipped by culling.
    pub culled_pairs: u64,
}

impl SuffStats {
    pub(crate) fn new(kind: CovarianceType, k: usize, d: usize) -> SuffStats {
        SuffStats {
            sr: vec![0.0; k],
            sx: vec![0.0; k * d],
            scatter: vec![0.0; kind.scatter_len(k, d)],
            log_lik: 0.0,
            skipped: vec![0.0; k],
            culled_pairs: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.sr.fill(0.0);
        self.sx.fill(0.0);
        self.scatter.fill(0.0);
        self.log_lik = 0.0;
        self.skipped.fill(0.0);
        self.culled_pairs = 0;
    }

    /// Whether culling lost nothing that matters: every component's skipped mass is below
    /// 1e-13 of what it received.
    pub(crate) fn culling_was_exact(&self) -> bool {
        self.skipped.iter().zip(&self.sr).all(|(s, r)| *s <= 1e-13 * r)
    }

    pub(crate) fn add(&mut self, other: &SuffStats) {
        let pairs = [
            (&mut self.sr, &other.sr),
            (&mut self.sx, &other.sx),
            (&mut self.scatter, &other.scatter),
            (&mut self.skipped, &other.skipped),
        ];
        for (a, b) in pairs {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.log_lik += other.log_lik;
        self.culled_pairs += other.culled_pairs;
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
        (CovarianceType::Diag | CovarianceType::Spherical, 1) => diagonal_fixed::<A, 1>(p, xs, s),
        (CovarianceType::Diag | CovarianceType::Spherical, 2) => diagonal_fixed::<A, 2>(p, xs, s),
        (CovarianceType::Diag | CovarianceType::Spherical, 3) => diagonal_fixed::<A, 3>(p, xs, s),
        (CovarianceType::Diag | CovarianceType::Spherical, _) => diagonal_any::<A>(p, xs, s),
    }
}

/// Diagonal and spherical covariances with the dimension known at compile time.
#[inline(always)]
fn diagonal_fixed<A: Arith, const D: usize>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    let cols: [&[f64; CHUNK]; D] = std::array::from_fn(|j| lanes(xs, j));
    let spherical = p.kind == CovarianceType::Spherical;
    for (row, &k) in s.active.iter().enumerate() {
        let mu: [f64; D] = std::array::from_fn(|j| p.means[k * D + j]);
        let u: [f64; D] =
            std::array::from_fn(|j| if spherical { p.prec_chol[k] } else { p.prec_chol[k * D + j] });
        let c = p.log_const[k];
        let out = lanes_mut(&mut s.lp, row);
        for i in 0..CHUNK {
            let mut acc = 0.0;
            for j in 0..D {
                let y = (cols[j][i] - mu[j]) * u[j];
                acc = A::mul_add(y, y, acc);
            }
            out[i] = A::mul_add(-0.5, acc, c);
        }
    }
}

/// Full covariance, dimension known at compile time: the whole quadratic form in registers.
#[inline(always)]
fn full_fixed<A: Arith, const D: usize>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    let cols: [&[f64; CHUNK]; D] = std::array::from_fn(|j| lanes(xs, j));
    for (row, &k) in s.active.iter().enumerate() {
        let mu: [f64; D] = std::array::from_fn(|j| p.means[k * D + j]);
        let u: [[f64; D]; D] =
            std::array::from_fn(|j| std::array::from_fn(|l| p.prec_chol[(k * D + j) * D + l]));
        let c = p.log_const[k];
        let out = lanes_mut(&mut s.lp, row);
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
    for (row, &k) in s.active.iter().enumerate() {
        for j in 0..d {
            let (x, mu, dx) = (lanes(xs, j), p.means[k * d + j], lanes_mut(&mut s.dx, j));
            for i in 0..CHUNK {
                dx[i] = x[i] - mu;
            }
        }
        let acc: &mut [f64; CHUNK] = (&mut s.acc[..]).try_into().unwrap();
        acc.fill(0.0);
        let u = &p.prec_chol[k * d * d..(k + 1) * d * d];
        if d >= GEMM_MIN_DIM {
            // Y = U^T DX (D x CHUNK) by matrix multiply, then acc_i = sum_l Y_li^2.
            gemm(view(u, d, d, 1, d), view(&s.dx, d, CHUNK, CHUNK, 1), 0.0, &mut s.rdx);
            for l in 0..d {
                let y = lanes(&s.rdx, l);
                for i in 0..CHUNK {
                    acc[i] = A::mul_add(y[i], y[i], acc[i]);
                }
            }
        } else {
            quadratic_form_upper::<A>(&s.dx, u, d, acc);
        }
        let (c, out) = (p.log_const[k], lanes_mut(&mut s.lp, row));
        for i in 0..CHUNK {
            out[i] = A::mul_add(-0.5, acc[i], c);
        }
    }
}

/// `acc_i += |dx_i^T U|^2` for upper-triangular `U`, four output columns at a time so each
/// load of `dx_j` feeds four multiply-adds.
#[inline(always)]
fn quadratic_form_upper<A: Arith>(dx: &[f64], u: &[f64], d: usize, acc: &mut [f64; CHUNK]) {
    let mut l = 0;
    while l + 4 <= d {
        let mut y0 = [0.0; CHUNK];
        let mut y1 = [0.0; CHUNK];
        let mut y2 = [0.0; CHUNK];
        let mut y3 = [0.0; CHUNK];
        for j in 0..(l + 4) {
            let x = lanes(dx, j);
            let (u0, u1, u2, u3) = (u[j * d + l], u[j * d + l + 1], u[j * d + l + 2], u[j * d + l + 3]);
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
    // (X U)^T = U^T X^T, one output row at a time, or by matrix multiply for large D.
    if d >= GEMM_MIN_DIM {
        gemm(view(&p.prec_chol, d, d, 1, d), view(xs, d, CHUNK, CHUNK, 1), 0.0, &mut s.dx);
    } else {
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
    }
    for (row, &k) in s.active.iter().enumerate() {
        let acc: &mut [f64; CHUNK] = (&mut s.acc[..]).try_into().unwrap();
        acc.fill(0.0);
        for l in 0..d {
            let (xu, mu) = (lanes(&s.dx, l), p.mean_prec[k * d + l]);
            for i in 0..CHUNK {
                let y = xu[i] - mu;
                acc[i] = A::mul_add(y, y, acc[i]);
            }
        }
        let (c, out) = (p.log_const[k], lanes_mut(&mut s.lp, row));
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
    for (row, &k) in s.active.iter().enumerate() {
        let acc: &mut [f64; CHUNK] = (&mut s.acc[..]).try_into().unwrap();
        acc.fill(0.0);
        for j in 0..d {
            let x = lanes(xs, j);
            let mu = p.means[k * d + j];
            let u = if spherical { p.prec_chol[k] } else { p.prec_chol[k * d + j] };
            for i in 0..CHUNK {
                let y = (x[i] - mu) * u;
                acc[i] = A::mul_add(y, y, acc[i]);
            }
        }
        let (c, out) = (p.log_const[k], lanes_mut(&mut s.lp, row));
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
        (CovarianceType::Diag | CovarianceType::Spherical, 1) => {
            squares_fixed::<A, 1>(k, shifts, xs, s, stats)
        }
        (CovarianceType::Diag | CovarianceType::Spherical, 2) => {
            squares_fixed::<A, 2>(k, shifts, xs, s, stats)
        }
        (CovarianceType::Diag | CovarianceType::Spherical, 3) => {
            squares_fixed::<A, 3>(k, shifts, xs, s, stats)
        }
        _ => scatter_any::<A>(kind, k, d, shifts, xs, s, stats),
    }
}

/// Diagonal/spherical statistics (per-feature centred squares) with the dimension known at
/// compile time, in one pass over the lanes.
#[inline(always)]
fn squares_fixed<A: Arith, const D: usize>(
    k: usize,
    shifts: &[f64],
    xs: &[f64],
    s: &mut Scratch,
    stats: &mut SuffStats,
) {
    let cols: [&[f64; CHUNK]; D] = std::array::from_fn(|j| lanes(xs, j));
    let scale: &[f64; CHUNK] = (&s.scale[..]).try_into().unwrap();
    debug_assert_eq!(k, s.active.len());
    for (row, &c) in s.active.iter().enumerate() {
        let e = lanes(&s.lp, row);
        let mu: [f64; D] = std::array::from_fn(|j| shifts[c * D + j]);
        let mut acc_r = [0.0; LANES];
        let mut acc_x = [[0.0; LANES]; D];
        let mut acc_xx = [[0.0; LANES]; D];
        for g in 0..CHUNK / LANES {
            for l in 0..LANES {
                let i = g * LANES + l;
                let r = e[i] * scale[i];
                acc_r[l] += r;
                for a in 0..D {
                    let dxa = cols[a][i] - mu[a];
                    let rdx = r * dxa;
                    acc_x[a][l] += rdx;
                    acc_xx[a][l] = A::mul_add(rdx, dxa, acc_xx[a][l]);
                }
            }
        }
        stats.sr[c] += sum_lanes(&acc_r);
        for a in 0..D {
            stats.sx[c * D + a] += sum_lanes(&acc_x[a]);
            stats.scatter[c * D + a] += sum_lanes(&acc_xx[a]);
        }
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
    debug_assert_eq!(k, s.active.len());
    for (row, &c) in s.active.iter().enumerate() {
        let e = lanes(&s.lp, row);
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
        let base = if kind == CovarianceType::Tied { 0 } else { c * D * D };
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
        if !p.cull && self.scratch.active.len() != p.k {
            self.scratch.active.clear();
            self.scratch.active.extend(0..p.k);
        }
        for c in self.range {
            let (xs, w) = self.data.chunk(c);
            if p.cull {
                cull(p, self.data, c, self.scratch, Some(&mut *self.stats));
            }
            let n_active = self.scratch.active.len();
            log_prob_chunk::<A>(p, xs, self.scratch);
            normalise_chunk::<A>(n_active, w, self.scratch);
            self.stats.log_lik += weighted_log_lik(w, self.scratch);
            accumulate_chunk::<A>(p.kind, n_active, p.d, &p.means, xs, self.scratch, self.stats);
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
        if !cull_labels && self.scratch.active.len() != p.k {
            self.scratch.active.clear();
            self.scratch.active.extend(0..p.k);
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

#[cfg(test)]
mod tests {
    //! Every fast kernel against a plain twin: `log N(x | mu, Sigma)` from an explicit inverse
    //! and determinant of `Sigma` (Gauss-Jordan), one point and one component at a time, and
    //! the statistics as naive sums.

    use super::*;
    use crate::kernels::{dispatch, Fused, Unfused};
    use ndarray::{Array1, Array2, ArrayD, IxDyn};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Dimensions of the fixed-D paths (1, 2, 3), of the any-D path, and around its 4-column
    /// unrolling (4, 5, 8, 17 = 4 * 4 + 1).
    const DIMS: [usize; 7] = [1, 2, 3, 4, 5, 8, 17];

    /// Gauss-Jordan elimination with partial pivoting: `(A^{-1}, det A)`, row-major.
    fn inverse_and_det(a: &[f64], d: usize) -> (Vec<f64>, f64) {
        let mut m = a.to_vec();
        let mut inv = vec![0.0; d * d];
        for i in 0..d {
            inv[i * d + i] = 1.0;
        }
        let mut det = 1.0;
        for col in 0..d {
            let pivot_row =
                (col..d).max_by(|&i, &j| m[i * d + col].abs().total_cmp(&m[j * d + col].abs())).unwrap();
            if pivot_row != col {
                for j in 0..d {
                    m.swap(col * d + j, pivot_row * d + j);
                    inv.swap(col * d + j, pivot_row * d + j);
                }
                det = -det;
            }
            let pivot = m[col * d + col];
            assert!(pivot != 0.0, "singular test matrix");
            det *= pivot;
            for j in 0..d {
                m[col * d + j] /= pivot;
                inv[col * d + j] /= pivot;
            }
            for i in 0..d {
                if i != col {
                    let f = m[i * d + col];
                    for j in 0..d {
                        m[i * d + j] -= f * m[col * d + j];
                        inv[i * d + j] -= f * inv[col * d + j];
                    }
                }
            }
        }
        (inv, det)
    }

    #[test]
    fn the_twin_inverts_and_takes_determinants() {
        // det [[2, 1, 0], [1, 3, 1], [0, 1, 4]] = 2 (12 - 1) - 1 (4 - 0) = 18.
        let a = [2.0, 1.0, 0.0, 1.0, 3.0, 1.0, 0.0, 1.0, 4.0];
        let (inv, det) = inverse_and_det(&a, 3);
        assert!((det - 18.0).abs() < 1e-13);
        for i in 0..3 {
            for j in 0..3 {
                let p: f64 = (0..3).map(|t| a[i * 3 + t] * inv[t * 3 + j]).sum();
                assert!((p - if i == j { 1.0 } else { 0.0 }).abs() < 1e-15);
            }
        }
        // A row swap flips the sign.
        let (_, det) = inverse_and_det(&[0.0, 1.0, 1.0, 0.0], 2);
        assert_eq!(det, -1.0);
    }

    #[test]
    fn ln_at_least_one_matches_libm_to_two_ulps() {
        struct LnMany<'a>(&'a [f64], &'a mut [f64]);
        impl Kernel for LnMany<'_> {
            type Output = ();
            fn run<A: Arith>(self) {
                for (o, &x) in self.1.iter_mut().zip(self.0) {
                    *o = ln_at_least_one::<A>(x);
                }
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // Just above 1 (where ln is tiny), across the cut at sqrt(2), and up to 2^1023.
        let mut xs: Vec<f64> = (0..2000).map(|i| 1.0 + i as f64 * f64::EPSILON).collect();
        xs.extend((0..20_000).map(|i| 1.0 + i as f64 / 10_000.0));
        xs.extend((0..20_000).map(|_| 2f64.powf(rng.random_range(0.0..1023.0))));
        xs.extend([std::f64::consts::SQRT_2, 2.0, 4.0, f64::MAX / 2.0]);
        let check = |got: &[f64], how: &str| {
            for (&x, &g) in xs.iter().zip(got) {
                let want = x.ln();
                let tol = 4.5e-16 * want.abs();
                assert!((g - want).abs() <= tol, "{how}: ln({x:e}) = {g:e}, libm {want:e}");
            }
        };
        let mut got = vec![0.0; xs.len()];
        dispatch(LnMany(&xs, &mut got));
        check(&got, "dispatch");
        let unfused: Vec<f64> = xs.iter().map(|&x| ln_at_least_one::<Unfused>(x)).collect();
        check(&unfused, "unfused");
        assert_eq!(ln_at_least_one::<Unfused>(1.0), 0.0);
    }

    /// A random symmetric positive-definite matrix with sizeable off-diagonal entries:
    /// `B B^T / d + 0.3 I`, `B` uniform in `[-1, 1]` (eigenvalues in about `[0.3, 4]`).
    fn random_spd(rng: &mut ChaCha8Rng, d: usize) -> Vec<f64> {
        let b: Vec<f64> = (0..d * d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let mut a = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] = (0..d).map(|t| b[i * d + t] * b[j * d + t]).sum::<f64>() / d as f64;
            }
            a[i * d + i] += 0.3;
        }
        a
    }

    /// A random mixture of `kind` and its dense `Sigma_k`, one `d x d` per component.
    fn random_model(
        kind: CovarianceType,
        k: usize,
        d: usize,
        rng: &mut ChaCha8Rng,
    ) -> (Mixture, Vec<Vec<f64>>) {
        let raw: Vec<f64> = (0..k).map(|_| rng.random_range(0.2..1.0)).collect();
        let total: f64 = raw.iter().sum();
        let weights = Array1::from_iter(raw.iter().map(|w| w / total));
        let means = Array2::from_shape_fn((k, d), |_| rng.random_range(-2.0..2.0));
        let (stored, dense): (Vec<f64>, Vec<Vec<f64>>) = match kind {
            CovarianceType::Full => {
                let covs: Vec<Vec<f64>> = (0..k).map(|_| random_spd(rng, d)).collect();
                (covs.concat(), covs)
            }
            CovarianceType::Tied => {
                let cov = random_spd(rng, d);
                (cov.clone(), vec![cov; k])
            }
            CovarianceType::Diag => {
                let v: Vec<f64> = (0..k * d).map(|_| rng.random_range(0.2..3.0)).collect();
                let dense = (0..k)
                    .map(|c| {
                        let mut m = vec![0.0; d * d];
                        for j in 0..d {
                            m[j * d + j] = v[c * d + j];
                        }
                        m
                    })
                    .collect();
                (v, dense)
            }
            CovarianceType::Spherical => {
                let v: Vec<f64> = (0..k).map(|_| rng.random_range(0.2..3.0)).collect();
                let dense = v
                    .iter()
                    .map(|&s| {
                        let mut m = vec![0.0; d * d];
                        for j in 0..d {
                            m[j * d + j] = s;
                        }
                        m
                    })
                    .collect();
                (v, dense)
            }
        };
        let cov = ArrayD::from_shape_vec(IxDyn(&kind.shape(k, d)), stored).unwrap();
        let m = Mixture::from_parameters(kind, weights.view(), means.view(), cov.view()).unwrap();
        (m, dense)
    }

    /// `log pi + log N(x | mu, Sigma)` the textbook way.
    fn naive_log_prob(weight: f64, mu: &[f64], sigma: &[f64], x: &[f64]) -> f64 {
        let d = mu.len();
        let (inv, det) = inverse_and_det(sigma, d);
        let dx: Vec<f64> = x.iter().zip(mu).map(|(a, b)| a - b).collect();
        let mut q = 0.0;
        for i in 0..d {
            for j in 0..d {
                q += dx[i] * inv[i * d + j] * dx[j];
            }
        }
        weight.ln() - 0.5 * (d as f64 * (2.0 * std::f64::consts::PI).ln() + det.ln() + q)
    }

    /// A chunk (`d x CHUNK`, feature-major) of points spread around the model's means.
    fn random_chunk(m: &Mixture, rng: &mut ChaCha8Rng) -> Vec<f64> {
        let (k, d) = (m.n_components(), m.n_features());
        let mut xs = vec![0.0; d * CHUNK];
        for i in 0..CHUNK {
            let c = i % k;
            for j in 0..d {
                xs[j * CHUNK + i] = m.means()[[c, j]] + rng.random_range(-3.0..3.0);
            }
        }
        xs
    }

    fn point(xs: &[f64], d: usize, i: usize) -> Vec<f64> {
        (0..d).map(|j| xs[j * CHUNK + i]).collect()
    }

    struct LogProb<'a> {
        p: &'a Prepared,
        xs: &'a [f64],
        s: &'a mut Scratch,
    }

    impl Kernel for LogProb<'_> {
        type Output = ();
        fn run<A: Arith>(self) {
            log_prob_chunk::<A>(self.p, self.xs, self.s)
        }
    }

    /// The three ways to run `log_prob_chunk`: the dispatched instruction set, and each
    /// arithmetic directly.
    fn log_probs(p: &Prepared, xs: &[f64]) -> [(&'static str, Vec<f64>); 3] {
        let mut s = Scratch::new(p.k, p.d);
        dispatch(LogProb { p, xs, s: &mut s });
        let dispatched = s.lp.clone();
        log_prob_chunk::<Unfused>(p, xs, &mut s);
        let unfused = s.lp.clone();
        log_prob_chunk::<Fused>(p, xs, &mut s);
        [("dispatch", dispatched), ("unfused", unfused), ("fused", s.lp.clone())]
    }

    #[test]
    fn log_prob_chunk_matches_the_naive_density_for_every_kind_and_dimension() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let k = 3;
        for kind in CovarianceType::ALL {
            for d in DIMS {
                let (m, sigma) = random_model(kind, k, d, &mut rng);
                let xs = random_chunk(&m, &mut rng);
                let p = Prepared::from_mixture(&m);
                for (how, lp) in log_probs(&p, &xs) {
                    for c in 0..k {
                        let mu = m.means().row(c).to_vec();
                        for i in 0..CHUNK {
                            let want = naive_log_prob(m.weights()[c], &mu, &sigma[c], &point(&xs, d, i));
                            let got = lp[c * CHUNK + i];
                            assert!(
                                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                                "{kind} d={d} {how} component {c} point {i}: {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The seed evaluated the quadratic form as `einsum('ni,ji,ni->n', d, inv, d)`, i.e.
    /// `sum_i d_i^2 sum_j inv[j, i]`, which equals `d^T inv d` only for diagonal `inv`. With the
    /// equicorrelated `Sigma = (1 - rho) I + rho 1 1^T`, the column sums of `inv` are
    /// `1 / (1 + (D - 1) rho)` while for `d` orthogonal to `1` the true form is `|d|^2 / (1 - rho)`:
    /// far apart, so a kernel with the wrong contraction cannot pass.
    #[test]
    fn a_wrong_contraction_of_the_quadratic_form_would_fail() {
        let rho = 0.9;
        for kind in [CovarianceType::Full, CovarianceType::Tied] {
            for d in [2, 3, 5, 17] {
                let mut rng = ChaCha8Rng::seed_from_u64(d as u64);
                let mut sigma = vec![rho; d * d];
                for j in 0..d {
                    sigma[j * d + j] = 1.0;
                }
                let k = 2;
                let stored = if kind == CovarianceType::Full {
                    [sigma.clone(), sigma.clone()].concat()
                } else {
                    sigma.clone()
                };
                let cov = ArrayD::from_shape_vec(IxDyn(&kind.shape(k, d)), stored).unwrap();
                let means = Array2::from_shape_fn((k, d), |(c, j)| c as f64 + 0.1 * j as f64);
                let weights = Array1::from(vec![0.4, 0.6]);
                let m = Mixture::from_parameters(kind, weights.view(), means.view(), cov.view()).unwrap();
                // Points off component 0's mean along alternating signs (nearly orthogonal to 1).
                let mut xs = vec![0.0; d * CHUNK];
                for i in 0..CHUNK {
                    let t = rng.random_range(0.5..2.0);
                    for j in 0..d {
                        let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
                        xs[j * CHUNK + i] = means[[0, j]] + sign * t + rng.random_range(-0.05..0.05);
                    }
                }
                let (inv, _) = inverse_and_det(&sigma, d);
                let p = Prepared::from_mixture(&m);
                for (how, lp) in log_probs(&p, &xs) {
                    for i in 0..CHUNK {
                        let x = point(&xs, d, i);
                        let mu = means.row(0).to_vec();
                        let dx: Vec<f64> = x.iter().zip(&mu).map(|(a, b)| a - b).collect();
                        let correct = naive_log_prob(0.4, &mu, &sigma, &x);
                        let right_q: f64 = (0..d)
                            .flat_map(|a| (0..d).map(move |b| (a, b)))
                            .map(|(a, b)| dx[a] * inv[a * d + b] * dx[b])
                            .sum();
                        let wrong_q: f64 =
                            (0..d).map(|a| dx[a] * dx[a] * (0..d).map(|j| inv[j * d + a]).sum::<f64>()).sum();
                        let wrong = correct + 0.5 * (right_q - wrong_q);
                        assert!(
                            (wrong - correct).abs() > 1.0,
                            "the test point does not tell the contractions apart: {wrong} vs {correct}"
                        );
                        let got = lp[i];
                        assert!(
                            (got - correct).abs() <= 1e-12 * correct.abs(),
                            "{kind} d={d} {how} point {i}: {got} vs {correct} (wrong einsum: {wrong})"
                        );
                    }
                }
            }
        }
    }

    /// Log-sum-exp with libm's `exp` and `ln`.
    fn naive_logsumexp(v: &[f64]) -> f64 {
        let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    }

    struct Normalise<'a> {
        k: usize,
        w: &'a [f64],
        s: &'a mut Scratch,
    }

    impl Kernel for Normalise<'_> {
        type Output = ();
        fn run<A: Arith>(self) {
            normalise_chunk::<A>(self.k, self.w, self.s)
        }
    }

    #[test]
    fn normalise_chunk_gives_responsibilities_summing_to_one_and_the_naive_log_sum_exp() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for k in [1, 2, 5, 9] {
            // Log-densities from far below exp's underflow (-708) to positive, and weights
            // including zeros (padding) and non-integers.
            let lp: Vec<f64> = (0..k * CHUNK)
                .map(|_| match rng.random_range(0..4) {
                    0 => rng.random_range(-900.0..-600.0),
                    1 => rng.random_range(-50.0..30.0),
                    2 => rng.random_range(-3.0..0.0),
                    _ => rng.random_range(-1e4..1e4),
                })
                .collect();
            let w: Vec<f64> =
                (0..CHUNK).map(|i| if i % 17 == 0 { 0.0 } else { rng.random_range(0.1..3.0) }).collect();
            for variant in 0..3 {
                let mut s = Scratch::new(k, 1);
                s.lp.copy_from_slice(&lp);
                match variant {
                    0 => dispatch(Normalise { k, w: &w, s: &mut s }),
                    1 => normalise_chunk::<Unfused>(k, &w, &mut s),
                    _ => normalise_chunk::<Fused>(k, &w, &mut s),
                }
                for i in 0..CHUNK {
                    let column: Vec<f64> = (0..k).map(|c| lp[c * CHUNK + i]).collect();
                    let lse = naive_logsumexp(&column);
                    let got = s.log_lik[i];
                    // Near 0 the error of a logarithm is absolute (about one ulp of 1).
                    assert!(
                        (got - lse).abs() <= 1e-12 * lse.abs().max(1.0),
                        "k={k} variant {variant} point {i}: {got} vs {lse}"
                    );
                    let weighted: Vec<f64> = (0..k).map(|c| s.lp[c * CHUNK + i] * s.scale[i]).collect();
                    let total: f64 = weighted.iter().sum();
                    assert!(
                        (total - w[i]).abs() <= 1e-14 * w[i],
                        "weighted responsibilities of point {i} sum to {total}, not {}",
                        w[i]
                    );
                    if w[i] > 0.0 {
                        let r: Vec<f64> = weighted.iter().map(|v| v / w[i]).collect();
                        assert!((r.iter().sum::<f64>() - 1.0).abs() <= 1e-14);
                        for c in 0..k {
                            let want = (column[c] - lse).exp();
                            // Relative, except where libm gives a subnormal and the kernel 0.
                            assert!(
                                (r[c] - want).abs() <= 1e-12 * want + 1e-300,
                                "k={k} point {i} component {c}: {} vs {want}",
                                r[c]
                            );
                        }
                    }
                }
            }
        }
    }

    struct Accumulate<'a> {
        kind: CovarianceType,
        k: usize,
        d: usize,
        shifts: &'a [f64],
        xs: &'a [f64],
        s: &'a mut Scratch,
        stats: &'a mut SuffStats,
    }

    impl Kernel for Accumulate<'_> {
        type Output = ();
        fn run<A: Arith>(self) {
            accumulate_chunk::<A>(self.kind, self.k, self.d, self.shifts, self.xs, self.s, self.stats)
        }
    }

    /// Naive statistics and, per entry, the sum of the absolute values of its terms (the scale
    /// of a floating-point sum's rounding error, Higham, *Accuracy and Stability*, 2nd ed., 4.2).
    struct Naive {
        sr: Vec<f64>,
        sx: Vec<f64>,
        scatter: Vec<f64>,
        sr_abs: Vec<f64>,
        sx_abs: Vec<f64>,
        scatter_abs: Vec<f64>,
    }

    impl Naive {
        fn new(kind: CovarianceType, k: usize, d: usize) -> Naive {
            let len = kind.scatter_len(k, d);
            Naive {
                sr: vec![0.0; k],
                sx: vec![0.0; k * d],
                scatter: vec![0.0; len],
                sr_abs: vec![0.0; k],
                sx_abs: vec![0.0; k * d],
                scatter_abs: vec![0.0; len],
            }
        }

        /// Adds point `x` with weighted responsibility `r` for component `c`, around `shift`.
        fn add(&mut self, kind: CovarianceType, c: usize, r: f64, x: &[f64], shift: &[f64]) {
            let d = x.len();
            let dx: Vec<f64> = x.iter().zip(shift).map(|(a, b)| a - b).collect();
            self.sr[c] += r;
            self.sr_abs[c] += r.abs();
            for a in 0..d {
                self.sx[c * d + a] += r * dx[a];
                self.sx_abs[c * d + a] += (r * dx[a]).abs();
                for b in 0..d {
                    let at = match kind {
                        CovarianceType::Full => c * d * d + a * d + b,
                        CovarianceType::Tied => a * d + b,
                        _ if a == b => c * d + a,
                        _ => continue,
                    };
                    self.scatter[at] += r * dx[a] * dx[b];
                    self.scatter_abs[at] += (r * dx[a] * dx[b]).abs();
                }
            }
        }

        /// Compares with a kernel's statistics; full and tied scatters are compared on their
        /// upper triangle, the only part the kernels fill and the M-step reads.
        fn check(&self, kind: CovarianceType, d: usize, got: &SuffStats, what: &str) {
            let close = |g: f64, w: f64, scale: f64| (g - w).abs() <= 1e-12 * scale;
            for (c, (&g, (&w, &s))) in got.sr.iter().zip(self.sr.iter().zip(&self.sr_abs)).enumerate() {
                assert!(close(g, w, s), "{what}: sr[{c}] = {g} vs {w}");
            }
            for (i, (&g, (&w, &s))) in got.sx.iter().zip(self.sx.iter().zip(&self.sx_abs)).enumerate() {
                assert!(close(g, w, s), "{what}: sx[{i}] = {g} vs {w}");
            }
            for (i, (&g, (&w, &s))) in
                got.scatter.iter().zip(self.scatter.iter().zip(&self.scatter_abs)).enumerate()
            {
                let upper = match kind {
                    CovarianceType::Full | CovarianceType::Tied => (i % (d * d)) / d <= i % d,
                    _ => true,
                };
                if upper {
                    assert!(close(g, w, s), "{what}: scatter[{i}] = {g} vs {w}");
                }
            }
        }
    }

    #[test]
    fn accumulate_chunk_matches_naive_sums_for_every_kind_and_dimension() {
        let mut rng = ChaCha8Rng::seed_from_u64(23);
        let k = 3;
        for kind in CovarianceType::ALL {
            for d in DIMS {
                let shifts: Vec<f64> = (0..k * d).map(|_| rng.random_range(-2.0..2.0)).collect();
                for variant in 0..3 {
                    let mut stats = SuffStats::new(kind, k, d);
                    let mut naive = Naive::new(kind, k, d);
                    // Two chunks into the same statistics: the kernel adds, never overwrites.
                    for _chunk in 0..2 {
                        let xs: Vec<f64> = (0..d * CHUNK).map(|_| rng.random_range(-4.0..4.0)).collect();
                        let mut s = Scratch::new(k, d);
                        for v in s.lp.iter_mut() {
                            *v = rng.random_range(0.0..1.0);
                        }
                        for (i, v) in s.scale.iter_mut().enumerate() {
                            *v = if i % 13 == 0 { 0.0 } else { rng.random_range(0.2..2.0) };
                        }
                        for c in 0..k {
                            for i in 0..CHUNK {
                                let r = s.lp[c * CHUNK + i] * s.scale[i];
                                naive.add(kind, c, r, &point(&xs, d, i), &shifts[c * d..(c + 1) * d]);
                            }
                        }
                        let st = &mut stats;
                        match variant {
                            0 => dispatch(Accumulate {
                                kind,
                                k,
                                d,
                                shifts: &shifts,
                                xs: &xs,
                                s: &mut s,
                                stats: st,
                            }),
                            1 => accumulate_chunk::<Unfused>(kind, k, d, &shifts, &xs, &mut s, st),
                            _ => accumulate_chunk::<Fused>(kind, k, d, &shifts, &xs, &mut s, st),
                        }
                    }
                    naive.check(kind, d, &stats, &format!("{kind} d={d} variant {variant}"));
                }
            }
        }
    }

    /// The whole fused pass over chunked data (three chunks, the last one padded), with
    /// sample weights including zeros, against a naive E-step: per point, the naive densities,
    /// their log-sum-exp, the responsibilities, and the weighted sums around the means.
    #[test]
    fn the_fused_em_block_matches_a_naive_e_step() {
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        let (n, k) = (700, 3);
        for kind in CovarianceType::ALL {
            for d in DIMS {
                let (m, sigma) = random_model(kind, k, d, &mut rng);
                let x = Array2::from_shape_fn((n, d), |(i, j)| {
                    m.means()[[i % k, j]] + rng.random_range(-3.0..3.0)
                });
                let w =
                    Array1::from_shape_fn(n, |i| if i % 11 == 0 { 0.0 } else { rng.random_range(0.5..2.0) });
                let data = Chunked::new(x.view(), Some(w.view()));
                // The documented contract: sample weights are used rescaled to average 1 per row.
                let w = w.mapv(|v| v * n as f64 / w.sum());
                let mut naive = Naive::new(kind, k, d);
                let (mut log_lik, mut log_lik_abs) = (0.0, 0.0);
                for i in 0..n {
                    let xi = x.row(i).to_vec();
                    let lp: Vec<f64> = (0..k)
                        .map(|c| naive_log_prob(m.weights()[c], &m.means().row(c).to_vec(), &sigma[c], &xi))
                        .collect();
                    let lse = naive_logsumexp(&lp);
                    log_lik += w[i] * lse;
                    log_lik_abs += (w[i] * lse).abs();
                    for c in 0..k {
                        let r = w[i] * (lp[c] - lse).exp();
                        naive.add(kind, c, r, &xi, &m.means().row(c).to_vec());
                    }
                }
                let p = Prepared::from_mixture(&m);
                let mut stats = SuffStats::new(kind, k, d);
                dispatch(EmBlock {
                    prepared: &p,
                    data: &data,
                    range: 0..data.n_chunks,
                    scratch: &mut Scratch::new(k, d),
                    stats: &mut stats,
                });
                naive.check(kind, d, &stats, &format!("{kind} d={d}"));
                assert!(
                    (stats.log_lik - log_lik).abs() <= 1e-12 * log_lik_abs,
                    "{kind} d={d}: log_lik {} vs {log_lik}",
                    stats.log_lik
                );
            }
        }
    }
}

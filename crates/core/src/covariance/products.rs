//! The matrix-product form of the kernels, for dimensions above each kind's crossover.
//!
//! Below the crossover the lane loops win: a handful of flops per point-component pair, the
//! exponentials dominate. Above it the work per pair grows as `D` (diagonal kinds) or `D^2`
//! (dense kinds) and the same arithmetic runs as matrix products at the machine's
//! matrix-multiply rate (`crate::linalg::products`, on a chunk of 256 rows at a time, fused
//! with that chunk's log-sum-exp: no `N x K` array exists).
//!
//! - **full**: per component, `Y = (X - mu_k) U_k`, an upper-triangular product, then
//!   `|y_i|^2`; the scatter `(R_k (X - mu_k))^T (X - mu_k)` fills one triangle (`full.rs`,
//!   `scatter.rs`).
//! - **tied**: `X U` once per chunk (`tied.rs`).
//! - **diag, spherical** (here): with each chunk's points taken around the chunk's mean `c`
//!   (`x' = x - c`, `m_k = mu_k - c`, `p_kj = U_kj^2`),
//!
//! ```text
//! log p_ik = log_const_k - 1/2 sum_j p_kj x'_ij^2 + sum_j p_kj m_kj x'_ij - 1/2 sum_j p_kj m_kj^2
//!          = log_const_k - 1/2 (X'^2 P^T)_ik + (X' (P m)^T)_ik - 1/2 |m_k|_P^2
//! sum_i r_ik (x_ij - mu_kj)   = (R^T X')_kj - n_k m_kj
//! sum_i r_ik (x_ij - mu_kj)^2 = (R^T X'^2)_kj - 2 m_kj (R^T X')_kj + n_k m_kj^2
//! ```
//!
//! one `(CHUNK x 2D)(2D x K)` product for the densities (`[X'^2, X']` against
//! `[-P/2, P m]`) and one `(K x CHUNK)(CHUNK x 2D)` for the statistics (`R^T [X', X'^2]`), each
//! one sweep over the `CHUNK x K` exponentials (the per-point weights go on the points' side:
//! `R^T [X', X'^2, 1] = E^T [w X', w X'^2, w]`).
//!
//! The expansion's rounding error is about `eps p_kj (x'^2 + m^2)`, so the centre matters. Per
//! feature it is the origin when the chunk's values straddle it, as in scikit-learn's
//! expansion: sparse features (pixels, counts) are mostly exact zeros, and a component that
//! lives on a constant zero has a precision of `1 / reg_covar`, so any other centre would
//! multiply its rounding by `1e6` (measured on the digits: 1e-7 absolute in the log-density
//! around the chunk's mean, 3e-13 around the origin). Otherwise it is the chunk's mean, which
//! keeps data far from the origin (relative to their spread) from cancelling.

use super::{CovarianceType, Prepared, SuffStats};
use crate::chunks::{lanes, lanes_mut, Scratch, CHUNK};
use crate::kernels::{sum_lanes, Arith, LANES};
use crate::linalg::products::{points_times_rows, rows_times_points};

/// How a chunk's densities and statistics are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// Loops over a chunk's lanes, the dimension fixed at compile time where it is small.
    Lanes,
    /// Matrix products (this module).
    Products,
    /// Matrix products in single precision, accumulated in `f64` (`Precision::F32`).
    ProductsF32,
}

impl Form {
    /// Whether the chunk runs as matrix products (in either precision).
    pub(crate) fn products(self) -> bool {
        self != Form::Lanes
    }
}

/// `dst[i] = src[i]` rounded to single precision (`dst` at least as long as `src`).
#[inline(always)]
pub(crate) fn narrow(src: &[f64], dst: &mut [f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s as f32;
    }
}

/// `v` at least `len` long (single-precision scratch is sized on first use: an `f64` fit
/// never holds it).
#[inline(always)]
pub(crate) fn at_least(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if v.len() < len {
        v.resize(len, 0.0);
    }
    &mut v[..len]
}

/// Dense kinds (full, tied): from this dimension on, the `O(D^2)` per-point terms run as
/// triangular products. Measured, one thread, 40k points: at K = 128 products are 0.8x the
/// lanes at D = 4-6 and 1.2x at D = 8; at K = 16 even at D = 8, 1.1x at D = 10, 1.4x at D = 16.
pub(crate) const DENSE_PRODUCTS_FROM: usize = 8;
/// Diagonal kinds (diag, spherical): from this dimension on, the densities and the statistics
/// run as products. Measured as above: 0.85x the lanes at D = 3 (whose kernel is unrolled), 1.6x
/// at D = 4 (K = 16) to 1.8x (K = 128), 2.6-4x at D = 16-24.
pub(crate) const DIAGONAL_PRODUCTS_FROM: usize = 4;

impl CovarianceType {
    /// The form that is fastest for `d` features: products from the kind's crossover on.
    pub(crate) fn form(self, d: usize) -> Form {
        let from = if self.is_dense() { DENSE_PRODUCTS_FROM } else { DIAGONAL_PRODUCTS_FROM };
        if d >= from {
            Form::Products
        } else {
            Form::Lanes
        }
    }
}

/// `p_kj = U_kj^2` (`K x D`), the diagonal precisions the products read; a spherical
/// component's one value repeated over the features.
pub(crate) fn diagonal_precisions(
    kind: CovarianceType,
    prec_chol: &[f64],
    k: usize,
    d: usize,
    out: &mut [f64],
) {
    for c in 0..k {
        for j in 0..d {
            let u = if kind == CovarianceType::Spherical { prec_chol[c] } else { prec_chol[c * d + j] };
            out[c * d + j] = u * u;
        }
    }
}

/// The chunk's per-feature centre into `s.centre` (the origin if its values straddle it, else
/// their mean), its points around it then their squares into `s.expanded` (`2d` lane rows:
/// `X'`, then `X'^2`). Padding lanes repeat a real point, so they change neither choice.
#[inline(always)]
fn centre_chunk(xs: &[f64], d: usize, s: &mut Scratch) {
    for j in 0..d {
        let x = lanes(xs, j);
        let (mut acc, mut low, mut high) = ([0.0; LANES], [f64::INFINITY; LANES], [f64::NEG_INFINITY; LANES]);
        for g in 0..CHUNK / LANES {
            for l in 0..LANES {
                let v = x[g * LANES + l];
                acc[l] += v;
                low[l] = low[l].min(v);
                high[l] = high[l].max(v);
            }
        }
        let straddles = low.iter().any(|&v| v <= 0.0) && high.iter().any(|&v| v >= 0.0);
        let centre = if straddles { 0.0 } else { sum_lanes(&acc) / CHUNK as f64 };
        s.centre[j] = centre;
        let (points, squares) = s.expanded.split_at_mut(d * CHUNK);
        let (dx, sq) = (lanes_mut(points, j), lanes_mut(squares, j));
        for i in 0..CHUNK {
            dx[i] = x[i] - centre;
            sq[i] = dx[i] * dx[i];
        }
    }
}

/// Diagonal kinds: `s.lp[k][i] = log pi_k + log N(x_i | k)` for every component, by products.
#[inline(always)]
pub(crate) fn log_prob_diagonal<A: Arith>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    let (k, d) = (p.k, p.d);
    debug_assert_eq!(s.active.len(), k, "the product form evaluates every component");
    centre_chunk(xs, d, s);
    // Row c of the K x 2D right-hand side: P_c m_c against X', then -P_c / 2 against X'^2.
    for c in 0..k {
        let mut norm = 0.0;
        for j in 0..d {
            let (m, prec) = (p.means[c * d + j] - s.centre[j], p.diagonal_precisions[c * d + j]);
            s.kd_pair[c * 2 * d + j] = prec * m;
            s.kd_pair[c * 2 * d + d + j] = -0.5 * prec;
            norm = A::mul_add(prec * m, m, norm);
        }
        s.per_component[c] = A::mul_add(-0.5, norm, p.log_const[c]);
    }
    if p.form == Form::ProductsF32 {
        let single = &mut s.single;
        narrow(&s.expanded, at_least(&mut single.points, 2 * d * CHUNK));
        narrow(&s.kd_pair, at_least(&mut single.rows, 2 * k * d));
        let out = at_least(&mut single.out, k * CHUNK);
        points_times_rows(
            &single.points[..2 * d * CHUNK],
            &single.rows[..2 * k * d],
            k,
            2 * d,
            1.0,
            false,
            out,
        );
        for (lp, v) in s.lp[..k * CHUNK].iter_mut().zip(out.iter()) {
            *lp = f64::from(*v);
        }
    } else {
        points_times_rows(&s.expanded, &s.kd_pair, k, 2 * d, 1.0, false, &mut s.lp);
    }
    for c in 0..k {
        // The Mahalanobis distance is never negative: a rounding of the expansion that says
        // otherwise is cut back to distance 0.
        let (constant, top, out) = (s.per_component[c], p.log_const[c], lanes_mut(&mut s.lp, c));
        for i in 0..CHUNK {
            out[i] = (out[i] + constant).min(top);
        }
    }
}

/// Diagonal kinds: the chunk's weighted statistics around `shifts` by products. Expects `s.lp`
/// to hold `exp(lp - max)` and `s.scale` the per-point factors (as the lane kernels do).
#[inline(always)]
pub(crate) fn accumulate_diagonal(shifts: &[f64], xs: &[f64], s: &mut Scratch, stats: &mut SuffStats) {
    let d = xs.len() / CHUNK;
    let k = shifts.len() / d;
    debug_assert_eq!(s.active.len(), k, "the product form accumulates every component");
    centre_chunk(xs, d, s);
    // r_ic = e_ic w_i, so R^T [X', X'^2, 1] = E^T [w X', w X'^2, w]: the per-point factors go on
    // the points' side (2D + 1 lane rows), and the K x CHUNK exponentials are read once, by the
    // product, instead of being scaled in place first.
    let width = 2 * d + 1;
    let scale: &[f64; CHUNK] = lanes(&s.scale, 0);
    for j in 0..2 * d {
        let (from, to) = (lanes(&s.expanded, j), lanes_mut(&mut s.weighted, j));
        for i in 0..CHUNK {
            to[i] = from[i] * scale[i];
        }
    }
    lanes_mut(&mut s.weighted, 2 * d).copy_from_slice(scale);
    // Row c: sum_i r_ic x'_i, then sum_i r_ic x'_i^2, then sum_i r_ic.
    rows_times_points(&s.lp, &s.weighted, k, width, &mut s.kd_pair);
    for c in 0..k {
        let n = s.kd_pair[c * width + 2 * d];
        stats.sr[c] += n;
        for j in 0..d {
            let at = c * d + j;
            let m = shifts[at] - s.centre[j];
            let (first, second) = (s.kd_pair[c * width + j], s.kd_pair[c * width + d + j]);
            let centred = first - n * m;
            stats.sx[at] += centred;
            // sum r (x' - m)^2 = (sum r x'^2 - m sum r x') - m (sum r x' - n m).
            stats.scatter[at] += (second - m * first) - m * centred;
        }
    }
}

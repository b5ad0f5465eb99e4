//! `full`: each component has its own `D x D` covariance.
//!
//! `Sigma_k = (1 / N_k) sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T + reg_covar I`.

use super::products::{at_least, narrow};
use super::{recentre, Form, Moments, Prepared};
use crate::chunks::{lanes, lanes_mut, Scratch, CHUNK};
use crate::kernels::Arith;
use crate::linalg::products::times_upper;
use crate::linalg::{
    cholesky_lower, cholesky_lower_into, inverse_transpose_lower_into, invert_lower, is_symmetric,
    mul_transpose, transpose,
};

/// `log det U = sum_j log U[j, j]` of one factor.
#[inline]
pub(crate) fn log_det(u: &[f64], d: usize) -> f64 {
    (0..d).map(|j| u[j * d + j].ln()).sum()
}

/// Bounds on the eigenvalues of `P = U U^T`: exact in 2-D; in general
/// `lambda_max <= trace(P)` and `lambda_min = det(P) / (product of the others) >= det(P) / trace(P)^(d-1)`.
pub(crate) fn precision_bounds(u: &[f64], d: usize, lo: &mut [f64], hi: &mut [f64]) {
    // P = U U^T, so P_ij = sum_l U_il U_jl.
    let p = |i: usize, j: usize| (0..d).map(|l| u[i * d + l] * u[j * d + l]).sum::<f64>();
    let (lo_value, hi_value) = if d == 2 {
        let (a, b, e) = (p(0, 0), p(0, 1), p(1, 1));
        let half_trace = 0.5 * (a + e);
        let radius = (0.25 * (a - e) * (a - e) + b * b).sqrt();
        ((half_trace - radius).max(0.0), half_trace + radius)
    } else {
        let trace: f64 = (0..d).map(|i| p(i, i)).sum();
        let log_det: f64 = (0..d).map(|i| 2.0 * u[i * d + i].ln()).sum();
        // det / trace^(D-1) bounds the smallest eigenvalue for any D, but loosely when the
        // precision is anisotropic (an elongated component: 4x under at 1:5 axes, so culling
        // reaches twice as far). In 3-D the eigenvalues have a closed form; its rounding, worst
        // where the two smallest nearly coincide (acos near 1), stays below ~1e-8 of the
        // trace, so a slack of 1e-6 of it keeps a lower bound, never looser than the first.
        let guaranteed = (log_det - (d as f64 - 1.0) * trace.ln()).exp();
        let smallest = if d == 3 { smallest_eigenvalue_3(&p) - 1e-6 * trace } else { 0.0 };
        (guaranteed.max(smallest), trace)
    };
    super::fill_bounds(lo_value, hi_value, lo, hi);
}

/// `out[j] <= 1 / Sigma_jj` for `P = U U^T = Sigma^-1` (D <= 3; 0 otherwise): the marginal
/// precision of each feature, `Sigma_jj = cofactor_jj(P) / det P`, by the closed forms, less a
/// relative 1e-4 for rounding (cancellation in `det P` grows with the condition number; a
/// lower bound is all culling may use, and 1e-4 of it costs culling nothing).
pub(crate) fn marginal_precisions(u: &[f64], d: usize, out: &mut [f64]) {
    let p = |i: usize, j: usize| (0..d).map(|l| u[i * d + l] * u[j * d + l]).sum::<f64>();
    let shrink = 1.0 - 1e-4;
    match d {
        1 => out[0] = p(0, 0) * shrink,
        2 => {
            let (a, b, e) = (p(0, 0), p(0, 1), p(1, 1));
            let det = a * e - b * b;
            out[0] = (det / e * shrink).max(0.0);
            out[1] = (det / a * shrink).max(0.0);
        }
        3 => {
            let m = [[p(0, 0), p(0, 1), p(0, 2)], [p(1, 0), p(1, 1), p(1, 2)], [p(2, 0), p(2, 1), p(2, 2)]];
            let cofactor = |j: usize| {
                let (a, b) = ((j + 1) % 3, (j + 2) % 3);
                m[a][a] * m[b][b] - m[a][b] * m[b][a]
            };
            let det = m[0][0] * cofactor(0)
                + m[0][1] * (m[1][2] * m[2][0] - m[1][0] * m[2][2])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
            for (j, o) in out.iter_mut().enumerate() {
                let c = cofactor(j);
                *o = if c > 0.0 && det > 0.0 { (det / c * shrink).max(0.0) } else { 0.0 };
            }
        }
        _ => out.fill(0.0),
    }
}

/// The smallest eigenvalue of the symmetric 3x3 matrix `p(i, j)` by the trigonometric closed
/// form (Smith, "Eigenvalues of a symmetric 3 x 3 matrix", CACM 1961): with `q = tr / 3`,
/// `B = (P - q I) / s`, `s^2 = |P - q I|_F^2 / 6`, the eigenvalues are `q + 2 s cos(phi + 2 pi
/// j / 3)`, `phi = acos(det B / 2) / 3`; the smallest is `j = 1`.
fn smallest_eigenvalue_3(p: &impl Fn(usize, usize) -> f64) -> f64 {
    let (a, b, c, d, e, f) = (p(0, 0), p(0, 1), p(0, 2), p(1, 1), p(1, 2), p(2, 2));
    let off = b * b + c * c + e * e;
    let q = (a + d + f) / 3.0;
    let s2 = ((a - q).powi(2) + (d - q).powi(2) + (f - q).powi(2) + 2.0 * off) / 6.0;
    if s2 <= 0.0 {
        return q;
    }
    let s = s2.sqrt();
    let (a, d, f) = ((a - q) / s, (d - q) / s, (f - q) / s);
    let (b, c, e) = (b / s, c / s, e / s);
    let det = a * (d * f - e * e) - b * (b * f - e * c) + c * (b * e - d * c);
    let phi = (0.5 * det).clamp(-1.0, 1.0).acos() / 3.0;
    q + 2.0 * s * (phi + 2.0 * std::f64::consts::FRAC_PI_3).cos()
}

/// Adds `w dx dx^T` (upper triangle) to one `D x D` scatter.
#[inline]
pub(crate) fn add_point_scatter(scatter: &mut [f64], w: f64, dx: &[f64]) {
    let d = dx.len();
    for a in 0..d {
        for b in a..d {
            scatter[a * d + b] += w * dx[a] * dx[b];
        }
    }
}

/// Every `D x D` block of a loaded model symmetric positive definite.
pub(crate) fn check_covariances(cov: &[f64], d: usize) -> Result<(), String> {
    for (c, block) in cov.chunks(d * d).enumerate() {
        if !is_symmetric(block, d) || cholesky_lower(block, d).is_none() {
            return Err(format!("'covariances' of component {c} is not symmetric positive definite"));
        }
    }
    Ok(())
}

/// M-step: centred scatter (around `shifts`) -> covariances, in place of `scatter`'s layout.
pub(crate) fn covariances_from_scatter(m: &Moments, out: &mut [f64]) {
    let Moments { stats, nk, delta, d, reg_covar } = *m;
    let (scatter, sx, sr) = (&stats.scatter, &stats.sx, &stats.sr);
    for k in 0..nk.len() {
        let s = &scatter[k * d * d..(k + 1) * d * d];
        let (sx, dl) = (&sx[k * d..(k + 1) * d], &delta[k * d..(k + 1) * d]);
        let o = &mut out[k * d * d..(k + 1) * d * d];
        for i in 0..d {
            for j in i..d {
                let v = recentre(s[i * d + j], dl[i], dl[j], sx[i], sx[j], sr[k]) / nk[k];
                o[i * d + j] = v;
                o[j * d + i] = v;
            }
            o[i * d + i] += reg_covar;
        }
    }
}

/// `U_k = L_k^{-T}` where `Sigma_k = L_k L_k^T`, into `out`, using `scratch` (`d * d`).
/// Err(component) if not positive definite.
pub(crate) fn precisions_cholesky_into(
    cov: &[f64],
    d: usize,
    out: &mut [f64],
    scratch: &mut [f64],
) -> Result<(), usize> {
    for (c, (s, u)) in cov.chunks(d * d).zip(out.chunks_mut(d * d)).enumerate() {
        if !cholesky_lower_into(s, d, scratch) {
            return Err(c);
        }
        inverse_transpose_lower_into(scratch, d, u);
    }
    Ok(())
}

pub(crate) fn precisions_cholesky(cov: &[f64], k: usize, d: usize) -> Result<Vec<f64>, usize> {
    let mut out = vec![0.0; k * d * d];
    precisions_cholesky_into(cov, d, &mut out, &mut vec![0.0; d * d])?;
    Ok(out)
}

/// The upper factor `U` with `P = U U^T` and the covariance `P^{-1} = U^{-T} U^{-1}`.
///
/// `U` is found without inverting `P`: with `J` the exchange matrix, `J P J = (J U J)(J U J)^T`
/// and `J U J` is lower triangular, so `U = J chol(J P J) J`.
pub(crate) fn upper_factor(prec: &[f64], d: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    if !is_symmetric(prec, d) {
        return None;
    }
    // Within tolerance of symmetric: factor the symmetric part.
    let sym: Vec<f64> = (0..d * d).map(|at| 0.5 * (prec[at] + prec[(at % d) * d + at / d])).collect();
    let prec = &sym[..];
    let flip = |m: &[f64]| {
        let mut f = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                f[i * d + j] = m[(d - 1 - i) * d + (d - 1 - j)];
            }
        }
        f
    };
    let u = flip(&cholesky_lower(&flip(prec), d)?);
    // U^{-1} is upper: invert U^T (lower) and transpose back.
    let u_inv = transpose(&invert_lower(&transpose(&u, d), d), d);
    // Sigma = U^{-T} U^{-1} = (U^{-1})^T U^{-1}.
    let cov = mul_transpose(&transpose(&u_inv, d), &transpose(&u_inv, d), d);
    Some((u, cov))
}

pub(crate) fn from_precisions(prec: &[f64], k: usize, d: usize) -> Result<(Vec<f64>, Vec<f64>), usize> {
    let (mut chol, mut cov) = (Vec::with_capacity(k * d * d), Vec::with_capacity(k * d * d));
    for c in 0..k {
        let (u, s) = upper_factor(&prec[c * d * d..(c + 1) * d * d], d).ok_or(c)?;
        chol.extend(u);
        cov.extend(s);
    }
    Ok((chol, cov))
}

pub(crate) fn precisions(prec_chol: &[f64], k: usize, d: usize) -> Vec<f64> {
    (0..k)
        .flat_map(|c| {
            let u = &prec_chol[c * d * d..(c + 1) * d * d];
            mul_transpose(u, u, d)
        })
        .collect()
}

/// Full covariance, dimension known at compile time: the whole quadratic form in registers.
#[inline(always)]
pub(crate) fn log_prob_fixed<A: Arith, const D: usize>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
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
pub(crate) fn log_prob_any<A: Arith>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    let d = p.d;
    for (row, &k) in s.active.iter().enumerate() {
        for j in 0..d {
            let (x, mu, dx) = (lanes(xs, j), p.means[k * d + j], lanes_mut(&mut s.dx, j));
            for i in 0..CHUNK {
                dx[i] = x[i] - mu;
            }
        }
        let acc: &mut [f64; CHUNK] = lanes_mut(&mut s.acc, 0);
        acc.fill(0.0);
        let u = &p.prec_chol[k * d * d..(k + 1) * d * d];
        if p.form == Form::ProductsF32 {
            // As below, with the centred points and the factor rounded to single precision.
            let single = &mut s.single;
            narrow(&s.dx[..d * CHUNK], at_least(&mut single.points, d * CHUNK));
            let y = at_least(&mut single.out, d * CHUNK);
            times_upper(&single.points[..d * CHUNK], &p.prec_chol_single[k * d * d..(k + 1) * d * d], d, y);
            for l in 0..d {
                let y = &y[l * CHUNK..(l + 1) * CHUNK];
                for i in 0..CHUNK {
                    let v = f64::from(y[i]);
                    acc[i] = A::mul_add(v, v, acc[i]);
                }
            }
        } else if p.form == Form::Products {
            // Y = DX U (an upper-triangular product, in D lane rows), then acc_i = |y_i|^2.
            times_upper(&s.dx, u, d, &mut s.rdx);
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

/// Variational M-step (scikit-learn's `_estimate_wishart_full`): per component
/// `W_k^-1 / nu_k = (Psi_0 + N_k S_k + N_k beta_0 / beta_k (x_k - m_0)(x_k - m_0)^T) / nu_k`.
pub(crate) fn wishart(w: &super::WishartInput, out: &mut [f64]) {
    let d = w.d;
    for k in 0..w.nk.len() {
        let diff = &w.diff[k * d..(k + 1) * d];
        let (sk, o) = (&w.sk[k * d * d..(k + 1) * d * d], &mut out[k * d * d..(k + 1) * d * d]);
        let f = w.nk[k] * w.beta0 / w.beta[k];
        for i in 0..d {
            for j in 0..d {
                o[i * d + j] =
                    (w.prior[i * d + j] + w.nk[k] * sk[i * d + j] + f * diff[i] * diff[j]) / w.nu[k];
            }
        }
    }
}

/// `tr(P S)` with `P = U U^T` and `S` given by its upper triangle.
pub(crate) fn scatter_trace(u: &[f64], s: &[f64], d: usize) -> f64 {
    let p = |i: usize, j: usize| (0..d).map(|l| u[i * d + l] * u[j * d + l]).sum::<f64>();
    let mut t = 0.0;
    for i in 0..d {
        t += p(i, i) * s[i * d + i];
        for j in i + 1..d {
            t += 2.0 * p(i, j) * s[i * d + j];
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random precisions `P = U U^T` (U lower triangular with a positive diagonal, so
    /// anisotropic up to ~1:1000) and random directions, by a fixed LCG.
    fn cases(d: usize) -> Vec<(Vec<f64>, Vec<Vec<f64>>)> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut uniform = move || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..500)
            .map(|_| {
                let mut u = vec![0.0; d * d];
                for i in 0..d {
                    for j in 0..=i {
                        u[i * d + j] = if i == j { 0.03 + 3.0 * uniform() } else { 4.0 * uniform() - 2.0 };
                    }
                }
                let ts = (0..50).map(|_| (0..d).map(|_| 2.0 * uniform() - 1.0).collect()).collect();
                (u, ts)
            })
            .collect()
    }

    fn quadratic(u: &[f64], d: usize, t: &[f64]) -> f64 {
        // t^T U U^T t = |U^T t|^2.
        (0..d).map(|l| (0..d).map(|i| u[i * d + l] * t[i]).sum::<f64>().powi(2)).sum()
    }

    #[test]
    fn the_closed_form_smallest_eigenvalue_is_the_power_iterations_one() {
        for (u, _) in cases(3) {
            let p = |i: usize, j: usize| (0..3).map(|l| u[i * 3 + l] * u[j * 3 + l]).sum::<f64>();
            let smallest = smallest_eigenvalue_3(&p);
            // The plain twin: the largest eigenvalue of (trace I - P) by power iteration.
            let trace = p(0, 0) + p(1, 1) + p(2, 2);
            let mut v = [1.0, 0.7, 0.3];
            let mut lambda = 0.0;
            for _ in 0..20_000 {
                let w: Vec<f64> =
                    (0..3).map(|i| trace * v[i] - (0..3).map(|j| p(i, j) * v[j]).sum::<f64>()).collect();
                let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
                lambda = norm;
                v = [w[0] / norm, w[1] / norm, w[2] / norm];
            }
            let power = trace - lambda;
            assert!((smallest - power).abs() <= 1e-6 * trace, "{smallest} vs {power} (trace {trace})");
        }
    }

    #[test]
    fn culling_s_per_feature_and_eigenvalue_bounds_never_exceed_the_quadratic() {
        for d in 1..=3 {
            for (u, ts) in cases(d) {
                let (mut lo, mut hi, mut axis) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
                precision_bounds(&u, d, &mut lo, &mut hi);
                marginal_precisions(&u, d, &mut axis);
                for t in ts {
                    let q = quadratic(&u, d, &t);
                    let sum_lo: f64 = (0..d).map(|j| lo[j] * t[j] * t[j]).sum();
                    assert!(sum_lo <= q * (1.0 + 1e-12), "eigenvalue bound {sum_lo} > {q}");
                    for j in 0..d {
                        assert!(
                            axis[j] * t[j] * t[j] <= q * (1.0 + 1e-12),
                            "axis {j}: {} > {q}",
                            axis[j] * t[j] * t[j]
                        );
                    }
                }
                // The marginal bound is attained, less its 1e-4 slack: along the conditional
                // minimiser, t^T P t = c_j t_j^2.
                if d == 2 {
                    let p = |i: usize, j: usize| (0..d).map(|l| u[i * d + l] * u[j * d + l]).sum::<f64>();
                    let t = [1.0, -p(0, 1) / p(1, 1)];
                    let q = quadratic(&u, d, &t);
                    assert!(axis[0] <= q && axis[0] >= q * (1.0 - 1.1e-4), "{} vs {q}", axis[0]);
                }
            }
        }
    }
}

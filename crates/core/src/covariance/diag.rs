//! `diag`: each component has its own diagonal covariance, stored as `K x D` variances.
//!
//! `sigma2_kj = (1 / N_k) sum_i r_ik (x_ij - mu_kj)^2 + reg_covar`.

use super::{recentre, CovarianceType, Moments, Prepared};
use crate::chunks::{lanes, lanes_mut, Scratch, CHUNK};
use crate::kernels::Arith;

/// M-step: per-feature centred sums of squares -> variances.
pub(crate) fn covariances_from_scatter(m: &Moments, out: &mut [f64]) {
    let Moments { stats, nk, delta, d, reg_covar } = *m;
    let (scatter, sx, sr) = (&stats.scatter, &stats.sx, &stats.sr);
    for k in 0..nk.len() {
        for j in 0..d {
            let at = k * d + j;
            let v = recentre(scatter[at], delta[at], delta[at], sx[at], sx[at], sr[k]);
            out[at] = v / nk[k] + reg_covar;
        }
    }
}

/// `1 / sqrt(sigma2)`; Err(flat index) of the first variance that is not positive.
pub(crate) fn precisions_cholesky(cov: &[f64]) -> Result<Vec<f64>, usize> {
    let mut out = vec![0.0; cov.len()];
    precisions_cholesky_into(cov, &mut out)?;
    Ok(out)
}

/// `1 / sqrt(sigma2)` into `out`; Err(flat index) of the first variance that is not positive.
pub(crate) fn precisions_cholesky_into(cov: &[f64], out: &mut [f64]) -> Result<(), usize> {
    for (i, (u, &v)) in out.iter_mut().zip(cov.iter()).enumerate() {
        if !(v > 0.0 && v.is_finite()) {
            return Err(i);
        }
        *u = 1.0 / v.sqrt();
    }
    Ok(())
}

/// `log det U = sum_j log u_j` of one component's diagonal factor.
#[inline]
pub(crate) fn log_det(u: &[f64]) -> f64 {
    u.iter().map(|u| u.ln()).sum()
}

/// The diagonal precisions themselves bound `t^T P t` per feature (with rounding slack).
pub(crate) fn precision_bounds(u: &[f64], lo: &mut [f64], hi: &mut [f64]) {
    for j in 0..u.len() {
        let v = u[j] * u[j];
        lo[j] = v * (1.0 - 1e-9);
        hi[j] = v * (1.0 + 1e-9);
    }
}

/// Adds `w dx_j^2` to one component's per-feature squares.
#[inline]
pub(crate) fn add_point_squares(squares: &mut [f64], w: f64, dx: &[f64]) {
    for a in 0..dx.len() {
        squares[a] += w * dx[a] * dx[a];
    }
}

/// A diagonal matrix, dense.
pub(crate) fn dense(values: &[f64]) -> Vec<f64> {
    let d = values.len();
    let mut m = vec![0.0; d * d];
    for (j, v) in values.iter().enumerate() {
        m[j * d + j] = *v;
    }
    m
}

/// Every variance of a loaded model positive (`per` values per component).
pub(crate) fn check_variances(cov: &[f64], per: usize) -> Result<(), String> {
    match cov.iter().position(|&v| v <= 0.0) {
        Some(i) => Err(format!("'covariances' of component {} is not positive", i / per)),
        None => Ok(()),
    }
}

pub(crate) fn from_precisions(prec: &[f64]) -> Result<(Vec<f64>, Vec<f64>), usize> {
    let chol = prec
        .iter()
        .enumerate()
        .map(|(i, &p)| if p > 0.0 && p.is_finite() { Ok(p.sqrt()) } else { Err(i) })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((chol, prec.iter().map(|p| 1.0 / p).collect()))
}

/// Diagonal and spherical covariances with the dimension known at compile time.
#[inline(always)]
pub(crate) fn log_prob_fixed<A: Arith, const D: usize>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
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

/// Diagonal and spherical covariances: `sum_j ((x_j - mu_kj) u_kj)^2`.
#[inline(always)]
pub(crate) fn log_prob_any<A: Arith>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    let d = p.d;
    let spherical = p.kind == CovarianceType::Spherical;
    for (row, &k) in s.active.iter().enumerate() {
        let acc: &mut [f64; CHUNK] = lanes_mut(&mut s.acc, 0);
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

/// Variational M-step (scikit-learn's `_estimate_wishart_diag`):
/// `(psi_0j + N_k (s_kj + beta_0 / beta_k (x_kj - m_0j)^2)) / nu_k`.
pub(crate) fn wishart(w: &super::WishartInput, out: &mut [f64]) {
    let d = w.d;
    for k in 0..w.nk.len() {
        for j in 0..d {
            let at = k * d + j;
            let v = w.prior[j] + w.nk[k] * (w.sk[at] + w.beta0 / w.beta[k] * w.diff[at] * w.diff[at]);
            out[at] = v / w.nu[k];
        }
    }
}

/// `sum_j u_j^2 s_j`: `tr(P S)` of a diagonal precision and per-feature squares.
pub(crate) fn scatter_trace(u: &[f64], s: &[f64]) -> f64 {
    u.iter().zip(s).map(|(u, s)| u * u * s).sum()
}

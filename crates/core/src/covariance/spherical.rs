//! `spherical`: each component has one variance shared by all features.
//!
//! `sigma2_k = (1 / D) sum_j [(1 / N_k) sum_i r_ik (x_ij - mu_kj)^2 + reg_covar]`, the mean of
//! the `diag` variances, as in scikit-learn.

use super::{diag, Moments};

/// M-step: per-feature centred sums of squares -> one variance per component.
pub(crate) fn covariances_from_scatter(m: &Moments, variances_scratch: &mut [f64], out: &mut [f64]) {
    let d = m.d;
    diag::covariances_from_scatter(m, variances_scratch);
    for (k, o) in out.iter_mut().enumerate() {
        *o = variances_scratch[k * d..(k + 1) * d].iter().sum::<f64>() / d as f64;
    }
}

pub(crate) fn precisions_cholesky(cov: &[f64]) -> Result<Vec<f64>, usize> {
    diag::precisions_cholesky(cov)
}

pub(crate) fn from_precisions(prec: &[f64]) -> Result<(Vec<f64>, Vec<f64>), usize> {
    diag::from_precisions(prec)
}

/// `log det U = D log u` of one component.
#[inline]
pub(crate) fn log_det(u: f64, d: usize) -> f64 {
    d as f64 * u.ln()
}

/// One variance: `t^T P t = u^2 |t|^2` exactly (with rounding slack).
pub(crate) fn precision_bounds(u: f64, lo: &mut [f64], hi: &mut [f64]) {
    let v = u * u;
    super::fill_bounds(v, v, lo, hi);
}

/// Variational M-step (scikit-learn's `_estimate_wishart_spherical`):
/// `(psi_0 + N_k (s_k + beta_0 / beta_k mean_j (x_kj - m_0j)^2)) / nu_k`.
pub(crate) fn wishart(w: &super::WishartInput, out: &mut [f64]) {
    let d = w.d;
    for k in 0..w.nk.len() {
        let diff = &w.diff[k * d..(k + 1) * d];
        let mean_sq = diff.iter().map(|v| v * v).sum::<f64>() / d as f64;
        out[k] = (w.prior[0] + w.nk[k] * (w.sk[k] + w.beta0 / w.beta[k] * mean_sq)) / w.nu[k];
    }
}

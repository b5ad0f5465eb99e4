//! `diag`: each component has its own diagonal covariance, stored as `K x D` variances.
//!
//! `sigma2_kj = (1 / N_k) sum_i r_ik (x_ij - mu_kj)^2 + reg_covar`.

use super::recentre;

/// M-step: per-feature centred sums of squares -> variances.
pub(crate) fn covariances_from_scatter(
    scatter: &[f64],
    sx: &[f64],
    sr: &[f64],
    nk: &[f64],
    delta: &[f64],
    d: usize,
    reg_covar: f64,
    out: &mut [f64],
) {
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
    cov.iter()
        .enumerate()
        .map(|(i, &v)| if v > 0.0 && v.is_finite() { Ok(1.0 / v.sqrt()) } else { Err(i) })
        .collect()
}

pub(crate) fn from_precisions(prec: &[f64]) -> Result<(Vec<f64>, Vec<f64>), usize> {
    let chol = prec
        .iter()
        .enumerate()
        .map(|(i, &p)| if p > 0.0 && p.is_finite() { Ok(p.sqrt()) } else { Err(i) })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((chol, prec.iter().map(|p| 1.0 / p).collect()))
}

//! `tied`: one `D x D` covariance shared by all components.
//!
//! `Sigma = (1 / sum_k N_k) sum_k sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T + reg_covar I`.

use super::{full, recentre};

/// M-step: the pooled centred scatter (each component around its own shift) -> covariance.
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
    let total: f64 = nk.iter().sum();
    for i in 0..d {
        for j in i..d {
            let mut v = scatter[i * d + j];
            for k in 0..nk.len() {
                let (dl, s) = (&delta[k * d..(k + 1) * d], &sx[k * d..(k + 1) * d]);
                v = recentre(v, dl[i], dl[j], s[i], s[j], sr[k]);
            }
            out[i * d + j] = v / total;
            out[j * d + i] = v / total;
        }
        out[i * d + i] += reg_covar;
    }
}

pub(crate) fn precisions_cholesky(cov: &[f64], d: usize) -> Result<Vec<f64>, usize> {
    full::precisions_cholesky(cov, 1, d)
}

pub(crate) fn from_precisions(prec: &[f64], d: usize) -> Result<(Vec<f64>, Vec<f64>), usize> {
    full::from_precisions(prec, 1, d)
}

pub(crate) fn precisions(prec_chol: &[f64], d: usize) -> Vec<f64> {
    full::precisions(prec_chol, 1, d)
}

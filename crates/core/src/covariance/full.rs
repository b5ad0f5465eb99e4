//! `full`: each component has its own `D x D` covariance.
//!
//! `Sigma_k = (1 / N_k) sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T + reg_covar I`.

use super::recentre;
use crate::linalg::{
    cholesky_lower, cholesky_lower_into, inverse_transpose_lower_into, invert_lower, mul_transpose, transpose,
};

/// M-step: centred scatter (around `shifts`) -> covariances, in place of `scatter`'s layout.
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
    if !crate::linalg::is_symmetric(prec, d) {
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

//! `tied`: one `D x D` covariance shared by all components.
//!
//! `Sigma = (1 / sum_k N_k) sum_k sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T + reg_covar I`.

use super::{full, recentre, Moments, Prepared};
use crate::chunks::{lanes, lanes_mut, Scratch, CHUNK};
use crate::kernels::Arith;
use crate::linalg::products::times_upper;

/// M-step: the pooled centred scatter (each component around its own shift) -> covariance.
pub(crate) fn covariances_from_scatter(m: &Moments, out: &mut [f64]) {
    let Moments { stats, nk, delta, d, reg_covar } = *m;
    let (scatter, sx, sr) = (&stats.scatter, &stats.sx, &stats.sr);
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

/// `mu_k^T U` for every component (`K x D`): the tied kernel evaluates `|x^T U - mu_k^T U|^2`.
pub(crate) fn mean_prec(means: &[f64], prec_chol: &[f64], k: usize, d: usize, out: &mut [f64]) {
    for c in 0..k {
        for l in 0..d {
            out[c * d + l] = (0..=l).map(|j| means[c * d + j] * prec_chol[j * d + l]).sum();
        }
    }
}

/// Tied covariance: `X U` once per chunk, then `|x^T U - mu_k^T U|^2` per component.
#[inline(always)]
pub(crate) fn log_prob_any<A: Arith>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    let d = p.d;
    // (X U)^T = U^T X^T, one output row at a time, or by matrix multiply for large D.
    // Tied's one product per chunk is not what its pass costs: it stays in f64 under F32.
    if p.form.products() {
        times_upper(xs, &p.prec_chol, d, &mut s.dx);
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
        let acc: &mut [f64; CHUNK] = lanes_mut(&mut s.acc, 0);
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

/// Variational M-step (scikit-learn's `_estimate_wishart_tied`): one scale,
/// `(Psi_0 + S sum_k N_k / K + beta_0 / K sum_k (N_k / beta_k) (x_k - m_0)(x_k - m_0)^T) / nu`.
pub(crate) fn wishart(w: &super::WishartInput, out: &mut [f64]) {
    let (d, k) = (w.d, w.nk.len());
    let mean_nk = w.nk.iter().sum::<f64>() / k as f64;
    for i in 0..d {
        for j in 0..d {
            let between: f64 =
                (0..k).map(|c| w.nk[c] / w.beta[c] * w.diff[c * d + i] * w.diff[c * d + j]).sum();
            let v = w.prior[i * d + j] + w.sk[i * d + j] * mean_nk + w.beta0 / k as f64 * between;
            out[i * d + j] = v / w.nu[0];
        }
    }
}

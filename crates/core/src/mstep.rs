//! The M-step: sufficient statistics -> parameters.
//!
//! ```text
//! N_k   = sum_i w_i r_ik + 10 eps                      (scikit-learn's guard for empty components)
//! pi_k  = N_k / (sum_j N_j + N_0)                      (N_0: a background's count, if any)
//! mu_k  = (sum_i w_i r_ik x_i) / N_k                    = (sx_k + c_k sr_k) / N_k
//! Sigma = centred scatter around mu_k / N_k + reg_covar  (see `covariance::recentre`)
//! U_k   = chol(Sigma_k)^{-T}
//! ```
//! The statistics were accumulated around shifts `c_k` (the previous means), so the
//! correction from `c_k` to the new `mu_k` is small and nothing cancels catastrophically.

use crate::covariance::{CovarianceType, Moments, SuffStats};
use crate::error::Result;
use crate::model::Mixture;

/// scikit-learn adds `10 * eps` to every `N_k` so an empty component divides by a tiny
/// number instead of zero.
pub(crate) const EMPTY_GUARD: f64 = 10.0 * f64::EPSILON;

/// Small buffers the M-step reuses every iteration.
pub(crate) struct MStepScratch {
    /// `N_k` of the last M-step (with the guard).
    pub nk: Vec<f64>,
    /// The shifts the statistics were taken around (a copy of the entering means).
    pub shifts: Vec<f64>,
    delta: Vec<f64>,
    pub chol: Vec<f64>,
    variances: Vec<f64>,
}

impl MStepScratch {
    pub(crate) fn new(k: usize, d: usize) -> MStepScratch {
        MStepScratch {
            nk: vec![0.0; k],
            shifts: Vec::with_capacity(k * d),
            delta: vec![0.0; k * d],
            chol: vec![0.0; d * d],
            variances: vec![0.0; k * d],
        }
    }
}

/// How the mixing weights are normalised.
#[derive(Clone, Copy)]
pub(crate) enum WeightNorm {
    /// `N_k / sum_j N_j` (every EM iteration).
    SumOfCounts,
    /// `N_k / total sample weight` (scikit-learn's initialisation from responsibilities).
    TotalWeight(f64),
}

/// The Gaussian moments of weighted statistics accumulated around `shifts`, as scikit-learn's
/// `_estimate_gaussian_parameters`: `N_k` (with the guard) into `scratch.nk`, the means into
/// `means`, the kind's covariances (with `reg_covar`) into `cov`.
pub(crate) fn gaussian_moments(
    kind: CovarianceType,
    stats: &SuffStats,
    shifts: &[f64],
    reg_covar: f64,
    scratch: &mut MStepScratch,
    means: &mut [f64],
    cov: &mut [f64],
) {
    let (k, d) = (stats.sr.len(), shifts.len() / stats.sr.len().max(1));
    let nk = &mut scratch.nk;
    for c in 0..k {
        nk[c] = stats.sr[c] + EMPTY_GUARD;
    }
    for c in 0..k {
        for j in 0..d {
            let at = c * d + j;
            let mean = (stats.sx[at] + shifts[at] * stats.sr[c]) / nk[c];
            means[at] = mean;
            scratch.delta[at] = mean - shifts[at];
        }
    }
    let moments = Moments { stats, nk, delta: &scratch.delta, d, reg_covar };
    kind.covariances_from_scatter(&moments, &mut scratch.variances, cov);
}

/// Replaces the parameters of `model` by the M-step estimates from `stats`, which were
/// accumulated around `shifts` (`K x D`).
pub(crate) fn m_step(
    stats: &SuffStats,
    shifts: &[f64],
    reg_covar: f64,
    norm: WeightNorm,
    model: &mut Mixture,
    scratch: &mut MStepScratch,
) -> Result<()> {
    let (k, d, kind) = (model.n_components(), model.n_features(), model.covariance_type());
    // A background's count, with the same guard as the Gaussians' (so its weight never
    // reaches 0 and its log never -inf).
    let background = model.background().map(|_| stats.background + EMPTY_GUARD);
    let parts = model.parts_mut();
    gaussian_moments(kind, stats, shifts, reg_covar, scratch, parts.means, parts.covariances);
    let nk = &scratch.nk;
    let divisor = match (norm, background) {
        (WeightNorm::SumOfCounts, None) => nk.iter().sum(),
        (WeightNorm::SumOfCounts, Some(n0)) => nk.iter().sum::<f64>() + n0,
        (WeightNorm::TotalWeight(w), _) => w,
    };
    for c in 0..k {
        parts.weights[c] = nk[c] / divisor;
    }
    let result = kind.precisions_cholesky_into(
        parts.covariances,
        d,
        reg_covar,
        parts.precisions_cholesky,
        &mut scratch.chol,
    );
    if let Some(n0) = background {
        model.set_background_weight(n0 / divisor);
    }
    result
}

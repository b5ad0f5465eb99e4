//! The fitted variational mixture and its two steps, as scikit-learn's `BayesianGaussianMixture`
//! defines them (Bishop, *PRML* 10.2; Blei & Jordan 2006 for the Dirichlet process):
//!
//! ```text
//! E-step   log rho_ik = E[log pi_k] + log N(x_i | m_k, W_k^-1 / nu_k) - D/2 log nu_k
//!                       + 1/2 (D log 2 + sum_j psi((nu_k - j) / 2) - D / beta_k)
//!          E[log pi_k] = psi(a_k) - psi(a_k + b_k) + sum_{j<k} (psi(b_j) - psi(a_j + b_j))   (process)
//!                      = psi(alpha_k) - psi(sum alpha)                                       (distribution)
//! M-step   N_k, x_k, S_k from the responsibilities (with reg_covar), then
//!          a_k = 1 + N_k, b_k = alpha_0 + sum_{j>k} N_j  |  alpha_k = alpha_0 + N_k
//!          beta_k = beta_0 + N_k,  m_k = (beta_0 m_0 + N_k x_k) / beta_k,  nu_k = nu_0 + N_k
//!          W_k^-1 / nu_k: the kind's Wishart update (covariance/), then its Cholesky
//! bound    -sum r log r - sum log B(W_k, nu_k) - log C(alpha) - D/2 sum log beta_k
//! ```
//! The E-step is the fused pass with these per-component constants; nothing loops over points
//! here. The bound is scikit-learn's (its constant terms dropped), so the two agree.
//!
//! A uniform background (`crate::background`) joins as a component whose weight `pi_0` is a
//! point estimate beside the Gaussians' Dirichlet(-process) weights: a point is background
//! with probability `pi_0`, else drawn from the Gaussians with weights `pi_k`, so
//! ```text
//! E-step   log rho_ik gains ln(1 - pi_0);  log rho_i0 = ln pi_0 - ln V (inside the box)
//! M-step   the posteriors above from the Gaussians' N_k alone;  pi_0 = N_0 / (sum_k N_k + N_0)
//! bound    + sum_k N_k ln(1 - pi_0) + N_0 (ln pi_0 - ln V + D/2 ln 2 pi)   (and r_i0 ln r_i0 in the entropy)
//! ```
//! `pi_0` maximises the bound, so variational EM still never lowers it.

use statrs::function::gamma::{digamma, ln_gamma};

use super::priors::Priors;
use super::WeightPrior;
use crate::covariance::{CovarianceType, Prepared, SuffStats, WishartInput};
use crate::driver::Model;
use crate::error::Result;
use crate::model::Mixture;
use crate::mstep::{gaussian_moments, MStepScratch, EMPTY_GUARD};

/// A fitted variational Gaussian mixture: the posterior's parameters and the priors.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VariationalMixture {
    /// The weight prior's kind.
    pub weight_prior: WeightPrior,
    /// The priors the fit used.
    pub priors: Priors,
    /// Process: the Beta parameters `a_k`; distribution: the Dirichlet's `alpha_k`.
    pub concentration_a: Vec<f64>,
    /// Process: the Beta parameters `b_k`; empty for the distribution.
    pub concentration_b: Vec<f64>,
    /// `beta_k` (`mean_precision_`).
    pub mean_precision: Vec<f64>,
    /// `nu_k` (`degrees_of_freedom_`); one value for `tied`.
    pub degrees_of_freedom: Vec<f64>,
    /// The expected weights, the means `m_k`, the covariances `W_k^-1 / nu_k` and their
    /// precision Cholesky factors (`weights_`, `means_`, `covariances_`, `precisions_cholesky_`).
    pub mixture: Mixture,
}

const FORMAT_NAME: &str = "einmix.BayesianMixture";

impl VariationalMixture {
    /// A posterior from its parts, checked: one concentration (and, for the process, one `b`)
    /// per component, `beta_k`, `nu_k` (one for tied), all finite and positive.
    pub fn from_parts(
        weight_prior: WeightPrior,
        priors: Priors,
        concentration: (Vec<f64>, Vec<f64>),
        mean_precision: Vec<f64>,
        degrees_of_freedom: Vec<f64>,
        mixture: Mixture,
    ) -> Result<VariationalMixture> {
        let (concentration_a, concentration_b) = concentration;
        let m = VariationalMixture {
            weight_prior,
            priors,
            concentration_a,
            concentration_b,
            mean_precision,
            degrees_of_freedom,
            mixture,
        };
        m.check().map(|()| m)
    }

    fn check(&self) -> Result<()> {
        let (kind, k, _) = self.mixture.shape();
        let b_len = if self.weight_prior == WeightPrior::DirichletProcess { k } else { 0 };
        let nu_len = if kind.is_shared() { 1 } else { k };
        let positive = |v: &[f64]| v.iter().all(|x| x.is_finite() && *x > 0.0);
        let fits = self.concentration_a.len() == k
            && self.concentration_b.len() == b_len
            && self.mean_precision.len() == k
            && self.degrees_of_freedom.len() == nu_len;
        let values =
            [&self.concentration_a, &self.concentration_b, &self.mean_precision, &self.degrees_of_freedom];
        if fits && values.iter().all(|v| positive(v)) {
            Ok(())
        } else {
            Err(crate::error::Error::InvalidModel {
                message: "the variational state (concentrations, mean precisions, degrees of freedom) does not fit the mixture".into(),
            })
        }
    }

    /// The model as JSON: the mixture's own fields and the variational state, round-tripping
    /// through [`VariationalMixture::from_json`].
    pub fn to_json(&self) -> String {
        let mut value = serde_json::to_value(self).expect("a variational mixture always serialises");
        value["format"] = serde_json::Value::from(FORMAT_NAME);
        serde_json::to_string_pretty(&value).expect("a JSON value always prints")
    }

    /// Reads a model written by [`VariationalMixture::to_json`], checking it.
    pub fn from_json(text: &str) -> Result<VariationalMixture> {
        let bad = |message: String| crate::error::Error::InvalidModel { message };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
            return Err(bad(format!("not a '{FORMAT_NAME}' model")));
        }
        let m: VariationalMixture = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
        m.check().map(|()| m)
    }

    /// Whether `text` holds a variational model (its `format` field).
    pub fn is_json(text: &str) -> bool {
        text.contains(FORMAT_NAME)
    }
}

fn betaln(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

impl VariationalMixture {
    /// `E[log pi_k]`.
    pub fn expected_log_weights(&self) -> Vec<f64> {
        let a = &self.concentration_a;
        match self.weight_prior {
            WeightPrior::DirichletProcess => {
                let b = &self.concentration_b;
                let mut tail = 0.0;
                (0..a.len())
                    .map(|k| {
                        let digamma_sum = digamma(a[k] + b[k]);
                        let v = digamma(a[k]) - digamma_sum + tail;
                        tail += digamma(b[k]) - digamma_sum;
                        v
                    })
                    .collect()
            }
            WeightPrior::DirichletDistribution => {
                let total = digamma(a.iter().sum());
                a.iter().map(|&x| digamma(x) - total).collect()
            }
        }
    }

    /// `nu` of component `c` (the one value for `tied`).
    fn nu(&self, c: usize) -> f64 {
        self.degrees_of_freedom[c.min(self.degrees_of_freedom.len() - 1)]
    }

    /// The background's weight `pi_0` (0 without one).
    fn background_weight(&self) -> f64 {
        self.mixture.background().map_or(0.0, |b| b.weight())
    }

    /// Each component's additive log term in the E-step (all but the Gaussian's own).
    pub(crate) fn log_terms(&self) -> Vec<f64> {
        let d = self.mixture.n_features() as f64;
        // The Gaussians share what the background leaves: `ln(1 - pi_0)` (0 without one).
        let gaussians_share = (-self.background_weight()).ln_1p();
        self.expected_log_weights()
            .into_iter()
            .enumerate()
            .map(|(c, log_weight)| {
                let nu = self.nu(c);
                let log_lambda = d * 2f64.ln()
                    + (0..self.mixture.n_features()).map(|j| digamma(0.5 * (nu - j as f64))).sum::<f64>();
                gaussians_share + log_weight - 0.5 * d * nu.ln()
                    + 0.5 * (log_lambda - d / self.mean_precision[c])
            })
            .collect()
    }

    /// The expected weights from the concentrations (`weights_`).
    fn expected_weights(&self) -> Vec<f64> {
        let a = &self.concentration_a;
        let mut w: Vec<f64> = match self.weight_prior {
            WeightPrior::DirichletProcess => {
                let b = &self.concentration_b;
                let mut stick = 1.0;
                (0..a.len())
                    .map(|k| {
                        let sum = a[k] + b[k];
                        let v = a[k] / sum * stick;
                        stick *= b[k] / sum;
                        v
                    })
                    .collect()
            }
            WeightPrior::DirichletDistribution => a.clone(),
        };
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= total);
        w
    }

    /// The variational M-step from the statistics (around `shifts`): the posterior's
    /// parameters, the expected weights, and the precision factors.
    pub(crate) fn m_step(
        &mut self,
        stats: &SuffStats,
        shifts: &[f64],
        reg_covar: f64,
        scratch: &mut MStepScratch,
    ) -> Result<()> {
        let (kind, k, d) =
            (self.mixture.covariance_type(), self.mixture.n_components(), self.mixture.n_features());
        let (mut xk, mut sk) = (vec![0.0; k * d], vec![0.0; kind.len(k, d)]);
        gaussian_moments(kind, stats, shifts, reg_covar, scratch, &mut xk, &mut sk);
        let nk = &scratch.nk;
        let p = &self.priors;
        match self.weight_prior {
            WeightPrior::DirichletProcess => {
                self.concentration_a = nk.iter().map(|n| 1.0 + n).collect();
                let mut tail = 0.0;
                self.concentration_b = vec![0.0; k];
                for c in (0..k).rev() {
                    self.concentration_b[c] = p.weight_concentration + tail;
                    tail += nk[c];
                }
            }
            WeightPrior::DirichletDistribution => {
                self.concentration_a = nk.iter().map(|n| p.weight_concentration + n).collect();
            }
        }
        self.mean_precision = nk.iter().map(|n| p.mean_precision + n).collect();
        let mut means = vec![0.0; k * d];
        let mut diff = vec![0.0; k * d];
        for c in 0..k {
            for j in 0..d {
                let at = c * d + j;
                means[at] = (p.mean_precision * p.mean[j] + nk[c] * xk[at]) / self.mean_precision[c];
                diff[at] = xk[at] - p.mean[j];
            }
        }
        self.degrees_of_freedom = if kind.is_shared() {
            vec![p.degrees_of_freedom + nk.iter().sum::<f64>() / k as f64]
        } else {
            nk.iter().map(|n| p.degrees_of_freedom + n).collect()
        };
        let input = WishartInput {
            prior: &p.covariance,
            nk,
            sk: &sk,
            diff: &diff,
            beta: &self.mean_precision,
            beta0: p.mean_precision,
            nu: &self.degrees_of_freedom,
            d,
        };
        let mut weights = self.expected_weights();
        // A background's weight maximises the bound given the E-step: its share of the counts,
        // with the Gaussians' guard (so it never reaches 0 and its log never -inf).
        // Capped below 1 so that the Gaussians' `ln(1 - pi_0)` stays finite: against a floor of
        // millions of pixels their guards alone are lost to rounding.
        let background_weight = self.mixture.background().map(|_| {
            let share =
                (stats.background + EMPTY_GUARD) / (nk.iter().sum::<f64>() + stats.background + EMPTY_GUARD);
            share.min(1.0 - f64::EPSILON)
        });
        if let Some(pi0) = background_weight {
            weights.iter_mut().for_each(|w| *w *= 1.0 - pi0);
            self.mixture.set_background_weight(pi0);
        }
        let parts = self.mixture.parts_mut();
        kind.wishart_covariances(&input, parts.covariances);
        parts.means.copy_from_slice(&means);
        parts.weights.copy_from_slice(&weights);
        kind.precisions_cholesky_into(
            parts.covariances,
            d,
            reg_covar,
            parts.precisions_cholesky,
            &mut scratch.chol,
        )
    }

    /// `sum_i w_i sum_k r_ik log r_ik` of an E-step under `self`, from its statistics alone:
    /// `log r_ik = lp_ik - log p(x_i)` and `sum_k r_ik = 1` give
    /// `sum_k r_ik log r_ik = sum_k r_ik lp_ik - log p(x_i)`, and with
    /// `lp_ik = c_k - 1/2 (x_i - mu_k)^T P_k (x_i - mu_k)` and the scatter taken around `mu_k`,
    /// `sum_i w_i r_ik lp_ik = c_k N_k - 1/2 tr(P_k S_k)`. No per-point work beyond the pass.
    fn responsibility_entropy(&self, stats: &SuffStats) -> f64 {
        let m = &self.mixture;
        let (kind, k, d) = (m.covariance_type(), m.n_components(), m.n_features());
        let mut prepared = Prepared::new(kind, k, d);
        self.prepare(&mut prepared);
        let mut weighted = 0.0;
        for c in 0..k {
            let trace = kind.precision_scatter_trace(m.precisions_cholesky_slice(), &stats.scatter, c, d);
            weighted +=
                prepared.log_const[c] * stats.sr[c] - if kind.is_shared() { 0.0 } else { 0.5 * trace };
        }
        if kind.is_shared() {
            weighted -=
                0.5 * kind.precision_scatter_trace(m.precisions_cholesky_slice(), &stats.scatter, 0, d);
        }
        // A background's `lp_i0 = ln pi_0 - ln V` is the same at every point it explains.
        weighted += prepared.background.map_or(0.0, |term| term * stats.background);
        weighted - stats.log_lik
    }

    /// scikit-learn's `_compute_lower_bound`: `entropy = sum_i w_i sum_k r log r` of the E-step.
    pub(crate) fn lower_bound(&self, entropy: f64) -> f64 {
        let m = &self.mixture;
        let (kind, k, d) = (m.covariance_type(), m.n_components(), m.n_features());
        let df = d as f64;
        let log_wishart_norm = |c: usize| {
            let nu = self.nu(c);
            let log_det = kind.log_det(m.precisions_cholesky_slice(), c, d) - 0.5 * df * nu.ln();
            let gammas: f64 = (0..d).map(|j| ln_gamma(0.5 * (nu - j as f64))).sum();
            -(nu * log_det + nu * df * 0.5 * 2f64.ln() + gammas)
        };
        let log_wishart = if kind == CovarianceType::Tied {
            k as f64 * log_wishart_norm(0)
        } else {
            (0..k).map(log_wishart_norm).sum()
        };
        let a = &self.concentration_a;
        let log_norm_weight = match self.weight_prior {
            WeightPrior::DirichletProcess => {
                -(0..k).map(|c| betaln(a[c], self.concentration_b[c])).sum::<f64>()
            }
            WeightPrior::DirichletDistribution => {
                ln_gamma(a.iter().sum()) - a.iter().map(|&x| ln_gamma(x)).sum::<f64>()
            }
        };
        let log_beta: f64 = self.mean_precision.iter().map(|b| b.ln()).sum();
        -entropy - log_wishart - log_norm_weight - 0.5 * df * log_beta
    }
}

impl VariationalMixture {
    /// A background's terms of the bound under the new `pi_0`: the Gaussians' points pay
    /// `ln(1 - pi_0)` each, the background's `ln pi_0 - ln V` (0 without a background).
    /// scikit-learn's bound leaves out the Gaussians' `-D/2 ln(2 pi)` per point, a constant
    /// only while every point is theirs: kept on the same footing, the background's points
    /// gain it back (`+ N_0 D/2 ln(2 pi)`), so the bound is the ELBO up to that constant.
    fn background_bound(&self, stats: &SuffStats) -> f64 {
        match self.mixture.background() {
            Some(b) => {
                let gaussians: f64 = stats.sr.iter().sum();
                let half_log_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
                let d = self.mixture.n_features() as f64;
                gaussians * (-b.weight()).ln_1p() + stats.background * (b.log_term() + d * half_log_2pi)
            }
            None => 0.0,
        }
    }
}

impl Model for VariationalMixture {
    fn shape(&self) -> (CovarianceType, usize, usize) {
        self.mixture.shape()
    }

    fn prepare(&self, prepared: &mut Prepared) {
        let terms = self.log_terms();
        let m = &self.mixture;
        prepared.update_with(|c| terms[c], m.means_slice(), m.precisions_cholesky_slice());
        prepared.set_background(m.background());
    }

    /// Each posterior parameter is the prior's term plus `N_k`'s (`1 + N_k`, `alpha_0 + N_k`,
    /// `beta_0 + N_k`, `nu_0 + N_k`, `Psi_0 + N_k S_k`), so a component's skipped mass is
    /// measured against `N_k` plus the smallest prior term: an empty component (the Dirichlet
    /// process makes many) does not force every pass to be redone without culling.
    fn culling_was_exact(&self, stats: &SuffStats) -> bool {
        let p = &self.priors;
        let floor = p.mean_precision.min(p.degrees_of_freedom).min(p.weight_concentration).min(1.0);
        stats.skipped.iter().zip(&stats.sr).all(|(s, r)| *s <= 1e-13 * (r + floor))
    }

    fn update(
        &mut self,
        stats: &SuffStats,
        _total_weight: f64,
        _e_step_bound: f64,
        reg_covar: f64,
        scratch: &mut MStepScratch,
    ) -> Result<f64> {
        let entropy = self.responsibility_entropy(stats);
        let mut shifts = std::mem::take(&mut scratch.shifts);
        shifts.clear();
        shifts.extend_from_slice(self.mixture.means_slice());
        let result = self.m_step(stats, &shifts, reg_covar, scratch);
        scratch.shifts = shifts;
        result?;
        Ok(self.lower_bound(entropy) + self.background_bound(stats))
    }
}

//! The priors of the variational mixture, as scikit-learn's `BayesianGaussianMixture` sets them:
//!
//! ```text
//! weight_concentration_prior  alpha_0 = 1 / K              (given: > 0)
//! mean_precision_prior        beta_0  = 1                  (given: > 0)
//! mean_prior                  m_0     = mean of X          (given: shape (D,))
//! degrees_of_freedom_prior    nu_0    = D                  (given: > D - 1)
//! covariance_prior            Psi_0   = cov(X) (ddof 1)    full, tied: (D, D) positive definite
//!                                       var(X) (ddof 1)    diag: (D,) positive
//!                                       mean of var(X)     spherical: > 0
//! ```
//! With sample weights the data's mean and covariance are the weighted ones, with the weights
//! as frequencies (`numpy.cov(X.T, fweights=w)`), so an integer weight is a repeated row.

use ndarray::{ArrayView1, ArrayView2};

use crate::chunks::Element;
use crate::covariance::CovarianceType;
use crate::error::{Error, Input, Result};
use crate::linalg::{cholesky_lower, is_symmetric};
use crate::validate::shape_text;

/// The resolved priors.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Priors {
    /// `alpha_0` (`weight_concentration_prior_`).
    pub weight_concentration: f64,
    /// `beta_0` (`mean_precision_prior_`).
    pub mean_precision: f64,
    /// `m_0` (`mean_prior_`), `D` values.
    pub mean: Vec<f64>,
    /// `nu_0` (`degrees_of_freedom_prior_`).
    pub degrees_of_freedom: f64,
    /// `Psi_0` (`covariance_prior_`) in the kind's layout: `D x D`, `D`, or one value.
    pub covariance: Vec<f64>,
}

/// What the user gave (each `None`: scikit-learn's default from the data).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct GivenPriors {
    pub weight_concentration: Option<f64>,
    pub mean_precision: Option<f64>,
    pub mean: Option<Vec<f64>>,
    pub degrees_of_freedom: Option<f64>,
    pub covariance: Option<Vec<f64>>,
}

fn invalid(name: &'static str, value: impl ToString, expected: &'static str) -> Error {
    Error::InvalidParameter { name, value: value.to_string(), expected }
}

impl GivenPriors {
    /// Checks what can be checked without data.
    pub(crate) fn validate(&self) -> Result<()> {
        let positive = |v: Option<f64>, name, expected| match v {
            Some(x) if !(x > 0.0 && x.is_finite()) => Err(invalid(name, x, expected)),
            _ => Ok(()),
        };
        positive(
            self.weight_concentration,
            "weight_concentration_prior",
            "The 'weight_concentration_prior' parameter must be a float in the range (0.0, inf) or None.",
        )?;
        positive(
            self.mean_precision,
            "mean_precision_prior",
            "The 'mean_precision_prior' parameter must be a float in the range (0.0, inf) or None.",
        )?;
        if let Some(nu) = self.degrees_of_freedom {
            if !nu.is_finite() {
                let expected = "The 'degrees_of_freedom_prior' parameter must be a finite float or None.";
                return Err(invalid("degrees_of_freedom_prior", nu, expected));
            }
        }
        Ok(())
    }

    /// The priors for data `x` (weights `w`) and a `kind` mixture of `k` components.
    pub(crate) fn resolve<T: Element>(
        &self,
        kind: CovarianceType,
        k: usize,
        x: ArrayView2<T>,
        w: Option<ArrayView1<f64>>,
    ) -> Result<Priors> {
        self.validate()?;
        let d = x.ncols();
        let mean = match &self.mean {
            Some(m) => {
                if m.len() != d {
                    return Err(Error::WrongShape {
                        input: Input::MeanPrior,
                        expected: shape_text(&[d]),
                        found: shape_text(&[m.len()]),
                    });
                }
                if let Some(j) = m.iter().position(|v| !v.is_finite()) {
                    let what = if m[j].is_nan() { "NaN" } else { "infinity" };
                    return Err(Error::NonFinite { input: Input::MeanPrior, what, row: 0, column: j });
                }
                m.clone()
            }
            None => weighted_mean(x, w),
        };
        let degrees_of_freedom = match self.degrees_of_freedom {
            None => d as f64,
            Some(nu) if nu > d as f64 - 1.0 => nu,
            Some(nu) => {
                return Err(Error::DegreesOfFreedomPrior { value: nu, n_features: d });
            }
        };
        let covariance = match &self.covariance {
            Some(c) => check_covariance_prior(kind, c, d)?,
            None => data_covariance(kind, x, w)?,
        };
        Ok(Priors {
            weight_concentration: self.weight_concentration.unwrap_or(1.0 / k as f64),
            mean_precision: self.mean_precision.unwrap_or(1.0),
            mean,
            degrees_of_freedom,
            covariance,
        })
    }
}

fn weighted_mean<T: Element>(x: ArrayView2<T>, w: Option<ArrayView1<f64>>) -> Vec<f64> {
    let (n, d) = x.dim();
    let total: f64 = w.map_or(n as f64, |w| w.sum());
    (0..d).map(|j| (0..n).map(|i| w.map_or(1.0, |w| w[i]) * x[[i, j]].into()).sum::<f64>() / total).collect()
}

/// `numpy.cov(X.T, fweights=w)` (ddof 1), in the kind's prior layout.
fn data_covariance<T: Element>(
    kind: CovarianceType,
    x: ArrayView2<T>,
    w: Option<ArrayView1<f64>>,
) -> Result<Vec<f64>> {
    let (n, d) = x.dim();
    let total: f64 = w.map_or(n as f64, |w| w.sum());
    if total <= 1.0 {
        return Err(Error::InvalidParameter {
            name: "covariance_prior",
            value: "None".into(),
            expected: "the default covariance_prior is the data's covariance, which needs a total sample weight above 1; give covariance_prior.",
        });
    }
    let mean = weighted_mean(x, w);
    let dense = kind.is_dense();
    let mut cov = vec![0.0; d * d];
    let mut dx = vec![0.0; d];
    for i in 0..n {
        let wi = w.map_or(1.0, |w| w[i]);
        for j in 0..d {
            dx[j] = x[[i, j]].into() - mean[j];
        }
        for a in 0..d {
            let upto = if dense { d } else { a + 1 };
            for b in a..upto {
                cov[a * d + b] += wi * dx[a] * dx[b];
            }
        }
    }
    for a in 0..d {
        for b in a..d {
            cov[a * d + b] /= total - 1.0;
            cov[b * d + a] = cov[a * d + b];
        }
    }
    Ok(kind.dense_to_own_form(cov, d))
}

/// A user's `covariance_prior`: the kind's shape, symmetric positive definite (or positive).
fn check_covariance_prior(kind: CovarianceType, c: &[f64], d: usize) -> Result<Vec<f64>> {
    let len = kind.prior_len(d);
    if c.len() != len {
        let expected = match len {
            1 => shape_text(&[]),
            l if l == d => shape_text(&[d]),
            _ => shape_text(&[d, d]),
        };
        return Err(Error::WrongShape {
            input: Input::CovariancePrior,
            expected,
            found: format!("{} values", c.len()),
        });
    }
    if let Some(j) = c.iter().position(|v| !v.is_finite()) {
        let what = if c[j].is_nan() { "NaN" } else { "infinity" };
        return Err(Error::NonFinite {
            input: Input::CovariancePrior,
            what,
            row: j / d.max(1),
            column: j % d.max(1),
        });
    }
    let ok = if kind.is_dense() {
        is_symmetric(c, d) && cholesky_lower(c, d).is_some()
    } else {
        c.iter().all(|&v| v > 0.0)
    };
    if !ok {
        let requirement = if kind.is_dense() { "symmetric, positive-definite" } else { "positive" };
        return Err(Error::CovariancePriorNotPositive { kind: kind.to_string(), requirement });
    }
    Ok(c.to_vec())
}

//! Covariance kinds and what each must know how to do.
//!
//! A component's density is parameterised by the Cholesky factor of its precision,
//! `P_k = U_k U_k^T` with `U_k` upper triangular (scikit-learn's `precisions_cholesky_`), so
//! that the squared Mahalanobis distance is `|(x - mu_k)^T U_k|^2` and
//! `log det P_k^(1/2) = sum_j log U_k[j, j]`: no explicit inverse is ever applied to data.
//!
//! Every kind implements the same verbs in its own file:
//! - `covariances_from_scatter`: M-step, centred scatter -> covariance (+ `reg_covar`);
//! - `precisions_cholesky`: covariance -> `U`, or an error naming the component;
//! - `from_precisions`: a user's `precisions_init` -> (`U`, covariance);
//! - `precisions`: `U` -> `P = U U^T`.

pub(crate) mod diag;
pub(crate) mod full;
pub(crate) mod spherical;
pub(crate) mod tied;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The shape of each component's covariance, with scikit-learn's spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CovarianceType {
    /// Each component has its own general covariance matrix.
    #[default]
    Full,
    /// All components share one general covariance matrix.
    Tied,
    /// Each component has its own diagonal covariance matrix.
    Diag,
    /// Each component has its own single variance.
    Spherical,
}

impl CovarianceType {
    /// All four kinds, in scikit-learn's documentation order.
    pub const ALL: [CovarianceType; 4] =
        [CovarianceType::Full, CovarianceType::Tied, CovarianceType::Diag, CovarianceType::Spherical];

    /// The number of free parameters in the covariances of `k` components in `d` dimensions.
    pub fn n_parameters(self, k: usize, d: usize) -> usize {
        match self {
            CovarianceType::Full => k * d * (d + 1) / 2,
            CovarianceType::Tied => d * (d + 1) / 2,
            CovarianceType::Diag => k * d,
            CovarianceType::Spherical => k,
        }
    }

    /// scikit-learn's shape of `covariances_` (and `precisions_cholesky_`).
    pub fn shape(self, k: usize, d: usize) -> Vec<usize> {
        match self {
            CovarianceType::Full => vec![k, d, d],
            CovarianceType::Tied => vec![d, d],
            CovarianceType::Diag => vec![k, d],
            CovarianceType::Spherical => vec![k],
        }
    }

    /// Number of stored values for that shape.
    pub(crate) fn len(self, k: usize, d: usize) -> usize {
        self.shape(k, d).iter().product()
    }

    /// Number of values of the centred scatter statistic the E-step accumulates.
    pub(crate) fn scatter_len(self, k: usize, d: usize) -> usize {
        match self {
            CovarianceType::Full => k * d * d,
            CovarianceType::Tied => d * d,
            CovarianceType::Diag | CovarianceType::Spherical => k * d,
        }
    }

    /// Covariance -> precision Cholesky factor.
    pub(crate) fn precisions_cholesky(
        self,
        cov: &[f64],
        k: usize,
        d: usize,
        reg_covar: f64,
    ) -> Result<Vec<f64>> {
        let ill = |component| Error::IllDefinedCovariance { component, reg_covar };
        match self {
            CovarianceType::Full => full::precisions_cholesky(cov, k, d).map_err(ill),
            CovarianceType::Tied => tied::precisions_cholesky(cov, d).map_err(ill),
            CovarianceType::Diag => diag::precisions_cholesky(cov).map_err(|i| ill(i / d)),
            CovarianceType::Spherical => spherical::precisions_cholesky(cov).map_err(ill),
        }
    }

    /// User precisions -> (precision Cholesky factor, covariance).
    pub(crate) fn factor_precisions(self, prec: &[f64], k: usize, d: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let bad = |component| Error::PrecisionNotPositiveDefinite { component };
        match self {
            CovarianceType::Full => full::from_precisions(prec, k, d).map_err(bad),
            CovarianceType::Tied => tied::from_precisions(prec, d).map_err(bad),
            CovarianceType::Diag => diag::from_precisions(prec).map_err(|i| bad(i / d)),
            CovarianceType::Spherical => spherical::from_precisions(prec).map_err(bad),
        }
    }

    /// Precision Cholesky factor -> precision.
    pub(crate) fn precisions(self, prec_chol: &[f64], k: usize, d: usize) -> Vec<f64> {
        match self {
            CovarianceType::Full => full::precisions(prec_chol, k, d),
            CovarianceType::Tied => tied::precisions(prec_chol, d),
            CovarianceType::Diag | CovarianceType::Spherical => prec_chol.iter().map(|u| u * u).collect(),
        }
    }
}

impl fmt::Display for CovarianceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CovarianceType::Full => "full",
            CovarianceType::Tied => "tied",
            CovarianceType::Diag => "diag",
            CovarianceType::Spherical => "spherical",
        })
    }
}

impl FromStr for CovarianceType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "full" => Ok(CovarianceType::Full),
            "tied" => Ok(CovarianceType::Tied),
            "diag" => Ok(CovarianceType::Diag),
            "spherical" => Ok(CovarianceType::Spherical),
            _ => Err(Error::InvalidParameter {
                name: "covariance_type",
                value: s.to_string(),
                expected: "'covariance_type' should be in ['spherical', 'tied', 'diag', 'full']",
            }),
        }
    }
}

/// The centred weighted scatter of one component, corrected from the shift `c` it was
/// accumulated around to the new mean `m = c + delta`:
/// `sum r (x - m)(x - m)^T = S - delta sx^T - sx delta^T + sr delta delta^T`,
/// where `S = sum r (x - c)(x - c)^T`, `sx = sum r (x - c)`, `sr = sum r`.
/// Exact algebra; with `c` near `m` no large terms cancel.
pub(crate) fn recentre(entry: f64, delta_i: f64, delta_j: f64, sx_i: f64, sx_j: f64, sr: f64) -> f64 {
    entry - delta_i * sx_j - sx_i * delta_j + sr * delta_i * delta_j
}

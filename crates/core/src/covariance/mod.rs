//! Covariance kinds and what each must know how to do.
//!
//! A component's density is parameterised by the Cholesky factor of its precision,
//! `P_k = U_k U_k^T` with `U_k` upper triangular (scikit-learn's `precisions_cholesky_`), so
//! that the squared Mahalanobis distance is `|(x - mu_k)^T U_k|^2` and
//! `log det P_k^(1/2) = sum_j log U_k[j, j]`: no explicit inverse is ever applied to data.
//!
//! Every kind implements the same verbs in its own file (`full.rs`, `tied.rs`, `diag.rs`,
//! `spherical.rs`), and [`CovarianceType`]'s methods here are the one place that dispatches on
//! the kind: nothing outside this folder matches on it for maths.
//! - the E-step: `log_prob_chunk` (the Mahalanobis kernels) and `log_det`;
//! - culling: `precision_bounds` (eigenvalue bounds of `P_k`);
//! - the statistics: `accumulate_chunk` (scatter of a chunk) and `add_point_scatter` (one point);
//! - the M-step: `covariances_from_scatter` (centred scatter -> covariance, with the
//!   re-centring correction and `reg_covar`) and `precisions_cholesky_into` (-> `U`);
//! - user input: `factor_precisions` (`precisions_init` -> `U`, covariance);
//! - reporting and models: `n_parameters` (BIC), `shape` (the JSON/npz layout),
//!   `check_covariances` (a loaded model), `dense_covariance` (eigen-axes, splitting),
//!   `covariance_factor` (the sampler), `precisions`.

pub(crate) mod diag;
pub(crate) mod full;
mod prepared;
pub(crate) mod products;
mod running;
mod scatter;
pub(crate) mod spherical;
mod stats;
#[cfg(test)]
mod tests;
pub(crate) mod tied;

pub(crate) use prepared::Prepared;
pub(crate) use products::Form;
pub(crate) use running::RunningStats;
pub(crate) use stats::SuffStats;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::chunks::{Scratch, CHUNK};
use crate::error::{Error, Result};
use crate::kernels::Arith;
use crate::linalg::cholesky_lower;

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

impl CovarianceType {
    /// Whether one covariance is shared by every component.
    pub fn is_shared(self) -> bool {
        self == CovarianceType::Tied
    }

    /// Whether each stored covariance is a dense `D x D` matrix (full, tied).
    pub(crate) fn is_dense(self) -> bool {
        matches!(self, CovarianceType::Full | CovarianceType::Tied)
    }

    /// `log det U_c = sum_j log U_c[j, j]` (half the log-determinant of the precision).
    #[inline]
    pub(crate) fn log_det(self, prec_chol: &[f64], c: usize, d: usize) -> f64 {
        match self {
            CovarianceType::Full => full::log_det(&prec_chol[c * d * d..(c + 1) * d * d], d),
            CovarianceType::Tied => full::log_det(prec_chol, d),
            CovarianceType::Diag => diag::log_det(&prec_chol[c * d..(c + 1) * d]),
            CovarianceType::Spherical => spherical::log_det(prec_chol[c], d),
        }
    }

    /// What the kind's kernel reads besides the factors, into `out`: `mu_k^T U` for `tied`
    /// (which evaluates `|x^T U - mu_k^T U|^2`), nothing for the others.
    pub(crate) fn prepare_means(self, means: &[f64], prec_chol: &[f64], k: usize, d: usize, out: &mut [f64]) {
        if self == CovarianceType::Tied {
            tied::mean_prec(means, prec_chol, k, d, out);
        }
    }

    /// Per-feature weights `lo <= hi` bounding `t^T P_c t` from both sides (see [`Prepared`]).
    pub(crate) fn precision_bounds(
        self,
        prec_chol: &[f64],
        c: usize,
        d: usize,
        lo: &mut [f64],
        hi: &mut [f64],
    ) {
        match self {
            CovarianceType::Full => full::precision_bounds(&prec_chol[c * d * d..(c + 1) * d * d], d, lo, hi),
            CovarianceType::Tied => full::precision_bounds(prec_chol, d, lo, hi),
            CovarianceType::Diag => diag::precision_bounds(&prec_chol[c * d..(c + 1) * d], lo, hi),
            CovarianceType::Spherical => spherical::precision_bounds(prec_chol[c], lo, hi),
        }
    }

    /// M-step: the centred scatter (accumulated around the shifts, see [`Moments`]) ->
    /// covariances in the kind's layout, with `reg_covar` on the diagonal.
    pub(crate) fn covariances_from_scatter(
        self,
        m: &Moments,
        variances_scratch: &mut [f64],
        out: &mut [f64],
    ) {
        match self {
            CovarianceType::Full => full::covariances_from_scatter(m, out),
            CovarianceType::Tied => tied::covariances_from_scatter(m, out),
            CovarianceType::Diag => diag::covariances_from_scatter(m, out),
            CovarianceType::Spherical => spherical::covariances_from_scatter(m, variances_scratch, out),
        }
    }

    /// The variational posterior's covariances `W_k^-1 / nu_k` into `out` (the kind's layout).
    pub(crate) fn wishart_covariances(self, input: &WishartInput, out: &mut [f64]) {
        match self {
            CovarianceType::Full => full::wishart(input, out),
            CovarianceType::Tied => tied::wishart(input, out),
            CovarianceType::Diag => diag::wishart(input, out),
            CovarianceType::Spherical => spherical::wishart(input, out),
        }
    }

    /// `tr(P_c S_c)` for the statistics' scatter of component `c` (pooled for tied; the upper
    /// triangle for full and tied, the squares for diag and spherical): with the scatter taken
    /// around the mean, `sum_i w_i r_ic (x_i - mu_c)^T P_c (x_i - mu_c)`.
    pub(crate) fn precision_scatter_trace(
        self,
        prec_chol: &[f64],
        scatter: &[f64],
        c: usize,
        d: usize,
    ) -> f64 {
        match self {
            CovarianceType::Full => full::scatter_trace(
                &prec_chol[c * d * d..(c + 1) * d * d],
                &scatter[c * d * d..(c + 1) * d * d],
                d,
            ),
            CovarianceType::Tied => full::scatter_trace(prec_chol, scatter, d),
            CovarianceType::Diag => {
                diag::scatter_trace(&prec_chol[c * d..(c + 1) * d], &scatter[c * d..(c + 1) * d])
            }
            CovarianceType::Spherical => {
                diag::scatter_trace(&vec![prec_chol[c]; d], &scatter[c * d..(c + 1) * d])
            }
        }
    }

    /// A dense `D x D` covariance in the kind's own form: itself (full, tied), its diagonal
    /// (diag), or the mean of its diagonal (spherical).
    pub(crate) fn dense_to_own_form(self, dense: Vec<f64>, d: usize) -> Vec<f64> {
        let variances = (0..d).map(|j| dense[j * d + j]);
        match self {
            CovarianceType::Full | CovarianceType::Tied => dense,
            CovarianceType::Diag => variances.collect(),
            CovarianceType::Spherical => vec![variances.sum::<f64>() / d as f64],
        }
    }

    /// `K` dense `D x D` covariances (`dense`, `K x D x D` row-major) in the kind's layout
    /// ([`shape`](CovarianceType::shape)): themselves (full), their average weighted by
    /// `weights` (tied: one shared matrix, pooled as the M-step pools the components' scatter by
    /// their counts), their diagonals (diag), or their diagonals' means (spherical). The way
    /// back from [`Mixture::covariance_matrix`](crate::Mixture::covariance_matrix), for a
    /// caller that builds covariances densely and fits any kind.
    ///
    /// ```
    /// use einmix::CovarianceType;
    ///
    /// // Two 2 x 2 covariances, the second weighing three times the first.
    /// let dense = [4.0, 1.0, 1.0, 2.0, 8.0, 1.0, 1.0, 6.0];
    /// let weights = [0.25, 0.75];
    /// assert_eq!(CovarianceType::Full.from_dense_covariances(&dense, &weights, 2), dense.to_vec());
    /// assert_eq!(CovarianceType::Tied.from_dense_covariances(&dense, &weights, 2), vec![7.0, 1.0, 1.0, 5.0]);
    /// assert_eq!(CovarianceType::Diag.from_dense_covariances(&dense, &weights, 2), vec![4.0, 2.0, 8.0, 6.0]);
    /// assert_eq!(CovarianceType::Spherical.from_dense_covariances(&dense, &weights, 2), vec![3.0, 7.0]);
    /// ```
    pub fn from_dense_covariances(self, dense: &[f64], weights: &[f64], d: usize) -> Vec<f64> {
        assert_eq!(dense.len(), weights.len() * d * d, "K dense D x D covariances, one weight each");
        if self == CovarianceType::Tied {
            let total: f64 = weights.iter().sum();
            let mut pooled = vec![0.0; d * d];
            for (block, w) in dense.chunks_exact(d * d).zip(weights) {
                pooled.iter_mut().zip(block).for_each(|(p, v)| *p += w * v);
            }
            return pooled.into_iter().map(|p| p / total).collect();
        }
        dense.chunks_exact(d * d).flat_map(|block| self.dense_to_own_form(block.to_vec(), d)).collect()
    }

    /// Values of the prior scale `Psi_0` the kind takes (`D x D`, `D` or 1).
    pub(crate) fn prior_len(self, d: usize) -> usize {
        if self.is_dense() {
            d * d
        } else if self == CovarianceType::Diag {
            d
        } else {
            1
        }
    }

    /// Covariances -> precision Cholesky factors into `out` (`chol` is `D x D` scratch).
    pub(crate) fn precisions_cholesky_into(
        self,
        cov: &[f64],
        d: usize,
        reg_covar: f64,
        out: &mut [f64],
        chol: &mut [f64],
    ) -> Result<()> {
        let ill = |component| Error::IllDefinedCovariance { component, reg_covar };
        match self {
            CovarianceType::Full | CovarianceType::Tied => {
                full::precisions_cholesky_into(cov, d, out, chol).map_err(ill)
            }
            CovarianceType::Diag => diag::precisions_cholesky_into(cov, out).map_err(|i| ill(i / d)),
            CovarianceType::Spherical => diag::precisions_cholesky_into(cov, out).map_err(ill),
        }
    }

    /// Adds `w dx dx^T` (the kind's part of it) to component `c`'s scatter.
    #[inline]
    pub(crate) fn add_point_scatter(self, scatter: &mut [f64], c: usize, w: f64, dx: &[f64]) {
        let d = dx.len();
        match self {
            CovarianceType::Full => full::add_point_scatter(&mut scatter[c * d * d..(c + 1) * d * d], w, dx),
            CovarianceType::Tied => full::add_point_scatter(scatter, w, dx),
            CovarianceType::Diag | CovarianceType::Spherical => {
                diag::add_point_squares(&mut scatter[c * d..(c + 1) * d], w, dx)
            }
        }
    }

    /// Lower-triangular `L` with `Sigma_c = L L^T` (dense `D x D`), for the sampler; `None`
    /// if the covariance is not positive definite.
    pub(crate) fn covariance_factor(self, cov: &[f64], c: usize, d: usize) -> Option<Vec<f64>> {
        if self.is_dense() {
            cholesky_lower(&self.dense_covariance(cov, c, d), d)
        } else {
            let dense = self.dense_covariance(cov, c, d);
            Some((0..d * d).map(|at| if at % (d + 1) == 0 { dense[at].sqrt() } else { 0.0 }).collect())
        }
    }

    /// Component `c`'s covariance as a dense `D x D` matrix.
    pub(crate) fn dense_covariance(self, cov: &[f64], c: usize, d: usize) -> Vec<f64> {
        match self {
            CovarianceType::Full => cov[c * d * d..(c + 1) * d * d].to_vec(),
            CovarianceType::Tied => cov[..d * d].to_vec(),
            CovarianceType::Diag => diag::dense(&cov[c * d..(c + 1) * d]),
            CovarianceType::Spherical => diag::dense(&vec![cov[c]; d]),
        }
    }

    /// Checks stored covariances of a loaded model: every one symmetric positive definite.
    pub(crate) fn check_covariances(self, cov: &[f64], d: usize) -> std::result::Result<(), String> {
        match self {
            CovarianceType::Full | CovarianceType::Tied => full::check_covariances(cov, d),
            CovarianceType::Diag => diag::check_variances(cov, d),
            CovarianceType::Spherical => diag::check_variances(cov, 1),
        }
    }

    /// Whether flat index `i` of a stored precision Cholesky factor is on a diagonal.
    pub(crate) fn on_diagonal(self, i: usize, d: usize) -> bool {
        !self.is_dense() || (i % (d * d)) / d == i % d
    }

    /// The covariances of a mixture in which component `c` is split in two along the unit
    /// `axis`, each half shrunk by `shrink * axis axis^T` (`dense` is component `c`'s dense
    /// covariance): the new component is appended last. Shared and spherical covariances are
    /// kept as they are.
    pub(crate) fn split_covariances(
        self,
        cov: &[f64],
        c: usize,
        d: usize,
        dense: &[f64],
        shrink: f64,
        axis: &[f64],
    ) -> Vec<f64> {
        let shrunk = || {
            let mut block = dense.to_vec();
            for r in 0..d {
                for s in 0..d {
                    block[r * d + s] -= shrink * axis[r] * axis[s];
                }
            }
            block
        };
        let mut all = cov.to_vec();
        match self {
            CovarianceType::Full => {
                let block = shrunk();
                all[c * d * d..(c + 1) * d * d].copy_from_slice(&block);
                all.extend_from_slice(&block);
            }
            CovarianceType::Diag => {
                let block = shrunk();
                let variances: Vec<f64> = (0..d).map(|j| block[j * d + j]).collect();
                all[c * d..(c + 1) * d].copy_from_slice(&variances);
                all.extend_from_slice(&variances);
            }
            CovarianceType::Tied => {}
            CovarianceType::Spherical => all.push(all[c]),
        }
        all
    }
}

/// Fills `s.lp[row][i] = log pi_k + log N(x_i | k)` for each active component `k` (row `row`
/// of `s.active`) and the chunk `xs` (`D x CHUNK`): the kind's Mahalanobis kernel, with the
/// dimension fixed at compile time where it is small.
#[inline(always)]
pub(crate) fn log_prob_chunk<A: Arith>(p: &Prepared, xs: &[f64], s: &mut Scratch) {
    let diagonal = matches!(p.kind, CovarianceType::Diag | CovarianceType::Spherical);
    if diagonal && p.form.products() {
        return products::log_prob_diagonal::<A>(p, xs, s);
    }
    match (p.kind, p.d) {
        (CovarianceType::Full, 1) => full::log_prob_fixed::<A, 1>(p, xs, s),
        (CovarianceType::Full, 2) => full::log_prob_fixed::<A, 2>(p, xs, s),
        (CovarianceType::Full, 3) => full::log_prob_fixed::<A, 3>(p, xs, s),
        (CovarianceType::Full, _) => full::log_prob_any::<A>(p, xs, s),
        (CovarianceType::Tied, _) => tied::log_prob_any::<A>(p, xs, s),
        (CovarianceType::Diag | CovarianceType::Spherical, 1) => diag::log_prob_fixed::<A, 1>(p, xs, s),
        (CovarianceType::Diag | CovarianceType::Spherical, 2) => diag::log_prob_fixed::<A, 2>(p, xs, s),
        (CovarianceType::Diag | CovarianceType::Spherical, 3) => diag::log_prob_fixed::<A, 3>(p, xs, s),
        (CovarianceType::Diag | CovarianceType::Spherical, _) => diag::log_prob_any::<A>(p, xs, s),
    }
}

/// Adds the chunk's weighted statistics around `shifts` (the current means) to `stats`, for
/// the active components (`K` of `s.active`) and the chunk `xs` (`D x CHUNK`). Expects
/// `s.lp` to hold `exp(lp - max)` and `s.scale` the per-point factors.
#[inline(always)]
pub(crate) fn accumulate_chunk<A: Arith>(
    kind: CovarianceType,
    form: Form,
    shifts: &[f64],
    xs: &[f64],
    s: &mut Scratch,
    stats: &mut SuffStats,
) {
    use scatter::{scatter_any, scatter_fixed};
    let shared = kind.is_shared();
    match (kind.is_dense(), xs.len() / CHUNK) {
        (false, _) if form.products() => products::accumulate_diagonal(shifts, xs, s, stats),
        (true, 1) => scatter_fixed::<A, 1, false>(shared, shifts, xs, s, stats),
        (true, 2) => scatter_fixed::<A, 2, false>(shared, shifts, xs, s, stats),
        (true, 3) => scatter_fixed::<A, 3, false>(shared, shifts, xs, s, stats),
        (false, 1) => scatter_fixed::<A, 1, true>(shared, shifts, xs, s, stats),
        (false, 2) => scatter_fixed::<A, 2, true>(shared, shifts, xs, s, stats),
        (false, 3) => scatter_fixed::<A, 3, true>(shared, shifts, xs, s, stats),
        _ => scatter_any::<A>(kind, form, shifts, xs, s, stats),
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

/// What the M-step's covariance formulas read: the statistics, accumulated around shifts
/// `c_k`, the guarded counts `N_k`, the mean corrections `delta_k = mu_k - c_k`, and the
/// regularisation.
#[derive(Clone, Copy)]
pub(crate) struct Moments<'a> {
    pub stats: &'a SuffStats,
    pub nk: &'a [f64],
    pub delta: &'a [f64],
    pub d: usize,
    pub reg_covar: f64,
}

/// What the variational M-step's Wishart update reads (scikit-learn's `_estimate_wishart_*`):
/// the prior scale `Psi_0` (the kind's layout: `D x D`, `D`, or 1), the Gaussian moments `N_k`
/// and `S_k` (with `reg_covar`), `x_k - m_0` (`K x D`), `beta_k`, `beta_0` and `nu_k` (one value
/// for tied).
pub(crate) struct WishartInput<'a> {
    pub prior: &'a [f64],
    pub nk: &'a [f64],
    pub sk: &'a [f64],
    pub diff: &'a [f64],
    pub beta: &'a [f64],
    pub beta0: f64,
    pub nu: &'a [f64],
    pub d: usize,
}

/// The centred weighted scatter of one component, corrected from the shift `c` it was
/// accumulated around to the new mean `m = c + delta`:
/// `sum r (x - m)(x - m)^T = S - delta sx^T - sx delta^T + sr delta delta^T`,
/// where `S = sum r (x - c)(x - c)^T`, `sx = sum r (x - c)`, `sr = sum r`.
/// Exact algebra; with `c` near `m` no large terms cancel.
pub(crate) fn recentre(entry: f64, delta_i: f64, delta_j: f64, sx_i: f64, sx_j: f64, sr: f64) -> f64 {
    entry - delta_i * sx_j - sx_i * delta_j + sr * delta_i * delta_j
}

/// Per-feature bounds `lo <= P <= hi` from the extreme eigenvalues, with slack so that
/// rounding in the eigenvalues cannot make a bound invalid.
pub(crate) fn fill_bounds(lo_value: f64, hi_value: f64, lo: &mut [f64], hi: &mut [f64]) {
    lo.fill(lo_value * (1.0 - 1e-9));
    hi.fill(hi_value * (1.0 + 1e-9));
}

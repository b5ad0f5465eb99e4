//! Using a fitted [`Mixture`]: densities, responsibilities, labels, information criteria.
//!
//! ```text
//! score_samples(x) = log p(x) = logsumexp_k [log pi_k + log N(x | mu_k, Sigma_k)]
//! predict_proba(x) = r_k(x) = exp(log pi_k + log N(x | k) - log p(x))
//! predict(x)       = argmax_k r_k(x)
//! bic = -2 N mean log p + n_parameters ln N,     aic = -2 N mean log p + 2 n_parameters
//! ```
//! Every function runs the same chunked kernels as the fit, in parallel on rayon's current
//! pool (install a pool of your own to bound the threads).

use ndarray::{Array1, Array2, ArrayView2};

use crate::chunks::{Chunked, Element};
use crate::error::{Error, Result};
use crate::model::Mixture;
use crate::pass::blocks::ScoreOutput;
use crate::pass::run::{prepared, score};
use crate::validate;

impl Mixture {
    fn check_data<T: Element>(&self, x: ArrayView2<T>) -> Result<()> {
        validate::data(x)?;
        if x.ncols() != self.n_features() {
            return Err(Error::DimensionMismatch { expected: self.n_features(), found: x.ncols() });
        }
        Ok(())
    }

    /// Runs a scoring pass over `x` and returns the flat output (rows in their own order).
    fn score_pass<T: Element>(&self, x: ArrayView2<T>, what: ScoreOutput) -> Result<Vec<f64>> {
        self.check_data(x)?;
        let data = Chunked::new(x, None);
        Ok(score(&prepared(self, false), &data, what, None))
    }

    /// Log of the mixture density at each row of `x`: `log p(x_i)`.
    ///
    /// ```
    /// use einmix::{CovarianceType, Mixture};
    /// use ndarray::{array, ArrayD, IxDyn};
    ///
    /// let cov = ArrayD::from_shape_vec(IxDyn(&[1]), vec![1.0]).unwrap();
    /// let m = Mixture::from_parameters(CovarianceType::Spherical, array![1.0].view(), array![[0.0]].view(), cov.view())?;
    /// let log_p = m.score_samples(array![[0.0]].view())?;
    /// assert!((log_p[0] + 0.5 * (2.0 * std::f64::consts::PI).ln()).abs() < 1e-15);
    /// # Ok::<(), einmix::Error>(())
    /// ```
    pub fn score_samples<T: Element>(&self, x: ArrayView2<T>) -> Result<Array1<f64>> {
        Ok(Array1::from(self.score_pass(x, ScoreOutput::LogLikelihood)?))
    }

    /// Mean log-likelihood of the rows of `x`.
    pub fn score<T: Element>(&self, x: ArrayView2<T>) -> Result<f64> {
        let s = self.score_samples(x)?;
        Ok(s.sum() / s.len() as f64)
    }

    /// Posterior probability of each component for each row, shape `(N, K)`; rows sum to 1.
    /// With a background, shape `(N, K + 1)`: its probability is the last column.
    pub fn predict_proba<T: Element>(&self, x: ArrayView2<T>) -> Result<Array2<f64>> {
        let flat = self.score_pass(x, ScoreOutput::Responsibilities)?;
        let columns = self.n_components() + usize::from(self.background().is_some());
        Ok(Array2::from_shape_vec((x.nrows(), columns), flat).expect("N x columns values"))
    }

    /// The most probable component of each row; with a background, `K` marks the rows the
    /// background explains best.
    pub fn predict<T: Element>(&self, x: ArrayView2<T>) -> Result<Array1<usize>> {
        let flat = self.score_pass(x, ScoreOutput::Label)?;
        Ok(flat.into_iter().map(|v| v as usize).collect())
    }

    /// Bayesian information criterion on `x` (lower is better).
    pub fn bic<T: Element>(&self, x: ArrayView2<T>) -> Result<f64> {
        let n = x.nrows() as f64;
        Ok(-2.0 * self.score(x)? * n + self.n_parameters() as f64 * n.ln())
    }

    /// Akaike information criterion on `x` (lower is better).
    pub fn aic<T: Element>(&self, x: ArrayView2<T>) -> Result<f64> {
        let n = x.nrows() as f64;
        Ok(-2.0 * self.score(x)? * n + 2.0 * self.n_parameters() as f64)
    }
}

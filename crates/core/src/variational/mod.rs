//! [`BayesianGaussianMixture`]: variational inference for the Gaussian mixture, scikit-learn's
//! `BayesianGaussianMixture` on einmix's fused pass and EM driver.
//!
//! A Dirichlet-process (stick-breaking) or Dirichlet-distribution prior on the weights and a
//! Gauss-Wishart prior on each component (see `priors` and `model` for the formulas). The
//! driver, the initialisations and the pass are EM's; the model adds its E-step constants, its
//! M-step and its bound. Sample weights are frequencies: an integer weight is a repeated row.
//!
//! ```
//! use einmix::{datasets, BayesianGaussianMixture, CovarianceType, WeightPrior};
//!
//! // Three clusters, eight components offered: the process switches the surplus off.
//! let truth = datasets::random_mixture(CovarianceType::Full, 3, 2, 12.0, 4);
//! let (x, _) = truth.sample(3000, 5);
//! let fit = BayesianGaussianMixture::new(8)
//!     .weight_prior(WeightPrior::DirichletProcess)
//!     .weight_concentration_prior(1e-3)
//!     .random_state(0)
//!     .max_iter(1000)
//!     .fit(x.view(), None)?;
//! let (effective, mass) = fit.model.effective_components(0.01);
//! assert_eq!(effective, 3);
//! assert!(mass > 0.99);
//! # Ok::<(), einmix::Error>(())
//! ```

mod model;
mod priors;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

pub use model::VariationalMixture;
pub use priors::Priors;

use crate::background::{Background, BackgroundRegion};
use crate::chunks::{Chunked, Element, WeightScale};
use crate::covariance::{CovarianceType, Prepared};
use crate::driver::memory::{em_initialise, InMemory, Initialise};
use crate::driver::{drive, e_step, FitOptions, Model, Source};
use crate::error::{Error, Result};
use crate::estimator::{GaussianMixture, InitParams};
use crate::model::{FitInfo, Mixture};
use crate::mstep::MStepScratch;
use crate::pass::blocks::ScoreOutput;
use crate::pass::run::score;
use crate::validate;

/// The prior on the mixing weights (scikit-learn's `weight_concentration_prior_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightPrior {
    /// Stick-breaking Dirichlet process (`"dirichlet_process"`), the default: switches off the
    /// components the data do not need.
    #[default]
    DirichletProcess,
    /// A finite Dirichlet distribution (`"dirichlet_distribution"`).
    DirichletDistribution,
}

impl fmt::Display for WeightPrior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WeightPrior::DirichletProcess => "dirichlet_process",
            WeightPrior::DirichletDistribution => "dirichlet_distribution",
        })
    }
}

impl FromStr for WeightPrior {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "dirichlet_process" => Ok(WeightPrior::DirichletProcess),
            "dirichlet_distribution" => Ok(WeightPrior::DirichletDistribution),
            _ => Err(Error::InvalidParameter {
                name: "weight_concentration_prior_type",
                value: s.to_string(),
                expected: "'weight_concentration_prior_type' should be in ['dirichlet_process', 'dirichlet_distribution']",
            }),
        }
    }
}

/// The specification of a variational fit: EM's settings (scikit-learn's names and defaults)
/// and the priors.
#[derive(Debug, Clone, PartialEq)]
pub struct BayesianGaussianMixture {
    em: GaussianMixture,
    weight_prior: WeightPrior,
    priors: priors::GivenPriors,
}

impl BayesianGaussianMixture {
    /// `n_components` components (an upper bound: the prior may leave some empty), everything
    /// else at scikit-learn's defaults.
    pub fn new(n_components: usize) -> BayesianGaussianMixture {
        BayesianGaussianMixture {
            em: GaussianMixture::new(n_components),
            weight_prior: WeightPrior::DirichletProcess,
            priors: priors::GivenPriors::default(),
        }
    }

    /// Covariance kind (default `full`).
    pub fn covariance_type(mut self, kind: CovarianceType) -> Self {
        self.em = self.em.covariance_type(kind);
        self
    }
    /// Convergence threshold on the change of the lower bound (default 1e-3; the bound is a
    /// sum over samples, as scikit-learn's).
    pub fn tol(mut self, tol: f64) -> Self {
        self.em = self.em.tol(tol);
        self
    }
    /// Non-negative regularisation added to the diagonal of every `S_k` (default 1e-6).
    pub fn reg_covar(mut self, reg: f64) -> Self {
        self.em = self.em.reg_covar(reg);
        self
    }
    /// Maximum iterations per run (default 100).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.em = self.em.max_iter(n);
        self
    }
    /// Number of initialisations; the best lower bound is kept (default 1).
    pub fn n_init(mut self, n: usize) -> Self {
        self.em = self.em.n_init(n);
        self
    }
    /// How the initial responsibilities are made (default `kmeans`).
    pub fn init_params(mut self, init: InitParams) -> Self {
        self.em = self.em.init_params(init);
        self
    }
    /// Seed of every random choice (default: fresh entropy each fit).
    pub fn random_state(mut self, seed: u64) -> Self {
        self.em = self.em.random_state(seed);
        self
    }
    /// Worker threads (default: all cores). Results do not depend on it.
    pub fn n_threads(mut self, n: usize) -> Self {
        self.em = self.em.n_threads(n);
        self
    }
    /// The arithmetic of the matrix-product passes (default f64; see [`crate::Precision`]).
    pub fn precision(mut self, precision: crate::Precision) -> Self {
        self.em = self.em.precision(precision);
        self
    }
    /// Whether the E-step skips components that provably cannot contribute to a chunk (default
    /// true; see [`GaussianMixture::culling`]).
    pub fn culling(mut self, on: bool) -> Self {
        self.em = self.em.culling(on);
        self
    }
    /// The weight prior (default the Dirichlet process).
    pub fn weight_prior(mut self, prior: WeightPrior) -> Self {
        self.weight_prior = prior;
        self
    }
    /// `alpha_0 > 0` (default `1 / n_components`): smaller empties more components.
    pub fn weight_concentration_prior(mut self, alpha: f64) -> Self {
        self.priors.weight_concentration = Some(alpha);
        self
    }
    /// `beta_0 > 0` (default 1): the prior's confidence in `mean_prior`.
    pub fn mean_precision_prior(mut self, beta: f64) -> Self {
        self.priors.mean_precision = Some(beta);
        self
    }
    /// `m_0`, shape `(D,)` (default: the data's mean).
    pub fn mean_prior(mut self, mean: Array1<f64>) -> Self {
        self.priors.mean = Some(mean.to_vec());
        self
    }
    /// `nu_0 > D - 1` (default `D`).
    pub fn degrees_of_freedom_prior(mut self, nu: f64) -> Self {
        self.priors.degrees_of_freedom = Some(nu);
        self
    }
    /// `Psi_0` in the kind's layout: `(D, D)` for full and tied, `(D,)` for diag, one value for
    /// spherical, flattened (default: the data's covariance, ddof 1).
    pub fn covariance_prior(mut self, covariance: Vec<f64>) -> Self {
        self.priors.covariance = Some(covariance);
        self
    }

    /// Adds a uniform background component over `region` (default: none), as
    /// [`GaussianMixture::background`] does: its weight `pi_0` is estimated beside the
    /// Gaussians' variational posterior (a point estimate, starting at `1/(K+1)`), and the
    /// fitted [`VariationalMixture`]'s mixture holds it (the Gaussians' expected weights then
    /// sum to `1 - pi_0`).
    pub fn background(mut self, region: BackgroundRegion) -> Self {
        self.em = self.em.background(region);
        self
    }

    /// Checks the hyperparameters on their own (no data needed).
    pub fn validate(&self) -> Result<()> {
        self.em.validate()?;
        self.priors.validate()
    }

    /// Fits by variational inference from the chosen initialisation.
    pub fn fit<T: Element>(
        &self,
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
    ) -> Result<BayesianFit> {
        self.fit_with(x, sample_weight, FitOptions::new())
    }

    /// [`BayesianGaussianMixture::fit`] with [`FitOptions`]: a warm start from a
    /// [`VariationalMixture`] (its priors are recomputed from the data, as scikit-learn does;
    /// it continues its own state, with its background or without one, as EM's warm start
    /// does), a progress observer.
    pub fn fit_with<T: Element>(
        &self,
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
        options: FitOptions<'_, VariationalMixture>,
    ) -> Result<BayesianFit> {
        self.validate()?;
        let (k, kind, d) = (self.em.n_components, self.em.covariance_type, x.ncols());
        validate::fit_input(x, sample_weight, Some(k))?;
        let priors = self.priors.resolve(kind, k, x, sample_weight)?;
        let (start, progress, _) = options.into_parts();
        // The background's region is resolved once, from all of the data (its bounding box);
        // a warm start continues its own state, background or none.
        let background = match (&self.em.background, &start) {
            (Some(region), None) => Some(Background::resolve(region, x, 1.0 / (k as f64 + 1.0))?),
            _ => None,
        };
        let start = match start {
            Some((m, bound)) => {
                if m.mixture.n_features() != d
                    || m.mixture.n_components() != k
                    || m.mixture.covariance_type() != kind
                {
                    return Err(Error::DimensionMismatch { expected: m.mixture.n_features(), found: d });
                }
                // The priors come from the data of this fit, as scikit-learn recomputes them.
                Some((
                    VariationalMixture { priors: priors.clone(), weight_prior: self.weight_prior, ..m },
                    bound,
                ))
            }
            None => None,
        };
        let (spec, weight_prior) = (&self.em, self.weight_prior);
        let initial_priors = priors.clone();
        let initialise: Initialise<'_, VariationalMixture> = Box::new(move |data: &Chunked, rng, par| {
            let (stats, shifts, _) = crate::init::initial_statistics(spec, data, rng, par);
            let mut model = VariationalMixture {
                weight_prior,
                priors: initial_priors.clone(),
                concentration_a: Vec::new(),
                concentration_b: Vec::new(),
                mean_precision: Vec::new(),
                degrees_of_freedom: Vec::new(),
                mixture: Mixture::zeros(kind, k, d),
            };
            model.m_step(&stats, &shifts, spec.reg_covar, &mut MStepScratch::new(k, d))?;
            if let Some(b) = &background {
                model.mixture = model.mixture.with_background(b.clone())?;
            }
            Ok(model)
        });
        let mut source = InMemory::with_model(&self.em, x, sample_weight, k, WeightScale::Raw, initialise)?;
        let (model, info) = drive(&self.em, &mut source, (start, progress), Duration::ZERO)?;
        let labels = source.labels(&model).into();
        Ok(BayesianFit { model, info, labels })
    }
}

impl BayesianGaussianMixture {
    /// The variational posterior one M-step from the responsibilities of `start` on `x`: for
    /// a fit that begins where another model left off (an EM fit, components placed on an
    /// image's peaks), as a warm start from a posterior does. `start` must have this
    /// specification's components and covariance kind; its background, if any, is kept and its
    /// weight re-estimated, and a start without one gets the specification's (at weight
    /// `1/(K+1)`, as a cold start). Hand the result to [`FitOptions::warm_start`].
    ///
    /// ```
    /// use einmix::{datasets, BayesianGaussianMixture, CovarianceType, FitOptions, GaussianMixture};
    ///
    /// let truth = datasets::random_mixture(CovarianceType::Full, 3, 2, 12.0, 4);
    /// let (x, _) = truth.sample(2000, 5);
    /// let em = GaussianMixture::new(3).random_state(0).fit(x.view(), None)?;
    /// let spec = BayesianGaussianMixture::new(3);
    /// let start = spec.posterior_from(x.view(), None, &em.mixture)?;
    /// let fit = spec.fit_with(x.view(), None, FitOptions::new().warm_start(&start, f64::NEG_INFINITY))?;
    /// assert!(fit.info.converged);
    /// # Ok::<(), einmix::Error>(())
    /// ```
    pub fn posterior_from<T: Element>(
        &self,
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
        start: &Mixture,
    ) -> Result<VariationalMixture> {
        self.validate()?;
        let (k, kind, d) = (self.em.n_components, self.em.covariance_type, x.ncols());
        validate::fit_input(x, sample_weight, Some(k))?;
        if start.n_features() != d {
            return Err(Error::DimensionMismatch { expected: start.n_features(), found: d });
        }
        if start.n_components() != k || start.covariance_type() != kind {
            return Err(Error::InvalidParameter {
                name: "start",
                value: format!("{} {} components", start.n_components(), start.covariance_type()),
                expected: "a start mixture with the specification's n_components and covariance_type",
            });
        }
        let priors = self.priors.resolve(kind, k, x, sample_weight)?;
        let start = match (&self.em.background, start.background()) {
            (Some(region), None) => {
                start.clone().with_background(Background::resolve(region, x, 1.0 / (k as f64 + 1.0))?)?
            }
            _ => start.clone(),
        };
        let mut source = InMemory::with_model(
            &self.em,
            x,
            sample_weight,
            k,
            WeightScale::Raw,
            em_initialise(&self.em, None),
        )?;
        e_step(&mut source, &start)?;
        let mut model = VariationalMixture {
            weight_prior: self.weight_prior,
            priors,
            concentration_a: Vec::new(),
            concentration_b: Vec::new(),
            mean_precision: Vec::new(),
            degrees_of_freedom: Vec::new(),
            mixture: start.clone(),
        };
        model.m_step(
            source.statistics().0,
            start.means_slice(),
            self.em.reg_covar,
            &mut MStepScratch::new(k, d),
        )?;
        Ok(model)
    }
}

/// The result of a variational fit: the posterior, the report, and the final labels.
#[derive(Clone, Debug)]
pub struct BayesianFit {
    /// The fitted posterior (the best of `n_init` runs).
    pub model: VariationalMixture,
    /// How the fit went (`lower_bound`: scikit-learn's variational bound, a sum over samples).
    pub info: FitInfo,
    /// `argmax_k` of the responsibilities after a final E-step (`K`: a background's point).
    pub labels: Array1<usize>,
}

impl VariationalMixture {
    fn check_data<T: Element>(&self, x: ArrayView2<T>) -> Result<()> {
        validate::data(x)?;
        if x.ncols() != self.mixture.n_features() {
            return Err(Error::DimensionMismatch { expected: self.mixture.n_features(), found: x.ncols() });
        }
        Ok(())
    }

    fn score_pass<T: Element>(&self, x: ArrayView2<T>, what: ScoreOutput) -> Result<Vec<f64>> {
        self.check_data(x)?;
        let data = Chunked::new(x, None);
        let (kind, k, d) = self.shape();
        let mut prepared = Prepared::new(kind, k, d);
        self.prepare(&mut prepared);
        Ok(score(&prepared, &data, what, None))
    }

    /// `logsumexp_k` of the E-step's log terms at each row (scikit-learn's `score_samples` of a
    /// `BayesianGaussianMixture`).
    pub fn score_samples<T: Element>(&self, x: ArrayView2<T>) -> Result<Array1<f64>> {
        Ok(Array1::from(self.score_pass(x, ScoreOutput::LogLikelihood)?))
    }

    /// The responsibilities of the E-step, shape `(N, K)`, or `(N, K + 1)` with a background
    /// (its column last).
    pub fn predict_proba<T: Element>(&self, x: ArrayView2<T>) -> Result<Array2<f64>> {
        let flat = self.score_pass(x, ScoreOutput::Responsibilities)?;
        let columns = self.mixture.n_components() + usize::from(self.mixture.background().is_some());
        Ok(Array2::from_shape_vec((x.nrows(), columns), flat).expect("N x columns values"))
    }

    /// The most responsible component of each row (`K` for a background's points).
    pub fn predict<T: Element>(&self, x: ArrayView2<T>) -> Result<Array1<usize>> {
        Ok(self.score_pass(x, ScoreOutput::Label)?.into_iter().map(|v| v as usize).collect())
    }

    /// The components whose expected weight exceeds `threshold`, and their share of the mass.
    /// With a background both are measured among the Gaussians (weights divided by
    /// `1 - pi_0`), so a floor that holds most of the intensity does not hide the structures.
    pub fn effective_components(&self, threshold: f64) -> (usize, f64) {
        let gaussians: f64 = 1.0 - self.mixture.background().map_or(0.0, |b| b.weight());
        let weights = self.mixture.weights();
        let kept = weights.iter().map(|w| w / gaussians).filter(|&v| v > threshold);
        (kept.clone().count(), kept.sum())
    }
}

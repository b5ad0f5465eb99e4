//! [`GaussianMixture`]: the specification of a fit, with scikit-learn's names and defaults.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2, ArrayD};

use crate::background::BackgroundRegion;
use crate::covariance::CovarianceType;
use crate::error::{Error, Input, Result};
use crate::validate::{self, parameter, shape_text};

/// The arithmetic of a fit's passes above the kinds' crossover to matrix products.
///
/// `F64` (the default) is exact to double precision throughout. `F32` runs the E-step's
/// density products (full and diagonal kinds) in single precision, each chunk's results taken
/// back to `f64`; the statistics and the M-step stay `f64`. The lower bound stays within 1e-6
/// relative of the `f64` fit's (tested); the speed-up is modest (1.1-1.4x measured, since the
/// statistics' products, the exponentials and the conversions stay). Below the crossover (the
/// seed's 2-D and 3-D fits) and for scoring it changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    /// Double precision throughout (default).
    #[default]
    F64,
    /// Single-precision products, double-precision accumulation and M-step.
    F32,
}

/// How the initial responsibilities are made (scikit-learn's `init_params`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InitParams {
    /// Hard assignments from weighted k-means. The default.
    #[default]
    KMeans,
    /// One point per component chosen by weighted greedy k-means++.
    KMeansPlusPlus,
    /// Uniform random responsibilities.
    Random,
    /// One random point per component.
    RandomFromData,
}

impl InitParams {
    /// All methods, in scikit-learn's order.
    pub const ALL: [InitParams; 4] =
        [InitParams::KMeans, InitParams::KMeansPlusPlus, InitParams::Random, InitParams::RandomFromData];
}

impl fmt::Display for InitParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InitParams::KMeans => "kmeans",
            InitParams::KMeansPlusPlus => "k-means++",
            InitParams::Random => "random",
            InitParams::RandomFromData => "random_from_data",
        })
    }
}

impl FromStr for InitParams {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "kmeans" => Ok(InitParams::KMeans),
            "k-means++" => Ok(InitParams::KMeansPlusPlus),
            "random" => Ok(InitParams::Random),
            "random_from_data" => Ok(InitParams::RandomFromData),
            _ => Err(Error::InvalidParameter {
                name: "init_params",
                value: s.to_string(),
                expected: "'init_params' should be in ['kmeans', 'k-means++', 'random', 'random_from_data']",
            }),
        }
    }
}

/// One EM iteration, as reported to a progress observer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Which initialisation (0-based) is running.
    pub run: usize,
    /// Total number of runs.
    pub n_runs: usize,
    /// Iteration within the run (1-based).
    pub iteration: usize,
    /// `max_iter`.
    pub max_iter: usize,
    /// Lower bound after this iteration.
    pub lower_bound: f64,
    /// Change from the previous iteration.
    pub change: f64,
}

/// The specification of a Gaussian mixture fit: hyperparameters only, cheap to clone.
///
/// ```
/// use einmix::{CovarianceType, GaussianMixture};
/// use ndarray::array;
///
/// let x = array![[0.0, 0.1], [0.2, -0.1], [-0.1, 0.0], [5.0, 5.1], [5.2, 4.9], [4.9, 5.0]];
/// let fit = GaussianMixture::new(2)
///     .covariance_type(CovarianceType::Diag)
///     .random_state(0)
///     .fit(x.view(), None)?;
/// assert!(fit.info.converged);
/// assert_eq!(fit.mixture.means().nrows(), 2);
/// # Ok::<(), einmix::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianMixture {
    pub(crate) n_components: usize,
    pub(crate) covariance_type: CovarianceType,
    pub(crate) tol: f64,
    pub(crate) reg_covar: f64,
    pub(crate) max_iter: usize,
    pub(crate) n_init: usize,
    pub(crate) init_params: InitParams,
    pub(crate) weights_init: Option<Array1<f64>>,
    pub(crate) means_init: Option<Array2<f64>>,
    pub(crate) precisions_init: Option<ArrayD<f64>>,
    pub(crate) random_state: Option<u64>,
    pub(crate) n_threads: Option<usize>,
    pub(crate) culling: bool,
    pub(crate) precision: Precision,
    pub(crate) rows_in_spatial_order: bool,
    pub(crate) final_labels: bool,
    pub(crate) learning_decay: f64,
    pub(crate) learning_offset: f64,
    pub(crate) background: Option<BackgroundRegion>,
}

impl Default for GaussianMixture {
    fn default() -> Self {
        GaussianMixture::new(1)
    }
}

impl GaussianMixture {
    /// A mixture of `n_components` with every other setting at scikit-learn's default.
    pub fn new(n_components: usize) -> GaussianMixture {
        GaussianMixture {
            n_components,
            covariance_type: CovarianceType::Full,
            tol: 1e-3,
            reg_covar: 1e-6,
            max_iter: 100,
            n_init: 1,
            init_params: InitParams::KMeans,
            weights_init: None,
            means_init: None,
            precisions_init: None,
            random_state: None,
            n_threads: None,
            culling: true,
            precision: Precision::F64,
            rows_in_spatial_order: false,
            final_labels: true,
            learning_decay: 0.7,
            learning_offset: 10.0,
            background: None,
        }
    }

    /// Number of components (default 1).
    pub fn n_components(mut self, n: usize) -> Self {
        self.n_components = n;
        self
    }
    /// Covariance kind (default `full`).
    pub fn covariance_type(mut self, kind: CovarianceType) -> Self {
        self.covariance_type = kind;
        self
    }
    /// Convergence threshold on the change of the per-sample mean lower bound (default 1e-3).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }
    /// Non-negative regularisation added to the diagonal of every covariance (default 1e-6).
    pub fn reg_covar(mut self, reg: f64) -> Self {
        self.reg_covar = reg;
        self
    }
    /// Maximum EM iterations per run (default 100); 0 returns the initialisation.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }
    /// Number of initialisations; the best lower bound is kept (default 1).
    pub fn n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }
    /// Initialisation method (default `kmeans`).
    pub fn init_params(mut self, init: InitParams) -> Self {
        self.init_params = init;
        self
    }
    /// Initial mixing weights, shape `(K,)` (default: estimated).
    pub fn weights_init(mut self, w: Array1<f64>) -> Self {
        self.weights_init = Some(w);
        self
    }
    /// Initial means, shape `(K, D)` (default: estimated).
    pub fn means_init(mut self, m: Array2<f64>) -> Self {
        self.means_init = Some(m);
        self
    }
    /// Initial precisions (inverse covariances) in the kind's shape (default: estimated).
    pub fn precisions_init(mut self, p: ArrayD<f64>) -> Self {
        self.precisions_init = Some(p);
        self
    }
    /// Seed of every random choice (default: fresh entropy each fit).
    pub fn random_state(mut self, seed: u64) -> Self {
        self.random_state = Some(seed);
        self
    }
    /// Whether, in 1 to 3 dimensions, the E-step skips components that provably cannot
    /// contribute to a chunk of nearby points (default true). The result is the unculled one to
    /// 1e-12 relative or better (checked every iteration; see `pass::cull`); turning it off only
    /// makes fits slower, which is what the benchmark uses it for.
    pub fn culling(mut self, on: bool) -> Self {
        self.culling = on;
        self
    }
    /// The arithmetic of the matrix-product passes (default [`Precision::F64`]; see
    /// [`Precision`]).
    pub fn precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }
    /// The arithmetic asked for.
    pub fn get_precision(&self) -> Precision {
        self.precision
    }
    /// Declares that the rows already lie in a spatially coherent order, each run of 256
    /// consecutive rows covering a small region (an image's pixels in tiles, a volume's voxels
    /// in bricks), so that culling needs no sort of its own (default false: the rows are put
    /// in Morton order first). Only the chunking changes: the result is the same to rounding.
    pub fn rows_in_spatial_order(mut self, yes: bool) -> Self {
        self.rows_in_spatial_order = yes;
        self
    }
    /// Adds a uniform background component over `region` (default: none, scikit-learn's
    /// model), whose weight EM learns with the Gaussians' (see [`crate::Background`]): for
    /// clutter and noise floors that would otherwise pull components onto themselves. It
    /// starts with weight `1/(K+1)`; the fitted model's [`Mixture::background`] holds it.
    /// In-memory, streamed, partitioned and online fits take it (a partitioned fit needs the
    /// region given: `BackgroundRegion::Box`), and so does the variational model
    /// ([`crate::BayesianGaussianMixture::background`]).
    pub fn background(mut self, region: BackgroundRegion) -> Self {
        self.background = Some(region);
        self
    }
    /// Whether the fit ends with scikit-learn's final E-step, filling [`Fit::labels`] (default
    /// true). Turn it off to save that pass when only the model is wanted (e.g. warm-started
    /// frames of a time-lapse); `labels` is then empty.
    pub fn final_labels(mut self, on: bool) -> Self {
        self.final_labels = on;
        self
    }
    /// Online EM ([`GaussianMixture::partial_fit`]): the exponent `kappa` of the step size
    /// `rho_t = (t + t0)^(-kappa)` (default 0.7, as scikit-learn's online LDA; in `(0.5, 1]`:
    /// larger forgets the early batches more slowly).
    pub fn learning_decay(mut self, kappa: f64) -> Self {
        self.learning_decay = kappa;
        self
    }
    /// Online EM: the offset `t0 >= 0` of the step size `rho_t = (t + t0)^(-kappa)` (default
    /// 10): larger damps the first steps.
    pub fn learning_offset(mut self, t0: f64) -> Self {
        self.learning_offset = t0;
        self
    }
    /// Worker threads (default: all cores). Results do not depend on it.
    pub fn n_threads(mut self, n: usize) -> Self {
        self.n_threads = Some(n);
        self
    }

    /// The number of components asked for.
    pub fn get_n_components(&self) -> usize {
        self.n_components
    }
    /// The covariance kind asked for.
    pub fn get_covariance_type(&self) -> CovarianceType {
        self.covariance_type
    }

    /// Checks the hyperparameters on their own (no data needed).
    pub fn validate(&self) -> Result<()> {
        parameter(self.n_components >= 1, "n_components", self.n_components, "n_components must be >= 1.")?;
        parameter(
            self.tol >= 0.0 && !self.tol.is_nan(),
            "tol",
            self.tol,
            "tol must be a non-negative number.",
        )?;
        parameter(
            self.reg_covar >= 0.0 && self.reg_covar.is_finite(),
            "reg_covar",
            self.reg_covar,
            "reg_covar must be a finite non-negative number.",
        )?;
        parameter(self.n_init >= 1, "n_init", self.n_init, "n_init must be >= 1.")?;
        parameter(
            self.learning_decay > 0.5 && self.learning_decay <= 1.0,
            "learning_decay",
            self.learning_decay,
            "learning_decay must be in (0.5, 1].",
        )?;
        parameter(
            self.learning_offset >= 0.0 && self.learning_offset.is_finite(),
            "learning_offset",
            self.learning_offset,
            "learning_offset must be a finite non-negative number.",
        )?;
        if let Some(n) = self.n_threads {
            parameter(n >= 1, "n_threads", n, "n_threads must be at least 1 (or unset for all cores).")?;
        }
        Ok(())
    }

    /// Checks the user-given initial parameters against the data's dimension `d`.
    pub(crate) fn validate_inits(&self, d: usize) -> Result<()> {
        let k = self.n_components;
        if let Some(w) = &self.weights_init {
            validate::weights_init(w.view(), k)?;
        }
        if let Some(m) = &self.means_init {
            if m.dim() != (k, d) {
                return Err(Error::WrongShape {
                    input: Input::MeansInit,
                    expected: shape_text(&[k, d]),
                    found: shape_text(m.shape()),
                });
            }
            validate::finite_2d(m.view(), Input::MeansInit)?;
        }
        if let Some(p) = &self.precisions_init {
            let shape = self.covariance_type.shape(k, d);
            if p.shape() != shape.as_slice() {
                return Err(Error::WrongShape {
                    input: Input::PrecisionsInit,
                    expected: shape_text(&shape),
                    found: shape_text(p.shape()),
                });
            }
            if let Some((i, &v)) = p.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(Error::NonFinite {
                    input: Input::PrecisionsInit,
                    what: if v.is_nan() { "NaN" } else { "infinity" },
                    row: i / d.max(1),
                    column: i % d.max(1),
                });
            }
            let flat: Vec<f64> = p.iter().copied().collect();
            self.covariance_type.factor_precisions(&flat, k, d)?;
        }
        Ok(())
    }
}

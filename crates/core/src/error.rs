//! Errors of the core: data, not strings.
//!
//! Each variant carries what went wrong and where, and its message is worded like
//! scikit-learn's, so that users who know `sklearn.mixture` recognise it. Non-convergence is
//! not here: it is an outcome (`FitInfo::converged == false`), never an error.

use thiserror::Error;

/// The result type of every fallible call in `einmix`.
pub type Result<T> = std::result::Result<T, Error>;

/// Which input array an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The data matrix `X`.
    X,
    /// The per-sample weights.
    SampleWeight,
    /// `weights_init`.
    WeightsInit,
    /// `means_init`.
    MeansInit,
    /// `precisions_init`.
    PrecisionsInit,
    /// `mean_prior` (variational mixture).
    MeanPrior,
    /// `covariance_prior` (variational mixture).
    CovariancePrior,
}

impl std::fmt::Display for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Input::X => "X",
            Input::SampleWeight => "sample_weight",
            Input::WeightsInit => "weights_init",
            Input::MeansInit => "means_init",
            Input::PrecisionsInit => "precisions_init",
            Input::MeanPrior => "means",
            Input::CovariancePrior => "covariance_prior",
        })
    }
}

/// Everything that can go wrong in `einmix`.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A hyperparameter is outside its valid range.
    #[error("Invalid value for '{name}': {value}. {expected}")]
    InvalidParameter {
        /// The parameter's scikit-learn name.
        name: &'static str,
        /// The offending value, as given.
        value: String,
        /// What would have been valid.
        expected: &'static str,
    },
    /// `X` has too few rows (a fit needs 2, as scikit-learn's; scoring needs 1) or no columns.
    /// Worded as scikit-learn's `check_array`.
    #[error("{}", too_little_data(*n_samples, *n_features, *min_samples))]
    EmptyData {
        /// Rows of `X`.
        n_samples: usize,
        /// Columns of `X`.
        n_features: usize,
        /// Rows needed.
        min_samples: usize,
    },
    /// A value is NaN or infinite.
    #[error("Input {input} contains {what} at row {row}, column {column}.")]
    NonFinite {
        /// Which array.
        input: Input,
        /// "NaN" or "infinity".
        what: &'static str,
        /// Row of the first offending value.
        row: usize,
        /// Column of the first offending value (0 for vectors).
        column: usize,
    },
    /// Fewer (positively weighted) samples than components.
    #[error(
        "Expected n_samples >= n_components but got n_components = {n_components}, n_samples = {n_samples}"
    )]
    TooFewSamples {
        /// Samples available (with positive weight).
        n_samples: usize,
        /// Components asked for.
        n_components: usize,
    },
    /// An array does not have the shape it must have.
    #[error("The parameter '{input}' should have the shape {expected}, but got {found}.")]
    WrongShape {
        /// Which array.
        input: Input,
        /// Expected shape, e.g. `(50, 2)`.
        expected: String,
        /// Found shape.
        found: String,
    },
    /// A sample weight is negative.
    #[error("Negative values in data passed to sample_weight: sample_weight[{row}] = {value}.")]
    NegativeWeight {
        /// Index of the first negative weight.
        row: usize,
        /// Its value.
        value: f64,
    },
    /// All sample weights are zero.
    #[error("Sample weights must contain at least one positive value; all {n_samples} are zero.")]
    ZeroWeights {
        /// Number of weights.
        n_samples: usize,
    },
    /// `weights_init` is not a probability vector.
    #[error("The parameter 'weights_init' {problem}")]
    InvalidWeightsInit {
        /// What is wrong (range or sum).
        problem: String,
    },
    /// A `precisions_init` matrix is not symmetric positive definite.
    #[error("'precisions_init' for component {component} should be symmetric, positive-definite.")]
    PrecisionNotPositiveDefinite {
        /// The component (0 for tied).
        component: usize,
    },
    /// A fitted covariance is not positive definite even after `reg_covar`.
    #[error(
        "Fitting the mixture model failed because some components have ill-defined empirical \
         covariance (for instance caused by singleton or collapsed samples). Try to decrease the number \
         of components, increase reg_covar, or scale the input data. (The first: component {component}; \
         reg_covar is now {reg_covar}.)"
    )]
    IllDefinedCovariance {
        /// The component whose covariance failed (0 for tied).
        component: usize,
        /// The regularisation in force.
        reg_covar: f64,
    },
    /// The log-likelihood overflowed (data of extreme magnitude).
    #[error(
        "The log-likelihood is not finite: the data's magnitude overflows double precision. \
         Scale the input data (e.g. standardise each feature)."
    )]
    NonFiniteLikelihood,
    /// The data's dimension does not match the model's.
    #[error("X has {found} features, but the mixture is expecting {expected} features as input.")]
    DimensionMismatch {
        /// The model's dimension.
        expected: usize,
        /// The data's.
        found: usize,
    },
    /// `degrees_of_freedom_prior` must exceed `n_features - 1` (scikit-learn's wording).
    #[error("The parameter 'degrees_of_freedom_prior' should be greater than {}, but got {value:.3}.", *n_features as f64 - 1.0)]
    DegreesOfFreedomPrior {
        /// The value given.
        value: f64,
        /// `D`.
        n_features: usize,
    },
    /// A `covariance_prior` that is not symmetric positive definite (or not positive).
    #[error("'{kind} covariance_prior' should be {requirement}.")]
    CovariancePriorNotPositive {
        /// The covariance kind's name.
        kind: String,
        /// "symmetric, positive-definite" or "positive".
        requirement: &'static str,
    },
    /// A model file could not be parsed.
    #[error("Could not read the mixture model: {message}")]
    InvalidModel {
        /// The parser's message.
        message: String,
    },
    /// The background component's region (or its use) is not valid.
    #[error("Invalid background region: {problem}")]
    InvalidBackground {
        /// What is wrong, naming the feature.
        problem: String,
    },
}

/// scikit-learn's `check_array` message for too few rows, or else for no columns.
fn too_little_data(n_samples: usize, n_features: usize, min_samples: usize) -> String {
    if n_samples < min_samples {
        format!(
            "Found array with {n_samples} sample(s) (shape=({n_samples}, {n_features})) while a minimum of \
             {min_samples} is required."
        )
    } else {
        format!("Found array with 0 feature(s) (shape=({n_samples}, 0)) while a minimum of 1 is required.")
    }
}

//! # einmix: Gaussian mixture models fitted by EM
//!
//! scikit-learn's `GaussianMixture`, in Rust, exact and fast: every covariance kind
//! (`full`, `tied`, `diag`, `spherical`), every initialisation (`kmeans`, `k-means++`,
//! `random`, `random_from_data`, or given weights/means/precisions), `n_init` restarts,
//! per-sample weights, warm starts and all cores, with results that do not depend on the
//! number of threads.
//!
//! A tour: [`GaussianMixture`] is the specification (hyperparameters with scikit-learn's names
//! and defaults); [`GaussianMixture::fit`] returns a [`Fit`]: the fitted [`Mixture`] and its
//! [`FitInfo`] (convergence is a field, not an error). A [`Mixture`] predicts, scores, samples,
//! computes BIC/AIC and saves to JSON. Every failure is an [`Error`] variant.
//!
//! ```
//! use einmix::{CovarianceType, GaussianMixture, InitParams};
//! use ndarray::Array2;
//!
//! // Two clusters of 200 points each.
//! let x = Array2::from_shape_fn((400, 2), |(i, j)| {
//!     let centre = if i < 200 { 0.0 } else { 8.0 };
//!     centre + ((i * 7 + j * 13) % 17) as f64 / 17.0
//! });
//! let fit = GaussianMixture::new(2)
//!     .covariance_type(CovarianceType::Full)
//!     .init_params(InitParams::KMeansPlusPlus)
//!     .random_state(42)
//!     .fit(x.view(), None)?;
//! let labels = fit.mixture.predict(x.view())?;
//! assert_ne!(labels[0], labels[399]);
//! let json = fit.mixture.to_json();
//! assert_eq!(einmix::Mixture::from_json(&json)?, fit.mixture);
//! # Ok::<(), einmix::Error>(())
//! ```

#![deny(missing_docs)]
// `unsafe` is allowed in one module only: `kernels` (instruction-set dispatch).
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

// Layers, bottom to top (a module imports only from layers below it):
// kernels, linalg, parallel, error, validate  ->  chunks  ->  covariance  ->  pass
// ->  mstep, model, scoring, kmeans, init  ->  estimator  ->  driver, blockwise  ->  variational
// ->  datasets
mod background;
pub mod blockwise;
mod chunks;
mod covariance;
pub mod datasets;
mod driver;
mod error;
mod estimator;
mod init;
mod kernels;
mod kmeans;
mod linalg;
mod model;
mod mstep;
mod parallel;
mod pass;
mod scoring;
mod validate;
mod variational;

pub use background::{Background, BackgroundRegion};
pub use chunks::Element;
pub use covariance::CovarianceType;
pub use driver::online::{OnlineFit, OnlineState};
pub use driver::partitions::PartitionSource;
pub use driver::reuse::ChunkedRows;
pub use driver::stream;
pub use driver::FitOptions;
pub use error::{Error, Input, Result};
pub use estimator::{GaussianMixture, InitParams, Precision, Progress};
pub use kernels::instruction_set;
pub use linalg::{cholesky_lower, symmetric_eigen};
pub use model::{Fit, FitInfo, Mixture};
pub use variational::{BayesianFit, BayesianGaussianMixture, Priors, VariationalMixture, WeightPrior};

/// The README's Rust examples, compiled and run as doc-tests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

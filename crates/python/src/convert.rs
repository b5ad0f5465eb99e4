//! numpy <-> einmix conversions.

use einmix::{Background, BackgroundRegion, CovarianceType, FitInfo, GaussianMixture, Mixture};
use ndarray::{ArrayD, IxDyn};
use numpy::{IntoPyArray, PyArrayDyn, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::to_py;

pub fn kind(name: &str) -> PyResult<CovarianceType> {
    name.parse().map_err(to_py)
}

/// Rebuilds a mixture from the estimator's current attributes (scikit-learn's `predict` reads
/// `weights_`, `means_` and `precisions_cholesky_` as they are at call time).
pub fn mixture(
    covariance_type: &str,
    weights: PyReadonlyArray1<f64>,
    means: PyReadonlyArray2<f64>,
    covariances: PyReadonlyArrayDyn<f64>,
    precisions_cholesky: PyReadonlyArrayDyn<f64>,
) -> PyResult<Mixture> {
    Mixture::from_fitted_arrays(
        kind(covariance_type)?,
        weights.as_array(),
        means.as_array(),
        covariances.as_array(),
        precisions_cholesky.as_array(),
    )
    .map_err(to_py)
}

/// A fitted background from Python: `(lower, upper, weight)`.
pub type FittedBackground = (Vec<f64>, Vec<f64>, f64);

/// `m` with the estimator's fitted background (`background_lower_`, `background_upper_`,
/// `background_weight_`) attached as it is, if it has one.
pub fn with_background(m: Mixture, background: Option<FittedBackground>) -> PyResult<Mixture> {
    match background {
        Some((lower, upper, weight)) => {
            m.with_fitted_background(Background::new(lower, upper, weight).map_err(to_py)?).map_err(to_py)
        }
        None => Ok(m),
    }
}

/// The background option of a fit: off, the data's bounding box, or a given box.
pub fn background_region(on: bool, region: Option<(Vec<f64>, Vec<f64>)>) -> Option<BackgroundRegion> {
    match (on, region) {
        (false, _) => None,
        (true, None) => Some(BackgroundRegion::BoundingBox),
        (true, Some((lower, upper))) => Some(BackgroundRegion::Box { lower, upper }),
    }
}

fn dyn_array<'py>(py: Python<'py>, a: ndarray::ArrayViewD<f64>) -> Bound<'py, PyArrayDyn<f64>> {
    ArrayD::from_shape_vec(IxDyn(a.shape()), a.iter().copied().collect()).expect("shape").into_pyarray(py)
}

/// The fitted arrays of a mixture as a dict of numpy arrays.
pub fn mixture_dict<'py>(py: Python<'py>, m: &Mixture) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("weights", m.weights().to_owned().into_pyarray(py))?;
    d.set_item("means", m.means().to_owned().into_pyarray(py))?;
    d.set_item("covariances", dyn_array(py, m.covariances()))?;
    d.set_item("precisions_cholesky", dyn_array(py, m.precisions_cholesky()))?;
    d.set_item("precisions", m.precisions().into_pyarray(py))?;
    let background = m.background().map(|b| (b.lower().to_vec(), b.upper().to_vec(), b.weight()));
    d.set_item("background", background)?;
    Ok(d)
}

/// The EM settings every fit from Python shares: `(n_components, covariance_type, tol,
/// reg_covar, max_iter, n_init)`.
pub type EmSettings = (usize, String, f64, f64, usize, usize);

/// A specification from the shared EM settings (the rest at their defaults).
/// `compute_dtype=np.float32` (checked in Python) as the core's precision.
pub fn precision(single: bool) -> einmix::Precision {
    if single {
        einmix::Precision::F32
    } else {
        einmix::Precision::F64
    }
}

pub fn spec(settings: &EmSettings) -> PyResult<GaussianMixture> {
    let (n_components, covariance_type, tol, reg_covar, max_iter, n_init) = settings;
    let (n_components, tol, reg_covar, max_iter, n_init) =
        (*n_components, *tol, *reg_covar, *max_iter, *n_init);
    Ok(GaussianMixture::new(n_components)
        .covariance_type(kind(covariance_type)?)
        .tol(tol)
        .reg_covar(reg_covar)
        .max_iter(max_iter)
        .n_init(n_init))
}

/// The fitted arrays of `m` and the fit's report, as one dict.
pub fn fit_dict<'py>(py: Python<'py>, m: &Mixture, info: &FitInfo) -> PyResult<Bound<'py, PyDict>> {
    let out = mixture_dict(py, m)?;
    out.set_item("converged", info.converged)?;
    out.set_item("n_iter", info.n_iter)?;
    out.set_item("lower_bound", info.lower_bound)?;
    out.set_item("lower_bounds", info.lower_bounds.clone())?;
    out.set_item("run_lower_bounds", info.run_lower_bounds.clone())?;
    Ok(out)
}

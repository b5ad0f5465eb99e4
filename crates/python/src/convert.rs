//! numpy <-> einmix conversions.

use einmix::{CovarianceType, Mixture};
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
    Ok(d)
}

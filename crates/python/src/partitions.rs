//! `einmix._einmix.fit_partitions`: the core's EM driver over data that another engine (Dask)
//! holds in partitions. Python supplies two callables, the initialisation of a run and the
//! summed block statistics under given parameters; the loop, the culling fallback,
//! convergence and the best of `n_init` are the core's (`GaussianMixture::fit_partitions`).

use einmix::{FitOptions, Mixture, PartitionSource};
use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{self, fit_dict, mixture, mixture_dict, spec, EmSettings};
use crate::error::to_py;

/// A Python failure, or a core one on its way to becoming a Python exception.
struct Failure(PyErr);

impl From<einmix::Error> for Failure {
    fn from(e: einmix::Error) -> Failure {
        Failure(to_py(e))
    }
}

impl From<PyErr> for Failure {
    fn from(e: PyErr) -> Failure {
        Failure(e)
    }
}

/// The partitions as Python describes them.
struct Callbacks<'py> {
    py: Python<'py>,
    covariance_type: String,
    n_features: usize,
    initial_mixture: Py<PyAny>,
    summed_statistics: Py<PyAny>,
}

/// A mixture from the dict of fitted arrays einmix's Python functions return.
fn from_dict(covariance_type: &str, model: &Bound<'_, PyAny>) -> PyResult<Mixture> {
    let weights: PyReadonlyArray1<f64> = model.get_item("weights")?.extract()?;
    let means: PyReadonlyArray2<f64> = model.get_item("means")?.extract()?;
    let covariances: PyReadonlyArrayDyn<f64> = model.get_item("covariances")?.extract()?;
    let chol: PyReadonlyArrayDyn<f64> = model.get_item("precisions_cholesky")?.extract()?;
    // A dict from einmix's own functions carries "background" (None or (lower, upper, weight)).
    let background: Option<convert::FittedBackground> = match model.get_item("background") {
        Ok(b) => b.extract()?,
        Err(_) => None,
    };
    convert::with_background(mixture(covariance_type, weights, means, covariances, chol)?, background)
}

impl PartitionSource for Callbacks<'_> {
    type Error = Failure;

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn initial_mixture(&mut self, run: usize) -> Result<Mixture, Failure> {
        let model = self.initial_mixture.call1(self.py, (run,))?;
        Ok(from_dict(&self.covariance_type, model.bind(self.py))?)
    }

    fn summed_statistics(&mut self, m: &Mixture, cull: bool) -> Result<Vec<f64>, Failure> {
        let params = mixture_dict(self.py, m)?;
        let summed = self.summed_statistics.call1(self.py, (params, cull))?;
        let summed: PyReadonlyArray1<f64> = summed.extract(self.py).map_err(PyErr::from)?;
        Ok(summed.as_array().to_vec())
    }
}

/// Fits by the core's EM driver over partitions: `initial_mixture(run)` returns a dict of
/// fitted arrays, `summed_statistics(params, cull)` the summed statistics vector under the
/// dict `params`; `settings` is `(n_components, covariance_type, tol, reg_covar, max_iter,
/// n_init)`. Returns the fitted arrays and the report, as `fit` does (without labels).
#[pyfunction]
#[pyo3(signature = (initial_mixture, summed_statistics, *, n_features, settings, background_region=None))]
fn fit_partitions<'py>(
    py: Python<'py>,
    initial_mixture: Py<PyAny>,
    summed_statistics: Py<PyAny>,
    n_features: usize,
    settings: EmSettings,
    background_region: Option<(Vec<f64>, Vec<f64>)>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut spec = spec(&settings)?;
    if let Some(region) = convert::background_region(background_region.is_some(), background_region) {
        spec = spec.background(region);
    }
    let covariance_type = settings.1;
    let mut source = Callbacks { py, covariance_type, n_features, initial_mixture, summed_statistics };
    let fit = spec.fit_partitions(&mut source, FitOptions::new()).map_err(|Failure(e)| e)?;
    fit_dict(py, &fit.mixture, &fit.info)
}

/// Adds this file's function to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit_partitions, m)?)
}

//! `einmix._einmix.partial_fit`: one step of the core's online EM (`GaussianMixture::partial_fit`).
//! The state between batches lives in the Python estimator as plain arrays, so it pickles.

use einmix::{Element, GaussianMixture, Mixture, OnlineFit, OnlineState};
use ndarray::{ArrayView1, ArrayView2};
use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{mixture, mixture_dict, EmSettings};
use crate::error::to_py;
use crate::{full_spec, Data, Start};

/// The previous step as Python keeps it: the estimator's fitted arrays, then the online state
/// `(mass, means, scatter, mean_weight, n_batches)` (a background's running share apart).
type Previous<'py> = (
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray2<'py, f64>,
    PyReadonlyArrayDyn<'py, f64>,
    PyReadonlyArrayDyn<'py, f64>,
    (PyReadonlyArray1<'py, f64>, PyReadonlyArray1<'py, f64>, PyReadonlyArray1<'py, f64>, f64, u64),
);

fn step<T: Element>(
    spec: &GaussianMixture,
    x: ArrayView2<T>,
    w: Option<ArrayView1<f64>>,
    previous: &Option<OnlineFit>,
) -> einmix::Result<OnlineFit> {
    spec.partial_fit(x, w, previous.as_ref())
}

/// One batch of online EM: returns the fitted arrays, the batch's `lower_bound` and the new
/// state (`mass`, `state_means`, `scatter`, `mean_weight`, `n_batches`).
#[pyfunction]
#[pyo3(signature = (
    x, sample_weight, *, settings, start, learning, weights_init=None, means_init=None,
    precisions_init=None, previous=None, background=false, background_region=None,
    warm_background=None, background_share=None
))]
#[allow(clippy::too_many_arguments)]
fn partial_fit<'py>(
    py: Python<'py>,
    x: Data<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    settings: EmSettings,
    start: Start,
    learning: (f64, f64),
    weights_init: Option<PyReadonlyArray1<'py, f64>>,
    means_init: Option<PyReadonlyArray2<'py, f64>>,
    precisions_init: Option<PyReadonlyArrayDyn<'py, f64>>,
    previous: Option<Previous<'py>>,
    background: bool,
    background_region: Option<(Vec<f64>, Vec<f64>)>,
    warm_background: Option<crate::convert::FittedBackground>,
    background_share: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut spec = full_spec(&settings, &start, (weights_init, means_init, precisions_init))?
        .learning_decay(learning.0)
        .learning_offset(learning.1);
    if let Some(region) = crate::convert::background_region(background, background_region) {
        spec = spec.background(region);
    }
    let previous = match previous {
        None => None,
        Some((w, m, c, u, (mass, means, scatter, mean_weight, n_batches))) => {
            let mixture: Mixture =
                crate::convert::with_background(mixture(&settings.1, w, m, c, u)?, warm_background)?;
            let flat = |a: PyReadonlyArray1<f64>| a.as_array().to_vec();
            let parts = (flat(mass), flat(means), flat(scatter), mean_weight, n_batches);
            let state = match background_share {
                Some(share) => OnlineState::from_parts_with_background(&mixture, parts, share),
                None => OnlineState::from_parts(&mixture, parts),
            }
            .map_err(to_py)?;
            Some(OnlineFit { mixture, state, lower_bound: f64::NAN })
        }
    };
    let w = sample_weight.as_ref().map(|w| w.as_array());
    let result = on_data!(&x, |x| py.detach(|| step(&spec, x, w, &previous)));
    let fit = result.map_err(to_py)?;
    let out = mixture_dict(py, &fit.mixture)?;
    out.set_item("lower_bound", fit.lower_bound)?;
    let (mass, means, scatter, mean_weight, n_batches) = fit.state.to_parts();
    out.set_item("mass", mass.into_pyarray(py))?;
    out.set_item("state_means", means.into_pyarray(py))?;
    out.set_item("scatter", scatter.into_pyarray(py))?;
    out.set_item("mean_weight", mean_weight)?;
    out.set_item("n_batches", n_batches)?;
    out.set_item("background_share", fit.mixture.background().map(|_| fit.state.background_share()))?;
    Ok(out)
}

/// Adds this file's function to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(partial_fit, m)?)
}

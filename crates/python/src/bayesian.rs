//! `einmix._einmix.bayesian_fit` / `bayesian_score`: the core's variational mixture
//! (`einmix::BayesianGaussianMixture`) for the scikit-learn-shaped class in Python.

use einmix::{
    BayesianGaussianMixture, Element, FitOptions, Mixture, Priors, VariationalMixture, WeightPrior,
};
use ndarray::{ArrayView1, ArrayView2};
use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{kind, mixture, with_background, EmSettings, FittedBackground};
use crate::error::to_py;
use crate::{Data, Start};

/// The user's priors, `None` for scikit-learn's defaults: `(weight_concentration_prior,
/// mean_precision_prior, mean_prior, degrees_of_freedom_prior, covariance_prior)`.
type GivenPriors<'py> = (
    Option<f64>,
    Option<f64>,
    Option<PyReadonlyArray1<'py, f64>>,
    Option<f64>,
    Option<PyReadonlyArrayDyn<'py, f64>>,
);

/// A fitted variational state as the Python estimator holds it: `(weights_, means_,
/// covariances_, precisions_cholesky_, concentration_a, concentration_b (empty for the
/// distribution), mean_precision_, degrees_of_freedom_)`.
type State<'py> = (
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray2<'py, f64>,
    PyReadonlyArrayDyn<'py, f64>,
    PyReadonlyArrayDyn<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
);

/// The posterior from Python's arrays, with the estimator's fitted background if it has one
/// (the priors are the fit's business, not the state's).
fn variational(
    covariance_type: &str,
    weight_prior: WeightPrior,
    s: State,
    background: Option<FittedBackground>,
) -> PyResult<VariationalMixture> {
    let m: Mixture = with_background(mixture(covariance_type, s.0, s.1, s.2, s.3)?, background)?;
    let d = m.n_features();
    let flat = |a: PyReadonlyArray1<f64>| a.as_array().to_vec();
    let priors = Priors {
        weight_concentration: 1.0,
        mean_precision: 1.0,
        mean: vec![0.0; d],
        degrees_of_freedom: d as f64,
        covariance: Vec::new(),
    };
    VariationalMixture::from_parts(weight_prior, priors, (flat(s.4), flat(s.5)), flat(s.6), flat(s.7), m)
        .map_err(to_py)
}

fn fit_detached<T: Element>(
    spec: &BayesianGaussianMixture,
    x: ArrayView2<T>,
    w: Option<ArrayView1<f64>>,
    start: &Option<(VariationalMixture, f64)>,
    progress: &Option<Py<PyAny>>,
) -> einmix::Result<einmix::BayesianFit> {
    let mut observer = crate::observer(progress);
    let options = FitOptions::new().progress(&mut observer);
    let options = match start {
        Some((m, lb)) => options.warm_start(m, *lb),
        None => options,
    };
    spec.fit_with(x, w, options)
}

/// Fits the variational mixture (with a uniform background when `background`, over
/// `background_region` or the data's box); returns a dict of every fitted attribute and the
/// report (`background`: `(lower, upper, weight)` or None).
#[pyfunction]
#[pyo3(signature = (
    x, sample_weight, *, settings, start, weight_prior, priors, warm_start=None, progress=None,
    background=false, background_region=None, warm_background=None, single_precision=false
))]
#[allow(clippy::too_many_arguments)]
fn bayesian_fit<'py>(
    py: Python<'py>,
    x: Data<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    settings: EmSettings,
    start: Start,
    weight_prior: &str,
    priors: GivenPriors<'py>,
    warm_start: Option<(State<'py>, f64)>,
    progress: Option<Py<PyAny>>,
    background: bool,
    background_region: Option<(Vec<f64>, Vec<f64>)>,
    warm_background: Option<FittedBackground>,
    single_precision: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let (n_components, covariance_type, tol, reg_covar, max_iter, n_init) = &settings;
    let (init_params, random_state, n_threads) = start;
    let weight_prior: WeightPrior = weight_prior.parse().map_err(to_py)?;
    let mut spec = BayesianGaussianMixture::new(*n_components)
        .covariance_type(kind(covariance_type)?)
        .tol(*tol)
        .reg_covar(*reg_covar)
        .max_iter(*max_iter)
        .n_init(*n_init)
        .init_params(init_params.parse().map_err(to_py)?)
        .weight_prior(weight_prior)
        .precision(crate::convert::precision(single_precision));
    if let Some(seed) = random_state {
        spec = spec.random_state(seed);
    }
    if let Some(n) = n_threads {
        spec = spec.n_threads(n);
    }
    let (alpha, beta, mean, nu, covariance) = priors;
    if let Some(v) = alpha {
        spec = spec.weight_concentration_prior(v);
    }
    if let Some(v) = beta {
        spec = spec.mean_precision_prior(v);
    }
    if let Some(v) = mean {
        spec = spec.mean_prior(v.as_array().to_owned());
    }
    if let Some(v) = nu {
        spec = spec.degrees_of_freedom_prior(v);
    }
    if let Some(v) = covariance {
        spec = spec.covariance_prior(v.as_array().iter().copied().collect());
    }
    if let Some(region) = crate::convert::background_region(background, background_region) {
        spec = spec.background(region);
    }
    let start = match warm_start {
        Some((state, lb)) => Some((variational(covariance_type, weight_prior, state, warm_background)?, lb)),
        None => None,
    };
    let w = sample_weight.as_ref().map(|w| w.as_array());
    let result = on_data!(&x, |x| py.detach(|| fit_detached(&spec, x, w, &start, &progress)));
    let fit = result.map_err(to_py)?;
    let m = &fit.model;
    let out = crate::convert::fit_dict(py, &m.mixture, &fit.info)?;
    let labels: Vec<i64> = fit.labels.iter().map(|&l| l as i64).collect();
    out.set_item("labels", labels.into_pyarray(py))?;
    out.set_item("concentration_a", m.concentration_a.clone().into_pyarray(py))?;
    out.set_item("concentration_b", m.concentration_b.clone().into_pyarray(py))?;
    out.set_item("mean_precision", m.mean_precision.clone().into_pyarray(py))?;
    out.set_item("degrees_of_freedom", m.degrees_of_freedom.clone().into_pyarray(py))?;
    let p = &m.priors;
    out.set_item("weight_concentration_prior", p.weight_concentration)?;
    out.set_item("mean_precision_prior", p.mean_precision)?;
    out.set_item("mean_prior", p.mean.clone().into_pyarray(py))?;
    out.set_item("degrees_of_freedom_prior", p.degrees_of_freedom)?;
    out.set_item("covariance_prior", p.covariance.clone().into_pyarray(py))?;
    Ok(out)
}

/// `what` ("score_samples", "predict_proba" or "predict") of `x` under the variational state.
#[pyfunction]
#[pyo3(signature = (x, what, covariance_type, weight_prior, state, n_threads=None, background=None))]
fn bayesian_score<'py>(
    py: Python<'py>,
    x: Data<'py>,
    what: &str,
    covariance_type: &str,
    weight_prior: &str,
    state: State<'py>,
    n_threads: Option<usize>,
    background: Option<FittedBackground>,
) -> PyResult<Bound<'py, PyAny>> {
    let model = variational(covariance_type, weight_prior.parse().map_err(to_py)?, state, background)?;
    macro_rules! run {
        ($call:ident) => {
            on_data!(&x, |x| crate::run_detached(py, n_threads, || model.$call(x)))?.map_err(to_py)?
        };
    }
    Ok(match what {
        "score_samples" => run!(score_samples).into_pyarray(py).into_any(),
        "predict_proba" => run!(predict_proba).into_pyarray(py).into_any(),
        "predict" => run!(predict).mapv(|l| l as i64).into_pyarray(py).into_any(),
        _ => return Err(pyo3::exceptions::PyValueError::new_err(format!("unknown output {what:?}"))),
    })
}

/// Adds this file's functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bayesian_fit, m)?)?;
    m.add_function(wrap_pyfunction!(bayesian_score, m)?)
}

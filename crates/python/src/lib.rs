//! `einmix._einmix`: the compiled core behind the `einmix` Python package.
//!
//! Thin on purpose: array conversion, the GIL released around every heavy call, errors mapped
//! in one place (`error.rs`). The scikit-learn-shaped class is plain Python (`python/einmix`).

#[macro_use]
mod macros;
mod bayesian;
mod blockwise;
mod cli;
mod convert;
mod error;
mod files;
mod frames;
mod image;
mod online;
mod partitions;

use einmix::{Element, Fit, FitOptions, GaussianMixture, InitParams, Mixture, Progress};
use ndarray::{Array1, ArrayView1, ArrayView2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{mixture, mixture_dict, EmSettings};
use crate::error::{to_py, EinmixError};

/// A warm start from Python: `(weights_, means_, covariances_, precisions_cholesky_, lower_bound_)`.
type WarmStart<'py> = (
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray2<'py, f64>,
    PyReadonlyArrayDyn<'py, f64>,
    PyReadonlyArrayDyn<'py, f64>,
    f64,
);

/// Samples and their labels, as numpy arrays.
type Samples<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<i64>>);

/// Runs `f` on a pool of `n_threads` (or rayon's global pool), without the GIL.
pub(crate) fn run_detached<T: Send>(
    py: Python<'_>,
    n_threads: Option<usize>,
    f: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    match n_threads {
        None => Ok(py.detach(f)),
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .map_err(|e| EinmixError::new_err(format!("could not start {n} threads: {e}")))?;
            Ok(py.detach(|| pool.install(f)))
        }
    }
}

/// The data as numpy hands it over: float64 or float32, any strides, read-only is fine. Either
/// reaches the core without a copy (the core widens f32 as it lays the data out in chunks).
#[derive(FromPyObject)]
pub(crate) enum Data<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
}

/// Calls Python's `progress(run, iteration, lower_bound, change)` (with the GIL) after each
/// iteration, if given; a failing callback is reported, not fatal.
pub(crate) fn observer(progress: &Option<Py<PyAny>>) -> impl FnMut(&Progress) + '_ {
    move |p: &Progress| {
        if let Some(cb) = progress {
            Python::attach(|py| {
                if let Err(e) = cb.call1(py, (p.run, p.iteration, p.lower_bound, p.change)) {
                    e.print(py);
                }
            });
        }
    }
}

/// The fit itself, without the GIL; `progress` is called (with the GIL) after each iteration.
fn fit_detached<T: Element>(
    spec: &GaussianMixture,
    x: ArrayView2<T>,
    w: Option<ArrayView1<f64>>,
    start: &Option<(Mixture, f64)>,
    progress: &Option<Py<PyAny>>,
) -> einmix::Result<Fit> {
    let mut observer = observer(progress);
    let options = FitOptions::new().progress(&mut observer);
    let options = match start {
        Some((m, lb)) => options.warm_start(m, *lb),
        None => options,
    };
    spec.fit_with(x, w, options)
}

/// How runs start: `(init_params, random_state, n_threads)`.
pub(crate) type Start = (String, Option<u64>, Option<usize>);

/// The user's `(weights_init, means_init, precisions_init)`.
pub(crate) type Inits<'py> = (
    Option<PyReadonlyArray1<'py, f64>>,
    Option<PyReadonlyArray2<'py, f64>>,
    Option<PyReadonlyArrayDyn<'py, f64>>,
);

/// The specification of a fit from Python's arguments: the shared EM settings, then the
/// initialisation and the threads.
#[allow(clippy::too_many_arguments)]
pub(crate) fn full_spec(
    settings: &EmSettings,
    start: &Start,
    (weights_init, means_init, precisions_init): Inits<'_>,
) -> PyResult<GaussianMixture> {
    let (init_params, random_state, n_threads) = start;
    let mut spec = convert::spec(settings)?.init_params(init_params.parse::<InitParams>().map_err(to_py)?);
    if let Some(seed) = *random_state {
        spec = spec.random_state(seed);
    }
    if let Some(n) = *n_threads {
        spec = spec.n_threads(n);
    }
    if let Some(w) = weights_init {
        spec = spec.weights_init(w.as_array().to_owned());
    }
    if let Some(m) = means_init {
        spec = spec.means_init(m.as_array().to_owned());
    }
    if let Some(p) = precisions_init {
        spec = spec.precisions_init(p.as_array().to_owned());
    }
    Ok(spec)
}

/// Fits a mixture; returns a dict of the fitted arrays and the fit report.
#[pyfunction]
#[pyo3(signature = (
    x, sample_weight, *, n_components, covariance_type, tol, reg_covar, max_iter, n_init,
    init_params, random_state, n_threads, weights_init=None, means_init=None,
    precisions_init=None, warm_start=None, progress=None, background=false,
    background_region=None, warm_background=None, single_precision=false
))]
#[allow(clippy::too_many_arguments)]
fn fit<'py>(
    py: Python<'py>,
    x: Data<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    n_components: usize,
    covariance_type: &str,
    tol: f64,
    reg_covar: f64,
    max_iter: usize,
    n_init: usize,
    init_params: &str,
    random_state: Option<u64>,
    n_threads: Option<usize>,
    weights_init: Option<PyReadonlyArray1<'py, f64>>,
    means_init: Option<PyReadonlyArray2<'py, f64>>,
    precisions_init: Option<PyReadonlyArrayDyn<'py, f64>>,
    warm_start: Option<WarmStart<'py>>,
    progress: Option<Py<PyAny>>,
    background: bool,
    background_region: Option<(Vec<f64>, Vec<f64>)>,
    warm_background: Option<convert::FittedBackground>,
    single_precision: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let settings = (n_components, covariance_type.to_string(), tol, reg_covar, max_iter, n_init);
    let start = (init_params.to_string(), random_state, n_threads);
    let mut spec = full_spec(&settings, &start, (weights_init, means_init, precisions_init))?
        .precision(convert::precision(single_precision));
    if let Some(region) = convert::background_region(background, background_region) {
        spec = spec.background(region);
    }
    let start: Option<(Mixture, f64)> = match warm_start {
        Some((w, m, c, u, lb)) => {
            Some((convert::with_background(mixture(covariance_type, w, m, c, u)?, warm_background)?, lb))
        }
        None => None,
    };
    let w = sample_weight.as_ref().map(|w| w.as_array());
    let result = on_data!(&x, |x| py.detach(|| fit_detached(&spec, x, w, &start, &progress)));
    let fit = result.map_err(to_py)?;
    let out = convert::fit_dict(py, &fit.mixture, &fit.info)?;
    // usize and i64 have the same size: this collect reuses the labels' buffer.
    let labels: Vec<i64> = fit.labels.into_raw_vec_and_offset().0.into_iter().map(|l| l as i64).collect();
    out.set_item("labels", labels.into_pyarray(py))?;
    Ok(out)
}

/// One of a mixture's per-row outputs, computed for either element type of [`Data`].
trait Scorer {
    type Out: Send;
    fn run<T: Element>(&self, m: &Mixture, x: ArrayView2<T>) -> einmix::Result<Self::Out>;
}

/// `log p(x_i)`.
struct LogDensity;
/// Responsibilities.
struct Proba;
/// Most probable components.
struct Labels;

impl Scorer for LogDensity {
    type Out = Array1<f64>;
    fn run<T: Element>(&self, m: &Mixture, x: ArrayView2<T>) -> einmix::Result<Self::Out> {
        m.score_samples(x)
    }
}
impl Scorer for Proba {
    type Out = ndarray::Array2<f64>;
    fn run<T: Element>(&self, m: &Mixture, x: ArrayView2<T>) -> einmix::Result<Self::Out> {
        m.predict_proba(x)
    }
}
impl Scorer for Labels {
    type Out = Array1<usize>;
    fn run<T: Element>(&self, m: &Mixture, x: ArrayView2<T>) -> einmix::Result<Self::Out> {
        m.predict(x)
    }
}

/// Runs `scorer` over `x` without the GIL, on `n_threads` (or rayon's global pool).
fn score<S: Scorer + Sync>(
    py: Python<'_>,
    x: &Data<'_>,
    m: &Mixture,
    n_threads: Option<usize>,
    scorer: S,
) -> PyResult<S::Out> {
    let out = on_data!(x, |x| run_detached(py, n_threads, || scorer.run(m, x)))?;
    out.map_err(to_py)
}

/// Defines a scoring function of Python's: the mixture from the estimator's arrays, then
/// `scorer` over `x` (float64 or float32) without the GIL on `n_threads`.
macro_rules! scoring_function {
    ($(#[$doc:meta])* $name:ident, $scorer:expr, $out:ty, |$result:ident| $convert:expr) => {
        $(#[$doc])*
        #[pyfunction]
        #[pyo3(signature = (x, covariance_type, weights, means, covariances, precisions_cholesky, n_threads=None, background=None))]
        #[allow(clippy::too_many_arguments)]
        fn $name<'py>(
            py: Python<'py>,
            x: Data<'py>,
            covariance_type: &str,
            weights: PyReadonlyArray1<'py, f64>,
            means: PyReadonlyArray2<'py, f64>,
            covariances: PyReadonlyArrayDyn<'py, f64>,
            precisions_cholesky: PyReadonlyArrayDyn<'py, f64>,
            n_threads: Option<usize>,
            background: Option<convert::FittedBackground>,
        ) -> PyResult<Bound<'py, $out>> {
            let m = mixture(covariance_type, weights, means, covariances, precisions_cholesky)?;
            let m = convert::with_background(m, background)?;
            let $result = score(py, &x, &m, n_threads, $scorer)?;
            Ok($convert.into_pyarray(py))
        }
    };
}

scoring_function!(
    /// Log-density of the mixture at each row of `x`.
    score_samples, LogDensity, PyArray1<f64>, |out| out
);
scoring_function!(
    /// Posterior probabilities of the components, `(N, K)`.
    predict_proba, Proba, PyArray2<f64>, |out| out
);
scoring_function!(
    /// Most probable component of each row.
    predict, Labels, PyArray1<i64>, |out| out.mapv(|l| l as i64)
);

/// `n` samples and their component labels (`K` for a background's).
#[pyfunction]
#[pyo3(signature = (n, seed, covariance_type, weights, means, covariances, precisions_cholesky, background=None))]
#[allow(clippy::too_many_arguments)]
fn sample<'py>(
    py: Python<'py>,
    n: usize,
    seed: u64,
    covariance_type: &str,
    weights: PyReadonlyArray1<'py, f64>,
    means: PyReadonlyArray2<'py, f64>,
    covariances: PyReadonlyArrayDyn<'py, f64>,
    precisions_cholesky: PyReadonlyArrayDyn<'py, f64>,
    background: Option<convert::FittedBackground>,
) -> PyResult<Samples<'py>> {
    let m = mixture(covariance_type, weights, means, covariances, precisions_cholesky)?;
    let m = convert::with_background(m, background)?;
    let (x, labels) = py.detach(|| m.sample(n, seed));
    Ok((x.into_pyarray(py), labels.mapv(|l| l as i64).into_pyarray(py)))
}

/// The seed workload (points and the true mixture's arrays), for benchmarks and examples.
#[pyfunction]
fn seed_workload<'py>(
    py: Python<'py>,
    n_samples: usize,
    n_components: usize,
    seed: u64,
) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyDict>)> {
    let (truth, x) = py.detach(|| einmix::datasets::seed_workload(n_samples, n_components, seed));
    Ok((x.into_pyarray(py), mixture_dict(py, &truth)?))
}

#[pymodule]
fn _einmix(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(score_samples, m)?)?;
    m.add_function(wrap_pyfunction!(predict_proba, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(sample, m)?)?;
    m.add_function(wrap_pyfunction!(seed_workload, m)?)?;
    m.add_function(wrap_pyfunction!(files::read_data, m)?)?;
    m.add("EinmixError", m.py().get_type::<EinmixError>())?;
    m.add("instruction_set", einmix::instruction_set())?;
    blockwise::register(m)?;
    partitions::register(m)?;
    online::register(m)?;
    bayesian::register(m)?;
    image::register(m)?;
    cli::register(m)?;
    Ok(())
}

//! `einmix._einmix` block kernels (`einmix::blockwise`) for engines such as Dask: one call per
//! block of rows, the GIL released, float64 or float32 blocks read in place (strided and
//! read-only arrays included), the statistics returned as one flat float64 vector.

use einmix::blockwise::{self, Element, Layout};
use einmix::Mixture;
use ndarray::{Array2, ArrayView1, ArrayView2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{kind, mixture, mixture_dict, with_background, FittedBackground};
use crate::error::to_py;

/// A block of rows as numpy holds it: float64 or float32, any strides.
#[derive(FromPyObject)]
pub enum Block<'py> {
    F64(PyReadonlyArray2<'py, f64>),
    F32(PyReadonlyArray2<'py, f32>),
}

/// Calls a generic function on the block's view, whichever its element type.
macro_rules! on_block {
    ($block:expr, |$x:ident| $body:expr) => {
        match $block {
            Block::F64(a) => {
                let $x = a.as_array();
                $body
            }
            Block::F32(a) => {
                let $x = a.as_array();
                $body
            }
        }
    };
}

type Params<'py> = (
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray2<'py, f64>,
    PyReadonlyArrayDyn<'py, f64>,
    PyReadonlyArrayDyn<'py, f64>,
);

fn model(covariance_type: &str, p: Params) -> PyResult<Mixture> {
    mixture(covariance_type, p.0, p.1, p.2, p.3)
}

fn weights<'a>(w: &'a Option<PyReadonlyArray1<'_, f64>>) -> Option<ArrayView1<'a, f64>> {
    w.as_ref().map(|w| w.as_array())
}

fn stats_of<T: Element>(
    m: &Mixture,
    x: ArrayView2<T>,
    w: Option<ArrayView1<f64>>,
    cull: bool,
) -> einmix::Result<Vec<f64>> {
    let mut engine = blockwise::BlockStatistics::new(m, Some(1))?;
    engine.set_cull(cull && engine.cull());
    let mut out = vec![0.0; engine.layout().len()];
    engine.add_block(x, w, &mut out)?;
    Ok(out)
}

/// E-step statistics of one block under the given parameters (layout: `einmix::blockwise::Layout`).
#[pyfunction]
#[pyo3(signature = (x, sample_weight, covariance_type, params, cull=true, background=None))]
fn block_statistics<'py>(
    py: Python<'py>,
    x: Block<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    covariance_type: &str,
    params: Params<'py>,
    cull: bool,
    background: Option<FittedBackground>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let m = with_background(model(covariance_type, params)?, background)?;
    let w = weights(&sample_weight);
    let out = on_block!(&x, |x| py.detach(|| stats_of(&m, x, w, cull))).map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// One M-step from summed statistics: (fitted arrays as a dict, lower bound of `params`).
#[pyfunction]
#[pyo3(signature = (summed, covariance_type, params, reg_covar, background=None))]
fn m_step_from_statistics<'py>(
    py: Python<'py>,
    summed: PyReadonlyArray1<'py, f64>,
    covariance_type: &str,
    params: Params<'py>,
    reg_covar: f64,
    background: Option<FittedBackground>,
) -> PyResult<(Bound<'py, PyDict>, f64)> {
    let m = with_background(model(covariance_type, params)?, background)?;
    let s = summed.as_array().to_vec();
    let (next, lower_bound) = blockwise::m_step_from_statistics(&m, &s, reg_covar).map_err(to_py)?;
    Ok((mixture_dict(py, &next)?, lower_bound))
}

/// Whether the summed statistics were computed exactly despite culling.
#[pyfunction]
fn culling_was_exact(
    summed: PyReadonlyArray1<'_, f64>,
    covariance_type: &str,
    n_components: usize,
    n_features: usize,
) -> PyResult<bool> {
    let layout = Layout::new(kind(covariance_type)?, n_components, n_features);
    let s = summed.as_slice()?;
    if s.len() != layout.len() {
        return Err(crate::error::EinmixError::new_err("statistics vector of the wrong length"));
    }
    Ok(layout.culling_was_exact(s))
}

/// Length of the statistics vector of a mixture of that shape.
#[pyfunction]
fn statistics_len(covariance_type: &str, n_components: usize, n_features: usize) -> PyResult<usize> {
    Ok(Layout::new(kind(covariance_type)?, n_components, n_features).len())
}

/// The Morton-order permutation of the rows of a block (makes culling effective).
#[pyfunction]
fn spatial_order<'py>(py: Python<'py>, x: Block<'py>) -> Bound<'py, PyArray1<i64>> {
    let order = on_block!(&x, |x| py.detach(|| blockwise::spatial_order(x)));
    order.into_iter().map(|r| r as i64).collect::<Vec<_>>().into_pyarray(py)
}

/// k-means|| cost pass: squared distance of every row to its nearest center (or `previous`).
#[pyfunction]
#[pyo3(signature = (x, centers, previous=None))]
fn min_sq_distances<'py>(
    py: Python<'py>,
    x: Block<'py>,
    centers: PyReadonlyArray2<'py, f64>,
    previous: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (c, p) = (centers.as_array(), weights(&previous));
    let out = on_block!(&x, |x| py.detach(|| blockwise::min_sq_distances(x, c, p))).map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// k-means|| sampling pass over one block (deterministic in seed, block and round).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn sample_candidates<'py>(
    py: Python<'py>,
    x: Block<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    d2: PyReadonlyArray1<'py, f64>,
    oversampling: f64,
    cost: f64,
    seed: u64,
    block: u64,
    round: u64,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (w, d2) = (weights(&sample_weight), d2.as_array());
    let out = on_block!(&x, |x| py.detach(|| blockwise::sample_candidates(
        x,
        w,
        d2,
        oversampling,
        cost,
        seed,
        block,
        round
    )))
    .map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// Per candidate, the weight of the block's rows nearest to it.
#[pyfunction]
fn candidate_weights<'py>(
    py: Python<'py>,
    x: Block<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    candidates: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (w, c) = (weights(&sample_weight), candidates.as_array());
    let out = on_block!(&x, |x| py.detach(|| blockwise::candidate_weights(x, w, c))).map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// k-means|| last step, locally: `k` centers from the weighted candidates.
#[pyfunction]
fn reduce_candidates<'py>(
    py: Python<'py>,
    candidates: PyReadonlyArray2<'py, f64>,
    weights: PyReadonlyArray1<'py, f64>,
    k: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let (c, w) = (candidates.as_array(), weights.as_array());
    let out: Array2<f64> = py.detach(|| blockwise::reduce_candidates(c, w, k, seed)).map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// The row holding the cumulative weight `u * sum(w)` (k-means||'s first center).
#[pyfunction]
#[pyo3(signature = (n, sample_weight, u))]
fn weighted_row(n: usize, sample_weight: Option<PyReadonlyArray1<'_, f64>>, u: f64) -> usize {
    blockwise::weighted_row(n, weights(&sample_weight), u)
}

/// Statistics of hard assignments to the nearest center (k-means initialisation).
#[pyfunction]
fn hard_statistics<'py>(
    py: Python<'py>,
    x: Block<'py>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    covariance_type: &str,
    centers: PyReadonlyArray2<'py, f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (k, w, c) = (kind(covariance_type)?, weights(&sample_weight), centers.as_array());
    let out = on_block!(&x, |x| py.detach(|| blockwise::hard_statistics(k, c, x, w))).map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// The first mixture from summed hard statistics around `centers`.
#[pyfunction]
fn mixture_from_hard_statistics<'py>(
    py: Python<'py>,
    summed: PyReadonlyArray1<'py, f64>,
    covariance_type: &str,
    centers: PyReadonlyArray2<'py, f64>,
    reg_covar: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let s = summed.as_array().to_vec();
    let m =
        blockwise::mixture_from_hard_statistics(kind(covariance_type)?, centers.as_array(), &s, reg_covar)
            .map_err(to_py)?;
    mixture_dict(py, &m)
}

/// What a per-block scoring call returns.
#[derive(Clone, Copy)]
enum What {
    Labels,
    Proba,
    LogLik,
}

fn score_block<'py>(py: Python<'py>, x: Block<'py>, m: Mixture, what: What) -> PyResult<Bound<'py, PyAny>> {
    // The scoring passes read float64 rows: a float32 block is widened once (the chunked
    // layout copies the rows anyway).
    let owned;
    let view = match &x {
        Block::F64(a) => a.as_array(),
        Block::F32(a) => {
            owned = a.as_array().mapv(f64::from);
            owned.view()
        }
    };
    // rayon's global pool: shared by every engine thread that scores at the same time.
    match what {
        What::Labels => {
            let out = py.detach(|| m.predict(view)).map_err(to_py)?;
            Ok(out.mapv(|l| l as i64).into_pyarray(py).into_any())
        }
        What::Proba => Ok(py.detach(|| m.predict_proba(view)).map_err(to_py)?.into_pyarray(py).into_any()),
        What::LogLik => Ok(py.detach(|| m.score_samples(view)).map_err(to_py)?.into_pyarray(py).into_any()),
    }
}

/// Defines a per-block scoring function: the mixture from `params`, then `what` of the block.
macro_rules! block_scorer {
    ($(#[$doc:meta])* $name:ident, $what:expr) => {
        $(#[$doc])*
        #[pyfunction]
        #[pyo3(signature = (x, kind, params, background=None))]
        fn $name<'py>(
            py: Python<'py>,
            x: Block<'py>,
            kind: &str,
            params: Params<'py>,
            background: Option<FittedBackground>,
        ) -> PyResult<Bound<'py, PyAny>> {
            score_block(py, x, with_background(model(kind, params)?, background)?, $what)
        }
    };
}

block_scorer!(
    /// Labels of one block.
    predict_block, What::Labels
);
block_scorer!(
    /// Responsibilities of one block, `(rows, K)`.
    predict_proba_block, What::Proba
);
block_scorer!(
    /// `log p(x)` of every row of one block.
    score_samples_block, What::LogLik
);

/// Registers the block kernels on the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(block_statistics, m)?)?;
    m.add_function(wrap_pyfunction!(m_step_from_statistics, m)?)?;
    m.add_function(wrap_pyfunction!(culling_was_exact, m)?)?;
    m.add_function(wrap_pyfunction!(statistics_len, m)?)?;
    m.add_function(wrap_pyfunction!(spatial_order, m)?)?;
    m.add_function(wrap_pyfunction!(min_sq_distances, m)?)?;
    m.add_function(wrap_pyfunction!(sample_candidates, m)?)?;
    m.add_function(wrap_pyfunction!(candidate_weights, m)?)?;
    m.add_function(wrap_pyfunction!(reduce_candidates, m)?)?;
    m.add_function(wrap_pyfunction!(weighted_row, m)?)?;
    m.add_function(wrap_pyfunction!(hard_statistics, m)?)?;
    m.add_function(wrap_pyfunction!(mixture_from_hard_statistics, m)?)?;
    m.add_function(wrap_pyfunction!(predict_block, m)?)?;
    m.add_function(wrap_pyfunction!(predict_proba_block, m)?)?;
    m.add_function(wrap_pyfunction!(score_samples_block, m)?)?;
    Ok(())
}

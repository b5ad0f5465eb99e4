//! `einmix._einmix.image_*`: the image pipeline (`einmix-image`) for `einmix.image`.
//!
//! Arrays in (float32 stacks, bool masks, float64 parameters), dicts of numpy arrays out, the
//! GIL released around every fit. The pipeline's errors map here: a file the system cannot
//! read is an `OSError`, everything else an `EinmixError` (a `ValueError`).

use std::path::PathBuf;

use einmix_image::{
    component_distances, track_cells, track_frames, track_to_dir, Background, Floor, FrameRange, Init,
    Labels, Mask, Metric, PeakOptions, ReadOptions, RunOptions, Track, TrackOptions, ZProject,
};
use numpy::{IntoPyArray, PyArray2, PyArray3, PyArrayDyn, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::EinmixError;
use crate::frames::{PyFrames, Raised};

fn to_py(e: einmix_image::Error) -> PyErr {
    match e {
        einmix_image::Error::Io { .. } => PyOSError::new_err(e.to_string()),
        other => EinmixError::new_err(other.to_string()),
    }
}

fn parse<T: std::str::FromStr<Err = einmix_image::Error>>(s: &str) -> PyResult<T> {
    s.parse().map_err(to_py)
}

/// Tracks the frames of `frames` (`einmix.image`'s reader: 2-D frames, or volumes fitted in
/// 3-D with `voxel_size`), one frame read at a time. Without `output`: returns a dict of numpy
/// arrays (OrNet's npz fields and more). With `output`: writes the track there as it goes
/// (`resume` continues a stopped run) and returns the run's report. With `labels` (a reader of
/// label frames, or one label image `(Z, H, W)` as float32): every cell into
/// `output/cell_<label>/`, returning the cells' reports.
#[pyfunction]
#[pyo3(signature = (
    frames, mask=None, *, output=None, resume=false, force=false, labels=None, label_image=None, k=None, background=None, pixel_size=1.0, voxel_size=None, min_distance=5, threshold=None,
    smooth=1.0, exclude_border=true, num_peaks=None, init_size=2.0, covariance_type="full", random_state=0, tol=1e-3,
    max_iter=100, reg_covar=None, weight_floor=None, eigen_floor=0.1, metric="hellinger",
    reseed=true, laplacian=true, n_threads=None, source_frames=None, online=false, bayesian=false,
    weight_concentration_prior=None, progress=None
))]
#[allow(clippy::too_many_arguments)]
fn image_track<'py>(
    py: Python<'py>,
    frames: Bound<'py, PyAny>,
    mask: Option<PyReadonlyArray2<'py, bool>>,
    output: Option<PathBuf>,
    resume: bool,
    force: bool,
    labels: Option<Bound<'py, PyAny>>,
    label_image: Option<PyReadonlyArray3<'py, f32>>,
    k: Option<usize>,
    background: Option<&str>,
    pixel_size: f64,
    voxel_size: Option<[f64; 3]>,
    min_distance: usize,
    threshold: Option<f64>,
    smooth: f64,
    exclude_border: bool,
    num_peaks: Option<usize>,
    init_size: f64,
    covariance_type: &str,
    random_state: u64,
    tol: f64,
    max_iter: usize,
    reg_covar: Option<f64>,
    weight_floor: Option<f64>,
    eigen_floor: f64,
    metric: &str,
    reseed: bool,
    laplacian: bool,
    n_threads: Option<usize>,
    source_frames: Option<Vec<usize>>,
    online: bool,
    bayesian: bool,
    weight_concentration_prior: Option<f64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let init = match k {
        Some(k) => Init::KMeansPlusPlus { k, seed: random_state },
        None => Init::Peaks(PeakOptions {
            min_distance,
            threshold_abs: threshold,
            smooth_sigma: smooth,
            exclude_border,
            num_peaks,
        }),
    };
    // The learned floor unless a level is given.
    let floor = if background.is_some() { Floor::Subtract } else { Floor::Learned };
    let options = TrackOptions {
        floor,
        background: background.map(parse::<Background>).transpose()?.unwrap_or_default(),
        pixel_size,
        voxel_size,
        init,
        init_size,
        covariance_type: covariance_type.parse().map_err(crate::error::to_py)?,
        tol,
        max_iter,
        reg_covar,
        n_threads,
        weight_floor,
        eigen_floor,
        reseed,
        metric: parse::<Metric>(metric)?,
        laplacian,
        online,
        bayesian,
        weight_concentration_prior,
    };
    let raised: Raised = Default::default();
    let mut source = PyFrames::new(&frames, source_frames, raised.clone())?;
    let mask = mask.map(|m| Mask::from_bools(m.as_array().to_owned()));
    // `progress(frames_done, n_frames)` after each frame, with the GIL; an exception it raises
    // (a KeyboardInterrupt, say) stops the run after that frame and is raised here.
    let n_frames = einmix_image::FrameSource::n_frames(&source);
    let progress_raised: Raised = Default::default();
    let report = |done: usize| -> bool {
        let Some(cb) = &progress else { return true };
        let error = Python::attach(|py| cb.call1(py, (done, n_frames)).err());
        match error {
            Some(e) => {
                if let Ok(mut slot) = progress_raised.lock() {
                    slot.get_or_insert(e);
                }
                false
            }
            None => true,
        }
    };
    let raise = |result: einmix_image::Result<Py<PyAny>>| -> PyResult<Py<PyAny>> {
        for slot in [&progress_raised, &raised] {
            if let Some(e) = slot.lock().ok().and_then(|mut s| s.take()) {
                return Err(e);
            }
        }
        result.map_err(to_py)
    };
    let run = |output: PathBuf| RunOptions { resume, force, ..RunOptions::new(output) };
    if labels.is_some() || label_image.is_some() {
        let Some(output) = output else {
            return Err(EinmixError::new_err("tracking cells writes a folder per cell: give output"));
        };
        let labels = match (labels, label_image) {
            (Some(reader), _) => Labels::PerFrame(Box::new(PyFrames::new(&reader, None, raised.clone())?)),
            (None, Some(image)) => Labels::Fixed(image.as_array().to_owned()),
            (None, None) => unreachable!(),
        };
        let done = std::sync::atomic::AtomicUsize::new(0);
        let result = py.detach(|| {
            track_cells(&mut source, labels, "labels", &options, &run(output), &|_, position, _, _| {
                // Progress counts frames: the first cell to finish a frame reports it.
                if done.fetch_max(position + 1, std::sync::atomic::Ordering::SeqCst) < position + 1 {
                    return report(position + 1);
                }
                true
            })
        });
        let cells = match result {
            Ok(r) => Ok(r.cells),
            Err(e) => Err(e),
        };
        let as_dicts = cells.map(|cells| -> Py<PyAny> {
            let list: Vec<Py<PyAny>> = cells
                .iter()
                .map(|c| {
                    let d = PyDict::new(py);
                    let _ = d.set_item("label", c.label);
                    let _ = d.set_item("first_frame", c.first_frame);
                    let _ = d.set_item("last_frame", c.last_frame);
                    let _ = d.set_item("n_frames", c.n_frames);
                    let _ = d.set_item("k", c.n_components);
                    let _ = d.set_item("median_floor_share", c.median_floor_share);
                    let _ = d.set_item("time_s", c.elapsed_ms / 1e3);
                    let _ = d.set_item("vanished_at", c.vanished_at);
                    let _ = d.set_item("failed", c.failed.clone());
                    d.into_any().unbind()
                })
                .collect();
            list.into_pyobject(py).expect("a list").into_any().unbind()
        });
        return raise(as_dicts);
    }
    if let Some(output) = output {
        let result = py.detach(|| {
            track_to_dir(&mut source, mask.as_ref(), &options, &run(output), &mut |position, _, _| {
                report(position + 1)
            })
        });
        let as_dict = result.map(|r| -> Py<PyAny> {
            let d = PyDict::new(py);
            let _ = d.set_item("n_frames", r.n_frames);
            let _ = d.set_item("complete", r.complete);
            let _ = d.set_item("resumed_at", r.resumed_at);
            d.into_any().unbind()
        });
        return raise(as_dict);
    }
    let mut done = 0;
    let result = py.detach(|| {
        track_frames(&mut source, mask.as_ref(), &options, &mut |_| {
            done += 1;
            report(done)
        })
    });
    let as_dict = match result {
        Ok(track) => match track_dict(py, &track) {
            Ok(d) => Ok(d.into_any().unbind()),
            Err(e) => return Err(e),
        },
        Err(e) => Err(e),
    };
    raise(as_dict)
}

fn track_dict<'py>(py: Python<'py>, t: &Track) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let arr = |a: ndarray::ArrayD<f64>| -> Bound<'py, PyArrayDyn<f64>> { a.into_pyarray(py) };
    d.set_item("means", arr(t.means()))?;
    d.set_item("covars", arr(t.covariances()))?;
    d.set_item("weights", arr(t.weights()))?;
    d.set_item("precs", arr(t.precisions()))?;
    d.set_item("distances", arr(t.distances()))?;
    d.set_item("laplacian", arr(t.laplacian()))?;
    d.set_item("metric", t.metric.to_string())?;
    d.set_item("voxel_size", t.grid.axes().to_vec())?;
    let per = |g: &dyn Fn(&einmix_image::FrameFit) -> f64| -> Vec<f64> { t.frames.iter().map(g).collect() };
    d.set_item("frames", t.frames.iter().map(|f| f.frame as i64).collect::<Vec<_>>())?;
    d.set_item("lower_bound", per(&|f| f.lower_bound))?;
    d.set_item("n_iter", t.frames.iter().map(|f| f.n_iter as i64).collect::<Vec<_>>())?;
    d.set_item("converged", t.frames.iter().map(|f| f.converged).collect::<Vec<_>>())?;
    d.set_item("n_points", t.frames.iter().map(|f| f.n_points as i64).collect::<Vec<_>>())?;
    d.set_item("background", per(&|f| f.background))?;
    d.set_item("floor_share", per(&|f| f.floor_share.unwrap_or(f64::NAN)))?;
    d.set_item("time_ms", per(&|f| f.elapsed.as_secs_f64() * 1e3))?;
    d.set_item("effective_k", t.frames.iter().map(|f| f.effective_components as i64).collect::<Vec<_>>())?;
    let reseeds: Vec<_> = t.reseeds().collect();
    d.set_item("reseed_frame", reseeds.iter().map(|r| r.frame as i64).collect::<Vec<_>>())?;
    d.set_item("reseed_component", reseeds.iter().map(|r| r.component as i64).collect::<Vec<_>>())?;
    d.set_item("reseed_reason", reseeds.iter().map(|r| r.reason.name()).collect::<Vec<_>>())?;
    d.set_item("reseed_position", reseeds.iter().map(|r| r.position.to_vec()).collect::<Vec<_>>())?;
    Ok(d)
}

/// `K x K` distances between Gaussian components `(means (K, D), covariances (K, D, D))`.
#[pyfunction]
#[pyo3(signature = (means, covariances, metric="hellinger"))]
fn image_component_distances<'py>(
    py: Python<'py>,
    means: PyReadonlyArray2<'py, f64>,
    covariances: PyReadonlyArray3<'py, f64>,
    metric: &str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let metric = parse::<Metric>(metric)?;
    let d = component_distances(means.as_array(), covariances.as_array(), metric).map_err(to_py)?;
    Ok(d.into_pyarray(py))
}

/// Reads an image or stack file as `(F, H, W)` float32 (`(T, Z, H, W)` with `z_project="volume"`),
/// the file's frame indices and the voxel size `(z, row, col)` it states, if any.
#[pyfunction]
#[pyo3(signature = (path, z_project="none", z_slices=None, frames="::", channel=None))]
#[allow(clippy::type_complexity)]
fn image_read<'py>(
    py: Python<'py>,
    path: PathBuf,
    z_project: &str,
    z_slices: Option<usize>,
    frames: &str,
    channel: Option<usize>,
) -> PyResult<(Bound<'py, PyArrayDyn<f32>>, Vec<usize>, Option<[f64; 3]>)> {
    let options = ReadOptions {
        z_project: parse::<ZProject>(z_project)?,
        z_slices,
        frames: parse::<FrameRange>(frames)?,
        channel,
    };
    let stack = py.detach(|| einmix_image::read_stack(&path, &options)).map_err(to_py)?;
    let pixels = if stack.volume {
        stack.pixels.into_dyn()
    } else {
        stack.pixels.remove_axis(ndarray::Axis(1)).into_dyn()
    };
    Ok((pixels.into_pyarray(py), stack.source_frames, stack.voxel_size))
}

/// Reads a mask (label image): nonzero pixels, or those of `label`.
#[pyfunction]
#[pyo3(signature = (path, label=None))]
fn image_read_mask<'py>(
    py: Python<'py>,
    path: PathBuf,
    label: Option<i64>,
) -> PyResult<Bound<'py, PyArray2<bool>>> {
    let mask = einmix_image::read_mask(&path, label).map_err(to_py)?;
    Ok(mask.view().to_owned().into_pyarray(py))
}

/// The embedded demo time-lapse (nellie's yeast mitochondria, max projection), `(30, 192, 279)`.
#[pyfunction]
fn image_demo_stack<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyArray3<f32>>> {
    let stack = einmix_image::demo_stack().map_err(to_py)?;
    Ok(stack.pixels.remove_axis(ndarray::Axis(1)).into_pyarray(py))
}

/// Analyses a track given as `.npz` bytes (`name` names it in messages): returns a dict with
/// the statistic's series, z-scores (NaN where unscored) and verdicts, every statistic's
/// series, the spectra, the spatial anomalies, the node features, and the files' bytes.
#[pyfunction]
#[pyo3(signature = (npz, name, statistic="algebraic_connectivity", window=20, threshold=2.0, top_k=5, frame_shape=None))]
#[allow(clippy::too_many_arguments)]
fn image_analyse<'py>(
    py: Python<'py>,
    npz: &[u8],
    name: &str,
    statistic: &str,
    window: usize,
    threshold: f64,
    top_k: usize,
    frame_shape: Option<Vec<usize>>,
) -> PyResult<Bound<'py, PyDict>> {
    let statistic = parse::<einmix_image::Statistic>(statistic)?;
    let options = einmix_image::AnalyseOptions {
        anomalies: einmix_image::AnomalyOptions { statistic, window, threshold },
        top_k,
        frame_shape,
    };
    let bytes = npz.to_vec();
    let name = name.to_string();
    let analysis = py
        .detach(|| {
            let data = einmix_image::TrackData::from_npz(&bytes, name)?;
            einmix_image::analyse(data, &options)
        })
        .map_err(to_py)?;
    let files = analysis.files().map_err(to_py)?;
    let t = &analysis.temporal;
    let d = PyDict::new(py);
    d.set_item("frames", t.frames.clone())?;
    d.set_item("statistic", t.options.statistic.name())?;
    d.set_item("values", t.values.clone())?;
    d.set_item("z", t.z.iter().map(|z| z.unwrap_or(f64::NAN)).collect::<Vec<_>>())?;
    d.set_item("anomalous", t.anomalous.clone())?;
    d.set_item("window", t.options.window)?;
    d.set_item("threshold", t.options.threshold)?;
    let series = PyDict::new(py);
    for s in einmix_image::Statistic::ALL {
        series.set_item(s.name(), analysis.data.series(s))?;
    }
    d.set_item("series", series)?;
    d.set_item("spectra", analysis.data.spectra().to_owned().into_pyarray(py))?;
    let spatial: Vec<(usize, f64, i64, f64)> = analysis
        .spatial
        .iter()
        .map(|m| (m.component, m.score, m.frame_of_largest_move, m.largest_move))
        .collect();
    d.set_item("spatial", spatial)?;
    let f = &analysis.features;
    let shape = (f.frames.len(), f.n_components, f.columns.len());
    let table = ndarray::Array3::from_shape_vec(shape, f.values.clone()).expect("F x K x C values");
    d.set_item("features", table.into_pyarray(py))?;
    d.set_item("feature_names", f.columns.clone())?;
    let out = PyDict::new(py);
    for (file, bytes) in files {
        out.set_item(file, pyo3::types::PyBytes::new(py, &bytes))?;
    }
    d.set_item("files", out)?;
    Ok(d)
}

/// Adds the image functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(image_track, m)?)?;
    m.add_function(wrap_pyfunction!(image_component_distances, m)?)?;
    m.add_function(wrap_pyfunction!(image_read, m)?)?;
    m.add_function(wrap_pyfunction!(image_read_mask, m)?)?;
    m.add_function(wrap_pyfunction!(image_demo_stack, m)?)?;
    m.add_function(wrap_pyfunction!(image_analyse, m)?)?;
    Ok(())
}

//! Data files read by `einmix-io`, the CLI's reader: the same file gives the same table, or the
//! same error message, from Python as from `einmix fit`.

use std::path::PathBuf;

use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyPermissionError};
use pyo3::prelude::*;

use crate::error::EinmixError;

/// A table's features and optional per-sample weights, as numpy arrays.
type DataAndWeights<'py> = (Bound<'py, PyArray2<f64>>, Option<Bound<'py, PyArray1<f64>>>);

/// Reads the data file at `path` (`.npy`, `.npz`, `.csv`, `.tsv`): `(X, sample_weight)`.
/// Errors carry the CLI's message, `"{path}: {what is wrong}"`: an operating-system failure is
/// an `OSError` (its subclass for a missing file or a permission), anything about
/// the content an `EinmixError` (a `ValueError`).
#[pyfunction]
#[pyo3(signature = (path, columns, weight_column))]
pub fn read_data<'py>(
    py: Python<'py>,
    path: PathBuf,
    columns: Vec<String>,
    weight_column: Option<String>,
) -> PyResult<DataAndWeights<'py>> {
    let table =
        py.detach(|| einmix_io::read_data_file(&path, &columns, weight_column.as_deref())).map_err(|e| {
            let message = format!("{}: {e}", path.display());
            match &e {
                einmix_io::ReadError::Io(io) => match io.kind() {
                    std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
                    std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
                    _ => PyOSError::new_err(message),
                },
                _ => EinmixError::new_err(message),
            }
        })?;
    Ok((table.x.into_pyarray(py), table.weights.map(|w| w.into_pyarray(py))))
}

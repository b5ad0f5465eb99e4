//! The one map from core errors to Python exceptions.

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::PyErr;

create_exception!(
    einmix,
    EinmixError,
    PyValueError,
    "An input or parameter einmix cannot work with (a ValueError, as in scikit-learn)."
);

pub fn to_py(e: einmix::Error) -> PyErr {
    EinmixError::new_err(e.to_string())
}

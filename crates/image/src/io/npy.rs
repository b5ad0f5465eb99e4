//! `.npy` stacks: arrays of 2, 3 or 4 axes, of any numeric dtype, read by the one `.npy`
//! reader (`einmix_io::npy`) and converted to f32 as NumPy's `astype(numpy.float32)` would.
//! The writers are that crate's, re-exported for the `.npz` output.

use std::path::Path;

use einmix_io::npy::{self as reader, NpyError};
pub use einmix_io::npy::{f64_bytes, i64_bytes, str_bytes};

use crate::error::{Error, Result};
use crate::stack::Raw;

/// The reader's error, naming the file: an element type that is not numeric is an unsupported
/// sample format, anything else a corrupt file.
fn error(path: &Path, e: NpyError) -> Error {
    match e {
        NpyError::Dtype { descr } => Error::UnsupportedSampleFormat {
            path: path.to_path_buf(),
            format: ".npy",
            what: format!("dtype '{descr}'; expected bool, (u)int8/16/32/64 or float16/32/64"),
        },
        other => Error::Corrupt { path: path.to_path_buf(), format: ".npy", problem: other.to_string() },
    }
}

pub(crate) fn read_raw(path: &Path, bytes: &[u8]) -> Result<Raw> {
    let array = reader::read::<f32>(bytes).map_err(|e| error(path, e))?;
    let shape = array.shape;
    let (t, z, h, w) = match shape[..] {
        [h, w] => (1, 1, h, w),
        [f, h, w] => (f, 1, h, w),
        [t, z, h, w] => (t, z, h, w),
        _ => return Err(Error::UnsupportedShape { path: path.to_path_buf(), shape }),
    };
    if t * z * h * w == 0 {
        return Err(Error::UnsupportedShape { path: path.to_path_buf(), shape });
    }
    Ok(Raw { t, z, h, w, data: array.data, voxel_size: None })
}

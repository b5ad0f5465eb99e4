//! NumPy's `.npy` format, read and written in one place for every part of einmix (the CLI's
//! tables and streams, the image pipeline's stacks and the `.npz` it writes).
//!
//! ```text
//! \x93NUMPY  major minor  header_len (u16 LE in 1.0; u32 LE in 2.0 and 3.0)
//! {'descr': '<f8', 'fortran_order': False, 'shape': (N, D), }   padded with spaces, ends in \n
//! data: prod(shape) items
//! ```
//! (<https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>).
//!
//! Written here rather than taken from `ndarray-npy` or `npyz`: `ndarray-npy` reads only the
//! element type asked for (an `<i8` file is an error when f64 is wanted, where NumPy's
//! `astype` converts), `npyz` would need a conversion layer of the same size as this one, and
//! neither reports a broken header, a short file or trailing bytes in the words the CLI and the
//! image pipeline use. The reader converts every numeric dtype the way NumPy's `astype` does, so
//! the CLI accepts what the Python package accepts.

mod dtype;
mod header;
mod write;

pub use dtype::{Dtype, Kind, Target};
pub use header::{header, Header};
pub use write::{f64_bytes, f64_header, i64_bytes, i64_header, str_bytes};

/// What is wrong with a `.npy` file.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NpyError {
    /// The bytes do not start with `.npy`'s magic string.
    #[error("not a .npy file (it does not start with \\x93NUMPY)")]
    Magic,
    /// A format version this reader does not know.
    #[error("unsupported .npy format version {major}.{minor} (1.0, 2.0 and 3.0 are supported)")]
    Version {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The header is not the dictionary the format prescribes.
    #[error("malformed .npy header: {problem}")]
    Header {
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The element type is not numeric (complex, string, object, datetime, record).
    #[error(
        "unsupported dtype '{descr}': expected a boolean, integer or floating-point array \
         (complex, string, object and record arrays have no single real value per element)"
    )]
    Dtype {
        /// The header's `descr`.
        descr: String,
    },
    /// The data ends before the header's shape is filled.
    #[error(
        "truncated: the header's shape {shape} needs {expected} bytes of data, but the file holds {found}"
    )]
    Truncated {
        /// The header's shape.
        shape: String,
        /// Bytes the shape needs.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// Bytes follow the data.
    #[error("{extra} unexpected bytes after the {shape} array's data")]
    Trailing {
        /// The header's shape.
        shape: String,
        /// Bytes beyond the data.
        extra: u64,
    },
}

/// An array read from a `.npy` file, converted to `T`, in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct Array<T> {
    /// The shape.
    pub shape: Vec<usize>,
    /// The values, last index fastest.
    pub data: Vec<T>,
}

/// Whether `bytes` start like a `.npy` file.
pub fn is_npy(bytes: &[u8]) -> bool {
    bytes.starts_with(header::MAGIC)
}

/// `(2, 3)`-style text for a shape, as NumPy prints it.
pub fn shape_text(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// Reads a whole `.npy` file, converting its elements to `T` (f64 or f32) as NumPy's
/// `astype` would, and Fortran-order data to C order.
pub fn read<T: Target>(bytes: &[u8]) -> Result<Array<T>, NpyError> {
    let (h, start) = header(bytes)?;
    let payload = &bytes[start..];
    h.check_data_len(payload.len() as u64)?;
    let mut data = vec![T::default(); h.element_count()?];
    h.dtype.decode(payload, &mut data);
    if h.fortran_order {
        data = fortran_to_c(&h.shape, &data);
    }
    Ok(Array { shape: h.shape, data })
}

/// Reorders column-major values (first index fastest) of `shape` into row-major order.
fn fortran_to_c<T: Copy + Default>(shape: &[usize], column_major: &[T]) -> Vec<T> {
    if shape.len() < 2 {
        return column_major.to_vec();
    }
    let mut out = vec![T::default(); column_major.len()];
    // Walk C order, computing each multi-index's Fortran offset.
    let mut index = vec![0usize; shape.len()];
    for v in out.iter_mut() {
        let mut offset = 0;
        for (axis, &i) in index.iter().enumerate().rev() {
            offset = offset * shape[axis] + i;
        }
        *v = column_major[offset];
        for axis in (0..index.len()).rev() {
            index[axis] += 1;
            if index[axis] < shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, payload: &[u8]) -> Vec<u8> {
        let mut out = header::MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn round_trips_f64() {
        let data = [1.0, 2.5, -3.0, 4.0, 5.0, 6.0];
        let bytes = f64_bytes(&[3, 2], &data);
        assert_eq!((bytes.len() - data.len() * 8) % 64, 0);
        let a = read::<f64>(&bytes).unwrap();
        assert_eq!(a.shape, vec![3, 2]);
        assert_eq!(a.data, data);
    }

    #[test]
    fn reads_fortran_order_float32_big_endian() {
        // [[1, 2, 3], [4, 5, 6]] stored column by column.
        let payload: Vec<u8> =
            [1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0].iter().flat_map(|v| v.to_be_bytes()).collect();
        let a = read::<f64>(&file("{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }\n", &payload))
            .unwrap();
        assert_eq!(a.data, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn reads_integers_as_numpy_converts_them() {
        let ints: Vec<u8> = [-3i64, 9_007_199_254_740_993].iter().flat_map(|v| v.to_le_bytes()).collect();
        let h = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n";
        // 2^53 + 1 rounds to 2^53 in f64, as `numpy.array([2**53 + 1]).astype(float)` does.
        assert_eq!(read::<f64>(&file(h, &ints)).unwrap().data, [-3.0, 9_007_199_254_740_992.0]);
        let written = i64_bytes(&[2], &[-1, 5]);
        assert_eq!(read::<f32>(&written).unwrap().data, [-1.0, 5.0]);
    }

    #[test]
    fn reports_what_is_wrong() {
        let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n";
        assert_eq!(
            read::<f64>(&file(h, &[0; 24])).unwrap_err().to_string(),
            "truncated: the header's shape (2, 2) needs 32 bytes of data, but the file holds 24"
        );
        assert_eq!(
            read::<f64>(&file(h, &[0; 40])).unwrap_err().to_string(),
            "8 unexpected bytes after the (2, 2) array's data"
        );
        let complex = "{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }\n";
        assert!(read::<f64>(&file(complex, &[0; 32]))
            .unwrap_err()
            .to_string()
            .starts_with("unsupported dtype '<c16': expected a boolean, integer or floating-point array"));
        assert_eq!(
            read::<f64>(b"hello").unwrap_err().to_string(),
            "not a .npy file (it does not start with \\x93NUMPY)"
        );
        assert_eq!(
            read::<f64>(header::MAGIC).unwrap_err().to_string(),
            "malformed .npy header: the file ends inside the header"
        );
        assert_eq!(
            read::<f64>(&file("{'descr': '<f8', 'shape': (2,", &[])).unwrap_err().to_string(),
            "malformed .npy header: the header ends before the dictionary is closed"
        );
        let mut v9 = header::MAGIC.to_vec();
        v9.extend_from_slice(&[9, 1, 0, 0]);
        assert_eq!(
            read::<f64>(&v9).unwrap_err().to_string(),
            "unsupported .npy format version 9.1 (1.0, 2.0 and 3.0 are supported)"
        );
        let huge =
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }\n";
        assert_eq!(
            read::<f64>(&file(huge, &[])).unwrap_err().to_string(),
            "malformed .npy header: the shape is too large"
        );
    }
}

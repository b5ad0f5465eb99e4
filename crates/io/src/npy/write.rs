//! Writers: float64, int64 and unicode arrays in format 1.0, C order, little-endian.

use crate::npy::header::MAGIC;
use crate::npy::shape_text;

/// The header of a version 1.0 file, padded so that the data starts at a multiple of 64.
fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let mut text =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {}, }}", shape_text(shape));
    // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    let unpadded = 10 + text.len() + 1;
    text.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    text.push('\n');
    let mut out = Vec::with_capacity(10 + text.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

/// The header alone of a float64 `.npy` of `shape`, for a writer that streams the data after
/// it (its bytes are those [`f64_bytes`] starts with).
pub fn f64_header(shape: &[usize]) -> Vec<u8> {
    header("<f8", shape)
}

/// The header alone of an int64 `.npy` of `shape` (as [`f64_header`]).
pub fn i64_header(shape: &[usize]) -> Vec<u8> {
    header("<i8", shape)
}

/// A float64 `.npy` of the given shape (`data` in C order).
///
/// ```
/// let bytes = einmix_io::npy::f64_bytes(&[2], &[1.0, 2.0]);
/// assert_eq!(bytes.len() % 16, 0);
/// ```
pub fn f64_bytes(shape: &[usize], data: &[f64]) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), data.len(), "shape and data disagree");
    let mut out = header("<f8", shape);
    data.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    out
}

/// An int64 `.npy` of the given shape (`data` in C order).
pub fn i64_bytes(shape: &[usize], data: &[i64]) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), data.len(), "shape and data disagree");
    let mut out = header("<i8", shape);
    data.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    out
}

/// A unicode (`<U n`) `.npy` of strings, shape `(len,)`.
pub fn str_bytes(strings: &[String]) -> Vec<u8> {
    let width = strings.iter().map(|s| s.chars().count()).max().unwrap_or(0).max(1);
    let mut out = header(&format!("<U{width}"), &[strings.len()]);
    for s in strings {
        let mut n = 0;
        for c in s.chars() {
            out.extend_from_slice(&(c as u32).to_le_bytes());
            n += 1;
        }
        out.resize(out.len() + 4 * (width - n), 0u8);
    }
    out
}

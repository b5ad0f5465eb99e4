//! NumPy's `.npy`: read integer, float and bool arrays of 2, 3 or 4 axes as images; write
//! float64, int64 and unicode arrays.
//!
//! ```text
//! \x93NUMPY  major minor  header_len (u16 LE in 1.0; u32 LE in 2.0 and 3.0)
//! {'descr': '<f8', 'fortran_order': False, 'shape': (F, K, 2), }   padded with spaces, ends in \n
//! ```
//! (<https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>)

use std::path::Path;

use ndarray::{ArrayD, IxDyn, ShapeBuilder};

use crate::error::{Error, Result};
use crate::stack::Raw;

const MAGIC: &[u8] = b"\x93NUMPY";

fn corrupt(path: &Path, problem: impl Into<String>) -> Error {
    Error::Corrupt { path: path.to_path_buf(), format: ".npy", problem: problem.into() }
}

/// The value of `'key': ` in a header dict, up to the next top-level comma or brace.
fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let k = format!("'{key}':");
    let start = header.find(&k)? + k.len();
    let rest = header[start..].trim_start();
    let end = if rest.starts_with('(') { rest.find(')')? + 1 } else { rest.find([',', '}'])? };
    Some(rest[..end].trim())
}

/// Reads a `.npy` as an array of f32 in C order.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>)> {
    if !bytes.starts_with(MAGIC) {
        return Err(corrupt(path, "it does not start with the .npy magic string"));
    }
    let short = || corrupt(path, "the file ends inside the header (truncated?)");
    let major = *bytes.get(6).ok_or_else(short)?;
    let len_bytes = match major {
        1 => 2,
        2 | 3 => 4,
        v => return Err(corrupt(path, format!("unknown format version {v}"))),
    };
    let len = bytes.get(8..8 + len_bytes).ok_or_else(short)?;
    let header_len = len.iter().rev().fold(0usize, |acc, &b| (acc << 8) | b as usize);
    let start = 8 + len_bytes;
    let header = bytes.get(start..start + header_len).ok_or_else(short)?;
    let header = std::str::from_utf8(header).map_err(|_| corrupt(path, "the header is not text"))?;
    let descr = field(header, "descr").ok_or_else(|| corrupt(path, "the header has no 'descr'"))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran =
        field(header, "fortran_order").ok_or_else(|| corrupt(path, "no 'fortran_order'"))? == "True";
    let shape_text = field(header, "shape").ok_or_else(|| corrupt(path, "the header has no 'shape'"))?;
    let shape: Vec<usize> = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| corrupt(path, format!("bad shape {shape_text}")))?;
    let (endian, code) = descr.split_at(1.min(descr.len()));
    let big = endian == ">";
    let unsupported = || Error::UnsupportedSampleFormat {
        path: path.to_path_buf(),
        format: ".npy",
        what: format!("dtype '{descr}'; expected bool, (u)int8/16/32/64, float32 or float64"),
    };
    let size = match code {
        "b1" | "u1" | "i1" => 1,
        "u2" | "i2" | "f2" => 2,
        "u4" | "i4" | "f4" => 4,
        "u8" | "i8" | "f8" => 8,
        _ => return Err(unsupported()),
    };
    if code == "f2" {
        return Err(unsupported());
    }
    let n: usize = shape.iter().product();
    let data = &bytes[start + header_len..];
    if data.len() < n * size {
        return Err(corrupt(
            path,
            format!(
                "the data is {} bytes, {} expected for shape {shape:?} (truncated?)",
                data.len(),
                n * size
            ),
        ));
    }
    let values: Vec<f32> = data[..n * size]
        .chunks_exact(size)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..size].copy_from_slice(c);
            if big {
                b[..size].reverse();
            }
            match code {
                "b1" | "u1" => b[0] as f32,
                "i1" => b[0] as i8 as f32,
                "u2" => u16::from_le_bytes([b[0], b[1]]) as f32,
                "i2" => i16::from_le_bytes([b[0], b[1]]) as f32,
                "u4" => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
                "i4" => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
                "f4" => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                "u8" => u64::from_le_bytes(b) as f32,
                "i8" => i64::from_le_bytes(b) as f32,
                _ => f64::from_le_bytes(b) as f32,
            }
        })
        .collect();
    let values = if fortran && shape.len() > 1 {
        let a = ArrayD::from_shape_vec(IxDyn(&shape).f(), values).expect("sized above");
        a.as_standard_layout().iter().copied().collect()
    } else {
        values
    };
    Ok((shape, values))
}

pub(crate) fn read_raw(path: &Path, bytes: &[u8]) -> Result<Raw> {
    let (shape, data) = parse(path, bytes)?;
    let (t, z, h, w) = match shape[..] {
        [h, w] => (1, 1, h, w),
        [f, h, w] => (f, 1, h, w),
        [t, z, h, w] => (t, z, h, w),
        _ => return Err(Error::UnsupportedShape { path: path.to_path_buf(), shape }),
    };
    if t * z * h * w == 0 {
        return Err(Error::UnsupportedShape { path: path.to_path_buf(), shape });
    }
    Ok(Raw { t, z, h, w, data })
}

fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let shape_text = match shape {
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut text = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
    let unpadded = 10 + text.len() + 1;
    text.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    text.push('\n');
    let mut out = Vec::with_capacity(10 + text.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

/// A float64 `.npy` of the given shape (`data` in C order).
///
/// ```
/// let bytes = einmix_image::io::npy::f64_bytes(&[2], &[1.0, 2.0]);
/// assert_eq!(bytes.len() % 16, 0);
/// ```
pub fn f64_bytes(shape: &[usize], data: &[f64]) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), data.len(), "shape and data disagree");
    let mut out = header("<f8", shape);
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// An int64 `.npy` of the given shape.
pub fn i64_bytes(shape: &[usize], data: &[i64]) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), data.len(), "shape and data disagree");
    let mut out = header("<i8", shape);
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
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
        out.extend(std::iter::repeat(0u8).take(4 * (width - n)));
    }
    out
}

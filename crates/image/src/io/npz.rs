//! NumPy's `.npz`: a zip archive of `.npy` members, stored uncompressed (what `numpy.savez`
//! writes), so `numpy.load` reads it with no extra dependency.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::error::{Error, Result};

/// Builds an `.npz` in memory from `(name, npy bytes)` members; `.npy` is appended to each name.
///
/// ```
/// use einmix_image::io::{npy, npz};
/// let bytes = npz::archive(&[("x".into(), npy::f64_bytes(&[1], &[0.5]))])?;
/// assert!(bytes.starts_with(b"PK"));
/// # Ok::<(), einmix_image::Error>(())
/// ```
pub fn archive(members: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    let encode = |e: zip::result::ZipError| Error::Encode { message: e.to_string() };
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(members.iter().map(|(_, b)| b.len() as u64).sum::<u64>() > u32::MAX as u64 / 2);
    for (name, bytes) in members {
        zip.start_file(format!("{name}.npy"), options).map_err(encode)?;
        zip.write_all(bytes).map_err(|e| Error::Encode { message: e.to_string() })?;
    }
    Ok(zip.finish().map_err(encode)?.into_inner())
}

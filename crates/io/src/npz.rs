//! NumPy's `.npz`: a zip archive of `.npy` members. Read: stored (`numpy.savez`) and deflated
//! (`numpy.savez_compressed`) members, each through the one `.npy` reader. Written: stored
//! members, so `numpy.load` reads the file with no extra dependency.
//!
//! The zip container is the `zip` crate's; the members are this crate's [`npy`](crate::npy).

use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::error::ReadError;
use crate::npy::{self, Array, Target};

/// Deflate expands at most 1032:1; a member that claims more than that of its compressed size
/// is lying about its size, and is read no further than the bound allows.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// An `.npz` archive held in memory, open for reading its arrays.
pub struct Npz<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    /// The archive's size: no member's compressed data can be larger.
    len: u64,
}

fn zip_error(e: zip::result::ZipError) -> ReadError {
    ReadError::Zip { message: e.to_string() }
}

impl<'a> Npz<'a> {
    /// Opens the archive in `bytes` (its central directory is read; no member is yet).
    pub fn new(bytes: &'a [u8]) -> Result<Npz<'a>, ReadError> {
        Ok(Npz { zip: ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?, len: bytes.len() as u64 })
    }

    /// The arrays' names (the members' names without `.npy`), in the archive's order.
    pub fn names(&self) -> Vec<String> {
        self.zip.file_names().map(|n| n.strip_suffix(".npy").unwrap_or(n).to_string()).collect()
    }

    /// Array `name` (without `.npy`), converted to `T`; `Ok(None)` when there is no such array.
    pub fn array<T: Target>(&mut self, name: &str) -> Result<Option<Array<T>>, ReadError> {
        let member = format!("{name}.npy");
        let index = match self.zip.index_for_name(&member).or_else(|| self.zip.index_for_name(name)) {
            Some(i) => i,
            None => return Ok(None),
        };
        let mut file = self.zip.by_index(index).map_err(zip_error)?;
        // Sizes are claims of the archive's directory, checked before any is trusted with an
        // allocation: compressed data lies inside the archive, and deflate's ratio is bounded.
        let claimed = file.size();
        let compressed = file.compressed_size().min(self.len);
        let bound = compressed.saturating_mul(MAX_DEFLATE_RATIO).saturating_add(1024);
        if claimed > bound {
            return Err(ReadError::Zip {
                message: format!(
                    "array '{name}' claims {claimed} bytes from {compressed} compressed bytes, more than \
                     deflate can expand to"
                ),
            });
        }
        // The zip reader checks the member's CRC-32 when it reaches the claimed size.
        let mut bytes = Vec::with_capacity(claimed as usize);
        file.read_to_end(&mut bytes)
            .map_err(|e| ReadError::Zip { message: format!("array '{name}': {e}") })?;
        npy::read::<T>(&bytes)
            .map(Some)
            .map_err(|source| ReadError::NpzMember { member: name.to_string(), source })
    }
}

/// Builds an `.npz` in memory from `(name, npy bytes)` members; `.npy` is appended to each
/// name. Members are stored uncompressed, as `numpy.savez` writes them.
///
/// ```
/// use einmix_io::{npy, npz};
/// let bytes = npz::archive(&[("x".into(), npy::f64_bytes(&[2], &[0.5, 1.5]))])?;
/// let mut archive = npz::Npz::new(&bytes).unwrap();
/// assert_eq!(archive.names(), ["x"]);
/// assert_eq!(archive.array::<f64>("x").unwrap().unwrap().data, [0.5, 1.5]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn archive(members: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(members.iter().map(|(_, b)| b.len() as u64).sum::<u64>() > u32::MAX as u64 / 2);
    for (name, bytes) in members {
        zip.start_file(format!("{name}.npy"), options)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// One member of a streamed archive: its name (without `.npy`), its `.npy` header, and its
/// data to be copied after it (`len` bytes).
pub struct StreamedMember<'a> {
    /// The array's name.
    pub name: String,
    /// The `.npy` header ([`npy::f64_header`](crate::npy::f64_header), ...).
    pub header: Vec<u8>,
    /// The data, read to its end.
    pub data: Box<dyn std::io::Read + 'a>,
    /// Bytes of data.
    pub len: u64,
}

/// Writes an `.npz` to `out` member by member, each member's data copied from its reader
/// rather than held: a video's arrays of tens of gigabytes pass through a small buffer. The
/// bytes are those [`archive`] gives for the same arrays.
pub fn archive_to<W: Write + std::io::Seek>(out: W, members: Vec<StreamedMember<'_>>) -> std::io::Result<W> {
    let total: u64 = members.iter().map(|m| m.header.len() as u64 + m.len).sum();
    let mut zip = ZipWriter::new(out);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(total > u32::MAX as u64 / 2);
    for mut member in members {
        zip.start_file(format!("{}.npy", member.name), options)?;
        zip.write_all(&member.header)?;
        let copied = std::io::copy(&mut member.data, &mut zip)?;
        if copied != member.len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("member {}: {copied} bytes of data, expected {}", member.name, member.len),
            ));
        }
    }
    Ok(zip.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_archive_is_the_archive() {
        let a = npy::f64_bytes(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let b = npy::i64_bytes(&[3], &[7, 8, 9]);
        let whole = archive(&[("a".into(), a.clone()), ("b".into(), b.clone())]).unwrap();
        let header_a = npy::f64_header(&[2, 2]);
        let header_b = npy::i64_header(&[3]);
        let member = |name: &str, header: Vec<u8>, all: &[u8]| {
            let data = all[header.len()..].to_vec();
            StreamedMember {
                name: name.into(),
                header,
                len: data.len() as u64,
                data: Box::new(Cursor::new(data)),
            }
        };
        let members = vec![member("a", header_a, &a), member("b", header_b, &b)];
        let streamed = archive_to(Cursor::new(Vec::new()), members).unwrap().into_inner();
        assert_eq!(streamed, whole);
    }

    #[test]
    fn deflated_members_read_like_stored_ones() {
        let x = npy::f64_bytes(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        zip.start_file("x.npy", deflated).unwrap();
        zip.write_all(&x).unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let mut npz = Npz::new(&bytes).unwrap();
        let a = npz.array::<f64>("x").unwrap().unwrap();
        assert_eq!((a.shape, a.data), (vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]));
        assert!(npz.array::<f64>("y").unwrap().is_none());
    }

    #[test]
    fn a_broken_member_or_archive_says_which() {
        let bad = archive(&[("x".into(), b"\x93NUMPY\x01\x00".to_vec())]).unwrap();
        let e = Npz::new(&bad).unwrap().array::<f64>("x").unwrap_err();
        assert!(e.to_string().starts_with("array 'x' of the archive: malformed .npy header"), "{e}");
        let e = Npz::new(b"PK\x03\x04 not really").err().unwrap();
        assert!(e.to_string().starts_with("not a readable .npz (zip) archive: "), "{e}");
    }
}

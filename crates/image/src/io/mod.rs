//! The image I/O layer: TIFF (single and multi-page, OME-TIFF), PNG and `.npy` in; `.npy`,
//! `.npz` (written by `einmix-io`) and PNG out. Readers take a path and say, naming it, exactly what is wrong with a
//! file; writers return bytes, so that the caller decides how to write them (atomically, say).

mod folder;
pub mod frames;
pub mod npy;
pub(crate) mod png;
pub use png::encode_rgb;
pub(crate) mod tiff;
pub(crate) mod zarr;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::stack::{Mask, Raw, ReadOptions, Stack};

/// The file formats read, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Tiff,
    Png,
    Npy,
}

pub(crate) fn format(path: &Path) -> Result<Format> {
    let ext = path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("tif" | "tiff") => Ok(Format::Tiff),
        Some("png") => Ok(Format::Png),
        Some("npy") => Ok(Format::Npy),
        _ => Err(Error::UnknownFormat { path: path.to_path_buf() }),
    }
}

/// Reads an image or a stack: `.tif`/`.tiff` (one page or many, 8/16/32-bit integer or
/// float, OME metadata honoured), `.png` (grey, 8 or 16 bit) or `.npy` of shape `(H, W)`,
/// `(F, H, W)` or `(T, Z, H, W)`.
pub fn read_stack(path: &Path, options: &ReadOptions) -> Result<Stack> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    read_stack_bytes(path, &bytes, options)
}

/// [`read_stack`] from bytes already in memory; `path` names the file in errors and gives
/// the format by its extension.
pub fn read_stack_bytes(path: &Path, bytes: &[u8], options: &ReadOptions) -> Result<Stack> {
    let raw = read_raw(path, bytes, options.z_slices, options.channel)?;
    raw.into_stack(options)
}

/// The channel to read of a file holding `count` channels named `names`: `channel` if it
/// exists; for a single-channel file, 0; otherwise an error that lists them.
pub(crate) fn pick_channel(path: &Path, channel: Option<usize>, names: &[String]) -> Result<usize> {
    let listed = || names.iter().enumerate().map(|(i, n)| format!("{i}: {n}")).collect::<Vec<_>>().join(", ");
    match channel {
        None if names.len() <= 1 => Ok(0),
        None => Err(Error::ChooseChannel { path: path.to_path_buf(), count: names.len(), names: listed() }),
        Some(c) if c < names.len().max(1) => Ok(c),
        Some(c) => Err(Error::NoSuchChannel {
            path: path.to_path_buf(),
            channel: c,
            count: names.len().max(1),
            names: if names.is_empty() { "0: grey".into() } else { listed() },
        }),
    }
}

pub(crate) fn read_raw(
    path: &Path,
    bytes: &[u8],
    z_slices: Option<usize>,
    channel: Option<usize>,
) -> Result<Raw> {
    let mut raw = match format(path)? {
        Format::Tiff => tiff::read(path, bytes, channel)?,
        Format::Png => png::read(path, bytes, channel)?,
        Format::Npy => {
            // A .npy array is one channel (its axes are T, Z, H, W).
            pick_channel(path, channel, &["grey".to_string()])?;
            npy::read_raw(path, bytes)?
        }
    };
    if let Some(z) = z_slices {
        if z == 0 {
            return Err(Error::InvalidParameter {
                name: "z_slices",
                value: "0".into(),
                expected: "z_slices must be at least 1",
            });
        }
        if raw.z != 1 && raw.z != z {
            // The file says how many slices it has; a different number is a mistake.
            return Err(Error::ZSlicesMismatch { pages: raw.t * raw.z, z });
        }
        let pages = raw.t * raw.z;
        if pages % z != 0 {
            return Err(Error::ZSlicesMismatch { pages, z });
        }
        raw.t = pages / z;
        raw.z = z;
    }
    Ok(raw)
}

/// Reads a mask: a label image of any format [`read_stack`] reads (its first frame); `label =
/// None` keeps every nonzero pixel, `Some(l)` the pixels of label `l`.
pub fn read_mask(path: &Path, label: Option<i64>) -> Result<Mask> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let raw = read_raw(path, &bytes, None, None)?;
    let plane = raw.h * raw.w;
    let labels = ndarray::Array2::from_shape_vec((raw.h, raw.w), raw.data[..plane].to_vec())
        .expect("a plane has h * w pixels");
    Mask::from_labels(labels.view(), label)
}

/// Opens `path` for frame-by-frame reading: a multi-page `.tif`/`.tiff` (OME or not), a
/// `.npy`, an OME-Zarr store (a folder with `.zattrs`/`zarr.json`), a folder of `.png` or
/// `.tif` frames in name order, or one `.png`.
pub fn open_frames(path: &Path, options: &ReadOptions) -> Result<frames::Frames> {
    let inner: Box<dyn frames::TimePoints> = if path.is_dir() {
        if zarr::is_zarr(path) {
            Box::new(zarr::ZarrTimePoints::open(path, options.channel)?)
        } else {
            Box::new(folder::FolderTimePoints::open(path, options.channel)?)
        }
    } else {
        match format(path)? {
            Format::Tiff => Box::new(tiff::TiffTimePoints::open(path, options.channel)?),
            Format::Npy => {
                pick_channel(path, options.channel, &["grey".to_string()])?;
                Box::new(npy::NpyTimePoints::open(path)?)
            }
            Format::Png => Box::new(WholeFile::open(path, options.channel)?),
        }
    };
    frames::Frames::new(inner, options)
}

/// A file read whole (a PNG holds one plane) and served as time points.
pub(crate) struct WholeFile {
    path: PathBuf,
    raw: crate::stack::Raw,
}

impl WholeFile {
    pub(crate) fn open(path: &Path, channel: Option<usize>) -> Result<WholeFile> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let raw = read_raw(path, &bytes, None, channel)?;
        Ok(WholeFile { path: path.to_path_buf(), raw })
    }
}

impl frames::TimePoints for WholeFile {
    fn layout(&self) -> (usize, usize, usize, usize) {
        (self.raw.t, self.raw.z, self.raw.h, self.raw.w)
    }
    fn voxel_size(&self) -> Option<[f64; 3]> {
        self.raw.voxel_size
    }
    fn read_time_point(&mut self, t: usize, out: &mut [f32]) -> Result<()> {
        let n = out.len();
        out.copy_from_slice(&self.raw.data[t * n..(t + 1) * n]);
        Ok(())
    }
    fn path(&self) -> &Path {
        &self.path
    }
}

//! TIFF in: every page (IFD) a plane, grey samples of 8, 16, 32 or 64 bits, integer or float,
//! any compression the `tiff` crate decodes. OME-TIFF metadata (`SizeZ`, `SizeT`, `SizeC`,
//! `DimensionOrder` in the first page's ImageDescription) tells how pages make `(T, Z)`.

use std::io::Cursor;
use std::path::Path;

use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError};

use crate::error::{Error, Result};
use crate::stack::Raw;

fn map_error(path: &Path, e: TiffError) -> Error {
    match e {
        TiffError::UnsupportedError(u) => {
            Error::UnsupportedSampleFormat { path: path.to_path_buf(), format: "TIFF", what: u.to_string() }
        }
        TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => Error::Corrupt {
            path: path.to_path_buf(),
            format: "TIFF",
            problem: "the file ends early (truncated?)".into(),
        },
        TiffError::LimitsExceeded => Error::Corrupt {
            path: path.to_path_buf(),
            format: "TIFF",
            problem: "a tag or a page claims more data than the file can hold".into(),
        },
        other => Error::Corrupt { path: path.to_path_buf(), format: "TIFF", problem: other.to_string() },
    }
}

/// `(t, z)` from OME-XML: `None` when there is no OME metadata.
fn ome_dimensions(description: &str) -> Option<(usize, usize, usize, bool)> {
    if !description.contains("<OME") {
        return None;
    }
    let attribute = |name: &str| -> Option<String> {
        // The leading space keeps `SizeZ` from matching inside `PhysicalSizeZ`.
        let key = format!(" {name}=\"");
        let start = description.find(&key)? + key.len();
        let end = description[start..].find('"')? + start;
        Some(description[start..end].to_string())
    };
    let size = |name: &str| attribute(name).and_then(|v| v.parse::<usize>().ok()).unwrap_or(1);
    let order = attribute("DimensionOrder").unwrap_or_else(|| "XYZCT".into());
    let z_before_t = order.find('Z') < order.find('T');
    Some((size("SizeT"), size("SizeZ"), size("SizeC"), z_before_t))
}

/// What a file of `len` bytes can honestly hold, so that a header claiming more is refused
/// before anything is allocated (found by fuzzing: a 100-byte file asked for 39 GB). A tag's
/// values and a strip's compressed bytes lie in the file; a decoded page is at most what the
/// strongest compression TIFF uses can expand to (LZW's 12-bit codes: under 4096 to 1).
fn limits(len: usize) -> Limits {
    let mut limits = Limits::default();
    limits.ifd_value_size = len;
    limits.intermediate_buffer_size = len;
    limits.decoding_buffer_size = len.saturating_mul(4096).saturating_add(1 << 20);
    limits
}

pub(crate) fn read(path: &Path, bytes: &[u8]) -> Result<Raw> {
    let err = |e| map_error(path, e);
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(err)?.with_limits(limits(bytes.len()));
    let description = decoder.get_tag_ascii_string(Tag::ImageDescription).ok();
    let mut planes: Vec<Vec<f32>> = Vec::new();
    let mut size = (0, 0);
    loop {
        let page = planes.len();
        let (w, h) = decoder.dimensions().map_err(err)?;
        let (h, w) = (h as usize, w as usize);
        if page == 0 {
            size = (h, w);
        } else if (h, w) != size {
            return Err(Error::InconsistentPages {
                path: path.to_path_buf(),
                page,
                expected: size,
                found: (h, w),
            });
        }
        match decoder.colortype().map_err(err)? {
            ColorType::Gray(8 | 16 | 32 | 64) => {}
            other => {
                return Err(Error::UnsupportedSampleFormat {
                    path: path.to_path_buf(),
                    format: "TIFF",
                    what: format!(
                        "{other:?} on page {page}; only single-channel grey pages of 8, 16, 32 or 64 bits \
                         are read (save one channel, or convert to greyscale)"
                    ),
                })
            }
        }
        let plane: Vec<f32> = match decoder.read_image().map_err(err)? {
            DecodingResult::U8(v) => v.into_iter().map(f32::from).collect(),
            DecodingResult::U16(v) => v.into_iter().map(f32::from).collect(),
            DecodingResult::U32(v) => v.into_iter().map(|x| x as f32).collect(),
            DecodingResult::U64(v) => v.into_iter().map(|x| x as f32).collect(),
            DecodingResult::I8(v) => v.into_iter().map(f32::from).collect(),
            DecodingResult::I16(v) => v.into_iter().map(f32::from).collect(),
            DecodingResult::I32(v) => v.into_iter().map(|x| x as f32).collect(),
            DecodingResult::I64(v) => v.into_iter().map(|x| x as f32).collect(),
            DecodingResult::F32(v) => v,
            DecodingResult::F64(v) => v.into_iter().map(|x| x as f32).collect(),
        };
        if plane.len() != h * w {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                format: "TIFF",
                problem: format!("page {page} holds {} samples, not {h} x {w}", plane.len()),
            });
        }
        planes.push(plane);
        if !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(err)?;
    }
    let pages = planes.len();
    let (h, w) = size;
    let (mut t, mut z) = (pages, 1);
    let mut order: Vec<usize> = (0..pages).collect();
    if let Some((ot, oz, oc, z_before_t)) = description.as_deref().and_then(ome_dimensions) {
        if oc > 1 {
            return Err(Error::UnsupportedSampleFormat {
                path: path.to_path_buf(),
                format: "TIFF",
                what: format!("OME-TIFF with {oc} channels; save the channel to analyse on its own"),
            });
        }
        if ot * oz == pages {
            (t, z) = (ot, oz);
            if !z_before_t {
                // Pages run T fastest: page = zi * T + ti; we want ti * Z + zi.
                order = (0..pages).map(|i| (i % z) * t + i / z).collect();
            }
        }
    }
    let mut data = Vec::with_capacity(pages * h * w);
    for &p in &order {
        data.extend_from_slice(&planes[p]);
    }
    Ok(Raw { t, z, h, w, data })
}

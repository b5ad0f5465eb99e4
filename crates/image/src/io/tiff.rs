//! TIFF in: every page (IFD) a plane, grey samples of 8, 16, 32 or 64 bits, integer or float,
//! or one chosen channel of RGB(A) pages; any compression the `tiff` crate decodes. OME-TIFF
//! metadata (`SizeZ`, `SizeT`, `SizeC`, `DimensionOrder` and the channels' names in the first
//! page's ImageDescription) tells how pages make `(T, Z)` and which pages are a channel.

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

/// The stack's layout from OME-XML: `None` when there is no OME metadata.
struct OmeLayout {
    t: usize,
    z: usize,
    c: usize,
    /// The page dimensions, fastest first (`DimensionOrder` after `XY`, e.g. `ZCT`).
    order: Vec<char>,
    /// The channels' names (`Channel Name="..."`), where given.
    names: Vec<String>,
    /// `PhysicalSize{Z,Y,X}`, when all three are given as positive numbers.
    voxel_size: Option<[f64; 3]>,
}

impl OmeLayout {
    /// The page holding time point `ti`, slice `zi`, channel `ci`.
    fn page(&self, ti: usize, zi: usize, ci: usize) -> usize {
        let (mut page, mut stride) = (0, 1);
        for dim in &self.order {
            let (index, size) = match dim {
                'T' => (ti, self.t),
                'Z' => (zi, self.z),
                _ => (ci, self.c),
            };
            page += index * stride;
            stride *= size;
        }
        page
    }
}

fn ome_layout(description: &str) -> Option<OmeLayout> {
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
    let size = |name: &str| attribute(name).and_then(|v| v.parse::<usize>().ok()).unwrap_or(1).max(1);
    let order = attribute("DimensionOrder").unwrap_or_else(|| "XYZCT".into());
    let order: Vec<char> = order.chars().filter(|c| matches!(c, 'Z' | 'C' | 'T')).collect();
    let order = if order.len() == 3 { order } else { vec!['Z', 'C', 'T'] };
    // Each `<Channel ... Name="...">` in order; a channel without a name is left unnamed.
    let names = description
        .split("<Channel")
        .skip(1)
        .map(|element| {
            let element = &element[..element.find('>').unwrap_or(element.len())];
            element.find(" Name=\"").map_or(String::new(), |at| {
                let rest = &element[at + 7..];
                rest[..rest.find('"').unwrap_or(rest.len())].to_string()
            })
        })
        .collect();
    // In micrometres, OME's default unit; a side in another length unit is converted, one in
    // a unit we do not know leaves the voxel size unknown.
    let physical = |name: &str| {
        let value = attribute(name)?.parse::<f64>().ok().filter(|v| *v > 0.0 && v.is_finite())?;
        let factor = match attribute(&format!("{name}Unit")).as_deref() {
            None | Some("µm") | Some("um") | Some("\u{3bc}m") | Some("micron") => 1.0,
            Some("nm") => 1e-3,
            Some("Å") => 1e-4,
            Some("mm") => 1e3,
            Some("cm") => 1e4,
            Some("m") => 1e6,
            Some(_) => return None,
        };
        Some(value * factor)
    };
    let voxel_size = match (physical("PhysicalSizeZ"), physical("PhysicalSizeY"), physical("PhysicalSizeX")) {
        (Some(z), Some(y), Some(x)) => Some([z, y, x]),
        _ => None,
    };
    Some(OmeLayout { t: size("SizeT"), z: size("SizeZ"), c: size("SizeC"), order, names, voxel_size })
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

pub(crate) fn read(path: &Path, bytes: &[u8], channel: Option<usize>) -> Result<Raw> {
    let err = |e| map_error(path, e);
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(err)?.with_limits(limits(bytes.len()));
    let description = decoder.get_tag_ascii_string(Tag::ImageDescription).ok();
    let mut planes: Vec<Vec<f32>> = Vec::new();
    let mut size = (0, 0);
    // Whether the pages are RGB(A), whose channel `pick_channel` has chosen.
    let mut colour = false;
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
        // Samples per pixel, and which one to keep.
        let (samples, pick) = match decoder.colortype().map_err(err)? {
            ColorType::Gray(8 | 16 | 32 | 64) => (1, 0),
            ColorType::RGB(8 | 16) | ColorType::RGBA(8 | 16) => {
                let samples =
                    if matches!(decoder.colortype().map_err(err)?, ColorType::RGB(_)) { 3 } else { 4 };
                let names: Vec<String> = ["red", "green", "blue"].iter().map(|n| n.to_string()).collect();
                colour = true;
                (samples, super::pick_channel(path, channel, &names)?)
            }
            other => {
                return Err(Error::UnsupportedSampleFormat {
                    path: path.to_path_buf(),
                    format: "TIFF",
                    what: format!(
                        "{other:?} on page {page}; grey pages of 8, 16, 32 or 64 bits and RGB(A) pages of \
                         8 or 16 bits are read (save one channel, or convert to greyscale)"
                    ),
                })
            }
        };
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
        let plane: Vec<f32> =
            if samples == 1 { plane } else { plane.iter().skip(pick).step_by(samples).copied().collect() };
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
    let mut voxel_size = None;
    let ome = description.as_deref().and_then(ome_layout).filter(|o| o.t * o.z * o.c == pages);
    if ome.as_ref().map_or(true, |o| o.c == 1) && !colour {
        // One grey channel: only --channel 0 names it.
        super::pick_channel(path, channel, &[])?;
    }
    if let Some(o) = ome {
        let names: Vec<String> = (0..o.c)
            .map(|i| o.names.get(i).filter(|n| !n.is_empty()).cloned().unwrap_or(format!("channel {i}")))
            .collect();
        let ci = if o.c > 1 { super::pick_channel(path, channel, &names)? } else { 0 };
        (t, z, voxel_size) = (o.t, o.z, o.voxel_size);
        // Pages in (T, Z) order, of the chosen channel, whatever the file's dimension order.
        order =
            (0..t).flat_map(|ti| (0..z).map(move |zi| (ti, zi))).map(|(ti, zi)| o.page(ti, zi, ci)).collect();
    }
    let mut data = Vec::with_capacity(pages * h * w);
    for &p in &order {
        data.extend_from_slice(&planes[p]);
    }
    Ok(Raw { t, z, h, w, data, voxel_size })
}

//! TIFF in: every page (IFD) a plane, grey samples of 8, 16, 32 or 64 bits, integer or float,
//! or one chosen channel of RGB(A) pages; any compression the `tiff` crate decodes. OME-TIFF
//! metadata (`SizeZ`, `SizeT`, `SizeC`, `DimensionOrder` and the channels' names in the first
//! page's ImageDescription) tells how pages make `(T, Z)` and which pages are a channel.

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError};

use super::frames::TimePoints;
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

/// A TIFF's pages, walked once for their layout and read one at a time: the frames of a
/// long multi-page video never sit in memory together.
pub(crate) struct TiffPages<R: Read + Seek> {
    path: PathBuf,
    decoder: Decoder<R>,
    /// Pages whose directory could be read; a chain that breaks leaves `broken`.
    pages: usize,
    /// Why the page after the last readable one could not be read (a truncated file).
    broken: Option<String>,
    size: (usize, usize),
    /// Samples per pixel, and which one is kept.
    samples: usize,
    pick: usize,
    t: usize,
    z: usize,
    voxel_size: Option<[f64; 3]>,
    /// The page of each `(T, Z)` plane of the chosen channel, T slowest.
    order: Vec<usize>,
}

impl<R: Read + Seek> TiffPages<R> {
    /// Walks the page directories of `reader` (`len` bytes), checking that every page has the
    /// first one's size and sample format, and lays the pages out as `(T, Z)` of one channel.
    pub(crate) fn open(path: &Path, reader: R, len: usize, channel: Option<usize>) -> Result<TiffPages<R>> {
        let err = |e| map_error(path, e);
        let mut decoder = Decoder::new(reader).map_err(err)?.with_limits(limits(len));
        let description = decoder.get_tag_ascii_string(Tag::ImageDescription).ok();
        let mut size = (0, 0);
        let (mut samples, mut pick, mut colour);
        colour = false;
        let mut pages = 0;
        let mut broken = None;
        loop {
            let page = pages;
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
            let (page_samples, page_pick) = match decoder.colortype().map_err(err)? {
                ColorType::Gray(8 | 16 | 32 | 64) => (1, 0),
                kind @ (ColorType::RGB(8 | 16) | ColorType::RGBA(8 | 16)) => {
                    let samples = if matches!(kind, ColorType::RGB(_)) { 3 } else { 4 };
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
            (samples, pick) = (page_samples, page_pick);
            pages += 1;
            if !decoder.more_images() {
                break;
            }
            // A directory that cannot be read (a file cut short while it was written) ends
            // the readable pages; the frame that needs the next page reports it.
            if let Err(e) = decoder.next_image() {
                broken = Some(match map_error(path, e) {
                    Error::Corrupt { problem, .. } => problem,
                    other => other.to_string(),
                });
                break;
            }
        }
        let (h, w) = size;
        let claimed = pages + usize::from(broken.is_some());
        let ome = description.as_deref().and_then(ome_layout).filter(|o| {
            let total = o.t * o.z * o.c;
            total == pages || (broken.is_some() && total >= claimed)
        });
        if ome.as_ref().is_none_or(|o| o.c == 1) && !colour {
            // One grey channel: only --channel 0 names it.
            super::pick_channel(path, channel, &[])?;
        }
        let (mut t, mut z, mut voxel_size) = (claimed, 1, None);
        let mut order: Vec<usize> = (0..claimed).collect();
        if let Some(o) = ome {
            let names: Vec<String> = (0..o.c)
                .map(|i| o.names.get(i).filter(|n| !n.is_empty()).cloned().unwrap_or(format!("channel {i}")))
                .collect();
            let ci = if o.c > 1 { super::pick_channel(path, channel, &names)? } else { 0 };
            (t, z, voxel_size) = (o.t, o.z, o.voxel_size);
            // Pages in (T, Z) order, of the chosen channel, whatever the file's dimension order.
            order = (0..t)
                .flat_map(|ti| (0..z).map(move |zi| (ti, zi)))
                .map(|(ti, zi)| o.page(ti, zi, ci))
                .collect();
        }
        Ok(TiffPages {
            path: path.to_path_buf(),
            decoder,
            pages,
            broken,
            size: (h, w),
            samples,
            pick,
            t,
            z,
            voxel_size,
            order,
        })
    }

    /// `(T, Z, H, W)` of the chosen channel.
    pub(crate) fn layout(&self) -> (usize, usize, usize, usize) {
        (self.t, self.z, self.size.0, self.size.1)
    }

    /// Plane `index` (in `(T, Z)` order) into `out` (`H x W` values).
    pub(crate) fn read_plane(&mut self, index: usize, out: &mut [f32]) -> Result<()> {
        let page = self.order[index];
        let path = self.path.clone();
        let err = |e| map_error(&path, e);
        if page >= self.pages {
            let why = self
                .broken
                .clone()
                .unwrap_or_else(|| "the file holds fewer pages than its metadata says".into());
            return Err(Error::Corrupt {
                path: path.clone(),
                format: "TIFF",
                problem: format!("page {page} cannot be read: {why}"),
            });
        }
        self.decoder.seek_to_image(page).map_err(err)?;
        let plane: Vec<f32> = match self.decoder.read_image().map_err(|e| page_error(&path, page, e))? {
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
        let (h, w) = self.size;
        if plane.len() != h * w * self.samples {
            return Err(Error::Corrupt {
                path,
                format: "TIFF",
                problem: format!("page {page} holds {} samples, not {h} x {w}", plane.len() / self.samples),
            });
        }
        if self.samples == 1 {
            out.copy_from_slice(&plane);
        } else {
            for (o, v) in out.iter_mut().zip(plane.iter().skip(self.pick).step_by(self.samples)) {
                *o = *v;
            }
        }
        Ok(())
    }
}

/// A page's decoding error, naming the page.
fn page_error(path: &Path, page: usize, e: TiffError) -> Error {
    match map_error(path, e) {
        Error::Corrupt { path, format, problem } => {
            Error::Corrupt { path, format, problem: format!("page {page}: {problem}") }
        }
        other => other,
    }
}

pub(crate) fn read(path: &Path, bytes: &[u8], channel: Option<usize>) -> Result<Raw> {
    let mut pages = TiffPages::open(path, Cursor::new(bytes), bytes.len(), channel)?;
    let (t, z, h, w) = pages.layout();
    let mut data = vec![0.0f32; t * z * h * w];
    for (index, out) in data.chunks_mut((h * w).max(1)).enumerate() {
        pages.read_plane(index, out)?;
    }
    Ok(Raw { t, z, h, w, data, voxel_size: pages.voxel_size })
}

/// A TIFF file's time points, read page by page from disk.
pub(crate) struct TiffTimePoints {
    pages: TiffPages<BufReader<File>>,
}

impl TiffTimePoints {
    /// Opens `path` and walks its page directories.
    pub(crate) fn open(path: &Path, channel: Option<usize>) -> Result<TiffTimePoints> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len() as usize;
        Ok(TiffTimePoints { pages: TiffPages::open(path, BufReader::new(file), len, channel)? })
    }
}

impl TimePoints for TiffTimePoints {
    fn layout(&self) -> (usize, usize, usize, usize) {
        self.pages.layout()
    }
    fn voxel_size(&self) -> Option<[f64; 3]> {
        self.pages.voxel_size
    }
    fn read_time_point(&mut self, t: usize, out: &mut [f32]) -> Result<()> {
        let (_, z, h, w) = self.pages.layout();
        for (zi, plane) in out.chunks_mut(h * w).enumerate() {
            self.pages.read_plane(t * z + zi, plane)?;
        }
        Ok(())
    }
    fn path(&self) -> &Path {
        &self.pages.path
    }
    fn truncated(&self) -> bool {
        self.pages.broken.is_some()
    }
}

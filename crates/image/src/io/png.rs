//! PNG in (grey, 1 to 16 bits; grey + alpha keeps the grey; RGB and RGBA one chosen channel)
//! and out (8-bit RGB).

use std::io::Cursor;
use std::path::Path;

use png::{BitDepth, ColorType, Transformations};

use crate::error::{Error, Result};
use crate::stack::Raw;

pub(crate) fn read(path: &Path, bytes: &[u8], channel: Option<usize>) -> Result<Raw> {
    let corrupt = |e: png::DecodingError| Error::Corrupt {
        path: path.to_path_buf(),
        format: "PNG",
        problem: match e {
            png::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                "the file ends early (truncated?)".to_string()
            }
            other => other.to_string(),
        },
    };
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    // Expand grey of 1, 2 or 4 bits to 8; keep 16 bits as they are.
    decoder.set_transformations(Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(corrupt)?;
    // Deflate expands at most 1032 to 1: a header asking for more than the file can hold is
    // corrupt, and is refused before the buffer is allocated (found by fuzzing: a 60-byte
    // file asked for 2 TB).
    let needed = reader.output_buffer_size();
    let most = bytes.len().saturating_mul(1032).saturating_add(1 << 20);
    if needed > most {
        let (w, h) = reader.info().size();
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            format: "PNG",
            problem: format!(
                "the header's {w} x {h} pixels need {needed} bytes, more than a {}-byte file can hold",
                bytes.len()
            ),
        });
    }
    let mut buf = vec![0; needed];
    let info = reader.next_frame(&mut buf).map_err(corrupt)?;
    let (h, w) = (info.height as usize, info.width as usize);
    // Samples per pixel, and the colour channels a user may pick (alpha is not one).
    let (channels, names): (usize, &[&str]) = match info.color_type {
        ColorType::Grayscale => (1, &["grey"]),
        ColorType::GrayscaleAlpha => (2, &["grey"]),
        ColorType::Rgb => (3, &["red", "green", "blue"]),
        ColorType::Rgba => (4, &["red", "green", "blue"]),
        other => {
            return Err(Error::UnsupportedSampleFormat {
                path: path.to_path_buf(),
                format: "PNG",
                what: format!("{other:?} colour; grey, RGB and RGBA PNGs are read"),
            })
        }
    };
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let pick = super::pick_channel(path, channel, &names)?;
    let line = info.line_size;
    let mut data = Vec::with_capacity(h * w);
    for r in 0..h {
        let row = &buf[r * line..(r + 1) * line];
        for c in 0..w {
            let v = match info.bit_depth {
                BitDepth::Sixteen => {
                    let i = 2 * (channels * c + pick);
                    f32::from(u16::from_be_bytes([row[i], row[i + 1]]))
                }
                _ => f32::from(row[channels * c + pick]),
            };
            data.push(v);
        }
    }
    Ok(Raw { t: 1, z: 1, h, w, data, voxel_size: None })
}

/// Encodes an 8-bit RGB buffer (`3 * width * height` bytes, row-major) as PNG.
pub fn encode_rgb(rgb: &[u8], width: usize, height: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
        encoder.set_color(ColorType::Rgb);
        encoder.set_depth(BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| Error::Encode { message: e.to_string() })?;
        writer.write_image_data(rgb).map_err(|e| Error::Encode { message: e.to_string() })?;
    }
    Ok(out)
}

//! einmix's data files, read in one place. Every part of einmix that takes data from a file
//! comes here: the CLI (`fit`, `predict`, `score`, `select`, streamed and online fits), the
//! image pipeline (its `.npy` stacks and the `.npz` it writes) and the Python package
//! (`einmix.read_data`), so a fix to a reader reaches all of them and the same file gets the
//! same answer, or the same error, everywhere.
//!
//! | format | module | how |
//! |---|---|---|
//! | `.npy` | [`npy`] | every numeric dtype and byte order, C and Fortran order, converted as NumPy's `astype` |
//! | `.npz` | [`npz`] | a zip of `.npy` members, stored or deflated (`savez`, `savez_compressed`) |
//! | CSV/TSV | [`text`], [`columns`] | optional header, `#` comments, columns by name or position |
//! | large `.npy` | [`npy_stream`] | block by block, memory `O(block)` |
//!
//! A file's kind comes from its extension and its first bytes ([`format`]); when they disagree,
//! or the bytes are something else (an image, a model, binary data), the error says what the
//! file holds. TIFF and PNG are images, read by `einmix-image`; the model JSON is read by the
//! model itself (`einmix::Mixture::from_json`): each format has exactly one reader.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod columns;
pub mod data;
mod error;
pub mod format;
pub mod npy;
pub mod npy_stream;
pub mod npz;
pub mod text;

pub use columns::Table;
pub use data::{read_data, read_data_file, read_weights};
pub use error::{Cell, ReadError};
pub use format::{input_format, InputFormat};

//! Files in and out: data tables (`.npy`, `.csv`, `.tsv`, standard input), sample weights,
//! models (`.json`), and outputs written whole or not at all.
//!
//! Inputs are read into memory whole, then parsed, so a file is never half-read; outputs are
//! encoded into memory whole, then written by [`write::atomic`] (temporary file + rename).

pub mod columns;
pub mod npy_stream;
pub mod text;
pub mod write;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::Path;

use einmix::{Mixture, VariationalMixture};
use ndarray::{Array1, ArrayView1, ArrayView2};

pub use columns::Table;

use crate::error::{CliError, ReadError, Source, WriteError};
use einmix_npy as npy;

/// The bytes of an input: a file, or all of standard input for `-`.
fn read_bytes(file: &Source) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    match file {
        Source::Path(p) => {
            bytes = std::fs::read(p).map_err(|e| CliError::read(file, e))?;
        }
        Source::Stdin | Source::Stdout => {
            std::io::stdin().lock().read_to_end(&mut bytes).map_err(|e| CliError::read(file, e))?;
        }
    }
    Ok(bytes)
}

/// How an input file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Npy,
    Text(u8),
}

/// What a file's first bytes say it is, when it is not text.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    const MAGICS: [(&[u8], &str); 6] = [
        (b"PK\x03\x04", "a zip archive (an .npz?)"),
        (b"\x89PNG", "a PNG image"),
        (b"II*\x00", "a TIFF image"),
        (b"MM\x00*", "a TIFF image"),
        (b"\x1f\x8b", "gzip-compressed data"),
        (b"%PDF", "a PDF document"),
    ];
    if let Some((_, what)) = MAGICS.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Some(what);
    }
    let head = &bytes[..bytes.len().min(4096)];
    // Invalid UTF-8 that is not just a character cut at the end of the window, or a NUL byte.
    let not_utf8 = matches!(std::str::from_utf8(head), Err(e) if e.error_len().is_some());
    if not_utf8 || head.contains(&0) {
        return Some("binary data");
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    matches!(first, Some(b'{' | b'[')).then_some("a JSON document (a model file?)")
}

/// By extension (`.npy`, `.csv`, `.tsv`/`.tab`); otherwise (standard input included) by
/// content: `.npy`'s magic string, else text, tab-separated if the first line holds a tab.
/// Content that is neither (an image, an archive, a JSON model, binary data) is an error that
/// says what it is, and a `.csv` or `.tsv` that holds a `.npy` array is a mismatch.
pub fn input_format(file: &Source, bytes: &[u8]) -> Result<InputFormat, ReadError> {
    let ext = match file {
        Source::Path(p) => extension(p),
        _ => String::new(),
    };
    if ext == "npy" {
        // The reader says exactly how the file fails to be one.
        return Ok(InputFormat::Npy);
    }
    if npy::is_npy(bytes) {
        return match ext.as_str() {
            "csv" | "tsv" | "tab" => Err(ReadError::FormatMismatch { extension: ext, what: "a .npy array" }),
            _ => Ok(InputFormat::Npy),
        };
    }
    if let Some(what) = binary_kind(bytes) {
        return Err(ReadError::NotATable { what, start: text::escaped(&bytes[..bytes.len().min(16)]) });
    }
    Ok(match ext.as_str() {
        "csv" => InputFormat::Text(b','),
        "tsv" | "tab" => InputFormat::Text(b'\t'),
        _ => {
            let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            InputFormat::Text(if first_line.contains(&b'\t') { b'\t' } else { b',' })
        }
    })
}

fn extension(p: &Path) -> String {
    p.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}

/// Reads a data table: features (shape (samples, features)) and, with `weight`, a weight column.
pub fn read_data(arg: &Path, select: &[String], weight: Option<&str>) -> Result<(Source, Table), CliError> {
    let file = Source::input(arg);
    let bytes = read_bytes(&file)?;
    let format = input_format(&file, &bytes).map_err(|e| CliError::read(&file, e))?;
    let table = match format {
        InputFormat::Npy => {
            let a = npy::read::<f64>(&bytes).map_err(|e| CliError::read(&file, e))?;
            let [n, d] = a.shape[..] else {
                return Err(CliError::read(
                    &file,
                    ReadError::WrongShape {
                        expected: "2-d (samples, features)",
                        found: npy::shape_text(&a.shape),
                    },
                ));
            };
            if n == 0 {
                return Err(CliError::read(&file, ReadError::Empty));
            }
            let x = ndarray::Array2::from_shape_vec((n, d), a.data).expect("n * d values");
            columns::select_matrix(x, select, weight)
        }
        InputFormat::Text(delimiter) => text::parse(&bytes, delimiter, select, weight),
    }
    .map_err(|e| CliError::read(&file, e))?;
    Ok((file, table))
}

/// Reads per-sample weights: a `.npy` of shape (n,) or (n, 1), or a one-column text table.
pub fn read_weights(arg: &Path, n_samples: usize) -> Result<Array1<f64>, CliError> {
    let file = Source::input(arg);
    let bytes = read_bytes(&file)?;
    let err = |e: ReadError| CliError::read(&file, e);
    let (w, shape) = match input_format(&file, &bytes).map_err(err)? {
        InputFormat::Npy => {
            let a = npy::read::<f64>(&bytes).map_err(|e| err(e.into()))?;
            (Array1::from(a.data), a.shape)
        }
        InputFormat::Text(delimiter) => {
            let t = text::parse(&bytes, delimiter, &[], None).map_err(err)?;
            let shape = vec![t.x.nrows(), t.x.ncols()];
            (t.x.into_iter().collect(), shape)
        }
    };
    match shape[..] {
        [n] | [n, 1] if n == n_samples => Ok(w),
        [n] | [n, 1] => Err(err(ReadError::WeightCount { expected: n_samples, found: n })),
        _ => Err(err(ReadError::WrongShape { expected: "one-column", found: npy::shape_text(&shape) })),
    }
}

/// A saved model: fitted by EM, or variational (`fit --bayesian`), whose scores and labels
/// come from the variational E-step as scikit-learn's `BayesianGaussianMixture` gives them.
pub enum Model {
    /// `einmix fit`.
    Em(Mixture),
    /// `einmix fit --bayesian`.
    Variational(VariationalMixture),
}

impl Model {
    /// The mixture (expected weights, means, covariances).
    pub fn mixture(&self) -> &Mixture {
        match self {
            Model::Em(m) => m,
            Model::Variational(v) => &v.mixture,
        }
    }

    /// Labels of the rows.
    pub fn predict(&self, x: ArrayView2<f64>) -> einmix::Result<Array1<usize>> {
        match self {
            Model::Em(m) => m.predict(x),
            Model::Variational(v) => v.predict(x),
        }
    }

    /// Responsibilities, `(N, K)`.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> einmix::Result<ndarray::Array2<f64>> {
        match self {
            Model::Em(m) => m.predict_proba(x),
            Model::Variational(v) => v.predict_proba(x),
        }
    }

    /// Per-row log-likelihood.
    pub fn score_samples(&self, x: ArrayView2<f64>) -> einmix::Result<Array1<f64>> {
        match self {
            Model::Em(m) => m.score_samples(x),
            Model::Variational(v) => v.score_samples(x),
        }
    }
}

/// Reads a model saved as JSON (by `fit`, `fit --bayesian` or `select`).
pub fn read_model(arg: &Path) -> Result<(Source, Model), CliError> {
    let file = Source::input(arg);
    let bytes = read_bytes(&file)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        CliError::read(
            &file,
            ReadError::Model(einmix::Error::InvalidModel { message: "the file is not UTF-8 text".into() }),
        )
    })?;
    let model = if VariationalMixture::is_json(&text) {
        VariationalMixture::from_json(&text).map(Model::Variational)
    } else {
        Mixture::from_json(&text).map(Model::Em)
    }
    .map_err(|e| CliError::read(&file, ReadError::Model(e)))?;
    Ok((file, model))
}

/// What an output holds, which decides the formats it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An array: `.npy`, `.csv`, `.tsv`; CSV on standard output.
    Array,
    /// A model: `.json`; JSON on standard output.
    Model,
    /// A picture: `.png` (not to standard output).
    Png,
}

/// The encoding of an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutputFormat {
    Npy,
    Text(u8),
    Json,
    Png,
}

/// An output, checked before any work is done: a known extension, and no existing file
/// unless `--force`.
#[derive(Debug, Clone)]
pub struct Output {
    file: Source,
    format: OutputFormat,
    force: bool,
}

impl Output {
    /// Checks `arg` as an output of `kind`.
    pub fn new(arg: &Path, kind: Kind, force: bool) -> Result<Output, CliError> {
        let file = Source::output(arg);
        let format = match (&file, kind) {
            (Source::Path(p), _) => match (extension(p).as_str(), kind) {
                ("npy", Kind::Array) => OutputFormat::Npy,
                ("csv", Kind::Array) => OutputFormat::Text(b','),
                ("tsv" | "tab", Kind::Array) => OutputFormat::Text(b'\t'),
                ("json", Kind::Model) => OutputFormat::Json,
                ("png", Kind::Png) => OutputFormat::Png,
                _ => {
                    let allowed = match kind {
                        Kind::Array => ".npy, .csv or .tsv (or - for standard output)",
                        Kind::Model => ".json (or - for standard output)",
                        Kind::Png => ".png",
                    };
                    return Err(CliError::write(&file, WriteError::Format { allowed }));
                }
            },
            (_, Kind::Array) => OutputFormat::Text(b','),
            (_, Kind::Model) => OutputFormat::Json,
            (_, Kind::Png) => return Err(CliError::write(&file, WriteError::Format { allowed: ".png" })),
        };
        if let Source::Path(p) = &file {
            write::check(p, force).map_err(|e| CliError::write(&file, e))?;
        }
        Ok(Output { file, format, force })
    }

    /// Where it goes.
    pub fn file(&self) -> &Source {
        &self.file
    }

    /// Writes `bytes` whole or not at all.
    fn write_bytes(&self, bytes: &[u8]) -> Result<(), CliError> {
        match &self.file {
            Source::Path(p) => {
                write::atomic(p, bytes, self.force).map_err(|e| CliError::write(&self.file, e))
            }
            _ => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()?;
                Ok(())
            }
        }
    }

    /// A matrix with its column names (the names go into text headers). Text holds each number
    /// in the shortest form that reads back to the same `f64` (`{:?}`: exponents for very
    /// small or large values).
    pub fn matrix(&self, x: ArrayView2<f64>, names: &[String]) -> Result<(), CliError> {
        let bytes = match self.format {
            OutputFormat::Npy => {
                let flat: Vec<f64> = x.iter().copied().collect();
                npy::f64_bytes(&[x.nrows(), x.ncols()], &flat)
            }
            OutputFormat::Text(sep) => {
                text::encode(names, x.nrows(), sep, |s, i, j| write!(s, "{:?}", x[[i, j]]))
            }
            _ => unreachable!("checked by Output::new"),
        };
        self.write_bytes(&bytes)
    }

    /// A vector of numbers; `name` is the text header.
    pub fn vector(&self, v: ArrayView1<f64>, name: &str) -> Result<(), CliError> {
        let bytes = match self.format {
            OutputFormat::Npy => {
                let flat: Vec<f64> = v.iter().copied().collect();
                npy::f64_bytes(&[v.len()], &flat)
            }
            OutputFormat::Text(sep) => {
                text::encode(&[name.to_string()], v.len(), sep, |s, i, _| write!(s, "{:?}", v[i]))
            }
            _ => unreachable!("checked by Output::new"),
        };
        self.write_bytes(&bytes)
    }

    /// Component labels (int64 in `.npy`).
    pub fn labels(&self, v: ArrayView1<usize>, name: &str) -> Result<(), CliError> {
        let bytes = match self.format {
            OutputFormat::Npy => {
                let flat: Vec<i64> = v.iter().map(|&l| l as i64).collect();
                npy::i64_bytes(&[v.len()], &flat)
            }
            OutputFormat::Text(sep) => {
                text::encode(&[name.to_string()], v.len(), sep, |s, i, _| write!(s, "{}", v[i]))
            }
            _ => unreachable!("checked by Output::new"),
        };
        self.write_bytes(&bytes)
    }

    /// A model as JSON.
    pub fn model(&self, m: &Mixture) -> Result<(), CliError> {
        self.json(m.to_json())
    }

    /// A variational model (`fit --bayesian`).
    pub fn variational(&self, m: &VariationalMixture) -> Result<(), CliError> {
        self.json(m.to_json())
    }

    fn json(&self, mut json: String) -> Result<(), CliError> {
        json.push('\n');
        self.write_bytes(json.as_bytes())
    }

    /// An encoded PNG.
    pub fn png(&self, bytes: &[u8]) -> Result<(), CliError> {
        self.write_bytes(bytes)
    }
}

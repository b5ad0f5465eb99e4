//! Files in and out: data tables and sample weights (read by `einmix-io`: `.npy`, `.npz`,
//! `.csv`, `.tsv`, standard input), models (`.json`), and outputs written whole or not at all.
//!
//! Inputs are read into memory whole, then parsed, so a file is never half-read; outputs are
//! encoded into memory whole, then written by [`write::atomic`] (temporary file + rename).

pub mod write;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::Path;

use einmix::{Mixture, VariationalMixture};
use ndarray::{Array1, ArrayView1, ArrayView2};

pub use einmix_io::{npy_stream, text, InputFormat, Table};

use crate::error::{CliError, ReadError, Source, WriteError};
use einmix_io::npy;

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

/// The format of an input (see [`einmix_io::input_format`]): by extension when the content
/// agrees, else by content.
pub fn input_format(file: &Source, bytes: &[u8]) -> Result<InputFormat, ReadError> {
    einmix_io::input_format(file.path(), bytes)
}

/// Reads a data table: features (shape (samples, features)) and, with `weight`, a weight column
/// (in a `.npz`, a weight array).
pub fn read_data(arg: &Path, select: &[String], weight: Option<&str>) -> Result<(Source, Table), CliError> {
    let file = Source::input(arg);
    let bytes = read_bytes(&file)?;
    let table =
        einmix_io::read_data(file.path(), &bytes, select, weight).map_err(|e| CliError::read(&file, e))?;
    Ok((file, table))
}

/// Reads per-sample weights: a `.npy` of shape (n,) or (n, 1), a `.npz` of one such array, or
/// a one-column text table.
pub fn read_weights(arg: &Path, n_samples: usize) -> Result<Array1<f64>, CliError> {
    let file = Source::input(arg);
    let bytes = read_bytes(&file)?;
    einmix_io::read_weights(file.path(), &bytes, n_samples).map_err(|e| CliError::read(&file, e))
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

    /// Labels of the rows: -1 where a background explains the row best.
    pub fn predict(&self, x: ArrayView2<f64>) -> einmix::Result<Array1<i64>> {
        let labels = match self {
            Model::Em(m) => m.predict(x)?,
            Model::Variational(v) => v.predict(x)?,
        };
        Ok(signed_labels(self.mixture(), labels))
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

/// Labels as int64, the core's `K` for a background's points written as -1 (as scikit-learn's
/// clusterers label noise, and as `einmix.GaussianMixture` does).
pub fn signed_labels(m: &Mixture, labels: Array1<usize>) -> Array1<i64> {
    let background = m.background().map(|_| m.n_components());
    labels.mapv(|l| if Some(l) == background { -1 } else { l as i64 })
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
            (Source::Path(p), _) => match (einmix_io::format::extension(p).as_str(), kind) {
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

    /// Component labels (int64 in `.npy`; -1 for a background's points).
    pub fn labels(&self, v: ArrayView1<i64>, name: &str) -> Result<(), CliError> {
        let bytes = match self.format {
            OutputFormat::Npy => {
                let flat: Vec<i64> = v.to_vec();
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

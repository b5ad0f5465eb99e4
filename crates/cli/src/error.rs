//! The command line's errors: data, not strings.
//!
//! Every error names the file it is about (`Source`) and, where it matters, the line or row and
//! the column. `main` prints the message once, prefixed with `einmix: error:`, and exits with
//! code 2; library errors keep the library's own (scikit-learn-worded) message.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Where an input came from or an output goes: a path, or standard input/output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `-` as an input.
    Stdin,
    /// `-` as an output.
    Stdout,
    /// A named file.
    Path(PathBuf),
}

impl Source {
    /// An input argument: `-` is standard input.
    pub fn input(arg: &Path) -> Source {
        if arg.as_os_str() == "-" {
            Source::Stdin
        } else {
            Source::Path(arg.to_path_buf())
        }
    }

    /// An output argument: `-` is standard output.
    pub fn output(arg: &Path) -> Source {
        if arg.as_os_str() == "-" {
            Source::Stdout
        } else {
            Source::Path(arg.to_path_buf())
        }
    }
}

impl Source {
    /// The file's path; `None` for standard input or output.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::Path(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stdin => f.write_str("<stdin>"),
            Source::Stdout => f.write_str("<stdout>"),
            Source::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

pub use einmix_io::ReadError;

/// Why an output could not be written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The file exists and `--force` was not given.
    #[error("already exists (use --force to replace it)")]
    Exists,
    /// The extension names no format this output can take.
    #[error("cannot tell the output format from the extension: use {allowed}")]
    Format {
        /// The extensions accepted here.
        allowed: &'static str,
    },
    /// The directory it would go into does not exist.
    #[error("the directory '{0}' does not exist")]
    NoDirectory(PathBuf),
    /// The operating system refused.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Every error the command line reports.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CliError {
    /// An input (data, weights or model) could not be read.
    #[error("{file}: {kind}")]
    Read {
        /// The input.
        file: Source,
        /// What went wrong.
        kind: ReadError,
    },
    /// An output could not be written; nothing was written.
    #[error("cannot write {file}: {kind}")]
    Write {
        /// The output.
        file: Source,
        /// What went wrong.
        kind: WriteError,
    },
    /// The data's dimension differs from the model's.
    #[error("{data} has {found} feature column(s), but the model {model} expects {expected}")]
    DimensionMismatch {
        /// The data file.
        data: Source,
        /// Its number of columns.
        found: usize,
        /// The model file.
        model: Source,
        /// The model's `n_features`.
        expected: usize,
    },
    /// The library refused the data or the parameters (its message, worded like scikit-learn's).
    #[error("{file}: {source}")]
    Library {
        /// The data the call was about.
        file: Source,
        /// The library's error.
        source: einmix::Error,
    },
    /// The library failed on the demo's generated data.
    #[error("the demo failed: {0}")]
    Demo(#[source] einmix::Error),
    /// Every fit of `einmix select` failed.
    #[error("{file}: no fit succeeded for any K and covariance type (first failure: {first})")]
    NothingFitted {
        /// The data.
        file: Source,
        /// The first failure.
        first: einmix::Error,
    },
    /// The plot could not be drawn.
    #[error("cannot draw the plot {file}: {message}")]
    Plot {
        /// The PNG's path.
        file: Source,
        /// The drawing library's message.
        message: String,
    },
    /// The image pipeline failed (its message names the file or the frame).
    #[error("{0}")]
    Image(#[from] einmix_image::Error),
    /// Standard output was closed or failed (a closed pipe is not reported).
    #[error("cannot write to standard output: {0}")]
    Stdout(#[source] io::Error),
}

impl CliError {
    /// A read error about `file`.
    pub fn read(file: &Source, kind: impl Into<ReadError>) -> CliError {
        CliError::Read { file: file.clone(), kind: kind.into() }
    }

    /// A write error about `file`.
    pub fn write(file: &Source, kind: impl Into<WriteError>) -> CliError {
        CliError::Write { file: file.clone(), kind: kind.into() }
    }

    /// A library error about the data in `file`.
    pub fn library(file: &Source) -> impl FnOnce(einmix::Error) -> CliError + '_ {
        move |source| CliError::Library { file: file.clone(), source }
    }
}

/// Writing to standard output: a closed pipe (`einmix predict ... -o - | head`) ends quietly.
impl From<io::Error> for CliError {
    fn from(e: io::Error) -> CliError {
        CliError::Stdout(e)
    }
}

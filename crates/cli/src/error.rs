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

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stdin => f.write_str("<stdin>"),
            Source::Stdout => f.write_str("<stdout>"),
            Source::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A 1-based position in a text table: a line of the file and a column (field) of that line,
/// with the column's header name when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Line of the file (1-based, counting the header line).
    pub line: u64,
    /// Field of the line (1-based).
    pub column: usize,
    /// The header name of that column, if the file has a header.
    pub name: Option<String>,
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        if let Some(name) = &self.name {
            write!(f, " ('{name}')")?;
        }
        Ok(())
    }
}

/// Why an input file could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Standard input, where the command needs what only a file can give.
    #[error("standard input can be read only once, from the start: {needs}")]
    NeedsAFile {
        /// What the command would need to do with it.
        needs: &'static str,
    },
    /// The operating system refused (missing file, permissions, ...).
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    /// A `.npy` file that cannot be read (its own message says why).
    #[error(transparent)]
    Npy(#[from] einmix_npy::NpyError),
    /// The array does not have the number of dimensions this input needs.
    #[error("expected a {expected} array, found shape {found}")]
    WrongShape {
        /// What was expected, e.g. "2-d (samples, features)".
        expected: &'static str,
        /// The shape found, e.g. `(2, 3, 4)`.
        found: String,
    },
    /// A line of a text table has a different number of fields from the first.
    #[error("line {line} has {found} fields, but line {first_line} has {expected}")]
    Ragged {
        /// The offending line (1-based).
        line: u64,
        /// Its number of fields.
        found: usize,
        /// The first line (1-based).
        first_line: u64,
        /// The first line's number of fields.
        expected: usize,
    },
    /// The content is something other than a data table (an image, an archive, a model...).
    #[error("not a data table: it holds {what} (it starts with \"{start}\"); data tables are .npy, .csv or .tsv files")]
    NotATable {
        /// What the first bytes say the file is.
        what: &'static str,
        /// Its first bytes, escaped.
        start: String,
    },
    /// The extension names one format and the content is another.
    #[error("the name says .{extension}, but the file holds {what}")]
    FormatMismatch {
        /// The file's extension.
        extension: String,
        /// What the first bytes say the file is.
        what: &'static str,
    },
    /// A field of a text table is not a number.
    #[error("{cell}: '{value}' is not a number")]
    NotANumber {
        /// Where.
        cell: Cell,
        /// The field's text.
        value: String,
    },
    /// A field is NaN or infinite.
    #[error("{cell}: '{value}' is not finite (NaN and infinity are not allowed)")]
    NotFinite {
        /// Where.
        cell: Cell,
        /// The field's text.
        value: String,
    },
    /// The CSV parser failed (e.g. a line that is not UTF-8 inside quotes).
    #[error("line {line}: {message}")]
    Csv {
        /// Line (1-based).
        line: u64,
        /// The parser's message.
        message: String,
    },
    /// No data rows.
    #[error("holds no data rows")]
    Empty,
    /// `--columns` or `--weight-column` names a column the header does not have.
    #[error("no column named '{name}' (the header has: {available})")]
    UnknownColumn {
        /// The name asked for.
        name: String,
        /// The header's names, comma-separated.
        available: String,
    },
    /// A column given by position is beyond the table.
    #[error("column {position} does not exist: the data has {n_columns} column(s)")]
    NoSuchColumn {
        /// 1-based position asked for.
        position: usize,
        /// Columns the data has.
        n_columns: usize,
    },
    /// A column given by name when the data has no header.
    #[error("column '{name}' is given by name, but the data has no header line (give its 1-based position instead)")]
    NoHeader {
        /// The name asked for.
        name: String,
    },
    /// A sample-weight file does not hold one weight per sample.
    #[error("holds {found} weights, but the data has {expected} samples")]
    WeightCount {
        /// Samples in the data.
        expected: usize,
        /// Weights in the file.
        found: usize,
    },
    /// A model file that is not an einmix model.
    #[error("not a valid einmix model: {0}")]
    Model(#[source] einmix::Error),
}

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

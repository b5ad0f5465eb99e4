//! Why an input could not be read: data, not strings. Each message says what was wrong and,
//! for text tables, where (line, column, the column's name); the caller prefixes the file name.

use std::fmt;
use std::io;

use thiserror::Error;

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
    Npy(#[from] crate::npy::NpyError),
    /// A `.npz` that is not a readable zip archive.
    #[error("not a readable .npz (zip) archive: {message}")]
    Zip {
        /// The zip reader's message.
        message: String,
    },
    /// A member of a `.npz` that is not a readable `.npy` array.
    #[error("array '{member}' of the archive: {source}")]
    NpzMember {
        /// The member's name, without `.npy`.
        member: String,
        /// Why it cannot be read.
        source: crate::npy::NpyError,
    },
    /// A `.npz` whose data array cannot be told from its names.
    #[error(
        "holds the arrays {members}: cannot tell which is the data (name it 'x', as in \
         numpy.savez(path, x=data), or keep one array per file)"
    )]
    NpzWhichArray {
        /// The archive's arrays, comma-separated.
        members: String,
    },
    /// A `.npz` with no array in it.
    #[error("holds no arrays")]
    NpzEmpty,
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
    #[error("not a data table: it holds {what} (it starts with \"{start}\"); data tables are .npy, .npz, .csv or .tsv files")]
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
    /// A value of a binary array (`.npy`, `.npz`) is NaN or infinite.
    #[error("{at} is {value}: NaN and infinity are not allowed")]
    NonFiniteValue {
        /// Where, counting from 0: `row 3, column 1 (from 0)` or `weight 3 (from 0)`.
        at: String,
        /// The value.
        value: f64,
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

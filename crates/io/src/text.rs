//! Delimited text tables (CSV, TSV): an optional header line, then one sample per line.
//!
//! The first line is a header when none of its fields is a number. Lines starting with `#`
//! are comments (NumPy's `savetxt` writes its header that way); blank lines are skipped;
//! fields are trimmed. Every field of the selected columns must be a finite number.

use ndarray::{Array1, Array2};

use crate::columns::{self, Selection, Table};
use crate::error::{Cell, ReadError};

/// Parses `bytes` as a table separated by `delimiter`, keeping the selected columns.
pub fn parse(
    bytes: &[u8],
    delimiter: u8,
    select: &[String],
    weight: Option<&str>,
) -> Result<Table, ReadError> {
    TableReader::new(bytes, delimiter, select, weight)?.next_block(usize::MAX)?.ok_or(ReadError::Empty)
}

/// A table read a block of rows at a time, from any reader (a file, standard input): the same
/// header detection, column selection and checks as [`parse`], in `O(block)` memory.
pub struct TableReader<R: std::io::Read> {
    reader: csv::Reader<R>,
    /// One record, reused for every line: no allocation per row.
    record: csv::ByteRecord,
    /// Whether `record` holds a data line not yet returned.
    pending: bool,
    names: Option<Vec<String>>,
    selection: Selection,
    n_columns: usize,
    first_line: u64,
}

impl<R: std::io::Read> TableReader<R> {
    /// Reads the first line (a header when none of its fields is a number) and resolves the
    /// columns; an input with no line at all is [`ReadError::Empty`].
    pub fn new(source: R, delimiter: u8, select: &[String], weight: Option<&str>) -> Result<Self, ReadError> {
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(source);
        let mut t = TableReader {
            reader,
            record: csv::ByteRecord::new(),
            pending: false,
            names: None,
            selection: Selection { features: Vec::new(), weight: None },
            n_columns: 0,
            first_line: 0,
        };
        if !t.advance()? {
            return Err(ReadError::Empty);
        }
        t.first_line = line_of(&t.record);
        t.n_columns = t.record.len();
        let is_header = t.record.iter().all(|f| number(f).is_none());
        t.names =
            is_header.then(|| t.record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect());
        t.selection = columns::resolve(select, weight, t.names.as_deref(), t.n_columns)?;
        t.pending = !is_header;
        Ok(t)
    }

    /// Reads the next record into `self.record`; false at the end.
    fn advance(&mut self) -> Result<bool, ReadError> {
        self.reader.read_byte_record(&mut self.record).map_err(|e| ReadError::Csv {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })
    }

    /// Up to `max_rows` more rows (at least one), or `None` at the end of the input.
    pub fn next_block(&mut self, max_rows: usize) -> Result<Option<Table>, ReadError> {
        let (mut x, mut w, mut n) = (Vec::new(), Vec::new(), 0);
        let features = self.selection.features.len();
        while n < max_rows && (self.pending || self.advance()?) {
            self.pending = false;
            let r = &self.record;
            let line = line_of(r);
            if r.len() != self.n_columns {
                let (first_line, expected) = (self.first_line, self.n_columns);
                return Err(ReadError::Ragged { line, found: r.len(), first_line, expected });
            }
            let cell = |j: usize| -> Result<f64, ReadError> {
                let field = &r[j];
                let at = || Cell { line, column: j + 1, name: self.names.as_ref().map(|n| n[j].clone()) };
                let text = || escaped(field);
                match number(field) {
                    Some(v) if v.is_finite() => Ok(v),
                    Some(_) => Err(ReadError::NotFinite { cell: at(), value: text() }),
                    None => Err(ReadError::NotANumber { cell: at(), value: text() }),
                }
            };
            for &j in &self.selection.features {
                x.push(cell(j)?);
            }
            if let Some(j) = self.selection.weight {
                w.push(cell(j)?);
            }
            n += 1;
        }
        if n == 0 {
            return Ok(None);
        }
        Ok(Some(Table {
            x: Array2::from_shape_vec((n, features), x).expect("n rows of the selection"),
            weights: self.selection.weight.map(|_| Array1::from(w)),
        }))
    }
}

fn line_of(r: &csv::ByteRecord) -> u64 {
    r.position().map_or(0, |p| p.line())
}

/// The field as a number, if it is one.
fn number(field: &[u8]) -> Option<f64> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// CSV text of a table: a header line, then one line per row; `cell` appends the value at
/// (row, column).
pub fn encode(
    names: &[String],
    rows: usize,
    delimiter: u8,
    cell: impl Fn(&mut String, usize, usize) -> std::fmt::Result,
) -> Vec<u8> {
    let sep = delimiter as char;
    let mut out = String::new();
    out.push_str(&names.join(&sep.to_string()));
    out.push('\n');
    for i in 0..rows {
        for j in 0..names.len() {
            if j > 0 {
                out.push(sep);
            }
            cell(&mut out, i, j).expect("writing to a String cannot fail");
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// Bytes as printable text for an error message: UTF-8 text kept (accents included) with
/// control characters escaped, other bytes as `\xNN`; at most 40 characters (or bytes, when
/// the input is not UTF-8) of the input are shown, then `...`.
pub fn escaped(bytes: &[u8]) -> String {
    const MAX: usize = 40;
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            let mut out: String = s
                .chars()
                .take(MAX)
                .map(|c| match u8::try_from(c) {
                    // ASCII controls as `\n`, `\t`, `\x01`, like the bytes of a non-UTF-8 input.
                    Ok(b) if c.is_control() => b.escape_ascii().to_string(),
                    _ if c.is_control() => c.escape_default().to_string(),
                    _ => c.to_string(),
                })
                .collect();
            if s.chars().nth(MAX).is_some() {
                out.push_str("...");
            }
            out
        }
        Err(_) => {
            let mut out = bytes[..bytes.len().min(MAX)].escape_ascii().to_string();
            if bytes.len() > MAX {
                out.push_str("...");
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_detected() {
        let t = parse(b"x,y\n1,2\n3,4\n", b',', &[], None).unwrap();
        assert_eq!(t.x, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        let t = parse(b"1,2\n3,4\n", b',', &[], None).unwrap();
        assert_eq!(t.x.nrows(), 2);
    }

    #[test]
    fn columns_and_weights_by_name_or_position() {
        let text = b"# made by hand\na\tb\tw\n1\t2\t0.5\n\n3\t4\t1.5\n";
        let t = parse(text, b'\t', &["b".into()], Some("3")).unwrap();
        assert_eq!(t.x, ndarray::array![[2.0], [4.0]]);
        assert_eq!(t.weights.unwrap().to_vec(), vec![0.5, 1.5]);
        let t = parse(text, b'\t', &[], Some("w")).unwrap();
        assert_eq!(t.x.ncols(), 2);
    }

    #[test]
    fn blocks_cover_the_table_in_order() {
        let text = b"x,y\n1,2\n3,4\n5,6\n";
        let mut r = TableReader::new(&text[..], b',', &[], None).unwrap();
        assert_eq!(r.next_block(2).unwrap().unwrap().x, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(r.next_block(2).unwrap().unwrap().x, ndarray::array![[5.0, 6.0]]);
        assert!(r.next_block(2).unwrap().is_none());
    }

    #[test]
    fn errors_say_where() {
        let e = parse(b"x,y\n1,2\n3\n", b',', &[], None).unwrap_err();
        assert_eq!(e.to_string(), "line 3 has 1 fields, but line 1 has 2");
        let e = parse(b"x,y\n1,2\n3,abc\n", b',', &[], None).unwrap_err();
        assert_eq!(e.to_string(), "line 3, column 2 ('y'): 'abc' is not a number");
        let e = parse(b"1,2\nnan,2\n", b',', &[], None).unwrap_err();
        assert!(e.to_string().starts_with("line 2, column 1: 'nan' is not finite"));
        assert!(matches!(parse(b"x,y\n", b',', &[], None), Err(ReadError::Empty)));
    }
}

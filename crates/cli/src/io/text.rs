//! Delimited text tables (CSV, TSV): an optional header line, then one sample per line.
//!
//! The first line is a header when none of its fields is a number. Lines starting with `#`
//! are comments (NumPy's `savetxt` writes its header that way); blank lines are skipped;
//! fields are trimmed. Every field of the selected columns must be a finite number.

use ndarray::{Array1, Array2};

use super::columns::{self, Table};
use crate::error::{Cell, ReadError};

/// Parses `bytes` as a table separated by `delimiter`, keeping the selected columns.
pub fn parse(
    bytes: &[u8],
    delimiter: u8,
    select: &[String],
    weight: Option<&str>,
) -> Result<Table, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(bytes);
    // One record, reused for every line: no allocation per row.
    let mut r = csv::ByteRecord::new();
    let mut next = |r: &mut csv::ByteRecord| -> Result<bool, ReadError> {
        reader.read_byte_record(r).map_err(|e| ReadError::Csv {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })
    };
    if !next(&mut r)? {
        return Err(ReadError::Empty);
    }
    let line_of = |r: &csv::ByteRecord| r.position().map_or(0, |p| p.line());
    let first_line = line_of(&r);
    let n_columns = r.len();
    let is_header = r.iter().all(|f| number(f).is_none());
    let names: Option<Vec<String>> =
        is_header.then(|| r.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect());
    let sel = columns::resolve(select, weight, names.as_deref(), n_columns)?;

    let mut x = Vec::new();
    let mut w = Vec::new();
    let mut n = 0;
    let mut more = if is_header { next(&mut r)? } else { true };
    while more {
        let line = line_of(&r);
        if r.len() != n_columns {
            return Err(ReadError::Ragged { line, found: r.len(), first_line, expected: n_columns });
        }
        let cell = |j: usize| -> Result<f64, ReadError> {
            let field = &r[j];
            let at = || Cell { line, column: j + 1, name: names.as_ref().map(|n| n[j].clone()) };
            let text = || String::from_utf8_lossy(field).into_owned();
            match number(field) {
                Some(v) if v.is_finite() => Ok(v),
                Some(_) => Err(ReadError::NotFinite { cell: at(), value: text() }),
                None => Err(ReadError::NotANumber { cell: at(), value: text() }),
            }
        };
        for &j in &sel.features {
            x.push(cell(j)?);
        }
        if let Some(j) = sel.weight {
            w.push(cell(j)?);
        }
        n += 1;
        more = next(&mut r)?;
    }
    if n == 0 {
        return Err(ReadError::Empty);
    }
    Ok(Table {
        x: Array2::from_shape_vec((n, sel.features.len()), x).expect("n rows of the selection"),
        weights: sel.weight.map(|_| Array1::from(w)),
    })
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

//! The `.npy` header: magic string, version, and the Python-literal dictionary
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (N, D), }`.

use crate::npy::dtype::Dtype;
use crate::npy::NpyError;

pub(crate) const MAGIC: &[u8] = b"\x93NUMPY";

/// Parses the header at the start of `bytes` (which must hold at least the whole header);
/// returns it and the offset of the data.
pub fn header(bytes: &[u8]) -> Result<(Header, usize), NpyError> {
    if !bytes.starts_with(MAGIC) {
        return Err(NpyError::Magic);
    }
    let short = || NpyError::Header { problem: "the file ends inside the header" };
    let (major, minor) = match bytes.get(6..8) {
        Some(v) => (v[0], v[1]),
        None => return Err(short()),
    };
    let (len_bytes, utf8) = match major {
        1 => (2, false),
        2 => (4, false),
        3 => (4, true),
        _ => return Err(NpyError::Version { major, minor }),
    };
    let len_field = bytes.get(8..8 + len_bytes).ok_or_else(short)?;
    let header_len = len_field.iter().rev().fold(0usize, |acc, &b| (acc << 8) | b as usize);
    let start = 8 + len_bytes;
    let header = bytes.get(start..start + header_len).ok_or_else(short)?;
    let header: String = if utf8 {
        String::from_utf8(header.to_vec())
            .map_err(|_| NpyError::Header { problem: "the header is not UTF-8" })?
    } else {
        // Latin-1: every byte is the code point of the same value.
        header.iter().map(|&b| b as char).collect()
    };
    Ok((Header::parse(&header)?, start + header_len))
}

/// The three fields of a `.npy` header, the element type checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The `descr` text, e.g. `<f8`.
    pub descr: String,
    /// The element type `descr` names.
    pub dtype: Dtype,
    /// Whether the data is in Fortran (column-major) order.
    pub fortran_order: bool,
    /// The array's shape.
    pub shape: Vec<usize>,
}

impl Header {
    /// Elements in the array (the product of the shape), or an error if it overflows.
    pub fn element_count(&self) -> Result<usize, NpyError> {
        self.shape
            .iter()
            .try_fold(1usize, |acc, &n| acc.checked_mul(n))
            .ok_or(NpyError::Header { problem: "the shape is too large" })
    }

    /// Bytes of data the shape needs.
    pub fn data_bytes(&self) -> Result<u64, NpyError> {
        let n = self.element_count()? as u64;
        n.checked_mul(self.dtype.size() as u64).ok_or(NpyError::Header { problem: "the shape is too large" })
    }

    /// Checks that `found` bytes of data are exactly what the shape needs.
    pub fn check_data_len(&self, found: u64) -> Result<(), NpyError> {
        let expected = self.data_bytes()?;
        let shape = crate::npy::shape_text(&self.shape);
        match found.cmp(&expected) {
            std::cmp::Ordering::Less => Err(NpyError::Truncated { shape, expected, found }),
            std::cmp::Ordering::Greater => Err(NpyError::Trailing { shape, extra: found - expected }),
            std::cmp::Ordering::Equal => Ok(()),
        }
    }
}

/// The subset of Python literals a `.npy` header uses.
#[derive(Debug, PartialEq)]
enum Literal {
    Str(String),
    Bool(bool),
    Int(usize),
    Tuple(Vec<Literal>),
    List(Vec<Literal>),
    Dict(Vec<(String, Literal)>),
}

/// Python's spelling of a literal, for a `descr` that is not a string (a record dtype).
impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let join = |f: &mut std::fmt::Formatter<'_>, items: &[Literal]| -> std::fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{item}")?;
            }
            Ok(())
        };
        match self {
            Literal::Str(s) => write!(f, "'{s}'"),
            Literal::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Tuple(items) => {
                f.write_str("(")?;
                join(f, items)?;
                f.write_str(if items.len() == 1 { ",)" } else { ")" })
            }
            Literal::List(items) => {
                f.write_str("[")?;
                join(f, items)?;
                f.write_str("]")
            }
            Literal::Dict(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "'{k}': {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl Header {
    fn parse(text: &str) -> Result<Header, NpyError> {
        let bad = |problem| NpyError::Header { problem };
        let mut p = LiteralParser { s: text.as_bytes(), i: 0 };
        let Literal::Dict(entries) = p.value()? else {
            return Err(bad("it is not a dictionary"));
        };
        p.skip_space();
        if p.i != p.s.len() {
            return Err(bad("text follows the dictionary"));
        }
        let (mut descr, mut fortran_order, mut shape) = (None, None, None);
        for (key, value) in entries {
            match (key.as_str(), value) {
                ("descr", Literal::Str(s)) => descr = Some(s),
                ("descr", other) => descr = Some(other.to_string()),
                ("fortran_order", Literal::Bool(b)) => fortran_order = Some(b),
                ("shape", Literal::Tuple(items)) => {
                    let dims: Option<Vec<usize>> = items
                        .into_iter()
                        .map(|d| match d {
                            Literal::Int(n) => Some(n),
                            _ => None,
                        })
                        .collect();
                    shape = Some(dims.ok_or_else(|| bad("'shape' is not a tuple of integers"))?);
                }
                ("fortran_order", _) => return Err(bad("'fortran_order' is not True or False")),
                ("shape", _) => return Err(bad("'shape' is not a tuple")),
                _ => {}
            }
        }
        let descr = descr.ok_or_else(|| bad("it has no 'descr'"))?;
        Ok(Header {
            dtype: Dtype::parse(&descr)?,
            descr,
            fortran_order: fortran_order.ok_or_else(|| bad("it has no 'fortran_order'"))?,
            shape: shape.ok_or_else(|| bad("it has no 'shape'"))?,
        })
    }
}

struct LiteralParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl LiteralParser<'_> {
    fn bad(problem: &'static str) -> NpyError {
        NpyError::Header { problem }
    }

    fn skip_space(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), NpyError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Self::bad("unexpected character in the dictionary"))
        }
    }

    /// Items up to `close`, with Python's optional trailing comma.
    fn sequence<T>(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<T, NpyError>,
    ) -> Result<Vec<T>, NpyError> {
        let mut out = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok(out);
            }
            out.push(item(self)?);
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {}
                _ => return Err(Self::bad("a list, tuple or dictionary is not closed")),
            }
        }
    }

    fn value(&mut self) -> Result<Literal, NpyError> {
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let entries = self.sequence(b'}', |p| {
                    let Literal::Str(key) = p.value()? else {
                        return Err(Self::bad("a dictionary key is not a string"));
                    };
                    p.expect(b':')?;
                    Ok((key, p.value()?))
                })?;
                Ok(Literal::Dict(entries))
            }
            Some(b'(') => {
                self.i += 1;
                Ok(Literal::Tuple(self.sequence(b')', Self::value)?))
            }
            Some(b'[') => {
                self.i += 1;
                Ok(Literal::List(self.sequence(b']', Self::value)?))
            }
            Some(q @ (b'\'' | b'"')) => {
                let start = self.i + 1;
                let len = self.s[start..]
                    .iter()
                    .position(|&c| c == q)
                    .ok_or_else(|| Self::bad("a string is not closed"))?;
                self.i = start + len + 1;
                Ok(Literal::Str(String::from_utf8_lossy(&self.s[start..start + len]).into_owned()))
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                let n = std::str::from_utf8(&self.s[start..self.i])
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| Self::bad("a dimension is too large"))?;
                // Python 2 wrote long integers as `3L`.
                if self.s.get(self.i) == Some(&b'L') {
                    self.i += 1;
                }
                Ok(Literal::Int(n))
            }
            Some(b'T') if self.s[self.i..].starts_with(b"True") => {
                self.i += 4;
                Ok(Literal::Bool(true))
            }
            Some(b'F') if self.s[self.i..].starts_with(b"False") => {
                self.i += 5;
                Ok(Literal::Bool(false))
            }
            None => Err(Self::bad("the header ends before the dictionary is closed")),
            _ => Err(Self::bad("unexpected character in the dictionary")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_python2_and_odd_spacing() {
        let h = Header::parse("{ \"shape\" : ( 4L , ) ,'fortran_order':False,'descr':'<f8'}").unwrap();
        assert_eq!(h.shape, vec![4]);
        assert_eq!(h.descr, "<f8");
    }

    #[test]
    fn a_record_dtype_is_named_as_python_writes_it() {
        let e = Header::parse(
            "{'descr': [('a', '<f8'), ('b', '<i4', (2,))], 'fortran_order': False, 'shape': (2,), }",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("unsupported dtype '[('a', '<f8'), ('b', '<i4', (2,))]'"), "{e}");
    }
}

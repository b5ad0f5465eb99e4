//! NumPy's `.npy` format: read float64/float32 arrays (C or Fortran order, either byte order),
//! write float64 and int64 arrays.
//!
//! ```text
//! \x93NUMPY  major minor  header_len (u16 LE in 1.0; u32 LE in 2.0 and 3.0)
//! {'descr': '<f8', 'fortran_order': False, 'shape': (N, D), }   padded with spaces, ends in \n
//! data: prod(shape) items
//! ```
//! (<https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>). Written here
//! rather than taken from `ndarray-npy`, whose header parser pulls in `py_literal` and `pest`;
//! a reader of our own also converts float32 to float64 and says exactly how a file is broken.

use crate::error::ReadError;

const MAGIC: &[u8] = b"\x93NUMPY";

/// A float array read from a `.npy` file, in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

/// Whether `bytes` start like a `.npy` file.
pub fn is_npy(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// `(2, 3)`-style text for a shape, as NumPy prints it.
pub fn shape_text(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// Parses a whole `.npy` file.
pub fn parse(bytes: &[u8]) -> Result<NpyArray, ReadError> {
    let (h, start) = header(bytes)?;
    decode(&h, &bytes[start..])
}

/// Parses the header at the start of `bytes` (which must hold at least the whole header);
/// returns it and the offset of the data.
pub fn header(bytes: &[u8]) -> Result<(Header, usize), ReadError> {
    if !is_npy(bytes) {
        return Err(ReadError::NpyMagic);
    }
    let short = || ReadError::NpyHeader { problem: "the file ends inside the header" };
    let (major, minor) = match bytes.get(6..8) {
        Some(v) => (v[0], v[1]),
        None => return Err(short()),
    };
    let (len_bytes, utf8) = match major {
        1 => (2, false),
        2 => (4, false),
        3 => (4, true),
        _ => return Err(ReadError::NpyVersion { major, minor }),
    };
    let len_field = bytes.get(8..8 + len_bytes).ok_or_else(short)?;
    let header_len = len_field.iter().rev().fold(0usize, |acc, &b| (acc << 8) | b as usize);
    let start = 8 + len_bytes;
    let header = bytes.get(start..start + header_len).ok_or_else(short)?;
    let header: String = if utf8 {
        String::from_utf8(header.to_vec())
            .map_err(|_| ReadError::NpyHeader { problem: "the header is not UTF-8" })?
    } else {
        // Latin-1: every byte is the code point of the same value.
        header.iter().map(|&b| b as char).collect()
    };
    Ok((Header::parse(&header)?, start + header_len))
}

/// The three fields of a `.npy` header.
#[derive(Debug, PartialEq)]
pub struct Header {
    pub descr: String,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
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

impl Header {
    fn parse(text: &str) -> Result<Header, ReadError> {
        let bad = |problem| ReadError::NpyHeader { problem };
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
                ("descr", other) => descr = Some(format!("{other:?}")),
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
        Ok(Header {
            descr: descr.ok_or_else(|| bad("it has no 'descr'"))?,
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
    fn bad(problem: &'static str) -> ReadError {
        ReadError::NpyHeader { problem }
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

    fn expect(&mut self, c: u8) -> Result<(), ReadError> {
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
        mut item: impl FnMut(&mut Self) -> Result<T, ReadError>,
    ) -> Result<Vec<T>, ReadError> {
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

    fn value(&mut self) -> Result<Literal, ReadError> {
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
            _ => Err(Self::bad("unexpected character in the dictionary")),
        }
    }
}

/// The data section, converted to f64 in C order.
fn decode(h: &Header, payload: &[u8]) -> Result<NpyArray, ReadError> {
    let dtype = || ReadError::NpyDtype { descr: h.descr.clone() };
    let d = h.descr.as_bytes();
    if d.len() != 3 || d[1] != b'f' {
        return Err(dtype());
    }
    let little = match d[0] {
        b'<' => true,
        b'>' => false,
        b'=' | b'|' => cfg!(target_endian = "little"),
        _ => return Err(dtype()),
    };
    let size = match d[2] {
        b'8' => 8,
        b'4' => 4,
        _ => return Err(dtype()),
    };
    let count = h
        .shape
        .iter()
        .try_fold(1usize, |acc, &n| acc.checked_mul(n))
        .ok_or(ReadError::NpyHeader { problem: "the shape is too large" })?;
    let expected = count as u64 * size as u64;
    let found = payload.len() as u64;
    if found < expected {
        return Err(ReadError::NpyTruncated { shape: shape_text(&h.shape), expected, found });
    }
    if found > expected {
        return Err(ReadError::NpyTrailing { shape: shape_text(&h.shape), extra: found - expected });
    }
    let values = payload.chunks_exact(size).map(|b| match (size, little) {
        (8, true) => f64::from_le_bytes(b.try_into().expect("8 bytes")),
        (8, false) => f64::from_be_bytes(b.try_into().expect("8 bytes")),
        (_, true) => f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64,
        (_, false) => f32::from_be_bytes(b.try_into().expect("4 bytes")) as f64,
    });
    let data: Vec<f64> = if h.fortran_order && h.shape.len() > 1 {
        let column_major: Vec<f64> = values.collect();
        let mut out = vec![0.0; count];
        // Fortran order: the first index varies fastest. Walk C order, computing the
        // Fortran offset of each multi-index.
        let mut index = vec![0usize; h.shape.len()];
        for v in out.iter_mut() {
            let mut offset = 0;
            for (axis, &i) in index.iter().enumerate().rev() {
                offset = offset * h.shape[axis] + i;
            }
            *v = column_major[offset];
            for axis in (0..index.len()).rev() {
                index[axis] += 1;
                if index[axis] < h.shape[axis] {
                    break;
                }
                index[axis] = 0;
            }
        }
        out
    } else {
        values.collect()
    };
    Ok(NpyArray { shape: h.shape.clone(), data })
}

/// The element types this writer produces.
pub enum Elements<'a> {
    F64(&'a [f64]),
    I64(&'a [i64]),
}

/// A version 1.0 `.npy` file in C order.
pub fn encode(shape: &[usize], elements: Elements<'_>) -> Vec<u8> {
    let descr = match elements {
        Elements::F64(_) => "<f8",
        Elements::I64(_) => "<i8",
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {}, }}", shape_text(shape));
    // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + shape.iter().product::<usize>() * 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    match elements {
        Elements::F64(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Elements::I64(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, payload: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn round_trips_f64() {
        let data = [1.0, 2.5, -3.0, 4.0, 5.0, 6.0];
        let bytes = encode(&[3, 2], Elements::F64(&data));
        assert_eq!((bytes.len() - data.len() * 8) % 64, 0);
        let a = parse(&bytes).unwrap();
        assert_eq!(a.shape, vec![3, 2]);
        assert_eq!(a.data, data);
    }

    #[test]
    fn reads_fortran_order_float32_big_endian() {
        // [[1, 2, 3], [4, 5, 6]] stored column by column.
        let payload: Vec<u8> =
            [1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0].iter().flat_map(|v| v.to_be_bytes()).collect();
        let a =
            parse(&file("{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }\n", &payload)).unwrap();
        assert_eq!(a.data, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn parses_python2_and_odd_spacing() {
        let h = Header::parse("{ \"shape\" : ( 4L , ) ,'fortran_order':False,'descr':'<f8'}").unwrap();
        assert_eq!(h.shape, vec![4]);
        assert_eq!(h.descr, "<f8");
    }

    #[test]
    fn reports_what_is_wrong() {
        let h = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }\n";
        assert!(matches!(
            parse(&file(h, &[0; 24])),
            Err(ReadError::NpyTruncated { expected: 32, found: 24, .. })
        ));
        assert!(matches!(parse(&file(h, &[0; 40])), Err(ReadError::NpyTrailing { extra: 8, .. })));
        let ints = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n";
        assert!(matches!(parse(&file(ints, &[0; 16])), Err(ReadError::NpyDtype { .. })));
        assert!(matches!(parse(b"hello"), Err(ReadError::NpyMagic)));
        assert!(matches!(parse(MAGIC), Err(ReadError::NpyHeader { .. })));
        assert!(matches!(
            parse(&file("{'descr': '<f8', 'shape': (2,", &[])),
            Err(ReadError::NpyHeader { .. })
        ));
    }
}

//! Element types: every numeric `descr` NumPy writes for a plain array (bool, signed and
//! unsigned integers of 1 to 8 bytes, float16/32/64, either byte order), and their conversion
//! to f64 or f32 as `ndarray.astype` does it (integers and floats rounded to nearest, bool to
//! 0 or 1).

use crate::npy::NpyError;

/// The family of an element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `b1`: NumPy's bool, one byte, 0 or 1.
    Bool,
    /// `i1`, `i2`, `i4`, `i8`.
    Signed,
    /// `u1`, `u2`, `u4`, `u8`.
    Unsigned,
    /// `f2`, `f4`, `f8`.
    Float,
}

/// An element type: its family, its size in bytes and its byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dtype {
    /// The family.
    pub kind: Kind,
    size: usize,
    little_endian: bool,
}

/// What an array is converted to: f64 or f32.
pub trait Target: Copy + Default {
    /// From a float64 (rounded to nearest for f32).
    fn from_f64(v: f64) -> Self;
    /// From a float32 (exact for f64).
    fn from_f32(v: f32) -> Self;
    /// From a signed integer (rounded to nearest, as NumPy does).
    fn from_i64(v: i64) -> Self;
    /// From an unsigned integer (rounded to nearest).
    fn from_u64(v: u64) -> Self;
}

impl Target for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
    fn from_f32(v: f32) -> Self {
        v as f64
    }
    fn from_i64(v: i64) -> Self {
        v as f64
    }
    fn from_u64(v: u64) -> Self {
        v as f64
    }
}

impl Target for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn from_f32(v: f32) -> Self {
        v
    }
    fn from_i64(v: i64) -> Self {
        v as f32
    }
    fn from_u64(v: u64) -> Self {
        v as f32
    }
}

impl Dtype {
    /// The element type a header's `descr` names: `<f8`, `>i4`, `|u1`, `|b1`, `=f2`, ...
    pub fn parse(descr: &str) -> Result<Dtype, NpyError> {
        let unsupported = || NpyError::Dtype { descr: descr.to_string() };
        let b = descr.as_bytes();
        if b.len() != 3 {
            return Err(unsupported());
        }
        let little_endian = match b[0] {
            b'<' => true,
            b'>' => false,
            b'=' | b'|' => cfg!(target_endian = "little"),
            _ => return Err(unsupported()),
        };
        let (kind, size) = match (b[1], b[2]) {
            (b'b', b'1') => (Kind::Bool, 1),
            (b'i', s @ (b'1' | b'2' | b'4' | b'8')) => (Kind::Signed, (s - b'0') as usize),
            (b'u', s @ (b'1' | b'2' | b'4' | b'8')) => (Kind::Unsigned, (s - b'0') as usize),
            (b'f', s @ (b'2' | b'4' | b'8')) => (Kind::Float, (s - b'0') as usize),
            _ => return Err(unsupported()),
        };
        Ok(Dtype { kind, size, little_endian })
    }

    /// Bytes per element.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Converts `bytes` (whole elements) into `out`, one value per element.
    pub fn decode<T: Target>(&self, bytes: &[u8], out: &mut [T]) {
        for (v, raw) in out.iter_mut().zip(bytes.chunks_exact(self.size)) {
            // Little-endian in the low bytes of a u64, whatever the file's order.
            let mut b = [0u8; 8];
            b[..self.size].copy_from_slice(raw);
            if !self.little_endian {
                b[..self.size].reverse();
            }
            let bits = u64::from_le_bytes(b);
            *v = match (self.kind, self.size) {
                (Kind::Bool, _) => T::from_u64((bits != 0) as u64),
                (Kind::Unsigned, _) => T::from_u64(bits),
                (Kind::Signed, s) => {
                    // Sign-extend from `s` bytes.
                    let shift = 64 - 8 * s as u32;
                    T::from_i64(((bits << shift) as i64) >> shift)
                }
                (Kind::Float, 2) => T::from_f32(half_to_f32(bits as u16)),
                (Kind::Float, 4) => T::from_f32(f32::from_bits(bits as u32)),
                (Kind::Float, _) => T::from_f64(f64::from_bits(bits)),
            };
        }
    }
}

/// IEEE binary16 to f32, exactly (every half value is an f32). By hand: a dozen lines do
/// not justify a dependency (the `half` crate) in a reader.
fn half_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exponent = ((h >> 10) & 0x1f) as u32;
    let mantissa = (h & 0x3ff) as u32;
    let magnitude = match exponent {
        // Zero and subnormals: mantissa * 2^-24, exact in f32.
        0 => (mantissa as f32 * 2f32.powi(-24)).to_bits(),
        // Infinity and NaN (the payload kept).
        0x1f => 0x7f80_0000 | (mantissa << 13),
        _ => ((exponent + 127 - 15) << 23) | (mantissa << 13),
    };
    f32::from_bits(sign | magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats_convert_exactly() {
        for (bits, value) in
            [(0x3c00u16, 1.0f32), (0xc000, -2.0), (0x0001, 2f32.powi(-24)), (0x7bff, 65504.0)]
        {
            assert_eq!(half_to_f32(bits), value, "{bits:#x}");
        }
        assert!(half_to_f32(0x7c00).is_infinite() && half_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn integers_sign_extend_and_bools_are_zero_or_one() {
        let i2 = Dtype::parse(">i2").unwrap();
        let mut out = [0.0f64; 2];
        i2.decode(&[0xff, 0xfe, 0x01, 0x00], &mut out);
        assert_eq!(out, [-2.0, 256.0]);
        let b1 = Dtype::parse("|b1").unwrap();
        b1.decode(&[0, 7], &mut out);
        assert_eq!(out, [0.0, 1.0]);
        let u8_ = Dtype::parse("<u8").unwrap();
        let mut one = [0.0f32];
        u8_.decode(&u64::MAX.to_le_bytes(), &mut one);
        assert_eq!(one, [u64::MAX as f32]);
    }

    #[test]
    fn complex_strings_and_objects_are_refused() {
        for descr in ["<c16", "<U4", "|O", "<M8", "|S3", "<f16", "f8"] {
            assert!(matches!(Dtype::parse(descr), Err(NpyError::Dtype { .. })), "{descr}");
        }
    }
}

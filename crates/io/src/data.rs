//! A data file to a table of samples: the one entry point behind the CLI's data and weight
//! arguments and Python's `einmix.read_data`.

use std::path::Path;

use ndarray::{Array1, Array2};

use crate::columns::{self, Table};
use crate::error::ReadError;
use crate::format::{input_format, InputFormat};
use crate::npy;
use crate::npz::Npz;
use crate::text;

/// Reads the data table in `bytes` (from a file named `name`; `None` for standard input):
/// features of shape (samples, features) and, with `weight`, a weight per sample.
///
/// `select` chooses feature columns by header name or 1-based position (empty: every column
/// but the weight column); `weight` names the weight column the same way, or, in a `.npz`,
/// an array of one weight per sample. A `.npz`'s data is its array `x` (or `X`), or its only
/// array besides the weights.
///
/// ```
/// let t = einmix_io::read_data(None, b"a,b,w\n1,2,0.5\n3,4,1.5\n", &[], Some("w")).unwrap();
/// assert_eq!(t.x, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
/// assert_eq!(t.weights.unwrap().to_vec(), [0.5, 1.5]);
/// ```
pub fn read_data(
    name: Option<&Path>,
    bytes: &[u8],
    select: &[String],
    weight: Option<&str>,
) -> Result<Table, ReadError> {
    match input_format(name, bytes)? {
        InputFormat::Npy => matrix(npy::read::<f64>(bytes)?, select, weight),
        InputFormat::Npz => npz_table(bytes, select, weight),
        InputFormat::Text(delimiter) => text::parse(bytes, delimiter, select, weight),
    }
}

/// [`read_data`] of the file at `path`.
pub fn read_data_file(path: &Path, select: &[String], weight: Option<&str>) -> Result<Table, ReadError> {
    let bytes = std::fs::read(path)?;
    read_data(Some(path), &bytes, select, weight)
}

/// A `.npy` array as a table: it must be 2-d with at least one row.
fn matrix(a: npy::Array<f64>, select: &[String], weight: Option<&str>) -> Result<Table, ReadError> {
    let [n, d] = a.shape[..] else {
        return Err(ReadError::WrongShape {
            expected: "2-d (samples, features)",
            found: npy::shape_text(&a.shape),
        });
    };
    if n == 0 {
        return Err(ReadError::Empty);
    }
    // Refused here, as a text table's NaN is, so every format gives the same answer.
    if let Some(i) = a.data.iter().position(|v| !v.is_finite()) {
        let at = format!("row {}, column {} (from 0)", i / d, i % d);
        return Err(ReadError::NonFiniteValue { at, value: a.data[i] });
    }
    let x = Array2::from_shape_vec((n, d), a.data).map_err(|_| ReadError::Empty)?;
    columns::select_matrix(x, select, weight)
}

fn npz_table(bytes: &[u8], select: &[String], weight: Option<&str>) -> Result<Table, ReadError> {
    let mut archive = Npz::new(bytes)?;
    let names = archive.names();
    // A weight named after an array of the archive is that array; otherwise it is a column.
    let weight_array = weight.filter(|w| names.iter().any(|n| n == w));
    let data_name =
        ["x", "X"].into_iter().find(|c| names.iter().any(|n| n == c)).map(str::to_string).or_else(|| {
            let rest: Vec<&String> = names.iter().filter(|n| Some(n.as_str()) != weight_array).collect();
            (rest.len() == 1).then(|| rest[0].clone())
        });
    let Some(data_name) = data_name else {
        return Err(if names.is_empty() {
            ReadError::NpzEmpty
        } else {
            ReadError::NpzWhichArray { members: names.join(", ") }
        });
    };
    let x = archive.array::<f64>(&data_name)?.ok_or(ReadError::NpzEmpty)?;
    let Some(w_name) = weight_array else {
        return matrix(x, select, weight);
    };
    let mut table = matrix(x, select, None)?;
    let w = archive.array::<f64>(w_name)?.ok_or(ReadError::NpzEmpty)?;
    table.weights = Some(weight_vector(w, table.x.nrows())?);
    Ok(table)
}

/// Reads per-sample weights: a `.npy` of shape (n,) or (n, 1), a `.npz` holding one such
/// array, or a one-column text table; `n_samples` of them.
pub fn read_weights(name: Option<&Path>, bytes: &[u8], n_samples: usize) -> Result<Array1<f64>, ReadError> {
    let a = match input_format(name, bytes)? {
        InputFormat::Npy => npy::read::<f64>(bytes)?,
        InputFormat::Npz => {
            let mut archive = Npz::new(bytes)?;
            match &archive.names()[..] {
                [only] => {
                    let only = only.clone();
                    archive.array::<f64>(&only)?.ok_or(ReadError::NpzEmpty)?
                }
                [] => return Err(ReadError::NpzEmpty),
                many => return Err(ReadError::NpzWhichArray { members: many.join(", ") }),
            }
        }
        InputFormat::Text(delimiter) => {
            let t = text::parse(bytes, delimiter, &[], None)?;
            npy::Array { shape: vec![t.x.nrows(), t.x.ncols()], data: t.x.into_iter().collect() }
        }
    };
    weight_vector(a, n_samples)
}

fn weight_vector(a: npy::Array<f64>, n_samples: usize) -> Result<Array1<f64>, ReadError> {
    if let Some(i) = a.data.iter().position(|v| !v.is_finite()) {
        return Err(ReadError::NonFiniteValue { at: format!("weight {i} (from 0)"), value: a.data[i] });
    }
    match a.shape[..] {
        [n] | [n, 1] if n == n_samples => Ok(Array1::from(a.data)),
        [n] | [n, 1] => Err(ReadError::WeightCount { expected: n_samples, found: n }),
        _ => Err(ReadError::WrongShape { expected: "one-column", found: npy::shape_text(&a.shape) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npz::archive;

    fn npz(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        archive(&members.iter().map(|(n, b)| (n.to_string(), b.clone())).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn npz_data_is_x_or_the_only_array_and_weights_are_an_array_by_name() {
        let x = npy::f64_bytes(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let w = npy::f64_bytes(&[2], &[0.5, 2.0]);
        let path = Path::new("d.npz");
        let t = read_data(Some(path), &npz(&[("x", x.clone()), ("w", w.clone())]), &[], Some("w")).unwrap();
        assert_eq!(t.x, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(t.weights.unwrap().to_vec(), [0.5, 2.0]);
        let t =
            read_data(Some(path), &npz(&[("points", x.clone()), ("w", w.clone())]), &[], Some("w")).unwrap();
        assert_eq!(t.x.nrows(), 2);
        let t = read_data(Some(path), &npz(&[("points", x.clone())]), &["2".into()], Some("1")).unwrap();
        assert_eq!(t.x, ndarray::array![[2.0], [4.0]]);
        assert_eq!(t.weights.unwrap().to_vec(), [1.0, 3.0]);
        let e = read_data(Some(path), &npz(&[("a", x.clone()), ("b", x)]), &[], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "holds the arrays a, b: cannot tell which is the data (name it 'x', as in \
             numpy.savez(path, x=data), or keep one array per file)"
        );
        let e = read_data(
            Some(path),
            &npz(&[("x", npy::f64_bytes(&[2, 2], &[1.0; 4])), ("w", w)]),
            &[],
            Some("w"),
        )
        .map(|t| t.weights);
        assert!(e.is_ok());
        assert!(matches!(read_data(Some(path), &npz(&[]), &[], None), Err(ReadError::NpzEmpty)));
    }

    #[test]
    fn weights_from_every_format() {
        let n = Some(Path::new("w.npy"));
        assert_eq!(read_weights(n, &npy::f64_bytes(&[2, 1], &[1.0, 2.0]), 2).unwrap().to_vec(), [1.0, 2.0]);
        let e = read_weights(n, &npy::f64_bytes(&[3], &[1.0; 3]), 2).unwrap_err();
        assert_eq!(e.to_string(), "holds 3 weights, but the data has 2 samples");
        let e = read_weights(n, &npy::f64_bytes(&[2], &[1.0, f64::NAN]), 2).unwrap_err();
        assert_eq!(e.to_string(), "weight 1 (from 0) is NaN: NaN and infinity are not allowed");
        let e = read_data(n, &npy::f64_bytes(&[2, 2], &[1.0, 2.0, 3.0, f64::NEG_INFINITY]), &[], None)
            .unwrap_err();
        assert_eq!(e.to_string(), "row 1, column 1 (from 0) is -inf: NaN and infinity are not allowed");
        let e = read_weights(n, &npy::f64_bytes(&[2, 2], &[1.0; 4]), 2).unwrap_err();
        assert_eq!(e.to_string(), "expected a one-column array, found shape (2, 2)");
        assert_eq!(read_weights(None, b"w\n1\n3\n", 2).unwrap().to_vec(), [1.0, 3.0]);
        let z = npz(&[("w", npy::f64_bytes(&[2], &[4.0, 5.0]))]);
        assert_eq!(read_weights(Some(Path::new("w.npz")), &z, 2).unwrap().to_vec(), [4.0, 5.0]);
    }
}

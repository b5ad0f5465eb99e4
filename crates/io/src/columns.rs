//! Choosing the feature and weight columns of a table, by header name or 1-based position.

use ndarray::{Array1, Array2};

use crate::error::ReadError;

/// The columns read from a data file: features, and per-sample weights if a column holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Shape (samples, features).
    pub x: Array2<f64>,
    /// From `--weight-column`, one per sample.
    pub weights: Option<Array1<f64>>,
}

/// 0-based indices of the chosen columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The feature columns, in the order asked for.
    pub features: Vec<usize>,
    /// The weight column, if any.
    pub weight: Option<usize>,
}

/// Resolves `--columns` (empty: all) and `--weight-column` against a table of `n_columns`
/// columns with optional header `names`. Without `--columns`, every column but the weight
/// column is a feature.
pub fn resolve(
    select: &[String],
    weight: Option<&str>,
    names: Option<&[String]>,
    n_columns: usize,
) -> Result<Selection, ReadError> {
    let find = |spec: &str| -> Result<usize, ReadError> {
        let spec = spec.trim();
        if let Some(j) = names.and_then(|n| n.iter().position(|name| name == spec)) {
            return Ok(j);
        }
        match spec.parse::<usize>() {
            Ok(position) if (1..=n_columns).contains(&position) => Ok(position - 1),
            Ok(position) => Err(ReadError::NoSuchColumn { position, n_columns }),
            Err(_) => match names {
                Some(n) => Err(ReadError::UnknownColumn { name: spec.to_string(), available: n.join(", ") }),
                None => Err(ReadError::NoHeader { name: spec.to_string() }),
            },
        }
    };
    let weight = weight.map(find).transpose()?;
    let features = if select.is_empty() {
        (0..n_columns).filter(|&j| Some(j) != weight).collect()
    } else {
        select.iter().map(|s| find(s)).collect::<Result<_, _>>()?
    };
    Ok(Selection { features, weight })
}

/// Applies a selection to a matrix read whole (a `.npy` file).
pub fn select_matrix(x: Array2<f64>, select: &[String], weight: Option<&str>) -> Result<Table, ReadError> {
    if select.is_empty() && weight.is_none() {
        return Ok(Table { x, weights: None });
    }
    let sel = resolve(select, weight, None, x.ncols())?;
    Ok(Table {
        x: x.select(ndarray::Axis(1), &sel.features),
        weights: sel.weight.map(|j| x.column(j).to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_and_positions() {
        let names: Vec<String> = ["a", "b", "w"].iter().map(|s| s.to_string()).collect();
        let s = resolve(&[], Some("w"), Some(&names), 3).unwrap();
        assert_eq!(s.features, vec![0, 1]);
        assert_eq!(s.weight, Some(2));
        let s = resolve(&["3".into(), "a".into()], None, Some(&names), 3).unwrap();
        assert_eq!(s.features, vec![2, 0]);
        assert!(matches!(
            resolve(&["c".into()], None, Some(&names), 3),
            Err(ReadError::UnknownColumn { .. })
        ));
        assert!(matches!(
            resolve(&["4".into()], None, None, 3),
            Err(ReadError::NoSuchColumn { position: 4, .. })
        ));
        assert!(matches!(resolve(&["a".into()], None, None, 3), Err(ReadError::NoHeader { .. })));
    }
}

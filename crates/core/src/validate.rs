//! Input checks shared by fitting and scoring: each failure becomes a structured [`Error`].

use ndarray::{ArrayView1, ArrayView2};

use crate::chunks::Element;
use crate::error::{Error, Input, Result};

/// The checks every fit makes of its data: finite, non-empty, weights one per row and valid,
/// and (when `k` is given, a cold start) at least `k` rows of positive weight.
pub(crate) fn fit_input<T: Element>(
    x: ArrayView2<T>,
    sample_weight: Option<ArrayView1<f64>>,
    k: Option<usize>,
) -> Result<()> {
    // A fit needs two rows, as scikit-learn's (`ensure_min_samples=2`).
    data_with_min(x, 2)?;
    let n = x.nrows();
    let effective = match sample_weight {
        Some(w) => self::sample_weight(w, n)?,
        None => n,
    };
    match k {
        Some(k) if effective < k => Err(Error::TooFewSamples { n_samples: effective, n_components: k }),
        _ => Ok(()),
    }
}

/// `(2, 3)`-style text for a shape.
pub(crate) fn shape_text(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

fn non_finite(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else {
        "infinity"
    }
}

/// Every value finite; the first offending one is reported with its position.
pub(crate) fn finite_2d<T: Element>(x: ArrayView2<T>, input: Input) -> Result<()> {
    for (row, r) in x.outer_iter().enumerate() {
        for (column, &v) in r.iter().enumerate() {
            let v: f64 = v.into();
            if !v.is_finite() {
                return Err(Error::NonFinite { input, what: non_finite(v), row, column });
            }
        }
    }
    Ok(())
}

/// The data matrix: at least one row and one column, all finite.
pub(crate) fn data<T: Element>(x: ArrayView2<T>) -> Result<()> {
    data_with_min(x, 1)
}

/// The data matrix: at least `min_samples` rows and one column, all finite.
fn data_with_min<T: Element>(x: ArrayView2<T>, min_samples: usize) -> Result<()> {
    let (n, d) = x.dim();
    if n < min_samples || d == 0 {
        return Err(Error::EmptyData { n_samples: n, n_features: d, min_samples });
    }
    finite_2d(x, Input::X)
}

/// Sample weights: one per row, finite, non-negative, not all zero. Returns how many are positive.
pub(crate) fn sample_weight(w: ArrayView1<f64>, n: usize) -> Result<usize> {
    if w.len() != n {
        return Err(Error::WrongShape {
            input: Input::SampleWeight,
            expected: shape_text(&[n]),
            found: shape_text(&[w.len()]),
        });
    }
    for (row, &v) in w.iter().enumerate() {
        if !v.is_finite() {
            return Err(Error::NonFinite { input: Input::SampleWeight, what: non_finite(v), row, column: 0 });
        }
        if v < 0.0 {
            return Err(Error::NegativeWeight { row, value: v });
        }
    }
    let positive = w.iter().filter(|&&v| v > 0.0).count();
    if positive == 0 {
        return Err(Error::ZeroWeights { n_samples: n });
    }
    Ok(positive)
}

/// `weights_init`: shape `(K,)`, finite, in `[0, 1]`, summing to 1.
pub(crate) fn weights_init(w: ArrayView1<f64>, k: usize) -> Result<()> {
    if w.len() != k {
        return Err(Error::WrongShape {
            input: Input::WeightsInit,
            expected: shape_text(&[k]),
            found: shape_text(&[w.len()]),
        });
    }
    if let Some((row, &v)) = w.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite { input: Input::WeightsInit, what: non_finite(v), row, column: 0 });
    }
    let (min, max) = w.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if min < 0.0 || max > 1.0 {
        return Err(Error::InvalidWeightsInit {
            problem: format!("should be in the range [0, 1], but got max value {max:.5}, min value {min:.5}"),
        });
    }
    let sum: f64 = w.sum();
    if (1.0 - sum).abs() > 1e-8 {
        return Err(Error::InvalidWeightsInit {
            problem: format!("should be normalized, but got sum(weights) = {sum:.5}"),
        });
    }
    Ok(())
}

/// Checks a hyperparameter and reports it in scikit-learn's words.
pub(crate) fn parameter(
    ok: bool,
    name: &'static str,
    value: impl ToString,
    expected: &'static str,
) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidParameter { name, value: value.to_string(), expected })
    }
}

//! A uniform background component: constant density `1/V` over an axis-aligned box of volume
//! `V`, zero outside, whose weight EM learns with the Gaussians' (mclust's "noise" term, which
//! Banfield and Raftery introduced for clutter; scikit-learn has none).
//!
//! ```text
//! p(x) = pi_0 U(x) + sum_k pi_k N(x | mu_k, Sigma_k),   U(x) = 1/V inside the box, 0 outside
//! r_i0 = pi_0 U(x_i) / p(x_i),    pi_0 <- sum_i w_i r_i0 / sum_i w_i
//! ```
//! In the fused pass the background is one more term of each point's log-sum-exp,
//! `ln pi_0 - ln V` (no term outside the box); culling may use it as a lower bound on every
//! point's maximum in a chunk whose box lies inside the region, which only culls more, and
//! never a Gaussian that matters (see `pass::cull`).

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::chunks::Element;
use crate::error::{Error, Result};

/// Where the background's density is spread.
#[derive(Debug, Clone, PartialEq)]
pub enum BackgroundRegion {
    /// The axis-aligned bounding box of the data being fitted (the default).
    BoundingBox,
    /// A box given by its lower and upper corners (one value per feature each).
    Box {
        /// Lower corner.
        lower: Vec<f64>,
        /// Upper corner.
        upper: Vec<f64>,
    },
}

/// A fitted (or given) uniform background: its box and its mixing weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Background {
    lower: Vec<f64>,
    upper: Vec<f64>,
    weight: f64,
}

fn invalid(problem: String) -> Error {
    Error::InvalidBackground { problem }
}

impl Background {
    /// A background over the box `[lower, upper]` with mixing weight `weight` in `[0, 1)`.
    /// Errors if the corners differ in length, a value is not finite, or the box has zero or
    /// negative width along a feature (its volume must be positive and finite).
    pub fn new(lower: Vec<f64>, upper: Vec<f64>, weight: f64) -> Result<Background> {
        if lower.len() != upper.len() || lower.is_empty() {
            return Err(invalid(format!(
                "the lower corner has {} values and the upper corner {}; give one per feature for both",
                lower.len(),
                upper.len()
            )));
        }
        for (j, (&lo, &hi)) in lower.iter().zip(&upper).enumerate() {
            if !(lo.is_finite() && hi.is_finite()) {
                return Err(invalid(format!("feature {j}: the corners must be finite, got [{lo}, {hi}]")));
            }
            if hi <= lo {
                return Err(invalid(format!(
                    "feature {j}: the upper corner ({hi}) must exceed the lower ({lo}); the region's volume must be positive"
                )));
            }
        }
        let b = Background { lower, upper, weight };
        if !b.log_volume().is_finite() {
            return Err(invalid("the region's volume overflows a double".into()));
        }
        if !(weight.is_finite() && (0.0..1.0).contains(&weight)) {
            return Err(invalid(format!("the weight must be in [0, 1), got {weight}")));
        }
        Ok(b)
    }

    /// The region of `spec` for data `x`: the data's bounding box, or the given box (which must
    /// have one value per feature of `x`); weight `weight`.
    pub(crate) fn resolve<T: Element>(
        spec: &BackgroundRegion,
        x: ArrayView2<T>,
        weight: f64,
    ) -> Result<Background> {
        match spec {
            BackgroundRegion::Box { lower, upper } => {
                if lower.len() != x.ncols() || upper.len() != x.ncols() {
                    return Err(invalid(format!(
                        "the region has {} and {} values for its corners, but the data has {} features",
                        lower.len(),
                        upper.len(),
                        x.ncols()
                    )));
                }
                Background::new(lower.clone(), upper.clone(), weight)
            }
            BackgroundRegion::BoundingBox => {
                let d = x.ncols();
                let (mut lower, mut upper) = (vec![f64::INFINITY; d], vec![f64::NEG_INFINITY; d]);
                for row in x.outer_iter() {
                    for (j, &v) in row.iter().enumerate() {
                        let v: f64 = v.into();
                        lower[j] = lower[j].min(v);
                        upper[j] = upper[j].max(v);
                    }
                }
                Background::from_bounds(lower, upper, weight)
            }
        }
    }

    /// A background over a bounding box found from the data (`lower`, `upper` per feature).
    pub(crate) fn from_bounds(lower: Vec<f64>, upper: Vec<f64>, weight: f64) -> Result<Background> {
        if let Some(j) = (0..lower.len()).find(|&j| upper[j] <= lower[j]) {
            return Err(invalid(format!(
                "the data's bounding box has zero width along feature {j} (every value is {}): give the region",
                lower[j]
            )));
        }
        Background::new(lower, upper, weight)
    }

    /// The lower corner.
    pub fn lower(&self) -> &[f64] {
        &self.lower
    }

    /// The upper corner.
    pub fn upper(&self) -> &[f64] {
        &self.upper
    }

    /// The mixing weight `pi_0`.
    pub fn weight(&self) -> f64 {
        self.weight
    }

    /// `ln V`, the log-volume of the box.
    pub fn log_volume(&self) -> f64 {
        self.lower.iter().zip(&self.upper).map(|(lo, hi)| (hi - lo).ln()).sum()
    }

    /// `ln pi_0 - ln V`: the background's term in the log-sum-exp of a point inside the box
    /// (`-inf` when the weight is 0).
    pub fn log_term(&self) -> f64 {
        self.weight.ln() - self.log_volume()
    }

    /// Whether `x` (one value per feature) lies in the closed box.
    pub fn contains(&self, x: &[f64]) -> bool {
        x.iter().zip(self.lower.iter().zip(&self.upper)).all(|(v, (lo, hi))| *lo <= *v && *v <= *hi)
    }

    /// Sets the mixing weight in place (the M-step's estimate: no copy of the box per
    /// iteration).
    pub(crate) fn set_weight(&mut self, weight: f64) {
        self.weight = weight;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_without_volume_are_errors_that_say_where() {
        let e = Background::new(vec![0.0, 1.0], vec![1.0, 1.0], 0.1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid background region: feature 1: the upper corner (1) must exceed the lower (1); the region's volume must be positive"
        );
        assert!(Background::new(vec![0.0], vec![-1.0], 0.1).is_err());
        assert!(Background::new(vec![0.0], vec![1.0, 2.0], 0.1).is_err());
        assert!(Background::new(vec![0.0], vec![f64::INFINITY], 0.1).is_err());
        let b = Background::new(vec![0.0, -1.0], vec![2.0, 1.0], 0.25).unwrap();
        assert!((b.log_volume() - 4f64.ln()).abs() < 1e-15);
        assert!((b.log_term() - (0.25f64.ln() - 4f64.ln())).abs() < 1e-15);
        assert!(b.contains(&[2.0, -1.0]) && !b.contains(&[2.1, 0.0]));
    }
}

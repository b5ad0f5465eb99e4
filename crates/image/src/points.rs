//! Image -> weighted points.
//!
//! ```text
//! b = background level (absolute, or the q-th percentile of the pixels inside the mask)
//! points  x_i = (row_i, col_i) * pixel_size      for every pixel inside the mask with I_i > b
//! weights w_i = I_i - b
//! ```
//! Each pixel is one point, weighted by its intensity above background: EM gives the same
//! mixture as on coordinates repeated `I_i - b` times (OrNet's representation, for integer
//! weights), from `N` unique rows instead of `sum_i (I_i - b)` repeated ones.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::stack::Mask;

/// The background level subtracted from every pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Background {
    /// A fixed intensity.
    Absolute(f64),
    /// The given percentile (0 to 100, linear interpolation as NumPy's default) of the
    /// frame's pixels inside the mask, recomputed for every frame.
    Percentile(f64),
}

impl Default for Background {
    /// `0`: every nonzero pixel is a point (OrNet's masked frames).
    fn default() -> Self {
        Background::Absolute(0.0)
    }
}

impl FromStr for Background {
    type Err = Error;
    /// `12.5` (absolute) or `p90` / `90%` (percentile).
    fn from_str(s: &str) -> Result<Background> {
        let bad = || Error::InvalidParameter {
            name: "background",
            value: s.to_string(),
            expected: "a background is a number (absolute level) or pQ / Q% (a percentile, 0 <= Q <= 100)",
        };
        let t = s.trim();
        let pct = t.strip_prefix('p').or_else(|| t.strip_suffix('%'));
        match pct {
            Some(q) => {
                let q: f64 = q.parse().map_err(|_| bad())?;
                if !(0.0..=100.0).contains(&q) {
                    return Err(bad());
                }
                Ok(Background::Percentile(q))
            }
            None => {
                let v: f64 = t.parse().map_err(|_| bad())?;
                if !v.is_finite() {
                    return Err(bad());
                }
                Ok(Background::Absolute(v))
            }
        }
    }
}

impl fmt::Display for Background {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Background::Absolute(v) => write!(f, "{v}"),
            Background::Percentile(q) => write!(f, "p{q}"),
        }
    }
}

/// The weighted points of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    /// `(N, 2)`: (row, col) of each point, times the pixel size. Never repeated.
    pub coords: Array2<f64>,
    /// `(N,)`: intensity above background, all positive.
    pub weights: Array1<f64>,
    /// The background level used.
    pub background: f64,
    /// `(H, W)`: whether each pixel is a point.
    pub occupied: Array2<bool>,
}

/// The `q`-th percentile of `values` (linear interpolation between order statistics, as
/// `numpy.percentile`), in linear time with `select_nth_unstable`.
pub fn percentile(values: &mut [f32], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let pos = q / 100.0 * (values.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    let (_, &mut a, upper) = values.select_nth_unstable_by(lo, f32::total_cmp);
    let a = a as f64;
    if frac == 0.0 || upper.is_empty() {
        return a;
    }
    let b = upper.iter().copied().fold(f32::INFINITY, f32::min) as f64;
    a + frac * (b - a)
}

/// The background level of a frame.
pub fn background_level(frame: ArrayView2<f32>, mask: Option<&Mask>, background: Background) -> f64 {
    match background {
        Background::Absolute(v) => v,
        Background::Percentile(q) => {
            let mut values: Vec<f32> = match mask {
                None => frame.iter().copied().collect(),
                Some(m) => frame.iter().zip(m.view().iter()).filter(|(_, &i)| i).map(|(&v, _)| v).collect(),
            };
            percentile(&mut values, q)
        }
    }
}

/// The weighted points of a frame: pixels inside the mask above background.
///
/// ```
/// use einmix_image::{weighted_points, Background};
/// use ndarray::array;
/// let frame = array![[0.0f32, 3.0], [5.0, 1.0]];
/// let p = weighted_points(frame.view(), None, Background::Absolute(1.0), 1.0)?;
/// assert_eq!(p.coords, array![[0.0, 1.0], [1.0, 0.0]]);
/// assert_eq!(p.weights, array![2.0, 4.0]);
/// # Ok::<(), einmix_image::Error>(())
/// ```
pub fn weighted_points(
    frame: ArrayView2<f32>,
    mask: Option<&Mask>,
    background: Background,
    pixel_size: f64,
) -> Result<Points> {
    let (h, w) = frame.dim();
    if let Some(m) = mask {
        m.check_shape((h, w))?;
    }
    let b = background_level(frame, mask, background);
    let mut coords = Vec::new();
    let mut weights = Vec::new();
    let mut occupied = Array2::from_elem((h, w), false);
    for ((r, c), &v) in frame.indexed_iter() {
        let v = v as f64;
        if v > b && mask.map_or(true, |m| m.contains(r, c)) {
            coords.push(r as f64 * pixel_size);
            coords.push(c as f64 * pixel_size);
            weights.push(v - b);
            occupied[[r, c]] = true;
        }
    }
    let n = weights.len();
    Ok(Points {
        coords: Array2::from_shape_vec((n, 2), coords).expect("two per point"),
        weights: Array1::from(weights),
        background: b,
        occupied,
    })
}

//! Image -> weighted points.
//!
//! ```text
//! b = background level (absolute, or the q-th percentile of the pixels inside the mask)
//! points  x_i = (row_i, col_i) * pixel_size      for every pixel inside the mask with I_i > b
//!         x_i = (z_i, row_i, col_i) * voxel_size for the voxels of a 3-D volume
//! weights w_i = I_i - b
//! ```
//! Each pixel is one point, weighted by its intensity above background: EM gives the same
//! mixture as on coordinates repeated `I_i - b` times (OrNet's representation, for integer
//! weights), from `N` unique rows instead of `sum_i (I_i - b)` repeated ones.

use std::fmt;
use std::str::FromStr;

use ndarray::{Array1, Array2, Array3, ArrayView2, ArrayView3, Axis};

use crate::error::{Error, Result};
use crate::grid::Grid;
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
    /// `(N, D)`: (row, col) of each point times the pixel size, or (z, row, col) times the
    /// voxel's sides. Never repeated.
    pub coords: Array2<f64>,
    /// `(N,)`: intensity above background, all positive.
    pub weights: Array1<f64>,
    /// The background level used.
    pub background: f64,
    /// `(Z, H, W)` (`Z = 1` for a 2-D frame): whether each cell is a point.
    pub occupied: Array3<bool>,
}

/// The sides `(z, row, col)`, in voxels, of the bricks of 256 voxels a volume's points come in:
/// of the shapes 1x16x16, 4x8x8 and 16x4x4, the one closest to a cube in coordinate units.
pub(crate) fn brick(grid: &Grid) -> [usize; 3] {
    let shapes = [[1, 16, 16], [4, 8, 8], [16, 4, 4]];
    let aspect =
        |s: &[usize; 3]| ((s[0] as f64 * grid.spacing[0]) / (s[1] as f64 * grid.spacing[1])).ln().abs();
    shapes.into_iter().min_by(|a, b| aspect(a).total_cmp(&aspect(b))).expect("three shapes")
}

/// The intensities of `volume`'s cells inside `mask` (a 2-D mask holds for every slice).
pub(crate) fn masked_values(volume: ArrayView3<f32>, mask: Option<&Mask>) -> Vec<f32> {
    match mask {
        None => volume.iter().copied().collect(),
        Some(m) => volume
            .outer_iter()
            .flat_map(|plane| plane.into_iter().zip(m.view()).filter(|(_, &i)| i).map(|(&v, _)| v))
            .collect(),
    }
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
    volume_background_level(frame.insert_axis(Axis(0)), mask, background)
}

/// The background level of a `(Z, H, W)` volume (a 2-D frame is one slice).
pub fn volume_background_level(volume: ArrayView3<f32>, mask: Option<&Mask>, background: Background) -> f64 {
    match background {
        Background::Absolute(v) => v,
        Background::Percentile(q) => percentile(&mut masked_values(volume, mask), q),
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
    weighted_cells(frame.insert_axis(Axis(0)), mask, background, &Grid::planar(pixel_size))
}

/// The weighted points of a `(Z, H, W)` frame on `grid`: a 2-D frame (`Z = 1`, points (row,
/// col)) or a volume (points (z, row, col)); a 2-D mask holds for every slice.
///
/// ```
/// use einmix_image::{weighted_cells, Background, Grid};
/// use ndarray::array;
/// let volume = array![[[0.0f32, 3.0]], [[5.0, 0.0]]]; // (Z, H, W) = (2, 1, 2)
/// let p = weighted_cells(volume.view(), None, Background::Absolute(0.0), &Grid::volume([2.0, 1.0, 0.5])?)?;
/// assert_eq!(p.coords, array![[0.0, 0.0, 0.5], [2.0, 0.0, 0.0]]);
/// assert_eq!(p.weights, array![3.0, 5.0]);
/// # Ok::<(), einmix_image::Error>(())
/// ```
pub fn weighted_cells(
    volume: ArrayView3<f32>,
    mask: Option<&Mask>,
    background: Background,
    grid: &Grid,
) -> Result<Points> {
    cells(volume, mask, background, grid, Cells { with_coords: true, at_level: false }).map(|(p, _)| p)
}

/// What [`cells`] gathers besides the cells above the level.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cells {
    /// The coordinates (else `(0, D)`: a frame whose cells are the previous frame's needs
    /// only their weights).
    pub with_coords: bool,
    /// The cells exactly at the level too, at weight 0: they change no sum, and a volume's
    /// cells are then the same every frame (a Poisson floor has a few zeros, never the same).
    pub at_level: bool,
}

/// [`weighted_cells`] as `what` says, and which cells are points (with `at_level`, the
/// occupied ones, above the level, and those at it). `occupied` stays the cells above it.
pub(crate) fn cells(
    volume: ArrayView3<f32>,
    mask: Option<&Mask>,
    background: Background,
    grid: &Grid,
    what: Cells,
) -> Result<(Points, Array3<bool>)> {
    let Cells { with_coords, at_level } = what;
    let (depth, h, w) = volume.dim();
    if let Some(m) = mask {
        m.check_shape((h, w))?;
    }
    let b = volume_background_level(volume, mask, background);
    // With a level, most cells may be left out; without one, every cell is a point.
    let expected = if b < 0.0 || background == Background::Absolute(0.0) { depth * h * w } else { 0 };
    let mut coords = Vec::with_capacity(if with_coords { expected * grid.dims() } else { 0 });
    let mut weights = Vec::with_capacity(expected);
    let values = volume.as_standard_layout();
    let values = values.as_slice().expect("standard layout");
    let mut occupied = vec![false; depth * h * w];
    let mut laid = vec![false; if at_level { depth * h * w } else { 0 }];
    let inside = |r: usize, c: usize| mask.is_none_or(|m| m.contains(r, c));
    // One row of cells, columns `c0..c1` of slice `z`, row `r`.
    let mut take_row = |z: usize, r: usize, c0: usize, c1: usize| {
        let row = (z * h + r) * w;
        for c in c0..c1 {
            let v = values[row + c] as f64;
            if (v > b || (at_level && v == b)) && inside(r, c) {
                if with_coords {
                    grid.push_position((z, r, c), &mut coords);
                }
                weights.push(v - b);
                occupied[row + c] = v > b;
                if at_level {
                    laid[row + c] = true;
                }
            }
        }
    };
    if grid.volume {
        // Brick by brick: each run of 256 points then covers a small box, which is what
        // culling needs (the fit is told so and skips its own spatial sort of millions of rows).
        let [bz, by, bx] = brick(grid);
        for z0 in (0..depth).step_by(bz) {
            for r0 in (0..h).step_by(by) {
                for c0 in (0..w).step_by(bx) {
                    for z in z0..(z0 + bz).min(depth) {
                        for r in r0..(r0 + by).min(h) {
                            take_row(z, r, c0, (c0 + bx).min(w));
                        }
                    }
                }
            }
        }
    } else {
        for z in 0..depth {
            for r in 0..h {
                take_row(z, r, 0, w);
            }
        }
    }
    let occupied = Array3::from_shape_vec((depth, h, w), occupied).expect("a cell each");
    let laid = if at_level {
        Array3::from_shape_vec((depth, h, w), laid).expect("a cell each")
    } else {
        occupied.clone()
    };
    let n = if with_coords { weights.len() } else { 0 };
    let points = Points {
        coords: Array2::from_shape_vec((n, grid.dims()), coords).expect("D per point"),
        weights: Array1::from(weights),
        background: b,
        occupied,
    };
    Ok((points, laid))
}

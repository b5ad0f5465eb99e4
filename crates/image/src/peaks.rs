//! Local intensity maxima, as `skimage.feature.peak_local_max` finds them, and Gaussian
//! smoothing before it.
//!
//! ```text
//! peak  <=>  I(p) = max{ I(q) : |q - p|_inf <= min_distance }  and  I(p) > threshold
//! ```
//! then, strongest first, every peak within `min_distance` (Chebyshev) of a stronger kept one
//! is dropped (skimage's `_ensure_spacing` with its default `p_norm=inf`), peaks within
//! `min_distance` of the border are excluded (skimage's `exclude_border=True`), and at most
//! `num_peaks` are kept.

use ndarray::{Array2, ArrayView2};

use crate::stack::Mask;

/// How peaks are found.
#[derive(Debug, Clone, PartialEq)]
pub struct PeakOptions {
    /// Minimum distance between peaks, in pixels (default 5).
    pub min_distance: usize,
    /// Peaks must be strictly above this intensity (default: the frame's background level).
    pub threshold_abs: Option<f64>,
    /// Standard deviation in pixels of the Gaussian smoothing applied first (default 1; 0: none).
    pub smooth_sigma: f64,
    /// Exclude peaks within `min_distance` of the border (default true, as skimage).
    pub exclude_border: bool,
    /// Keep at most this many peaks, the strongest (default: all).
    pub num_peaks: Option<usize>,
}

impl Default for PeakOptions {
    fn default() -> Self {
        PeakOptions {
            min_distance: 5,
            threshold_abs: None,
            smooth_sigma: 1.0,
            exclude_border: true,
            num_peaks: None,
        }
    }
}

/// Gaussian smoothing, separable, the kernel truncated at 4 sigma (SciPy's default) and the
/// border extended by its nearest pixel (skimage's `filters.gaussian` default).
pub fn gaussian_smooth(image: ArrayView2<f32>, sigma: f64) -> Array2<f32> {
    if sigma <= 0.0 {
        return image.to_owned();
    }
    let radius = (4.0 * sigma + 0.5) as isize;
    let kernel: Vec<f64> = (-radius..=radius).map(|i| (-0.5 * (i as f64 / sigma).powi(2)).exp()).collect();
    let total: f64 = kernel.iter().sum();
    let kernel: Vec<f64> = kernel.iter().map(|k| k / total).collect();
    let (h, w) = image.dim();
    let pass = |src: &Array2<f32>, along_rows: bool| -> Array2<f32> {
        Array2::from_shape_fn((h, w), |(r, c)| {
            let mut acc = 0.0;
            for (j, k) in kernel.iter().enumerate() {
                let o = j as isize - radius;
                let v = if along_rows {
                    src[[r, (c as isize + o).clamp(0, w as isize - 1) as usize]]
                } else {
                    src[[(r as isize + o).clamp(0, h as isize - 1) as usize, c]]
                };
                acc += k * v as f64;
            }
            acc as f32
        })
    };
    let once = pass(&image.to_owned(), true);
    pass(&once, false)
}

/// Maximum over the square `(2 r + 1)^2` window around every pixel, the window clipped at
/// the border (SciPy's `maximum_filter` with `mode='nearest'`). Separable: rows, then columns.
fn maximum_filter(image: &Array2<f32>, r: usize) -> Array2<f32> {
    let (h, w) = image.dim();
    let mut rows = Array2::<f32>::zeros((h, w));
    for i in 0..h {
        for j in 0..w {
            let (a, b) = (j.saturating_sub(r), (j + r).min(w - 1));
            rows[[i, j]] = (a..=b).map(|k| image[[i, k]]).fold(f32::NEG_INFINITY, f32::max);
        }
    }
    let mut out = Array2::<f32>::zeros((h, w));
    for i in 0..h {
        let (a, b) = (i.saturating_sub(r), (i + r).min(h - 1));
        for j in 0..w {
            out[[i, j]] = (a..=b).map(|k| rows[[k, j]]).fold(f32::NEG_INFINITY, f32::max);
        }
    }
    out
}

/// The local maxima of `image` (already smoothed, if wanted) inside `mask`, strongest first,
/// as `(row, col)`. `threshold`: peaks must be strictly above it.
///
/// ```
/// use einmix_image::{peak_local_max, PeakOptions};
/// use ndarray::Array2;
/// let mut image = Array2::<f32>::zeros((20, 20));
/// image[[5, 5]] = 3.0;
/// image[[14, 12]] = 5.0;
/// image[[6, 6]] = 2.0; // within min_distance of a stronger peak
/// let opts = PeakOptions { min_distance: 3, ..PeakOptions::default() };
/// assert_eq!(peak_local_max(image.view(), None, 0.0, &opts), vec![(14, 12), (5, 5)]);
/// ```
pub fn peak_local_max(
    image: ArrayView2<f32>,
    mask: Option<&Mask>,
    threshold: f64,
    options: &PeakOptions,
) -> Vec<(usize, usize)> {
    let (h, w) = image.dim();
    let image = image.to_owned();
    let r = options.min_distance.max(1);
    let maxed = maximum_filter(&image, r);
    let border = if options.exclude_border { options.min_distance } else { 0 };
    let mut candidates: Vec<(f32, usize, usize)> = Vec::new();
    for i in border..h.saturating_sub(border) {
        for j in border..w.saturating_sub(border) {
            let v = image[[i, j]];
            if v == maxed[[i, j]] && v as f64 > threshold && mask.map_or(true, |m| m.contains(i, j)) {
                candidates.push((v, i, j));
            }
        }
    }
    // Strongest first; ties in raster order (a stable sort, as skimage's).
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut kept: Vec<(usize, usize)> = Vec::new();
    // A grid of cells of side min_distance makes the spacing check local.
    let cell = options.min_distance.max(1);
    let (gh, gw) = (h / cell + 1, w / cell + 1);
    let mut grid: Vec<Vec<(usize, usize)>> = vec![Vec::new(); gh * gw];
    for &(_, i, j) in &candidates {
        let (gi, gj) = (i / cell, j / cell);
        let near = (gi.saturating_sub(1)..=(gi + 1).min(gh - 1)).any(|a| {
            (gj.saturating_sub(1)..=(gj + 1).min(gw - 1)).any(|b| {
                grid[a * gw + b]
                    .iter()
                    .any(|&(pi, pj)| pi.abs_diff(i).max(pj.abs_diff(j)) <= options.min_distance)
            })
        });
        if !near {
            kept.push((i, j));
            grid[gi * gw + gj].push((i, j));
            if options.num_peaks.is_some_and(|n| kept.len() >= n) {
                break;
            }
        }
    }
    kept
}

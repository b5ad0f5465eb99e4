//! Local intensity maxima, as `skimage.feature.peak_local_max` finds them, and Gaussian
//! smoothing before it.
//!
//! ```text
//! peak  <=>  I(p) = max{ I(q) : |q - p|_inf <= min_distance }  and  I(p) > threshold
//! ```
//! then, strongest first, every peak within `min_distance` (Chebyshev) of a stronger kept one
//! is dropped (skimage's `_ensure_spacing` with its default `p_norm=inf`), peaks within
//! `min_distance` of the border are excluded (skimage's `exclude_border=True`), and at most
//! `num_peaks` are kept. In a 3-D volume the square becomes a box whose side along z is the
//! same length in the voxels' units ([`PeakSpacing`]).

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, Axis};

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
    smooth_volume(image.insert_axis(Axis(0)), [0.0, sigma, sigma]).remove_axis(Axis(0))
}

/// [`gaussian_smooth`] of a `(Z, H, W)` volume with a standard deviation in cells along each
/// axis (0: none along it), so that anisotropic voxels are smoothed by the same length.
pub fn smooth_volume(volume: ArrayView3<f32>, sigmas: [f64; 3]) -> Array3<f32> {
    let mut out = volume.to_owned();
    for (axis, &sigma) in sigmas.iter().enumerate().rev() {
        if sigma > 0.0 {
            out = smooth_along(&out, Axis(axis), sigma);
        }
    }
    out
}

/// One pass of the separable Gaussian along `axis`.
fn smooth_along(src: &Array3<f32>, axis: Axis, sigma: f64) -> Array3<f32> {
    let radius = (4.0 * sigma + 0.5) as isize;
    let kernel: Vec<f64> = (-radius..=radius).map(|i| (-0.5 * (i as f64 / sigma).powi(2)).exp()).collect();
    let total: f64 = kernel.iter().sum();
    let kernel: Vec<f64> = kernel.iter().map(|k| k / total).collect();
    let mut out = Array3::<f32>::zeros(src.dim());
    let n = src.len_of(axis) as isize;
    for (line_in, mut line_out) in src.lanes(axis).into_iter().zip(out.lanes_mut(axis)) {
        for i in 0..n {
            let mut acc = 0.0;
            for (j, k) in kernel.iter().enumerate() {
                let at = (i + j as isize - radius).clamp(0, n - 1) as usize;
                acc += k * line_in[at] as f64;
            }
            line_out[i as usize] = acc as f32;
        }
    }
    out
}

/// Maximum over the box `(2 r_z + 1) x (2 r + 1) x (2 r + 1)` around every cell, the box
/// clipped at the border (SciPy's `maximum_filter` with `mode='nearest'`). Separable: one
/// axis after the other.
fn maximum_filter(volume: &Array3<f32>, radii: [usize; 3]) -> Array3<f32> {
    let mut out = volume.clone();
    for (axis, &r) in radii.iter().enumerate() {
        if r == 0 {
            continue;
        }
        let src = out.clone();
        let n = src.len_of(Axis(axis));
        for (line_in, mut line_out) in src.lanes(Axis(axis)).into_iter().zip(out.lanes_mut(Axis(axis))) {
            for i in 0..n {
                let (a, b) = (i.saturating_sub(r), (i + r).min(n - 1));
                line_out[i] = (a..=b).map(|k| line_in[k]).fold(f32::NEG_INFINITY, f32::max);
            }
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
    let border = if options.exclude_border { options.min_distance } else { 0 };
    let spacing =
        PeakSpacing { radii: [0, options.min_distance, options.min_distance], border: [0, border, border] };
    peaks_in_volume(image.insert_axis(Axis(0)), mask, threshold, &spacing, options.num_peaks)
        .into_iter()
        .map(|[_, r, c]| (r, c))
        .collect()
}

/// How far apart peaks must be along each axis `(z, row, col)`, in cells, and how far from
/// the border.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeakSpacing {
    /// A peak is the maximum of the box of these half-sides around it, and no kept peak lies
    /// within that box of a stronger one.
    pub radii: [usize; 3],
    /// Peaks this close to the border along an axis are left out.
    pub border: [usize; 3],
}

/// [`peak_local_max`] in a `(Z, H, W)` volume (a 2-D mask holds for every slice): the cells
/// that are the maximum of the box of half-sides `spacing.radii` around them and above
/// `threshold`, strongest first, with no kept peak within the box of a stronger one, as
/// `[z, row, col]`.
pub fn peaks_in_volume(
    volume: ArrayView3<f32>,
    mask: Option<&Mask>,
    threshold: f64,
    spacing: &PeakSpacing,
    num_peaks: Option<usize>,
) -> Vec<[usize; 3]> {
    let dims = volume.dim();
    let dims = [dims.0, dims.1, dims.2];
    let volume = volume.to_owned();
    // Every axis compares at least its neighbours; a 2-D frame (one slice) has no z to compare.
    let radii = spacing.radii.map(|r| r.max(1));
    let radii = [if dims[0] == 1 { 0 } else { radii[0] }, radii[1], radii[2]];
    let maxed = maximum_filter(&volume, radii);
    let b = spacing.border;
    let mut candidates: Vec<(f32, [usize; 3])> = Vec::new();
    for z in b[0]..dims[0].saturating_sub(b[0]) {
        for i in b[1]..dims[1].saturating_sub(b[1]) {
            for j in b[2]..dims[2].saturating_sub(b[2]) {
                let v = volume[[z, i, j]];
                if v == maxed[[z, i, j]] && v as f64 > threshold && mask.is_none_or(|m| m.contains(i, j)) {
                    candidates.push((v, [z, i, j]));
                }
            }
        }
    }
    // Strongest first; ties in raster order (a stable sort, as skimage's).
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut kept: Vec<[usize; 3]> = Vec::new();
    // A grid of cells of the spacing's sides makes the spacing check local.
    let cell = spacing.radii.map(|r| r.max(1));
    let grid_dims = [dims[0] / cell[0] + 1, dims[1] / cell[1] + 1, dims[2] / cell[2] + 1];
    let mut grid: Vec<Vec<[usize; 3]>> = vec![Vec::new(); grid_dims.iter().product()];
    let slot = |g: [usize; 3]| (g[0] * grid_dims[1] + g[1]) * grid_dims[2] + g[2];
    let near = |p: [usize; 3], q: [usize; 3]| (0..3).all(|a| p[a].abs_diff(q[a]) <= spacing.radii[a]);
    for &(_, p) in &candidates {
        let g = [p[0] / cell[0], p[1] / cell[1], p[2] / cell[2]];
        let range = |a: usize| g[a].saturating_sub(1)..=(g[a] + 1).min(grid_dims[a] - 1);
        let crowded = range(0).any(|gz| {
            range(1).any(|gi| range(2).any(|gj| grid[slot([gz, gi, gj])].iter().any(|&q| near(p, q))))
        });
        if !crowded {
            kept.push(p);
            grid[slot(g)].push(p);
            if num_peaks.is_some_and(|n| kept.len() >= n) {
                break;
            }
        }
    }
    kept
}

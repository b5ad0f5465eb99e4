//! Pictures: a frame in grey with each component's 2-sigma ellipse drawn over it, in a colour
//! that belongs to the component (so the same across frames).
//!
//! ```text
//! ellipse_k = { mu_k + 2 (sqrt(l1) e1 cos t + sqrt(l2) e2 sin t) : t in [0, 2 pi) }
//! ```
//! with `(l, e)` the eigenpairs of `Sigma_k`, and, under them, the component graph: each
//! component joined to its nearest neighbours by the frame's distance, thicker the closer.
//! Drawn by hand into an RGB buffer (no plotting library in the image crate) and encoded with
//! `png`.

use einmix::Mixture;
use ndarray::{Array1, Array2, Array3, ArrayView2, ArrayView3, Axis};

use crate::error::Result;
use crate::grid::Grid;
use crate::io::png::encode_rgb;
use crate::points::percentile;

/// How a picture is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// Integer upscaling of the image (default: the smallest making the long side >= 800 pixels).
    pub scale: Option<usize>,
    /// Grey levels span these percentiles of the frame (default 0.5 and 99.8).
    pub contrast: (f64, f64),
    /// Ellipse radius in standard deviations (default 2).
    pub n_sigma: f64,
    /// The coordinates' pixel size (default 1).
    pub pixel_size: f64,
    /// Components with a smaller weight are not drawn (default 0: all; a variational fit's
    /// emptied components are left out with `track::EFFECTIVE_WEIGHT`).
    pub min_weight: f64,
    /// The frame's `K x K` component distances: each drawn component is joined to its
    /// `neighbours` nearest (default: none, no edges).
    pub distances: Option<Array2<f64>>,
    /// How many nearest neighbours each component is joined to (default 2).
    pub neighbours: usize,
    /// Components drawn inside a box around their ellipse (default none): the spatial
    /// anomalies of `einmix image analyse`, say.
    pub boxed: Vec<usize>,
}

/// The colour of the boxes around [`RenderOptions::boxed`] components: a strong magenta, apart
/// from the components' hues and the edges' yellow.
pub const BOX_COLOUR: [u8; 3] = [255, 0, 200];

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            scale: None,
            contrast: (0.5, 99.8),
            n_sigma: 2.0,
            pixel_size: 1.0,
            min_weight: 0.0,
            distances: None,
            neighbours: 2,
            boxed: Vec::new(),
        }
    }
}

/// The colour of the graph's edges: a pale yellow, apart from the components' hues on grey.
pub const EDGE_COLOUR: [u8; 3] = [255, 236, 150];

/// The graph's edges among the components `shown`: each joined to its `neighbours` nearest by
/// `distances` (pairs once, `i < j`), with a closeness in (0, 1]: 1 for the closest pair drawn,
/// falling linearly to a quarter for the farthest.
pub fn nearest_edges(
    distances: ArrayView2<f64>,
    shown: &[usize],
    neighbours: usize,
) -> Vec<(usize, usize, f64)> {
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for &i in shown {
        let mut others: Vec<usize> =
            shown.iter().copied().filter(|&j| j != i && distances[[i, j]].is_finite()).collect();
        others.sort_by(|&a, &b| distances[[i, a]].total_cmp(&distances[[i, b]]));
        for &j in others.iter().take(neighbours) {
            let pair = (i.min(j), i.max(j));
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
    }
    let d = |&(i, j): &(usize, usize)| distances[[i, j]];
    let (lo, hi) =
        pairs.iter().map(d).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    pairs
        .iter()
        .map(|p| {
            let closeness = if hi > lo { 1.0 - 0.75 * (d(p) - lo) / (hi - lo) } else { 1.0 };
            (p.0, p.1, closeness)
        })
        .collect()
}

/// The colour of component `k`: hues spaced by the golden ratio, so neighbours in index differ.
pub fn colour(k: usize) -> [u8; 3] {
    let h = (k as f64 * 0.618_033_988_749_895).fract() * 6.0;
    let (s, v) = (0.85, 1.0);
    let i = h.floor() as usize % 6;
    let f = h - h.floor();
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    let (r, g, b) = match i {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    };
    [(r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8]
}

/// An RGB picture being drawn.
struct Canvas {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn dot(&mut self, x: f64, y: f64, c: [u8; 3], radius: isize) {
        let (xi, yi) = (x.round() as isize, y.round() as isize);
        for dy in -radius..=radius {
            for dx in -radius..=radius {
                if dx * dx + dy * dy > radius * radius {
                    continue;
                }
                let (px, py) = (xi + dx, yi + dy);
                if px >= 0 && py >= 0 && (px as usize) < self.w && (py as usize) < self.h {
                    let i = 3 * (py as usize * self.w + px as usize);
                    self.rgb[i..i + 3].copy_from_slice(&c);
                }
            }
        }
    }
    fn line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: [u8; 3], radius: isize) {
        let steps = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
        for s in 0..=steps {
            let t = s as f64 / steps as f64;
            self.dot(x0 + t * (x1 - x0), y0 + t * (y1 - y0), c, radius);
        }
    }
}

/// The components as drawn on one view: means `(K, 2)` and covariances `(K, 2, 2)` in the
/// view's (row, col) coordinates, and the weights that decide which are shown.
struct Ellipses {
    means: Array2<f64>,
    covs: Array3<f64>,
    weights: Array1<f64>,
}

impl Ellipses {
    /// The marginal of `mixture` on coordinates `axes` (a Gaussian's marginal keeps the rows
    /// and columns of its mean and covariance), the first scaled by `stretch` and shifted by
    /// `shift` (a view whose rows are not the coordinates' units).
    fn marginal(mixture: &Mixture, axes: [usize; 2], stretch: f64, shift: f64) -> Ellipses {
        let (means, covs) = (mixture.means(), mixture.covariances());
        let k = mixture.n_components();
        let factor = |a: usize| if a == 0 { stretch } else { 1.0 };
        Ellipses {
            means: Array2::from_shape_fn((k, 2), |(i, a)| {
                means[[i, axes[a]]] * factor(a) + if a == 0 { shift } else { 0.0 }
            }),
            covs: Array3::from_shape_fn((k, 2, 2), |(i, a, b)| {
                covs[[i, axes[a], axes[b]]] * factor(a) * factor(b)
            }),
            weights: mixture.weights().to_owned(),
        }
    }
}

/// The frame in grey with the mixture's ellipses, as an RGB buffer `(rgb, width, height)`.
/// Components listed in `marked` (re-seeded ones, say) get a white ring at their mean.
pub fn overlay_rgb(
    frame: ArrayView2<f32>,
    mixture: &Mixture,
    marked: &[usize],
    options: &RenderOptions,
) -> (Vec<u8>, usize, usize) {
    draw(frame, &Ellipses::marginal(mixture, [0, 1], 1.0, 0.0), marked, options)
}

/// A 3-D volume `(Z, H, W)` and its mixture in (z, row, col), as two views stacked: on top
/// the maximum-intensity projection along z with each component's ellipsoid projected (its
/// (row, col) marginal's 2-sigma ellipse), below it the projection along the rows (z down,
/// columns across) with the (z, col) marginals, z stretched to the voxels' true proportions.
/// `grid` gives the voxels' sides; `options.pixel_size` is ignored.
pub fn overlay_volume_rgb(
    volume: ArrayView3<f32>,
    grid: &Grid,
    mixture: &Mixture,
    marked: &[usize],
    options: &RenderOptions,
) -> (Vec<u8>, usize, usize) {
    let (depth, h, w) = volume.dim();
    let [sz, sy, sx] = grid.spacing;
    let scale = options.scale.unwrap_or_else(|| 800usize.div_ceil(h.max(w).max(1))).max(1);
    // Both views are drawn in column units (rows and z scaled to them).
    let view_options = RenderOptions { scale: Some(scale), pixel_size: sx, ..options.clone() };
    let top_view = Ellipses::marginal(mixture, [1, 2], sx / sy, 0.0);
    let along_z = volume.fold_axis(Axis(0), f32::NEG_INFINITY, |&a, &b| a.max(b));
    let (top, cw, ch) = draw(along_z.view(), &top_view, marked, &view_options);
    // Side view: each slice repeated `stretch` rows so that a row is a column's length.
    let stretch = ((sz / sx).round() as usize).max(1);
    let along_rows = volume.fold_axis(Axis(1), f32::NEG_INFINITY, |&a, &b| a.max(b));
    let side = Array2::from_shape_fn((depth * stretch, w), |(r, c)| along_rows[[r / stretch, c]]);
    // z in column units, centred on its rows: slice i covers rows i s .. i s + s - 1.
    let shift = 0.5 * (stretch as f64 - 1.0) * sx;
    let side_view = Ellipses::marginal(mixture, [0, 2], stretch as f64 * sx / sz, shift);
    let (bottom, _, bh) = draw(side.view(), &side_view, marked, &view_options);
    // A white rule between the two views.
    let rule = 2 * scale.min(3);
    let mut rgb = top;
    rgb.extend(std::iter::repeat_n(255u8, 3 * cw * rule));
    rgb.extend(bottom);
    (rgb, cw, ch + rule + bh)
}

/// The frame in grey with `ellipses` drawn over it.
fn draw(
    frame: ArrayView2<f32>,
    ellipses: &Ellipses,
    marked: &[usize],
    options: &RenderOptions,
) -> (Vec<u8>, usize, usize) {
    let (h, w) = frame.dim();
    let scale = options.scale.unwrap_or_else(|| 800usize.div_ceil(h.max(w).max(1))).max(1);
    let mut values: Vec<f32> = frame.iter().copied().collect();
    let lo = percentile(&mut values, options.contrast.0);
    let hi = percentile(&mut values, options.contrast.1).max(lo + 1e-12);
    let (cw, ch) = (w * scale, h * scale);
    let mut canvas = Canvas { w: cw, h: ch, rgb: vec![0; cw * ch * 3] };
    for y in 0..ch {
        for x in 0..cw {
            let v = ((frame[[y / scale, x / scale]] as f64 - lo) / (hi - lo)).clamp(0.0, 1.0);
            let g = (255.0 * v.sqrt()) as u8; // a gamma of 1/2 lifts the dim network
            let i = 3 * (y * cw + x);
            canvas.rgb[i..i + 3].copy_from_slice(&[g, g, g]);
        }
    }
    let s = scale as f64;
    let to_canvas =
        |row: f64, col: f64| ((col / options.pixel_size + 0.5) * s, (row / options.pixel_size + 0.5) * s);
    let (means, covs, weights) = (&ellipses.means, &ellipses.covs, &ellipses.weights);
    let k_all = means.nrows();
    let thick = if scale >= 3 { 1 } else { 0 };
    if let Some(distances) = &options.distances {
        let shown: Vec<usize> = (0..k_all).filter(|&k| weights[k] >= options.min_weight).collect();
        for (i, j, closeness) in nearest_edges(distances.view(), &shown, options.neighbours) {
            let width = (closeness * (1 + 2 * thick) as f64).round() as isize;
            let (a, b) = (to_canvas(means[[i, 0]], means[[i, 1]]), to_canvas(means[[j, 0]], means[[j, 1]]));
            canvas.line(a, b, EDGE_COLOUR, width);
        }
    }
    for k in 0..k_all {
        if weights[k] < options.min_weight {
            continue;
        }
        let c = colour(k);
        let (a, b, d) = (covs[[k, 0, 0]], covs[[k, 0, 1]], covs[[k, 1, 1]]);
        // Eigen-decomposition of [[a, b], [b, d]] (row, col axes).
        let mean = 0.5 * (a + d);
        let r = (0.25 * (a - d) * (a - d) + b * b).sqrt();
        let (l1, l2) = (mean + r, (mean - r).max(0.0));
        let theta = 0.5 * (2.0 * b).atan2(a - d); // angle of e1 from the row axis
        let (e1, e2) = ((theta.cos(), theta.sin()), (-theta.sin(), theta.cos()));
        let (s1, s2) = (options.n_sigma * l1.sqrt(), options.n_sigma * l2.sqrt());
        let (mr, mc) = (means[[k, 0]], means[[k, 1]]);
        let n = 96;
        let point = |t: f64| {
            let (ct, st) = (t.cos(), t.sin());
            to_canvas(mr + s1 * ct * e1.0 + s2 * st * e2.0, mc + s1 * ct * e1.1 + s2 * st * e2.1)
        };
        let mut prev = point(0.0);
        let (mut x_lo, mut x_hi, mut y_lo, mut y_hi) = (prev.0, prev.0, prev.1, prev.1);
        for i in 1..=n {
            let next = point(i as f64 / n as f64 * std::f64::consts::TAU);
            canvas.line(prev, next, c, thick);
            prev = next;
            (x_lo, x_hi, y_lo, y_hi) =
                (x_lo.min(next.0), x_hi.max(next.0), y_lo.min(next.1), y_hi.max(next.1));
        }
        if options.boxed.contains(&k) {
            // The ellipse's bounding box, a few pixels out so that it does not hide it.
            let m = 3.0 + s;
            let (x0, x1, y0, y1) = (x_lo - m, x_hi + m, y_lo - m, y_hi + m);
            for (a, b) in
                [((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))]
            {
                canvas.line(a, b, BOX_COLOUR, 1 + thick);
            }
        }
        let (x, y) = to_canvas(mr, mc);
        if marked.contains(&k) {
            canvas.dot(x, y, [255, 255, 255], 3 + thick);
        }
        canvas.dot(x, y, c, 1 + thick);
    }
    (canvas.rgb, cw, ch)
}

/// [`overlay_volume_rgb`] encoded as PNG.
pub fn overlay_volume_png(
    volume: ArrayView3<f32>,
    grid: &Grid,
    mixture: &Mixture,
    marked: &[usize],
    options: &RenderOptions,
) -> Result<Vec<u8>> {
    let (rgb, w, h) = overlay_volume_rgb(volume, grid, mixture, marked, options);
    encode_rgb(&rgb, w, h)
}

/// [`overlay_rgb`] encoded as PNG.
pub fn overlay_png(
    frame: ArrayView2<f32>,
    mixture: &Mixture,
    marked: &[usize],
    options: &RenderOptions,
) -> Result<Vec<u8>> {
    let (rgb, w, h) = overlay_rgb(frame, mixture, marked, options);
    encode_rgb(&rgb, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_component_joins_its_nearest_and_closer_pairs_are_thicker() {
        // Four components on a line at 0, 1, 3, 10: distance = |a - b|.
        let x: [f64; 4] = [0.0, 1.0, 3.0, 10.0];
        let d = Array2::from_shape_fn((4, 4), |(i, j)| (x[i] - x[j]).abs());
        let edges = nearest_edges(d.view(), &[0, 1, 2, 3], 1);
        // 0-1 (0's and 1's nearest), 2-1 (2's nearest), 3-2 (3's nearest).
        let pairs: Vec<(usize, usize)> = edges.iter().map(|e| (e.0, e.1)).collect();
        assert_eq!(pairs, [(0, 1), (1, 2), (2, 3)]);
        assert_eq!(edges[0].2, 1.0);
        assert!((edges[2].2 - 0.25).abs() < 1e-12);
        assert!(edges[1].2 < edges[0].2 && edges[1].2 > edges[2].2);
        // Hidden components take no edges.
        assert_eq!(nearest_edges(d.view(), &[0, 3], 2), [(0, 3, 1.0)]);
    }
}

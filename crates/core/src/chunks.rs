//! The chunk layout: the data, laid out for the hot loops: fixed-size chunks of points, structure of arrays.
//!
//! Chunk `c` holds `CHUNK` points; feature `j` of its lane `i` is at
//! `coords[(c * d + j) * CHUNK + i]`, so every loop over the points of a chunk reads one
//! contiguous slice per feature and vectorises. The last chunk is padded with copies of its
//! last real point at weight 0, so every loop runs over exactly `CHUNK` lanes and padding adds
//! exact zeros to every weighted sum. Chunks are grouped into blocks of `BLOCK_CHUNKS`, the
//! unit of parallel work; block results are reduced in block order, so the result does not
//! depend on the number of threads.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use crate::parallel::Parallel;

/// Points per chunk.
pub(crate) const CHUNK: usize = 256;
/// Chunks per block (the unit handed to a thread).
pub(crate) const BLOCK_CHUNKS: usize = 16;

/// The weights of a full chunk of unweighted data.
static ONES: [f64; CHUNK] = [1.0; CHUNK];

/// A data element einmix reads without a copy of the caller's array: `f64`, or `f32`
/// (widened to `f64` as it is laid out in chunks; all arithmetic is in `f64`).
pub trait Element: Copy + Send + Sync + Into<f64> {}
impl Element for f64 {}
impl Element for f32 {}

/// A data set in chunked structure-of-arrays layout, with its sample weights.
pub(crate) struct Chunked {
    pub n: usize,
    pub d: usize,
    pub n_chunks: usize,
    pub coords: Vec<f64>,
    /// Every chunk's weights when the data are weighted; otherwise only the last chunk's (the
    /// others are all ones: no copy of `N` ones is kept).
    weights: Vec<f64>,
    weighted: bool,
    pub total_weight: f64,
    /// `order.row(position) = original row`, when the points were reordered spatially.
    pub order: Option<RowOrder>,
    /// Per chunk: `d` minima then `d` maxima of its points' coordinates (padding included:
    /// it repeats a real point).
    pub bounds: Vec<f64>,
    /// Per chunk: the sum of its weights.
    pub chunk_weight: Vec<f64>,
}

/// Spreads the low 32 bits of `v` to the even bit positions (Morton interleaving for 2-D,
/// by the usual mask-and-shift steps).
fn spread_bits(v: u64) -> u64 {
    let mut v = v & 0xffff_ffff;
    v = (v | (v << 16)) & 0x0000_ffff_0000_ffff;
    v = (v | (v << 8)) & 0x00ff_00ff_00ff_00ff;
    v = (v | (v << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    v = (v | (v << 2)) & 0x3333_3333_3333_3333;
    (v | (v << 1)) & 0x5555_5555_5555_5555
}

/// Spreads the low 10 bits of `v` to every third bit position (Morton interleaving for 3-D).
fn spread_bits_3(v: u64) -> u64 {
    let mut v = v & 0x3ff;
    v = (v | (v << 16)) & 0x0300_00ff;
    v = (v | (v << 8)) & 0x0300_f00f;
    v = (v | (v << 4)) & 0x030c_30c3;
    (v | (v << 2)) & 0x0924_9249
}

/// A row permutation of `x` along a Morton (Z-order) curve of its first three coordinates, so
/// that consecutive rows lie close together: each chunk then covers a small region and its
/// bounding box is tight, which is what lets the E-step skip far components. Ties keep their
/// original order, so repeated rows stay adjacent. With `par`, the keys are made and sorted
/// on its threads; the order is the same either way.
pub(crate) fn spatial_order<T: Element>(x: ArrayView2<T>, par: Option<&Parallel>) -> RowOrder {
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        return RowOrder::Compact((0..n as u32).collect());
    }
    let dims = d.min(3);
    // 32 bits of Morton code (16 per axis in 2-D) locate a point far more finely than a
    // chunk needs; the row index fills the low 32 bits, so one u64 sort keeps ties in
    // their original order.
    let bits = 32 / dims;
    let (lo, hi): (Vec<f64>, Vec<f64>) = (0..dims)
        .map(|j| {
            let col = x.column(j);
            let (lo, hi) = (f64::INFINITY, f64::NEG_INFINITY);
            (col.fold(lo, |a, &b| a.min(b.into())), col.fold(hi, |a, &b| a.max(b.into())))
        })
        .unzip();
    let cells = ((1u64 << bits) - 1) as f64;
    let cell = |row: usize, j: usize| -> u64 {
        let span = hi[j] - lo[j];
        if span > 0.0 {
            ((x[[row, j]].into() - lo[j]) / span * cells) as u64
        } else {
            0
        }
    };
    let key = |row: usize| -> u64 {
        if dims == 2 {
            return spread_bits(cell(row, 0)) | (spread_bits(cell(row, 1)) << 1);
        }
        if dims == 3 {
            return spread_bits_3(cell(row, 0))
                | (spread_bits_3(cell(row, 1)) << 1)
                | (spread_bits_3(cell(row, 2)) << 2);
        }
        let mut code = 0u64;
        for j in 0..dims {
            let q = cell(row, j);
            for b in 0..bits {
                code |= ((q >> b) & 1) << (b * dims + j);
            }
        }
        code
    };
    if n < (1 << 32) {
        let packed = |r: usize| (key(r) << 32) | r as u64;
        let mut keyed: Vec<u64> = match par {
            Some(par) => par.install(|| (0..n).into_par_iter().map(packed).collect()),
            None => (0..n).map(packed).collect(),
        };
        match par {
            Some(par) => par.install(|| keyed.par_sort_unstable()),
            None => keyed.sort_unstable(),
        }
        RowOrder::Compact(keyed.into_iter().map(|k| (k & 0xffff_ffff) as u32).collect())
    } else {
        let mut keyed: Vec<(u64, usize)> = (0..n).map(|r| (key(r), r)).collect();
        keyed.par_sort_unstable();
        RowOrder::Wide(keyed.into_iter().map(|(_, r)| r).collect())
    }
}

/// A permutation of rows: `row(position)` is the original row at `position`. Four bytes a row
/// while the rows can be counted in 32 bits (half the memory of `usize` indices).
pub(crate) enum RowOrder {
    /// Fewer than 2^32 rows.
    Compact(Vec<u32>),
    /// Any number of rows.
    Wide(Vec<usize>),
}

impl RowOrder {
    /// The original row at `position`.
    #[inline]
    pub(crate) fn row(&self, position: usize) -> usize {
        match self {
            RowOrder::Compact(rows) => rows[position] as usize,
            RowOrder::Wide(rows) => rows[position],
        }
    }

    /// The permutation as `usize` indices.
    pub(crate) fn into_rows(self) -> Vec<usize> {
        match self {
            RowOrder::Compact(rows) => rows.into_iter().map(|r| r as usize).collect(),
            RowOrder::Wide(rows) => rows,
        }
    }
}

/// How sample weights enter the chunks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum WeightScale {
    /// As given (a block of a larger data set: the engine rescales the summed statistics).
    Raw,
    /// Rescaled to average 1 per row (a whole data set; see [`Chunked::build`]).
    MeanOne,
}

impl Chunked {
    /// Copies `x` (validated: finite, non-empty) into chunked layout, in its own row order.
    pub(crate) fn new<T: Element>(x: ArrayView2<T>, sample_weight: Option<ArrayView1<f64>>) -> Chunked {
        Chunked::build(x, sample_weight, None, WeightScale::MeanOne)
    }

    /// The one chunk builder (EM, k-means, initialisation and engine blocks alike): rows of
    /// `x` in `order` (or their own), padded, with per-chunk bounding boxes and weights.
    pub(crate) fn build<T: Element>(
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
        order: Option<RowOrder>,
        scale: WeightScale,
    ) -> Chunked {
        let (n, d) = x.dim();
        let n_chunks = n.div_ceil(CHUNK);
        let mut coords = vec![0.0; n_chunks * d * CHUNK];
        // Rows read from a slice where the layout allows (millions of image voxels), else by index.
        let contiguous = x.as_slice();
        for c in 0..n_chunks {
            let start = c * CHUNK;
            for lane in 0..CHUNK {
                // Padding repeats the last real point, at weight 0.
                let position = (start + lane).min(n - 1);
                let row = order.as_ref().map_or(position, |o| o.row(position));
                match contiguous {
                    Some(rows) => {
                        for (j, &v) in rows[row * d..(row + 1) * d].iter().enumerate() {
                            coords[(c * d + j) * CHUNK + lane] = v.into();
                        }
                    }
                    None => {
                        for j in 0..d {
                            coords[(c * d + j) * CHUNK + lane] = x[[row, j]].into();
                        }
                    }
                }
            }
        }
        let mut bounds = vec![0.0; n_chunks * 2 * d];
        for c in 0..n_chunks {
            for j in 0..d {
                let col = &coords[(c * d + j) * CHUNK..(c * d + j + 1) * CHUNK];
                bounds[c * 2 * d + j] = col.iter().fold(f64::INFINITY, |a, &b| a.min(b));
                bounds[c * 2 * d + d + j] = col.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            }
        }
        let mut data = Chunked {
            n,
            d,
            n_chunks,
            coords,
            weights: Vec::new(),
            weighted: false,
            total_weight: 0.0,
            order,
            bounds,
            chunk_weight: Vec::new(),
        };
        data.set_weights(sample_weight, scale);
        data
    }

    /// Lays out `sample_weight` (or unit weights) for the rows as they are chunked, rescaled as
    /// `scale` says, with the per-chunk and total weights: what [`Chunked::build`] does, and
    /// what a new frame of the same pixels needs (their weights change, not their places).
    pub(crate) fn set_weights(&mut self, sample_weight: Option<ArrayView1<f64>>, scale: WeightScale) {
        let (n, n_chunks) = (self.n, self.n_chunks);
        let weighted = sample_weight.is_some();
        let mut weights = std::mem::take(&mut self.weights);
        weights.clear();
        weights.resize(if weighted { n_chunks * CHUNK } else { CHUNK }, 0.0);
        for c in 0..n_chunks {
            let start = c * CHUNK;
            for lane in 0..CHUNK.min(n - start) {
                let position = start + lane;
                match sample_weight {
                    Some(w) => {
                        weights[c * CHUNK + lane] =
                            w[self.order.as_ref().map_or(position, |o| o.row(position))]
                    }
                    None if c + 1 == n_chunks => weights[lane] = 1.0,
                    None => {}
                }
            }
        }
        // Sample weights are rescaled to average 1 per row, so that scikit-learn's absolute
        // 10 eps guard on each N_k means the same thing whatever the weights' scale (multiplying
        // all weights by a constant then changes nothing). Dividing by the largest weight first
        // keeps the sum finite and normal for weights near the ends of the f64 range (1e308,
        // subnormals). Unit weights are left exactly as they are. Sums run in chunk order with a
        // fixed association, like every other reduction.
        if scale == WeightScale::MeanOne {
            let largest = weights.iter().fold(0.0f64, |m, &w| m.max(w));
            let raw_total: f64 = weights.chunks(CHUNK).map(|w| w.iter().sum::<f64>()).sum();
            if sample_weight.is_some() && largest > 0.0 && raw_total != n as f64 {
                weights.iter_mut().for_each(|w| *w /= largest);
                let total: f64 = weights.chunks(CHUNK).map(|w| w.iter().sum::<f64>()).sum();
                let factor = n as f64 / total;
                weights.iter_mut().for_each(|w| *w *= factor);
            }
        }
        self.weights = weights;
        self.weighted = weighted;
        self.chunk_weight = (0..n_chunks).map(|c| self.chunk(c).1.iter().sum::<f64>()).collect();
        self.total_weight = self.chunk_weight.iter().sum();
    }

    /// Coordinates (`d * CHUNK`, feature-major) and weights (`CHUNK`) of chunk `c`.
    #[inline(always)]
    pub(crate) fn chunk(&self, c: usize) -> (&[f64], &[f64]) {
        (
            &self.coords[c * self.d * CHUNK..(c + 1) * self.d * CHUNK],
            if self.weighted {
                &self.weights[c * CHUNK..(c + 1) * CHUNK]
            } else if c + 1 == self.n_chunks {
                &self.weights
            } else {
                &ONES
            },
        )
    }

    /// Number of real (unpadded) points in chunk `c`.
    pub(crate) fn chunk_len(&self, c: usize) -> usize {
        (self.n - c * CHUNK).min(CHUNK)
    }

    pub(crate) fn n_blocks(&self) -> usize {
        self.n_chunks.div_ceil(BLOCK_CHUNKS)
    }

    /// The chunks of block `b`.
    pub(crate) fn block_chunks(&self, b: usize) -> std::ops::Range<usize> {
        b * BLOCK_CHUNKS..((b + 1) * BLOCK_CHUNKS).min(self.n_chunks)
    }

    /// Feature `j` of the point at chunked position `row`.
    pub(crate) fn value(&self, row: usize, j: usize) -> f64 {
        let (c, lane) = (row / CHUNK, row % CHUNK);
        self.coords[(c * self.d + j) * CHUNK + lane]
    }

    /// Weight of point `row`.
    pub(crate) fn weight(&self, row: usize) -> f64 {
        match (self.weighted, row < self.n) {
            (true, _) => self.weights[row],
            (false, real) => f64::from(u8::from(real)),
        }
    }
}

/// Lane row `j` of a chunk-shaped buffer (`CHUNK` values from `j * CHUNK`).
#[inline(always)]
pub(crate) fn lanes(xs: &[f64], j: usize) -> &[f64; CHUNK] {
    xs[j * CHUNK..(j + 1) * CHUNK].try_into().expect("a lane row is CHUNK long")
}

/// Mutable lane row `j` of a chunk-shaped buffer.
#[inline(always)]
pub(crate) fn lanes_mut(xs: &mut [f64], j: usize) -> &mut [f64; CHUNK] {
    (&mut xs[j * CHUNK..(j + 1) * CHUNK]).try_into().expect("a lane row is CHUNK long")
}

/// Per-thread scratch of the chunk kernels, sized once per fit (`K` components, `D` features).
pub(crate) struct Scratch {
    /// `K x CHUNK`: log-densities, then their exponentials.
    pub lp: Vec<f64>,
    /// `D x CHUNK`: centred coordinates (or `X U` for tied).
    pub dx: Vec<f64>,
    /// `D x CHUNK`: responsibility-weighted centred coordinates (and `U^T DX` on the
    /// matrix-multiply path).
    pub rdx: Vec<f64>,
    /// Per-lane work arrays.
    pub max: Vec<f64>,
    pub sum: Vec<f64>,
    pub acc: Vec<f64>,
    /// `w_i / sum_k exp(log p_ik - m_i)`: turns an exponential into a weighted responsibility.
    pub scale: Vec<f64>,
    /// `log p(x_i)`.
    pub log_lik: Vec<f64>,
    /// The components evaluated for the current chunk (all of them unless culled); row `a`
    /// of `lp` belongs to component `active[a]`.
    pub active: Vec<usize>,
    /// Per component: the culling upper bound of its log-density in the chunk.
    pub upper: Vec<f64>,
    /// The product form's work arrays: the chunk's centre (`D`), its points around it and their
    /// squares (`2D x CHUNK`), the same weighted and the weights (`(2D + 1) x CHUNK`), a
    /// `K x (2D + 1)` matrix and one value per component.
    pub centre: Vec<f64>,
    pub expanded: Vec<f64>,
    pub weighted: Vec<f64>,
    pub kd_pair: Vec<f64>,
    pub per_component: Vec<f64>,
    /// Single-precision copies for `Precision::F32`, sized on first use.
    pub single: SingleScratch,
    /// `CHUNK` lanes: the background's log term per point (`-inf` outside its box), then
    /// its exponential after the log-sum-exp.
    pub background: Vec<f64>,
}

/// The single-precision operands and results of the product form under `Precision::F32`.
#[derive(Default)]
pub(crate) struct SingleScratch {
    /// A chunk's points (or centred points) as lane rows.
    pub points: Vec<f32>,
    /// A second chunk-shaped operand, or the right-hand side's rows.
    pub rows: Vec<f32>,
    /// A product's result.
    pub out: Vec<f32>,
}

impl Scratch {
    pub(crate) fn new(k: usize, d: usize) -> Scratch {
        Scratch {
            lp: vec![0.0; k * CHUNK],
            dx: vec![0.0; d * CHUNK],
            rdx: vec![0.0; d * CHUNK],
            max: vec![0.0; CHUNK],
            sum: vec![0.0; CHUNK],
            acc: vec![0.0; CHUNK],
            scale: vec![0.0; CHUNK],
            log_lik: vec![0.0; CHUNK],
            active: (0..k).collect(),
            upper: vec![0.0; k],
            background: vec![0.0; CHUNK],
            centre: vec![0.0; d],
            expanded: vec![0.0; 2 * d * CHUNK],
            weighted: vec![0.0; (2 * d + 1) * CHUNK],
            kd_pair: vec![0.0; k * (2 * d + 1)],
            per_component: vec![0.0; k],
            single: SingleScratch::default(),
        }
    }

    /// Makes every one of the `k` components active (after a culled chunk).
    #[inline(always)]
    pub(crate) fn activate_all(&mut self, k: usize) {
        if self.active.len() != k {
            self.active.clear();
            self.active.extend(0..k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreading_ten_bits_equals_interleaving_them_one_by_one() {
        let one_by_one = |q: [u64; 3]| {
            let mut code = 0u64;
            for (j, v) in q.iter().enumerate() {
                for b in 0..10 {
                    code |= ((v >> b) & 1) << (b * 3 + j);
                }
            }
            code
        };
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..10_000 {
            let mut q = [0u64; 3];
            for v in &mut q {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                *v = (state >> 33) % 1024;
            }
            let spread = spread_bits_3(q[0]) | (spread_bits_3(q[1]) << 1) | (spread_bits_3(q[2]) << 2);
            assert_eq!(spread, one_by_one(q), "{q:?}");
        }
        assert_eq!(spread_bits_3(1023), 0x0924_9249);
    }
}

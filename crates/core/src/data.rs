//! The data, laid out for the hot loops: fixed-size chunks of points, structure of arrays.
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
    pub weights: Vec<f64>,
    pub total_weight: f64,
    /// `order[position] = original row`, when the points were reordered spatially.
    pub order: Option<Vec<usize>>,
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

impl Chunked {
    /// Copies `x` (validated: finite, non-empty) into chunked layout.
    pub(crate) fn new<T: Element>(x: ArrayView2<T>, sample_weight: Option<ArrayView1<f64>>) -> Chunked {
        Chunked::with_order(x, sample_weight, None)
    }

    /// Copies `x` with its points reordered along a Morton (Z-order) curve of their first three
    /// coordinates, so that each chunk covers a small region and its bounding box is tight
    /// (what lets the E-step skip far components). Ties keep their original order, so repeated
    /// rows stay adjacent.
    pub(crate) fn new_spatial<T: Element>(
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
        par: &Parallel,
    ) -> Chunked {
        let (n, d) = x.dim();
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
        let key = |row: usize| -> u64 {
            if dims == 2 {
                let q = |j: usize| {
                    let span = hi[j] - lo[j];
                    if span > 0.0 {
                        ((x[[row, j]].into() - lo[j]) / span * cells) as u64
                    } else {
                        0
                    }
                };
                return spread_bits(q(0)) | (spread_bits(q(1)) << 1);
            }
            let mut code = 0u64;
            for j in 0..dims {
                let span = hi[j] - lo[j];
                let q = if span > 0.0 { ((x[[row, j]].into() - lo[j]) / span * cells) as u64 } else { 0 };
                for b in 0..bits {
                    code |= ((q >> b) & 1) << (b * dims + j);
                }
            }
            code
        };
        let order: Vec<usize> = if n < (1 << 32) {
            let mut keyed: Vec<u64> =
                par.install(|| (0..n).into_par_iter().map(|r| (key(r) << 32) | r as u64).collect());
            par.install(|| keyed.par_sort_unstable());
            keyed.into_iter().map(|k| (k & 0xffff_ffff) as usize).collect()
        } else {
            let mut keyed: Vec<(u64, usize)> = (0..n).map(|r| (key(r), r)).collect();
            par.install(|| keyed.par_sort_unstable());
            keyed.into_iter().map(|(_, r)| r).collect()
        };
        Chunked::with_order(x, sample_weight, Some(order))
    }

    fn with_order<T: Element>(
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
        order: Option<Vec<usize>>,
    ) -> Chunked {
        let (n, d) = x.dim();
        let n_chunks = n.div_ceil(CHUNK);
        let mut coords = vec![0.0; n_chunks * d * CHUNK];
        let mut weights = vec![0.0; n_chunks * CHUNK];
        for c in 0..n_chunks {
            let start = c * CHUNK;
            for lane in 0..CHUNK {
                let position = (start + lane).min(n - 1);
                let row = order.as_ref().map_or(position, |o| o[position]);
                for j in 0..d {
                    coords[(c * d + j) * CHUNK + lane] = x[[row, j]].into();
                }
                if start + lane < n {
                    weights[c * CHUNK + lane] = sample_weight.map_or(1.0, |w| w[row]);
                }
            }
        }
        // Sample weights are rescaled to average 1 per row, so that scikit-learn's absolute
        // 10 eps guard on each N_k means the same thing whatever the weights' scale (multiplying
        // all weights by a constant then changes nothing). Dividing by the largest weight first
        // keeps the sum finite and normal for weights near the ends of the f64 range (1e308,
        // subnormals). Unit weights are left exactly as they are. Sums run in chunk order with a
        // fixed association, like every other reduction.
        let largest = weights.iter().fold(0.0f64, |m, &w| m.max(w));
        let raw_total: f64 = weights.chunks(CHUNK).map(|w| w.iter().sum::<f64>()).sum();
        if sample_weight.is_some() && largest > 0.0 && raw_total != n as f64 {
            weights.iter_mut().for_each(|w| *w /= largest);
            let total: f64 = weights.chunks(CHUNK).map(|w| w.iter().sum::<f64>()).sum();
            let factor = n as f64 / total;
            weights.iter_mut().for_each(|w| *w *= factor);
        }
        let total_weight = weights.chunks(CHUNK).map(|w| w.iter().sum::<f64>()).sum();
        let mut bounds = vec![0.0; n_chunks * 2 * d];
        for c in 0..n_chunks {
            for j in 0..d {
                let col = &coords[(c * d + j) * CHUNK..(c * d + j + 1) * CHUNK];
                bounds[c * 2 * d + j] = col.iter().fold(f64::INFINITY, |a, &b| a.min(b));
                bounds[c * 2 * d + d + j] = col.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            }
        }
        let chunk_weight = weights.chunks(CHUNK).map(|w| w.iter().sum::<f64>()).collect();
        Chunked { n, d, n_chunks, coords, weights, total_weight, order, bounds, chunk_weight }
    }

    /// Coordinates (`d * CHUNK`, feature-major) and weights (`CHUNK`) of chunk `c`.
    #[inline(always)]
    pub(crate) fn chunk(&self, c: usize) -> (&[f64], &[f64]) {
        (
            &self.coords[c * self.d * CHUNK..(c + 1) * self.d * CHUNK],
            &self.weights[c * CHUNK..(c + 1) * CHUNK],
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

    /// Original row of the point at `position` (chunked order).
    pub(crate) fn original_row(&self, position: usize) -> usize {
        self.order.as_ref().map_or(position, |o| o[position])
    }

    /// Feature `j` of the point at chunked position `row`.
    pub(crate) fn value(&self, row: usize, j: usize) -> f64 {
        let (c, lane) = (row / CHUNK, row % CHUNK);
        self.coords[(c * self.d + j) * CHUNK + lane]
    }

    /// Weight of point `row`.
    pub(crate) fn weight(&self, row: usize) -> f64 {
        self.weights[row]
    }
}

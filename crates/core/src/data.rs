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

/// Points per chunk.
pub(crate) const CHUNK: usize = 256;
/// Chunks per block (the unit handed to a thread).
pub(crate) const BLOCK_CHUNKS: usize = 16;

/// A data set in chunked structure-of-arrays layout, with its sample weights.
pub(crate) struct Chunked {
    pub n: usize,
    pub d: usize,
    pub n_chunks: usize,
    pub coords: Vec<f64>,
    pub weights: Vec<f64>,
    pub total_weight: f64,
}

impl Chunked {
    /// Copies `x` (validated: finite, non-empty) into chunked layout.
    pub(crate) fn new(x: ArrayView2<f64>, sample_weight: Option<ArrayView1<f64>>) -> Chunked {
        let (n, d) = x.dim();
        let n_chunks = n.div_ceil(CHUNK);
        let mut coords = vec![0.0; n_chunks * d * CHUNK];
        let mut weights = vec![0.0; n_chunks * CHUNK];
        for c in 0..n_chunks {
            let start = c * CHUNK;
            for lane in 0..CHUNK {
                let row = (start + lane).min(n - 1);
                for j in 0..d {
                    coords[(c * d + j) * CHUNK + lane] = x[[row, j]];
                }
                if start + lane < n {
                    weights[c * CHUNK + lane] = sample_weight.map_or(1.0, |w| w[row]);
                }
            }
        }
        // Summed in chunk order with a fixed association, like every other reduction.
        let total_weight = weights.chunks(CHUNK).map(|w| w.iter().sum::<f64>()).sum();
        Chunked {
            n,
            d,
            n_chunks,
            coords,
            weights,
            total_weight,
        }
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

    /// Feature `j` of point `row` (original order).
    pub(crate) fn value(&self, row: usize, j: usize) -> f64 {
        let (c, lane) = (row / CHUNK, row % CHUNK);
        self.coords[(c * self.d + j) * CHUNK + lane]
    }

    /// Weight of point `row`.
    pub(crate) fn weight(&self, row: usize) -> f64 {
        self.weights[row]
    }
}

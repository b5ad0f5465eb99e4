//! Weighted k-means for initialisation: greedy k-means++ seeding, then Lloyd iterations.
//!
//! ```text
//! seeding:  c_1 ~ w_i;  then, 2 + floor(ln K) candidates ~ w_i D(x_i)^2, keep the one that
//!           lowers sum_i w_i min(D(x_i)^2, |x_i - cand|^2) most   (Arthur & Vassilvitskii 2007;
//!           the greedy variant of scikit-learn's `kmeans_plusplus`)
//! Lloyd:    label_i = argmin_k |x_i - c_k|^2;  c_k = sum_{label_i = k} w_i x_i / sum w_i
//!           until no label changes, or sum_k |c_k' - c_k|^2 <= tol * mean_j var(x_j), max 300
//! ```
//! Every pass runs over the chunked data in parallel blocks with block-ordered reductions, so
//! the result is the same for any number of threads.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::chunks::{lanes, Chunked, BLOCK_CHUNKS, CHUNK};
use crate::kernels::{dispatch, Arith, Kernel};
use crate::parallel::Parallel;

/// scikit-learn's KMeans defaults.
const MAX_ITER: usize = 300;
const TOL: f64 = 1e-4;

/// Squared distances from the points of a chunk to one center.
#[inline(always)]
fn distances<A: Arith>(xs: &[f64], d: usize, center: &[f64], out: &mut [f64; CHUNK]) {
    out.fill(0.0);
    for j in 0..d {
        let x: &[f64; CHUNK] = lanes(xs, j);
        let c = center[j];
        for i in 0..CHUNK {
            let t = x[i] - c;
            out[i] = A::mul_add(t, t, out[i]);
        }
    }
}

/// The row of a data set with the given chunked index, as a vector.
fn point(data: &Chunked, row: usize) -> Vec<f64> {
    (0..data.d).map(|j| data.value(row, j)).collect()
}

/// Squared distance from `point` to the bounding box of chunk `c` (0 inside it).
#[inline(always)]
fn box_distance(data: &Chunked, c: usize, point: &[f64]) -> f64 {
    let d = data.d;
    let (lo, hi) = (&data.bounds[c * 2 * d..c * 2 * d + d], &data.bounds[c * 2 * d + d..(c + 1) * 2 * d]);
    (0..d).map(|j| (lo[j] - point[j]).max(point[j] - hi[j]).max(0.0).powi(2)).sum()
}

/// Squared distance from `point` to the farthest corner of the bounding box of chunk `c`.
#[inline(always)]
fn farthest_corner(data: &Chunked, c: usize, point: &[f64]) -> f64 {
    let d = data.d;
    let (lo, hi) = (&data.bounds[c * 2 * d..c * 2 * d + d], &data.bounds[c * 2 * d + d..(c + 1) * 2 * d]);
    (0..d).map(|j| (point[j] - lo[j]).abs().max((hi[j] - point[j]).abs()).powi(2)).sum()
}

/// The k-means++ state of one block: `D(x)^2` per point and, per chunk, its maximum and its
/// weighted sum (the chunk's "potential").
struct SeedBlock {
    closest: Vec<f64>,
    chunk_max: Vec<f64>,
    chunk_pot: Vec<f64>,
    /// Per candidate and chunk: whether `min(D^2, |x - cand|^2)` would change it, and its new
    /// maximum and potential. (The new per-point values are not kept: only the winner's are
    /// computed again, so the seeding needs `O(N)` memory, not `O(N n_trials)`.)
    trial_changed: Vec<bool>,
    trial_max: Vec<f64>,
    trial_pot: Vec<f64>,
}

/// Evaluates candidates over one block. A chunk whose bounding box is at least its current
/// largest `D^2` away from a candidate cannot change (exact pruning, no approximation).
struct CandidateBlock<'a> {
    data: &'a Chunked,
    range: std::ops::Range<usize>,
    candidates: &'a [Vec<f64>],
    block: &'a mut SeedBlock,
}

impl Kernel for CandidateBlock<'_> {
    type Output = ();
    #[inline(always)]
    fn run<A: Arith>(self) {
        let mut dist = [0.0; CHUNK];
        let first = self.range.start;
        let b = self.block;
        for (t, cand) in self.candidates.iter().enumerate() {
            for c in self.range.clone() {
                let local = c - first;
                let slot = t * BLOCK_CHUNKS + local;
                if box_distance(self.data, c, cand) >= b.chunk_max[local] {
                    b.trial_changed[slot] = false;
                    b.trial_max[slot] = b.chunk_max[local];
                    b.trial_pot[slot] = b.chunk_pot[local];
                    continue;
                }
                let (xs, w) = self.data.chunk(c);
                distances::<A>(xs, self.data.d, cand, &mut dist);
                let closest = &b.closest[local * CHUNK..(local + 1) * CHUNK];
                let (mut pot, mut max) = (0.0, 0.0f64);
                for i in 0..CHUNK {
                    let v = closest[i].min(dist[i]);
                    pot += w[i] * v;
                    max = max.max(v);
                }
                b.trial_changed[slot] = true;
                b.trial_max[slot] = max;
                b.trial_pot[slot] = pot;
            }
        }
    }
}

/// Makes candidate `t` (at `point`) the state of one block: the chunks it changes get
/// `min(D^2, |x - point|^2)` (the values its trial saw) and its maximum and potential.
struct AcceptBlock<'a> {
    data: &'a Chunked,
    range: std::ops::Range<usize>,
    t: usize,
    point: &'a [f64],
    block: &'a mut SeedBlock,
}

impl Kernel for AcceptBlock<'_> {
    type Output = ();
    #[inline(always)]
    fn run<A: Arith>(self) {
        let mut dist = [0.0; CHUNK];
        let (first, b) = (self.range.start, self.block);
        for c in self.range {
            let (local, slot) = (c - first, self.t * BLOCK_CHUNKS + c - first);
            if !b.trial_changed[slot] {
                continue;
            }
            distances::<A>(self.data.chunk(c).0, self.data.d, self.point, &mut dist);
            for (v, &dv) in b.closest[local * CHUNK..(local + 1) * CHUNK].iter_mut().zip(&dist) {
                *v = v.min(dv);
            }
            b.chunk_max[local] = b.trial_max[slot];
            b.chunk_pot[local] = b.trial_pot[slot];
        }
    }
}

impl SeedBlock {
    fn new(n_trials: usize) -> SeedBlock {
        let len = BLOCK_CHUNKS * CHUNK;
        SeedBlock {
            closest: vec![f64::INFINITY; len],
            chunk_max: vec![f64::INFINITY; BLOCK_CHUNKS],
            chunk_pot: vec![0.0; BLOCK_CHUNKS],
            trial_changed: vec![false; n_trials * BLOCK_CHUNKS],
            trial_max: vec![0.0; n_trials * BLOCK_CHUNKS],
            trial_pot: vec![0.0; n_trials * BLOCK_CHUNKS],
        }
    }

    /// The potential of this block if candidate `t` were chosen.
    fn trial_total(&self, t: usize, n_chunks: usize) -> f64 {
        self.trial_pot[t * BLOCK_CHUNKS..t * BLOCK_CHUNKS + n_chunks].iter().sum()
    }
}

/// Picks the row whose cumulative `w * D^2` first reaches `target`.
fn sample_row(data: &Chunked, blocks: &[SeedBlock], target: f64) -> usize {
    let mut acc = 0.0;
    let last_positive = || (0..data.n).rev().find(|&r| data.weight(r) > 0.0).unwrap_or(0);
    for (b, block) in blocks.iter().enumerate() {
        for (local, c) in data.block_chunks(b).enumerate() {
            let pot = block.chunk_pot[local];
            if acc + pot < target {
                acc += pot;
                continue;
            }
            for i in 0..data.chunk_len(c) {
                let row = c * CHUNK + i;
                acc += data.weight(row) * block.closest[local * CHUNK + i];
                if acc >= target && data.weight(row) > 0.0 {
                    return row;
                }
            }
        }
    }
    // Rounding left the target just out of reach: the last positive-weight row.
    last_positive()
}

/// Weighted greedy k-means++: the rows chosen as the `k` initial centers.
pub(crate) fn kmeans_plusplus(data: &Chunked, k: usize, rng: &mut ChaCha8Rng, par: &Parallel) -> Vec<usize> {
    let n_trials = 2 + (k as f64).ln().floor() as usize;
    let first = {
        let target = rng.random::<f64>() * data.total_weight;
        let mut acc = 0.0;
        (0..data.n)
            .find(|&r| {
                acc += data.weight(r);
                acc >= target && data.weight(r) > 0.0
            })
            .unwrap_or_else(|| (0..data.n).rev().find(|&r| data.weight(r) > 0.0).unwrap_or(0))
    };
    let mut rows = vec![first];
    let mut blocks: Vec<SeedBlock> = (0..data.n_blocks()).map(|_| SeedBlock::new(n_trials)).collect();
    // One pass: every candidate's effect per block; then the best candidate becomes the state.
    let evaluate = |candidates: &[Vec<f64>], blocks: &mut Vec<SeedBlock>| -> usize {
        par.for_each(blocks, |b, block| {
            dispatch(CandidateBlock { data, range: data.block_chunks(b), candidates, block })
        });
        let totals: Vec<f64> = (0..candidates.len())
            .map(|t| {
                blocks.iter().enumerate().map(|(b, bl)| bl.trial_total(t, data.block_chunks(b).len())).sum()
            })
            .collect();
        let best =
            (0..candidates.len()).min_by(|&a, &b| totals[a].total_cmp(&totals[b])).expect("a candidate");
        let point = &candidates[best];
        par.for_each(blocks, |b, block| {
            dispatch(AcceptBlock { data, range: data.block_chunks(b), t: best, point, block })
        });
        best
    };
    evaluate(&[point(data, first)], &mut blocks);
    while rows.len() < k {
        let current: f64 = blocks.iter().flat_map(|b| b.chunk_pot.iter()).sum();
        let picks: Vec<usize> =
            (0..n_trials).map(|_| sample_row(data, &blocks, rng.random::<f64>() * current)).collect();
        let candidates: Vec<Vec<f64>> = picks.iter().map(|&r| point(data, r)).collect();
        let best = evaluate(&candidates, &mut blocks);
        rows.push(picks[best]);
    }
    rows
}

/// Per-block results of one Lloyd assignment pass.
#[derive(Clone)]
struct AssignStats {
    sums: Vec<f64>,
    counts: Vec<f64>,
    changed: usize,
    /// (distance to own center, row) of the block's `k` farthest positive-weight points, the
    /// candidates for empty clusters (at most `k` clusters can be empty).
    farthest: Farthest,
}

struct AssignBlock<'a> {
    data: &'a Chunked,
    range: std::ops::Range<usize>,
    centers: &'a [f64],
    k: usize,
    labels: &'a mut [u32],
    stats: &'a mut AssignStats,
}

impl Kernel for AssignBlock<'_> {
    type Output = ();
    #[inline(always)]
    fn run<A: Arith>(self) {
        let d = self.data.d;
        let st = self.stats;
        st.sums.fill(0.0);
        st.counts.fill(0.0);
        st.changed = 0;
        st.farthest.clear();
        let first = self.range.start;
        let mut dist = [0.0; CHUNK];
        let mut best = [f64::INFINITY; CHUNK];
        let mut label = [0u32; CHUNK];
        for c in self.range {
            best.fill(f64::INFINITY);
            // Exact pruning: every point of the chunk is within `reach` of some center, so a
            // center farther than that from the whole bounding box cannot be nearest.
            let reach = (0..self.k)
                .map(|k| farthest_corner(self.data, c, &self.centers[k * d..(k + 1) * d]))
                .fold(f64::INFINITY, f64::min);
            for k in 0..self.k {
                if box_distance(self.data, c, &self.centers[k * d..(k + 1) * d]) > reach {
                    continue;
                }
                distances::<A>(self.data.chunk(c).0, d, &self.centers[k * d..(k + 1) * d], &mut dist);
                for i in 0..CHUNK {
                    let better = dist[i] < best[i];
                    best[i] = if better { dist[i] } else { best[i] };
                    label[i] = if better { k as u32 } else { label[i] };
                }
            }
            let (xs, w) = self.data.chunk(c);
            for i in 0..self.data.chunk_len(c) {
                let slot = (c - first) * CHUNK + i;
                if self.labels[slot] != label[i] {
                    st.changed += 1;
                    self.labels[slot] = label[i];
                }
                let l = label[i] as usize;
                st.counts[l] += w[i];
                for j in 0..d {
                    st.sums[l * d + j] += w[i] * xs[j * CHUNK + i];
                }
                if w[i] > 0.0 {
                    st.farthest.offer(self.k, (best[i], c * CHUNK + i));
                }
            }
        }
    }
}

/// The `k` farthest points seen (unordered), with the smallest distance among them cached so
/// that most points are turned away in one comparison.
#[derive(Clone, Default)]
struct Farthest {
    items: Vec<(f64, usize)>,
    smallest: f64,
}

impl Farthest {
    fn clear(&mut self) {
        self.items.clear();
        self.smallest = f64::NEG_INFINITY;
    }

    #[inline(always)]
    fn offer(&mut self, k: usize, candidate: (f64, usize)) {
        if self.items.len() == k && candidate.0 <= self.smallest {
            return;
        }
        if self.items.len() < k {
            self.items.push(candidate);
        } else {
            let at = self.items.iter().position(|e| e.0 == self.smallest).expect("the cached smallest");
            self.items[at] = candidate;
        }
        if self.items.len() == k {
            self.smallest = self.items.iter().fold(f64::INFINITY, |m, e| m.min(e.0));
        }
    }
}

/// Weighted Lloyd iterations from `centers`; returns the final labels (one per row).
pub(crate) fn lloyd(data: &Chunked, mut centers: Vec<f64>, k: usize, par: &Parallel) -> Vec<u32> {
    let d = data.d;
    let tol = TOL * mean_variance(data);
    let mut labels = vec![u32::MAX; data.n_chunks * CHUNK];
    let mut stats = vec![
        AssignStats {
            sums: vec![0.0; k * d],
            counts: vec![0.0; k],
            changed: 0,
            farthest: Farthest::default()
        };
        data.n_blocks()
    ];
    let block_len = BLOCK_CHUNKS * CHUNK;
    let assign = |centers: &[f64], labels: &mut Vec<u32>, stats: &mut Vec<AssignStats>| {
        let mut pairs: Vec<(&mut [u32], &mut AssignStats)> =
            labels.chunks_mut(block_len).zip(stats.iter_mut()).collect();
        par.for_each(&mut pairs, |b, (labels, stats)| {
            dispatch(AssignBlock { data, range: data.block_chunks(b), centers, k, labels, stats })
        });
    };
    let mut new_centers = vec![0.0; k * d];
    let mut converged_strictly = false;
    for iteration in 0..MAX_ITER {
        assign(&centers, &mut labels, &mut stats);
        let (mut sums, mut counts) = (vec![0.0; k * d], vec![0.0; k]);
        for st in &stats {
            sums.iter_mut().zip(&st.sums).for_each(|(a, b)| *a += b);
            counts.iter_mut().zip(&st.counts).for_each(|(a, b)| *a += b);
        }
        // Empty clusters move to the points farthest from their centers, each taken out of the
        // cluster it was in (scikit-learn's `_relocate_empty_clusters`).
        let empty: Vec<usize> = (0..k).filter(|&c| counts[c] <= 0.0).collect();
        if !empty.is_empty() {
            let mut far: Vec<(f64, usize)> =
                stats.iter().flat_map(|s| s.farthest.items.iter().copied()).collect();
            far.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            for (&c, &(_, row)) in empty.iter().zip(&far) {
                let (old, w) = (labels[row] as usize, data.weight(row));
                for j in 0..d {
                    let x = data.value(row, j);
                    sums[old * d + j] -= w * x;
                    sums[c * d + j] = w * x;
                }
                counts[old] -= w;
                counts[c] = w;
            }
        }
        for c in 0..k {
            if counts[c] > 0.0 {
                for j in 0..d {
                    new_centers[c * d + j] = sums[c * d + j] / counts[c];
                }
            } else {
                new_centers[c * d..(c + 1) * d].copy_from_slice(&centers[c * d..(c + 1) * d]);
            }
        }
        let changed: usize = stats.iter().map(|s| s.changed).sum();
        if iteration > 0 && changed == 0 {
            converged_strictly = true;
            break;
        }
        let shift: f64 = centers.iter().zip(&new_centers).map(|(a, b)| (a - b) * (a - b)).sum();
        std::mem::swap(&mut centers, &mut new_centers);
        if shift <= tol {
            break;
        }
    }
    if !converged_strictly {
        assign(&centers, &mut labels, &mut stats);
    }
    labels
}

/// Mean over features of the weighted variance of the data (two-pass).
fn mean_variance(data: &Chunked) -> f64 {
    let d = data.d;
    let mut total = 0.0;
    for j in 0..d {
        let mut mean = 0.0;
        for c in 0..data.n_chunks {
            let (xs, w) = data.chunk(c);
            mean += (0..CHUNK).map(|i| w[i] * xs[j * CHUNK + i]).sum::<f64>();
        }
        mean /= data.total_weight;
        let mut var = 0.0;
        for c in 0..data.n_chunks {
            let (xs, w) = data.chunk(c);
            var += (0..CHUNK).map(|i| w[i] * (xs[j * CHUNK + i] - mean).powi(2)).sum::<f64>();
        }
        total += var / data.total_weight;
    }
    total / d as f64
}

/// Full k-means (k-means++ seeding + Lloyd), returning one label per row.
pub(crate) fn kmeans(data: &Chunked, k: usize, rng: &mut ChaCha8Rng, par: &Parallel) -> Vec<u32> {
    let rows = kmeans_plusplus(data, k, rng, par);
    let centers: Vec<f64> = rows.iter().flat_map(|&r| point(data, r)).collect();
    lloyd(data, centers, k, par)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Three tight clusters and five starting centers, two of them far from every point: both
    /// empty clusters are relocated (to the farthest points, taken out of their clusters), and
    /// every cluster ends non-empty.
    #[test]
    fn several_empty_clusters_are_all_relocated() {
        let x = Array2::from_shape_fn((600, 2), |(i, j)| {
            let centre = [0.0, 10.0, 20.0][i % 3];
            centre + ((i * 7 + j * 13) % 17) as f64 / 17.0
        });
        let data = Chunked::new(x.view(), None);
        let par = Parallel::new(Some(1)).unwrap();
        let centers = vec![0.5, 0.5, 10.5, 10.5, 20.5, 20.5, 1e6, 1e6, -1e6, -1e6];
        let labels = lloyd(&data, centers, 5, &par);
        let mut used = [0usize; 5];
        for &l in &labels[..data.n] {
            used[l as usize] += 1;
        }
        assert!(used.iter().all(|&n| n > 0), "{used:?}");
    }
}

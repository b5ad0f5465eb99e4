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

use crate::data::{Chunked, BLOCK_CHUNKS, CHUNK};
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
        let x: &[f64; CHUNK] = xs[j * CHUNK..(j + 1) * CHUNK].try_into().unwrap();
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

/// For every candidate: `min(closest, |x - cand|^2)` per point of the block (written to
/// `trial`, laid out `[candidate][block lanes]`), and its weighted sum.
struct CandidateBlock<'a> {
    data: &'a Chunked,
    range: std::ops::Range<usize>,
    candidates: &'a [Vec<f64>],
    closest: &'a [f64],
    trial: &'a mut [f64],
    pots: &'a mut [f64],
}

impl Kernel for CandidateBlock<'_> {
    type Output = ();
    #[inline(always)]
    fn run<A: Arith>(self) {
        let mut dist = [0.0; CHUNK];
        let block_len = BLOCK_CHUNKS * CHUNK;
        let first = self.range.start;
        for (t, cand) in self.candidates.iter().enumerate() {
            let mut pot = 0.0;
            for c in self.range.clone() {
                let (xs, w) = self.data.chunk(c);
                distances::<A>(xs, self.data.d, cand, &mut dist);
                let closest = &self.closest[c * CHUNK..(c + 1) * CHUNK];
                let at = t * block_len + (c - first) * CHUNK;
                let out = &mut self.trial[at..at + CHUNK];
                let mut chunk_pot = 0.0;
                for i in 0..CHUNK {
                    out[i] = closest[i].min(dist[i]);
                    chunk_pot += w[i] * out[i];
                }
                pot += chunk_pot;
            }
            self.pots[t] = pot;
        }
    }
}

/// Picks the row whose cumulative `w * dist` first reaches `target`.
fn sample_row(data: &Chunked, dist: &[f64], block_pots: &[f64], target: f64) -> usize {
    let mut acc = 0.0;
    for (b, &pot) in block_pots.iter().enumerate() {
        if acc + pot >= target || b + 1 == block_pots.len() {
            for c in data.block_chunks(b) {
                for i in 0..data.chunk_len(c) {
                    let row = c * CHUNK + i;
                    acc += data.weight(row) * dist[row];
                    if acc >= target && data.weight(row) > 0.0 {
                        return row;
                    }
                }
            }
            // Rounding left the target just out of reach: the last positive-weight row.
            return (0..data.n)
                .rev()
                .find(|&r| data.weight(r) > 0.0 && dist[r] > 0.0)
                .unwrap_or(0);
        }
        acc += pot;
    }
    0
}

/// Weighted greedy k-means++: the rows chosen as the `k` initial centers.
pub(crate) fn kmeans_plusplus(
    data: &Chunked,
    k: usize,
    rng: &mut ChaCha8Rng,
    par: &Parallel,
) -> Vec<usize> {
    let n_trials = 2 + (k as f64).ln().floor() as usize;
    let block_len = BLOCK_CHUNKS * CHUNK;
    let len = data.n_chunks * CHUNK;
    let first = {
        let target = rng.random::<f64>() * data.total_weight;
        let mut acc = 0.0;
        (0..data.n)
            .find(|&r| {
                acc += data.weight(r);
                acc >= target && data.weight(r) > 0.0
            })
            .unwrap_or_else(|| {
                (0..data.n)
                    .rev()
                    .find(|&r| data.weight(r) > 0.0)
                    .unwrap_or(0)
            })
    };
    let mut rows = vec![first];
    let mut closest = vec![f64::INFINITY; len];
    let mut trial = vec![0.0; data.n_blocks() * n_trials * block_len];
    let mut pots = vec![0.0; data.n_blocks() * n_trials];
    // One pass: every candidate's distances and potentials; then the chosen one becomes `closest`.
    let mut evaluate =
        |candidates: &[Vec<f64>], closest: &mut Vec<f64>, pots: &mut Vec<f64>| -> (usize, f64) {
            let nt = candidates.len();
            {
                let mut work: Vec<(&mut [f64], &mut [f64])> = trial
                    .chunks_mut(n_trials * block_len)
                    .zip(pots.chunks_mut(n_trials))
                    .collect();
                let closest: &[f64] = closest;
                par.for_each(&mut work, |b, (trial, pots)| {
                    dispatch(CandidateBlock {
                        data,
                        range: data.block_chunks(b),
                        candidates,
                        closest,
                        trial,
                        pots,
                    })
                });
            }
            let totals: Vec<f64> = (0..nt)
                .map(|t| pots.chunks(n_trials).map(|p| p[t]).sum())
                .collect();
            let best = (0..nt)
                .min_by(|&a, &b| totals[a].total_cmp(&totals[b]))
                .expect("a candidate");
            for b in 0..data.n_blocks() {
                let n_rows = data.block_chunks(b).len() * CHUNK;
                let from = &trial[(b * n_trials + best) * block_len..][..n_rows];
                closest[b * block_len..b * block_len + n_rows].copy_from_slice(from);
            }
            (best, totals[best])
        };
    evaluate(&[point(data, first)], &mut closest, &mut pots);
    while rows.len() < k {
        let per_block: Vec<f64> = pots.chunks(n_trials).map(|p| p[0]).collect();
        let current: f64 = per_block.iter().sum();
        let picks: Vec<usize> = (0..n_trials)
            .map(|_| sample_row(data, &closest, &per_block, rng.random::<f64>() * current))
            .collect();
        let candidates: Vec<Vec<f64>> = picks.iter().map(|&r| point(data, r)).collect();
        let (best, _) = evaluate(&candidates, &mut closest, &mut pots);
        // Keep the chosen candidate's block potentials in slot 0 for the next draw.
        for p in pots.chunks_mut(n_trials) {
            p[0] = p[best];
        }
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
    /// (distance to own center, row) of the block's farthest positive-weight point.
    farthest: (f64, usize),
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
        st.farthest = (-1.0, 0);
        let first = self.range.start;
        let mut dist = [0.0; CHUNK];
        let mut best = [f64::INFINITY; CHUNK];
        let mut label = [0u32; CHUNK];
        for c in self.range {
            best.fill(f64::INFINITY);
            for k in 0..self.k {
                distances::<A>(
                    self.data.chunk(c).0,
                    d,
                    &self.centers[k * d..(k + 1) * d],
                    &mut dist,
                );
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
                if w[i] > 0.0 && best[i] > st.farthest.0 {
                    st.farthest = (best[i], c * CHUNK + i);
                }
            }
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
            farthest: (0.0, 0),
        };
        data.n_blocks()
    ];
    let block_len = BLOCK_CHUNKS * CHUNK;
    let assign = |centers: &[f64], labels: &mut Vec<u32>, stats: &mut Vec<AssignStats>| {
        let mut pairs: Vec<(&mut [u32], &mut AssignStats)> =
            labels.chunks_mut(block_len).zip(stats.iter_mut()).collect();
        par.for_each(&mut pairs, |b, (labels, stats)| {
            dispatch(AssignBlock {
                data,
                range: data.block_chunks(b),
                centers,
                k,
                labels,
                stats,
            })
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
        // Empty clusters move to the points farthest from their centers (as scikit-learn does).
        let mut far: Vec<(f64, usize)> = stats
            .iter()
            .map(|s| s.farthest)
            .filter(|f| f.0 >= 0.0)
            .collect();
        far.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut far = far.into_iter();
        for c in 0..k {
            if counts[c] > 0.0 {
                for j in 0..d {
                    new_centers[c * d + j] = sums[c * d + j] / counts[c];
                }
            } else if let Some((_, row)) = far.next() {
                new_centers[c * d..(c + 1) * d].copy_from_slice(&point(data, row));
            } else {
                new_centers[c * d..(c + 1) * d].copy_from_slice(&centers[c * d..(c + 1) * d]);
            }
        }
        let changed: usize = stats.iter().map(|s| s.changed).sum();
        if iteration > 0 && changed == 0 {
            converged_strictly = true;
            break;
        }
        let shift: f64 = centers
            .iter()
            .zip(&new_centers)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
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
            var += (0..CHUNK)
                .map(|i| w[i] * (xs[j * CHUNK + i] - mean).powi(2))
                .sum::<f64>();
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

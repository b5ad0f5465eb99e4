//! k-means|| initialisation (Bahmani et al., VLDB 2012) in per-block pieces, and the first
//! mixture from hard assignments: see the parent module's overview.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{check_block, Element, Layout};
use crate::chunks::Chunked;
use crate::covariance::{CovarianceType, SuffStats};
use crate::error::{Error, Input, Result};
use crate::model::Mixture;
use crate::mstep::{m_step, MStepScratch, WeightNorm};
use crate::parallel::Parallel;
use crate::{kmeans, validate};

/// A row permutation of `x` along a Morton (Z-order) curve of its first three coordinates:
/// reordering a block's rows by it makes its chunks compact, which is what lets culling skip
/// far components. Sums do not depend on the order beyond rounding.
pub fn spatial_order<T: Element>(x: ArrayView2<T>) -> Vec<usize> {
    crate::chunks::spatial_order(x, None).into_rows()
}

/// Squared distance from every row of `x` to its nearest row of `centers`, or to `previous`
/// if that is nearer (k-means||'s cost pass, incremental over rounds).
pub fn min_sq_distances<T: Element>(
    x: ArrayView2<T>,
    centers: ArrayView2<f64>,
    previous: Option<ArrayView1<f64>>,
) -> Result<Array1<f64>> {
    check_block(x, None, centers.ncols())?;
    if let Some(p) = previous {
        if p.len() != x.nrows() {
            return Err(Error::WrongShape {
                input: Input::X,
                expected: format!("({},)", x.nrows()),
                found: format!("({},)", p.len()),
            });
        }
    }
    let centers = centers.as_standard_layout();
    let d = centers.ncols();
    let flat = centers.as_slice().expect("standard layout");
    let mut point = vec![0.0; d];
    Ok(Array1::from_shape_fn(x.nrows(), |i| {
        point.iter_mut().zip(x.row(i)).for_each(|(p, &v)| *p = v.into());
        let start = previous.map_or(f64::INFINITY, |p| p[i]);
        flat.chunks_exact(d.max(1))
            .fold(start, |best, c| best.min(point.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum()))
    }))
}

/// k-means||'s sampling pass over one block: row `i` is kept with probability
/// `min(1, oversampling * w_i * d2_i / cost)`; the draws depend only on `(seed, block, round)`.
pub fn sample_candidates<T: Element>(
    x: ArrayView2<T>,
    w: Option<ArrayView1<f64>>,
    d2: ArrayView1<f64>,
    oversampling: f64,
    cost: f64,
    seed: u64,
    block: u64,
    round: u64,
) -> Result<Array2<f64>> {
    check_block(x, w, x.ncols())?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((block << 16) ^ round);
    let mut rows = Vec::new();
    for i in 0..x.nrows() {
        let u: f64 = rng.random();
        let p = oversampling * w.map_or(1.0, |w| w[i]) * d2[i] / cost;
        if cost > 0.0 && u < p {
            rows.extend(x.row(i).iter().map(|&v| v.into()));
        }
    }
    let n_kept = rows.len() / x.ncols().max(1);
    Array2::from_shape_vec((n_kept, x.ncols()), rows)
        .map_err(|e| Error::InvalidModel { message: e.to_string() })
}

/// The row of a block that holds the cumulative weight `u * sum_i w_i` (`u` in `[0, 1)`):
/// a draw proportional to weight, for k-means||'s first center.
pub fn weighted_row(n: usize, w: Option<ArrayView1<f64>>, u: f64) -> usize {
    match w {
        None => ((u * n as f64) as usize).min(n.saturating_sub(1)),
        Some(w) => {
            let target = u * w.sum();
            let mut acc = 0.0;
            for (i, &v) in w.iter().enumerate() {
                acc += v;
                if acc > target && v > 0.0 {
                    return i;
                }
            }
            w.iter().rposition(|&v| v > 0.0).unwrap_or(0)
        }
    }
}

/// The index of the nearest row of `centers` (flat, `d` per row) to `point`.
fn nearest(point: &[f64], centers: &[f64], d: usize) -> usize {
    let mut best = (f64::INFINITY, 0);
    for (c, center) in centers.chunks_exact(d.max(1)).enumerate() {
        let dist: f64 = point.iter().zip(center).map(|(a, b)| (a - b) * (a - b)).sum();
        if dist < best.0 {
            best = (dist, c);
        }
    }
    best.1
}

/// Per candidate, the weight of the rows of the block nearest to it.
pub fn candidate_weights<T: Element>(
    x: ArrayView2<T>,
    w: Option<ArrayView1<f64>>,
    candidates: ArrayView2<f64>,
) -> Result<Array1<f64>> {
    check_block(x, w, candidates.ncols())?;
    let candidates = candidates.as_standard_layout();
    let (flat, d) = (candidates.as_slice().expect("standard layout"), candidates.ncols());
    let mut out = Array1::zeros(candidates.nrows());
    let mut point = vec![0.0; d];
    for (i, r) in x.outer_iter().enumerate() {
        point.iter_mut().zip(r).for_each(|(p, &v)| *p = v.into());
        out[nearest(&point, flat, d)] += w.map_or(1.0, |w| w[i]);
    }
    Ok(out)
}

/// The last step of k-means||, on one machine: weighted k-means++ seeding and Lloyd's
/// iterations over the (few) weighted candidates; returns `k` centers.
pub fn reduce_candidates(
    candidates: ArrayView2<f64>,
    weights: ArrayView1<f64>,
    k: usize,
    seed: u64,
) -> Result<Array2<f64>> {
    validate::data(candidates)?;
    let positive = validate::sample_weight(weights, candidates.nrows())?;
    if positive < k {
        return Err(Error::TooFewSamples { n_samples: positive, n_components: k });
    }
    let d = candidates.ncols();
    let data = Chunked::new(candidates, Some(weights));
    let par = Parallel::new(Some(1))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rows = kmeans::kmeans_plusplus(&data, k, &mut rng, &par);
    let seeds: Vec<f64> =
        rows.iter().flat_map(|&r| (0..d).map(move |j| (r, j))).map(|(r, j)| data.value(r, j)).collect();
    let labels = kmeans::lloyd(&data, seeds.clone(), k, &par);
    let (mut sums, mut counts) = (vec![0.0; k * d], vec![0.0; k]);
    for row in 0..data.n {
        let (l, wt) = (labels[row] as usize, data.weight(row));
        counts[l] += wt;
        for j in 0..d {
            sums[l * d + j] += wt * data.value(row, j);
        }
    }
    Ok(Array2::from_shape_fn((k, d), |(c, j)| {
        if counts[c] > 0.0 {
            sums[c * d + j] / counts[c]
        } else {
            seeds[c * d + j]
        }
    }))
}

/// Statistics of hard assignments to the nearest of `centers` (around the centers), in the
/// layout of a `kind` mixture: the first mixture of a k-means initialisation.
pub fn hard_statistics<T: Element>(
    kind: CovarianceType,
    centers: ArrayView2<f64>,
    x: ArrayView2<T>,
    w: Option<ArrayView1<f64>>,
) -> Result<Vec<f64>> {
    let (k, d) = centers.dim();
    if k == 0 {
        return Err(Error::InvalidParameter {
            name: "centers",
            value: "no rows".into(),
            expected: "hard statistics need at least one center.",
        });
    }
    check_block(x, w, d)?;
    let centers = centers.as_standard_layout();
    let flat = centers.as_slice().expect("standard layout");
    let layout = Layout::new(kind, k, d);
    let mut stats = SuffStats::new(kind, k, d);
    let (mut point, mut dx, mut total) = (vec![0.0; d], vec![0.0; d], 0.0);
    for (i, r) in x.outer_iter().enumerate() {
        point.iter_mut().zip(r).for_each(|(p, &v)| *p = v.into());
        let wt = w.map_or(1.0, |w| w[i]);
        total += wt;
        let c = nearest(&point, flat, d);
        stats.add_point(kind, c, wt, &point, &flat[c * d..(c + 1) * d], &mut dx);
    }
    let mut out = vec![0.0; layout.len()];
    layout.push(&stats, total, x.nrows(), &mut out);
    Ok(out)
}

/// The first mixture from summed [`hard_statistics`] around `centers`, as the in-memory
/// k-means initialisation makes it (weights `N_k / sum_i w_i`).
pub fn mixture_from_hard_statistics(
    kind: CovarianceType,
    centers: ArrayView2<f64>,
    summed: &[f64],
    reg_covar: f64,
) -> Result<Mixture> {
    let (k, d) = centers.dim();
    let layout = Layout::new(kind, k, d);
    let (stats, total_weight) = super::unpack_checked(&layout, summed)?;
    let shifts: Vec<f64> = centers.iter().copied().collect();
    let mut m = Mixture::zeros(kind, k, d);
    let mut scratch = MStepScratch::new(k, d);
    m_step(&stats, &shifts, reg_covar, WeightNorm::TotalWeight(total_weight), &mut m, &mut scratch)?;
    Ok(m)
}

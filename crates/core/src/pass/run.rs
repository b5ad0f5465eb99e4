//! Blocks of chunks over threads: each block's result lands in its own slot and the slots are
//! reduced in block order, so results never depend on the number of threads.

use std::sync::Mutex;

use super::blocks::{EmBlock, ScoreBlock, ScoreOutput};
use crate::chunks::{Chunked, RowOrder, Scratch, BLOCK_CHUNKS, CHUNK};
use crate::covariance::{Prepared, SuffStats};
use crate::kernels::dispatch;
use crate::model::Mixture;
use crate::parallel::Parallel;

/// The parameters of `m` prepared for the kernels, culling on or off.
pub(crate) fn prepared(m: &Mixture, cull: bool) -> Prepared {
    let mut p = Prepared::new(m.covariance_type(), m.n_components(), m.n_features());
    p.cull = cull;
    refresh(&mut p, m);
    p
}

/// Copies the parameters of `m` (same shape) into `p` without allocating.
pub(crate) fn refresh(p: &mut Prepared, m: &Mixture) {
    p.update(m.weights_slice(), m.means_slice(), m.precisions_cholesky_slice());
    p.set_background(m.background());
}

/// One scratch per worker thread of `par`, for `k` components in `d` dimensions.
pub(crate) fn worker_scratch(par: &Parallel, k: usize, d: usize) -> Vec<Mutex<Scratch>> {
    (0..par.n_threads()).map(|_| Mutex::new(Scratch::new(k, d))).collect()
}

/// Runs `block(b, scratch, stats)` for every block of `data` on `par`, each into its own slot
/// of `block_stats`, then sums the slots in block order into `total`.
pub(crate) fn reduce_blocks(
    data: &Chunked,
    par: &Parallel,
    scratch: &[Mutex<Scratch>],
    block_stats: &mut [SuffStats],
    total: &mut SuffStats,
    block: impl Fn(std::ops::Range<usize>, &mut Scratch, &mut SuffStats) + Sync + Send,
) {
    par.for_each(block_stats, |b, stats| {
        stats.clear();
        // A worker's scratch is only ever locked by that worker: a poisoned lock can only
        // come from a panic already on its way up, so its scratch is taken as it is.
        let mut scratch = scratch[par.worker()].lock().unwrap_or_else(|e| e.into_inner());
        block(data.block_chunks(b), &mut scratch, stats)
    });
    total.clear();
    for b in block_stats.iter() {
        total.add(b);
    }
}

/// The fused EM pass over all of `data` under `prepared`, into `total`.
pub(crate) fn em_statistics(
    prepared: &Prepared,
    data: &Chunked,
    par: &Parallel,
    scratch: &[Mutex<Scratch>],
    block_stats: &mut [SuffStats],
    total: &mut SuffStats,
) {
    reduce_blocks(data, par, scratch, block_stats, total, |range, scratch, stats| {
        dispatch(EmBlock { prepared, data, range, scratch, stats })
    });
}

/// A scoring pass: `per_row` values of `what` for every row of `data`, in chunked order, on
/// `par`'s threads (or rayon's global pool when `par` is `None`).
pub(crate) fn score(
    prepared: &Prepared,
    data: &Chunked,
    what: ScoreOutput,
    par: Option<&Parallel>,
) -> Vec<f64> {
    let per_row =
        if what == ScoreOutput::Responsibilities { prepared.k + prepared.background_columns() } else { 1 };
    let block_rows = BLOCK_CHUNKS * CHUNK;
    let mut out = vec![0.0; data.n * per_row];
    let mut blocks: Vec<&mut [f64]> = out.chunks_mut(block_rows * per_row).collect();
    let run = |b: usize, rows: &mut &mut [f64], scratch: &mut Scratch| {
        dispatch(ScoreBlock { prepared, data, range: data.block_chunks(b), scratch, what, out: rows })
    };
    match par {
        Some(par) => {
            let scratch = worker_scratch(par, prepared.k, prepared.d);
            par.for_each(&mut blocks, |b, rows| {
                let mut scratch = scratch[par.worker()].lock().unwrap_or_else(|e| e.into_inner());
                run(b, rows, &mut scratch)
            });
        }
        None => {
            use rayon::prelude::*;
            blocks.par_iter_mut().enumerate().for_each_init(
                || Scratch::new(prepared.k, prepared.d),
                |scratch, (b, rows)| run(b, rows, scratch),
            );
        }
    }
    out
}

/// Labels (`argmax_k` of the weighted log-densities under `prepared`) of every row, in the
/// original row order. The one `N`-long buffer is put in row order and turned into labels in
/// place.
pub(crate) fn labels(prepared: &Prepared, data: &Chunked, par: &Parallel) -> Vec<usize> {
    let mut values = score(prepared, data, ScoreOutput::Label, Some(par));
    if let Some(order) = &data.order {
        permute_in_place(&mut values, order);
    }
    // f64 and usize have the same size, so this collect reuses the buffer.
    values.into_iter().map(|v| v as usize).collect()
}

/// `values[order[p]] = old values[p]` for every `p`, following the permutation's cycles with
/// one bit of bookkeeping per value instead of a second buffer.
fn permute_in_place(values: &mut [f64], order: &RowOrder) {
    let mut done = vec![false; values.len()];
    for start in 0..values.len() {
        if done[start] {
            continue;
        }
        let (mut at, mut carry) = (start, values[start]);
        loop {
            done[at] = true;
            let to = order.row(at);
            std::mem::swap(&mut carry, &mut values[to]);
            if to == start {
                break;
            }
            at = to;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::permute_in_place;
    use crate::chunks::RowOrder;

    #[test]
    fn permuting_in_place_equals_scattering_into_a_copy() {
        let order = [3usize, 0, 4, 1, 2, 6, 5, 7];
        let values: Vec<f64> = (0..8).map(|v| v as f64 * 1.5).collect();
        let mut want = vec![0.0; 8];
        for (p, &to) in order.iter().enumerate() {
            want[to] = values[p];
        }
        for permutation in
            [RowOrder::Wide(order.to_vec()), RowOrder::Compact(order.map(|r| r as u32).to_vec())]
        {
            let mut got = values.clone();
            permute_in_place(&mut got, &permutation);
            assert_eq!(got, want);
        }
    }
}

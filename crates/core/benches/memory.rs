//! Working memory of an in-memory fit beyond its input: the peak of the heap, counted by
//! dhat's allocator (started after the input exists), while `GaussianMixture::fit` runs on data already
//! in memory (as from Python or after the CLI has read its file).
//!
//! `cargo bench -p einmix --bench memory` (add `-- --quick` for a tenth of the rows). Prints,
//! per case, the data's size, the peak heap above what was allocated before the fit, and their
//! ratio (the target: at most 2x for the default initialisation).

use einmix::{datasets, CovarianceType, GaussianMixture};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

// dhat's allocator counts every allocation while a profiler runs (and passes through otherwise).
#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// Peak heap (bytes) allocated while `f` runs, above what was allocated before it.
fn peak_beyond(f: impl FnOnce()) -> usize {
    let profiler = dhat::Profiler::builder().testing().build();
    f();
    let peak = dhat::HeapStats::get().max_bytes;
    drop(profiler);
    peak
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    println!("| case | data | peak beyond the input | ratio |");
    println!("|---|---|---|---|");
    let (_, seed) = datasets::seed_workload(10_000_000 / scale, 50, 1);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let wide =
        Array2::from_shape_fn((1_000_000 / scale, 16), |(i, _)| (i % 50) as f64 * 3.0 + rng.random::<f64>());
    for (name, x) in [("D=2 (seed workload)", &seed), ("D=16", &wide)] {
        let spec = GaussianMixture::new(50).covariance_type(CovarianceType::Full).random_state(0).max_iter(5);
        let peak = peak_beyond(|| {
            let fit = spec.fit(x.view(), None).expect("fit");
            std::hint::black_box(fit);
        });
        let data = x.len() * std::mem::size_of::<f64>();
        let mb = |b: usize| b as f64 / 1e6;
        println!(
            "| {name}, N={}, K=50, full, kmeans init | {:.0} MB | {:.0} MB | {:.2}x |",
            x.nrows(),
            mb(data),
            mb(peak),
            peak as f64 / data as f64
        );
    }
}

//! The core benchmark: milliseconds per EM iteration on the seed workload and a grid.
//!
//! `cargo bench -p einmix --bench em` (add `-- --quick` for fewer repetitions). Prints a
//! markdown table of medians; per-iteration figures start from a fixed initialisation (the
//! k-means++ initialisation of a separate fit) and count EM iterations only (`FitInfo::em_time`:
//! no data layout, no final labels); the whole-fit figures are wall time including k-means++. Threads 1 and 2 give bitwise identical fits.

use std::time::Instant;

use einmix::{datasets, CovarianceType, FitOptions, GaussianMixture, InitParams, Mixture};
use ndarray::Array2;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

struct Case {
    name: String,
    x: Array2<f64>,
    kind: CovarianceType,
    k: usize,
}

/// The starting point of every timed run: a k-means++ initialisation, no EM.
fn start(case: &Case) -> Mixture {
    GaussianMixture::new(case.k)
        .covariance_type(case.kind)
        .init_params(InitParams::KMeansPlusPlus)
        .random_state(0)
        .max_iter(0)
        .fit(case.x.view(), None)
        .expect("init")
        .mixture
}

/// Median ms per EM iteration over `reps` runs of `iters` iterations (no convergence stop).
fn per_iteration(case: &Case, init: &Mixture, threads: usize, iters: usize, reps: usize) -> (f64, f64) {
    per_iteration_with(case, init, threads, iters, reps, true)
}

fn per_iteration_with(
    case: &Case,
    init: &Mixture,
    threads: usize,
    iters: usize,
    reps: usize,
    culling: bool,
) -> (f64, f64) {
    let spec = GaussianMixture::new(case.k)
        .covariance_type(case.kind)
        .max_iter(iters)
        .tol(0.0)
        .culling(culling)
        .final_labels(false)
        .n_threads(threads);
    let mut times = Vec::new();
    let mut lower_bound = 0.0;
    for _ in 0..reps {
        let fit = spec
            .fit_with(case.x.view(), None, FitOptions::new().warm_start(init, f64::NEG_INFINITY))
            .expect("fit");
        // EM iterations only: FitInfo::em_time excludes the data layout and (here) the labels.
        times.push(fit.info.em_time.as_secs_f64() * 1e3 / fit.info.total_iter as f64);
        lower_bound = fit.info.lower_bound;
    }
    (median(times), lower_bound)
}

fn whole_fit(case: &Case, threads: usize, reps: usize) -> (f64, f64, usize) {
    let spec = GaussianMixture::new(case.k)
        .covariance_type(case.kind)
        .init_params(InitParams::KMeansPlusPlus)
        .random_state(0)
        .n_threads(threads);
    let mut times = Vec::new();
    let mut init_times = Vec::new();
    let mut n_iter = 0;
    for _ in 0..reps {
        let t = Instant::now();
        let fit = spec.fit(case.x.view(), None).expect("fit");
        times.push(t.elapsed().as_secs_f64() * 1e3);
        init_times.push(fit.info.init_time.as_secs_f64() * 1e3);
        n_iter = fit.info.n_iter;
    }
    (median(times), median(init_times), n_iter)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps = if quick { 3 } else { 7 };
    println!("einmix core benchmark; kernels: {}; medians of {reps} runs", einmix::instruction_set());
    println!();
    let seed = |n, k, kind| {
        let (_, x) = datasets::seed_workload(n, k, 0);
        Case { name: format!("seed-like N={n} D=2 K={k} {kind}"), x, kind, k }
    };
    let random = |n: usize, d: usize, k: usize, kind| {
        let truth = datasets::random_mixture(kind, k, d, 6.0, 1);
        let (x, _) = truth.sample(n, 2);
        Case { name: format!("random N={n} D={d} K={k} {kind}"), x, kind, k }
    };

    // `--n-init` runs only the last section (runs at once against one after another).
    if !std::env::args().any(|a| a == "--n-init") {
        seed_and_grid(&seed, &random, reps);
    }
    n_init_section(&random, reps);
}

/// The seed workload's per-iteration and whole-fit figures, culling on and off, and the grid.
fn seed_and_grid(
    seed: &dyn Fn(usize, usize, CovarianceType) -> Case,
    random: &dyn Fn(usize, usize, usize, CovarianceType) -> Case,
    reps: usize,
) {
    println!("## Seed workload (N=130,000, D=2, K=50, full)");
    println!();
    let case = seed(130_000, 50, CovarianceType::Full);
    let init = start(&case);
    println!(
        "| threads | ms / EM iteration | whole fit incl. k-means++ (ms) | of which init (ms) | iterations |"
    );
    println!("|---|---|---|---|---|");
    let mut lbs = Vec::new();
    for threads in [1, 2] {
        let (ms, lb) = per_iteration(&case, &init, threads, 10, reps);
        let (fit_ms, init_ms, n_iter) = whole_fit(&case, threads, reps.min(5));
        lbs.push(lb);
        println!("| {threads} | {ms:.2} | {fit_ms:.1} | {init_ms:.1} | {n_iter} |");
    }
    println!();
    println!(
        "lower bound after 10 iterations: 1 thread {:.15}, 2 threads {:.15} (identical: {})",
        lbs[0],
        lbs[1],
        lbs[0] == lbs[1]
    );
    let (no_cull_1, lb_no_cull) = per_iteration_with(&case, &init, 1, 10, reps, false);
    let (no_cull_2, _) = per_iteration_with(&case, &init, 2, 10, reps, false);
    println!(
        "without culling: {no_cull_1:.2} ms (1 thread), {no_cull_2:.2} ms (2 threads) per iteration; \
         lower bound {lb_no_cull:.15} (relative difference {:.1e})",
        ((lb_no_cull - lbs[0]) / lb_no_cull).abs()
    );
    println!();

    println!("## Grid (ms per EM iteration, fixed initialisation)");
    println!();
    println!("| case | 1 thread | 2 threads | speed-up |");
    println!("|---|---|---|---|");
    let mut grid = vec![
        seed(1_000_000, 50, CovarianceType::Full),
        seed(130_000, 200, CovarianceType::Full),
        random(100_000, 16, 50, CovarianceType::Full),
        random(100_000, 64, 20, CovarianceType::Full),
    ];
    for kind in CovarianceType::ALL {
        grid.push(seed(130_000, 50, kind));
    }
    for case in &grid {
        let init = start(case);
        let iters = if case.x.nrows() * case.k * case.x.ncols().pow(2) > 50_000_000 { 3 } else { 10 };
        let (one, _) = per_iteration(case, &init, 1, iters, reps.min(5));
        let (two, _) = per_iteration(case, &init, 2, iters, reps.min(5));
        println!("| {} | {one:.2} | {two:.2} | {:.2}x |", case.name, one / two);
    }
}

/// `n_init = 8` with its runs at once (where a run leaves cores idle) and one after another.
fn n_init_section(random: &dyn Fn(usize, usize, usize, CovarianceType) -> Case, reps: usize) {
    println!();
    println!("## n_init = 8 on 2 threads: runs at once (where a run leaves cores idle) vs one after another");
    println!();
    println!("| case | at once (ms) | one after another (ms) | speed-up | same fit |");
    println!("|---|---|---|---|---|");
    for case in [random(4_000, 8, 6, CovarianceType::Full), random(12_000, 16, 8, CovarianceType::Diag)] {
        let spec =
            GaussianMixture::new(case.k).covariance_type(case.kind).n_init(8).random_state(0).n_threads(2);
        let time = |watched: bool| {
            let mut times = Vec::new();
            let mut lower_bounds = Vec::new();
            for _ in 0..reps {
                let mut ignore = |_: &einmix::Progress| {};
                // A progress observer sees the runs in order, so a watched fit runs them one
                // after another.
                let options =
                    if watched { FitOptions::new().progress(&mut ignore) } else { FitOptions::new() };
                let t = Instant::now();
                let fit = spec.fit_with(case.x.view(), None, options).expect("fit");
                times.push(t.elapsed().as_secs_f64() * 1e3);
                lower_bounds.push(fit.info.run_lower_bounds);
            }
            (median(times), lower_bounds.pop().expect("a repetition"))
        };
        let ((at_once, lb_at_once), (after, lb_after)) = (time(false), time(true));
        println!(
            "| {} | {at_once:.1} | {after:.1} | {:.2}x | {} |",
            case.name,
            after / at_once,
            lb_at_once == lb_after
        );
    }
}

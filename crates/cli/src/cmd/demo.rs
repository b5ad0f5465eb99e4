//! `einmix demo`: the seed workload, end to end, with nothing to download.

use std::process::ExitCode;
use std::time::Instant;

use einmix::{datasets, CovarianceType, GaussianMixture, InitParams};

use crate::args::DemoArgs;
use crate::error::CliError;

pub fn run(a: &DemoArgs) -> Result<ExitCode, CliError> {
    let t0 = Instant::now();
    let (truth, x) = datasets::seed_workload(a.n_samples, a.n_components, a.random_state);
    println!(
        "seed workload: {} points, D=2, {} anisotropic full-covariance Gaussians in a 512x512 box (seed {})",
        x.nrows(),
        a.n_components,
        a.random_state
    );
    println!(
        "generated in {:.1} ms; kernels: {}",
        t0.elapsed().as_secs_f64() * 1e3,
        einmix::instruction_set()
    );
    let mut spec = GaussianMixture::new(a.n_components)
        .covariance_type(CovarianceType::Full)
        .init_params(InitParams::KMeansPlusPlus)
        .random_state(a.random_state);
    if let Some(t) = a.threads {
        spec = spec.n_threads(t);
    }
    let mut iterations = Vec::new();
    let mut record = |p: &einmix::Progress| iterations.push((p.iteration, p.lower_bound, p.change));
    let fit = spec
        .fit_with(x.view(), None, einmix::FitOptions::new().progress(&mut record))
        .map_err(CliError::Demo)?;
    for (i, lb, change) in &iterations {
        if *i <= 3 || *i % 10 == 0 || *i == fit.info.n_iter {
            println!("  iteration {i:>3}  lower bound {lb:.10}  change {change:+.3e}");
        }
    }
    let info = &fit.info;
    let per_iter = info.em_time.as_secs_f64() * 1e3 / info.total_iter.max(1) as f64;
    println!(
        "{} after {} iterations; lower bound {:.10} (true model scores {:.10})",
        if info.converged { "converged" } else { "NOT converged" },
        info.n_iter,
        info.lower_bound,
        truth.score(x.view()).map_err(CliError::Demo)?
    );
    println!(
        "time: k-means++ init {:.1} ms, EM {:.1} ms = {:.2} ms per iteration",
        info.init_time.as_secs_f64() * 1e3,
        info.em_time.as_secs_f64() * 1e3,
        per_iter
    );
    let m = &fit.mixture;
    let w = m.weights();
    let (lo, hi) = w.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    println!(
        "fitted: {} components, weights {:.4}..{:.4}, BIC {:.1}",
        m.n_components(),
        lo,
        hi,
        m.bic(x.view()).map_err(CliError::Demo)?
    );
    println!("  k   weight      mean (row, col)        sd along axes (px)");
    let cov = m.covariances();
    for k in 0..m.n_components().min(5) {
        let c: Vec<f64> = (0..4).map(|i| cov[[k, i / 2, i % 2]]).collect();
        let (vals, _) = einmix::symmetric_eigen(&c, 2);
        println!(
            "  {k:<3} {:.4}   ({:>7.2}, {:>7.2})   {:>6.2} x {:>6.2}",
            w[k],
            m.means()[[k, 0]],
            m.means()[[k, 1]],
            vals[1].sqrt(),
            vals[0].sqrt()
        );
    }
    if m.n_components() > 5 {
        println!("  ... ({} more)", m.n_components() - 5);
    }
    Ok(ExitCode::SUCCESS)
}

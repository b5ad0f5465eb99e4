//! Prints a fingerprint (a hash of the exact bits) of the fitted parameters and scores of a grid
//! of fits: every covariance kind and initialisation, weighted and not, several dimensions, warm
//! starts, `n_init` restarts, the streamed and the blockwise fits, and the seed workload.
//!
//! A refactoring that must leave results unchanged is checked by running this before and after
//! and comparing the two outputs line by line:
//!
//! ```text
//! cargo run --release -p einmix --example fingerprint > before.txt
//! # ... change the code ...
//! cargo run --release -p einmix --example fingerprint | diff before.txt -
//! ```

use einmix::blockwise::{add, m_step_from_statistics, BlockStatistics, Layout};
use einmix::stream::Blocks;
use einmix::{datasets, CovarianceType, Fit, FitOptions, GaussianMixture, InitParams, Mixture};
use ndarray::{s, Array1, Array2};

/// FNV-1a over the bits of every value: equal fingerprints mean bitwise-equal values.
fn hash(values: impl IntoIterator<Item = f64>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for byte in v.to_bits().to_le_bytes() {
            h ^= byte as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn model_hash(m: &Mixture) -> u64 {
    let (w, mu, cov, chol) = (m.weights(), m.means(), m.covariances(), m.precisions_cholesky());
    hash(w.iter().chain(mu.iter()).chain(cov.iter()).chain(chol.iter()).copied())
}

fn report(name: &str, fit: &Fit, x: &Array2<f64>) {
    let m = &fit.mixture;
    let scores = m.score_samples(x.view()).expect("score");
    let proba = m.predict_proba(x.view()).expect("proba");
    let labels: Vec<f64> = fit.labels.iter().map(|&l| l as f64).collect();
    println!(
        "{name}: model {:016x} lb {:016x} n_iter {} labels {:016x} score {:016x} proba {:016x}",
        model_hash(m),
        fit.info.lower_bound.to_bits(),
        fit.info.n_iter,
        hash(labels),
        hash(scores.iter().copied()),
        hash(proba.iter().copied())
    );
}

fn main() {
    let (_, seed) = datasets::seed_workload(130_000, 50, 7);
    for kind in CovarianceType::ALL {
        let spec = GaussianMixture::new(50).covariance_type(kind).random_state(0);
        report(&format!("seed {kind}"), &spec.fit(seed.view(), None).expect("fit"), &seed);
    }
    for d in [1usize, 2, 3, 5, 10] {
        for kind in CovarianceType::ALL {
            let truth = datasets::random_mixture(kind, 6, d, 4.0, d as u64);
            let (x, _) = truth.sample(3_000, 11);
            let w = Array1::from_shape_fn(x.nrows(), |i| 0.25 + (i % 7) as f64 * 0.5);
            for init in InitParams::ALL {
                for weighted in [false, true] {
                    let weights = weighted.then_some(w.view());
                    let spec = GaussianMixture::new(6)
                        .covariance_type(kind)
                        .init_params(init)
                        .random_state(3)
                        .n_init(if init == InitParams::Random { 2 } else { 1 });
                    let fit = spec.fit(x.view(), weights).expect("fit");
                    report(&format!("d={d} {kind} {init} weighted={weighted}"), &fit, &x);
                    if init == InitParams::KMeans {
                        let warm = spec.clone().max_iter(5).tol(0.0);
                        let again = warm
                            .fit_with(x.view(), weights, FitOptions::new().warm_start_from(&fit))
                            .expect("warm");
                        report(&format!("d={d} {kind} warm weighted={weighted}"), &again, &x);
                        let streamed = spec
                            .fit_stream(&mut Blocks::new(x.view(), weights, 700), FitOptions::new())
                            .expect("stream");
                        println!(
                            "d={d} {kind} stream weighted={weighted}: model {:016x} lb {:016x} n_iter {}",
                            model_hash(&streamed.mixture),
                            streamed.info.lower_bound.to_bits(),
                            streamed.info.n_iter
                        );
                        let mut m = fit.mixture.clone();
                        let mut engine = BlockStatistics::new(&m, Some(2)).expect("engine");
                        let mut bound = 0.0;
                        for _ in 0..3 {
                            let mut total = vec![0.0; Layout::of(&m).len()];
                            for rows in [0..1000, 1000..3000] {
                                let mut part = vec![0.0; total.len()];
                                let wb = weights.map(|w| w.slice_move(s![rows.clone()]));
                                engine.add_block(x.slice(s![rows, ..]), wb, &mut part).expect("block");
                                add(&mut total, &part).expect("same layout");
                            }
                            let (next, lb) = m_step_from_statistics(&m, &total, 1e-6).expect("m-step");
                            m = next;
                            bound = lb;
                            engine.set_mixture(&m).expect("set");
                        }
                        println!(
                            "d={d} {kind} blockwise weighted={weighted}: model {:016x} lb {:016x}",
                            model_hash(&m),
                            bound.to_bits()
                        );
                    }
                }
            }
        }
    }
}

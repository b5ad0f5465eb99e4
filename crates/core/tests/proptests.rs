//! Random shapes, kinds and settings: a fit either fails with an `Error` or returns a valid
//! model (finite parameters, weights summing to 1, positive-definite covariances) whose
//! report is consistent and whose scores are finite.

mod common;

use common::assert_valid_model;
use einmix::{CovarianceType, Error, GaussianMixture, InitParams};
use ndarray::{Array1, Array2};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone)]
struct Case {
    n: usize,
    d: usize,
    k: usize,
    kind: CovarianceType,
    init: InitParams,
    reg_covar: f64,
    tol: f64,
    max_iter: usize,
    n_init: usize,
    /// Data: `k_true` Gaussian blobs of spread `spread`, scaled by `scale`, rounded to a grid
    /// (duplicates) when `grid` is set.
    k_true: usize,
    spread: f64,
    scale: f64,
    grid: bool,
    /// Sample weights: none, positive, or with some zeros.
    weights: u8,
    seed: u64,
}

fn cases() -> impl Strategy<Value = Case> {
    (1usize..400, 1usize..6, 1usize..5)
        .prop_filter("k <= n", |(n, _, k)| k <= n)
        .prop_flat_map(|(n, d, k)| {
            (
                Just((n, d, k)),
                prop::sample::select(CovarianceType::ALL.to_vec()),
                prop::sample::select(InitParams::ALL.to_vec()),
                prop::sample::select(vec![0.0, 1e-6, 1e-3]),
                prop::sample::select(vec![0.0, 1e-3, 1e-1]),
                0usize..40,
                1usize..3,
                (1usize..5, 0.0f64..20.0, prop::sample::select(vec![1e-3, 1.0, 1e3])),
                any::<bool>(),
                0u8..3,
                any::<u64>(),
            )
        })
        .prop_map(|((n, d, k), kind, init, reg_covar, tol, max_iter, n_init, blobs, grid, weights, seed)| {
            Case {
                n,
                d,
                k,
                kind,
                init,
                reg_covar,
                tol,
                max_iter,
                n_init,
                k_true: blobs.0,
                spread: blobs.1,
                scale: blobs.2,
                grid,
                weights,
                seed,
            }
        })
}

fn make_data(c: &Case) -> (Array2<f64>, Option<Array1<f64>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(c.seed);
    let centres = Array2::from_shape_fn((c.k_true, c.d), |_| rng.random_range(-c.spread..=c.spread));
    let mut x = Array2::zeros((c.n, c.d));
    for i in 0..c.n {
        let b = rng.random_range(0..c.k_true);
        let sd = rng.random_range(0.3..1.5);
        for j in 0..c.d {
            let v: f64 = centres[[b, j]] + sd * rng.random_range(-1.7..1.7);
            x[[i, j]] = c.scale * if c.grid { v.round() } else { v };
        }
    }
    let w = match c.weights {
        0 => None,
        1 => Some(Array1::from_shape_fn(c.n, |_| rng.random_range(0.1..5.0))),
        _ => Some(Array1::from_shape_fn(c.n, |_| {
            if rng.random_bool(0.3) {
                0.0
            } else {
                rng.random_range(0.1..5.0)
            }
        })),
    };
    (x, w)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_fit_is_an_error_or_a_valid_model(c in cases()) {
        let (x, w) = make_data(&c);
        let spec = GaussianMixture::new(c.k)
            .covariance_type(c.kind)
            .init_params(c.init)
            .reg_covar(c.reg_covar)
            .tol(c.tol)
            .max_iter(c.max_iter)
            .n_init(c.n_init)
            .random_state(c.seed);
        let positive = w.as_ref().map_or(c.n, |w| w.iter().filter(|&&v| v > 0.0).count());
        match spec.fit(x.view(), w.as_ref().map(|w| w.view())) {
            Err(e) => {
                // The only legitimate failures for valid input.
                match e {
                    Error::TooFewSamples { n_samples, n_components } => {
                        prop_assert_eq!(n_samples, positive);
                        prop_assert!(n_samples < n_components);
                    }
                    Error::ZeroWeights { .. } => prop_assert_eq!(positive, 0),
                    // scikit-learn's minimum: two samples (a one-row data set is refused).
                    Error::EmptyData { n_samples, min_samples, .. } => prop_assert!(n_samples < min_samples),
                    // Singular covariances need duplicates or collapsed components, and
                    // (with data scaled by at most 1e3) no regularisation.
                    Error::IllDefinedCovariance { reg_covar, .. } => prop_assert_eq!(reg_covar, 0.0),
                    other => prop_assert!(false, "unexpected error {:?}", other),
                }
            }
            Ok(fit) => {
                prop_assert!(positive >= c.k);
                let m = &fit.mixture;
                prop_assert_eq!(m.means().dim(), (c.k, c.d));
                assert_valid_model(m);
                let info = &fit.info;
                prop_assert_eq!(info.run_lower_bounds.len(), c.n_init);
                prop_assert!(info.best_run < c.n_init);
                prop_assert_eq!(info.run_lower_bounds[info.best_run], info.lower_bound);
                prop_assert_eq!(info.lower_bounds.len(), info.n_iter);
                prop_assert!(info.n_iter <= c.max_iter);
                if c.max_iter == 0 {
                    prop_assert_eq!(info.lower_bound, f64::NEG_INFINITY);
                    prop_assert!(!info.converged);
                } else {
                    prop_assert!(info.n_iter >= 1);
                    prop_assert!(info.lower_bounds.iter().all(|v| v.is_finite()));
                    prop_assert_eq!(info.lower_bounds.last().copied(), Some(info.lower_bound));
                    prop_assert!(info.run_lower_bounds.iter().all(|&v| v <= info.lower_bound));
                    if info.converged {
                        // Converged means the last change was below tol (the first change is
                        // from -inf, so at least two iterations).
                        let lb = &info.lower_bounds;
                        prop_assert!(lb.len() >= 2);
                        prop_assert!((lb[lb.len() - 1] - lb[lb.len() - 2]).abs() < c.tol);
                    } else {
                        prop_assert_eq!(info.n_iter, c.max_iter);
                    }
                }
                prop_assert_eq!(fit.labels.len(), c.n);
                prop_assert!(fit.labels.iter().all(|&l| l < c.k));
                prop_assert_eq!(&fit.labels, &m.predict(x.view()).unwrap());
                let s = m.score_samples(x.view()).unwrap();
                prop_assert!(s.iter().all(|v| v.is_finite()), "score_samples {}", s);
                let p = m.predict_proba(x.view()).unwrap();
                for row in p.outer_iter() {
                    prop_assert!((row.sum() - 1.0).abs() <= 1e-12);
                }
            }
        }
    }
}

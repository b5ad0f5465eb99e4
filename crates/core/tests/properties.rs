//! scikit-learn's properties of `GaussianMixture`, checked on the public API.

mod common;

use common::{
    assert_valid_model, bits, dense_covariance, inits_near, inverse_and_det, naive_log_density, rel_diff,
    sampled,
};
use einmix::{datasets, CovarianceType, FitOptions, GaussianMixture, InitParams, Mixture};
use ndarray::{Array1, Array2, Axis};

#[test]
fn predict_proba_rows_sum_to_one_and_predict_is_their_argmax() {
    for kind in CovarianceType::ALL {
        let (_, x) = sampled(kind, 3, 3, 4.0, 1500, 1);
        let fit = GaussianMixture::new(3).covariance_type(kind).random_state(0).fit(x.view(), None).unwrap();
        let proba = fit.mixture.predict_proba(x.view()).unwrap();
        let labels = fit.mixture.predict(x.view()).unwrap();
        assert_eq!(proba.dim(), (1500, 3));
        let mut agree = 0;
        for (row, &label) in proba.outer_iter().zip(&labels) {
            assert!(row.iter().all(|&p| (0.0..=1.0).contains(&p)), "{row}");
            assert!((row.sum() - 1.0).abs() <= 1e-14, "{kind}: row sums to {}", row.sum());
            // predict returns a most probable component (the first, should two tie exactly).
            let best = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(row[label], best, "{kind}: label {label} for {row}");
            let first_argmax = row.iter().position(|&p| p == best).unwrap();
            agree += usize::from(first_argmax == label);
        }
        assert_eq!(agree, 1500, "{kind}");
    }
}

#[test]
fn fit_labels_equal_predict_on_the_fitted_model() {
    for kind in CovarianceType::ALL {
        for init in InitParams::ALL {
            let (_, x) = sampled(kind, 4, 2, 3.0, 1200, 2);
            let fit = GaussianMixture::new(4)
                .covariance_type(kind)
                .init_params(init)
                .max_iter(7) // not converged: the final E-step must still be consistent
                .random_state(3)
                .fit(x.view(), None)
                .unwrap();
            let predicted = fit.mixture.predict(x.view()).unwrap();
            assert_eq!(fit.labels, predicted, "{kind} {init}");
        }
    }
}

/// EM never decreases the likelihood; with `reg_covar = 0` the M-step is the exact maximiser,
/// so the lower bound (the mean log-likelihood of the parameters entering each iteration) must
/// not decrease from one iteration to the next.
#[test]
fn the_lower_bound_never_decreases_without_regularisation() {
    for kind in CovarianceType::ALL {
        for seed in 0..3 {
            // Overlapping components, so EM takes many iterations.
            let (_, x) = sampled(kind, 3, 3, 2.0, 2000, 10 + seed);
            let w = Array1::from_shape_fn(2000, |i| 0.5 + (i % 7) as f64 / 4.0);
            for weights in [None, Some(w.view())] {
                let fit = GaussianMixture::new(3)
                    .covariance_type(kind)
                    .reg_covar(0.0)
                    .tol(1e-9)
                    .max_iter(300)
                    .random_state(seed)
                    .fit(x.view(), weights)
                    .unwrap();
                let lb = &fit.info.lower_bounds;
                assert!(lb.len() > 5, "{kind}: only {} iterations", lb.len());
                for (t, pair) in lb.windows(2).enumerate() {
                    assert!(
                        pair[1] >= pair[0],
                        "{kind} seed {seed}: lower bound decreased at iteration {}: {} -> {}",
                        t + 2,
                        pair[0],
                        pair[1]
                    );
                }
            }
        }
    }
}

/// `max_iter = 0` returns the initialisation: the given parameters, `lower_bound = -inf`, not
/// converged (scikit-learn does the same).
#[test]
fn max_iter_zero_returns_the_given_initialisation() {
    for kind in CovarianceType::ALL {
        let d = 3;
        let (truth, x) = sampled(kind, 2, d, 3.0, 500, 4);
        let weights = Array1::from(vec![0.25, 0.75]);
        let means = truth.means().mapv(|v| v * 1.1 + 0.3);
        let precisions = truth.precisions();
        for n_init in [1, 3] {
            let fit = GaussianMixture::new(2)
                .covariance_type(kind)
                .weights_init(weights.clone())
                .means_init(means.clone())
                .precisions_init(precisions.clone())
                .max_iter(0)
                .n_init(n_init)
                .fit(x.view(), None)
                .unwrap();
            let m = &fit.mixture;
            assert_eq!(m.weights(), weights.view());
            assert_eq!(m.means(), means.view());
            let got = m.precisions();
            assert!(
                rel_diff(got.iter(), precisions.iter()) <= 1e-12,
                "{kind}: precisions {got} vs {precisions}"
            );
            // Covariances are the inverses of the given precisions.
            for c in 0..2 {
                let (inv, _) = inverse_and_det(&dense_covariance(&truth, c), d);
                let (cov, _) = inverse_and_det(&inv, d);
                assert!(rel_diff(dense_covariance(m, c).iter(), cov.iter()) <= 1e-12);
            }
            assert_eq!(fit.info.lower_bound, f64::NEG_INFINITY);
            assert!(!fit.info.converged);
            assert_eq!(fit.info.n_iter, 0);
            assert!(fit.info.lower_bounds.is_empty());
            assert_eq!(fit.info.run_lower_bounds, vec![f64::NEG_INFINITY; n_init]);
            assert_eq!(fit.labels, m.predict(x.view()).unwrap());
        }
        // Only the means given: they are kept as they are.
        let fit = GaussianMixture::new(2)
            .covariance_type(kind)
            .means_init(means.clone())
            .max_iter(0)
            .random_state(1)
            .fit(x.view(), None)
            .unwrap();
        assert_eq!(fit.mixture.means(), means.view());
        assert_valid_model(&fit.mixture);
    }
}

/// Two one-iteration warm fits are one two-iteration fit, bit for bit: a warm start resumes
/// EM exactly where it stopped.
#[test]
fn two_warm_single_iterations_equal_one_two_iteration_fit() {
    for kind in CovarianceType::ALL {
        let (truth, x) = sampled(kind, 3, 2, 3.0, 900, 5);
        let (w0, m0, p0) = inits_near(&truth, 0.4);
        let given = GaussianMixture::new(3)
            .covariance_type(kind)
            .weights_init(w0)
            .means_init(m0)
            .precisions_init(p0)
            .tol(0.0);
        let estimated = GaussianMixture::new(3)
            .covariance_type(kind)
            .init_params(InitParams::KMeansPlusPlus)
            .random_state(8)
            .tol(0.0);
        for spec in [given, estimated] {
            let first = spec.clone().max_iter(1).fit(x.view(), None).unwrap();
            let second = spec
                .clone()
                .max_iter(1)
                .fit_with(x.view(), None, FitOptions::new().warm_start_from(&first))
                .unwrap();
            let second_from = spec
                .clone()
                .max_iter(1)
                .fit_with(
                    x.view(),
                    None,
                    FitOptions::new().warm_start(&first.mixture, first.info.lower_bound),
                )
                .unwrap();
            let both = spec.clone().max_iter(2).fit(x.view(), None).unwrap();
            assert_eq!(bits(&second.mixture), bits(&both.mixture), "{kind}");
            assert_eq!(bits(&second_from.mixture), bits(&both.mixture), "{kind}");
            assert_eq!(
                [first.info.lower_bounds.clone(), second.info.lower_bounds.clone()].concat(),
                both.info.lower_bounds,
                "{kind}"
            );
            assert_eq!(second.info.lower_bound, both.info.lower_bound);
            assert_eq!(second.labels, both.labels);
        }
    }
}

#[test]
fn the_number_of_free_parameters_is_exact() {
    // K = 2, D = 5: means 10, weights 1, covariances 2, 10, 15, 30.
    for (kind, want) in [
        (CovarianceType::Spherical, 13),
        (CovarianceType::Diag, 21),
        (CovarianceType::Tied, 26),
        (CovarianceType::Full, 41),
    ] {
        let m = datasets::random_mixture(kind, 2, 5, 3.0, 0);
        assert_eq!(m.n_parameters(), want, "{kind}");
    }
    // K = 1, D = 1: one mean and one variance, for every kind.
    for kind in CovarianceType::ALL {
        assert_eq!(datasets::random_mixture(kind, 1, 1, 3.0, 0).n_parameters(), 2);
    }
}

/// `Mixture::sample` draws from the mixture: per component, the count, sample mean and
/// sample covariance match the parameters within five standard errors (binomial
/// `sqrt(p (1 - p) / n)`; mean `sqrt(Sigma_jj / n_k)`; covariance entry
/// `sqrt((Sigma_aa Sigma_bb + Sigma_ab^2) / n_k)`, the Gaussian variance of `x_a x_b`).
/// The seed is fixed, so this is deterministic; five standard errors keep it from depending on
/// the luck of that seed.
#[test]
fn samples_have_each_components_weight_mean_and_covariance() {
    let n = 300_000;
    for kind in CovarianceType::ALL {
        let (k, d) = (3, 3);
        let m = datasets::random_mixture(kind, k, d, 5.0, 7);
        let (x, labels) = m.sample(n, 99);
        assert_eq!(x.dim(), (n, d));
        assert!(labels.windows(2).into_iter().all(|w| w[0] <= w[1]), "grouped by component");
        for c in 0..k {
            let rows: Vec<usize> = (0..n).filter(|&i| labels[i] == c).collect();
            let nk = rows.len() as f64;
            let p = m.weights()[c];
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!((nk / n as f64 - p).abs() <= 5.0 * se, "{kind} weight {c}");
            let xc = x.select(Axis(0), &rows);
            let mean = xc.mean_axis(Axis(0)).unwrap();
            let sigma = dense_covariance(&m, c);
            for j in 0..d {
                let se = (sigma[j * d + j] / nk).sqrt();
                assert!((mean[j] - m.means()[[c, j]]).abs() <= 5.0 * se, "{kind} mean {c},{j}");
            }
            for a in 0..d {
                for b in 0..d {
                    let s: f64 =
                        xc.outer_iter().map(|r| (r[a] - mean[a]) * (r[b] - mean[b])).sum::<f64>() / nk;
                    let want = sigma[a * d + b];
                    let se = ((sigma[a * d + a] * sigma[b * d + b] + want * want) / nk).sqrt();
                    assert!((s - want).abs() <= 5.0 * se, "{kind} covariance {c} [{a},{b}]: {s} vs {want}");
                }
            }
        }
        let (again, _) = m.sample(1000, 99);
        assert_eq!(again, m.sample(1000, 99).0, "same seed, same samples");
        assert_ne!(again, m.sample(1000, 100).0);
    }
}

/// Well-separated mixtures are recovered: each true component has exactly one fitted
/// component nearest to its mean, and weights, means and covariances agree within five
/// standard errors of their estimates (as in the sampling test; with components more than
/// eight standard deviations apart the EM estimates are the per-component sample estimates).
#[test]
fn well_separated_mixtures_are_recovered() {
    let n = 6000;
    for kind in CovarianceType::ALL {
        for (k, d, seed) in [(3, 2, 1), (4, 3, 2)] {
            let truth = datasets::random_mixture(kind, k, d, 40.0, seed);
            let mean = |c: usize| truth.means().row(c).to_owned();
            for a in 0..k {
                for b in 0..a {
                    let dist = (&mean(a) - &mean(b)).mapv(|v| v * v).sum().sqrt();
                    assert!(dist > 12.0, "test data: components {a}, {b} only {dist} apart");
                }
            }
            let (x, _) = truth.sample(n, seed + 50);
            let fit = GaussianMixture::new(k)
                .covariance_type(kind)
                .n_init(2)
                .random_state(seed)
                .fit(x.view(), None)
                .unwrap();
            assert!(fit.info.converged, "{kind}");
            let m = &fit.mixture;
            let nearest: Vec<usize> = (0..k)
                .map(|t| {
                    (0..k)
                        .min_by(|&i, &j| {
                            let di = (&m.means().row(i) - &mean(t)).mapv(|v| v * v).sum();
                            let dj = (&m.means().row(j) - &mean(t)).mapv(|v| v * v).sum();
                            di.total_cmp(&dj)
                        })
                        .unwrap()
                })
                .collect();
            let mut sorted = nearest.clone();
            sorted.sort();
            assert_eq!(sorted, (0..k).collect::<Vec<_>>(), "{kind}: matching {nearest:?}");
            for (t, &f) in nearest.iter().enumerate() {
                let p = truth.weights()[t];
                assert!(
                    (m.weights()[f] - p).abs() <= 5.0 * (p * (1.0 - p) / n as f64).sqrt(),
                    "{kind} weight"
                );
                let nk = p * n as f64;
                // tied: the shared covariance is estimated from all points.
                let n_cov = if kind == CovarianceType::Tied { n as f64 } else { nk };
                let sigma = dense_covariance(&truth, t);
                let got = dense_covariance(m, f);
                for a in 0..d {
                    let se = (sigma[a * d + a] / nk).sqrt();
                    assert!((m.means()[[f, a]] - truth.means()[[t, a]]).abs() <= 5.0 * se, "{kind} mean");
                    for b in 0..d {
                        let want = sigma[a * d + b];
                        let se = ((sigma[a * d + a] * sigma[b * d + b] + want * want) / n_cov).sqrt();
                        assert!(
                            (got[a * d + b] - want).abs() <= 5.0 * se,
                            "{kind} covariance [{a},{b}]: {} vs {want}",
                            got[a * d + b]
                        );
                    }
                }
            }
        }
    }
}

/// With one component, EM's answer is closed-form: the weighted mean and the weighted biased
/// covariance, plus `reg_covar` on the diagonal (diag keeps the diagonal, spherical its mean).
#[test]
fn one_component_gives_the_weighted_empirical_mean_and_covariance() {
    let d = 4;
    let x = Array2::from_shape_fn((777, d), |(i, j)| {
        let t = i as f64;
        (t * 0.37 + j as f64).sin() * (1.0 + j as f64) + 0.01 * t * (j as f64 - 1.5) + 5.0
    });
    let w = Array1::from_shape_fn(777, |i| 0.2 + ((i * 31) % 17) as f64 / 5.0);
    let reg = 1e-3;
    let total = w.sum();
    let mean: Vec<f64> = (0..d).map(|j| (0..777).map(|i| w[i] * x[[i, j]]).sum::<f64>() / total).collect();
    let mut cov = vec![0.0; d * d];
    for a in 0..d {
        for b in 0..d {
            cov[a * d + b] =
                (0..777).map(|i| w[i] * (x[[i, a]] - mean[a]) * (x[[i, b]] - mean[b])).sum::<f64>() / total;
        }
    }
    for kind in CovarianceType::ALL {
        let fit = GaussianMixture::new(1)
            .covariance_type(kind)
            .reg_covar(reg)
            .fit(x.view(), Some(w.view()))
            .unwrap();
        let m = &fit.mixture;
        assert_eq!(m.weights()[0], 1.0);
        assert!(rel_diff(m.means().iter(), mean.iter()) <= 1e-10, "{kind} mean");
        let want: Vec<f64> = match kind {
            CovarianceType::Full | CovarianceType::Tied => {
                (0..d * d).map(|i| cov[i] + if i / d == i % d { reg } else { 0.0 }).collect()
            }
            CovarianceType::Diag => (0..d).map(|j| cov[j * d + j] + reg).collect(),
            CovarianceType::Spherical => {
                vec![(0..d).map(|j| cov[j * d + j]).sum::<f64>() / d as f64 + reg]
            }
        };
        let got: Vec<f64> = m.covariances().iter().copied().collect();
        assert!(rel_diff(got.iter(), want.iter()) <= 1e-10, "{kind}: {got:?} vs {want:?}");
    }
}

#[test]
fn n_init_runs_every_initialisation_and_keeps_the_best() {
    let (_, x) = sampled(CovarianceType::Full, 3, 2, 4.0, 1500, 6);
    for kind in CovarianceType::ALL {
        let spec = GaussianMixture::new(5)
            .covariance_type(kind)
            .init_params(InitParams::RandomFromData)
            .random_state(21);
        let one = spec.clone().fit(x.view(), None).unwrap();
        let many = spec.clone().n_init(6).fit(x.view(), None).unwrap();
        let runs = &many.info.run_lower_bounds;
        assert_eq!(runs.len(), 6);
        assert!(runs.iter().all(|v| v.is_finite()));
        // The first run draws the same random numbers as a single-run fit.
        assert_eq!(runs[0], one.info.lower_bound);
        let best = runs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(many.info.lower_bound, best);
        assert_eq!(runs[many.info.best_run], best);
        assert_eq!(many.info.lower_bounds.last(), Some(&best));
        assert!(
            runs.iter().any(|&v| v != best),
            "{kind}: every run reached the same bound, so nothing was chosen"
        );
        assert!(many.info.lower_bound >= one.info.lower_bound);
        if many.info.best_run == 0 {
            assert_eq!(bits(&many.mixture), bits(&one.mixture));
        }
        assert!(many.info.total_iter >= many.info.n_iter);
    }
}

#[test]
fn every_init_method_works_and_is_reproducible() {
    for kind in CovarianceType::ALL {
        let (_, x) = sampled(kind, 3, 3, 6.0, 1000, 9);
        let w = Array1::from_shape_fn(1000, |i| 1.0 + (i % 3) as f64);
        for init in InitParams::ALL {
            for weights in [None, Some(w.view())] {
                let spec = GaussianMixture::new(3)
                    .covariance_type(kind)
                    .init_params(init)
                    .max_iter(500)
                    .random_state(17);
                let fit = spec.fit(x.view(), weights).unwrap();
                assert_valid_model(&fit.mixture);
                assert!(fit.info.converged, "{kind} {init}");
                assert!(fit.info.lower_bound.is_finite());
                assert_eq!(fit.labels.len(), 1000);
                assert!(fit.labels.iter().all(|&l| l < 3));
                let again = spec.fit(x.view(), weights).unwrap();
                assert_eq!(bits(&fit.mixture), bits(&again.mixture), "{kind} {init}");
            }
        }
        // A different seed is a different start.
        let a = GaussianMixture::new(3).covariance_type(kind).init_params(InitParams::Random);
        let fa = a.clone().max_iter(1).random_state(1).fit(x.view(), None).unwrap();
        let fb = a.max_iter(1).random_state(2).fit(x.view(), None).unwrap();
        assert_ne!(bits(&fa.mixture), bits(&fb.mixture));
    }
}

#[test]
fn json_round_trip_is_bit_for_bit() {
    for kind in CovarianceType::ALL {
        for d in [1, 3] {
            let (_, x) = sampled(kind, 3, d, 3.0, 400, 12);
            let m = GaussianMixture::new(3)
                .covariance_type(kind)
                .random_state(0)
                .fit(x.view(), None)
                .unwrap()
                .mixture;
            let back = Mixture::from_json(&m.to_json()).unwrap();
            assert_eq!(back, m);
            assert_eq!(bits(&back), bits(&m), "{kind}");
            assert_eq!(back.to_json(), m.to_json());
        }
    }
}

/// `score_samples` is the mixture's log-density (checked against explicit inverses and
/// determinants), and BIC/AIC are `-2 log L + p ln n` and `-2 log L + 2 p`.
#[test]
fn scores_and_information_criteria_follow_their_formulas() {
    for kind in CovarianceType::ALL {
        let (_, x) = sampled(kind, 2, 3, 3.0, 600, 13);
        let m = GaussianMixture::new(2)
            .covariance_type(kind)
            .random_state(0)
            .fit(x.view(), None)
            .unwrap()
            .mixture;
        let s = m.score_samples(x.view()).unwrap();
        for (i, row) in x.outer_iter().enumerate() {
            let want = naive_log_density(&m, row.as_slice().unwrap());
            assert!((s[i] - want).abs() <= 1e-12 * want.abs().max(1.0), "{kind} row {i}");
        }
        let log_l = s.sum();
        let n = x.nrows() as f64;
        let p = m.n_parameters() as f64;
        assert!((m.score(x.view()).unwrap() - log_l / n).abs() <= 1e-14 * (log_l / n).abs());
        let bic = m.bic(x.view()).unwrap();
        let aic = m.aic(x.view()).unwrap();
        assert!((bic - (-2.0 * log_l + p * n.ln())).abs() <= 1e-12 * bic.abs(), "{kind}");
        assert!((aic - (-2.0 * log_l + 2.0 * p)).abs() <= 1e-12 * aic.abs(), "{kind}");
        assert!(bic > aic, "ln(600) > 2, so BIC penalises more");
    }
}

#[test]
fn skipping_the_final_labels_changes_nothing_else() {
    let (_, x) = einmix::datasets::seed_workload(5_000, 8, 4);
    let spec = GaussianMixture::new(8).init_params(InitParams::KMeansPlusPlus).random_state(2);
    let with = spec.clone().fit(x.view(), None).unwrap();
    let without = spec.final_labels(false).fit(x.view(), None).unwrap();
    assert_eq!(with.labels.len(), 5_000);
    assert!(without.labels.is_empty());
    assert_eq!(with.mixture, without.mixture);
    assert_eq!(with.info.lower_bounds, without.info.lower_bounds);
}

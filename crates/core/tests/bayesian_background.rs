//! Story: the variational mixture takes the uniform background component (issue 12 with issue
//! 13's model). The background's weight `pi_0` is a point estimate beside the Gaussians'
//! Dirichlet(-process) posterior: the E-step adds `ln(1 - pi_0)` to every Gaussian's term and
//! `ln pi_0 - ln V` as one more term; the M-step takes `pi_0` as the background's share of the
//! counts; the bound gains their expected log terms, so variational EM never lowers it.

mod common;

use common::{dense_covariance, rel_diff, sampled};
use einmix::{
    Background, BackgroundRegion, BayesianGaussianMixture, CovarianceType, FitOptions, InitParams, Mixture,
    VariationalMixture, WeightPrior,
};
use ndarray::{Array1, Array2};

const PRIORS: [WeightPrior; 2] = [WeightPrior::DirichletProcess, WeightPrior::DirichletDistribution];

fn log_sum_exp(terms: &[f64]) -> f64 {
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return top;
    }
    top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
}

/// Clusters of `kind` (non-diagonal where the kind allows) on a uniform floor holding 30 % of
/// the points, over the box `[-40, 40]^2`.
fn clusters_on_a_floor(kind: CovarianceType, n: usize, seed: u64) -> (Mixture, Array2<f64>) {
    let (truth, _) = sampled(kind, 3, 2, 8.0, 10, seed);
    let floor = Background::new(vec![-40.0, -40.0], vec![40.0, 40.0], 0.3).unwrap();
    let truth = truth.with_background(floor).unwrap();
    let (x, _) = truth.sample(n, seed + 1);
    (truth, x)
}

/// The E-step with a background is the E-step without it, each Gaussian's term shifted by
/// `ln(1 - pi_0)`, plus the background's `ln pi_0 - ln V` inside its box: scores,
/// responsibilities (`K + 1` columns) and labels to 1e-12, for every kind and both priors,
/// on a box smaller than the data so some points lie outside it.
#[test]
fn the_e_step_adds_the_background_to_the_variational_terms() {
    for kind in CovarianceType::ALL {
        for prior in PRIORS {
            let (_, x) = clusters_on_a_floor(kind, 800, 3);
            let plain = BayesianGaussianMixture::new(4)
                .covariance_type(kind)
                .weight_prior(prior)
                .random_state(1)
                .max_iter(5)
                .fit(x.view(), None)
                .unwrap()
                .model;
            let mut with = plain.clone();
            let b = Background::new(vec![-30.0, -35.0], vec![35.0, 30.0], 0.2).unwrap();
            with.mixture = with.mixture.clone().with_background(b.clone()).unwrap();
            let (s0, r0) = (plain.score_samples(x.view()).unwrap(), plain.predict_proba(x.view()).unwrap());
            let (s1, r1) = (with.score_samples(x.view()).unwrap(), with.predict_proba(x.view()).unwrap());
            let labels = with.predict(x.view()).unwrap();
            assert_eq!(r1.ncols(), 5, "{kind} {prior}: K + 1 columns");
            let (mut outside, mut background_wins) = (0, 0);
            for (i, row) in x.outer_iter().enumerate() {
                // The plain model's own terms, `ln r_ik + log p(x_i)`, shifted.
                let mut terms: Vec<f64> = (0..4).map(|c| r0[[i, c]].ln() + s0[i] + 0.8f64.ln()).collect();
                let inside = b.contains(row.as_slice().unwrap());
                terms.push(if inside { 0.2f64.ln() - b.log_volume() } else { f64::NEG_INFINITY });
                let total = log_sum_exp(&terms);
                assert!((s1[i] - total).abs() <= 1e-12 * total.abs().max(1.0), "{kind} {prior} row {i}");
                let expected: Vec<f64> = terms.iter().map(|t| (t - total).exp()).collect();
                let got: Vec<f64> = r1.row(i).to_vec();
                let worst = got.iter().zip(&expected).map(|(a, e)| (a - e).abs()).fold(0.0, f64::max);
                assert!(worst <= 1e-12, "{kind} {prior} row {i}: responsibilities off by {worst:e}");
                let best = (0..5).fold(0, |b, c| if terms[c] > terms[b] { c } else { b });
                assert_eq!(labels[i], best, "{kind} {prior} row {i}");
                outside += usize::from(!inside);
                background_wins += usize::from(best == 4);
            }
            assert!(
                outside > 0 && background_wins > 0,
                "{kind}: both cases seen ({outside}, {background_wins})"
            );
        }
    }
}

/// Variational EM with a background never lowers its bound (`reg_covar = 0`, where the
/// M-step is the exact maximiser), for every kind and both priors: the bound's background
/// terms and the M-step's `pi_0` are consistent.
#[test]
fn the_bound_never_decreases_with_a_background() {
    for kind in CovarianceType::ALL {
        for prior in PRIORS {
            let (_, x) = clusters_on_a_floor(kind, 3000, 7);
            let fit = BayesianGaussianMixture::new(6)
                .covariance_type(kind)
                .weight_prior(prior)
                .background(BackgroundRegion::BoundingBox)
                .reg_covar(0.0)
                .tol(0.0)
                .max_iter(80)
                .random_state(4)
                .fit(x.view(), None)
                .unwrap();
            let bounds = &fit.info.lower_bounds;
            assert_eq!(bounds.len(), 80);
            for (i, pair) in bounds.windows(2).enumerate() {
                assert!(
                    pair[1] >= pair[0] - 1e-9 * pair[0].abs(),
                    "{kind} {prior}: the bound fell at iteration {}: {} -> {}",
                    i + 2,
                    pair[0],
                    pair[1]
                );
            }
            // It moved: the check is not of a fit standing still.
            assert!(bounds[79] > bounds[0] + 1.0, "{kind} {prior}: {} -> {}", bounds[0], bounds[79]);
        }
    }
}

/// Three clusters on a floor holding 30 % of the points, eight components offered: the
/// Dirichlet process keeps three, the background's weight is the floor's share, and the
/// clusters are found; without the background the process spends components on the floor.
#[test]
fn the_process_with_a_background_finds_the_clusters_and_the_floor() {
    let (truth, _) = sampled(CovarianceType::Full, 3, 2, 10.0, 10, 11);
    let floor = Background::new(vec![-60.0, -60.0], vec![60.0, 60.0], 0.3).unwrap();
    let truth = truth.with_background(floor).unwrap();
    let (x, labels) = truth.sample(20_000, 12);
    let floor_share = labels.iter().filter(|&&l| l == 3).count() as f64 / 20_000.0;
    // Starts from random rows, several of them: k-means spreads its centres over the floor
    // and can leave two nearby clusters one centre (a local optimum whose bound is ~6,000
    // lower here), as any k-means start does on cluttered data.
    let spec = BayesianGaussianMixture::new(8)
        .weight_concentration_prior(1e-3)
        .init_params(InitParams::RandomFromData)
        .n_init(3)
        // The default Wishart prior is the data's covariance, here the floor's (~1,200 per
        // axis), which would add ~0.3 to each cluster's unit variances; a prior of the
        // clusters' own scale leaves them to the data.
        .covariance_prior(vec![1.0, 0.0, 0.0, 1.0])
        .random_state(0)
        .max_iter(1000);
    let region = BackgroundRegion::Box { lower: vec![-60.0, -60.0], upper: vec![60.0, 60.0] };
    let with = spec.clone().background(region).fit(x.view(), None).unwrap().model;
    let without = spec.fit(x.view(), None).unwrap().model;
    let pi0 = with.mixture.background().unwrap().weight();
    let (k_with, mass) = with.effective_components(0.01);
    let (k_without, _) = without.effective_components(0.01);
    eprintln!("floor {floor_share:.4}, pi_0 {pi0:.4}; effective K {k_with} with, {k_without} without");
    assert!((pi0 - floor_share).abs() < 0.01, "pi_0 {pi0} vs the floor's share {floor_share}");
    assert_eq!(k_with, 3, "effective components with the background");
    assert!(mass > 0.99, "the three hold the Gaussians' mass: {mass}");
    assert!(k_without > 3, "without the background the floor takes components: {k_without}");
    // Each true cluster is found: its mean within 0.3 and covariance within 5 %.
    let w = with.mixture.weights();
    for c in 0..3 {
        let fitted = (0..8)
            .filter(|&f| w[f] / (1.0 - pi0) > 0.01)
            .min_by(|&a, &b| {
                let dist = |f: usize| {
                    (0..2)
                        .map(|j| (with.mixture.means()[[f, j]] - truth.means()[[c, j]]).powi(2))
                        .sum::<f64>()
                };
                dist(a).total_cmp(&dist(b))
            })
            .unwrap();
        for j in 0..2 {
            let off = (with.mixture.means()[[fitted, j]] - truth.means()[[c, j]]).abs();
            assert!(off < 0.3, "cluster {c} mean {j} off by {off}");
        }
        let cov =
            rel_diff(dense_covariance(&with.mixture, fitted).iter(), dense_covariance(&truth, c).iter());
        eprintln!("cluster {c}: covariance off by {cov:.3}");
        assert!(cov < 0.05, "cluster {c} covariance off by {cov}");
    }
}

/// From one state: weighted rows equal repeated rows (1e-10 after 20 iterations), and two
/// threads give the bits of one.
#[test]
fn weighted_rows_equal_repeated_rows_and_threads_change_nothing() {
    let (_, x) = clusters_on_a_floor(CovarianceType::Full, 400, 21);
    let counts: Vec<usize> = (0..x.nrows()).map(|i| 1 + i % 3).collect();
    let mut repeated = Vec::new();
    for (row, &c) in x.outer_iter().zip(&counts) {
        for _ in 0..c {
            repeated.extend(row.iter().copied());
        }
    }
    let repeated = Array2::from_shape_vec((repeated.len() / 2, 2), repeated).unwrap();
    let w: Array1<f64> = counts.iter().map(|&c| c as f64).collect();
    for prior in PRIORS {
        let spec = BayesianGaussianMixture::new(4)
            .weight_prior(prior)
            .background(BackgroundRegion::BoundingBox)
            .random_state(5)
            .tol(0.0);
        let start = spec.clone().max_iter(0).fit(x.view(), Some(w.view())).unwrap().model;
        assert!(start.mixture.background().is_some());
        let fit = |x: &Array2<f64>, w: Option<&Array1<f64>>, threads: usize| -> VariationalMixture {
            spec.clone()
                .max_iter(20)
                .n_threads(threads)
                .fit_with(
                    x.view(),
                    w.map(|w| w.view()),
                    FitOptions::new().warm_start(&start, f64::NEG_INFINITY),
                )
                .unwrap()
                .model
        };
        let weighted = fit(&x, Some(&w), 1);
        let expanded = fit(&repeated, None, 1);
        assert!(common::mixture_rel_diff(&weighted.mixture, &expanded.mixture) < 1e-10, "{prior}");
        assert!(rel_diff(weighted.degrees_of_freedom.iter(), expanded.degrees_of_freedom.iter()) < 1e-10);
        let (a, b) = (weighted.mixture.background().unwrap(), expanded.mixture.background().unwrap());
        assert!((a.weight() - b.weight()).abs() < 1e-12, "{} vs {}", a.weight(), b.weight());
        let two = fit(&x, Some(&w), 2);
        assert_eq!(common::bits(&weighted.mixture), common::bits(&two.mixture), "{prior}");
        assert_eq!(weighted, two, "{prior}");
    }
}

/// The background travels with the model: JSON round trip, its weight plus the Gaussians'
/// summing to 1, label `K` for its points, and a warm start that keeps it.
#[test]
fn the_model_keeps_its_background_through_saving_and_warm_starts() {
    let (_, x) = clusters_on_a_floor(CovarianceType::Diag, 2000, 31);
    let spec = BayesianGaussianMixture::new(5)
        .covariance_type(CovarianceType::Diag)
        .background(BackgroundRegion::BoundingBox)
        .random_state(2);
    let fit = spec.fit(x.view(), None).unwrap();
    let m = &fit.model;
    let b = m.mixture.background().expect("fitted with a background");
    let total: f64 = m.mixture.weights().sum() + b.weight();
    assert!((total - 1.0).abs() < 1e-12, "weights and background sum to {total}");
    let back = VariationalMixture::from_json(&m.to_json()).unwrap();
    assert_eq!(&back, m);
    let labels = m.predict(x.view()).unwrap();
    assert!(labels.iter().any(|&l| l == 5), "the floor's points are labelled K");
    assert_eq!(labels, fit.labels);
    let again = spec
        .max_iter(3)
        .fit_with(x.view(), None, FitOptions::new().warm_start(m, fit.info.lower_bound))
        .unwrap();
    assert!(again.model.mixture.background().is_some());
    assert!(again.info.lower_bounds[0] >= fit.info.lower_bound - 1e-9 * fit.info.lower_bound.abs());
}

/// Gaussians that explain nothing (far from every point) leave the background all the weight:
/// its `pi_0` stays below 1 and the bound finite (their `ln(1 - pi_0)` would otherwise be
/// `-inf` and the bound NaN: the guards of their empty counts are lost to rounding next to
/// thousands of points).
#[test]
fn a_background_that_takes_everything_leaves_a_finite_bound() {
    let x = Array2::from_shape_fn((3000, 2), |(i, j)| ((i * (7 + 5 * j)) % 1000) as f64 / 100.0);
    let far = Mixture::from_parameters(
        CovarianceType::Full,
        ndarray::array![0.5, 0.5].view(),
        ndarray::array![[1000.0, 1000.0], [-1000.0, 1000.0]].view(),
        ndarray::ArrayD::from_shape_vec(
            ndarray::IxDyn(&[2, 2, 2]),
            vec![1.0, 0.2, 0.2, 1.0, 1.0, 0.0, 0.0, 1.0],
        )
        .unwrap()
        .view(),
    )
    .unwrap()
    .with_background(Background::new(vec![-1.0, -1.0], vec![11.0, 11.0], 0.5).unwrap())
    .unwrap();
    let spec = BayesianGaussianMixture::new(2).background(BackgroundRegion::BoundingBox).tol(0.0).max_iter(3);
    let template = spec.clone().max_iter(0).fit(x.view(), None).unwrap().model;
    let start = VariationalMixture { mixture: far, ..template };
    let fit = spec.fit_with(x.view(), None, FitOptions::new().warm_start(&start, f64::NEG_INFINITY)).unwrap();
    let pi0 = fit.model.mixture.background().unwrap().weight();
    assert!(pi0 < 1.0 && pi0 > 1.0 - 1e-12, "pi_0 {pi0}");
    assert!(fit.info.lower_bounds.iter().all(|b| b.is_finite()), "{:?}", fit.info.lower_bounds);
}

/// `posterior_from` starts a variational fit from an EM fit: the specification's background
/// joins a start that has none, and the fit from there finds the floor.
#[test]
fn a_posterior_from_an_em_fit_takes_the_specification_s_background() {
    let (_, x) = clusters_on_a_floor(CovarianceType::Full, 3000, 41);
    let em = einmix::GaussianMixture::new(3).random_state(1).fit(x.view(), None).unwrap().mixture;
    assert!(em.background().is_none());
    let spec = BayesianGaussianMixture::new(3).background(BackgroundRegion::BoundingBox).max_iter(500);
    let start = spec.posterior_from(x.view(), None, &em).unwrap();
    assert!(start.mixture.background().is_some(), "the specification's background joined the start");
    let fit = spec.fit_with(x.view(), None, FitOptions::new().warm_start(&start, f64::NEG_INFINITY)).unwrap();
    let pi0 = fit.model.mixture.background().unwrap().weight();
    assert!((pi0 - 0.3).abs() < 0.03, "the floor's share: {pi0}");
    let wrong = BayesianGaussianMixture::new(4).posterior_from(x.view(), None, &em).unwrap_err();
    assert!(wrong.to_string().contains("n_components and covariance_type"), "{wrong}");
}

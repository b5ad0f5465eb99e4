//! Story: a uniform background component (issue 12) is one more term of each point's
//! log-sum-exp, and the fused pass computes it as the textbook formula does, one point at a
//! time, on non-diagonal covariances of every kind; EM learns its weight; weighted rows equal
//! repeated rows; threads change nothing; bad regions are clear errors.

mod common;

use common::{dense_covariance, rel_diff, sampled};
use einmix::{Background, BackgroundRegion, CovarianceType, FitOptions, GaussianMixture, Mixture};
use ndarray::{Array1, Array2};

/// Each component's `ln pi_k + ln N(x | mu_k, Sigma_k)`, then the background's `ln pi_0 - ln V`
/// (`-inf` outside its box): explicit inverses and determinants, one point at a time.
fn naive_terms(m: &Mixture, x: &[f64]) -> Vec<f64> {
    let mut terms = common::naive_gaussian_terms(m, x);
    let b = m.background().expect("a model with a background");
    let volume: f64 = b.lower().iter().zip(b.upper()).map(|(lo, hi)| hi - lo).product();
    terms.push(if b.contains(x) { b.weight().ln() - volume.ln() } else { f64::NEG_INFINITY });
    terms
}

fn log_sum_exp(terms: &[f64]) -> f64 {
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
}

/// A random mixture of `kind` (non-diagonal where the kind allows) with a background over a box
/// a little smaller than the sample's range, so some points fall outside it.
fn model_and_points(kind: CovarianceType, seed: u64) -> (Mixture, Array2<f64>) {
    let (truth, x) = sampled(kind, 4, 3, 6.0, 600, seed);
    let lower: Vec<f64> = (0..3).map(|j| x.column(j).fold(f64::INFINITY, |a, &v| a.min(v)) + 0.5).collect();
    let upper: Vec<f64> =
        (0..3).map(|j| x.column(j).fold(f64::NEG_INFINITY, |a, &v| a.max(v)) - 0.5).collect();
    let m = truth.with_background(Background::new(lower, upper, 0.2).unwrap()).unwrap();
    (m, x)
}

#[test]
fn scores_responsibilities_and_labels_equal_the_textbook_formula_for_every_kind() {
    for kind in CovarianceType::ALL {
        let (m, x) = model_and_points(kind, 11);
        let scores = m.score_samples(x.view()).unwrap();
        let proba = m.predict_proba(x.view()).unwrap();
        let labels = m.predict(x.view()).unwrap();
        assert_eq!(proba.ncols(), 5, "K + 1 columns");
        let (mut outside, mut background_wins) = (0, 0);
        for (i, row) in x.outer_iter().enumerate() {
            let terms = naive_terms(&m, row.as_slice().unwrap());
            let total = log_sum_exp(&terms);
            assert!(
                (scores[i] - total).abs() <= 1e-12 * total.abs().max(1.0),
                "{kind} row {i}: {} vs {total}",
                scores[i]
            );
            let expected: Vec<f64> = terms.iter().map(|t| (t - total).exp()).collect();
            assert!(rel_diff(proba.row(i).iter(), expected.iter()) <= 1e-12, "{kind} row {i}");
            let best = (0..terms.len()).fold(0, |b, c| if terms[c] > terms[b] { c } else { b });
            assert_eq!(labels[i], best, "{kind} row {i}");
            outside += usize::from(terms[4] == f64::NEG_INFINITY);
            background_wins += usize::from(best == 4);
        }
        assert!(
            outside > 0 && background_wins > 0,
            "{kind}: the test must see both cases ({outside}, {background_wins})"
        );
    }
}

/// One EM iteration from a given model, against the textbook M-step: weights (the background's
/// included) for every kind, and for `full` the means and covariances too.
#[test]
fn one_em_iteration_equals_the_textbook_update() {
    for kind in CovarianceType::ALL {
        let (m, x) = model_and_points(kind, 12);
        let w: Array1<f64> = (0..x.nrows()).map(|i| 0.5 + (i % 5) as f64 * 0.25).collect();
        let spec = GaussianMixture::new(4).covariance_type(kind).max_iter(1).tol(0.0);
        let next = spec
            .fit_with(x.view(), Some(w.view()), FitOptions::new().warm_start(&m, f64::NEG_INFINITY))
            .unwrap()
            .mixture;
        let (k, d) = (4, 3);
        let guard = 10.0 * f64::EPSILON;
        let mut nk = vec![0.0; k + 1];
        let mut sx = vec![0.0; k * d];
        let rows: Vec<Vec<f64>> = x.outer_iter().map(|r| r.to_vec()).collect();
        let resp: Vec<Vec<f64>> = rows
            .iter()
            .map(|r| {
                let t = naive_terms(&m, r);
                let total = log_sum_exp(&t);
                t.iter().map(|v| (v - total).exp()).collect()
            })
            .collect();
        for (i, r) in resp.iter().enumerate() {
            for c in 0..=k {
                nk[c] += w[i] * r[c];
            }
            for c in 0..k {
                for j in 0..d {
                    sx[c * d + j] += w[i] * r[c] * rows[i][j];
                }
            }
        }
        nk.iter_mut().for_each(|n| *n += guard);
        let total: f64 = nk.iter().sum();
        let weights: Vec<f64> = nk[..k].iter().map(|n| n / total).collect();
        assert!(rel_diff(next.weights().iter(), weights.iter()) <= 1e-12, "{kind} weights");
        let bg = next.background().unwrap().weight();
        assert!((bg - nk[k] / total).abs() <= 1e-12, "{kind} background weight {bg} vs {}", nk[k] / total);
        let means: Vec<f64> = (0..k * d).map(|at| sx[at] / nk[at / d]).collect();
        assert!(rel_diff(next.means().iter(), means.iter()) <= 1e-12, "{kind} means");
        if kind == CovarianceType::Full {
            for c in 0..k {
                let mut cov = vec![0.0; d * d];
                for (i, r) in resp.iter().enumerate() {
                    for a in 0..d {
                        for b in 0..d {
                            cov[a * d + b] += w[i]
                                * r[c]
                                * (rows[i][a] - means[c * d + a])
                                * (rows[i][b] - means[c * d + b]);
                        }
                    }
                }
                for a in 0..d {
                    for b in 0..d {
                        cov[a * d + b] = cov[a * d + b] / nk[c] + if a == b { 1e-6 } else { 0.0 };
                    }
                }
                assert!(
                    rel_diff(dense_covariance(&next, c).iter(), cov.iter()) <= 1e-12,
                    "full covariance {c}"
                );
            }
        }
    }
}

/// A mixture of clusters on a uniform floor: the background finds the floor's share, and the
/// Gaussians the clusters; without it the same fit is worse at both.
#[test]
fn the_background_recovers_clusters_on_a_uniform_floor() {
    let truth = Mixture::from_parameters(
        CovarianceType::Full,
        ndarray::array![0.5, 0.5].view(),
        ndarray::array![[20.0, 30.0], [60.0, 70.0]].view(),
        ndarray::ArrayD::from_shape_vec(
            ndarray::IxDyn(&[2, 2, 2]),
            vec![9.0, 3.0, 3.0, 4.0, 4.0, -2.0, -2.0, 6.0],
        )
        .unwrap()
        .view(),
    )
    .unwrap()
    .with_background(Background::new(vec![0.0, 0.0], vec![100.0, 100.0], 0.4).unwrap())
    .unwrap();
    let (x, labels) = truth.sample(20_000, 5);
    let floor_share = labels.iter().filter(|&&l| l == 2).count() as f64 / 20_000.0;
    let spec = GaussianMixture::new(2).random_state(0).tol(1e-8).max_iter(500);
    let region = BackgroundRegion::Box { lower: vec![0.0, 0.0], upper: vec![100.0, 100.0] };
    let with = spec.clone().background(region).fit(x.view(), None).unwrap().mixture;
    let without = spec.fit(x.view(), None).unwrap().mixture;
    let by_x = |m: &Mixture| {
        let mut order: Vec<usize> = (0..2).collect();
        order.sort_by(|&a, &b| m.means()[[a, 0]].total_cmp(&m.means()[[b, 0]]));
        order
    };
    let error = |m: &Mixture| {
        let order = by_x(m);
        let mut worst: f64 = 0.0;
        for (c, &o) in order.iter().enumerate() {
            for j in 0..2 {
                worst = worst.max((m.means()[[o, j]] - truth.means()[[c, j]]).abs());
            }
            let (got, want) = (dense_covariance(m, o), dense_covariance(&truth, c));
            worst = worst.max(rel_diff(got.iter(), want.iter()) * 9.0);
        }
        worst
    };
    let bg = with.background().unwrap().weight();
    eprintln!(
        "floor {floor_share:.4}, background weight {bg:.4}; error with {:.3}, without {:.3}",
        error(&with),
        error(&without)
    );
    assert!((bg - floor_share).abs() < 0.01, "background weight {bg} vs the floor's share {floor_share}");
    assert!(error(&with) < 0.5, "means within 0.5 pixel and covariances within 6%: {}", error(&with));
    assert!(
        error(&without) > 4.0 * error(&with),
        "without the background: {} vs {}",
        error(&without),
        error(&with)
    );
}

#[test]
fn weighted_rows_equal_repeated_rows_and_threads_change_nothing() {
    let (_, x) = sampled(CovarianceType::Full, 3, 2, 5.0, 300, 3);
    let counts: Vec<usize> = (0..x.nrows()).map(|i| 1 + i % 3).collect();
    let mut repeated = Vec::new();
    for (row, &c) in x.outer_iter().zip(&counts) {
        for _ in 0..c {
            repeated.extend(row.iter().copied());
        }
    }
    let repeated = Array2::from_shape_vec((repeated.len() / 2, 2), repeated).unwrap();
    let w: Array1<f64> = counts.iter().map(|&c| c as f64).collect();
    let region = BackgroundRegion::Box { lower: vec![-40.0, -40.0], upper: vec![40.0, 40.0] };
    let (m0, _) = sampled(CovarianceType::Full, 3, 2, 5.0, 10, 3);
    let start =
        m0.with_background(Background::new(vec![-40.0, -40.0], vec![40.0, 40.0], 0.1).unwrap()).unwrap();
    let spec = GaussianMixture::new(3).background(region).max_iter(30).tol(0.0);
    let fit = |x: &Array2<f64>, w: Option<&Array1<f64>>, threads: usize| {
        spec.clone()
            .n_threads(threads)
            .fit_with(x.view(), w.map(|w| w.view()), FitOptions::new().warm_start(&start, f64::NEG_INFINITY))
            .unwrap()
            .mixture
    };
    let weighted = fit(&x, Some(&w), 1);
    let expanded = fit(&repeated, None, 1);
    assert!(common::mixture_rel_diff(&weighted, &expanded) < 1e-10);
    let (a, b) = (weighted.background().unwrap().weight(), expanded.background().unwrap().weight());
    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    let two = fit(&x, Some(&w), 2);
    assert_eq!(common::bits(&weighted), common::bits(&two));
    assert_eq!(weighted.background(), two.background());
}

#[test]
fn saving_sampling_and_counting_parameters_include_the_background() {
    let (m, _) = model_and_points(CovarianceType::Tied, 13);
    let back = Mixture::from_json(&m.to_json()).unwrap();
    assert_eq!(back, m);
    let plain = Mixture::from_json(&m.to_json().replace("\"background\"", "\"ignored\"")).unwrap();
    assert_eq!(m.n_parameters(), plain.n_parameters() + 1);
    let (x, labels) = m.sample(4000, 3);
    let b = m.background().unwrap();
    let floor: Vec<usize> = (0..4000).filter(|&i| labels[i] == 4).collect();
    assert!((floor.len() as f64 / 4000.0 - 0.2).abs() < 0.03, "{} background draws", floor.len());
    assert!(floor.iter().all(|&i| b.contains(x.row(i).as_slice().unwrap())));
    assert!(m.score_samples(x.view()).unwrap().iter().all(|v| v.is_finite()));
}

#[test]
fn bad_regions_are_clear_errors() {
    let x = ndarray::array![[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [3.0, 1.0]];
    let e =
        GaussianMixture::new(1).background(BackgroundRegion::BoundingBox).fit(x.view(), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid background region: the data's bounding box has zero width along feature 1 (every value is 1): give the region"
    );
    let region = BackgroundRegion::Box { lower: vec![0.0, 0.0], upper: vec![1.0, -1.0] };
    let e = GaussianMixture::new(1).background(region).fit(x.view(), None).unwrap_err();
    assert!(e.to_string().contains("feature 1: the upper corner (-1) must exceed the lower (0)"), "{e}");
    let region = BackgroundRegion::Box { lower: vec![0.0], upper: vec![1.0] };
    let e = GaussianMixture::new(1).background(region).fit(x.view(), None).unwrap_err();
    assert!(e.to_string().contains("but the data has 2 features"), "{e}");
}

/// Culling with a background (which may cull every Gaussian of a chunk far from them all)
/// gives the unculled fit.
#[test]
fn culling_with_a_background_is_exact() {
    // A wide floor of uniform points: chunks far from every Gaussian cull them all.
    let (truth, _) = sampled(CovarianceType::Full, 8, 2, 12.0, 10, 21);
    let floor = Background::new(vec![-200.0, -200.0], vec![200.0, 200.0], 0.3).unwrap();
    let (x, _) = truth.with_background(floor).unwrap().sample(20_000, 22);
    let spec = GaussianMixture::new(8).background(BackgroundRegion::BoundingBox).random_state(2).tol(0.0);
    // From the same start: without culling the rows are not put in spatial order, which would
    // change the initialisation.
    let start = spec.clone().max_iter(0).fit(x.view(), None).unwrap().mixture;
    assert!(start.background().is_some());
    let from_start = |spec: GaussianMixture| {
        spec.max_iter(40)
            .fit_with(x.view(), None, FitOptions::new().warm_start(&start, f64::NEG_INFINITY))
            .unwrap()
    };
    let culled = from_start(spec.clone());
    let full = from_start(spec.culling(false));
    let diff = common::mixture_rel_diff(&culled.mixture, &full.mixture);
    let (a, b) = (culled.mixture.background().unwrap().weight(), full.mixture.background().unwrap().weight());
    assert!(diff <= 1e-11, "parameters differ by {diff:e}");
    assert!((a - b).abs() <= 1e-12 * b, "background weight {a} vs {b}");
    assert_eq!(culled.labels, full.labels);
}

/// A streamed fit with a background (its region from the rows it reads) is the in-memory one.
#[test]
fn a_streamed_fit_with_a_background_is_the_in_memory_fit() {
    let (truth, _) = sampled(CovarianceType::Diag, 4, 2, 8.0, 10, 31);
    let floor = Background::new(vec![-60.0, -60.0], vec![60.0, 60.0], 0.25).unwrap();
    let (x, _) = truth.with_background(floor).unwrap().sample(6_000, 32);
    let w: Array1<f64> = (0..x.nrows()).map(|i| 1.0 + (i % 3) as f64).collect();
    for kind in CovarianceType::ALL {
        let spec = GaussianMixture::new(4)
            .covariance_type(kind)
            .background(BackgroundRegion::BoundingBox)
            .random_state(3)
            .tol(1e-8);
        let reference = spec.fit(x.view(), Some(w.view())).unwrap().mixture;
        for rows in [999, 1 << 20] {
            let got = spec
                .fit_stream(
                    &mut einmix::stream::Blocks::new(x.view(), Some(w.view()), rows),
                    FitOptions::new(),
                )
                .unwrap()
                .mixture;
            assert!(
                common::mixture_rel_diff(&got, &reference) <= 1e-9,
                "{kind} rows {rows}: {}",
                common::mixture_rel_diff(&got, &reference)
            );
            let (a, b) = (got.background().unwrap(), reference.background().unwrap());
            assert_eq!((a.lower(), a.upper()), (b.lower(), b.upper()));
            assert!((a.weight() - b.weight()).abs() <= 1e-10, "{kind}: {} vs {}", a.weight(), b.weight());
        }
    }
}

/// A partitioned fit cannot find the data's bounding box by itself: it asks for the region.
#[test]
fn a_partitioned_fit_needs_the_region_given() {
    use einmix::blockwise::{add, block_statistics, Layout};
    use einmix::PartitionSource;
    struct Halves(Array2<f64>, Mixture);
    impl PartitionSource for Halves {
        type Error = einmix::Error;
        fn n_features(&self) -> usize {
            2
        }
        fn initial_mixture(&mut self, _run: usize) -> einmix::Result<Mixture> {
            Ok(self.1.clone())
        }
        fn summed_statistics(&mut self, m: &Mixture, _cull: bool) -> einmix::Result<Vec<f64>> {
            let mut total = vec![0.0; Layout::of(m).len()];
            for rows in [0..150, 150..300] {
                add(&mut total, &block_statistics(m, self.0.slice(ndarray::s![rows, ..]), None)?)?;
            }
            Ok(total)
        }
    }
    let (start, x) = sampled(CovarianceType::Full, 2, 2, 5.0, 300, 41);
    let e = GaussianMixture::new(2)
        .background(BackgroundRegion::BoundingBox)
        .fit_partitions(&mut Halves(x.clone(), start.clone()), FitOptions::new())
        .unwrap_err();
    assert!(e.to_string().contains("a partitioned fit needs the region given"), "{e}");
    // With the region given, the partitioned fit is the in-memory one from the same start.
    let region = BackgroundRegion::Box { lower: vec![-40.0, -40.0], upper: vec![40.0, 40.0] };
    let spec = GaussianMixture::new(2).background(region).tol(1e-10).max_iter(200);
    let parted =
        spec.fit_partitions(&mut Halves(x.clone(), start.clone()), FitOptions::new()).unwrap().mixture;
    let b = Background::new(vec![-40.0, -40.0], vec![40.0, 40.0], 1.0 / 3.0).unwrap();
    let from = start.with_background(b).unwrap();
    let memory = spec
        .fit_with(x.view(), None, FitOptions::new().warm_start(&from, f64::NEG_INFINITY))
        .unwrap()
        .mixture;
    assert!(
        common::mixture_rel_diff(&parted, &memory) < 1e-9,
        "{}",
        common::mixture_rel_diff(&parted, &memory)
    );
}

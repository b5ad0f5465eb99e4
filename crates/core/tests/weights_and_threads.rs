//! Sample weights behave as repetitions, and results depend on neither the thread count, the
//! row order nor the origin.

mod common;

use common::{bits, inits_near, mixture_rel_diff, rel_diff, sampled};
use einmix::{CovarianceType, GaussianMixture, InitParams, Mixture};
use ndarray::{Array1, Array2, Axis};

/// (components, dimensions) of the data sets. Few dimensions and several components is where
/// the E-step may skip components that cannot matter (see `em.rs`); the properties hold either way.
const SHAPES: [(usize, usize); 2] = [(3, 3), (5, 2)];

/// A fit from given initial parameters near `truth` (so no random initialisation is involved),
/// for a fixed number of iterations (`tol = 0`, so no run stops earlier than another).
fn given_spec(truth: &Mixture, iterations: usize) -> GaussianMixture {
    let (w, m, p) = inits_near(truth, 0.3);
    GaussianMixture::new(truth.n_components())
        .covariance_type(truth.covariance_type())
        .weights_init(w)
        .means_init(m)
        .precisions_init(p)
        .tol(0.0)
        .max_iter(iterations)
}

fn kinds_and_shapes() -> impl Iterator<Item = (CovarianceType, (usize, usize))> {
    CovarianceType::ALL.into_iter().flat_map(|kind| SHAPES.map(|shape| (kind, shape)))
}

#[test]
fn an_integer_weight_is_that_many_copies_of_the_row() {
    for (kind, (k, d)) in kinds_and_shapes() {
        let (truth, x) = sampled(kind, k, d, 3.0, 500, 1);
        let w = Array1::from_shape_fn(500, |i| ((i * 7) % 4 + 1) as f64);
        let rows: Vec<usize> = (0..500).flat_map(|i| vec![i; w[i] as usize]).collect();
        let repeated = x.select(Axis(0), &rows);
        let spec = given_spec(&truth, 25);
        let weighted = spec.fit(x.view(), Some(w.view())).unwrap();
        let copied = spec.fit(repeated.view(), None).unwrap();
        let diff = mixture_rel_diff(&weighted.mixture, &copied.mixture);
        assert!(diff <= 1e-10, "{kind}: {diff:e}");
        assert!(rel_diff(&weighted.info.lower_bounds, &copied.info.lower_bounds) <= 1e-10, "{kind}");
    }
}

#[test]
fn a_zero_weight_is_a_deleted_row() {
    for (kind, (k, d)) in kinds_and_shapes() {
        let (truth, x) = sampled(kind, k, d, 3.0, 800, 2);
        // Zeros scattered through the data, including the first and the last row.
        let w = Array1::from_shape_fn(800, |i| if i % 5 == 0 || i == 799 { 0.0 } else { 1.0 });
        let kept: Vec<usize> = (0..800).filter(|&i| w[i] > 0.0).collect();
        let spec = given_spec(&truth, 25);
        let weighted = spec.fit(x.view(), Some(w.view())).unwrap();
        let deleted = spec.fit(x.select(Axis(0), &kept).view(), None).unwrap();
        let diff = mixture_rel_diff(&weighted.mixture, &deleted.mixture);
        assert!(diff <= 1e-10, "{kind}: {diff:e}");
        assert!(rel_diff(&weighted.info.lower_bounds, &deleted.info.lower_bounds) <= 1e-10, "{kind}");
        // And through the random initialisations, zero-weight rows are never picked.
        for init in [InitParams::KMeansPlusPlus, InitParams::RandomFromData] {
            let x_far = {
                let mut x = x.clone();
                for i in (0..800).filter(|&i| w[i] == 0.0) {
                    x.row_mut(i).fill(1e6);
                }
                x
            };
            let fit = GaussianMixture::new(k)
                .covariance_type(kind)
                .init_params(init)
                .max_iter(0)
                .random_state(4)
                .fit(x_far.view(), Some(w.view()))
                .unwrap();
            assert!(fit.mixture.means().iter().all(|v| v.abs() < 1e3), "{kind} {init}");
        }
    }
}

/// Multiplying every weight by a constant changes nothing: the weights only enter as
/// proportions (the `10 eps` guard on `N_k` aside, which is far below the tolerance here).
#[test]
fn scaling_all_weights_changes_nothing() {
    for (kind, (k, d)) in kinds_and_shapes() {
        let (truth, x) = sampled(kind, k, d, 3.0, 700, 3);
        let w = Array1::from_shape_fn(700, |i| 0.3 + ((i * 13) % 10) as f64 / 7.0);
        let spec = given_spec(&truth, 20);
        let base = spec.fit(x.view(), Some(w.view())).unwrap();
        for factor in [1e-3, 7.3, 1e4] {
            let scaled = w.mapv(|v| v * factor);
            let fit = spec.fit(x.view(), Some(scaled.view())).unwrap();
            let diff = mixture_rel_diff(&base.mixture, &fit.mixture);
            assert!(diff <= 1e-12, "{kind} x{factor}: {diff:e}");
            assert!(rel_diff(&base.info.lower_bounds, &fit.info.lower_bounds) <= 1e-12, "{kind} x{factor}");
        }
        // The same holds through the k-means initialisation.
        let spec = GaussianMixture::new(k).covariance_type(kind).random_state(5);
        let a = spec.fit(x.view(), Some(w.view())).unwrap();
        let b = spec.fit(x.view(), Some(w.mapv(|v| v * 7.3).view())).unwrap();
        assert!(mixture_rel_diff(&a.mixture, &b.mixture) <= 1e-12, "{kind}");
    }
}

/// 20,000 points are 79 chunks of 256, i.e. 5 blocks of 16 chunks: enough for every thread
/// count to split the work differently. Blocks are reduced in block order, so the answer must
/// be the same bit for bit.
#[test]
fn one_two_and_three_threads_agree_bit_for_bit() {
    let n = 20_000;
    for kind in CovarianceType::ALL {
        let (_, x) = sampled(kind, 4, 3, 3.0, n, 4);
        let w = Array1::from_shape_fn(n, |i| 0.5 + (i % 4) as f64);
        for init in InitParams::ALL {
            let spec =
                GaussianMixture::new(4).covariance_type(kind).init_params(init).n_init(2).random_state(6);
            let one = spec.clone().n_threads(1).fit(x.view(), Some(w.view())).unwrap();
            assert!(one.info.n_iter > 1);
            for threads in [Some(2), Some(3), None] {
                let spec = match threads {
                    Some(t) => spec.clone().n_threads(t),
                    None => spec.clone(),
                };
                let other = spec.fit(x.view(), Some(w.view())).unwrap();
                let what = format!("{kind} {init} {threads:?} threads");
                assert_eq!(bits(&one.mixture), bits(&other.mixture), "{what}");
                let lb = |f: &einmix::Fit| -> Vec<u64> {
                    f.info.lower_bounds.iter().map(|v| v.to_bits()).collect()
                };
                assert_eq!(lb(&one), lb(&other), "{what}");
                assert_eq!(one.info.run_lower_bounds, other.info.run_lower_bounds, "{what}");
                assert_eq!(one.labels, other.labels, "{what}");
            }
        }
    }
}

/// The lower bound is a sum over rows: permuting them reorders the additions only.
#[test]
fn row_order_does_not_change_the_fit() {
    let n = 5000;
    for (kind, (k, d)) in kinds_and_shapes() {
        let (truth, x) = sampled(kind, k, d, 3.0, n, 7);
        let w = Array1::from_shape_fn(n, |i| 1.0 + (i % 3) as f64);
        // A fixed pseudo-random permutation (multiplication by a unit modulo n).
        let perm: Vec<usize> = (0..n).map(|i| (i * 2741 + 17) % n).collect();
        let mut seen = perm.clone();
        seen.sort();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        let spec = given_spec(&truth, 15);
        let a = spec.fit(x.view(), Some(w.view())).unwrap();
        let b = spec.fit(x.select(Axis(0), &perm).view(), Some(w.select(Axis(0), &perm).view())).unwrap();
        for (t, (la, lb)) in a.info.lower_bounds.iter().zip(&b.info.lower_bounds).enumerate() {
            assert!((la - lb).abs() <= 1e-12 * la.abs(), "{kind} iteration {t}: {la} vs {lb}");
        }
        assert!(mixture_rel_diff(&a.mixture, &b.mixture) <= 1e-10, "{kind}");
        let labels_b: Vec<usize> = perm.iter().map(|&i| a.labels[i]).collect();
        assert_eq!(labels_b, b.labels.to_vec(), "{kind}");
    }
}

/// Moving the data by `1e4` moves the means by `1e4` and nothing else. Coordinates near `1e4`
/// carry an absolute rounding of about `1e4 * eps = 2e-12` (relative `2e-12` on the centred
/// values, whose scale is 1), which is what the `1e-9` allowance covers after 20 iterations.
#[test]
fn translating_the_data_translates_the_means() {
    let offset = 1e4;
    for (kind, (k, d)) in kinds_and_shapes() {
        let (truth, x) = sampled(kind, k, d, 3.0, 2000, 8);
        let spec = given_spec(&truth, 20);
        let (w, m, p) = inits_near(&truth, 0.3);
        let moved = GaussianMixture::new(k)
            .covariance_type(kind)
            .weights_init(w)
            .means_init(m.mapv(|v| v + offset))
            .precisions_init(p)
            .tol(0.0)
            .max_iter(20);
        let a = spec.fit(x.view(), None).unwrap();
        let b = moved.fit(x.mapv(|v| v + offset).view(), None).unwrap();
        let back: Array2<f64> = b.mixture.means().mapv(|v| v - offset);
        // The means' scale is that of the data (about 1 to 3): compare in absolute terms.
        let mean_err = (&back - &a.mixture.means()).mapv(f64::abs).fold(0.0, |m: f64, &v| m.max(v));
        assert!(mean_err <= 1e-9, "{kind}: means off by {mean_err:e}");
        let cov_err = rel_diff(b.mixture.covariances().iter(), a.mixture.covariances().iter());
        assert!(cov_err <= 1e-9, "{kind}: covariances off by {cov_err:e}");
        assert!(rel_diff(b.mixture.weights().iter(), a.mixture.weights().iter()) <= 1e-9);
        assert!(rel_diff(&b.info.lower_bounds, &a.info.lower_bounds) <= 1e-9, "{kind}: lower bounds");
        assert_eq!(a.labels, b.labels, "{kind}");
    }
}

/// The same invariance for weights of any magnitude. It fails today: the M-step adds
/// scikit-learn's guard `10 eps` to every `N_k` (`mstep.rs`, `EMPTY_GUARD`, also used for the
/// initial shifts in `init.rs`) as an absolute amount, which is negligible for unit weights
/// (scikit-learn has no sample weights) but not when the weights are tiny: with every weight
/// `1e-12`, `N_k` is about `1e-10` and the guard moves the means, covariances and weights by
/// about `2e-5` relative.
#[test]
fn scaling_all_weights_by_a_tiny_constant_changes_nothing() {
    for (kind, (k, d)) in kinds_and_shapes() {
        let (truth, x) = sampled(kind, k, d, 3.0, 700, 3);
        let w = Array1::from_shape_fn(700, |i| 0.3 + ((i * 13) % 10) as f64 / 7.0);
        let spec = given_spec(&truth, 20);
        let base = spec.fit(x.view(), Some(w.view())).unwrap();
        let tiny = spec.fit(x.view(), Some(w.mapv(|v| v * 1e-12).view())).unwrap();
        let diff = mixture_rel_diff(&base.mixture, &tiny.mixture);
        assert!(diff <= 1e-12, "{kind}: {diff:e}");
        // With k-means initialisation the initial weights do not even sum to 1.
        let init = GaussianMixture::new(k)
            .covariance_type(kind)
            .max_iter(0)
            .random_state(5)
            .fit(x.view(), Some(w.mapv(|v| v * 1e-12).view()))
            .unwrap();
        let sum = init.mixture.weights().sum();
        assert!((sum - 1.0).abs() <= 1e-12, "{kind}: initial weights sum to {sum}");
    }
}

#[test]
fn weights_at_the_ends_of_the_f64_range_change_nothing() {
    let (_, x) = einmix::datasets::seed_workload(3_000, 6, 9);
    let spec = GaussianMixture::new(6).random_state(3);
    let plain = spec.fit(x.view(), None).unwrap();
    for scale in [1e308, 1e-320, 1e-300, 1e300] {
        let w = ndarray::Array1::from_elem(x.nrows(), scale);
        let weighted = spec.fit(x.view(), Some(w.view())).unwrap();
        let rel = (weighted.info.lower_bound - plain.info.lower_bound).abs() / plain.info.lower_bound.abs();
        assert!(rel < 1e-12, "scale {scale}: {rel}");
        for (a, b) in weighted.mixture.means().iter().zip(plain.mixture.means().iter()) {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "scale {scale}");
        }
    }
}

#[test]
fn one_point_initialisations_count_each_chosen_row_once() {
    // A row of weight w stands for w copies, of which k-means++ / random_from_data choose one:
    // the initial mixing weights are 1/K whatever the chosen rows' weights.
    let (_, x) = einmix::datasets::seed_workload(400, 4, 2);
    let w = ndarray::Array1::from_shape_fn(x.nrows(), |i| (1 + i % 4) as f64);
    for init in [einmix::InitParams::KMeansPlusPlus, einmix::InitParams::RandomFromData] {
        let fit = GaussianMixture::new(4)
            .init_params(init)
            .max_iter(0)
            .random_state(1)
            .fit(x.view(), Some(w.view()))
            .unwrap();
        for &p in fit.mixture.weights() {
            assert!((p - 0.25).abs() < 1e-12, "{init}: {p}");
        }
    }
}

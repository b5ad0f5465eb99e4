//! Property tests of the invariants users rely on, on random data for all four kinds:
//! row order, affine changes of coordinates, integer weights as repetitions, thread counts,
//! scores of sampled points, and save/load. The fixed-case versions in `weights_and_threads.rs`
//! pin particular data sets; these draw shapes, mixtures, weights, permutations and maps at random.
//!
//! Every fit starts from given parameters (no random initialisation) and runs a fixed number of
//! iterations (`tol = 0`), so two fits that should agree take the same path. The tolerances are
//! a few hundred ulps of rounding per iteration carried through at most 12 iterations on
//! well-separated data (`spread = 3`), i.e. `1e-9` where the additions are only reordered.

mod common;

use common::{bits, dense_covariance, inits_near, mixture_rel_diff, rel_diff, sampled};
use einmix::{BayesianGaussianMixture, CovarianceType, Fit, GaussianMixture, Mixture, VariationalMixture};
use ndarray::{Array1, Array2, ArrayD, Axis, IxDyn};
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Iterations of every fit: enough for EM to move well away from its start.
const ITERATIONS: usize = 12;

/// A random data set: `k` components in `d` dimensions, `n` rows, and a seed for everything
/// else the property draws (weights, permutations, maps).
#[derive(Debug, Clone)]
struct Shape {
    k: usize,
    d: usize,
    n: usize,
    seed: u64,
}

fn shapes(rows: std::ops::Range<usize>) -> impl Strategy<Value = Shape> {
    (1usize..5, 1usize..5, rows, any::<u64>()).prop_map(|(k, d, n, seed)| Shape { k, d, n, seed })
}

/// Data from a random mixture of `kind` and the fit that starts near that mixture.
fn problem(kind: CovarianceType, s: &Shape) -> (Mixture, Array2<f64>, GaussianMixture) {
    // At least 20 rows per component, so that no component is starved into the
    // regularisation floor (where `reg_covar` would break the affine property).
    let n = s.n.max(20 * s.k * s.d);
    let (truth, x) = sampled(kind, s.k, s.d, 3.0, n, s.seed % 1_000_000);
    let (w, m, p) = inits_near(&truth, 0.3);
    let spec = GaussianMixture::new(s.k)
        .covariance_type(kind)
        .weights_init(w)
        .means_init(m)
        .precisions_init(p)
        .tol(0.0)
        .max_iter(ITERATIONS);
    (truth, x, spec)
}

fn lower_bound_bits(f: &Fit) -> Vec<u64> {
    f.info.lower_bounds.iter().map(|v| v.to_bits()).collect()
}

/// `y = A x + b` for every row.
fn apply(a: &Array2<f64>, b: &Array1<f64>, x: &Array2<f64>) -> Array2<f64> {
    x.dot(&a.t()) + b
}

/// A random map the kind's model family is closed under: any well-conditioned invertible
/// matrix for full and tied, a diagonal one (signs and scales) for diag, a scaled rotation for
/// spherical. Scales lie in `[0.5, 2]`, so conditioning stays within a factor 16.
fn random_map(kind: CovarianceType, d: usize, rng: &mut ChaCha8Rng) -> Array2<f64> {
    let scale = |rng: &mut ChaCha8Rng| {
        let s: f64 = rng.random_range(0.5..2.0);
        if rng.random_bool(0.5) {
            -s
        } else {
            s
        }
    };
    let rotation = random_rotation(d, rng);
    match kind {
        CovarianceType::Full | CovarianceType::Tied => {
            let diag = Array2::from_diag(&Array1::from_shape_fn(d, |_| scale(rng)));
            let other = random_rotation(d, rng);
            rotation.dot(&diag).dot(&other)
        }
        CovarianceType::Diag => Array2::from_diag(&Array1::from_shape_fn(d, |_| scale(rng))),
        CovarianceType::Spherical => rotation * scale(rng),
    }
}

/// A random orthogonal matrix: Gram-Schmidt on a random Gaussian-like matrix.
fn random_rotation(d: usize, rng: &mut ChaCha8Rng) -> Array2<f64> {
    let mut q = Array2::from_shape_fn((d, d), |_| rng.random_range(-1.0f64..1.0));
    for j in 0..d {
        for i in 0..j {
            let dot = q.column(j).dot(&q.column(i));
            let prev = q.column(i).to_owned();
            q.column_mut(j).scaled_add(-dot, &prev);
        }
        let norm = q.column(j).dot(&q.column(j)).sqrt();
        q.column_mut(j).mapv_inplace(|v| v / norm);
    }
    q
}

/// The initial precisions of a spec moved by `A`: `A^-T P A^-1`, in the kind's shape.
fn mapped_precisions(kind: CovarianceType, truth: &Mixture, a: &Array2<f64>) -> ArrayD<f64> {
    let (k, d) = (truth.n_components(), truth.n_features());
    let inverse = {
        let (flat, _) = common::inverse_and_det(a.as_slice().expect("standard layout"), d);
        Array2::from_shape_vec((d, d), flat).expect("d x d")
    };
    let p = truth.precisions();
    let dense = |c: usize| -> Array2<f64> {
        let cov = Array2::from_shape_vec((d, d), dense_covariance(truth, c)).expect("d x d");
        let (flat, _) = common::inverse_and_det(cov.as_slice().expect("standard layout"), d);
        Array2::from_shape_vec((d, d), flat).expect("d x d")
    };
    let moved = |c: usize| inverse.t().dot(&dense(c)).dot(&inverse);
    match kind {
        CovarianceType::Full => {
            let all: Vec<f64> = (0..k).flat_map(|c| moved(c).into_iter()).collect();
            ArrayD::from_shape_vec(IxDyn(&[k, d, d]), all).expect("shape")
        }
        CovarianceType::Tied => moved(0).into_dyn(),
        CovarianceType::Diag => {
            ArrayD::from_shape_fn(IxDyn(&[k, d]), |i| p[[i[0], i[1]]] / (a[[i[1], i[1]]] * a[[i[1], i[1]]]))
        }
        CovarianceType::Spherical => {
            // `A = s Q`: every precision divides by `s^2 = |det A|^(2/d)`.
            let s2 = a.row(0).dot(&a.row(0));
            p.mapv(|v| v / s2)
        }
    }
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config(64))]

    /// The lower bound is a (weighted) sum over rows: a permutation only reorders additions.
    #[test]
    fn permuting_rows_changes_nothing(s in shapes(50..400)) {
        for kind in CovarianceType::ALL {
            let (_, x, spec) = problem(kind, &s);
            let n = x.nrows();
            let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
            let w = Array1::from_shape_fn(n, |_| rng.random_range(0.1..3.0));
            let mut perm: Vec<usize> = (0..n).collect();
            perm.shuffle(&mut rng);
            let a = spec.fit(x.view(), Some(w.view())).unwrap();
            let b = spec.fit(x.select(Axis(0), &perm).view(), Some(w.select(Axis(0), &perm).view())).unwrap();
            let diff = mixture_rel_diff(&b.mixture, &a.mixture);
            prop_assert!(diff <= 1e-9, "{kind}: parameters differ by {diff:e}");
            let lb = rel_diff(&b.info.lower_bounds, &a.info.lower_bounds);
            prop_assert!(lb <= 1e-9, "{kind}: lower bounds differ by {lb:e}");
        }
    }

    /// `y = A x + b` maps the fit to the transformed fit: means `A m + b`, covariances
    /// `A S A^T`, the same weights and labels, and every per-sample lower bound lowered by
    /// `ln |det A|` (the density's Jacobian). `reg_covar = 0`, since a fixed ridge added to the
    /// covariances is not itself transformed.
    #[test]
    fn an_affine_map_of_the_data_maps_the_fit(s in shapes(50..400)) {
        for kind in CovarianceType::ALL {
            let (truth, x, spec) = problem(kind, &s);
            let d = s.d;
            let mut rng = ChaCha8Rng::seed_from_u64(s.seed ^ 0xA11);
            let a = random_map(kind, d, &mut rng);
            let b = Array1::from_shape_fn(d, |_| rng.random_range(-100.0..100.0));
            let (_, log_det) = {
                let (_, det) = common::inverse_and_det(a.as_slice().expect("standard layout"), d);
                ((), det.abs().ln())
            };
            let (w, m, _) = inits_near(&truth, 0.3);
            let moved_spec = GaussianMixture::new(s.k)
                .covariance_type(kind)
                .weights_init(w)
                .means_init(apply(&a, &b, &m))
                .precisions_init(mapped_precisions(kind, &truth, &a))
                .reg_covar(0.0)
                .tol(0.0)
                .max_iter(ITERATIONS);
            let plain = spec.reg_covar(0.0).fit(x.view(), None).unwrap();
            let moved = moved_spec.fit(apply(&a, &b, &x).view(), None).unwrap();

            let expected_means = apply(&a, &b, &plain.mixture.means().to_owned());
            let means = rel_diff(moved.mixture.means().iter(), expected_means.iter());
            prop_assert!(means <= 1e-9, "{kind}: means off by {means:e}");
            for c in 0..s.k {
                let cov = Array2::from_shape_vec((d, d), dense_covariance(&plain.mixture, c)).unwrap();
                let expected = a.dot(&cov).dot(&a.t());
                let got = dense_covariance(&moved.mixture, c);
                let err = rel_diff(got.iter(), expected.iter());
                prop_assert!(err <= 1e-9, "{kind}: covariance {c} off by {err:e}");
            }
            let weights = rel_diff(moved.mixture.weights().iter(), plain.mixture.weights().iter());
            prop_assert!(weights <= 1e-9, "{kind}: weights off by {weights:e}");
            let shifted: Vec<f64> = plain.info.lower_bounds.iter().map(|v| v - log_det).collect();
            let lb = rel_diff(&moved.info.lower_bounds, &shifted);
            prop_assert!(lb <= 1e-9, "{kind}: lower bounds off by {lb:e}");
            prop_assert_eq!(&moved.labels, &plain.labels, "{}: labels", kind);
        }
    }

    /// A row of integer weight `w` is `w` copies of that row.
    #[test]
    fn an_integer_weight_equals_repeating_the_row(s in shapes(50..300)) {
        for kind in CovarianceType::ALL {
            let (_, x, spec) = problem(kind, &s);
            let n = x.nrows();
            let mut rng = ChaCha8Rng::seed_from_u64(s.seed ^ 0x3E1);
            let w = Array1::from_shape_fn(n, |_| rng.random_range(1..5) as f64);
            let rows: Vec<usize> = (0..n).flat_map(|i| vec![i; w[i] as usize]).collect();
            let weighted = spec.fit(x.view(), Some(w.view())).unwrap();
            let repeated = spec.fit(x.select(Axis(0), &rows).view(), None).unwrap();
            let diff = mixture_rel_diff(&weighted.mixture, &repeated.mixture);
            prop_assert!(diff <= 1e-9, "{kind}: parameters differ by {diff:e}");
            let lb = rel_diff(&weighted.info.lower_bounds, &repeated.info.lower_bounds);
            prop_assert!(lb <= 1e-9, "{kind}: lower bounds differ by {lb:e}");
        }
    }

    /// Save and load give back every bit, and the loaded model scores every bit the same.
    #[test]
    fn save_and_load_round_trip_bit_for_bit(s in shapes(50..300)) {
        for kind in CovarianceType::ALL {
            let (_, x, spec) = problem(kind, &s);
            let fit = spec.fit(x.view(), None).unwrap();
            let loaded = Mixture::from_json(&fit.mixture.to_json()).unwrap();
            prop_assert_eq!(bits(&loaded), bits(&fit.mixture), "{}", kind);
            let score = |m: &Mixture| -> Vec<u64> {
                m.score_samples(x.view()).unwrap().iter().map(|v| v.to_bits()).collect()
            };
            prop_assert_eq!(score(&loaded), score(&fit.mixture), "{}: scores", kind);

            let bayes = BayesianGaussianMixture::new(s.k)
                .covariance_type(kind)
                .max_iter(ITERATIONS)
                .random_state(s.seed)
                .fit(x.view(), None)
                .unwrap();
            let text = bayes.model.to_json();
            let back = VariationalMixture::from_json(&text).unwrap();
            prop_assert_eq!(back.to_json(), text, "{}: variational model", kind);
            prop_assert_eq!(bits(&back.mixture), bits(&bayes.model.mixture), "{}", kind);
            let vscore = |m: &VariationalMixture| -> Vec<u64> {
                m.score_samples(x.view()).unwrap().iter().map(|v| v.to_bits()).collect()
            };
            prop_assert_eq!(vscore(&back), vscore(&bayes.model), "{}: variational scores", kind);
        }
    }

    /// Points drawn from a fitted model, however many and whatever the seed, have finite
    /// scores under it, and so does every point of the data it was fitted to.
    #[test]
    fn scores_of_sampled_points_are_finite(s in shapes(50..300), draws in 1usize..2000) {
        for kind in CovarianceType::ALL {
            let (_, x, spec) = problem(kind, &s);
            let fit = spec.fit(x.view(), None).unwrap();
            let (y, labels) = fit.mixture.sample(draws, s.seed);
            prop_assert_eq!(y.nrows(), draws);
            prop_assert!(labels.iter().all(|&c| c < s.k));
            let scores = fit.mixture.score_samples(y.view()).unwrap();
            prop_assert!(scores.iter().all(|v| v.is_finite()), "{kind}: a non-finite score");
            let own = fit.mixture.score_samples(x.view()).unwrap();
            prop_assert!(own.iter().all(|v| v.is_finite()), "{kind}: a non-finite score on the data");
        }
    }
}

proptest! {
    // Fewer cases: each one is three fits of several thousand rows.
    #![proptest_config(config(12))]

    /// Rows go to threads in blocks of 16 chunks of 256 (4,096 rows), and blocks are reduced in
    /// block order whatever thread ran them: 1, 2 and 3 threads give the same bits. `n` spans
    /// two to four blocks, so every thread count splits the work differently.
    #[test]
    fn thread_counts_give_bitwise_equal_fits(s in shapes(5_000..16_000)) {
        for kind in CovarianceType::ALL {
            let (_, x, spec) = problem(kind, &s);
            let mut rng = ChaCha8Rng::seed_from_u64(s.seed ^ 0x7EAD);
            let w = Array1::from_shape_fn(x.nrows(), |_| rng.random_range(0.1..3.0));
            let one = spec.clone().n_threads(1).fit(x.view(), Some(w.view())).unwrap();
            for threads in [2, 3] {
                let other = spec.clone().n_threads(threads).fit(x.view(), Some(w.view())).unwrap();
                prop_assert_eq!(bits(&other.mixture), bits(&one.mixture), "{} {} threads", kind, threads);
                prop_assert_eq!(lower_bound_bits(&other), lower_bound_bits(&one), "{} {} threads", kind, threads);
                prop_assert_eq!(&other.labels, &one.labels, "{} {} threads", kind, threads);
            }
        }
    }
}

//! Story: online EM (`GaussianMixture::partial_fit`) learns from a stream as well as a batch
//! fit on all of it, for every covariance kind (issue 14).

use einmix::{datasets, CovarianceType, Error, GaussianMixture, Mixture, OnlineFit, OnlineState};
use ndarray::{concatenate, Array1, Array2, Axis};

/// A stream of `batches` shuffled batches of `rows` points from `truth`, and held-out points.
fn stream(truth: &Mixture, batches: usize, rows: usize, seed: u64) -> (Vec<Array2<f64>>, Array2<f64>) {
    let shuffled = |x: Array2<f64>| {
        let n = x.nrows();
        let order: Vec<usize> = (0..n).map(|i| (i * 7919) % n).collect();
        x.select(Axis(0), &order)
    };
    let list = (0..batches).map(|b| shuffled(truth.sample(rows, seed + b as u64).0)).collect();
    (list, truth.sample(20_000, seed + 10_000).0)
}

fn one_pass(spec: &GaussianMixture, batches: &[Array2<f64>]) -> OnlineFit {
    let mut online: Option<OnlineFit> = None;
    for x in batches {
        online = Some(spec.partial_fit(x.view(), None, online.as_ref()).unwrap());
    }
    online.unwrap()
}

/// The bar: one pass over 100 batches of 1,000 points (5 components, 3 dimensions) is
/// within 0.005 nats per held-out point of the batch fit on all 100,000, with the default step.
/// Means spread over `[-5, 5]^3` with axis sds of 0.5-1.5: separated enough that both fits
/// find the same optimum (online EM, like any EM, keeps the local optimum its first batch's
/// initialisation leads to; with heavily overlapping components either fit can end lower).
#[test]
fn one_pass_of_online_em_is_within_five_millinats_of_the_batch_fit() {
    for (i, kind) in CovarianceType::ALL.into_iter().enumerate() {
        let truth = datasets::random_mixture(kind, 5, 3, 5.0, 40 + i as u64);
        let (batches, held_out) = stream(&truth, 100, 1000, 1000 * i as u64);
        let spec = GaussianMixture::new(5).covariance_type(kind).random_state(0).n_init(3);
        let views: Vec<_> = batches.iter().map(|b| b.view()).collect();
        let all = concatenate(Axis(0), &views).unwrap();
        let batch = spec.fit(all.view(), None).unwrap().mixture.score(held_out.view()).unwrap();
        let online = one_pass(&spec, &batches);
        assert_eq!(online.state.n_batches(), 100);
        let got = online.mixture.score(held_out.view()).unwrap();
        assert!(batch - got <= 0.005, "{kind}: online {got:.5} vs batch {batch:.5}");
        // And it is a real fit, near the truth's own held-out likelihood.
        let best = truth.score(held_out.view()).unwrap();
        assert!(best - got < 0.02, "{kind}: online {got:.5} vs truth {best:.5}");
    }
}

/// An integer weight is the row repeated, for one step from the same state.
#[test]
fn a_weighted_step_equals_the_step_with_repeated_rows() {
    for kind in CovarianceType::ALL {
        let truth = datasets::random_mixture(kind, 4, 3, 4.0, 7);
        let (batches, _) = stream(&truth, 2, 600, 5);
        let spec = GaussianMixture::new(4).covariance_type(kind).random_state(1);
        let first = spec.partial_fit(batches[0].view(), None, None).unwrap();
        let x = &batches[1];
        let counts: Vec<usize> = (0..x.nrows()).map(|i| 1 + i % 3).collect();
        let rows: Vec<usize> =
            counts.iter().enumerate().flat_map(|(i, &c)| std::iter::repeat_n(i, c)).collect();
        let repeated = x.select(Axis(0), &rows);
        let w = Array1::from_iter(counts.iter().map(|&c| c as f64));
        let a = spec.partial_fit(x.view(), Some(w.view()), Some(&first)).unwrap();
        let b = spec.partial_fit(repeated.view(), None, Some(&first)).unwrap();
        let flat = |m: &Mixture| -> Vec<f64> {
            m.weights().iter().chain(m.means().iter()).chain(m.covariances().iter()).copied().collect()
        };
        for (p, q) in flat(&a.mixture).iter().zip(flat(&b.mixture)) {
            assert!((p - q).abs() <= 1e-9 * q.abs().max(1.0), "{kind}: {p} vs {q}");
        }
        assert!((a.lower_bound - b.lower_bound).abs() <= 1e-12 * b.lower_bound.abs());
    }
}

/// Results do not depend on the number of threads, and the state survives a round trip
/// through its parts (what the Python estimator stores).
#[test]
fn threads_change_nothing_and_the_state_round_trips() {
    let truth = datasets::random_mixture(CovarianceType::Full, 6, 2, 5.0, 3);
    let (batches, _) = stream(&truth, 6, 3000, 11);
    let one = one_pass(&GaussianMixture::new(6).random_state(2).n_threads(1), &batches);
    let two = one_pass(&GaussianMixture::new(6).random_state(2).n_threads(2), &batches);
    assert_eq!(one.mixture, two.mixture);
    assert_eq!(one.state, two.state);
    let spec = GaussianMixture::new(6).random_state(2);
    let mut prefix = one_pass(&spec, &batches[..3]);
    prefix.state = OnlineState::from_parts(&prefix.mixture, prefix.state.to_parts()).unwrap();
    let mut online = Some(prefix);
    for x in &batches[3..] {
        online = Some(spec.partial_fit(x.view(), None, online.as_ref()).unwrap());
    }
    assert_eq!(online.unwrap().mixture, one.mixture);
}

#[test]
fn bad_batches_and_step_sizes_are_errors() {
    let truth = datasets::random_mixture(CovarianceType::Diag, 3, 2, 5.0, 1);
    let (x, _) = truth.sample(200, 1);
    let spec = GaussianMixture::new(3).random_state(0);
    // A first batch smaller than n_components.
    let e = spec.partial_fit(x.slice(ndarray::s![..2, ..]), None, None).unwrap_err();
    assert!(matches!(e, Error::TooFewSamples { n_samples: 2, n_components: 3 }), "{e}");
    let first = spec.partial_fit(x.view(), None, None).unwrap();
    // NaN, and a batch with another number of features.
    let mut bad = x.clone();
    bad[[5, 1]] = f64::NAN;
    let e = spec.partial_fit(bad.view(), None, Some(&first)).unwrap_err();
    assert_eq!(e.to_string(), "Input X contains NaN at row 5, column 1.");
    let wide = Array2::<f64>::zeros((10, 3));
    let e = spec.partial_fit(wide.view(), None, Some(&first)).unwrap_err();
    assert!(matches!(e, Error::DimensionMismatch { expected: 2, found: 3 }), "{e}");
    // A later batch may be a single row.
    let one = spec.partial_fit(x.slice(ndarray::s![..1, ..]), None, Some(&first)).unwrap();
    assert_eq!(one.state.n_batches(), 2);
    for (decay, offset) in [(0.5, 10.0), (1.2, 10.0), (f64::NAN, 10.0), (0.7, -1.0)] {
        let e = spec.clone().learning_decay(decay).learning_offset(offset).partial_fit(x.view(), None, None);
        assert!(matches!(e, Err(Error::InvalidParameter { .. })), "{decay} {offset}");
    }
    // A state from another mixture.
    let other = GaussianMixture::new(2).random_state(0).fit(x.view(), None).unwrap().mixture;
    assert!(OnlineState::from_parts(&other, first.state.to_parts()).is_err());
}

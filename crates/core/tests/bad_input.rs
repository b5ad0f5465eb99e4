//! Every kind of bad input gives its own `Error` variant, with the position or the parameter
//! named and a message worded like scikit-learn's; no returned model ever holds a NaN.

mod common;

use common::{assert_valid_model, sampled};
use einmix::{CovarianceType, Error, FitOptions, GaussianMixture, InitParams, Input, Mixture};
use ndarray::{array, Array1, Array2, ArrayD, IxDyn};

/// A small, harmless data set: 40 points in 3 dimensions.
fn data() -> Array2<f64> {
    Array2::from_shape_fn((40, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64 + 0.1 * j as f64)
}

fn fit_err(spec: &GaussianMixture, x: &Array2<f64>, w: Option<&Array1<f64>>) -> Error {
    match spec.fit(x.view(), w.map(|w| w.view())) {
        Ok(fit) => panic!("expected an error, got a fit: {:?}", fit.mixture),
        Err(e) => e,
    }
}

#[test]
fn nan_and_infinity_in_x_are_reported_with_their_position() {
    for (value, what) in [(f64::NAN, "NaN"), (f64::INFINITY, "infinity"), (f64::NEG_INFINITY, "infinity")] {
        let mut x = data();
        x[[17, 2]] = value;
        x[[30, 0]] = value; // a later one is not the one reported
        let e = fit_err(&GaussianMixture::new(2), &x, None);
        assert_eq!(e, Error::NonFinite { input: Input::X, what, row: 17, column: 2 });
        assert_eq!(e.to_string(), format!("Input X contains {what} at row 17, column 2."));
    }
}

#[test]
fn bad_sample_weights_are_rejected() {
    let x = data();
    let spec = GaussianMixture::new(2);
    let with = |i: usize, v: f64| {
        let mut w = Array1::ones(40);
        w[i] = v;
        w
    };
    let e = fit_err(&spec, &x, Some(&with(5, f64::NAN)));
    assert_eq!(e, Error::NonFinite { input: Input::SampleWeight, what: "NaN", row: 5, column: 0 });
    assert_eq!(e.to_string(), "Input sample_weight contains NaN at row 5, column 0.");
    let e = fit_err(&spec, &x, Some(&with(9, f64::INFINITY)));
    assert!(matches!(e, Error::NonFinite { input: Input::SampleWeight, what: "infinity", row: 9, .. }));
    let e = fit_err(&spec, &x, Some(&with(3, -0.5)));
    assert_eq!(e, Error::NegativeWeight { row: 3, value: -0.5 });
    assert_eq!(e.to_string(), "Negative values in data passed to sample_weight: sample_weight[3] = -0.5.");
    let e = fit_err(&spec, &x, Some(&Array1::zeros(40)));
    assert_eq!(e, Error::ZeroWeights { n_samples: 40 });
    assert!(e.to_string().contains("at least one positive value"), "{e}");
    let e = fit_err(&spec, &x, Some(&Array1::ones(39)));
    assert_eq!(
        e,
        Error::WrongShape { input: Input::SampleWeight, expected: "(40,)".into(), found: "(39,)".into() }
    );
    assert_eq!(e.to_string(), "The parameter 'sample_weight' should have the shape (40,), but got (39,).");
}

#[test]
fn empty_data_is_rejected() {
    // scikit-learn's check_array wording: too few rows first (a fit needs 2), then no columns.
    let cases = [
        (0, 3, "Found array with 0 sample(s) (shape=(0, 3)) while a minimum of 2 is required."),
        (1, 3, "Found array with 1 sample(s) (shape=(1, 3)) while a minimum of 2 is required."),
        (5, 0, "Found array with 0 feature(s) (shape=(5, 0)) while a minimum of 1 is required."),
        (0, 0, "Found array with 0 sample(s) (shape=(0, 0)) while a minimum of 2 is required."),
    ];
    for (n, d, message) in cases {
        let e = fit_err(&GaussianMixture::new(1), &Array2::zeros((n, d)), None);
        assert_eq!(e, Error::EmptyData { n_samples: n, n_features: d, min_samples: 2 });
        assert_eq!(e.to_string(), message);
    }
    // Scoring needs one row.
    let x = Array2::from_shape_fn((4, 1), |(i, _)| i as f64);
    let fit = GaussianMixture::new(1).fit(x.view(), None).expect("four distinct points fit one component");
    let e = fit.mixture.score_samples(Array2::<f64>::zeros((0, 1)).view()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Found array with 0 sample(s) (shape=(0, 1)) while a minimum of 1 is required."
    );
}

#[test]
fn fewer_samples_than_components_is_rejected() {
    let x = data().slice(ndarray::s![..3, ..]).to_owned();
    let e = fit_err(&GaussianMixture::new(4), &x, None);
    assert_eq!(e, Error::TooFewSamples { n_samples: 3, n_components: 4 });
    assert_eq!(e.to_string(), "Expected n_samples >= n_components but got n_components = 4, n_samples = 3");
    // Only positively weighted samples count.
    let w = Array1::from_shape_fn(40, |i| if i < 2 { 1.0 } else { 0.0 });
    let e = fit_err(&GaussianMixture::new(3), &data(), Some(&w));
    assert_eq!(e, Error::TooFewSamples { n_samples: 2, n_components: 3 });
}

#[test]
fn invalid_hyperparameters_are_named() {
    let cases: Vec<(GaussianMixture, &str, &str)> = vec![
        (GaussianMixture::new(0), "n_components", "0"),
        (GaussianMixture::new(2).tol(-1e-3), "tol", "-0.001"),
        (GaussianMixture::new(2).tol(f64::NAN), "tol", "NaN"),
        (GaussianMixture::new(2).reg_covar(-1e-6), "reg_covar", "-0.000001"),
        (GaussianMixture::new(2).reg_covar(f64::NAN), "reg_covar", "NaN"),
        (GaussianMixture::new(2).reg_covar(f64::INFINITY), "reg_covar", "inf"),
        (GaussianMixture::new(2).n_init(0), "n_init", "0"),
        (GaussianMixture::new(2).n_threads(0), "n_threads", "0"),
    ];
    for (spec, name, value) in cases {
        for e in [spec.validate().unwrap_err(), fit_err(&spec, &data(), None)] {
            match &e {
                Error::InvalidParameter { name: n, value: v, .. } => {
                    assert_eq!((*n, v.as_str()), (name, value));
                }
                other => panic!("{name}: expected InvalidParameter, got {other:?}"),
            }
            let text = e.to_string();
            assert!(text.starts_with(&format!("Invalid value for '{name}': {value}. ")), "{text}");
            assert!(text.contains(name), "{text}");
        }
    }
}

#[test]
fn bad_weights_init_is_rejected() {
    let x = data();
    let e = fit_err(&GaussianMixture::new(2).weights_init(array![0.2, 0.3, 0.5]), &x, None);
    assert_eq!(
        e,
        Error::WrongShape { input: Input::WeightsInit, expected: "(2,)".into(), found: "(3,)".into() }
    );
    assert!(e.to_string().contains("'weights_init'"), "{e}");
    let e = fit_err(&GaussianMixture::new(2).weights_init(array![0.2, 0.3]), &x, None);
    assert!(matches!(&e, Error::InvalidWeightsInit { problem } if problem.contains("normalized")));
    assert_eq!(
        e.to_string(),
        "The parameter 'weights_init' should be normalized, but got sum(weights) = 0.50000"
    );
    let e = fit_err(&GaussianMixture::new(2).weights_init(array![-0.5, 1.5]), &x, None);
    assert_eq!(
        e.to_string(),
        "The parameter 'weights_init' should be in the range [0, 1], but got max value 1.50000, min value -0.50000"
    );
    let e = fit_err(&GaussianMixture::new(2).weights_init(array![f64::NAN, 0.5]), &x, None);
    assert!(matches!(e, Error::NonFinite { input: Input::WeightsInit, what: "NaN", row: 0, .. }));
}

#[test]
fn bad_means_init_is_rejected() {
    let x = data();
    let e = fit_err(&GaussianMixture::new(2).means_init(Array2::zeros((2, 2))), &x, None);
    assert_eq!(
        e,
        Error::WrongShape { input: Input::MeansInit, expected: "(2, 3)".into(), found: "(2, 2)".into() }
    );
    assert_eq!(e.to_string(), "The parameter 'means_init' should have the shape (2, 3), but got (2, 2).");
    let e = fit_err(&GaussianMixture::new(3).means_init(Array2::zeros((2, 3))), &x, None);
    assert!(matches!(e, Error::WrongShape { input: Input::MeansInit, .. }));
    let mut m = Array2::zeros((2, 3));
    m[[1, 2]] = f64::NAN;
    let e = fit_err(&GaussianMixture::new(2).means_init(m), &x, None);
    assert_eq!(e, Error::NonFinite { input: Input::MeansInit, what: "NaN", row: 1, column: 2 });
    assert_eq!(e.to_string(), "Input means_init contains NaN at row 1, column 2.");
}

fn identity_precisions(kind: CovarianceType, k: usize, d: usize) -> ArrayD<f64> {
    let shape = kind.shape(k, d);
    let mut p = ArrayD::zeros(IxDyn(&shape));
    match kind {
        CovarianceType::Full => {
            for c in 0..k {
                for j in 0..d {
                    p[[c, j, j]] = 1.0;
                }
            }
        }
        CovarianceType::Tied => {
            for j in 0..d {
                p[[j, j]] = 1.0;
            }
        }
        _ => p.fill(1.0),
    }
    p
}

#[test]
fn bad_precisions_init_is_rejected() {
    let x = data();
    for kind in CovarianceType::ALL {
        let spec = GaussianMixture::new(2).covariance_type(kind);
        // The identity is fine for every kind.
        assert!(spec.clone().precisions_init(identity_precisions(kind, 2, 3)).fit(x.view(), None).is_ok());
        // Wrong shape: the identity for three components in two dimensions.
        let e = fit_err(&spec.clone().precisions_init(identity_precisions(kind, 3, 2)), &x, None);
        let want = einmix_shape(&kind.shape(2, 3));
        assert_eq!(
            e,
            Error::WrongShape {
                input: Input::PrecisionsInit,
                expected: want.clone(),
                found: einmix_shape(&kind.shape(3, 2))
            },
            "{kind}"
        );
        assert!(e.to_string().contains(&format!("'precisions_init' should have the shape {want}")));
        // Not positive definite in the second component (the only one for tied).
        let mut p = identity_precisions(kind, 2, 3);
        let component = match kind {
            CovarianceType::Full => {
                p[[1, 2, 2]] = -1.0;
                1
            }
            CovarianceType::Tied => {
                p[[2, 2]] = 0.0;
                0
            }
            CovarianceType::Diag => {
                p[[1, 1]] = -2.0;
                1
            }
            CovarianceType::Spherical => {
                p[[1]] = 0.0;
                1
            }
        };
        let e = fit_err(&spec.clone().precisions_init(p), &x, None);
        assert_eq!(e, Error::PrecisionNotPositiveDefinite { component }, "{kind}");
        assert_eq!(
            e.to_string(),
            format!("'precisions_init' for component {component} should be symmetric, positive-definite.")
        );
        let mut p = identity_precisions(kind, 2, 3);
        p.as_slice_mut().unwrap()[0] = f64::NAN;
        let e = fit_err(&spec.clone().precisions_init(p), &x, None);
        assert!(matches!(e, Error::NonFinite { input: Input::PrecisionsInit, what: "NaN", .. }));
    }
    // Not symmetric (but with a positive-definite symmetric part).
    for (kind, component) in [(CovarianceType::Full, 1), (CovarianceType::Tied, 0)] {
        let mut p = identity_precisions(kind, 2, 3);
        match kind {
            CovarianceType::Full => p[[1, 0, 1]] = 0.3,
            _ => p[[0, 1]] = 0.3,
        }
        let e = fit_err(&GaussianMixture::new(2).covariance_type(kind).precisions_init(p), &x, None);
        assert_eq!(e, Error::PrecisionNotPositiveDefinite { component }, "{kind}");
    }
}

/// `(2, 3)`-style text of a shape, as the messages print it.
fn einmix_shape(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

#[test]
fn data_of_the_wrong_dimension_is_rejected_by_every_scoring_method() {
    let fit = GaussianMixture::new(2).random_state(0).fit(data().view(), None).unwrap();
    let m = &fit.mixture;
    let x2 = Array2::<f64>::zeros((5, 2));
    let want = Error::DimensionMismatch { expected: 3, found: 2 };
    assert_eq!(m.predict(x2.view()).unwrap_err(), want);
    assert_eq!(m.predict_proba(x2.view()).unwrap_err(), want);
    assert_eq!(m.score_samples(x2.view()).unwrap_err(), want);
    assert_eq!(m.score(x2.view()).unwrap_err(), want);
    assert_eq!(m.bic(x2.view()).unwrap_err(), want);
    assert_eq!(m.aic(x2.view()).unwrap_err(), want);
    assert_eq!(want.to_string(), "X has 2 features, but the mixture is expecting 3 features as input.");
    // A warm start on data of another dimension.
    let e = GaussianMixture::new(2)
        .fit_with(x2.view(), None, FitOptions::new().warm_start_from(&fit))
        .unwrap_err();
    assert_eq!(e, want);
    // Bad values are caught when scoring too.
    let mut x = data();
    x[[4, 1]] = f64::NAN;
    assert!(matches!(
        m.score_samples(x.view()).unwrap_err(),
        Error::NonFinite { input: Input::X, row: 4, column: 1, .. }
    ));
    assert!(matches!(m.predict(Array2::<f64>::zeros((0, 3)).view()).unwrap_err(), Error::EmptyData { .. }));
}

/// Without regularisation, a component whose points all share a coordinate has a zero
/// variance there: its covariance is singular, and the error names that component.
///
/// The shared coordinate is exactly 0 so that the zero variance is exact: for another value
/// `v`, the mean `sum(v) / (N_k + 10 eps)` (scikit-learn's guard) differs from `v` by an ulp
/// and leaves a tiny positive variance, as it does in scikit-learn.
#[test]
fn an_ill_defined_covariance_names_its_component() {
    // Two far-apart clusters; in the second, feature 0 is exactly 0 for every point.
    let x = Array2::from_shape_fn((60, 2), |(i, j)| {
        let t = ((i * 37 + j * 11) % 23) as f64 / 23.0;
        match (i < 30, j) {
            (true, 0) => 1.0e3 + t,
            (true, _) => t,
            (false, 0) => 0.0,
            (false, _) => 3.0e3 + t,
        }
    });
    let mut seen = [false; 2];
    for kind in [CovarianceType::Full, CovarianceType::Diag] {
        for seed in 0..8 {
            let spec = GaussianMixture::new(2).covariance_type(kind).random_state(seed);
            // Which component holds the second cluster: the same k-means with some regularisation.
            let fit = spec.clone().reg_covar(1e-6).fit(x.view(), None).unwrap();
            let component = usize::from(fit.mixture.means()[[1, 1]] > 1e3);
            seen[component] = true;
            let e = fit_err(&spec.reg_covar(0.0), &x, None);
            assert_eq!(e, Error::IllDefinedCovariance { component, reg_covar: 0.0 }, "{kind} seed {seed}");
            let text = e.to_string();
            assert!(text.contains("some components have ill-defined empirical covariance"), "{text}");
            assert!(
                text.contains(&format!("(The first: component {component}; reg_covar is now 0.)")),
                "{text}"
            );
        }
    }
    assert_eq!(seen, [true, true], "the collapsed cluster should land in either component");
    // Duplicated points and k-means++: every initial component is a single point, whose
    // covariance is zero without regularisation (in feature 0, exactly).
    let dup = Array2::from_shape_fn((30, 2), |(i, j)| if j == 0 { 0.0 } else { (i % 3) as f64 });
    for kind in CovarianceType::ALL {
        let e = fit_err(
            &GaussianMixture::new(3)
                .covariance_type(kind)
                .init_params(InitParams::KMeansPlusPlus)
                .reg_covar(0.0)
                .random_state(0),
            &dup,
            None,
        );
        assert!(
            matches!(e, Error::IllDefinedCovariance { component: 0, reg_covar } if reg_covar == 0.0),
            "{kind}: {e:?}"
        );
        // The same data fit with the default regularisation.
        let fit = GaussianMixture::new(3)
            .covariance_type(kind)
            .init_params(InitParams::KMeansPlusPlus)
            .random_state(0)
            .fit(dup.view(), None)
            .unwrap();
        assert_valid_model(&fit.mixture);
    }
}

#[test]
fn malformed_model_files_are_rejected() {
    let good = GaussianMixture::new(2).random_state(0).fit(data().view(), None).unwrap().mixture.to_json();
    let value: serde_json::Value = serde_json::from_str(&good).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = value.clone();
        f(&mut v);
        v.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        ("not json".into(), "expected"),
        ("{}".into(), "missing field"),
        (edit(&|v| v["format"] = "sklearn".into()), "unknown format 'sklearn'"),
        (edit(&|v| v["version"] = 2.into()), "version 2"),
        (edit(&|v| v["covariance_type"] = "round".into()), "unknown variant"),
        (edit(&|v| v["n_components"] = 0.into()), "must be at least 1"),
        (edit(&|v| v["weights"] = serde_json::json!([1.0])), "'weights' has 1 values, expected 2"),
        (edit(&|v| v["weights"] = serde_json::json!([1.5, -0.5])), "finite and non-negative"),
        (
            edit(&|v| v["means"] = serde_json::json!([[0.0, 0.0, 0.0]])),
            "'means' does not have the shape (2, 3)",
        ),
        (edit(&|v| v["means"][0][1] = "x".into()), "not a number"),
        (
            edit(&|v| v["covariances"] = serde_json::json!([1.0, 2.0])),
            "'covariances' does not have the shape (2, 3, 3)",
        ),
        (edit(&|v| v["precisions_cholesky"][1][2][2] = (-1.0).into()), "positive diagonal"),
        (
            edit(&|v| {
                v["covariances"][1] = serde_json::json!([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
            }),
            "'covariances' of component 1 is not symmetric positive definite",
        ),
        (
            edit(&|v| v["covariances"][0][0][1] = (0.5).into()),
            "'covariances' of component 0 is not symmetric positive definite",
        ),
        (good.replace("\"weights\": [", "\"weights\": [1e999, "), "number out of range"),
    ];
    for (text, needle) in cases {
        let e = Mixture::from_json(&text).unwrap_err();
        match &e {
            Error::InvalidModel { message } => {
                assert!(message.contains(needle), "{needle:?} not in {message:?}")
            }
            other => panic!("expected InvalidModel, got {other:?}"),
        }
        assert!(e.to_string().starts_with("Could not read the mixture model: "), "{e}");
    }
    assert!(Mixture::from_json(&good).is_ok());
}

#[test]
fn unknown_spellings_are_rejected() {
    for s in ["Full", "fulll", "", "diagonal"] {
        let e = s.parse::<CovarianceType>().unwrap_err();
        assert!(matches!(&e, Error::InvalidParameter { name: "covariance_type", value, .. } if value == s));
        assert_eq!(
            e.to_string(),
            format!("Invalid value for 'covariance_type': {s}. 'covariance_type' should be in ['spherical', 'tied', 'diag', 'full']")
        );
    }
    for s in ["kmeans++", "KMeans", "random-from-data", ""] {
        let e = s.parse::<InitParams>().unwrap_err();
        assert!(matches!(&e, Error::InvalidParameter { name: "init_params", value, .. } if value == s));
        assert!(e.to_string().contains("['kmeans', 'k-means++', 'random', 'random_from_data']"));
    }
    // And every valid spelling round-trips through Display.
    for kind in CovarianceType::ALL {
        assert_eq!(kind.to_string().parse::<CovarianceType>().unwrap(), kind);
    }
    for init in InitParams::ALL {
        assert_eq!(init.to_string().parse::<InitParams>().unwrap(), init);
    }
}

#[test]
fn bad_parameters_for_a_mixture_are_rejected() {
    let w = array![0.5, 0.5];
    let m = array![[0.0, 0.0], [1.0, 1.0]];
    // Not positive definite: eigenvalues 3 and -1.
    let cov =
        ArrayD::from_shape_vec(IxDyn(&[2, 2, 2]), vec![1.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 1.0]).unwrap();
    let e = Mixture::from_parameters(CovarianceType::Full, w.view(), m.view(), cov.view()).unwrap_err();
    assert!(matches!(e, Error::IllDefinedCovariance { component: 1, .. }), "{e:?}");
    let cov = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0; 4]).unwrap();
    let e = Mixture::from_parameters(CovarianceType::Full, w.view(), m.view(), cov.view()).unwrap_err();
    assert!(matches!(e, Error::WrongShape { .. }), "{e:?}");
    let e = Mixture::from_parameters(
        CovarianceType::Spherical,
        array![0.7, 0.7].view(),
        m.view(),
        array![1.0, 1.0].into_dyn().view(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidWeightsInit { .. }), "{e:?}");
}

/// Fits on awkward but valid data either fail with an error or return a model without a NaN
/// (or any non-finite value), with positive-definite covariances.
#[test]
fn no_returned_model_ever_holds_a_nan() {
    let (_, blobs) = sampled(CovarianceType::Full, 3, 2, 3.0, 300, 3);
    let awkward: Vec<(&str, Array2<f64>)> = vec![
        ("constant", Array2::from_elem((50, 2), 7.0)),
        ("one point per component", array![[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]]),
        ("duplicates", Array2::from_shape_fn((60, 2), |(i, j)| ((i % 2) * (j + 1)) as f64)),
        ("collinear", Array2::from_shape_fn((80, 3), |(i, j)| i as f64 * (j + 1) as f64)),
        ("tiny scale", blobs.mapv(|v| v * 1e-150)),
        ("huge scale", blobs.mapv(|v| v * 1e150)),
        ("huge offset", blobs.mapv(|v| v + 1e15)),
        ("one feature", Array2::from_shape_fn((100, 1), |(i, _)| (i % 10) as f64)),
    ];
    let mut outcomes = (0, 0);
    for (name, x) in &awkward {
        for kind in CovarianceType::ALL {
            for init in InitParams::ALL {
                for reg in [0.0, 1e-6] {
                    let k = x.nrows().min(3);
                    let result = GaussianMixture::new(k)
                        .covariance_type(kind)
                        .init_params(init)
                        .reg_covar(reg)
                        .random_state(1)
                        .fit(x.view(), None);
                    match result {
                        Ok(fit) => {
                            outcomes.0 += 1;
                            assert_valid_model(&fit.mixture);
                            assert!(fit.info.lower_bounds.iter().all(|v| v.is_finite()));
                            let s = fit.mixture.score_samples(x.view()).unwrap();
                            assert!(s.iter().all(|v| !v.is_nan()), "{name} {kind} {init}");
                        }
                        Err(e) => {
                            outcomes.1 += 1;
                            assert!(
                                matches!(e, Error::IllDefinedCovariance { .. } | Error::NonFiniteLikelihood),
                                "{name} {kind} {init} reg {reg}: unexpected {e:?}"
                            );
                        }
                    }
                }
            }
        }
    }
    eprintln!("awkward fits: {} models, {} errors", outcomes.0, outcomes.1);
    assert!(outcomes.0 > 0 && outcomes.1 > 0);
}

/// Regression (issue 11): inputs from another engine's workers that used to reach an assertion
/// or an `expect` now come back as errors.
#[test]
fn engine_inputs_that_used_to_panic_are_errors() {
    use einmix::blockwise::{add, hard_statistics, m_step_from_statistics, Layout};
    let mut total = vec![0.0; 7];
    let e = add(&mut total, &[1.0; 9]).unwrap_err();
    assert!(e.to_string().contains("lengths 7 and 9"), "{e}");
    assert_eq!(total, vec![0.0; 7], "nothing is added from a vector of another layout");

    let no_centers = Array2::<f64>::zeros((0, 3));
    let e = hard_statistics(CovarianceType::Full, no_centers.view(), data().view(), None).unwrap_err();
    assert!(e.to_string().contains("at least one center"), "{e}");

    let m = GaussianMixture::new(2).random_state(0).max_iter(2).fit(data().view(), None).unwrap().mixture;
    let short = vec![0.0; Layout::of(&m).len() - 1];
    let e = m_step_from_statistics(&m, &short, 1e-6).unwrap_err();
    assert!(matches!(e, Error::InvalidParameter { name: "statistics", .. }), "{e}");
}

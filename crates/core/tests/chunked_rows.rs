//! Story: rows laid out once (`chunked_rows`) and fitted many times with new weights
//! (`set_weights`, `fit_rows`) give the fit of the rows themselves (`fit_with`), bit for bit:
//! every kind, cold and warm starts, with a background over the rows' bounding box, and the
//! same checks on the weights.

mod common;

use common::sampled;
use einmix::{BackgroundRegion, CovarianceType, FitOptions, GaussianMixture};
use ndarray::Array1;

#[test]
fn fitting_laid_out_rows_is_fitting_the_rows() {
    for kind in CovarianceType::ALL {
        let (_, x) = sampled(kind, 5, 3, 5.0, 3000, 21);
        let w1 = Array1::from_iter((0..x.nrows()).map(|i| 1.0 + (i % 7) as f64));
        let w2 = Array1::from_iter((0..x.nrows()).map(|i| 0.5 + (i % 5) as f64));
        for background in [None, Some(BackgroundRegion::BoundingBox)] {
            let mut spec = GaussianMixture::new(5).covariance_type(kind).random_state(3).max_iter(30);
            if let Some(b) = &background {
                spec = spec.background(b.clone());
            }
            let mut rows = spec.chunked_rows(x.view(), Some(w1.view())).unwrap();
            let cold = spec.fit_rows(&rows, FitOptions::new()).unwrap();
            let direct = spec.fit_with(x.view(), Some(w1.view()), FitOptions::new()).unwrap();
            assert_eq!(cold.mixture, direct.mixture, "{kind}, background {background:?}: cold start");
            assert_eq!(cold.info.lower_bounds, direct.info.lower_bounds);
            rows.set_weights(w2.view()).unwrap();
            let warm = spec.fit_rows(&rows, FitOptions::new().warm_start_from(&cold)).unwrap();
            let direct =
                spec.fit_with(x.view(), Some(w2.view()), FitOptions::new().warm_start_from(&cold)).unwrap();
            assert_eq!(
                warm.mixture, direct.mixture,
                "{kind}, background {background:?}: new weights, warm start"
            );
        }
    }
}

#[test]
fn new_weights_are_checked_as_a_fit_checks_them() {
    let (_, x) = sampled(CovarianceType::Full, 2, 2, 5.0, 100, 1);
    let spec = GaussianMixture::new(2);
    let mut rows = spec.chunked_rows(x.view(), None).unwrap();
    let wrong = Array1::ones(99);
    let err = rows.set_weights(wrong.view()).unwrap_err().to_string();
    assert!(err.contains("sample_weight"), "{err}");
    let mut negative = Array1::ones(100);
    negative[7] = -1.0;
    let err = rows.set_weights(negative.view()).unwrap_err().to_string();
    assert!(err.contains("Negative values in data passed to sample_weight: sample_weight[7] = -1"), "{err}");
    let one = {
        let mut w = Array1::zeros(100);
        w[3] = 1.0;
        w
    };
    rows.set_weights(one.view()).unwrap();
    let err = spec.fit_rows(&rows, FitOptions::new()).unwrap_err().to_string();
    assert!(err.contains("n_samples >= n_components") || err.contains("n_components"), "{err}");
}

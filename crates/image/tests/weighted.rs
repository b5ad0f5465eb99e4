//! Story: a fit on unique pixels weighted by intensity is the fit on coordinates repeated by
//! integer intensity (OrNet's representation), from the same start.

mod common;

use einmix::{CovarianceType, GaussianMixture, Mixture};
use einmix_image::{weighted_points, Background};
use ndarray::{array, Array2, ArrayD, IxDyn};

#[test]
fn weighted_unique_pixels_equal_repeated_coordinates() {
    let frame = common::render(
        40,
        50,
        &[
            common::Blob { centre: (12.0, 15.0), sd: (2.0, 3.0), amplitude: 30.0 },
            common::Blob { centre: (26.0, 33.0), sd: (3.0, 2.0), amplitude: 25.0 },
            common::Blob { centre: (20.0, 24.0), sd: (4.0, 4.0), amplitude: 8.0 },
        ],
    );
    let points = weighted_points(frame.view(), None, Background::Absolute(0.0), 1.0).unwrap();
    // Every weight is a whole number: repeat each coordinate that many times.
    let mut repeated = Vec::new();
    for (i, &w) in points.weights.iter().enumerate() {
        assert_eq!(w, w.round());
        for _ in 0..w as usize {
            repeated.extend_from_slice(&[points.coords[[i, 0]], points.coords[[i, 1]]]);
        }
    }
    let repeated = Array2::from_shape_vec((repeated.len() / 2, 2), repeated).unwrap();
    assert!(repeated.nrows() > 5 * points.coords.nrows(), "the repetition must matter");
    // No coordinate is ever repeated in the weighted points.
    let mut seen = std::collections::HashSet::new();
    for row in points.coords.rows() {
        assert!(seen.insert((row[0] as i64, row[1] as i64)));
    }
    let covs = ArrayD::from_shape_fn(IxDyn(&[3, 2, 2]), |i| if i[1] == i[2] { 4.0 } else { 0.0 });
    let start = Mixture::from_parameters(
        CovarianceType::Full,
        array![0.4, 0.4, 0.2].view(),
        array![[11.0, 14.0], [27.0, 32.0], [20.0, 25.0]].view(),
        covs.view(),
    )
    .unwrap();
    let spec = GaussianMixture::new(3).tol(1e-10).max_iter(300).reg_covar(1.0 / 12.0).n_threads(1);
    let a = spec.fit_with(points.coords.view(), Some(points.weights.view()), warm(&start)).unwrap();
    let b = spec.fit_with(repeated.view(), None, warm(&start)).unwrap();
    assert_eq!(a.info.n_iter, b.info.n_iter);
    let close = |x: &[f64], y: &[f64]| x.iter().zip(y).all(|(p, q)| (p - q).abs() <= 1e-8 * (1.0 + q.abs()));
    let flat = |m: &Mixture| {
        (
            m.weights().to_vec(),
            m.means().iter().copied().collect::<Vec<_>>(),
            m.covariances().iter().copied().collect::<Vec<_>>(),
        )
    };
    let (fa, fb) = (flat(&a.mixture), flat(&b.mixture));
    assert!(close(&fa.0, &fb.0), "weights {:?} vs {:?}", fa.0, fb.0);
    assert!(close(&fa.1, &fb.1), "means {:?} vs {:?}", fa.1, fb.1);
    assert!(close(&fa.2, &fb.2), "covariances {:?} vs {:?}", fa.2, fb.2);
    assert!((a.info.lower_bound - b.info.lower_bound).abs() < 1e-9);
}

#[test]
fn background_percentile_and_pixel_size() {
    let frame = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
    // numpy.percentile([1..6], 50) = 3.5
    let p = weighted_points(frame.view(), None, "p50".parse().unwrap(), 0.5).unwrap();
    assert_eq!(p.background, 3.5);
    assert_eq!(p.coords, array![[0.5, 0.0], [0.5, 0.5], [0.5, 1.0]]);
    assert_eq!(p.weights, array![0.5, 1.5, 2.5]);
    let mut v = vec![7.0f32, 1.0, 3.0, 5.0];
    assert_eq!(einmix_image::percentile(&mut v, 25.0), 2.5);
}

fn warm(start: &einmix::Mixture) -> einmix::FitOptions<'_> {
    einmix::FitOptions::new().warm_start(start, f64::NEG_INFINITY)
}

//! Story: the component distances are the textbook ones: Hellinger against numerical
//! integration of sqrt(p q), KL against numerical integration of p ln(p / q); symmetric where
//! they should be, zero for identical components.

use einmix_image::{component_distances, laplacian_spectrum, Metric};
use ndarray::{Array2, Array3};

/// A small deterministic generator (no rand dependency needed here).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn random_gaussians(k: usize, seed: u64) -> (Array2<f64>, Array3<f64>) {
    let mut g = Lcg(seed);
    let means = Array2::from_shape_fn((k, 2), |_| 4.0 * g.next() - 2.0);
    let mut covs = Array3::zeros((k, 2, 2));
    for i in 0..k {
        let (a, b) = (0.3 + 1.5 * g.next(), 0.3 + 1.5 * g.next());
        let theta = std::f64::consts::PI * g.next();
        let (c, s) = (theta.cos(), theta.sin());
        covs[[i, 0, 0]] = a * c * c + b * s * s;
        covs[[i, 1, 1]] = a * s * s + b * c * c;
        covs[[i, 0, 1]] = (a - b) * c * s;
        covs[[i, 1, 0]] = (a - b) * c * s;
    }
    (means, covs)
}

fn density(m: &[f64], c: &[f64; 4], x: f64, y: f64) -> f64 {
    let det = c[0] * c[3] - c[1] * c[2];
    let (dx, dy) = (x - m[0], y - m[1]);
    let q = (c[3] * dx * dx - 2.0 * c[1] * dx * dy + c[0] * dy * dy) / det;
    (-0.5 * q).exp() / (2.0 * std::f64::consts::PI * det.sqrt())
}

/// Midpoint rule on [-12, 12]^2.
fn integrate(f: impl Fn(f64, f64) -> f64) -> f64 {
    let n = 1200;
    let h = 24.0 / n as f64;
    let mut total = 0.0;
    for i in 0..n {
        for j in 0..n {
            total += f(-12.0 + (i as f64 + 0.5) * h, -12.0 + (j as f64 + 0.5) * h);
        }
    }
    total * h * h
}

#[test]
fn hellinger_and_kl_match_numerical_integration() {
    let (means, covs) = random_gaussians(4, 7);
    let h = component_distances(means.view(), covs.view(), Metric::Hellinger).unwrap();
    let kl = component_distances(means.view(), covs.view(), Metric::Kl).unwrap();
    let b = component_distances(means.view(), covs.view(), Metric::Bhattacharyya).unwrap();
    let j = component_distances(means.view(), covs.view(), Metric::SymmetricKl).unwrap();
    let cov = |i: usize| [covs[[i, 0, 0]], covs[[i, 0, 1]], covs[[i, 1, 0]], covs[[i, 1, 1]]];
    for p in 0..4 {
        for q in 0..4 {
            let (mp, mq) = (means.row(p).to_vec(), means.row(q).to_vec());
            let (cp, cq) = (cov(p), cov(q));
            let bc = integrate(|x, y| (density(&mp, &cp, x, y) * density(&mq, &cq, x, y)).sqrt());
            let expected_h = (1.0 - bc).max(0.0).sqrt();
            assert!((h[[p, q]] - expected_h).abs() < 1e-6, "H[{p},{q}] {} vs {expected_h}", h[[p, q]]);
            assert!((b[[p, q]] + bc.ln()).abs() < 1e-5, "D_B[{p},{q}] {} vs {}", b[[p, q]], -bc.ln());
            let expected_kl = integrate(|x, y| {
                let (a, c) = (density(&mp, &cp, x, y), density(&mq, &cq, x, y));
                if a > 1e-300 {
                    a * (a / c).ln()
                } else {
                    0.0
                }
            });
            assert!((kl[[p, q]] - expected_kl).abs() < 1e-4 * (1.0 + expected_kl), "KL[{p},{q}]");
            assert!((j[[p, q]] - kl[[p, q]] - kl[[q, p]]).abs() < 1e-12);
        }
    }
}

#[test]
fn symmetric_where_they_should_be_and_zero_on_identical_components() {
    let (mut means, mut covs) = random_gaussians(12, 3);
    // Component 11 is a copy of component 0.
    let (m0, c0) = (means.row(0).to_owned(), covs.index_axis(ndarray::Axis(0), 0).to_owned());
    means.row_mut(11).assign(&m0);
    covs.index_axis_mut(ndarray::Axis(0), 11).assign(&c0);
    for metric in Metric::ALL {
        let d = component_distances(means.view(), covs.view(), metric).unwrap();
        assert!(d.iter().all(|v| v.is_finite() && *v >= 0.0), "{metric}");
        for i in 0..12 {
            assert_eq!(d[[i, i]], 0.0, "{metric}");
        }
        assert!(d[[0, 11]].abs() < 1e-12 && d[[11, 0]].abs() < 1e-12, "{metric}: identical components");
        if metric != Metric::Kl {
            assert_eq!(d, d.t(), "{metric} must be symmetric");
        }
        if metric == Metric::Hellinger {
            assert!(d.iter().all(|&v| v <= 1.0));
        }
    }
    let kl = component_distances(means.view(), covs.view(), Metric::Kl).unwrap();
    assert_ne!(kl, kl.t(), "KL is not symmetric");
}

#[test]
fn laplacian_spectrum_is_in_range_and_sees_two_clusters() {
    // Two tight groups of 3 components far apart: the algebraic connectivity is near 0.
    let mut means = Array2::zeros((6, 2));
    for i in 3..6 {
        means[[i, 0]] = 40.0;
    }
    for i in 0..6 {
        means[[i, 1]] = (i % 3) as f64 * 0.5;
    }
    let covs = Array3::from_shape_fn((6, 2, 2), |(_, a, b)| if a == b { 1.0 } else { 0.0 });
    let d = component_distances(means.view(), covs.view(), Metric::Hellinger).unwrap();
    let ev = laplacian_spectrum(d.view());
    assert!(ev[0].abs() < 1e-9);
    assert!(ev[1] < 1e-3, "two clusters: lambda_2 = {}", ev[1]);
    assert!(ev.iter().all(|&v| (-1e-9..=2.0 + 1e-9).contains(&v)));
}

#[test]
fn a_covariance_that_is_not_positive_definite_is_an_error() {
    let means = Array2::zeros((2, 2));
    let covs = Array3::from_shape_fn((2, 2, 2), |(k, a, b)| if a == b && k == 0 { 1.0 } else { 0.0 });
    let err = component_distances(means.view(), covs.view(), Metric::Hellinger).unwrap_err();
    assert!(err.to_string().contains("positive definite"), "{err}");
}

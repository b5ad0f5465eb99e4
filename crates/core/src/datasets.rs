//! Synthetic data sets with known answers, for demos, tests and benchmarks.

use ndarray::{Array1, Array2, ArrayD, IxDyn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::covariance::CovarianceType;
use crate::model::Mixture;

/// The seed's workload: a 512 x 512 pixel box holding `n_components` anisotropic Gaussians with
/// random orientations (non-diagonal covariances), axis standard deviations of 4-14 px (2-sigma
/// extents of 8-28 px), means at least 40 px inside the box, and weights within a factor of 3.
/// Returns the true mixture and `n_samples` points drawn from it (grouped by component).
pub fn seed_workload(n_samples: usize, n_components: usize, seed: u64) -> (Mixture, Array2<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = n_components;
    let raw: Vec<f64> = (0..k).map(|_| rng.random_range(0.5..1.5)).collect();
    let total: f64 = raw.iter().sum();
    let weights = Array1::from_iter(raw.iter().map(|w| w / total));
    let means = Array2::from_shape_fn((k, 2), |_| rng.random_range(40.0..472.0));
    let mut cov = Vec::with_capacity(k * 4);
    for _ in 0..k {
        let (s1, s2) = (rng.random_range(4.0..14.0f64), rng.random_range(4.0..14.0f64));
        let theta = rng.random_range(0.0..std::f64::consts::PI);
        let (c, s) = (theta.cos(), theta.sin());
        // R diag(s1^2, s2^2) R^T
        let a = c * c * s1 * s1 + s * s * s2 * s2;
        let b = c * s * (s1 * s1 - s2 * s2);
        let d = s * s * s1 * s1 + c * c * s2 * s2;
        cov.extend([a, b, b, d]);
    }
    let cov = ArrayD::from_shape_vec(IxDyn(&[k, 2, 2]), cov).expect("shape");
    let truth = Mixture::from_parameters(CovarianceType::Full, weights.view(), means.view(), cov.view())
        .expect("a valid mixture by construction");
    let (x, _) = truth.sample(n_samples, seed.wrapping_add(1));
    (truth, x)
}

/// A mixture with `k` random components in `d` dimensions, well separated when `spread` is large
/// compared with 1 (covariances have eigenvalues in `[0.25, 2.25]`, random orientations).
pub fn random_mixture(kind: CovarianceType, k: usize, d: usize, spread: f64, seed: u64) -> Mixture {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let raw: Vec<f64> = (0..k).map(|_| rng.random_range(0.5..1.5)).collect();
    let total: f64 = raw.iter().sum();
    let weights = Array1::from_iter(raw.iter().map(|w| w / total));
    let means = Array2::from_shape_fn((k, d), |_| rng.random_range(-spread..spread));
    let random_spd = |rng: &mut ChaCha8Rng| -> Vec<f64> {
        // A = Q diag(l) Q^T with Q from Gram-Schmidt on a random matrix.
        let mut q: Vec<f64> = (0..d * d).map(|_| rng.random_range(-1.0..1.0)).collect();
        for i in 0..d {
            for p in 0..i {
                let dot: f64 = (0..d).map(|t| q[i * d + t] * q[p * d + t]).sum();
                for t in 0..d {
                    q[i * d + t] -= dot * q[p * d + t];
                }
            }
            let norm = (0..d).map(|t| q[i * d + t].powi(2)).sum::<f64>().sqrt();
            for t in 0..d {
                q[i * d + t] /= norm;
            }
        }
        let l: Vec<f64> = (0..d).map(|_| rng.random_range(0.5..1.5f64).powi(2)).collect();
        let mut a = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] = (0..d).map(|t| q[t * d + i] * l[t] * q[t * d + j]).sum();
            }
        }
        a
    };
    let cov: Vec<f64> = match kind {
        CovarianceType::Full => (0..k).flat_map(|_| random_spd(&mut rng)).collect(),
        CovarianceType::Tied => random_spd(&mut rng),
        CovarianceType::Diag => (0..k * d).map(|_| rng.random_range(0.5..1.5f64).powi(2)).collect(),
        CovarianceType::Spherical => (0..k).map(|_| rng.random_range(0.5..1.5f64).powi(2)).collect(),
    };
    let cov = ArrayD::from_shape_vec(IxDyn(&kind.shape(k, d)), cov).expect("shape");
    Mixture::from_parameters(kind, weights.view(), means.view(), cov.view()).expect("valid by construction")
}

//! Helpers shared by the integration tests: independent reference maths (written here, not
//! taken from the library), comparisons and data.
#![allow(dead_code)]

use einmix::{datasets, CovarianceType, Mixture};
use ndarray::{Array1, Array2, ArrayD};

/// Gauss-Jordan elimination with partial pivoting: `(A^{-1}, det A)`, row-major `d x d`.
pub fn inverse_and_det(a: &[f64], d: usize) -> (Vec<f64>, f64) {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; d * d];
    for i in 0..d {
        inv[i * d + i] = 1.0;
    }
    let mut det = 1.0;
    for col in 0..d {
        let p = (col..d).max_by(|&i, &j| m[i * d + col].abs().total_cmp(&m[j * d + col].abs())).unwrap();
        if p != col {
            for j in 0..d {
                m.swap(col * d + j, p * d + j);
                inv.swap(col * d + j, p * d + j);
            }
            det = -det;
        }
        let pivot = m[col * d + col];
        det *= pivot;
        for j in 0..d {
            m[col * d + j] /= pivot;
            inv[col * d + j] /= pivot;
        }
        for i in 0..d {
            if i != col {
                let f = m[i * d + col];
                for j in 0..d {
                    m[i * d + j] -= f * m[col * d + j];
                    inv[i * d + j] -= f * inv[col * d + j];
                }
            }
        }
    }
    (inv, det)
}

/// True when the symmetric `a` has a Cholesky factorisation with positive pivots.
pub fn is_positive_definite(a: &[f64], d: usize) -> bool {
    let mut l = vec![0.0; d * d];
    for j in 0..d {
        let mut s = a[j * d + j];
        for p in 0..j {
            s -= l[j * d + p] * l[j * d + p];
        }
        if !(s > 0.0 && s.is_finite()) {
            return false;
        }
        l[j * d + j] = s.sqrt();
        for i in j + 1..d {
            let mut t = a[i * d + j];
            for p in 0..j {
                t -= l[i * d + p] * l[j * d + p];
            }
            l[i * d + j] = t / l[j * d + j];
        }
    }
    true
}

/// The dense `d x d` covariance of component `c`, whatever the kind.
pub fn dense_covariance(m: &Mixture, c: usize) -> Vec<f64> {
    let d = m.n_features();
    let cov = m.covariances();
    let flat: Vec<f64> = cov.iter().copied().collect();
    match m.covariance_type() {
        CovarianceType::Full => flat[c * d * d..(c + 1) * d * d].to_vec(),
        CovarianceType::Tied => flat,
        CovarianceType::Diag | CovarianceType::Spherical => {
            let mut out = vec![0.0; d * d];
            for j in 0..d {
                out[j * d + j] =
                    if m.covariance_type() == CovarianceType::Diag { flat[c * d + j] } else { flat[c] };
            }
            out
        }
    }
}

/// `log p(x)` of a mixture, the textbook way: explicit inverses and determinants.
pub fn naive_log_density(m: &Mixture, x: &[f64]) -> f64 {
    let terms = naive_gaussian_terms(m, x);
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
}

/// Each component's `ln pi_k + ln N(x | mu_k, Sigma_k)`, with explicit inverses and
/// determinants, one point at a time.
pub fn naive_gaussian_terms(m: &Mixture, x: &[f64]) -> Vec<f64> {
    let d = m.n_features();
    (0..m.n_components())
        .map(|c| {
            let (inv, det) = inverse_and_det(&dense_covariance(m, c), d);
            let dx: Vec<f64> = (0..d).map(|j| x[j] - m.means()[[c, j]]).collect();
            let q: f64 = (0..d)
                .flat_map(|a| (0..d).map(move |b| (a, b)))
                .map(|(a, b)| dx[a] * inv[a * d + b] * dx[b])
                .sum();
            m.weights()[c].ln() - 0.5 * (d as f64 * (2.0 * std::f64::consts::PI).ln() + det.ln() + q)
        })
        .collect()
}

/// Normwise relative difference `max |a - b| / max |b|` (0 when both are all zero).
pub fn rel_diff<'a>(a: impl IntoIterator<Item = &'a f64>, b: impl IntoIterator<Item = &'a f64>) -> f64 {
    let (mut diff, mut scale) = (0.0f64, 0.0f64);
    for (x, y) in a.into_iter().zip(b) {
        diff = diff.max((x - y).abs());
        scale = scale.max(y.abs());
    }
    if diff == 0.0 {
        0.0
    } else {
        diff / scale
    }
}

/// The largest normwise relative difference over every parameter array of two mixtures.
pub fn mixture_rel_diff(a: &Mixture, b: &Mixture) -> f64 {
    assert_eq!(a.covariance_type(), b.covariance_type());
    assert_eq!(a.means().dim(), b.means().dim());
    [
        rel_diff(a.weights().iter(), b.weights().iter()),
        rel_diff(a.means().iter(), b.means().iter()),
        rel_diff(a.covariances().iter(), b.covariances().iter()),
        rel_diff(a.precisions_cholesky().iter(), b.precisions_cholesky().iter()),
    ]
    .into_iter()
    .fold(0.0, f64::max)
}

/// Every parameter's bit pattern, to compare models bit for bit (`==` on f64 would let
/// `-0.0` equal `0.0`).
pub fn bits(m: &Mixture) -> Vec<u64> {
    m.weights()
        .iter()
        .chain(m.means().iter())
        .chain(m.covariances().iter())
        .chain(m.precisions_cholesky().iter())
        .map(|v| v.to_bits())
        .collect()
}

/// Every parameter finite, weights a probability vector, covariances positive definite.
pub fn assert_valid_model(m: &Mixture) {
    let all = m
        .weights()
        .iter()
        .chain(m.means().iter())
        .chain(m.covariances().iter())
        .chain(m.precisions_cholesky().iter())
        .copied()
        .collect::<Vec<_>>();
    assert!(all.iter().all(|v| v.is_finite()), "a parameter is not finite: {m:?}");
    // Each weight in [0, 1] and their sum 1, both to the same 1e-12: the M-step divides
    // `N_k + 10 eps` (scikit-learn's guard) by the total weight when initialising, so a single
    // component on a few points can weigh `1 + 2e-15`, as in scikit-learn.
    assert!(m.weights().iter().all(|&w| (0.0..=1.0 + 1e-12).contains(&w)), "weights {}", m.weights());
    assert!((m.weights().sum() - 1.0).abs() <= 1e-12, "weights sum to {}", m.weights().sum());
    for c in 0..m.n_components() {
        assert!(
            is_positive_definite(&dense_covariance(m, c), m.n_features()),
            "covariance {c} is not positive definite: {m:?}"
        );
    }
}

/// Initial parameters a little off a true mixture: uniform weights, means moved by `shift`,
/// the true precisions.
pub fn inits_near(truth: &Mixture, shift: f64) -> (Array1<f64>, Array2<f64>, ArrayD<f64>) {
    let k = truth.n_components();
    let weights = Array1::from_elem(k, 1.0 / k as f64);
    let means = truth.means().mapv(|v| v + shift);
    (weights, means, truth.precisions())
}

/// A random mixture and `n` points sampled from it.
pub fn sampled(
    kind: CovarianceType,
    k: usize,
    d: usize,
    spread: f64,
    n: usize,
    seed: u64,
) -> (Mixture, Array2<f64>) {
    let truth = datasets::random_mixture(kind, k, d, spread, seed);
    let (x, _) = truth.sample(n, seed + 1000);
    (truth, x)
}

//! Distances between the Gaussian components of a mixture, and the spectrum of the graph
//! they make.
//!
//! With `S = (S1 + S2) / 2` and `d = m1 - m2`:
//! ```text
//! Bhattacharyya distance  D_B = 1/8 d^T S^-1 d + 1/2 ln( det S / sqrt(det S1 det S2) )
//! coefficient             BC  = exp(-D_B) = (det S1 det S2)^(1/4) / det(S)^(1/2) exp(-1/8 d^T S^-1 d)
//! Hellinger distance      H   = sqrt(1 - BC)
//! Kullback-Leibler        KL(1||2) = 1/2 [ tr(S2^-1 S1) + d^T S2^-1 d - D + ln(det S2 / det S1) ]
//! symmetric KL            J   = KL(1||2) + KL(2||1)      (Jeffreys' divergence)
//! ```
//! Which is what:
//! - **Hellinger** is a true distance (a metric): symmetric, zero only for identical
//!   components, obeys the triangle inequality, bounded by 1.
//! - **Bhattacharyya** is a symmetric divergence, not a metric (no triangle inequality),
//!   unbounded; `BC = exp(-D_B)` is the matching *similarity* in `[0, 1]` (1 = identical).
//! - **KL** is a divergence, not symmetric: `matrix[i][j] = KL(component i || component j)`.
//! - **Symmetric KL** is symmetric, not a metric, unbounded.
//!
//! Every matrix here holds dissimilarities: 0 on the diagonal, larger = farther apart. (OrNet
//! stored `1 - sqrt(1 - h)`, a *similarity*, and with a coefficient of 0.00125 instead of 1/8.)
//! Log-determinants come from Cholesky factors, so nearly singular covariances stay finite.

use std::fmt;
use std::str::FromStr;

use einmix::cholesky_lower;
use ndarray::{Array1, Array2, ArrayView2, ArrayView3};

use crate::error::{Error, Result};

/// Which dissimilarity between two Gaussians.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Metric {
    /// `sqrt(1 - BC)`, in `[0, 1]`, a metric. The default.
    #[default]
    Hellinger,
    /// `-ln BC`, symmetric, unbounded.
    Bhattacharyya,
    /// `KL(i || j)`, not symmetric.
    Kl,
    /// `KL(i || j) + KL(j || i)`.
    SymmetricKl,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 4] = [Metric::Hellinger, Metric::Bhattacharyya, Metric::Kl, Metric::SymmetricKl];
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Metric::Hellinger => "hellinger",
            Metric::Bhattacharyya => "bhattacharyya",
            Metric::Kl => "kl",
            Metric::SymmetricKl => "symmetric_kl",
        })
    }
}

impl FromStr for Metric {
    type Err = Error;
    fn from_str(s: &str) -> Result<Metric> {
        match s {
            "hellinger" => Ok(Metric::Hellinger),
            "bhattacharyya" => Ok(Metric::Bhattacharyya),
            "kl" => Ok(Metric::Kl),
            "symmetric_kl" => Ok(Metric::SymmetricKl),
            _ => Err(Error::InvalidParameter {
                name: "metric",
                value: s.to_string(),
                expected: "'metric' should be in ['hellinger', 'bhattacharyya', 'kl', 'symmetric_kl']",
            }),
        }
    }
}

/// One Gaussian, factorised once: mean, covariance, lower Cholesky factor, log-determinant.
struct Factored {
    mean: Vec<f64>,
    cov: Vec<f64>,
    chol: Vec<f64>,
    logdet: f64,
}

fn logdet(l: &[f64], d: usize) -> f64 {
    (0..d).map(|i| 2.0 * l[i * d + i].ln()).sum()
}

/// `v^T A^-1 v` from the lower Cholesky factor of `A` (forward substitution, `|L^-1 v|^2`).
fn quad(l: &[f64], d: usize, v: &[f64]) -> f64 {
    let mut y = vec![0.0; d];
    for i in 0..d {
        let mut s = v[i];
        for p in 0..i {
            s -= l[i * d + p] * y[p];
        }
        y[i] = s / l[i * d + i];
    }
    y.iter().map(|x| x * x).sum()
}

/// `tr(A^-1 B)` from the lower Cholesky factor of `A`: the sum of `e_j^T ...`, column by column.
fn trace_solve(l: &[f64], d: usize, b: &[f64]) -> f64 {
    // tr(A^-1 B) = sum_j (A^-1 B)_jj; solve A x = B e_j for every column j.
    let mut total = 0.0;
    let mut y = vec![0.0; d];
    let mut x = vec![0.0; d];
    for j in 0..d {
        for i in 0..d {
            let mut s = b[i * d + j];
            for p in 0..i {
                s -= l[i * d + p] * y[p];
            }
            y[i] = s / l[i * d + i];
        }
        for i in (0..d).rev() {
            let mut s = y[i];
            for p in (i + 1)..d {
                s -= l[p * d + i] * x[p];
            }
            x[i] = s / l[i * d + i];
        }
        total += x[j];
    }
    total
}

fn factor(mean: &[f64], cov: &[f64], d: usize, k: usize) -> Result<Factored> {
    let chol = cholesky_lower(cov, d).ok_or(Error::InvalidParameter {
        name: "covariances",
        value: format!("component {k}"),
        expected: "every covariance must be symmetric positive definite",
    })?;
    Ok(Factored { mean: mean.to_vec(), logdet: logdet(&chol, d), cov: cov.to_vec(), chol })
}

/// Bhattacharyya distance `D_B` between two factored Gaussians.
fn bhattacharyya(a: &Factored, b: &Factored, d: usize) -> f64 {
    let s: Vec<f64> = a.cov.iter().zip(&b.cov).map(|(x, y)| 0.5 * (x + y)).collect();
    let l = cholesky_lower(&s, d).expect("the mean of two SPD matrices is SPD");
    let diff: Vec<f64> = a.mean.iter().zip(&b.mean).map(|(x, y)| x - y).collect();
    let v = 0.125 * quad(&l, d, &diff) + 0.5 * (logdet(&l, d) - 0.5 * (a.logdet + b.logdet));
    v.max(0.0)
}

/// `KL(a || b)`.
fn kl(a: &Factored, b: &Factored, d: usize) -> f64 {
    let diff: Vec<f64> = a.mean.iter().zip(&b.mean).map(|(x, y)| x - y).collect();
    let v =
        0.5 * (trace_solve(&b.chol, d, &a.cov) + quad(&b.chol, d, &diff) - d as f64 + b.logdet - a.logdet);
    v.max(0.0)
}

/// The `K x K` matrix of `metric` between the components `(means (K, D), covariances (K, D, D))`.
///
/// ```
/// use einmix_image::{component_distances, Metric};
/// use ndarray::{array, Array3};
/// let means = array![[0.0, 0.0], [0.0, 0.0], [3.0, 0.0]];
/// let covs = Array3::from_shape_fn((3, 2, 2), |(_, i, j)| if i == j { 1.0 } else { 0.0 });
/// let h = component_distances(means.view(), covs.view(), Metric::Hellinger)?;
/// assert_eq!(h[[0, 1]], 0.0); // identical components
/// // Unit isotropic Gaussians 3 apart: BC = exp(-9/8).
/// assert!((h[[0, 2]] - (1.0 - (-9.0f64 / 8.0).exp()).sqrt()).abs() < 1e-12);
/// # Ok::<(), einmix_image::Error>(())
/// ```
pub fn component_distances(
    means: ArrayView2<f64>,
    covariances: ArrayView3<f64>,
    metric: Metric,
) -> Result<Array2<f64>> {
    let (k, d) = means.dim();
    if covariances.dim() != (k, d, d) {
        return Err(Error::InvalidParameter {
            name: "covariances",
            value: format!("{:?}", covariances.shape()),
            expected: "covariances must have shape (K, D, D) for means of shape (K, D)",
        });
    }
    let comps: Vec<Factored> = (0..k)
        .map(|i| {
            let m: Vec<f64> = means.row(i).to_vec();
            let c: Vec<f64> = covariances.index_axis(ndarray::Axis(0), i).iter().copied().collect();
            factor(&m, &c, d, i)
        })
        .collect::<Result<_>>()?;
    let mut out = Array2::<f64>::zeros((k, k));
    for i in 0..k {
        for j in 0..k {
            if i == j {
                continue;
            }
            if j < i && metric != Metric::Kl {
                out[[i, j]] = out[[j, i]];
                continue;
            }
            let (a, b) = (&comps[i], &comps[j]);
            out[[i, j]] = match metric {
                Metric::Hellinger => (1.0 - (-bhattacharyya(a, b, d)).exp()).max(0.0).sqrt(),
                Metric::Bhattacharyya => bhattacharyya(a, b, d),
                Metric::Kl => kl(a, b, d),
                Metric::SymmetricKl => kl(a, b, d) + kl(b, a, d),
            };
        }
    }
    Ok(out)
}

/// The affinity of a distance matrix: the heat kernel `A_ij = exp(-D_ij^2 / (2 s^2))`,
/// symmetrised, no self-loops, with `s` the median over components of the distance to the
/// nearest other component (so groups of nearby components are linked, distant groups not).
pub fn affinity(distances: ArrayView2<f64>) -> Array2<f64> {
    let k = distances.nrows();
    let sym = |i: usize, j: usize| 0.5 * (distances[[i, j]] + distances[[j, i]]);
    let mut nearest: Vec<f64> = (0..k)
        .map(|i| (0..k).filter(|&j| j != i).map(|j| sym(i, j)).fold(f64::INFINITY, f64::min))
        .filter(|v| v.is_finite())
        .collect();
    nearest.sort_by(f64::total_cmp);
    let s = nearest.get(nearest.len() / 2).copied().filter(|&s| s > 0.0).unwrap_or(1.0);
    Array2::from_shape_fn((k, k), |(i, j)| {
        if i == j {
            0.0
        } else {
            let d = sym(i, j);
            (-d * d / (2.0 * s * s)).exp()
        }
    })
}

/// Eigenvalues, ascending, of the normalised Laplacian `L = I - D^-1/2 A D^-1/2` of the
/// affinity of `distances` ([`affinity`]); all in `[0, 2]`, the smallest 0. The second
/// smallest (the algebraic connectivity) is near 0 when the graph falls into two parts.
///
/// ```
/// use ndarray::array;
/// let d = array![[0.0, 0.1, 0.9], [0.1, 0.0, 0.9], [0.9, 0.9, 0.0]];
/// let ev = einmix_image::laplacian_spectrum(d.view());
/// assert!(ev[0].abs() < 1e-9 && ev[2] <= 2.0 + 1e-9);
/// ```
pub fn laplacian_spectrum(distances: ArrayView2<f64>) -> Array1<f64> {
    let k = distances.nrows();
    Array1::from(crate::eigen::symmetric_eigenvalues(&normalised_laplacian(distances), k))
}

/// The normalised Laplacian `I - D^-1/2 A D^-1/2` of the affinity of `distances`, row-major
/// (a component with no affinity to any other has a 1 on the diagonal and 0 elsewhere): the
/// one matrix whose spectrum [`laplacian_spectrum`] gives and whose eigenvectors the analysis
/// follows.
pub(crate) fn normalised_laplacian(distances: ArrayView2<f64>) -> Vec<f64> {
    let k = distances.nrows();
    let a = affinity(distances);
    let deg: Vec<f64> = (0..k).map(|i| a.row(i).sum()).collect();
    let mut l = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            let norm = if deg[i] > 0.0 && deg[j] > 0.0 { a[[i, j]] / (deg[i] * deg[j]).sqrt() } else { 0.0 };
            l[i * k + j] = if i == j { 1.0 } else { 0.0 } - norm;
        }
    }
    l
}

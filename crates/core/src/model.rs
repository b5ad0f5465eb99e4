//! The fitted model: [`Mixture`], and what a fit reports about itself: [`FitInfo`].
//!
//! ```text
//! p(x) = sum_k pi_k N(x | mu_k, Sigma_k)
//! ```
//! Parameters are stored flat in scikit-learn's shapes (`weights_` (K), `means_` (K, D),
//! `covariances_` and `precisions_cholesky_` per [`CovarianceType::shape`]) and handed out as
//! ndarray views.

use std::time::Duration;

use ndarray::{Array1, Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewD, IxDyn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::background::Background;
use crate::covariance::CovarianceType;
use crate::error::{Error, Input, Result};
use crate::validate;

/// A fitted Gaussian mixture.
///
/// ```
/// use einmix::{CovarianceType, Mixture};
/// use ndarray::{array, ArrayD, IxDyn};
///
/// let cov = ArrayD::from_shape_vec(IxDyn(&[2, 2, 2]), vec![1.0, 0.5, 0.5, 2.0, 1.0, 0.0, 0.0, 1.0]).unwrap();
/// let m = Mixture::from_parameters(CovarianceType::Full, array![0.3, 0.7].view(), array![[0.0, 0.0], [5.0, 5.0]].view(), cov.view())?;
/// let labels = m.predict(array![[0.1, -0.2], [5.2, 4.9]].view())?;
/// assert_eq!(labels.to_vec(), vec![0, 1]);
/// # Ok::<(), einmix::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MixtureFile", into = "MixtureFile")]
pub struct Mixture {
    covariance_type: CovarianceType,
    n_components: usize,
    n_features: usize,
    weights: Vec<f64>,
    means: Vec<f64>,
    covariances: Vec<f64>,
    precisions_cholesky: Vec<f64>,
    /// The uniform background component, if the model has one (its weight and the Gaussians'
    /// sum to 1).
    background: Option<Background>,
}

/// Mutable access to the flat parameter arrays, for the M-step.
pub(crate) struct PartsMut<'a> {
    pub weights: &'a mut [f64],
    pub means: &'a mut [f64],
    pub covariances: &'a mut [f64],
    pub precisions_cholesky: &'a mut [f64],
}

impl Mixture {
    /// A mixture from its weights, means and covariances in scikit-learn's shapes; the
    /// precision Cholesky factors are computed. Errors if a shape is wrong, a value is not
    /// finite, the weights are not a probability vector, or a covariance is not positive definite.
    pub fn from_parameters(
        covariance_type: CovarianceType,
        weights: ArrayView1<f64>,
        means: ArrayView2<f64>,
        covariances: ArrayViewD<f64>,
    ) -> Result<Mixture> {
        let (k, d) = means.dim();
        validate::weights_init(weights, k)?;
        validate::finite_2d(means, Input::MeansInit)?;
        let shape = covariance_type.shape(k, d);
        if covariances.shape() != shape.as_slice() {
            return Err(Error::WrongShape {
                input: Input::PrecisionsInit,
                expected: validate::shape_text(&shape),
                found: validate::shape_text(covariances.shape()),
            });
        }
        let cov: Vec<f64> = covariances.iter().copied().collect();
        let prec_chol = covariance_type.precisions_cholesky(&cov, k, d, 0.0)?;
        Ok(Mixture {
            covariance_type,
            n_components: k,
            n_features: d,
            weights: weights.to_vec(),
            means: means.iter().copied().collect(),
            covariances: cov,
            precisions_cholesky: prec_chol,
            background: None,
        })
    }

    /// A mixture from all its fitted arrays, as scikit-learn stores them (`weights_`, `means_`,
    /// `covariances_`, `precisions_cholesky_`), e.g. parameters edited or loaded elsewhere.
    /// Checks shapes and finiteness, that the weights are non-negative, and that every
    /// precision Cholesky factor has a positive diagonal; it trusts that the factors match
    /// the covariances (as scikit-learn's `predict` does).
    pub fn from_fitted_arrays(
        covariance_type: CovarianceType,
        weights: ArrayView1<f64>,
        means: ArrayView2<f64>,
        covariances: ArrayViewD<f64>,
        precisions_cholesky: ArrayViewD<f64>,
    ) -> Result<Mixture> {
        let (k, d) = means.dim();
        let file = MixtureFile {
            format: FORMAT_NAME.to_string(),
            version: 1,
            covariance_type,
            n_components: k,
            n_features: d,
            weights: weights.to_vec(),
            means: nest(&means.iter().copied().collect::<Vec<_>>(), &[k, d]),
            covariances: nest_checked(covariances),
            precisions_cholesky: nest_checked(precisions_cholesky),
            background: None,
        };
        Mixture::try_from(file).map_err(|message| Error::InvalidModel { message })
    }

    /// An all-zero mixture of the given shape, to be filled by an M-step.
    pub(crate) fn zeros(kind: CovarianceType, k: usize, d: usize) -> Mixture {
        let (weights, means, covariances) = (vec![0.0; k], vec![0.0; k * d], vec![0.0; kind.len(k, d)]);
        let precisions_cholesky = covariances.clone();
        Mixture {
            covariance_type: kind,
            n_components: k,
            n_features: d,
            weights,
            means,
            covariances,
            precisions_cholesky,
            background: None,
        }
    }

    pub(crate) fn parts_mut(&mut self) -> PartsMut<'_> {
        PartsMut {
            weights: &mut self.weights,
            means: &mut self.means,
            covariances: &mut self.covariances,
            precisions_cholesky: &mut self.precisions_cholesky,
        }
    }

    pub(crate) fn weights_slice(&self) -> &[f64] {
        &self.weights
    }
    pub(crate) fn means_slice(&self) -> &[f64] {
        &self.means
    }

    pub(crate) fn precisions_cholesky_slice(&self) -> &[f64] {
        &self.precisions_cholesky
    }

    /// The covariance kind.
    pub fn covariance_type(&self) -> CovarianceType {
        self.covariance_type
    }
    /// Number of components `K`.
    pub fn n_components(&self) -> usize {
        self.n_components
    }
    /// Dimension `D` of the data.
    pub fn n_features(&self) -> usize {
        self.n_features
    }
    /// Mixing weights of the Gaussians, shape `(K,)`, summing to 1 (to 1 minus the
    /// background's weight when the model has a [`Background`]).
    pub fn weights(&self) -> ArrayView1<'_, f64> {
        ArrayView1::from(&self.weights[..])
    }
    /// Means, shape `(K, D)`.
    pub fn means(&self) -> ArrayView2<'_, f64> {
        ArrayView2::from_shape((self.n_components, self.n_features), &self.means).expect("shape")
    }
    /// Covariances in scikit-learn's shape for the kind: full `(K, D, D)`, tied `(D, D)`,
    /// diag `(K, D)`, spherical `(K,)`.
    pub fn covariances(&self) -> ArrayViewD<'_, f64> {
        let shape = self.covariance_type.shape(self.n_components, self.n_features);
        ArrayViewD::from_shape(IxDyn(&shape), &self.covariances).expect("shape")
    }
    /// Upper Cholesky factors `U` of the precisions, `P = U U^T`, same shape as covariances.
    pub fn precisions_cholesky(&self) -> ArrayViewD<'_, f64> {
        let shape = self.covariance_type.shape(self.n_components, self.n_features);
        ArrayViewD::from_shape(IxDyn(&shape), &self.precisions_cholesky).expect("shape")
    }
    /// Precision matrices (inverse covariances), same shape as covariances.
    pub fn precisions(&self) -> ArrayD<f64> {
        let shape = self.covariance_type.shape(self.n_components, self.n_features);
        let p =
            self.covariance_type.precisions(&self.precisions_cholesky, self.n_components, self.n_features);
        ArrayD::from_shape_vec(IxDyn(&shape), p).expect("shape")
    }

    /// The uniform background component, if the model has one.
    pub fn background(&self) -> Option<&Background> {
        self.background.as_ref()
    }

    /// The mixture with `background` added: the Gaussians' weights are scaled to sum to
    /// `1 - background.weight()`. Errors if the region's dimension is not the model's.
    pub fn with_background(self, background: Background) -> Result<Mixture> {
        let gaussians: f64 = self.weights.iter().sum();
        let scale = (1.0 - background.weight()) / gaussians;
        let mut m = self.with_fitted_background(background)?;
        m.weights.iter_mut().for_each(|w| *w *= scale);
        Ok(m)
    }

    /// The mixture with a fitted `background` attached as it is: the Gaussians' weights are
    /// kept (they already sum to `1 - background.weight()`), as when a model is rebuilt from
    /// its stored arrays. Errors if the region's dimension is not the model's.
    pub fn with_fitted_background(mut self, background: Background) -> Result<Mixture> {
        if background.lower().len() != self.n_features {
            return Err(Error::InvalidBackground {
                problem: format!(
                    "the region has {} features, but the model has {}",
                    background.lower().len(),
                    self.n_features
                ),
            });
        }
        self.background = Some(background);
        Ok(self)
    }

    /// Sets the background's weight (the M-step's estimate); no-op without a background.
    pub(crate) fn set_background_weight(&mut self, weight: f64) {
        if let Some(b) = &mut self.background {
            b.set_weight(weight);
        }
    }

    /// Free parameters: covariances + means + `K - 1` weights (+ 1 for a background's weight;
    /// its region is given or taken from the data's range, as mclust counts it).
    pub fn n_parameters(&self) -> usize {
        let (k, d) = (self.n_components, self.n_features);
        self.covariance_type.n_parameters(k, d) + k * d + k - 1 + usize::from(self.background.is_some())
    }

    /// `n` samples from the mixture and the component each came from, grouped by component
    /// as scikit-learn does; points of a background are uniform in its box, label `K`, last.
    /// The same `seed` gives the same samples.
    ///
    /// ```
    /// use einmix::{CovarianceType, Mixture};
    /// use ndarray::{array, ArrayD, IxDyn};
    ///
    /// let cov = ArrayD::from_shape_vec(IxDyn(&[2]), vec![1.0, 0.5]).unwrap();
    /// let m = Mixture::from_parameters(CovarianceType::Spherical, array![0.5, 0.5].view(), array![[0.0], [9.0]].view(), cov.view())?;
    /// let (x, labels) = m.sample(100, 7);
    /// assert_eq!((x.nrows(), labels.len()), (100, 100));
    /// # Ok::<(), einmix::Error>(())
    /// ```
    pub fn sample(&self, n: usize, seed: u64) -> (Array2<f64>, Array1<usize>) {
        let (k, d) = (self.n_components, self.n_features);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Multinomial counts by conditional binomials; a background is category K, last.
        let weights: Vec<f64> =
            self.weights.iter().copied().chain(self.background.as_ref().map(|b| b.weight())).collect();
        let categories = weights.len();
        let mut counts = vec![0usize; categories];
        let (mut left, mut mass) = (n as u64, 1.0f64);
        for c in 0..categories {
            if c + 1 == categories || left == 0 {
                counts[c] = left as usize;
                left = 0;
                continue;
            }
            let p = (weights[c] / mass).clamp(0.0, 1.0);
            let draw = match Binomial::new(left, p) {
                Ok(binomial) => binomial.sample(&mut rng),
                // Only a NaN p fails, and clamp keeps NaN: no draw from such a component.
                Err(_) => 0,
            };
            counts[c] = draw as usize;
            left -= draw;
            mass -= weights[c];
        }
        let mut x = Array2::zeros((n, d));
        let mut labels = Array1::zeros(n);
        let mut row = 0;
        let mut z = vec![0.0; d];
        for c in 0..k {
            let factor = self.covariance_factor(c);
            for _ in 0..counts[c] {
                for zj in z.iter_mut() {
                    *zj = StandardNormal.sample(&mut rng);
                }
                for i in 0..d {
                    let mut v = self.means[c * d + i];
                    for j in 0..=i {
                        v += factor[i * d + j] * z[j];
                    }
                    x[[row, i]] = v;
                }
                labels[row] = c;
                row += 1;
            }
        }
        if let Some(b) = &self.background {
            for _ in 0..counts[k] {
                for j in 0..d {
                    x[[row, j]] = rng.random_range(b.lower()[j]..=b.upper()[j]);
                }
                labels[row] = k;
                row += 1;
            }
        }
        (x, labels)
    }

    /// Lower-triangular `L` with `Sigma_c = L L^T` (dense `D x D`).
    /// Every constructor checks that the covariances are positive definite (`from_parameters`
    /// factors them, a loaded model is checked, the M-step's Cholesky succeeded), so this
    /// factorisation cannot fail.
    fn covariance_factor(&self, c: usize) -> Vec<f64> {
        let d = self.n_features;
        self.covariance_type
            .covariance_factor(&self.covariances, c, d)
            .expect("a mixture's covariances are positive definite by construction")
    }

    /// Component `c`'s covariance as a dense `(D, D)` matrix, whatever the kind (the shared
    /// matrix for `tied`, a diagonal one for `diag` and `spherical`).
    ///
    /// ```
    /// use einmix::{CovarianceType, Mixture};
    /// use ndarray::{array, ArrayD, IxDyn};
    ///
    /// let cov = ArrayD::from_shape_vec(IxDyn(&[1, 2]), vec![4.0, 9.0]).unwrap();
    /// let m = Mixture::from_parameters(CovarianceType::Diag, array![1.0].view(), array![[0.0, 0.0]].view(), cov.view())?;
    /// assert_eq!(m.covariance_matrix(0), array![[4.0, 0.0], [0.0, 9.0]]);
    /// # Ok::<(), einmix::Error>(())
    /// ```
    pub fn covariance_matrix(&self, c: usize) -> Array2<f64> {
        let d = self.n_features;
        let dense = self.covariance_type.dense_covariance(&self.covariances, c, d);
        Array2::from_shape_vec((d, d), dense).expect("a dense covariance has D x D values")
    }

    /// The mixture with component `c` split in two along its principal axis, as a start for
    /// a fit with one more component: both halves take half the weight, their means move
    /// `+-sqrt(2 lambda / pi) v` from the old mean (`lambda`, `v`: the largest eigenvalue of
    /// `Sigma_c` and its axis, the mean offsets of the two halves of a Gaussian cut through
    /// its centre), and their covariances shrink by `(2 / pi) lambda v v^T` where the kind has
    /// a covariance of its own (full, diag); tied and spherical keep theirs.
    pub fn split_component(&self, c: usize) -> Result<Mixture> {
        let (k, d, kind) = (self.n_components, self.n_features, self.covariance_type);
        if c >= k {
            return Err(Error::InvalidParameter {
                name: "component",
                value: c.to_string(),
                expected: "the component to split must be below n_components.",
            });
        }
        let dense = kind.dense_covariance(&self.covariances, c, d);
        let (values, vectors) = crate::linalg::symmetric_eigen(&dense, d);
        let lambda = values[d - 1].max(0.0);
        let axis = &vectors[(d - 1) * d..d * d];
        let two_over_pi = 2.0 / std::f64::consts::PI;
        let offset = (two_over_pi * lambda).sqrt();
        let mut weights = self.weights.clone();
        weights[c] /= 2.0;
        weights.push(weights[c]);
        let mut means = self.means.clone();
        for j in 0..d {
            let centre = self.means[c * d + j];
            means[c * d + j] = centre + offset * axis[j];
            means.push(centre - offset * axis[j]);
        }
        let covariances = kind.split_covariances(&self.covariances, c, d, &dense, two_over_pi * lambda, axis);
        let shape = kind.shape(k + 1, d);
        let covariances = ArrayD::from_shape_vec(IxDyn(&shape), covariances).expect("the kind's shape");
        let means = Array2::from_shape_vec((k + 1, d), means).expect("K + 1 means");
        Mixture::from_parameters(kind, ArrayView1::from(&weights), means.view(), covariances.view())
    }

    /// The model as JSON (round-trips bit for bit through [`Mixture::from_json`]).
    ///
    /// ```
    /// use einmix::{CovarianceType, Mixture};
    /// use ndarray::{array, ArrayD, IxDyn};
    ///
    /// let cov = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![2.0, 0.3, 0.3, 1.0]).unwrap();
    /// let m = Mixture::from_parameters(CovarianceType::Tied, array![0.25, 0.75].view(), array![[0.0, 1.0], [4.0, 2.0]].view(), cov.view())?;
    /// let text = m.to_json();
    /// assert_eq!(Mixture::from_json(&text)?, m);
    /// assert!(Mixture::from_json("{}").is_err());
    /// # Ok::<(), einmix::Error>(())
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a mixture always serialises")
    }

    /// Reads a model written by [`Mixture::to_json`], checking shapes and values.
    pub fn from_json(text: &str) -> Result<Mixture> {
        serde_json::from_str(text).map_err(|e| Error::InvalidModel { message: e.to_string() })
    }
}

/// What a fit reports about itself. Non-convergence is a field, not an error.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FitInfo {
    /// Whether the best run's lower bound changed by less than `tol` before `max_iter`.
    pub converged: bool,
    /// EM iterations of the best run.
    pub n_iter: usize,
    /// The best run's final lower bound: mean (weighted) log-likelihood per sample
    /// (`-inf` when `max_iter == 0`, as in scikit-learn).
    pub lower_bound: f64,
    /// The best run's lower bound after each iteration.
    pub lower_bounds: Vec<f64>,
    /// The final lower bound of every run (one per `n_init`), in run order.
    pub run_lower_bounds: Vec<f64>,
    /// Index of the run that was kept.
    pub best_run: usize,
    /// Wall time spent initialising (all runs).
    pub init_time: Duration,
    /// Wall time spent in EM iterations (all runs), including the final E-step.
    pub em_time: Duration,
    /// EM iterations over all runs.
    pub total_iter: usize,
}

/// The result of a fit: the model and its report.
#[derive(Clone, Debug)]
pub struct Fit {
    /// The fitted model (the best of `n_init` runs).
    pub mixture: Mixture,
    /// How the fit went.
    pub info: FitInfo,
    /// `argmax_k` of the responsibilities after a final E-step (what `fit_predict` returns);
    /// empty when the fit was asked not to compute them (`GaussianMixture::final_labels`).
    pub labels: Array1<usize>,
}

/// The on-disk form of a [`Mixture`]: nested arrays in scikit-learn's shapes.
#[derive(Serialize, Deserialize)]
struct MixtureFile {
    format: String,
    version: u32,
    covariance_type: CovarianceType,
    n_components: usize,
    n_features: usize,
    weights: Vec<f64>,
    means: serde_json::Value,
    covariances: serde_json::Value,
    precisions_cholesky: serde_json::Value,
    /// Absent in files without a background (and in every file written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    background: Option<Background>,
}

const FORMAT_NAME: &str = "einmix.Mixture";

fn nest(flat: &[f64], shape: &[usize]) -> serde_json::Value {
    if shape.len() <= 1 {
        return serde_json::Value::from(flat.to_vec());
    }
    let step = flat.len() / shape[0].max(1);
    serde_json::Value::Array(
        (0..shape[0]).map(|i| nest(&flat[i * step..(i + 1) * step], &shape[1..])).collect(),
    )
}

/// Nests an array by its own shape (a wrong shape is then caught by `unnest`).
fn nest_checked(a: ArrayViewD<f64>) -> serde_json::Value {
    let flat: Vec<f64> = a.iter().copied().collect();
    nest(&flat, a.shape())
}

/// Flattens the nested array `v` of shape `shape` into `out`; `full` is the whole array's
/// shape, which the message names (not the sub-shape at the level where the mismatch is).
fn unnest(
    v: &serde_json::Value,
    shape: &[usize],
    full: &[usize],
    field: &str,
    out: &mut Vec<f64>,
) -> std::result::Result<(), String> {
    let bad = || format!("'{field}' does not have the shape {}", validate::shape_text(full));
    let items = v.as_array().ok_or_else(bad)?;
    if items.len() != shape[0] {
        return Err(bad());
    }
    for item in items {
        if shape.len() == 1 {
            let x = item.as_f64().ok_or_else(|| format!("'{field}' holds a value that is not a number"))?;
            if !x.is_finite() {
                return Err(format!("'{field}' holds a value that is not finite"));
            }
            out.push(x);
        } else {
            unnest(item, &shape[1..], full, field, out)?;
        }
    }
    Ok(())
}

impl From<Mixture> for MixtureFile {
    fn from(m: Mixture) -> MixtureFile {
        let shape = m.covariance_type.shape(m.n_components, m.n_features);
        MixtureFile {
            format: FORMAT_NAME.to_string(),
            version: 1,
            covariance_type: m.covariance_type,
            n_components: m.n_components,
            n_features: m.n_features,
            means: nest(&m.means, &[m.n_components, m.n_features]),
            covariances: nest(&m.covariances, &shape),
            precisions_cholesky: nest(&m.precisions_cholesky, &shape),
            weights: m.weights,
            background: m.background,
        }
    }
}

impl TryFrom<MixtureFile> for Mixture {
    type Error = String;

    fn try_from(f: MixtureFile) -> std::result::Result<Mixture, String> {
        if f.format != FORMAT_NAME || f.version != 1 {
            return Err(format!("unknown format '{}' version {}", f.format, f.version));
        }
        let (k, d) = (f.n_components, f.n_features);
        if k == 0 || d == 0 {
            return Err("n_components and n_features must be at least 1".into());
        }
        if f.weights.len() != k {
            return Err(format!("'weights' has {} values, expected {k}", f.weights.len()));
        }
        if f.weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err("'weights' must be finite and non-negative".into());
        }
        let shape = f.covariance_type.shape(k, d);
        let (mut means, mut cov, mut chol) = (Vec::new(), Vec::new(), Vec::new());
        unnest(&f.means, &[k, d], &[k, d], "means", &mut means)?;
        unnest(&f.covariances, &shape, &shape, "covariances", &mut cov)?;
        unnest(&f.precisions_cholesky, &shape, &shape, "precisions_cholesky", &mut chol)?;
        // Every covariance must be positive definite (sampling factorises it).
        f.covariance_type.check_covariances(&cov, d)?;
        if f.covariance_type.is_dense() {
            // Any square root F of the precision (P = F F^T) describes the same model; the
            // kernels read only the upper triangle, so a factor that is not upper triangular
            // (scikit-learn stores chol(P) lower after `precisions_init`) is re-factored.
            for (c, block) in chol.chunks_mut(d * d).enumerate() {
                let lower_part = (0..d).any(|i| (0..i).any(|j| block[i * d + j] != 0.0));
                if lower_part {
                    let p = crate::linalg::mul_transpose(block, block, d);
                    let (u, _) = crate::covariance::full::upper_factor(&p, d)
                        .ok_or_else(|| format!("'precisions_cholesky' of component {c} is singular"))?;
                    block.copy_from_slice(&u);
                }
            }
        }
        if chol.iter().enumerate().any(|(i, &u)| f.covariance_type.on_diagonal(i, d) && u <= 0.0) {
            return Err("'precisions_cholesky' must have a positive diagonal".into());
        }
        // A background is checked as one built by hand is.
        let background = match f.background {
            Some(b) => {
                let b = Background::new(b.lower().to_vec(), b.upper().to_vec(), b.weight())
                    .map_err(|e| e.to_string())?;
                if b.lower().len() != d {
                    return Err(format!("'background' has {} features, expected {d}", b.lower().len()));
                }
                Some(b)
            }
            None => None,
        };
        let (covariance_type, weights) = (f.covariance_type, f.weights);
        Ok(Mixture {
            background,
            covariance_type,
            n_components: k,
            n_features: d,
            weights,
            means,
            covariances: cov,
            precisions_cholesky: chol,
        })
    }
}

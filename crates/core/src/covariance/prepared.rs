//! A mixture's parameters in the form the chunk kernels read, refreshed in place each iteration.
//!
//! ```text
//! log_const_k = log pi_k + log det U_k - D/2 log(2 pi)
//! a_kj <= eigenvalues of P_k <= b_kj          (the culling bounds, per kind)
//! ```

use super::products::{diagonal_precisions, Form};
use super::{full, CovarianceType};
use crate::estimator::Precision;

/// `D/2 log(2 pi)` per dimension.
const HALF_LOG_2PI: f64 = 0.918_938_533_204_672_7;

/// The model's parameters in the form the kernels read, refreshed in place every iteration.
pub(crate) struct Prepared {
    pub kind: CovarianceType,
    pub k: usize,
    pub d: usize,
    /// `log pi_k + log det U_k - D/2 log(2 pi)`.
    pub log_const: Vec<f64>,
    pub means: Vec<f64>,
    pub prec_chol: Vec<f64>,
    /// `tied` only: `mu_k^T U` (`K x D`), as scikit-learn evaluates `X U - mu U`.
    pub mean_prec: Vec<f64>,
    /// Lane loops or matrix products (`covariance::products`): the kind's crossover in `D`.
    pub form: Form,
    /// `Precision::F32` and a dense kind: the factors in single precision.
    pub prec_chol_single: Vec<f32>,
    /// Diagonal kinds in the product form: `U_kj^2` (`K x D`); empty otherwise.
    pub diagonal_precisions: Vec<f64>,
    /// Whether chunks skip components that provably cannot matter (see `pass::cull`).
    pub cull: bool,
    /// Per component and feature, weights `a_kj <= b_kj` with
    /// `sum_j a_kj t_j^2 <= t^T P_k t <= sum_j b_kj t_j^2` for every `t`: the extreme
    /// eigenvalues of `P_k` (bounds on them for D > 2), or the diagonal precisions themselves.
    pub bound_min: Vec<f64>,
    pub bound_max: Vec<f64>,
    /// Per component and feature, `c_kj <= 1 / Sigma_k,jj`: whatever the other features,
    /// `t^T P_k t >= c_kj t_j^2` (the quadratic's minimum over them, the marginal's precision).
    /// Far tighter than the smallest eigenvalue for an elongated component; 0 where the
    /// per-feature weights `a_kj` are exact already (diagonal kinds) or D > 3.
    pub bound_axis: Vec<f64>,
    /// A uniform background's `ln pi_0 - ln V` (`None`: no background, or one of weight 0).
    pub background: Option<f64>,
    /// Its box: `D` lower corner values, then `D` upper.
    pub background_box: Vec<f64>,
}

impl Prepared {
    pub(crate) fn new(kind: CovarianceType, k: usize, d: usize) -> Prepared {
        Prepared {
            kind,
            k,
            d,
            log_const: vec![0.0; k],
            means: vec![0.0; k * d],
            prec_chol: vec![0.0; kind.len(k, d)],
            mean_prec: vec![0.0; if kind == CovarianceType::Tied { k * d } else { 0 }],
            form: kind.form(d),
            prec_chol_single: Vec::new(),
            diagonal_precisions: vec![0.0; if kind.is_dense() { 0 } else { k * d }],
            cull: false,
            bound_min: vec![0.0; k * d],
            bound_max: vec![0.0; k * d],
            bound_axis: vec![0.0; k * d],
            background: None,
            background_box: Vec::new(),
        }
    }

    /// Copies the parameters (same shape) without allocating.
    pub(crate) fn update(&mut self, weights: &[f64], means: &[f64], prec_chol: &[f64]) {
        self.update_with(|c| weights[c].ln(), means, prec_chol);
    }

    /// As [`Prepared::update`], with each component's additive log term given (`log pi_k` for
    /// EM; the expected log-weight and Wishart terms for the variational model).
    pub(crate) fn update_with(&mut self, log_term: impl Fn(usize) -> f64, means: &[f64], prec_chol: &[f64]) {
        let (k, d) = (self.k, self.d);
        self.means.copy_from_slice(means);
        self.prec_chol.copy_from_slice(prec_chol);
        let offset = -(d as f64) * HALF_LOG_2PI;
        for c in 0..k {
            let log_det = self.kind.log_det(&self.prec_chol, c, d);
            self.log_const[c] = log_term(c) + log_det + offset;
        }
        if self.cull {
            self.update_bounds();
        }
        self.kind.prepare_means(&self.means, &self.prec_chol, k, d, &mut self.mean_prec);
        if self.form.products() && !self.kind.is_dense() {
            diagonal_precisions(self.kind, &self.prec_chol, k, d, &mut self.diagonal_precisions);
        }
        if self.form == Form::ProductsF32 && self.kind.is_dense() {
            self.prec_chol_single.clear();
            self.prec_chol_single.extend(self.prec_chol.iter().map(|&u| u as f32));
        }
    }

    /// Runs the products (if the kind's crossover chose them) in `precision`; call before the
    /// first [`Prepared::update`].
    pub(crate) fn set_precision(&mut self, precision: Precision) {
        if self.form.products() {
            self.form = match precision {
                Precision::F64 => Form::Products,
                Precision::F32 => Form::ProductsF32,
            };
        }
    }

    /// Runs the kernels in `form` from now on (tests compare the two forms; the kind's
    /// crossover chooses otherwise).
    #[cfg(test)]
    pub(crate) fn set_form(&mut self, form: Form) {
        self.form = form;
        let (k, d) = (self.k, self.d);
        if form.products() && !self.kind.is_dense() {
            self.diagonal_precisions.resize(k * d, 0.0);
            diagonal_precisions(self.kind, &self.prec_chol, k, d, &mut self.diagonal_precisions);
        }
        if form == Form::ProductsF32 && self.kind.is_dense() {
            self.prec_chol_single = self.prec_chol.iter().map(|&u| u as f32).collect();
        }
    }

    /// Copies a background's term and box (or clears it), without allocating after the first.
    pub(crate) fn set_background(&mut self, background: Option<&crate::background::Background>) {
        self.background = background.map(|b| b.log_term()).filter(|t| t.is_finite());
        self.background_box.clear();
        if let Some(b) = background {
            self.background_box.extend_from_slice(b.lower());
            self.background_box.extend_from_slice(b.upper());
        }
    }

    /// Columns a background adds to the responsibilities: 1 if the model has one (even of
    /// weight 0), else 0.
    pub(crate) fn background_columns(&self) -> usize {
        usize::from(!self.background_box.is_empty())
    }

    /// Whether the box `[lo, hi]` lies inside the background's region.
    pub(crate) fn background_covers(&self, lo: &[f64], hi: &[f64]) -> bool {
        let d = self.d;
        let (lower, upper) = self.background_box.split_at(d);
        (0..d).all(|j| lower[j] <= lo[j] && hi[j] <= upper[j])
    }

    /// Eigenvalue bounds of every precision, for culling.
    fn update_bounds(&mut self) {
        let (k, d) = (self.k, self.d);
        for c in 0..k {
            let (lo, hi) = (&mut self.bound_min[c * d..(c + 1) * d], &mut self.bound_max[c * d..(c + 1) * d]);
            self.kind.precision_bounds(&self.prec_chol, c, d, lo, hi);
            let axis = &mut self.bound_axis[c * d..(c + 1) * d];
            match self.kind {
                CovarianceType::Full => {
                    full::marginal_precisions(&self.prec_chol[c * d * d..(c + 1) * d * d], d, axis)
                }
                CovarianceType::Tied => full::marginal_precisions(&self.prec_chol, d, axis),
                CovarianceType::Diag | CovarianceType::Spherical => {}
            }
        }
    }
}

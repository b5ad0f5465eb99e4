//! Online (stepwise) EM: a mixture that learns from a stream of batches, each seen once.
//!
//! ```text
//! first batch:   theta = fit(batch)  (the configured initialisation, then EM); s = S(batch | theta)
//! batch t >= 1:  s_hat = S(batch | theta)                  one fused pass: the E-step
//!                rho_t = (t + t0)^(-kappa)                 learning_offset t0, learning_decay kappa
//!                s     = (1 - rho_t) s + rho_t s_hat       in each kind's centred form
//!                theta = m_step(s)                         with reg_covar
//! ```
//! `S` is the statistics per unit weight: each component's mass, its mean and its centred
//! second moment (Cappé & Moulines, *On-line EM*, JRSS B 2009; Liang & Klein, *Online EM for
//! unsupervised models*, NAACL 2009). The running values are averages, never growing sums,
//! and blending two centred moments adds the between-means term of Chan, Golub and LeVeque's
//! parallel variance (`covariance::RunningStats`), so nothing loses precision over millions of
//! batches. `kappa` in `(0.5, 1]` makes the steps satisfy Robbins-Monro (`sum rho = inf`,
//! `sum rho^2 < inf`); the defaults, `kappa = 0.7` and `t0 = 10`, are those of scikit-learn's
//! online `LatentDirichletAllocation` and came within 0.005 nats per point of the batch fit in
//! `benches/online.rs`.
//!
//! ```
//! use einmix::{datasets, CovarianceType, GaussianMixture};
//!
//! let truth = datasets::random_mixture(CovarianceType::Full, 3, 2, 6.0, 1);
//! let spec = GaussianMixture::new(3).random_state(0);
//! let mut online = None;
//! for batch in 0..20 {
//!     let (x, _) = truth.sample(500, batch);
//!     online = Some(spec.partial_fit(x.view(), None, online.as_ref())?);
//! }
//! let online = online.unwrap();
//! assert_eq!(online.state.n_batches(), 20);
//! let (test, _) = truth.sample(5000, 99);
//! assert!((online.mixture.score(test.view())? - truth.score(test.view())?).abs() < 0.02);
//! # Ok::<(), einmix::Error>(())
//! ```

use super::memory::InMemory;
use super::{e_step, FitOptions, Source};
use crate::chunks::Element;
use crate::covariance::{RunningStats, SuffStats};
use crate::error::{Error, Result};
use crate::estimator::GaussianMixture;
use crate::model::Mixture;
use crate::mstep::{m_step, MStepScratch, WeightNorm};
use ndarray::{ArrayView1, ArrayView2};

/// What online EM carries from one batch to the next, besides the mixture: the running
/// statistics and how many batches made them.
#[derive(Clone, Debug, PartialEq)]
pub struct OnlineState {
    running: RunningStats,
    n_batches: u64,
}

impl OnlineState {
    /// Batches seen so far.
    pub fn n_batches(&self) -> u64 {
        self.n_batches
    }

    /// The running statistics as flat arrays, to store them (e.g. in a Python estimator):
    /// `(mass (K), means (K D), scatter (the kind's layout), mean batch weight, batches)`.
    pub fn to_parts(&self) -> (Vec<f64>, Vec<f64>, Vec<f64>, f64, u64) {
        let r = &self.running;
        (r.mass.clone(), r.means.clone(), r.scatter.clone(), r.mean_weight, self.n_batches)
    }

    /// A background component's running share of the weight (0 without one): with
    /// [`OnlineState::to_parts`], all the state there is.
    pub fn background_share(&self) -> f64 {
        self.running.background
    }

    /// [`OnlineState::from_parts`] for a mixture with a background component, whose running
    /// share is `background_share` (in `[0, 1]`).
    pub fn from_parts_with_background(
        m: &Mixture,
        parts: (Vec<f64>, Vec<f64>, Vec<f64>, f64, u64),
        background_share: f64,
    ) -> Result<OnlineState> {
        let mut state = OnlineState::from_parts(m, parts)?;
        if m.background().is_none() || !(0.0..=1.0).contains(&background_share) {
            return Err(Error::InvalidModel {
                message: format!(
                    "the online state's background share {background_share} needs a mixture with a background and a value in [0, 1]"
                ),
            });
        }
        state.running.background = background_share;
        Ok(state)
    }

    /// The state from [`OnlineState::to_parts`] of a mixture shaped like `m`; errors if a
    /// length does not fit or a value is not finite.
    pub fn from_parts(
        m: &Mixture,
        (mass, means, scatter, mean_weight, n_batches): (Vec<f64>, Vec<f64>, Vec<f64>, f64, u64),
    ) -> Result<OnlineState> {
        let (kind, k, d) = (m.covariance_type(), m.n_components(), m.n_features());
        let fits = mass.len() == k && means.len() == k * d && scatter.len() == kind.scatter_len(k, d);
        let finite = mass.iter().chain(&means).chain(&scatter).all(|v| v.is_finite());
        if !(fits && finite && mean_weight > 0.0 && mean_weight.is_finite() && n_batches != 0) {
            return Err(Error::InvalidModel {
                message: "the online state does not belong to this mixture (lengths, or values not finite)"
                    .into(),
            });
        }
        let running = RunningStats { kind, k, d, mass, background: 0.0, means, scatter, mean_weight };
        Ok(OnlineState { running, n_batches })
    }
}

/// One step of online EM: the mixture after the batch, the state to carry on with, and the
/// batch's mean log-likelihood under the mixture that met it.
#[derive(Clone, Debug)]
pub struct OnlineFit {
    /// The mixture after this batch.
    pub mixture: Mixture,
    /// What the next [`GaussianMixture::partial_fit`] continues from.
    pub state: OnlineState,
    /// Mean (weighted) log-likelihood of the batch under the parameters before its update
    /// (for the first batch: under the fit the batch was initialised with).
    pub lower_bound: f64,
}

/// The step size of batch `t` (1 for the batch after the first).
fn step_size(spec: &GaussianMixture, t: u64) -> f64 {
    (t as f64 + spec.learning_offset).powf(-spec.learning_decay)
}

impl GaussianMixture {
    /// Online EM: learns from the batch `x` (weights `sample_weight`) and returns the updated
    /// mixture and state. `previous: None` starts a new stream: the batch is fitted as
    /// [`GaussianMixture::fit`] would (it needs at least `n_components` rows). Otherwise one
    /// E-step on the batch under the previous mixture, a step of `rho_t` towards its
    /// statistics, and an M-step (see the module's equations). `max_iter`, `tol` and `n_init`
    /// govern the first batch's fit only.
    pub fn partial_fit<T: Element>(
        &self,
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
        previous: Option<&OnlineFit>,
    ) -> Result<OnlineFit> {
        self.validate()?;
        match previous {
            None => {
                let model = self.fit_with(x, sample_weight, FitOptions::new())?.mixture;
                self.online_step(x, sample_weight, model, None)
            }
            Some(p) => self.online_step(x, sample_weight, p.mixture.clone(), Some(&p.state)),
        }
    }

    /// Starts online EM from a mixture fitted elsewhere (e.g. a previous frame's): the batch's
    /// statistics under `start` become the running ones, then an M-step.
    pub fn partial_fit_from<T: Element>(
        &self,
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
        start: &Mixture,
    ) -> Result<OnlineFit> {
        self.validate()?;
        self.online_step(x, sample_weight, start.clone(), None)
    }

    /// One E-step of `model` on the batch, a step of the running statistics (or their start),
    /// and an M-step.
    fn online_step<T: Element>(
        &self,
        x: ArrayView2<T>,
        sample_weight: Option<ArrayView1<f64>>,
        model: Mixture,
        state: Option<&OnlineState>,
    ) -> Result<OnlineFit> {
        crate::validate::data(x)?;
        if x.ncols() != model.n_features() {
            return Err(Error::DimensionMismatch { expected: model.n_features(), found: x.ncols() });
        }
        if let Some(w) = sample_weight {
            crate::validate::sample_weight(w, x.nrows())?;
        }
        let (kind, k, d) = (model.covariance_type(), model.n_components(), model.n_features());
        // The model is given: no initialisation, and a background keeps the region it has (a
        // batch's own bounding box is not resolved again).
        let mut source = InMemory::with_model(
            self,
            x,
            sample_weight,
            k,
            crate::chunks::WeightScale::MeanOne,
            Box::new(|_, _, _| {
                Err(Error::InvalidModel { message: "online EM has no initialisation".into() })
            }),
        )?;
        let lower_bound = e_step(&mut source, &model)?;
        let (batch, total_weight) = source.statistics();
        let shifts = model.means_slice();
        let (running, n_batches) = match state {
            None => (RunningStats::from_batch(batch, shifts, total_weight, kind), 1),
            Some(s) => {
                if (s.running.kind, s.running.k, s.running.d) != (kind, k, d) {
                    let message = "the online state does not belong to this mixture".into();
                    return Err(Error::InvalidModel { message });
                }
                let mut running = s.running.clone();
                running.blend(batch, shifts, total_weight, step_size(self, s.n_batches));
                (running, s.n_batches + 1)
            }
        };
        let mut stats = SuffStats::new(kind, k, d);
        running.scaled_into(&mut stats);
        let mut next = model;
        let mut scratch = MStepScratch::new(k, d);
        m_step(&stats, &running.means, self.reg_covar, WeightNorm::SumOfCounts, &mut next, &mut scratch)?;
        Ok(OnlineFit { mixture: next, state: OnlineState { running, n_batches }, lower_bound })
    }
}

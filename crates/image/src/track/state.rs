//! A tracker's state between frames, as data: what a checkpoint stores so that a run killed at
//! any frame continues exactly as if it had not stopped. Floats travel as their bits (a
//! lower bound may be `-inf`, which JSON has no word for); models as their own JSON, which
//! round-trips bit for bit.

use einmix::{Mixture, OnlineFit, OnlineState, VariationalMixture};
use serde::{Deserialize, Serialize};

use super::Tracker;
use crate::error::{Error, Result};

/// Online EM's running state: the mixture, the running statistics and the batch's bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OnlineParts {
    mixture: String,
    mass: Vec<u64>,
    means: Vec<u64>,
    scatter: Vec<u64>,
    mean_weight: u64,
    n_batches: u64,
    background_share: u64,
    lower_bound: u64,
}

/// Everything a [`Tracker`] carries from one frame to the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackerState {
    /// The previous frame's mixture (JSON) and lower bound (bits).
    previous: Option<(String, u64)>,
    online: Option<OnlineParts>,
    /// The previous frame's posterior (JSON) and bound (bits).
    posterior: Option<(String, u64)>,
    volume: bool,
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn floats(values: &[u64]) -> Vec<f64> {
    values.iter().map(|&v| f64::from_bits(v)).collect()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Checkpoint { problem: format!("its {what} cannot be read: {e}") }
}

impl Tracker {
    /// The state to carry on from after the last frame fitted.
    pub fn state(&self) -> TrackerState {
        let online = self.online.as_ref().map(|o| {
            let (mass, means, scatter, mean_weight, n_batches) = o.state.to_parts();
            OnlineParts {
                mixture: o.mixture.to_json(),
                mass: bits(&mass),
                means: bits(&means),
                scatter: bits(&scatter),
                mean_weight: mean_weight.to_bits(),
                n_batches,
                background_share: o.state.background_share().to_bits(),
                lower_bound: o.lower_bound.to_bits(),
            }
        });
        TrackerState {
            previous: self.previous.as_ref().map(|(m, lb)| (m.to_json(), lb.to_bits())),
            online,
            posterior: self.posterior.as_ref().map(|(p, lb)| (p.to_json(), lb.to_bits())),
            volume: self.volume,
        }
    }

    /// Continues from `state` (taken by [`Tracker::state`] from a tracker of the same options):
    /// the next frame is fitted exactly as that tracker would have fitted it.
    pub fn restore(&mut self, state: &TrackerState) -> Result<()> {
        let mixture = |text: &str| Mixture::from_json(text).map_err(|e| corrupt("model", e));
        self.previous = match &state.previous {
            Some((m, lb)) => Some((mixture(m)?, f64::from_bits(*lb))),
            None => None,
        };
        self.online = match &state.online {
            Some(o) => {
                let m = mixture(&o.mixture)?;
                let parts = (
                    floats(&o.mass),
                    floats(&o.means),
                    floats(&o.scatter),
                    f64::from_bits(o.mean_weight),
                    o.n_batches,
                );
                let running = match m.background() {
                    Some(_) => {
                        OnlineState::from_parts_with_background(&m, parts, f64::from_bits(o.background_share))
                    }
                    None => OnlineState::from_parts(&m, parts),
                }
                .map_err(|e| corrupt("online statistics", e))?;
                Some(OnlineFit { mixture: m, state: running, lower_bound: f64::from_bits(o.lower_bound) })
            }
            None => None,
        };
        self.posterior = match &state.posterior {
            Some((p, lb)) => Some((
                VariationalMixture::from_json(p).map_err(|e| corrupt("posterior", e))?,
                f64::from_bits(*lb),
            )),
            None => None,
        };
        self.volume = state.volume;
        Ok(())
    }
}

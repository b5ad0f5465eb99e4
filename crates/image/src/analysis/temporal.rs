//! Temporal anomalies: frames where a statistic leaves its recent range.
//!
//! ```text
//! for t >= w:   m_t = mean(x_{t-w} .. x_{t-1}),   s_t = sqrt(mean((x_i - m_t)^2))   (population)
//!               z_t = (x_t - m_t) / s_t,          anomalous when |z_t| > threshold
//! for t <  w:   not scored
//! ```
//! OrNet's `temporal_anomaly_detection.py` with its defaults (window 20, threshold 2): the
//! window is the `w` frames *before* `t`, so a jump is measured against the past it breaks
//! from rather than diluting its own baseline, and the sd is NumPy's `np.std` (ddof 0), as
//! OrNet's, so scores compare with its. Where OrNet set `z = 0` for the first `w` frames, they
//! are unscored here (`None`, an empty cell in the CSV): a 0 would read as "checked, normal".

use std::fmt::Write as _;

use crate::analysis::data::{problem, TrackData};
use crate::analysis::spectrum::Statistic;
use crate::error::{Error, Result};

/// What the temporal analysis follows and how it decides (defaults in brackets).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnomalyOptions {
    /// The statistic scored [algebraic_connectivity: see [`Statistic`] for why not OrNet's
    /// mean eigenvalue].
    pub statistic: Statistic,
    /// Frames in the trailing window, at least 2 and fewer than the track's frames [20, as OrNet].
    pub window: usize,
    /// A frame is anomalous when `|z|` exceeds this; positive and finite [2, as OrNet].
    pub threshold: f64,
}

impl Default for AnomalyOptions {
    fn default() -> Self {
        AnomalyOptions { statistic: Statistic::default(), window: 20, threshold: 2.0 }
    }
}

impl AnomalyOptions {
    /// Checks the options against a track of `data`'s length.
    fn check(&self, data: &TrackData) -> Result<()> {
        if self.window < 2 {
            return Err(Error::InvalidParameter {
                name: "window",
                value: self.window.to_string(),
                expected: "the window needs at least 2 frames to have a spread",
            });
        }
        if !(self.threshold > 0.0 && self.threshold.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "threshold",
                value: self.threshold.to_string(),
                expected: "the threshold on |z| must be positive and finite",
            });
        }
        let f = data.n_frames();
        if self.window >= f {
            return Err(problem(
                data.path(),
                format!(
                    "window {} is not shorter than the track's {f} frame{}: no frame would be scored; \
                     use a window of at most {}",
                    self.window,
                    if f == 1 { "" } else { "s" },
                    f.saturating_sub(1)
                ),
            ));
        }
        Ok(())
    }
}

/// The trailing-window z-score of every value, `z_t = (x_t - m_t) / s_t` with `m_t` and `s_t`
/// the mean and population sd (ddof 0, as `np.std`) of the `window` values before `t`: `None`
/// for the first `window` values. A window of identical values has sd 0 (recognised by its values being
/// equal, not by a sum that may round): then `z = 0` when the value equals them, else
/// `+inf` or `-inf` by the deviation's sign, which any threshold flags, since a value leaving a
/// series that never moved is a change. A NaN anywhere in the window or the value gives NaN
/// (never anomalous).
///
/// ```
/// let z = einmix_image::trailing_z_scores(&[1.0, 3.0, 1.0, 3.0, 5.0, 3.0], 4);
/// assert_eq!(z[..4], [None; 4]);
/// assert_eq!(z[4], Some(3.0)); // (5 - 2) / 1
/// assert_eq!(z[5], Some(0.0)); // window 3, 1, 3, 5: mean 3
/// assert_eq!(einmix_image::trailing_z_scores(&[2.0, 2.0, 2.5], 2)[2], Some(f64::INFINITY));
/// ```
pub fn trailing_z_scores(values: &[f64], window: usize) -> Vec<Option<f64>> {
    (0..values.len())
        .map(|t| {
            if t < window || window == 0 {
                return None;
            }
            let past = &values[t - window..t];
            let x = values[t];
            if past.iter().chain([&x]).any(|v| v.is_nan()) {
                return Some(f64::NAN);
            }
            if past.iter().all(|&v| v == past[0]) {
                let deviation = x - past[0];
                return Some(if deviation == 0.0 { 0.0 } else { f64::INFINITY.copysign(deviation) });
            }
            let n = window as f64;
            let mean = past.iter().sum::<f64>() / n;
            let sd = (past.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            Some((x - mean) / sd)
        })
        .collect()
}

/// The temporal analysis of one track: a statistic's series, its z-scores and the verdicts.
#[derive(Debug, Clone, PartialEq)]
pub struct TemporalAnomalies {
    /// The options it ran with.
    pub options: AnomalyOptions,
    /// Each frame's index in the input file, `(F,)`.
    pub frames: Vec<i64>,
    /// The statistic per frame, `(F,)`.
    pub values: Vec<f64>,
    /// The z-scores, `(F,)`: `None` for the first `window` frames.
    pub z: Vec<Option<f64>>,
    /// `|z| > threshold`, `(F,)` (false where unscored or NaN).
    pub anomalous: Vec<bool>,
}

impl TemporalAnomalies {
    /// The input-file indices of the anomalous frames, in order.
    pub fn flagged_frames(&self) -> Vec<i64> {
        self.frames.iter().zip(&self.anomalous).filter(|(_, &a)| a).map(|(&f, _)| f).collect()
    }
    /// The frame (input-file index) of the largest `|z|`, and that z (the first such frame on
    /// ties; `None` when no frame was scored or every score is NaN).
    pub fn largest(&self) -> Option<(i64, f64)> {
        let mut best: Option<(i64, f64)> = None;
        for (&frame, z) in self.frames.iter().zip(&self.z) {
            if let Some(z) = z.filter(|z| !z.is_nan()) {
                if best.is_none_or(|(_, b)| z.abs() > b.abs()) {
                    best = Some((frame, z));
                }
            }
        }
        best
    }
}

/// Scores `options.statistic` along the track: an error when the window is not shorter than
/// the track (nothing would be scored) or an option is out of range.
pub fn temporal_anomalies(data: &TrackData, options: &AnomalyOptions) -> Result<TemporalAnomalies> {
    options.check(data)?;
    let values = data.series(options.statistic);
    let z = trailing_z_scores(&values, options.window);
    let anomalous = z.iter().map(|z| z.is_some_and(|z| z.abs() > options.threshold)).collect();
    Ok(TemporalAnomalies { options: *options, frames: data.frames().to_vec(), values, z, anomalous })
}

/// `anomalies.csv`: `frame,statistic,value,z,anomalous`, one line per frame; `z` empty where
/// unscored (`inf`/`-inf` for a change out of a constant window), `anomalous` `true`/`false`.
pub fn anomalies_csv(anomalies: &TemporalAnomalies) -> String {
    let mut out = String::from("frame,statistic,value,z,anomalous\n");
    let name = anomalies.options.statistic.name();
    for (t, &frame) in anomalies.frames.iter().enumerate() {
        let z = anomalies.z[t].map_or(String::new(), |z| z.to_string());
        let _ = writeln!(out, "{frame},{name},{},{z},{}", anomalies.values[t], anomalies.anomalous[t]);
    }
    out
}

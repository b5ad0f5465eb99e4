//! A run's checkpoint: where it stands (the next frame, how much of each file is complete, the
//! tracker's state) and what made it (the settings, the input's geometry and two frames'
//! fingerprints), written atomically every few seconds or frames.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::ArrayView3;
use serde::{Deserialize, Serialize};

use super::files::{write_atomic, Lengths};
use crate::error::{Error, Result};
use crate::track::{Init, TrackOptions, TrackerState};

/// The checkpoint file's format version.
const FORMAT: u32 = 1;

/// Settings added since checkpoints of [`FORMAT`] were first written, with the value every
/// run before them had: a checkpoint without one was made with that value, and resumes.
const LATER_SETTINGS: [(&str, &str); 1] = [("covariance_type", "full")];

/// What the frames came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Input {
    pub source: String,
    pub frame_shape: [usize; 3],
    pub volume: bool,
    /// Fingerprint of the first frame's pixels.
    pub first_frame: String,
}

/// A run's state after its last completed frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    pub format: u32,
    pub settings: BTreeMap<String, String>,
    pub input: Input,
    /// Position in the selection of the next frame to fit.
    pub next: usize,
    /// Fingerprint of the last completed frame's pixels.
    pub last_frame: Option<String>,
    pub lengths: Lengths,
    pub tracker: Option<TrackerState>,
    /// Frames whose EM did not converge, and milliseconds spent, so far.
    pub not_converged: usize,
    pub elapsed_ms: f64,
}

/// FNV-1a over the pixels' bits: a stable fingerprint (the standard library's hasher may
/// change between Rust releases, and a checkpoint outlives a build).
pub(crate) fn fingerprint(pixels: ArrayView3<f32>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in pixels.iter() {
        for b in v.to_bits().to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The settings that shape a track's numbers, by name; `n_threads` is not one (results do
/// not depend on it). The destructuring has no `..`, so a new option cannot be forgotten here.
pub(crate) fn settings(options: &TrackOptions) -> BTreeMap<String, String> {
    let TrackOptions {
        floor,
        background,
        pixel_size,
        voxel_size,
        init,
        init_size,
        covariance_type,
        tol,
        max_iter,
        reg_covar,
        n_threads: _,
        weight_floor,
        eigen_floor,
        reseed,
        metric,
        laplacian,
        online,
        bayesian,
        weight_concentration_prior,
    } = options;
    let init = match init {
        Init::Peaks(p) => format!("{p:?}"),
        Init::KMeansPlusPlus { k, seed } => format!("k-means++ K={k} seed={seed}"),
    };
    let pairs = [
        ("floor", format!("{floor:?}")),
        ("background", format!("{background:?}")),
        ("pixel_size", format!("{pixel_size:?}")),
        ("voxel_size", format!("{voxel_size:?}")),
        ("init", init),
        ("init_size", format!("{init_size:?}")),
        ("covariance_type", format!("{covariance_type}")),
        ("tol", format!("{tol:?}")),
        ("max_iter", format!("{max_iter:?}")),
        ("reg_covar", format!("{reg_covar:?}")),
        ("weight_floor", format!("{weight_floor:?}")),
        ("eigen_floor", format!("{eigen_floor:?}")),
        ("reseed", format!("{reseed:?}")),
        ("metric", format!("{metric}")),
        ("laplacian", format!("{laplacian:?}")),
        ("online", format!("{online:?}")),
        ("bayesian", format!("{bayesian:?}")),
        ("weight_concentration_prior", format!("{weight_concentration_prior:?}")),
    ];
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The checkpoint file of track `name` in `dir`.
pub(crate) fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.checkpoint.json"))
}

impl Checkpoint {
    /// Writes the checkpoint atomically.
    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self).expect("a checkpoint serialises");
        write_atomic(path, text.as_bytes())
    }

    /// Reads a checkpoint.
    pub(crate) fn load(path: &Path) -> Result<Checkpoint> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let checkpoint: Checkpoint = serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
            problem: format!("{} is not an einmix checkpoint: {e}", path.display()),
        })?;
        if checkpoint.format != FORMAT {
            return Err(Error::Checkpoint {
                problem: format!(
                    "{} has format {}, this einmix writes format {FORMAT}",
                    path.display(),
                    checkpoint.format
                ),
            });
        }
        Ok(checkpoint)
    }

    /// A fresh run's checkpoint before its first frame.
    pub(crate) fn new(settings: BTreeMap<String, String>, input: Input) -> Checkpoint {
        Checkpoint {
            format: FORMAT,
            settings,
            input,
            next: 0,
            last_frame: None,
            lengths: Lengths::default(),
            tracker: None,
            not_converged: 0,
            elapsed_ms: 0.0,
        }
    }

    /// An error naming every setting and input property that differs between this checkpoint
    /// and the run asking to continue it.
    pub(crate) fn check(&self, settings: &BTreeMap<String, String>, input: &Input) -> Result<()> {
        let mut differences = Vec::new();
        for key in self.settings.keys().chain(settings.keys().filter(|k| !self.settings.contains_key(*k))) {
            let earlier = LATER_SETTINGS.iter().find(|(name, _)| name == key).map(|(_, v)| v.to_string());
            let (was, now) = (self.settings.get(key).or(earlier.as_ref()), settings.get(key));
            if was != now {
                let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "(not set)".into());
                differences.push(format!("option {key}: {} in the checkpoint, {} now", show(was), show(now)));
            }
        }
        let i = &self.input;
        if i.source != input.source {
            differences.push(format!("input: {} in the checkpoint, {} now", i.source, input.source));
        }
        if (i.frame_shape, i.volume) != (input.frame_shape, input.volume) {
            differences.push(format!(
                "frame shape: {:?}{} in the checkpoint, {:?}{} now",
                i.frame_shape,
                if i.volume { " (volumes)" } else { "" },
                input.frame_shape,
                if input.volume { " (volumes)" } else { "" }
            ));
        } else if i.first_frame != input.first_frame {
            differences
                .push("input: its first frame's pixels differ from the checkpoint's (another video?)".into());
        }
        if differences.is_empty() {
            return Ok(());
        }
        Err(Error::Checkpoint {
            problem: format!("the checkpoint was made by another run: {}", differences.join("; ")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Input {
        Input { source: "video.tif".into(), frame_shape: [1, 8, 8], volume: false, first_frame: "0".into() }
    }

    #[test]
    fn a_checkpoint_from_before_a_later_setting_resumes_with_its_earlier_value() {
        let now = settings(&TrackOptions::default());
        assert_eq!(now["covariance_type"], "full");
        let mut before = now.clone();
        before.remove("covariance_type");
        let old = Checkpoint::new(before, input());
        old.check(&now, &input()).unwrap();
        // A run of another kind is refused, naming the setting.
        let mut diag = now.clone();
        diag.insert("covariance_type".into(), "diag".into());
        let err = old.check(&diag, &input()).unwrap_err().to_string();
        assert!(err.contains("option covariance_type: full in the checkpoint, diag now"), "{err}");
    }
}

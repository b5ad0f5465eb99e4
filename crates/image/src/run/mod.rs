//! A track written to disk as it runs: frames streamed from a [`FrameSource`], each frame's
//! results appended to the output folder as it finishes, a checkpoint every few seconds or
//! frames, and `--resume` continuing a run killed at any point (SIGKILL included) from its
//! last checkpoint, bit for bit as if it had not stopped. Memory holds one frame and the
//! tracker, whatever the video's length.
//!
//! ```text
//! OUT/track.npz                 put together from the parts when the run ends or stops
//! OUT/summary.csv, reseeds.csv  a row per frame (re-seeding), appended as frames finish
//! OUT/.track.parts/             each per-frame array's bytes so far (the run's working state)
//! OUT/.track.checkpoint.json    next frame, the parts' lengths, the tracker, settings, input
//! ```
//! A read or fit error at frame `t` stops the run with `t` in the message, after writing the
//! `.npz` of the frames before it and a checkpoint from which `--resume` continues.

mod cells;
mod checkpoint;
mod files;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ndarray::{Array3, ArrayView3};

pub use cells::{track_cells, CellObserver, CellReport, CellsReport, Labels};
use checkpoint::{fingerprint, Checkpoint, Input};
use files::TrackFiles;
pub use files::SERIES_VALUES;

use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::io::frames::FrameSource;
use crate::stack::Mask;
use crate::track::{fit_pixels, tracker_for, FrameFit, TrackOptions, Tracker};

/// Where and how a run writes (defaults in brackets).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// The output folder (created if missing).
    pub output: PathBuf,
    /// The `.npz`'s name without extension [`track`].
    pub name: String,
    /// Continue the run whose checkpoint is in `output` [false].
    pub resume: bool,
    /// Start afresh over an earlier run's files [false: refuse].
    pub force: bool,
    /// Checkpoint at least this often [5 s]...
    pub checkpoint_every: Duration,
    /// ...and at least every this many frames [100].
    pub checkpoint_frames: usize,
    /// Settings of the caller's that shape the numbers (how the file was read, say), checked
    /// on resume beside the tracking options.
    pub settings: BTreeMap<String, String>,
    /// Leave the checkpoint of a complete run for the caller to remove with
    /// [`RunOptions::finish`] once its own outputs (a picture of the whole run, say) are
    /// written [false]: killed before that, `resume` finds the run complete and writes them.
    pub keep_checkpoint: bool,
}

impl RunOptions {
    /// A fresh run into `output`, named `track`.
    pub fn new(output: impl Into<PathBuf>) -> RunOptions {
        RunOptions {
            output: output.into(),
            name: "track".into(),
            resume: false,
            force: false,
            checkpoint_every: Duration::from_secs(5),
            checkpoint_frames: 100,
            settings: BTreeMap::new(),
            keep_checkpoint: false,
        }
    }

    /// An error when `output` holds an unfinished run (its checkpoint) and this run neither
    /// resumes it nor forces a fresh start: a caller checks this before its own checks of the
    /// files, so that the message says how to continue.
    pub fn refuse_unfinished(&self) -> Result<()> {
        let checkpoint = checkpoint::path(&self.output, &self.name);
        if self.resume || self.force || !checkpoint.exists() {
            return Ok(());
        }
        Err(Error::Checkpoint {
            problem: format!(
                "{} holds an unfinished run: continue it with --resume (Python: resume=True), or start over with --force",
                checkpoint.display()
            ),
        })
    }

    /// Removes a complete run's checkpoint, then its parts (in that order: killed between the
    /// two, the run is complete and a stale parts folder is all that is left).
    pub fn finish(&self) -> Result<()> {
        let checkpoint = checkpoint::path(&self.output, &self.name);
        if checkpoint.exists() {
            std::fs::remove_file(&checkpoint).map_err(|e| Error::io(&checkpoint, e))?;
        }
        let parts = TrackFiles::new(&self.output, &self.name).parts_dir();
        if parts.exists() {
            std::fs::remove_dir_all(&parts).map_err(|e| Error::io(&parts, e))?;
        }
        Ok(())
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Frames in the track now (those of earlier runs it resumed included).
    pub n_frames: usize,
    /// Frames in the selection.
    pub total_frames: usize,
    /// The position it resumed from, if it did.
    pub resumed_at: Option<usize>,
    /// Whether every frame is done (false after the observer stopped the run).
    pub complete: bool,
    /// `K`.
    pub n_components: usize,
    /// The coordinates' grid.
    pub grid: Grid,
    /// Frames whose EM did not converge within `max_iter`.
    pub not_converged: usize,
    /// Components re-seeded.
    pub n_reseeds: usize,
    /// Milliseconds of fitting, over all runs of the track.
    pub elapsed_ms: f64,
    /// Per frame: frame, mean distance, mean nearest distance, algebraic connectivity,
    /// re-seeded (1) or not (0).
    pub series: Vec<[f64; SERIES_VALUES]>,
}

/// A fingerprint of a mask, for the settings a checkpoint checks.
fn mask_fingerprint(mask: &Mask) -> String {
    let pixels = mask.view().mapv(|b| if b { 1.0f32 } else { 0.0 });
    fingerprint(pixels.insert_axis(ndarray::Axis(0)).view())
}

/// Tracks every frame of `source` into `run.output`, as the module describes. `observer` sees
/// each frame's position in the selection, its fit and its pixels as it is done (to draw
/// pictures, report progress); returning false stops the run after that frame, resumable.
pub fn track_to_dir(
    source: &mut dyn FrameSource,
    mask: Option<&Mask>,
    options: &TrackOptions,
    run: &RunOptions,
    observer: &mut dyn FnMut(usize, &FrameFit, ArrayView3<f32>) -> bool,
) -> Result<RunReport> {
    let mut tracker = tracker_for(source, mask, options)?;
    let grid = tracker.grid_for(source.is_volume());
    let mut settings = checkpoint::settings(tracker.options());
    settings.extend(run.settings.clone());
    if let Some(m) = mask {
        settings.insert("mask".into(), mask_fingerprint(m));
    }
    std::fs::create_dir_all(&run.output).map_err(|e| Error::io(&run.output, e))?;
    let mut files = TrackFiles::new(&run.output, &run.name);
    let checkpoint_path = checkpoint::path(&run.output, &run.name);
    let read = |source: &mut dyn FrameSource, i: usize| {
        let frame = source.source_frame(i);
        source.read_frame(i).map_err(|e| Error::Frame { frame, source: Box::new(e) })
    };
    let first = read(source, 0)?;
    let (z, h, w) = source.frame_shape();
    let input = Input {
        source: source.describe(),
        frame_shape: [z, h, w],
        volume: source.is_volume(),
        first_frame: fingerprint(first.view()),
    };
    let mut state = if run.resume {
        if !checkpoint_path.exists() {
            let problem = if files.npz().exists() {
                format!("{} is complete: a finished run leaves no checkpoint", files.npz().display())
            } else {
                format!("no checkpoint of '{}' in {}", run.name, run.output.display())
            };
            return Err(Error::Checkpoint { problem });
        }
        let state = Checkpoint::load(&checkpoint_path)?;
        state.check(&settings, &input)?;
        if state.next > source.n_frames() {
            return Err(Error::Checkpoint {
                problem: format!(
                    "the checkpoint has {} frames done, but the input now selects {}",
                    state.next,
                    source.n_frames()
                ),
            });
        }
        if let (Some(last), true) = (&state.last_frame, state.next > 0) {
            if fingerprint(read(source, state.next - 1)?.view()) != *last {
                return Err(Error::Checkpoint {
                    problem: format!(
                        "input: frame {} differs from the one the checkpoint fitted (another video?)",
                        source.source_frame(state.next - 1)
                    ),
                });
            }
        }
        files.resume(&state.lengths)?;
        if let Some(t) = &state.tracker {
            tracker.restore(t)?;
        }
        state
    } else {
        run.refuse_unfinished()?;
        if let (false, Some(found)) = (run.force, [files.npz(), files.summary()].iter().find(|p| p.exists()))
        {
            return Err(Error::Checkpoint {
                problem: format!("{} exists: replace it with --force (Python: force=True)", found.display()),
            });
        }
        if run.force {
            // An earlier run's checkpoint and track go before anything new is written, so that
            // a kill now leaves neither a stale checkpoint nor a stale track behind.
            for old in [checkpoint_path.clone(), files.npz()] {
                if old.exists() {
                    std::fs::remove_file(&old).map_err(|e| Error::io(&old, e))?;
                }
            }
        }
        files.start(&grid)?;
        let mut state = Checkpoint::new(settings, input);
        // The files' first lengths (the CSV headers): a kill before the first frame's
        // checkpoint resumes from them.
        state.lengths = files.lengths.clone();
        state.save(&checkpoint_path)?;
        state
    };
    let resumed_at = run.resume.then_some(state.next);
    let mut first = Some(first);
    // The last fitted frame's pixels (their fingerprint goes in the checkpoint; a resumed run
    // that fits nothing keeps the checkpoint's).
    let mut last: Option<Array3<f32>> = None;
    let (mut since, mut frames_since) = (Instant::now(), 0usize);
    let save =
        |files: &mut TrackFiles, state: &mut Checkpoint, tracker: &Tracker, last: &Option<Array3<f32>>| {
            files.flush()?;
            state.lengths = files.lengths.clone();
            state.tracker = Some(tracker.state());
            if let Some(pixels) = last {
                state.last_frame = Some(fingerprint(pixels.view()));
            }
            state.save(&checkpoint_path)
        };
    let mut stopped = false;
    let mut failure = None;
    for position in state.next..source.n_frames() {
        let pixels = match (position, first.take()) {
            (0, Some(p)) => Ok(p),
            _ => read(source, position),
        };
        let frame = source.source_frame(position);
        // A frame that fails may have changed part of the tracker's state; the checkpoint
        // keeps the state after the last frame that succeeded.
        let before = tracker.clone();
        let fit =
            pixels.and_then(|p| Ok((fit_pixels(&mut tracker, frame, source.is_volume(), p.view())?, p)));
        let (fit, pixels) = match fit {
            Ok(done) => done,
            Err(e) => {
                tracker = before;
                failure = Some(e);
                break;
            }
        };
        files.push(&fit)?;
        state.not_converged += usize::from(!fit.converged);
        state.elapsed_ms += fit.elapsed.as_secs_f64() * 1e3;
        let go_on = observer(position, &fit, pixels.view());
        state.next = position + 1;
        last = Some(pixels);
        frames_since += 1;
        if !go_on || frames_since >= run.checkpoint_frames || since.elapsed() >= run.checkpoint_every {
            save(&mut files, &mut state, &tracker, &last)?;
            (since, frames_since) = (Instant::now(), 0);
        }
        if !go_on {
            stopped = true;
            break;
        }
    }
    save(&mut files, &mut state, &tracker, &last)?;
    files.write_npz(tracker.options().metric, tracker.options().pixel_size, &grid)?;
    if let Some(e) = failure {
        return Err(e);
    }
    let complete = !stopped && state.next == source.n_frames();
    let report = RunReport {
        n_frames: state.next,
        total_frames: source.n_frames(),
        resumed_at,
        complete,
        n_components: files.lengths.shape.map_or(0, |s| s.0),
        grid,
        not_converged: state.not_converged,
        n_reseeds: files.lengths.r,
        elapsed_ms: state.elapsed_ms,
        series: files.series()?,
    };
    if complete && !run.keep_checkpoint {
        run.finish()?;
    }
    Ok(report)
}

//! Every cell of a label image in one run: each labelled cell tracked as its own time-lapse
//! into `OUT/cell_<label>/` (the same files as a single track), the cells of a frame fitted in
//! parallel over the cores, the video read once. Labels are a 2-D image for every frame (as
//! Cellpose, StarDist or ITK-SNAP write them), a `(T, H, W)` stack whose labels move with the
//! cells (label = cell identity), or `(Z, Y, X)` / `(T, Z, Y, X)` for volumes. A cell may
//! appear after the first frame or vanish before the last: its track covers the frames where
//! its label is present (its `frames` array says which), and a vanishing is reported in
//! `OUT/cells.csv`, not an error. A label that comes back after vanishing continues its track
//! from its last model (its `frames` array shows the gap; `vanished_at` is the first one). One
//! checkpoint holds every cell's state.
//!
//! A cell's fit sees only its own pixels: its 2-D footprint is the tracker's mask (so the
//! learned floor's box is the cell's), and with a 3-D label the voxels of other labels in that
//! footprint are zeroed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use ndarray::{Array2, Array3, ArrayView3, Axis, Zip};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::checkpoint::{self, fingerprint, Checkpoint, Input};
use super::files::{write_atomic, Lengths, TrackFiles};
use super::RunOptions;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::io::frames::FrameSource;
use crate::stack::Mask;
use crate::track::{fit_pixels, FrameFit, TrackOptions, Tracker};

/// The cells' labels: one image for every frame, or a stack read with the frames.
pub enum Labels<'a> {
    /// One label image `(1, H, W)` or label volume `(Z, H, W)` for every frame.
    Fixed(Array3<f32>),
    /// A label image per frame, in step with the video's selection.
    PerFrame(Box<dyn FrameSource + 'a>),
}

impl Labels<'static> {
    /// Opens a label file for the frames of `video` (selected by `frames`): one 2-D label
    /// image (or, for volumes, one `(Z, Y, X)` label volume) serves every frame; a stack of
    /// them, read with the same frame selection, gives each frame its own.
    pub fn open(
        path: &std::path::Path,
        video: &dyn FrameSource,
        frames: crate::FrameRange,
    ) -> Result<Labels<'static>> {
        use crate::stack::{ReadOptions, ZProject};
        let plain = ReadOptions::default();
        let mut labels =
            crate::io::open_frames(path, &ReadOptions { frames: Default::default(), ..plain.clone() });
        if let Ok(single) = labels.as_mut() {
            if single.n_frames() == 1 {
                return Ok(Labels::Fixed(single.read_frame(0)?));
            }
        }
        let (z, _, _) = video.frame_shape();
        let options = if video.is_volume() {
            ReadOptions {
                z_project: ZProject::Volume,
                z_slices: Some(z),
                frames: Default::default(),
                channel: None,
            }
        } else {
            plain
        };
        // One label volume serves every frame, whatever frames are selected; a stack of them
        // is read with the video's selection.
        let mut whole = crate::io::open_frames(path, &options)?;
        if whole.n_frames() == 1 {
            return Ok(Labels::Fixed(whole.read_frame(0)?));
        }
        let labels = crate::io::open_frames(path, &ReadOptions { frames, ..options })?;
        Ok(Labels::PerFrame(Box::new(labels)))
    }
}

/// What became of one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellReport {
    /// Its label.
    pub label: i64,
    /// The first and last frame (indices in the file) where it was tracked.
    pub first_frame: usize,
    /// See `first_frame`.
    pub last_frame: usize,
    /// Frames tracked.
    pub n_frames: usize,
    /// `K`.
    pub n_components: usize,
    /// Median over its frames of the learned floor's share (NaN when a level is subtracted).
    pub median_floor_share: f64,
    /// Milliseconds of fitting.
    pub elapsed_ms: f64,
    /// The first frame after `first_frame` where its label was absent, if it vanished.
    pub vanished_at: Option<usize>,
    /// Why its track stopped early (a frame it could not fit), if it did.
    pub failed: Option<String>,
}

/// What a cells run did.
#[derive(Debug, Clone)]
pub struct CellsReport {
    /// Every cell, by label.
    pub cells: Vec<CellReport>,
    /// Frames of the video done.
    pub n_frames: usize,
    /// The position it resumed from, if it did.
    pub resumed_at: Option<usize>,
    /// Whether every frame is done.
    pub complete: bool,
}

/// One cell's state between frames (and in the checkpoint).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CellState {
    report: CellReport,
    lengths: Lengths,
    tracker: Option<crate::TrackerState>,
    present: bool,
}

/// The checkpoint of a cells run: the run's, and each cell's.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CellsCheckpoint {
    run: Checkpoint,
    cells: BTreeMap<i64, CellState>,
}

/// A cell while the run goes on.
struct Cell {
    state: CellState,
    tracker: Tracker,
    files: TrackFiles,
}

fn labels_error(path: &str, problem: String) -> Error {
    Error::Labels { path: PathBuf::from(path), problem }
}

/// The labels present in `labels` (integers; an error names the first value that is not).
fn labels_present(labels: ArrayView3<f32>, name: &str) -> Result<Vec<i64>> {
    let mut seen = std::collections::BTreeSet::new();
    for ((z, r, c), &v) in labels.indexed_iter() {
        if v != v.trunc() || !v.is_finite() {
            return Err(labels_error(
                name,
                format!("labels must be integers, but (z {z}, row {r}, col {c}) holds {v}"),
            ));
        }
        if v != 0.0 {
            seen.insert(v as i64);
        }
    }
    Ok(seen.into_iter().collect())
}

/// Cell `label`'s footprint (its mask) and, for a label volume, the frame with every voxel
/// outside the cell zeroed.
fn cell_view(labels: ArrayView3<f32>, pixels: ArrayView3<f32>, label: i64) -> (Mask, Option<Array3<f32>>) {
    let l = label as f32;
    let inside: Array2<bool> = labels.map_axis(Axis(0), |column| column.iter().any(|&v| v == l));
    if labels.dim().0 == 1 {
        return (Mask::from_bools(inside), None);
    }
    let mut own = pixels.to_owned();
    Zip::from(&mut own).and(labels).for_each(|p, &v| {
        if v != l {
            *p = 0.0;
        }
    });
    (Mask::from_bools(inside), Some(own))
}

/// Sees each cell's frame as it is done: label, position in the selection, fit, pixels;
/// returns false to stop the run after the frame.
pub type CellObserver<'a> = dyn Fn(i64, usize, &FrameFit, ArrayView3<f32>) -> bool + Sync + 'a;

/// Tracks every labelled cell of `source` into `run.output/cell_<label>/`, as the module
/// describes; `observer` sees each cell's frame as it is done (label, position in the
/// selection, fit, pixels) and returns false to stop after the frame.
pub fn track_cells(
    source: &mut dyn FrameSource,
    mut labels: Labels<'_>,
    labels_name: &str,
    options: &TrackOptions,
    run: &RunOptions,
    observer: &CellObserver<'_>,
) -> Result<CellsReport> {
    let (z, h, w) = source.frame_shape();
    let volume = source.is_volume();
    let label_shape = match &labels {
        Labels::Fixed(l) => l.dim(),
        Labels::PerFrame(s) => {
            if s.n_frames() != source.n_frames() {
                return Err(labels_error(
                    labels_name,
                    format!("{} label frames for a video of {} frames", s.n_frames(), source.n_frames()),
                ));
            }
            s.frame_shape()
        }
    };
    if (label_shape.1, label_shape.2) != (h, w) || (label_shape.0 != 1 && label_shape.0 != z) {
        return Err(labels_error(
            labels_name,
            format!("labels of shape {label_shape:?} (Z, H, W) do not fit frames of shape {:?}", (z, h, w)),
        ));
    }
    if let Labels::Fixed(l) = &labels {
        if labels_present(l.view(), labels_name)?.is_empty() {
            return Err(labels_error(labels_name, "the label image has no labels (every pixel is 0)".into()));
        }
    }
    let mut cell_options = options.clone();
    if volume && cell_options.voxel_size.is_none() {
        cell_options.voxel_size = source.voxel_size();
    }
    // Cells run side by side, one thread each (a fit's numbers do not depend on its threads).
    let threads = options.n_threads.unwrap_or_else(rayon::current_num_threads).max(1);
    cell_options.n_threads = Some(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| {
        Error::io(&run.output, std::io::Error::other(format!("cannot start the cells' threads: {e}")))
    })?;
    let probe = Tracker::new(cell_options.clone(), None)?;
    let grid: Grid = probe.grid_for(volume);
    let mut settings = checkpoint::settings(&cell_options);
    settings.extend(run.settings.clone());
    // The labels shape every cell: a resumed run must have the same ones.
    let labels_identity = match &mut labels {
        Labels::Fixed(l) => format!("image {}", fingerprint(l.view())),
        Labels::PerFrame(s) => {
            let first = s.read_frame(0)?;
            format!("stack {} from frame {}", s.describe(), fingerprint(first.view()))
        }
    };
    settings.insert("labels".into(), labels_identity);
    std::fs::create_dir_all(&run.output).map_err(|e| Error::io(&run.output, e))?;
    let checkpoint_path = checkpoint::path(&run.output, "cells");
    let read = |s: &mut dyn FrameSource, i: usize| {
        let frame = s.source_frame(i);
        s.read_frame(i).map_err(|e| Error::Frame { frame, source: Box::new(e) })
    };
    let first = read(source, 0)?;
    let input = Input {
        source: source.describe(),
        frame_shape: [z, h, w],
        volume,
        first_frame: fingerprint(first.view()),
    };
    let cell_dir = |label: i64| run.output.join(format!("cell_{label}"));
    let mut cells: BTreeMap<i64, Cell> = BTreeMap::new();
    let mut state = if run.resume {
        if !checkpoint_path.exists() {
            return Err(Error::Checkpoint {
                problem: format!("no checkpoint of a cells run in {}", run.output.display()),
            });
        }
        let text = std::fs::read_to_string(&checkpoint_path).map_err(|e| Error::io(&checkpoint_path, e))?;
        let saved: CellsCheckpoint = serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
            problem: format!("{} is not an einmix cells checkpoint: {e}", checkpoint_path.display()),
        })?;
        saved.run.check(&settings, &input)?;
        if saved.run.next > source.n_frames() {
            return Err(Error::Checkpoint {
                problem: format!(
                    "the checkpoint has {} frames done, but the input now selects {}",
                    saved.run.next,
                    source.n_frames()
                ),
            });
        }
        for (label, cell) in saved.cells {
            let mut files = TrackFiles::new(&cell_dir(label), "track");
            files.resume(&cell.lengths)?;
            let mut tracker = Tracker::new(cell_options.clone(), None)?;
            if let Some(t) = &cell.tracker {
                tracker.restore(t)?;
            }
            cells.insert(label, Cell { state: cell, tracker, files });
        }
        saved.run
    } else {
        let listed = run.output.join("cells.csv");
        if !run.force && listed.exists() && !checkpoint_path.exists() {
            return Err(Error::Checkpoint {
                problem: format!(
                    "{} exists: replace the cells with --force (Python: force=True)",
                    listed.display()
                ),
            });
        }
        if !run.force && checkpoint_path.exists() {
            return Err(Error::Checkpoint {
                problem: format!(
                    "{} holds an unfinished cells run: continue it with --resume (Python: resume=True), or start \
                     over with --force",
                    run.output.display()
                ),
            });
        }
        if run.force && checkpoint_path.exists() {
            std::fs::remove_file(&checkpoint_path).map_err(|e| Error::io(&checkpoint_path, e))?;
        }
        Checkpoint::new(settings, input)
    };
    let resumed_at = run.resume.then_some(state.next);
    let mut first = Some(first);
    let save = |cells: &mut BTreeMap<i64, Cell>, state: &Checkpoint| -> Result<()> {
        let mut saved = BTreeMap::new();
        for (label, cell) in cells.iter_mut() {
            cell.files.flush()?;
            cell.state.lengths = cell.files.lengths.clone();
            cell.state.tracker = Some(cell.tracker.state());
            saved.insert(*label, cell.state.clone());
        }
        let text = serde_json::to_string(&CellsCheckpoint { run: state.clone(), cells: saved })
            .expect("a checkpoint serialises");
        write_atomic(&checkpoint_path, text.as_bytes())
    };
    // A checkpoint before the first frame: a kill now leaves a run that resumes from the start.
    if !run.resume {
        save(&mut cells, &state)?;
    }
    let (mut since, mut frames_since) = (Instant::now(), 0usize);
    let mut stopped = false;
    let mut failure = None;
    for position in state.next..source.n_frames() {
        let frame = source.source_frame(position);
        let pixels = match (position, first.take()) {
            (0, Some(p)) => p,
            _ => match read(source, position) {
                Ok(p) => p,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            },
        };
        let frame_labels = match &mut labels {
            Labels::Fixed(l) => l.clone(),
            Labels::PerFrame(s) => match read(s.as_mut(), position) {
                Ok(l) => l,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            },
        };
        let present = match labels_present(frame_labels.view(), labels_name) {
            Ok(p) => p,
            Err(e) => {
                failure = Some(Error::Frame { frame, source: Box::new(e) });
                break;
            }
        };
        for &label in &present {
            if let std::collections::btree_map::Entry::Vacant(slot) = cells.entry(label) {
                let mut files = TrackFiles::new(&cell_dir(label), "track");
                let dir = cell_dir(label);
                std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                files.start(&grid)?;
                let report = CellReport {
                    label,
                    first_frame: frame,
                    last_frame: frame,
                    n_frames: 0,
                    n_components: 0,
                    // Set when the run ends (a checkpoint's JSON has no NaN).
                    median_floor_share: 0.0,
                    elapsed_ms: 0.0,
                    vanished_at: None,
                    failed: None,
                };
                let state = CellState { report, lengths: Lengths::default(), tracker: None, present: false };
                let tracker = Tracker::new(cell_options.clone(), None)?;
                slot.insert(Cell { state, tracker, files });
            }
        }
        let going: Vec<bool> = pool.install(|| {
            cells
                .par_iter_mut()
                .map(|(&label, cell)| -> Result<bool> {
                    let here = present.binary_search(&label).is_ok();
                    let was = std::mem::replace(&mut cell.state.present, here);
                    if !here || cell.state.report.failed.is_some() {
                        if was && cell.state.report.vanished_at.is_none() {
                            cell.state.report.vanished_at = Some(frame);
                        }
                        return Ok(true);
                    }
                    let (mask, own) = cell_view(frame_labels.view(), pixels.view(), label);
                    cell.tracker.set_mask(Some(mask));
                    let view = own.as_ref().map_or(pixels.view(), |o| o.view());
                    match fit_pixels(&mut cell.tracker, frame, volume, view) {
                        Ok(fit) => {
                            cell.files.push(&fit)?;
                            let r = &mut cell.state.report;
                            r.last_frame = frame;
                            r.n_frames += 1;
                            r.n_components = fit.mixture.n_components();
                            r.elapsed_ms += fit.elapsed.as_secs_f64() * 1e3;
                            Ok(observer(label, position, &fit, view))
                        }
                        // One cell that cannot be fitted (no peak in its first frame, say) is
                        // reported and the others go on.
                        Err(e) => {
                            cell.state.report.failed = Some(e.to_string());
                            Ok(true)
                        }
                    }
                })
                .collect::<Result<Vec<bool>>>()
        })?;
        state.next = position + 1;
        frames_since += 1;
        let go_on = going.iter().all(|&g| g);
        if !go_on || frames_since >= run.checkpoint_frames || since.elapsed() >= run.checkpoint_every {
            save(&mut cells, &state)?;
            (since, frames_since) = (Instant::now(), 0);
        }
        if !go_on {
            stopped = true;
            break;
        }
    }
    save(&mut cells, &state)?;
    if cells.is_empty() && failure.is_none() {
        return Err(labels_error(labels_name, "no frame holds a label (every pixel is 0)".into()));
    }
    let mut reports = Vec::new();
    for cell in cells.values_mut() {
        let options = cell.tracker.options();
        cell.files.write_npz(options.metric, options.pixel_size, &grid)?;
        // From the floor-share part: a per-frame list kept in the checkpoint would grow with
        // the video.
        let mut shares: Vec<f64> = cell.files.floor_shares()?.into_iter().filter(|v| v.is_finite()).collect();
        shares.sort_by(f64::total_cmp);
        cell.state.report.median_floor_share = median(&shares);
        reports.push(cell.state.report.clone());
    }
    write_atomic(&run.output.join("cells.csv"), cells_csv(&reports).as_bytes())?;
    if let Some(e) = failure {
        return Err(e);
    }
    let complete = !stopped && state.next == source.n_frames();
    if complete {
        // The checkpoint first, as for one track.
        std::fs::remove_file(&checkpoint_path).map_err(|e| Error::io(&checkpoint_path, e))?;
        for cell in cells.values() {
            cell.files.remove_parts()?;
        }
    }
    Ok(CellsReport { cells: reports, n_frames: state.next, resumed_at, complete })
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    }
}

/// `cells.csv`: a line per cell.
fn cells_csv(cells: &[CellReport]) -> String {
    let mut s = String::from(
        "label,first_frame,last_frame,n_frames,k,median_floor_share,time_s,vanished_at,failed\n",
    );
    for c in cells {
        let share = if c.median_floor_share.is_finite() {
            format!("{:.6}", c.median_floor_share)
        } else {
            String::new()
        };
        let failed = c.failed.as_deref().map_or(String::new(), |f| format!("\"{}\"", f.replace('"', "'")));
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{:.3},{},{}",
            c.label,
            c.first_frame,
            c.last_frame,
            c.n_frames,
            c.n_components,
            share,
            c.elapsed_ms / 1e3,
            c.vanished_at.map_or(String::new(), |v| v.to_string()),
            failed
        );
    }
    s
}

//! `einmix image fit|track|demo`: microscopy images and time-lapses -> per-frame mixtures,
//! component graphs and pictures (the pipeline is the `einmix-image` crate; this is the glue).
//!
//! Every command writes into an output directory: `<name>.npz` (means, covars, weights, precs,
//! distances, the re-seed report, ...), `summary.csv` (one line per frame), `reseeds.csv`,
//! `frame_NNNN.png` (chosen frames with each component's 2-sigma ellipse) and, for
//! time-lapses, `graph.png` (per-frame graph statistics over time).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use einmix_image::Floor;
use einmix_image::{
    open_frames, overlay_rgb, overlay_volume_rgb, read_mask, track_cells, track_to_dir, FrameFit, FrameRange,
    FrameSource, Grid, Init, Labels, Mask, PeakOptions, ReadOptions, RenderOptions, RunOptions, RunReport,
    StackFrames, TrackOptions, EDGE_COLOUR, SERIES_VALUES,
};
use ndarray::ArrayView3;
use plotters::prelude::*;

use crate::args::{Components, DemoImageArgs, ImageArgs, ImageCommand, PipelineArgs, Verbosity};
use crate::error::{CliError, Source};
use crate::io::write;
use crate::plot::{register_font, FONT};
use crate::progress::Reporter;

pub fn run(args: &ImageArgs) -> Result<ExitCode, CliError> {
    match &args.command {
        ImageCommand::Fit(a) => {
            let options =
                a.planes.read_options(FrameRange { start: a.frame, stop: Some(a.frame + 1), step: 1 });
            let run =
                Run { name: "fit", pictures: &[0], online: false, resume: false, labels: None, every: 5.0 };
            run_pipeline(&a.image, &options, &a.pipeline, &run)
        }
        ImageCommand::Track(a) => {
            let options = a.planes.read_options(a.frames);
            let run = Run {
                name: "track",
                pictures: &a.pictures,
                online: a.online,
                resume: a.resume,
                labels: a.labels.as_deref(),
                every: a.checkpoint_every,
            };
            run_pipeline(&a.stack, &options, &a.pipeline, &run)
        }
        ImageCommand::Demo(a) => demo(a),
        ImageCommand::Analyse(_) => unreachable!("cmd::run hands `image analyse` to cmd::analyse"),
    }
}

fn track_options(p: &PipelineArgs) -> TrackOptions {
    let init = match p.k {
        Components::Fixed(k) => Init::KMeansPlusPlus { k, seed: p.random_state },
        Components::Auto => Init::Peaks(PeakOptions {
            min_distance: p.min_distance,
            threshold_abs: p.threshold,
            smooth_sigma: p.smooth,
            exclude_border: !p.include_border,
            num_peaks: None,
        }),
    };
    // The learned floor unless a level is given.
    let floor = if p.background.is_some() { Floor::Subtract } else { Floor::Learned };
    TrackOptions {
        floor,
        background: p.background.unwrap_or_default(),
        pixel_size: p.pixel_size,
        voxel_size: p.voxel_size,
        init,
        init_size: p.init_size,
        covariance_type: p.covariance_type,
        tol: p.tol,
        max_iter: p.max_iter,
        reg_covar: p.reg_covar,
        n_threads: p.threads,
        reseed: !p.no_reseed,
        metric: p.metric,
        bayesian: p.bayesian,
        weight_concentration_prior: p.weight_concentration_prior,
        ..TrackOptions::default()
    }
}

/// What a command asks of the run besides the pipeline's settings.
struct Run<'a> {
    name: &'static str,
    pictures: &'a [usize],
    online: bool,
    resume: bool,
    labels: Option<&'a Path>,
    every: f64,
}

fn run_pipeline(input: &Path, read: &ReadOptions, p: &PipelineArgs, run: &Run) -> Result<ExitCode, CliError> {
    let options = TrackOptions { online: run.online, ..track_options(p) };
    // Fail on a bad option before reading anything.
    einmix_image::Tracker::new(options.clone(), None)?;
    if let (Some(v), false) = (p.voxel_size, read.z_project == einmix_image::ZProject::Volume) {
        return Err(einmix_image::Error::InvalidParameter {
            name: "voxel_size",
            value: format!("{},{},{}", v[0], v[1], v[2]),
            expected: "--voxel-size is for volumes: add --z volume (2-D frames take --pixel-size)",
        }
        .into());
    }
    if !(run.every > 0.0 && run.every.is_finite()) {
        return Err(einmix_image::Error::InvalidParameter {
            name: "checkpoint_every",
            value: run.every.to_string(),
            expected: "--checkpoint-every is a positive number of seconds",
        }
        .into());
    }
    let mut source = open_frames(input, read)?;
    let mask = match &p.mask {
        Some(m) => {
            let mask = read_mask(m, p.mask_label)?;
            let (_, h, w) = source.frame_shape();
            mask.check_shape((h, w))?;
            Some(mask)
        }
        None => None,
    };
    let n = source.n_frames();
    let run_options = RunOptions {
        resume: run.resume,
        force: p.force,
        checkpoint_every: std::time::Duration::from_secs_f64(run.every),
        settings: [
            ("z_project".to_string(), read.z_project.to_string()),
            ("z_slices".to_string(), format!("{:?}", read.z_slices)),
            ("frames".to_string(), format!("{:?}", read.frames)),
            ("channel".to_string(), format!("{:?}", read.channel)),
        ]
        .into_iter()
        .collect(),
        name: run.name.to_string(),
        // The graph picture is drawn after the frames: the run is finished once it is written.
        keep_checkpoint: true,
        ..RunOptions::new(&p.output)
    };
    let look = Look { options: &options, edges: !p.no_edges, volume: source.is_volume() };
    if let Some(labels) = run.labels {
        let labels = Labels::open(labels, &source, read.frames)?;
        return execute_cells(&mut source, labels, run, &run_options, &look, p.verbosity);
    }
    // A fresh run checks its outputs before any work; a resumed one continues its own.
    run_options.refuse_unfinished()?;
    let outputs = Outputs::prepare(&p.output, run.name, n, run.pictures, p.force || run.resume, !run.resume)?;
    execute(&mut source, mask.as_ref(), &run_options, &outputs, &look, p.verbosity, input)
}

fn demo(a: &DemoImageArgs) -> Result<ExitCode, CliError> {
    let stack = einmix_image::demo_stack()?;
    let options = TrackOptions {
        // No threshold: the camera's offset and noise (about 97..122 counts, median 108) are
        // the learned floor, and the peaks stand 5 robust sigmas above it.
        init: Init::Peaks(PeakOptions { min_distance: 6, smooth_sigma: 1.5, ..PeakOptions::default() }),
        init_size: 2.0,
        n_threads: a.threads,
        ..TrackOptions::default()
    };
    let picks = [0, 10, 20, stack.n_frames() - 1];
    let outputs = Outputs::prepare(&a.output, "track", stack.n_frames(), &picks, a.force, true)?;
    let reporter = Reporter::new(a.verbosity, 0, "frames");
    reporter.note(format!(
        "demo: live yeast mitochondria, {} frames of {}x{} (max projection over 17 Z slices; nellie \
         1.0.4 sample data, (c) 2024 A. E. Y. T. Lefebvre, CC BY 4.0)",
        stack.n_frames(),
        stack.shape().0,
        stack.shape().1
    ));
    drop(reporter);
    let run = RunOptions { force: a.force, keep_checkpoint: true, ..RunOptions::new(&a.output) };
    let look = Look { options: &options, edges: true, volume: false };
    execute(&mut StackFrames::new(&stack), None, &run, &outputs, &look, a.verbosity, Path::new("<demo>"))
}

/// The files a run writes, checked before any work.
struct Outputs {
    dir: PathBuf,
    name: String,
    pictures: Vec<usize>,
    force: bool,
}

impl Outputs {
    fn prepare(
        dir: &Path,
        name: &str,
        n_frames: usize,
        pictures: &[usize],
        force: bool,
        check: bool,
    ) -> Result<Outputs, CliError> {
        let source = Source::Path(dir.to_path_buf());
        std::fs::create_dir_all(dir).map_err(|e| CliError::write(&source, e))?;
        let mut picks: Vec<usize> = if pictures.is_empty() {
            vec![0, n_frames / 2, n_frames.saturating_sub(1)]
        } else {
            pictures.iter().copied().filter(|&f| f < n_frames).collect()
        };
        picks.sort_unstable();
        picks.dedup();
        let out = Outputs { dir: dir.to_path_buf(), name: name.to_string(), pictures: picks, force };
        for file in out.files(n_frames).into_iter().filter(|_| check) {
            write::check(&file, force).map_err(|e| CliError::write(&Source::Path(file.clone()), e))?;
        }
        Ok(out)
    }
    fn files(&self, n_frames: usize) -> Vec<PathBuf> {
        let mut v = vec![
            self.path(&format!("{}.npz", self.name)),
            self.path("summary.csv"),
            self.path("reseeds.csv"),
        ];
        v.extend(self.pictures.iter().map(|&f| self.picture(f)));
        if n_frames > 1 {
            v.push(self.path("graph.png"));
        }
        v
    }
    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }
    fn picture(&self, position: usize) -> PathBuf {
        self.path(&format!("frame_{position:04}.png"))
    }
    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), CliError> {
        write::atomic(path, bytes, self.force)
            .map_err(|e| CliError::write(&Source::Path(path.to_path_buf()), e))
    }
}

/// How the pictures look.
struct Look<'a> {
    options: &'a TrackOptions,
    edges: bool,
    volume: bool,
}

impl Look<'_> {
    /// Frame `fit`'s picture (its pixels `(Z, H, W)`) as PNG bytes.
    fn picture(
        &self,
        fit: &FrameFit,
        pixels: ArrayView3<f32>,
        grid: &Grid,
        path: &Path,
    ) -> Result<Vec<u8>, CliError> {
        let options = self.options;
        // The effective components are counted among the Gaussians (a learned floor holds the
        // rest of the weight), and drawn the same way.
        let min_weight = if options.bayesian {
            einmix_image::EFFECTIVE_WEIGHT * (1.0 - fit.floor_share.unwrap_or(0.0))
        } else {
            0.0
        };
        let marked: Vec<usize> = fit.reseeds.iter().map(|r| r.component).collect();
        let distances = self.edges.then(|| fit.distances.clone());
        let render = RenderOptions {
            pixel_size: options.pixel_size,
            min_weight,
            distances,
            ..RenderOptions::default()
        };
        let draw = || {
            if self.volume {
                overlay_volume_rgb(pixels, grid, &fit.mixture, &marked, &render)
            } else {
                overlay_rgb(pixels.index_axis(ndarray::Axis(0), 0), &fit.mixture, &marked, &render)
            }
        };
        let (rgb, w, h) = draw();
        if !(self.edges && fit.mixture.n_components() > 1) {
            return Ok(einmix_image::io::encode_rgb(&rgb, w, h)?);
        }
        let text = format!(
            "graph: each component to its {} nearest ({}); thicker = closer",
            render.neighbours, options.metric
        );
        let mut details = Vec::new();
        if options.bayesian {
            details.push(format!(
                "effective components: {} of {}",
                fit.effective_components,
                fit.mixture.n_components()
            ));
        }
        if let Some(share) = fit.floor_share {
            details.push(format!("floor: {:.1} % of the intensity", 100.0 * share));
        }
        crate::plot::with_edge_legend(rgb, w as u32, h as u32, &text, &details, EDGE_COLOUR)
            .map_err(|message| CliError::Plot { file: Source::Path(path.to_path_buf()), message })
    }
}

/// The status line of a frame.
fn frame_status(f: &FrameFit, volume: bool) -> String {
    format!(
        "frame {}: K={} from {} {}, {} EM iterations, {:.1} ms{}",
        f.frame,
        f.mixture.n_components(),
        f.n_points,
        if volume { "voxels" } else { "pixels" },
        f.n_iter,
        f.elapsed.as_secs_f64() * 1e3,
        if f.reseeds.is_empty() { String::new() } else { format!(", {} re-seeded", f.reseeds.len()) }
    )
}

fn execute(
    source: &mut dyn FrameSource,
    mask: Option<&Mask>,
    run: &RunOptions,
    outputs: &Outputs,
    look: &Look,
    verbosity: Verbosity,
    input: &Path,
) -> Result<ExitCode, CliError> {
    let n = source.n_frames();
    let reporter = Reporter::new(verbosity, n as u64, "frames");
    let grid = einmix_image::Tracker::new(look.options.clone(), None)?.grid_for(source.is_volume());
    let grid = match (source.is_volume(), look.options.voxel_size, source.voxel_size()) {
        (true, None, Some(v)) => Grid { spacing: v, volume: true },
        _ => grid,
    };
    let mut failed: Option<CliError> = None;
    let result = track_to_dir(source, mask, look.options, run, &mut |position, f, pixels| {
        reporter.step(position as u64 + 1, "track");
        reporter.status(frame_status(f, look.volume));
        for r in &f.reseeds {
            reporter.note(format!(
                "frame {}: component {} {}; re-seeded at (row {:.1}, col {:.1})",
                r.frame,
                r.component,
                r.reason,
                r.position[r.position.len() - 2],
                r.position[r.position.len() - 1]
            ));
        }
        if outputs.pictures.contains(&position) {
            let path = outputs.picture(position);
            match look.picture(f, pixels, &grid, &path).and_then(|png| outputs.write(&path, &png)) {
                Ok(()) => {}
                Err(e) => {
                    failed = Some(e);
                    return false;
                }
            }
        }
        true
    });
    reporter.finish();
    if let Some(e) = failed {
        return Err(e);
    }
    let report = result?;
    if let Some(at) = report.resumed_at {
        reporter.note(format!("resumed at frame position {at} of {n}"));
    }
    if report.not_converged > 0 {
        reporter.warn(format!(
            "EM did not converge within --max-iter on {} frame(s) (see summary.csv)",
            report.not_converged
        ));
    }
    if report.n_frames > 1 {
        let path = outputs.path("graph.png");
        let png = graph_plot(&report, look.options.metric, input)
            .map_err(|message| CliError::Plot { file: Source::Path(path.clone()), message })?;
        outputs.write(&path, &png)?;
    }
    if report.complete {
        run.finish()?;
    }
    reporter.note(format!(
        "{} frame(s), K = {}, {:.1} ms per frame, {} re-seeded; wrote {}",
        report.n_frames,
        report.n_components,
        report.elapsed_ms / report.n_frames.max(1) as f64,
        report.n_reseeds,
        outputs.dir.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// `--labels`: every cell into its own folder, pictures for the chosen frames where the cell
/// is present.
fn execute_cells(
    source: &mut dyn FrameSource,
    labels: Labels,
    run: &Run,
    run_options: &RunOptions,
    look: &Look,
    verbosity: Verbosity,
) -> Result<ExitCode, CliError> {
    let n = source.n_frames();
    let mut picks: Vec<usize> = if run.pictures.is_empty() {
        vec![0, n / 2, n.saturating_sub(1)]
    } else {
        run.pictures.iter().copied().filter(|&f| f < n).collect()
    };
    picks.sort_unstable();
    picks.dedup();
    let reporter = std::sync::Mutex::new(Reporter::new(verbosity, n as u64, "frames"));
    let grid = einmix_image::Tracker::new(look.options.clone(), None)?.grid_for(source.is_volume());
    let failed: std::sync::Mutex<Option<CliError>> = std::sync::Mutex::new(None);
    let name = run.labels.map_or(String::new(), |p| p.display().to_string());
    let result =
        track_cells(source, labels, &name, look.options, run_options, &|label, position, f, pixels| {
            if let Ok(r) = reporter.lock() {
                r.step(position as u64 + 1, "cells");
                r.status(format!("cell {label}: {}", frame_status(f, look.volume)));
            }
            if picks.contains(&position) {
                let path =
                    run_options.output.join(format!("cell_{label}")).join(format!("frame_{position:04}.png"));
                let written = look.picture(f, pixels, &grid, &path).and_then(|png| {
                    write::atomic(&path, &png, true)
                        .map_err(|e| CliError::write(&Source::Path(path.clone()), e))
                });
                if let Err(e) = written {
                    if let Ok(mut slot) = failed.lock() {
                        slot.get_or_insert(e);
                    }
                    return false;
                }
            }
            true
        });
    let reporter = reporter.into_inner().expect("no thread panicked holding the reporter");
    reporter.finish();
    if let Some(e) = failed.into_inner().expect("no thread panicked holding the error") {
        return Err(e);
    }
    let report = result?;
    for cell in &report.cells {
        if let Some(at) = cell.vanished_at {
            reporter.note(format!("cell {}: its label vanished at frame {at}", cell.label));
        }
        if let Some(why) = &cell.failed {
            reporter.warn(format!("cell {}: its track stopped: {why}", cell.label));
        }
    }
    reporter.note(format!(
        "{} cell(s) over {} frame(s); wrote {} (cells.csv, cell_<label>/)",
        report.cells.len(),
        report.n_frames,
        run_options.output.display()
    ));
    Ok(ExitCode::SUCCESS)
}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 540;

/// Per-frame graph statistics over time: mean distance, mean nearest-neighbour distance,
/// algebraic connectivity; re-seedings marked.
fn graph_plot(report: &RunReport, metric: einmix_image::Metric, input: &Path) -> Result<Vec<u8>, String> {
    register_font()?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw_graph(&mut rgb, report, metric, input).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(&rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn draw_graph(
    rgb: &mut [u8],
    report: &RunReport,
    metric: einmix_image::Metric,
    input: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let column =
        |i: usize| -> Vec<f64> { report.series.iter().map(|row: &[f64; SERIES_VALUES]| row[i]).collect() };
    let frames = column(0);
    let series: Vec<(&str, Vec<f64>, RGBColor)> = vec![
        ("mean distance", column(1), RGBColor(0, 114, 178)),
        ("mean nearest-neighbour distance", column(2), RGBColor(213, 94, 0)),
        ("algebraic connectivity (Laplacian lambda_2)", column(3), RGBColor(0, 158, 115)),
    ];
    let y_hi =
        series.iter().flat_map(|s| s.1.iter()).copied().filter(|v| v.is_finite()).fold(0.0, f64::max) * 1.1;
    let (x_lo, x_hi) = (frames[0], frames[frames.len() - 1].max(frames[0] + 1.0));
    let title = format!(
        "{}: K = {} components, {} distance",
        input.file_name().map_or("stack".into(), |s| s.to_string_lossy().into_owned()),
        report.n_components,
        metric
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x_lo..x_hi, 0.0..y_hi.max(1e-6))?;
    chart.configure_mesh().x_desc("frame").y_desc("value").label_style((FONT, 15)).draw()?;
    for (label, values, colour) in &series {
        let points: Vec<(f64, f64)> =
            frames.iter().copied().zip(values.iter().copied()).filter(|(_, v)| v.is_finite()).collect();
        let c = *colour;
        chart
            .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))?
            .label(*label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
    }
    let reseeded: Vec<(f64, f64)> =
        report.series.iter().filter(|row| row[4] > 0.0).map(|row| (row[0], 0.0)).collect();
    let red = RGBColor(204, 0, 0);
    chart
        .draw_series(reseeded.iter().map(|&p| TriangleMarker::new(p, 7, red.filled())))?
        .label("frame with a re-seeded component")
        .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 6, red.filled()));
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::MiddleRight)
        .draw()?;
    root.present()?;
    Ok(())
}

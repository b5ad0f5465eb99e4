//! `einmix image fit|track|demo`: microscopy images and time-lapses -> per-frame mixtures,
//! component graphs and pictures (the pipeline is the `einmix-image` crate; this is the glue).
//!
//! Every command writes into an output directory: `<name>.npz` (means, covars, weights, precs,
//! distances, the re-seed report, ...), `summary.csv` (one line per frame), `reseeds.csv`,
//! `frame_NNNN.png` (chosen frames with each component's 2-sigma ellipse) and, for
//! time-lapses, `graph.png` (per-frame graph statistics over time).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Once;

use einmix_image::{
    overlay_rgb, overlay_volume_rgb, read_mask, read_stack, track, Floor, FrameRange, Init, Mask,
    PeakOptions, ReadOptions, RenderOptions, Stack, Track, TrackOptions, EDGE_COLOUR,
};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::args::{Components, DemoImageArgs, ImageArgs, ImageCommand, PipelineArgs, Verbosity};
use crate::error::{CliError, Source};
use crate::io::write;
use crate::progress::Reporter;

pub fn run(args: &ImageArgs) -> Result<ExitCode, CliError> {
    match &args.command {
        ImageCommand::Fit(a) => {
            let options = ReadOptions {
                z_project: a.z_project,
                z_slices: a.z_slices,
                frames: FrameRange { start: a.frame, stop: Some(a.frame + 1), step: 1 },
                channel: a.channel,
            };
            run_pipeline(&a.image, &options, &a.pipeline, "fit", &[0], false)
        }
        ImageCommand::Track(a) => {
            let options = ReadOptions {
                z_project: a.z_project,
                z_slices: a.z_slices,
                frames: a.frames,
                channel: a.channel,
            };
            run_pipeline(&a.stack, &options, &a.pipeline, "track", &a.pictures, a.online)
        }
        ImageCommand::Demo(a) => demo(a),
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

fn run_pipeline(
    input: &Path,
    read: &ReadOptions,
    p: &PipelineArgs,
    name: &str,
    pictures: &[usize],
    online: bool,
) -> Result<ExitCode, CliError> {
    let options = TrackOptions { online, ..track_options(p) };
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
    let stack = read_stack(input, read)?;
    let mask = match &p.mask {
        Some(m) => {
            let mask = read_mask(m, p.mask_label)?;
            mask.check_shape(stack.shape())?;
            Some(mask)
        }
        None => None,
    };
    let outputs = Outputs::prepare(&p.output, name, stack.n_frames(), pictures, p.force)?;
    execute(&stack, mask.as_ref(), &options, &outputs, p.verbosity, input, !p.no_edges)
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
    let outputs = Outputs::prepare(&a.output, "track", stack.n_frames(), &picks, a.force)?;
    let reporter = Reporter::new(a.verbosity, 0, "frames");
    reporter.note(format!(
        "demo: live yeast mitochondria, {} frames of {}x{} (max projection over 17 Z slices; nellie \
         1.0.4 sample data, (c) 2024 A. E. Y. T. Lefebvre, CC BY 4.0)",
        stack.n_frames(),
        stack.shape().0,
        stack.shape().1
    ));
    drop(reporter);
    execute(&stack, None, &options, &outputs, a.verbosity, Path::new("<demo>"), true)
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
        for file in out.files(n_frames) {
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

fn execute(
    stack: &Stack,
    mask: Option<&Mask>,
    options: &TrackOptions,
    outputs: &Outputs,
    verbosity: Verbosity,
    input: &Path,
    edges: bool,
) -> Result<ExitCode, CliError> {
    let n = stack.n_frames();
    let reporter = Reporter::new(verbosity, n as u64, "frames");
    let mut done = 0u64;
    let result = track(stack, mask, options, &mut |f| {
        done += 1;
        reporter.step(done, "track");
        reporter.status(format!(
            "frame {}: K={} from {} {}, {} EM iterations, {:.1} ms{}",
            f.frame,
            f.mixture.n_components(),
            f.n_points,
            if stack.volume { "voxels" } else { "pixels" },
            f.n_iter,
            f.elapsed.as_secs_f64() * 1e3,
            if f.reseeds.is_empty() { String::new() } else { format!(", {} re-seeded", f.reseeds.len()) }
        ));
    })?;
    reporter.finish();
    for r in result.reseeds() {
        reporter.note(format!(
            "frame {}: component {} {}; re-seeded at (row {:.1}, col {:.1})",
            r.frame, r.component, r.reason, r.position[0], r.position[1]
        ));
    }
    if !result.frames.iter().all(|f| f.converged) {
        let count = result.frames.iter().filter(|f| !f.converged).count();
        reporter.warn(format!("EM did not converge within --max-iter on {count} frame(s) (see summary.csv)"));
    }
    outputs.write(&outputs.path(&format!("{}.npz", outputs.name)), &result.to_npz()?)?;
    outputs.write(&outputs.path("summary.csv"), result.summary_csv().as_bytes())?;
    outputs.write(&outputs.path("reseeds.csv"), result.reseeds_csv().as_bytes())?;
    for &position in &outputs.pictures {
        let f = &result.frames[position];
        // The effective components are counted among the Gaussians (a learned floor holds the
        // rest of the weight), and drawn the same way.
        let min_weight = if options.bayesian {
            einmix_image::EFFECTIVE_WEIGHT * (1.0 - f.floor_share.unwrap_or(0.0))
        } else {
            0.0
        };
        let marked: Vec<usize> = f.reseeds.iter().map(|r| r.component).collect();
        let distances = edges.then(|| f.distances.clone());
        let render = RenderOptions {
            pixel_size: options.pixel_size,
            min_weight,
            distances,
            ..RenderOptions::default()
        };
        let draw = || {
            if stack.volume {
                overlay_volume_rgb(stack.volume(position), &result.grid, &f.mixture, &marked, &render)
            } else {
                overlay_rgb(stack.frame(position).view(), &f.mixture, &marked, &render)
            }
        };
        let png = if edges && f.mixture.n_components() > 1 {
            let (rgb, w, h) = draw();
            let text = format!(
                "graph: each component to its {} nearest ({}); thicker = closer",
                render.neighbours, options.metric
            );
            let mut details = Vec::new();
            if options.bayesian {
                details.push(format!(
                    "effective components: {} of {}",
                    f.effective_components,
                    f.mixture.n_components()
                ));
            }
            if let Some(share) = f.floor_share {
                details.push(format!("floor: {:.1} % of the intensity", 100.0 * share));
            }
            let path = outputs.picture(position);
            crate::plot::with_edge_legend(rgb, w as u32, h as u32, &text, &details, EDGE_COLOUR)
                .map_err(|message| CliError::Plot { file: Source::Path(path), message })?
        } else {
            let (rgb, w, h) = draw();
            einmix_image::io::encode_rgb(&rgb, w, h)?
        };
        outputs.write(&outputs.picture(position), &png)?;
    }
    if n > 1 {
        let path = outputs.path("graph.png");
        let png = graph_plot(&result, input)
            .map_err(|message| CliError::Plot { file: Source::Path(path.clone()), message })?;
        outputs.write(&path, &png)?;
    }
    let k = result.n_components();
    let total_ms: f64 = result.frames.iter().map(|f| f.elapsed.as_secs_f64() * 1e3).sum();
    reporter.note(format!(
        "{} frame(s), K = {k}, {:.1} ms per frame, {} re-seeded; wrote {}",
        n,
        total_ms / n as f64,
        result.reseeds().count(),
        outputs.dir.display()
    ));
    Ok(ExitCode::SUCCESS)
}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 540;
const FONT: &str = "sans-serif";

fn register_font() -> Result<(), String> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "the embedded font could not be loaded".to_string());
    });
    result
}

/// Per-frame graph statistics over time: mean distance, mean nearest-neighbour distance,
/// algebraic connectivity; re-seedings marked.
fn graph_plot(result: &Track, input: &Path) -> Result<Vec<u8>, String> {
    register_font()?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw_graph(&mut rgb, result, input).map_err(|e| e.to_string())?;
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

fn draw_graph(rgb: &mut [u8], result: &Track, input: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let frames: Vec<f64> = result.frames.iter().map(|f| f.frame as f64).collect();
    let series: Vec<(&str, Vec<f64>, RGBColor)> = vec![
        ("mean distance", result.frames.iter().map(|f| f.mean_distance()).collect(), RGBColor(0, 114, 178)),
        (
            "mean nearest-neighbour distance",
            result.frames.iter().map(|f| f.mean_nearest_distance()).collect(),
            RGBColor(213, 94, 0),
        ),
        (
            "algebraic connectivity (Laplacian lambda_2)",
            result.frames.iter().map(|f| f.algebraic_connectivity()).collect(),
            RGBColor(0, 158, 115),
        ),
    ];
    let y_hi =
        series.iter().flat_map(|s| s.1.iter()).copied().filter(|v| v.is_finite()).fold(0.0, f64::max) * 1.1;
    let (x_lo, x_hi) = (frames[0], frames[frames.len() - 1].max(frames[0] + 1.0));
    let title = format!(
        "{}: K = {} components, {} distance",
        input.file_name().map_or("stack".into(), |s| s.to_string_lossy().into_owned()),
        result.n_components(),
        result.metric
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
        result.frames.iter().filter(|f| !f.reseeds.is_empty()).map(|f| (f.frame as f64, 0.0)).collect();
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

//! `einmix image analyse`: a track's analysis over time (the `einmix-image` crate's
//! `analysis`), written as CSV, `.npz` and a picture of the statistic with its anomalies; a
//! folder of cells is analysed cell by cell, with one line per cell in `cells_analysis.csv`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use einmix::{CovarianceType, Mixture};
use einmix_image::{
    analyse, open_frames, overlay_rgb, AnalyseOptions, Analysis, AnomalyOptions, FrameRange, FrameSource,
    ReadOptions, RenderOptions, TrackData,
};
use plotters::prelude::*;

use crate::args::AnalyseArgs;
use crate::error::{CliError, Source};
use crate::io::write;
use crate::plot::{register_font, FONT};
use crate::progress::Reporter;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 540;

pub fn run(a: &AnalyseArgs) -> Result<ExitCode, CliError> {
    let options = AnalyseOptions {
        anomalies: AnomalyOptions { statistic: a.statistic, window: a.window, threshold: a.threshold },
        top_k: a.top_k,
        frame_shape: None,
    };
    let reporter = Reporter::new(a.verbosity, 0, "tracks");
    let source = Source::Path(a.output.clone());
    std::fs::create_dir_all(&a.output).map_err(|e| CliError::write(&source, e))?;
    let listed = a.track.join("cells.csv");
    if a.track.is_dir() && listed.exists() {
        return cells(a, &listed, &options, &reporter);
    }
    let track = if a.track.is_dir() { a.track.join("track.npz") } else { a.track.clone() };
    let analysis = analyse(TrackData::read(&track)?, &options)?;
    write_analysis(&analysis, &a.output, a.force)?;
    if let Some(video) = &a.video {
        pictures(&analysis, video, a)?;
    }
    reporter.note(summary_line(&analysis, &a.output));
    Ok(ExitCode::SUCCESS)
}

/// One line on what was found.
fn summary_line(analysis: &Analysis, out: &Path) -> String {
    let t = &analysis.temporal;
    let largest = t
        .largest()
        .map_or("no frame scored".into(), |(f, z)| format!("largest |z| {:.2} at frame {f}", z.abs()));
    format!(
        "{} frames, K = {}: {} ({}), {} anomalous frame(s); wrote {}",
        analysis.data.n_frames(),
        analysis.data.n_components(),
        t.options.statistic,
        largest,
        t.flagged_frames().len(),
        out.display()
    )
}

fn write_analysis(analysis: &Analysis, out: &Path, force: bool) -> Result<(), CliError> {
    std::fs::create_dir_all(out).map_err(|e| CliError::write(&Source::Path(out.to_path_buf()), e))?;
    let mut files = analysis.files()?;
    let picture = out.join("anomalies.png");
    let png = anomalies_plot(analysis)
        .map_err(|message| CliError::Plot { file: Source::Path(picture.clone()), message })?;
    files.push(("anomalies.png".into(), png));
    // Every file checked before any is written: all or nothing.
    for (name, _) in &files {
        let path = out.join(name);
        write::check(&path, force).map_err(|e| CliError::write(&Source::Path(path.clone()), e))?;
    }
    for (name, bytes) in &files {
        let path = out.join(name);
        write::atomic(&path, bytes, force).map_err(|e| CliError::write(&Source::Path(path.clone()), e))?;
    }
    Ok(())
}

/// A cells folder: each `cell_<label>/track.npz` listed in `cells.csv`; a cell that cannot be
/// analysed (too short for the window, one component) is reported in its line, not fatal.
fn cells(
    a: &AnalyseArgs,
    listed: &Path,
    options: &AnalyseOptions,
    reporter: &Reporter,
) -> Result<ExitCode, CliError> {
    let text = std::fs::read_to_string(listed)
        .map_err(|e| CliError::write(&Source::Path(listed.to_path_buf()), e))?;
    let labels: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect();
    let mut table =
        String::from("label,n_frames,k,statistic,largest_z_frame,largest_z,n_anomalous,top_component,note\n");
    for label in &labels {
        let track: PathBuf = a.track.join(format!("cell_{label}")).join("track.npz");
        let out = a.output.join(format!("cell_{label}"));
        let result = TrackData::read(&track).and_then(|d| analyse(d, options));
        match result {
            Ok(analysis) => {
                write_analysis(&analysis, &out, a.force)?;
                let t = &analysis.temporal;
                let (frame, z) = t
                    .largest()
                    .map_or((String::new(), String::new()), |(f, z)| (f.to_string(), format!("{z:.4}")));
                let top = analysis.spatial.first().map_or(String::new(), |m| m.component.to_string());
                let _ = writeln!(
                    table,
                    "{label},{},{},{},{frame},{z},{},{top},",
                    analysis.data.n_frames(),
                    analysis.data.n_components(),
                    t.options.statistic,
                    t.flagged_frames().len()
                );
            }
            Err(e) => {
                reporter.warn(format!("cell {label}: not analysed: {e}"));
                let _ =
                    writeln!(table, "{label},,,,,,,,\"not analysed: {}\"", e.to_string().replace('"', "'"));
            }
        }
    }
    let path = a.output.join("cells_analysis.csv");
    write::atomic(&path, table.as_bytes(), a.force)
        .map_err(|e| CliError::write(&Source::Path(path.clone()), e))?;
    reporter.note(format!("{} cell(s) analysed; wrote {}", labels.len(), a.output.display()));
    Ok(ExitCode::SUCCESS)
}

/// The chosen frames of `video` with the track's ellipses, the spatial anomalies boxed.
fn pictures(analysis: &Analysis, video: &Path, a: &AnalyseArgs) -> Result<(), CliError> {
    let data = &analysis.data;
    if data.dims() != 2 {
        return Err(einmix_image::Error::InvalidParameter {
            name: "video",
            value: video.display().to_string(),
            expected: "--video draws 2-D tracks (a volume's track has no single frame to draw on)",
        }
        .into());
    }
    let n = data.n_frames();
    let mut picks: Vec<usize> = if a.pictures.is_empty() {
        vec![0, n / 2, n - 1]
    } else {
        a.pictures.iter().copied().filter(|&p| p < n).collect()
    };
    picks.sort_unstable();
    picks.dedup();
    let boxed: Vec<usize> = analysis.spatial.iter().map(|m| m.component).collect();
    let pixel_size = data.grid().spacing[2];
    for position in picks {
        let frame = data.frames()[position] as usize;
        let read = ReadOptions {
            z_project: a.z_project,
            channel: a.channel,
            frames: FrameRange { start: frame, stop: Some(frame + 1), step: 1 },
            ..ReadOptions::default()
        };
        let mut source = open_frames(video, &read)?;
        let pixels = source.read_frame(0)?;
        let (_, h, w) = source.frame_shape();
        let weights = data.weights().row(position).to_owned();
        // The Gaussians' weights (a learned floor holds the rest) as a probability vector.
        let weights = &weights / weights.sum();
        let covariances = data.covariances().index_axis(ndarray::Axis(0), position).to_owned().into_dyn();
        let mixture = Mixture::from_parameters(
            CovarianceType::Full,
            weights.view(),
            data.means().index_axis(ndarray::Axis(0), position),
            covariances.view(),
        )
        .map_err(|e| einmix_image::Error::Fit { frame, source: e })?;
        let render = RenderOptions { pixel_size, boxed: boxed.clone(), ..RenderOptions::default() };
        let (rgb, cw, ch) = overlay_rgb(pixels.index_axis(ndarray::Axis(0), 0), &mixture, &[], &render);
        let _ = (h, w);
        let png = einmix_image::io::encode_rgb(&rgb, cw, ch)?;
        let path = a.output.join(format!("frame_{position:04}.png"));
        write::atomic(&path, &png, a.force).map_err(|e| CliError::write(&Source::Path(path.clone()), e))?;
    }
    Ok(())
}

/// The statistic over time, the anomalous frames marked.
fn anomalies_plot(analysis: &Analysis) -> Result<Vec<u8>, String> {
    register_font()?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw(&mut rgb, analysis).map_err(|e| e.to_string())?;
    einmix_image::io::encode_rgb(&rgb, WIDTH as usize, HEIGHT as usize).map_err(|e| e.to_string())
}

fn draw(rgb: &mut [u8], analysis: &Analysis) -> Result<(), Box<dyn std::error::Error>> {
    let t = &analysis.temporal;
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let points: Vec<(f64, f64)> =
        t.frames.iter().zip(&t.values).map(|(&f, &v)| (f as f64, v)).filter(|(_, v)| v.is_finite()).collect();
    let (lo, hi) =
        points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let pad = ((hi - lo) * 0.08).max(1e-9);
    let (x0, x1) =
        (t.frames[0] as f64, (*t.frames.last().unwrap_or(&0) as f64).max(t.frames[0] as f64 + 1.0));
    let largest =
        t.largest().map_or(String::new(), |(f, z)| format!("; largest |z| {:.1} at frame {f}", z.abs()));
    let title = format!(
        "{}: {} (window {}, |z| > {}){largest}",
        analysis.data.path().file_name().map_or("track".into(), |s| s.to_string_lossy().into_owned()),
        t.options.statistic,
        t.options.window,
        t.options.threshold
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(72)
        .build_cartesian_2d(x0..x1, (lo - pad)..(hi + pad))?;
    chart
        .configure_mesh()
        .x_desc("frame")
        .y_desc(t.options.statistic.name())
        .label_style((FONT, 15))
        .draw()?;
    let blue = RGBColor(0, 114, 178);
    chart
        .draw_series(LineSeries::new(points.clone(), blue.stroke_width(2)))?
        .label(t.options.statistic.name())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    // The frames before the first scored one are shaded: they have no z-score.
    if let Some(&first) = t.frames.get(t.options.window) {
        let grey = RGBColor(220, 220, 220);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, lo - pad), (first as f64, hi + pad)],
                grey.mix(0.5).filled(),
            )))?
            .label(format!("first {} frames: the window, not scored", t.options.window))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], grey.filled()));
        chart.draw_series(LineSeries::new(points.clone(), blue.stroke_width(2)))?;
    }
    let red = RGBColor(204, 0, 0);
    let flagged: Vec<(f64, f64)> = t
        .frames
        .iter()
        .zip(&t.values)
        .zip(&t.anomalous)
        .filter(|(_, &a)| a)
        .map(|((&f, &v), _)| (f as f64, v))
        .collect();
    chart
        .draw_series(flagged.iter().map(|&p| Circle::new(p, 6, red.filled())))?
        .label("anomalous frame")
        .legend(move |(x, y)| Circle::new((x + 10, y), 5, red.filled()));
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerLeft)
        .draw()?;
    root.present()?;
    Ok(())
}

//! The PNG of `einmix select`: the criterion against K, one line per covariance type, the
//! chosen model circled.
//!
//! Drawn by plotters into an RGB buffer and encoded by `png`, so the picture is in memory
//! whole before it is written (atomically, like every output). Text uses DejaVu Sans, embedded
//! in the binary, so the plot looks the same on a machine with no fonts installed.

use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

/// One line of the plot.
pub struct Series {
    /// The legend text (the covariance type).
    pub label: String,
    /// `(K, criterion)` for every K that was fitted.
    pub points: Vec<(usize, f64)>,
}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 600;
/// The embedded font's family name, for every picture the CLI draws.
pub(crate) const FONT: &str = "sans-serif";

/// Colours that stay apart for the four covariance types (Okabe-Ito, colour-blind safe).
const COLOURS: [RGBColor; 4] =
    [RGBColor(0, 114, 178), RGBColor(213, 94, 0), RGBColor(0, 158, 115), RGBColor(204, 121, 167)];

/// Registers the embedded font once (plotters draws text with it).
pub(crate) fn register_font() -> Result<(), String> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "the embedded font could not be loaded".to_string());
    });
    result
}

/// The plot as PNG bytes. `best` is (series index, K, value) of the chosen model.
pub fn criterion(name: &str, series: &[Series], best: (usize, usize, f64)) -> Result<Vec<u8>, String> {
    register_font()?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw(&mut rgb, name, series, best).map_err(|e| e.to_string())?;
    encode_png(&rgb)
}

fn draw(
    rgb: &mut [u8],
    name: &str,
    series: &[Series],
    (best_series, best_k, best_value): (usize, usize, f64),
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let all = series.iter().flat_map(|s| s.points.iter());
    let (k_lo, k_hi) = all.clone().fold((usize::MAX, 0), |(lo, hi), &(k, _)| (lo.min(k), hi.max(k)));
    let (y_lo, y_hi) =
        all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, v)| (lo.min(v), hi.max(v)));
    let pad = ((y_hi - y_lo) * 0.08).max(y_lo.abs() * 1e-3).max(1e-9);
    let x_range = (k_lo as f64 - 0.4)..(k_hi as f64 + 0.4);
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{name} against the number of components (lower is better)"), (FONT, 24))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(100)
        .build_cartesian_2d(x_range, (y_lo - pad)..(y_hi + pad))?;
    chart
        .configure_mesh()
        .x_desc("K (number of components)")
        .y_desc(name)
        .x_labels((k_hi - k_lo + 1).min(25))
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-6 {
                format!("{}", v.round())
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<(f64, f64)> = s.points.iter().map(|&(k, v)| (k as f64, v)).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(3)))?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled())))?;
    }
    let colour = COLOURS[best_series % COLOURS.len()];
    let at = (best_k as f64, best_value);
    let label = format!("best: K={best_k}, {}", series[best_series].label);
    chart.draw_series(std::iter::once(
        EmptyElement::at(at)
            + Circle::new((0, 0), 11, BLACK.stroke_width(2))
            + Text::new(label, (14, 12), TextStyle::from((FONT, 18)).color(&colour)),
    ))?;
    chart
        .configure_series_labels()
        .label_font((FONT, 18))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    root.present()?;
    Ok(())
}

/// A frame picture (`rgb`, `width` x `height`) with the graph's legend in its top-left corner:
/// a sample edge and `text`, then the frame's `details` a line each (the effective
/// components, the floor's share), on a translucent box, as PNG bytes.
pub fn with_edge_legend(
    mut rgb: Vec<u8>,
    width: u32,
    height: u32,
    text: &str,
    details: &[String],
    edge: [u8; 3],
) -> Result<Vec<u8>, String> {
    register_font()?;
    draw_legend(&mut rgb, (width, height), text, details, edge).map_err(|e| e.to_string())?;
    encode_rgb_png(&rgb, width, height)
}

fn draw_legend(
    rgb: &mut [u8],
    size: (u32, u32),
    text: &str,
    details: &[String],
    edge: [u8; 3],
) -> Result<(), Box<dyn std::error::Error>> {
    const LINE: i32 = 20;
    let root = BitMapBackend::with_buffer(rgb, size).into_drawing_area();
    let longest = details.iter().map(|d| d.len() as i32 * 8 + 16).fold(text.len() as i32 * 8 + 56, i32::max);
    let box_w = longest.min(size.0 as i32 - 8);
    let box_h = 28 + LINE * details.len() as i32;
    root.draw(&Rectangle::new([(6, 6), (6 + box_w, 6 + box_h)], BLACK.mix(0.6).filled()))?;
    let colour = RGBColor(edge[0], edge[1], edge[2]);
    root.draw(&PathElement::new(vec![(14, 20), (42, 20)], colour.stroke_width(3)))?;
    let font = (FONT, 15).into_font().color(&WHITE);
    root.draw(&Text::new(text.to_string(), (50, 11), font.clone()))?;
    for (i, line) in details.iter().enumerate() {
        root.draw(&Text::new(line.clone(), (14, 11 + LINE * (i as i32 + 1)), font.clone()))?;
    }
    root.present()?;
    Ok(())
}

fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, String> {
    encode_rgb_png(rgb, WIDTH, HEIGHT)
}

fn encode_rgb_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(bytes)
}

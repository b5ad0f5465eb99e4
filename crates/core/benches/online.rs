//! Online EM against the batch fit and the warm-start workaround, on a stream.
//!
//! `cargo bench -p einmix --bench online` (add `-- --quick` for 2 repetitions of the timing).
//! For every covariance kind: a stream of 100 batches of 1,000 points from a 7-component,
//! 4-D mixture; held-out log-likelihood per point (20,000 fresh points) of
//! - the batch fit on all 100,000 points,
//! - one pass of `partial_fit` over the batches (default step size),
//! - the workaround users fall back on: a fit warm-started from the previous batch's, per batch;
//!
//! and the gaps to the batch fit. Then the cost of one `partial_fit` step against one EM
//! iteration of the batch kernel on the same 1,000 points, and `docs/images/online.png`:
//! held-out log-likelihood against batches seen.

use std::time::Instant;

use einmix::{datasets, CovarianceType, FitOptions, GaussianMixture, Mixture, OnlineFit};
use ndarray::{concatenate, Array2, Axis};

const K: usize = 7;
const D: usize = 4;
const BATCHES: usize = 100;
const ROWS: usize = 1000;

struct Stream {
    truth: Mixture,
    batches: Vec<Array2<f64>>,
    held_out: Array2<f64>,
}

fn stream(kind: CovarianceType, seed: u64) -> Stream {
    let truth = datasets::random_mixture(kind, K, D, 3.0, seed);
    let batches = (0..BATCHES).map(|b| truth.sample(ROWS, seed * 1000 + b as u64).0).collect::<Vec<_>>();
    // `sample` groups rows by component: shuffle each batch's rows so a batch is a fair draw.
    let batches = batches
        .into_iter()
        .map(|x| {
            let n = x.nrows();
            let order: Vec<usize> = (0..n).map(|i| (i * 7919) % n).collect();
            x.select(Axis(0), &order)
        })
        .collect();
    let held_out = truth.sample(20_000, seed * 1000 + 999).0;
    Stream { truth, batches, held_out }
}

/// Held-out log-likelihood against batches seen, for one kind.
struct Curve {
    kind: CovarianceType,
    /// The batch fit's held-out log-likelihood (the plot's zero).
    batch: f64,
    online: Vec<(usize, f64)>,
    warm: Vec<(usize, f64)>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps = if quick { 2 } else { 5 };
    println!("einmix online EM: {BATCHES} batches of {ROWS} points, K={K}, D={D}; held-out log-likelihood per point (20,000 points)\n");
    println!(
        "| kind | truth | batch fit (100k) | partial_fit, one pass | gap | warm-start per batch | gap |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut curves = Vec::new();
    for (i, kind) in CovarianceType::ALL.into_iter().enumerate() {
        let s = stream(kind, 10 + i as u64);
        let spec = GaussianMixture::new(K).covariance_type(kind).random_state(0).n_init(5);
        let views: Vec<_> = s.batches.iter().map(|b| b.view()).collect();
        let all = concatenate(Axis(0), &views).expect("same width");
        let batch = spec.fit(all.view(), None).expect("batch fit").mixture;
        let score = |m: &Mixture| m.score(s.held_out.view()).expect("score");
        let mut curve = Curve { kind, batch: score(&batch), online: Vec::new(), warm: Vec::new() };
        let mut online: Option<OnlineFit> = None;
        let mut warm = spec.fit(s.batches[0].view(), None).expect("first batch");
        for (b, x) in s.batches.iter().enumerate() {
            online = Some(spec.partial_fit(x.view(), None, online.as_ref()).expect("partial_fit"));
            if b > 0 {
                warm = spec.fit_with(x.view(), None, FitOptions::new().warm_start_from(&warm)).expect("warm");
            }
            if b % 5 == 4 || b < 5 {
                curve.online.push((b + 1, score(&online.as_ref().expect("fitted").mixture)));
                curve.warm.push((b + 1, score(&warm.mixture)));
            }
        }
        let online = online.expect("fitted").mixture;
        let (t, b, o, w) = (score(&s.truth), curve.batch, score(&online), score(&warm.mixture));
        println!("| {kind} | {t:.4} | {b:.4} | {o:.4} | {:.4} | {w:.4} | {:.4} |", b - o, b - w);
        curves.push(curve);
    }

    println!("\n## Cost per batch (1,000 points, K={K}, D={D}, full; medians of {reps}x{BATCHES} batches, 1 thread)\n");
    let s = stream(CovarianceType::Full, 10);
    let spec = GaussianMixture::new(K).random_state(0).n_threads(1);
    let (mut step_ms, mut em_ms) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let mut online: Option<OnlineFit> =
            Some(spec.partial_fit(s.batches[0].view(), None, None).expect("first"));
        for x in &s.batches[1..] {
            let t0 = Instant::now();
            online = Some(spec.partial_fit(x.view(), None, online.as_ref()).expect("step"));
            step_ms.push(t0.elapsed().as_secs_f64() * 1e3);
            let start = &online.as_ref().expect("fitted").mixture;
            let one = spec.clone().max_iter(1).final_labels(false);
            let fit = one
                .fit_with(x.view(), None, FitOptions::new().warm_start(start, f64::NEG_INFINITY))
                .expect("em");
            em_ms.push(fit.info.em_time.as_secs_f64() * 1e3);
        }
    }
    let (step, em) = (median(step_ms), median(em_ms));
    println!("| partial_fit step | one EM iteration (batch kernel, same points) | ratio |");
    println!("|---|---|---|");
    println!("| {step:.3} ms | {em:.3} ms | {:.2}x |", step / em);
    plot(&curves);
}

/// Held-out log-likelihood minus the batch fit's, against batches seen: per kind, online EM
/// (solid) and the warm-start workaround (thin).
fn plot(curves: &[Curve]) {
    use plotters::prelude::*;
    let font = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
    if font.is_err() {
        println!("(no plot: the font could not be loaded)");
        return;
    }
    let (w, h) = (900u32, 520u32);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).expect("fill");
        let mut chart = ChartBuilder::on(&root)
            .caption("held-out log-likelihood minus the batch fit's (grey line: -0.005)", ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..BATCHES as f64, -0.1f64..0.01)
            .expect("chart");
        chart
            .configure_mesh()
            .x_desc("batches of 1,000 points seen")
            .y_desc("nats per point")
            .label_style(("sans-serif", 14))
            .draw()
            .expect("mesh");
        let colours =
            [RGBColor(0, 114, 178), RGBColor(213, 94, 0), RGBColor(0, 158, 115), RGBColor(204, 121, 167)];
        for (curve, colour) in curves.iter().zip(colours) {
            let relative = |points: &[(usize, f64)]| -> Vec<(f64, f64)> {
                points.iter().map(|&(b, v)| (b as f64, (v - curve.batch).max(-0.1))).collect()
            };
            chart
                .draw_series(LineSeries::new(relative(&curve.online), colour.stroke_width(3)))
                .expect("line")
                .label(format!("{}: partial_fit", curve.kind))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3)));
            chart
                .draw_series(LineSeries::new(relative(&curve.warm), colour.mix(0.6).stroke_width(1)))
                .expect("line")
                .label(format!("{}: warm start per batch", curve.kind))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.mix(0.6).stroke_width(1))
                });
        }
        chart
            .draw_series(LineSeries::new([(0.0, -0.005), (BATCHES as f64, -0.005)], BLACK.mix(0.4)))
            .expect("line");
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .expect("legend");
        root.present().expect("present");
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/images/online.png");
    let file = std::fs::File::create(path).expect("create the plot");
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header().and_then(|mut wr| wr.write_image_data(&rgb)).expect("write the plot");
    println!("\nplot: docs/images/online.png");
}

//! The Dirichlet process switching off surplus components: three clusters, ten components
//! offered, fitted with both weight priors; prints the expected weights and draws them to
//! `docs/images/bayesian.png`.
//!
//! `cargo run --release -p einmix --example bayesian`

use einmix::{datasets, BayesianGaussianMixture, CovarianceType, WeightPrior};
use plotters::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let truth = datasets::random_mixture(CovarianceType::Full, 3, 2, 12.0, 4);
    let (x, _) = truth.sample(3000, 5);
    let mut rows = Vec::new();
    for prior in [WeightPrior::DirichletProcess, WeightPrior::DirichletDistribution] {
        for alpha in [1e-3, 1e3] {
            let fit = BayesianGaussianMixture::new(10)
                .weight_prior(prior)
                .weight_concentration_prior(alpha)
                .random_state(0)
                .max_iter(1000)
                .fit(x.view(), None)?;
            let weights = fit.model.mixture.weights().to_vec();
            let (effective, mass) = fit.model.effective_components(0.01);
            println!(
                "{prior}, alpha_0 = {alpha:e}: {effective} effective components ({mass:.4} of the mass), weights {:?}",
                weights.iter().map(|w| (w * 1000.0).round() / 1000.0).collect::<Vec<_>>()
            );
            rows.push((format!("{prior}, alpha_0 = {alpha:e}"), weights));
        }
    }
    plot(&rows)
}

fn plot(rows: &[(String, Vec<f64>)]) -> Result<(), Box<dyn std::error::Error>> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| "the font could not be loaded")?;
    let (w, h) = (900u32, 200 * rows.len() as u32);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        for (area, (title, weights)) in root.split_evenly((rows.len(), 1)).iter().zip(rows) {
            let mut chart = ChartBuilder::on(area)
                .caption(title, ("sans-serif", 16))
                .margin(8)
                .x_label_area_size(28)
                .y_label_area_size(50)
                .build_cartesian_2d(-0.5f64..weights.len() as f64 - 0.5, 0f64..0.6)?;
            chart
                .configure_mesh()
                .x_desc("component")
                .y_desc("weight")
                .label_style(("sans-serif", 12))
                .draw()?;
            let bar = |(k, &v): (usize, &f64)| {
                Rectangle::new([(k as f64 - 0.35, 0.0), (k as f64 + 0.35, v)], RGBColor(0, 114, 178).filled())
            };
            chart.draw_series(weights.iter().enumerate().map(bar))?;
        }
        root.present()?;
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/images/bayesian.png");
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(std::fs::File::create(path)?), w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header()?.write_image_data(&rgb)?;
    println!("plot: docs/images/bayesian.png");
    Ok(())
}

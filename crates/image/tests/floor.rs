//! Story (issue 12): a fluorescence frame is bright structures on a noisy floor. With no
//! threshold to choose, `-k auto` finds the structures (not the noise maxima), the learned
//! floor takes the floor's share of the intensity, and the structures' means and covariances
//! come back; subtracting nothing and thresholding at 0, or fitting without the floor, is
//! measurably worse.

use einmix_image::{noise_level, track, Background, Floor, Init, PeakOptions, Stack, TrackOptions};
use ndarray::{Array2, Array3};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

struct Spot {
    mean: [f64; 2],
    cov: [[f64; 2]; 2],
    photons: f64,
}

const FLOOR: f64 = 20.0;

fn spots() -> Vec<Spot> {
    vec![
        Spot { mean: [30.0, 40.0], cov: [[16.0, 6.0], [6.0, 9.0]], photons: 60_000.0 },
        Spot { mean: [80.0, 110.0], cov: [[9.0, -4.0], [-4.0, 12.0]], photons: 40_000.0 },
        Spot { mean: [40.0, 120.0], cov: [[6.0, 0.0], [0.0, 6.0]], photons: 30_000.0 },
    ]
}

/// The expected image (floor + spots), and one Poisson draw of it.
fn frame(h: usize, w: usize, seed: u64) -> (Array2<f64>, Array2<f32>) {
    let expected = Array2::from_shape_fn((h, w), |(r, c)| {
        FLOOR
            + spots()
                .iter()
                .map(|s| {
                    let [[a, b], [_, d]] = s.cov;
                    let det = a * d - b * b;
                    let (dr, dc) = (r as f64 - s.mean[0], c as f64 - s.mean[1]);
                    let q = (d * dr * dr - 2.0 * b * dr * dc + a * dc * dc) / det;
                    s.photons * (-0.5 * q).exp() / (2.0 * std::f64::consts::PI * det.sqrt())
                })
                .sum::<f64>()
    });
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let image =
        expected.mapv(|lambda| Poisson::new(lambda).expect("a positive rate").sample(&mut rng) as f32);
    (expected, image)
}

fn fit(image: &Array2<f32>, options: &TrackOptions) -> einmix_image::FrameFit {
    let stack = Stack::new(image.clone().insert_axis(ndarray::Axis(0)));
    let mut result = track(&stack, None, options, &mut |_| {}).expect("a fit");
    result.frames.remove(0)
}

/// Largest error of the means (pixels) and of the covariances (relative to each spot's
/// largest entry), matching each spot to the nearest component.
fn errors(f: &einmix_image::FrameFit) -> (f64, f64) {
    let (mut mean_err, mut cov_err) = (0.0f64, 0.0f64);
    let (means, covs) = (f.mixture.means(), f.mixture.covariances());
    for s in spots() {
        let k = (0..f.mixture.n_components())
            .min_by(|&a, &b| {
                let d = |k: usize| (means[[k, 0]] - s.mean[0]).powi(2) + (means[[k, 1]] - s.mean[1]).powi(2);
                d(a).total_cmp(&d(b))
            })
            .expect("a component");
        mean_err = mean_err.max((means[[k, 0]] - s.mean[0]).abs().max((means[[k, 1]] - s.mean[1]).abs()));
        let scale = s.cov.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..2 {
            for j in 0..2 {
                cov_err = cov_err.max((covs[[k, i, j]] - s.cov[i][j]).abs() / scale);
            }
        }
    }
    (mean_err, cov_err)
}

#[test]
fn without_a_threshold_the_spots_and_the_floor_s_share_come_back() {
    let (h, w) = (120, 160);
    let (expected, image) = frame(h, w, 7);
    let floor_share = FLOOR * (h * w) as f64 / expected.sum();
    let options = TrackOptions { n_threads: Some(2), ..TrackOptions::default() };
    assert_eq!(options.floor, Floor::Learned, "the learned floor is the default");
    let learned = fit(&image, &options);
    assert_eq!(learned.mixture.n_components(), 3, "-k auto: one component per spot, none on the noise");
    let share = learned.floor_share.expect("a learned floor");
    assert!((share - floor_share).abs() < 0.01, "floor share {share} vs {floor_share}");
    let (mean_err, cov_err) = errors(&learned);
    // A tenth of a pixel and 5 % (the draw's own noise is a few hundredths and a few percent).
    assert!(mean_err < 0.1 && cov_err < 0.05, "means off by {mean_err} px, covariances by {cov_err}");

    // The old defaults: nothing subtracted, peaks above 0: a component per noise maximum.
    let naive = TrackOptions {
        floor: Floor::Subtract,
        background: Background::Absolute(0.0),
        init: Init::Peaks(PeakOptions { threshold_abs: Some(0.0), ..PeakOptions::default() }),
        n_threads: Some(2),
        ..TrackOptions::default()
    };
    let k_naive = fit(&image, &naive).mixture.n_components();
    assert!(k_naive > 50, "peaks above 0 on a noisy floor: {k_naive} components");

    // The same three spots found, but no floor component: the floor drags every Gaussian wide.
    let no_floor = TrackOptions { floor: Floor::Subtract, n_threads: Some(2), ..TrackOptions::default() };
    let without = fit(&image, &no_floor);
    assert_eq!(without.mixture.n_components(), 3);
    let (bad_mean, bad_cov) = errors(&without);
    eprintln!(
        "learned floor: K 3, share {share:.4} (true {floor_share:.4}), means {mean_err:.3} px, covariances {cov_err:.3}; \
         peaks above 0: K {k_naive}; no floor: means {bad_mean:.3} px, covariances {bad_cov:.3}"
    );
    assert!(bad_cov > 10.0 * cov_err && bad_mean > mean_err, "without the floor: {bad_mean} px, {bad_cov}");
}

#[test]
fn the_noise_level_is_the_floor_s_mean_and_spread() {
    let (_, image) = frame(120, 160, 8);
    let level = noise_level(image.view(), None);
    // Poisson(20): mean 20, sd sqrt(20) = 4.47; the spots cover a few percent of the pixels.
    assert!((level.floor - FLOOR).abs() <= 1.0, "{level:?}");
    assert!((level.sigma - FLOOR.sqrt()).abs() < 0.5, "{level:?}");
    let stack: Array3<f32> = image.insert_axis(ndarray::Axis(0));
    assert_eq!(stack.dim(), (1, 120, 160));
}

/// The variational fit takes the learned floor too: no threshold, the Dirichlet process
/// started from the peaks keeps one component per spot, the floor's share comes back to 1 %,
/// the means to a tenth of a pixel and the covariances to 5 % (the pipeline's Wishart prior is
/// a starting component's size: scikit-learn's default, the frame's extent, pulled them 80 %).
/// With the level subtracted instead (0: every pixel in, no floor component, scikit-learn's
/// default priors, as the pipeline's `--bayesian --background 0`), the floor drags every
/// component wide.
#[test]
fn the_variational_fit_learns_the_floor_too() {
    let (h, w) = (120, 160);
    let (expected, image) = frame(h, w, 7);
    let floor_share = FLOOR * (h * w) as f64 / expected.sum();
    let options =
        TrackOptions { bayesian: true, n_threads: Some(2), max_iter: 1000, ..TrackOptions::default() };
    let learned = fit(&image, &options);
    assert_eq!(learned.effective_components, 3, "one effective component per spot");
    let share = learned.floor_share.expect("a learned floor");
    assert!((share - floor_share).abs() < 0.01, "floor share {share} vs {floor_share}");
    let (mean_err, cov_err) = errors(&learned);
    let subtracted = TrackOptions { floor: Floor::Subtract, ..options };
    let without = fit(&image, &subtracted);
    let (bad_mean, bad_cov) = errors(&without);
    eprintln!(
        "variational, learned floor: effective K {}, share {share:.4} (true {floor_share:.4}), means {mean_err:.3} px, \
         covariances {cov_err:.3}; no floor: effective K {}, means {bad_mean:.3} px, covariances {bad_cov:.3}",
        learned.effective_components, without.effective_components
    );
    assert!(mean_err < 0.1 && cov_err < 0.05, "means off by {mean_err} px, covariances by {cov_err}");
    assert!(bad_cov > 10.0 * cov_err, "without the floor: covariances off by {bad_cov}");
}

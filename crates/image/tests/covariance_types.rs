//! Story: a user tracks with another covariance kind (issue 23: the napari widget's
//! "covariance type"). Every fit of the track is of that kind, the outputs keep their dense
//! `(F, K, D, D)` layout, and the default stays the full kind, bit for bit.

use einmix_image::{demo_stack, track, CovarianceType, Floor, Init, PeakOptions, Stack, Track, TrackOptions};
use ndarray::s;

/// The demo's first frames: enough for warm starts frame to frame, short enough for a test.
fn demo_frames(n: usize) -> Stack {
    let stack = demo_stack().unwrap();
    let frames = (0..n).map(|f| stack.frame(f)).collect::<Vec<_>>();
    let views: Vec<_> = frames.iter().map(|f| f.view()).collect();
    Stack::new(ndarray::stack(ndarray::Axis(0), &views).unwrap())
}

/// The demo's settings, the covariance kind left at its default.
fn demo_options() -> TrackOptions {
    TrackOptions {
        init: Init::Peaks(PeakOptions { min_distance: 6, smooth_sigma: 1.5, ..PeakOptions::default() }),
        n_threads: Some(2),
        ..TrackOptions::default()
    }
}

fn options(kind: CovarianceType) -> TrackOptions {
    TrackOptions { covariance_type: kind, ..demo_options() }
}

/// Every frame's covariances: `D x D`, symmetric, and of `kind`'s shape.
fn assert_kind(result: &Track, kind: CovarianceType) {
    let covs = result.covariances();
    let (f, k, d) = (result.frames.len(), result.n_components(), result.dims());
    assert_eq!(covs.shape(), &[f, k, d, d]);
    assert_eq!(result.precisions().shape(), &[f, k, d, d]);
    for frame in 0..f {
        assert!(result.frames[frame].lower_bound.is_finite(), "frame {frame}: bound");
        for c in 0..k {
            let m = covs.slice(s![frame, c, .., ..]);
            for a in 0..d {
                assert!(m[[a, a]] > 0.0);
                for b in 0..d {
                    if a != b && kind != CovarianceType::Full && kind != CovarianceType::Tied {
                        assert_eq!(m[[a, b]], 0.0, "frame {frame}, component {c}: not diagonal");
                    }
                }
            }
            if kind == CovarianceType::Spherical {
                assert_eq!(m[[0, 0]], m[[1, 1]], "frame {frame}, component {c}: not isotropic");
            }
            if kind == CovarianceType::Tied {
                assert_eq!(m, covs.slice(s![frame, 0, .., ..]), "frame {frame}: not one shared matrix");
            }
        }
        // The graph reads the same covariances: finite distances, zero on the diagonal.
        let distances = &result.frames[frame].distances;
        assert!(distances.iter().all(|v| v.is_finite()));
        assert!((0..k).all(|c| distances[[c, c]].abs() < 1e-12));
    }
}

#[test]
fn every_kind_tracks_the_demo_in_its_own_shape() {
    let stack = demo_frames(3);
    for kind in [CovarianceType::Diag, CovarianceType::Spherical, CovarianceType::Tied] {
        let result = track(&stack, None, &options(kind), &mut |_| {}).unwrap();
        assert!(result.n_components() > 1, "{kind}: one peak per structure");
        assert_kind(&result, kind);
    }
}

#[test]
fn the_default_is_full_and_unchanged_bit_for_bit() {
    let stack = demo_frames(3);
    assert_eq!(TrackOptions::default().covariance_type, CovarianceType::Full);
    let a = track(&stack, None, &demo_options(), &mut |_| {}).unwrap();
    let b = track(&stack, None, &options(CovarianceType::Full), &mut |_| {}).unwrap();
    let bits = |x: ndarray::ArrayD<f64>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(a.covariances()), bits(b.covariances()));
    assert_eq!(bits(a.means()), bits(b.means()));
    assert_eq!(bits(a.precisions()), bits(b.precisions()));
    // Full covariances have off-diagonal terms: the kind really differs from diag.
    assert!(a.covariances().slice(s![.., .., 0, 1]).iter().any(|&v| v != 0.0));
}

#[test]
fn the_variational_and_online_fits_and_reseeds_keep_the_kind() {
    let stack = demo_frames(3);
    let bayesian = TrackOptions { bayesian: true, max_iter: 300, ..options(CovarianceType::Diag) };
    let result = track(&stack, None, &bayesian, &mut |_| {}).unwrap();
    assert_kind(&result, CovarianceType::Diag);
    let online = TrackOptions { online: true, ..options(CovarianceType::Spherical) };
    assert_kind(&track(&stack, None, &online, &mut |_| {}).unwrap(), CovarianceType::Spherical);
    // A floor subtracted and a weight floor that empties components: they are re-seeded
    // (started from dense covariances) and refitted in the kind.
    for kind in [CovarianceType::Diag, CovarianceType::Tied] {
        let reseeding = TrackOptions {
            floor: Floor::Subtract,
            background: "p50".parse().unwrap(),
            weight_floor: Some(0.2),
            ..options(kind)
        };
        let result = track(&stack, None, &reseeding, &mut |_| {}).unwrap();
        assert!(result.reseeds().count() > 0, "{kind}: nothing re-seeded");
        assert_kind(&result, kind);
    }
}

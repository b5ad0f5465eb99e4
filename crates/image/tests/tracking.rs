//! Story: a synthetic time-lapse (blobs that move, split and fade) is tracked with stable
//! component identity, and a blob that vanishes triggers a reported re-seed.

mod common;

use einmix_image::{track, Background, Floor, Init, PeakOptions, Reason, Stack, TrackOptions};

fn options() -> TrackOptions {
    TrackOptions {
        floor: Floor::Subtract,
        background: Background::Absolute(0.5),
        init: Init::Peaks(PeakOptions { min_distance: 5, ..PeakOptions::default() }),
        n_threads: Some(2),
        ..TrackOptions::default()
    }
}

/// The component nearest to `centre` in frame `f`.
fn nearest(result: &einmix_image::Track, f: usize, centre: (f64, f64)) -> usize {
    let means = result.means();
    (0..result.n_components())
        .min_by(|&a, &b| {
            let d = |k: usize| (means[[f, k, 0]] - centre.0).powi(2) + (means[[f, k, 1]] - centre.1).powi(2);
            d(a).total_cmp(&d(b))
        })
        .unwrap()
}

#[test]
fn moving_blob_keeps_its_component_and_a_vanished_one_is_reseeded() {
    let (n, split, vanish) = (14, 6, 9);
    let (frames, truth) = common::moving_splitting_fading(n, split, vanish);
    let result = track(&Stack::new(frames), None, &options(), &mut |_| {}).unwrap();
    assert_eq!(result.n_components(), 3, "one peak per blob in frame 0");
    let means = result.means();
    assert_eq!(means.shape(), &[n, 3, 2]);
    // Blob A moves 1.5 px per frame: the same component follows it all the way.
    let a0 = nearest(&result, 0, truth[0][0].centre);
    for (f, blobs) in truth.iter().enumerate() {
        assert_eq!(nearest(&result, f, blobs[0].centre), a0, "frame {f}: blob A changed component");
        let c = blobs[0].centre;
        let err = ((means[[f, a0, 0]] - c.0).powi(2) + (means[[f, a0, 1]] - c.1).powi(2)).sqrt();
        assert!(err < 0.3, "frame {f}: A's mean is {err} px off");
    }
    // Blob B keeps its component until it splits; C keeps its own while it is there.
    let b0 = nearest(&result, 0, truth[0][1].centre);
    let c0 = nearest(&result, 0, truth[0][2].centre);
    assert!(a0 != b0 && b0 != c0 && a0 != c0);
    for f in 0..split {
        assert_eq!(nearest(&result, f, truth[f][1].centre), b0, "frame {f}: blob B");
    }
    for f in 0..vanish {
        assert_eq!(nearest(&result, f, truth[f][3.min(truth[f].len() - 1)].centre), c0, "frame {f}: blob C");
    }
    // C is gone at `vanish`: its component is re-seeded there, and reported.
    let reseeds: Vec<_> = result.reseeds().collect();
    assert!(!reseeds.is_empty(), "no re-seed reported");
    let first = reseeds[0];
    assert_eq!((first.frame, first.component), (vanish, c0), "{reseeds:?}");
    assert!(matches!(first.reason, Reason::Emptied { .. } | Reason::LeftData), "{:?}", first.reason);
    // ... where the model explained the image worst: on one half of the split blob B.
    let halves = [truth[vanish][1].centre, truth[vanish][2].centre];
    let near_half = halves.iter().any(|h| (h.0 - first.position[0]).hypot(h.1 - first.position[1]) < 4.0);
    assert!(near_half, "re-seeded at {:?}, halves at {halves:?}", first.position);
    // After the re-seed, the two halves of B have a component each.
    let last = n - 1;
    let h1 = nearest(&result, last, truth[last][1].centre);
    let h2 = nearest(&result, last, truth[last][2].centre);
    assert_ne!(h1, h2, "the split halves share a component");
    // Never NaN, never a zero-variance spike.
    let floor = 1.0 / 12.0;
    for f in &result.frames {
        let covs = f.mixture.covariances();
        for k in 0..3 {
            let (a, b, d) = (covs[[k, 0, 0]], covs[[k, 0, 1]], covs[[k, 1, 1]]);
            let small = 0.5 * (a + d) - (0.25 * (a - d) * (a - d) + b * b).sqrt();
            assert!(small >= floor * 0.999, "frame {}: eigenvalue {small}", f.frame);
        }
        assert!(f.mixture.means().iter().chain(f.mixture.weights().iter()).all(|v| v.is_finite()));
        assert!(f.distances.iter().all(|v| v.is_finite()));
    }
    // The summary has a line per frame, the report a line per re-seed.
    assert_eq!(result.summary_csv().lines().count(), n + 1);
    assert_eq!(result.reseeds_csv().lines().count(), reseeds.len() + 1);
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let (frames, _) = common::moving_splitting_fading(8, 4, 6);
    let stack = Stack::new(frames);
    let one = track(&stack, None, &TrackOptions { n_threads: Some(1), ..options() }, &mut |_| {}).unwrap();
    let two = track(&stack, None, &TrackOptions { n_threads: Some(2), ..options() }, &mut |_| {}).unwrap();
    assert_eq!(one.means(), two.means());
    assert_eq!(one.covariances(), two.covariances());
}

#[test]
fn fixed_k_with_kmeans_plus_plus() {
    let (frames, _) = common::moving_splitting_fading(4, 10, 10);
    let opts = TrackOptions { init: Init::KMeansPlusPlus { k: 3, seed: 1 }, ..options() };
    let result = track(&Stack::new(frames), None, &opts, &mut |_| {}).unwrap();
    assert_eq!(result.weights().shape(), &[4, 3]);
}

#[test]
fn reseeding_off_reports_without_moving() {
    let (n, split, vanish) = (11, 6, 9);
    let (frames, _) = common::moving_splitting_fading(n, split, vanish);
    let opts = TrackOptions { reseed: false, ..options() };
    let result = track(&Stack::new(frames), None, &opts, &mut |_| {}).unwrap();
    let reseeds: Vec<_> = result.reseeds().collect();
    assert!(reseeds.iter().any(|r| r.frame == vanish), "{reseeds:?}");
    assert!(reseeds.iter().all(|r| r.position[0].is_nan()));
}

#[test]
fn an_empty_frame_is_a_clear_error() {
    let (mut frames, _) = common::moving_splitting_fading(3, 10, 10);
    frames.index_axis_mut(ndarray::Axis(0), 2).fill(0.0);
    let err = track(&Stack::new(frames), None, &options(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("frame 2: no pixel"), "{err}");
}

/// Issue 14: with `online`, one model is updated across the frames, one step per frame; a
/// still blob is located as well as by per-frame fits, and identities hold.
#[test]
fn online_tracking_steps_once_per_frame_and_keeps_identities() {
    let n = 8;
    let (frames, truth) = common::moving_splitting_fading(n, 100, 100);
    let stack = Stack::new(frames);
    let result = track(&stack, None, &TrackOptions { online: true, ..options() }, &mut |_| {}).unwrap();
    assert_eq!(result.n_components(), 3);
    assert!(result.frames[1..].iter().all(|f| f.n_iter == 1 && f.converged), "one step per frame");
    let a0 = nearest(&result, 0, truth[0][0].centre);
    let b0 = nearest(&result, 0, truth[0][1].centre);
    for (f, blobs) in truth.iter().enumerate() {
        assert_eq!(nearest(&result, f, blobs[0].centre), a0, "frame {f}: blob A changed component");
        assert_eq!(nearest(&result, f, blobs[1].centre), b0, "frame {f}: blob B changed component");
    }
    let (means, last) = (result.means(), n - 1);
    let c = truth[last][1].centre;
    let err = (means[[last, b0, 0]] - c.0).hypot(means[[last, b0, 1]] - c.1);
    assert!(err < 0.3, "the still blob B is {err} px off");
    // Per-frame fits of the same stack agree on the still blob.
    let batch = track(&stack, None, &options(), &mut |_| {}).unwrap();
    let b = batch.means();
    let gap = (b[[last, b0, 0]] - means[[last, b0, 0]]).hypot(b[[last, b0, 1]] - means[[last, b0, 1]]);
    assert!(gap < 0.3, "online and per-frame fits differ by {gap} px on a still blob");
}

/// Issue 12: online tracking with the learned floor: one step per frame, the floor's share
/// reported every frame, the still blob located as by the per-frame fits with the floor.
#[test]
fn online_tracking_learns_the_floor_too() {
    let n = 6;
    let (frames, truth) = common::moving_splitting_fading(n, 100, 100);
    // A floor of 5 counts under everything.
    let frames = frames.mapv(|v| v + 5.0);
    let stack = Stack::new(frames);
    let learned = TrackOptions { online: true, floor: Floor::Learned, ..options() };
    let result = track(&stack, None, &learned, &mut |_| {}).unwrap();
    assert!(result.frames[1..].iter().all(|f| f.n_iter == 1), "one step per frame");
    assert!(result.frames.iter().all(|f| f.floor_share.is_some_and(|s| s > 0.3 && s < 1.0)));
    let per_frame =
        track(&stack, None, &TrackOptions { floor: Floor::Learned, ..options() }, &mut |_| {}).unwrap();
    let last = n - 1;
    let c = truth[last][1].centre;
    let (b_online, b_batch) = (nearest(&result, last, c), nearest(&per_frame, last, c));
    let (m, p) = (result.means(), per_frame.means());
    let gap = (m[[last, b_online, 0]] - p[[last, b_batch, 0]])
        .hypot(m[[last, b_online, 1]] - p[[last, b_batch, 1]]);
    assert!(gap < 0.3, "online and per-frame fits with the floor differ by {gap} px on a still blob");
}

/// Issue 13: with `bayesian`, each frame keeps the components its data need: offered twice
/// as many components as blobs, the frames settle on the blobs, reported per frame, and the
/// summary says so.
#[test]
fn bayesian_tracking_reports_the_effective_components_per_frame() {
    let (frames, truth) = common::moving_splitting_fading(5, 100, 100);
    let stack = Stack::new(frames);
    let opts = TrackOptions {
        init: Init::KMeansPlusPlus { k: 6, seed: 1 },
        bayesian: true,
        weight_concentration_prior: Some(1e-3),
        max_iter: 500,
        ..options()
    };
    let result = track(&stack, None, &opts, &mut |_| {}).unwrap();
    assert_eq!(result.n_components(), 6, "K is the upper bound");
    let blobs = truth[0].len();
    for f in &result.frames {
        assert!(
            f.effective_components >= blobs && f.effective_components < 6,
            "frame {}: {}",
            f.frame,
            f.effective_components
        );
    }
    let summary = result.summary_csv();
    assert!(summary.lines().next().unwrap().ends_with(",effective_k,floor_share"));
    // A subtracted floor leaves floor_share empty.
    let last = summary.lines().nth(1).unwrap();
    assert!(last.ends_with(&format!(",{},", result.frames[0].effective_components)), "{last}");
}

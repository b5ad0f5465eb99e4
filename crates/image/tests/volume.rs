//! Story (issue 12, 3-D): a z-stack is fitted in 3-D, (z, row, col), with voxels four times as
//! deep as they are wide. Known Gaussians (correlated in every pair of axes) on a uniform
//! Poisson floor come back with the learned floor and no threshold, the floor's share to within
//! 1 %; two structures one above the other, which a maximum projection merges into one, stay
//! two; without the floor component the same fit is measurably worse.

use einmix_image::{track, Floor, Grid, Init, PeakOptions, Stack, TrackOptions, Tracker, ZProject};
use ndarray::{Array3, Array4, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

const FLOOR: f64 = 20.0;
/// The voxel's sides (z, row, col): a Z step four times the pixel.
const VOXEL: [f64; 3] = [2.0, 0.5, 0.5];
const SHAPE: (usize, usize, usize) = (24, 80, 96);

struct Spot {
    mean: [f64; 3],
    cov: [[f64; 3]; 3],
    photons: f64,
}

fn spots(shift_z: f64) -> Vec<Spot> {
    vec![
        Spot {
            mean: [12.0 + shift_z, 12.0, 14.0],
            cov: [[9.0, 1.5, 0.0], [1.5, 2.0, 0.6], [0.0, 0.6, 1.5]],
            photons: 60_000.0,
        },
        // Above the first (same row and column, 16 units higher): one blob in a projection.
        Spot {
            mean: [28.0 + shift_z, 12.0, 14.0],
            cov: [[6.0, 0.0, -1.0], [0.0, 1.5, 0.3], [-1.0, 0.3, 2.5]],
            photons: 40_000.0,
        },
        Spot {
            mean: [20.0 + shift_z, 28.0, 34.0],
            cov: [[8.0, 0.0, 0.0], [0.0, 3.0, -1.2], [0.0, -1.2, 2.0]],
            photons: 50_000.0,
        },
    ]
}

/// Inverse and determinant of a symmetric 3x3 matrix (the adjugate; obviously correct).
fn inverse3(m: &[[f64; 3]; 3]) -> ([[f64; 3]; 3], f64) {
    let c = |i: usize, j: usize| {
        let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
        let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
        m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]
    };
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2);
    let mut inv = [[0.0; 3]; 3];
    for (i, row) in inv.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = c(j, i) / det;
        }
    }
    (inv, det)
}

/// The expected volume (floor + spots, each voxel's intensity its density at the centre
/// times the voxel's volume) and one Poisson draw of it.
fn volume(shift_z: f64, seed: u64) -> (Array3<f64>, Array3<f32>) {
    let cell = VOXEL.iter().product::<f64>();
    let spots = spots(shift_z);
    let expected = Array3::from_shape_fn(SHAPE, |(z, r, c)| {
        let x = [z as f64 * VOXEL[0], r as f64 * VOXEL[1], c as f64 * VOXEL[2]];
        FLOOR
            + spots
                .iter()
                .map(|s| {
                    let (inv, det) = inverse3(&s.cov);
                    let d: Vec<f64> = (0..3).map(|a| x[a] - s.mean[a]).collect();
                    let q: f64 = (0..3)
                        .flat_map(|a| (0..3).map(move |b| (a, b)))
                        .map(|(a, b)| d[a] * inv[a][b] * d[b])
                        .sum();
                    s.photons * cell * (-0.5 * q).exp()
                        / ((2.0 * std::f64::consts::PI).powf(1.5) * det.sqrt())
                })
                .sum::<f64>()
    });
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let draw = expected.mapv(|lambda| Poisson::new(lambda).expect("a positive rate").sample(&mut rng) as f32);
    (expected, draw)
}

/// The pipeline's options, EM run to 1e-5 (the default 1e-3 stops with the covariances 5 %
/// short of the converged ones on this volume: the bound moves little while they still grow).
fn options(floor: Floor) -> TrackOptions {
    TrackOptions {
        floor,
        tol: 1e-5,
        voxel_size: Some(VOXEL),
        init: Init::Peaks(PeakOptions::default()),
        n_threads: Some(2),
        ..TrackOptions::default()
    }
}

/// Largest error of the means (coordinate units) and of the covariances (relative to each
/// spot's largest entry), each spot matched to the nearest component.
fn errors(mixture: &einmix::Mixture, shift_z: f64) -> (f64, f64) {
    let (means, covs) = (mixture.means(), mixture.covariances());
    let (mut mean_err, mut cov_err) = (0.0f64, 0.0f64);
    for s in spots(shift_z) {
        let distance = |k: usize| (0..3).map(|a| (means[[k, a]] - s.mean[a]).powi(2)).sum::<f64>();
        let k = (0..mixture.n_components())
            .min_by(|&a, &b| distance(a).total_cmp(&distance(b)))
            .expect("a component");
        mean_err = mean_err.max(distance(k).sqrt());
        let scale = s.cov.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..3 {
            for j in 0..3 {
                cov_err = cov_err.max((covs[[k, i, j]] - s.cov[i][j]).abs() / scale);
            }
        }
    }
    (mean_err, cov_err)
}

#[test]
fn a_z_stack_with_anisotropic_voxels_gives_back_its_gaussians_and_its_floor() {
    let (expected, draw) = volume(0.0, 11);
    let floor_share = FLOOR * expected.len() as f64 / expected.sum();
    let mut tracker = Tracker::new(options(Floor::Learned), None).expect("options");
    let fit = tracker.step_volume(0, draw.view()).expect("a 3-D fit");
    assert_eq!(fit.mixture.n_features(), 3, "fitted in (z, row, col)");
    assert_eq!(fit.mixture.n_components(), 3, "-k auto in 3-D: one component per spot, none on the noise");
    let share = fit.floor_share.expect("a learned floor");
    assert!((share - floor_share).abs() < 0.01, "floor share {share} vs {floor_share}");
    let (mean_err, cov_err) = errors(&fit.mixture, 0.0);
    // A twentieth of a pixel's side and 4 % (the draw's own noise is about 3 %).
    assert!(mean_err < 0.025 && cov_err < 0.04, "means off by {mean_err}, covariances by {cov_err}");
    // The floor spreads over the voxels' box, (z, row, col) in coordinate units.
    let background = fit.mixture.background().expect("the floor");
    assert_eq!(background.lower(), &[-1.0, -0.25, -0.25]);
    assert_eq!(background.upper(), &[47.0, 39.75, 47.75]);

    // Without the floor component (nothing subtracted), every Gaussian is dragged wide.
    let mut plain = Tracker::new(options(Floor::Subtract), None).expect("options");
    let without = plain.step_volume(0, draw.view()).expect("a 3-D fit");
    let (bad_mean, bad_cov) = errors(&without.mixture, 0.0);
    eprintln!(
        "3-D learned floor: share {share:.4} (true {floor_share:.4}), means {mean_err:.4}, covariances \
         {cov_err:.4}; no floor: K {}, means {bad_mean:.3}, covariances {bad_cov:.3}",
        without.mixture.n_components()
    );
    assert!(bad_cov > 10.0 * cov_err && bad_mean > mean_err, "without the floor: {bad_mean}, {bad_cov}");
}

#[test]
fn structures_one_above_the_other_stay_apart_in_3d_and_merge_in_a_projection() {
    let (_, draw) = volume(0.0, 12);
    let stack = Stack::from_volumes(draw.clone().insert_axis(Axis(0)));
    let in_3d = track(&stack, None, &options(Floor::Learned), &mut |_| {}).expect("3-D");
    assert_eq!(in_3d.n_components(), 3);
    let projected = draw.fold_axis(Axis(0), f32::NEG_INFINITY, |&a, &b| a.max(b));
    let planar = TrackOptions { voxel_size: None, pixel_size: VOXEL[1], ..options(Floor::Learned) };
    let in_2d = track(&Stack::from_image(projected), None, &planar, &mut |_| {}).expect("2-D");
    assert_eq!(in_2d.n_components(), 2, "the projection merges the two stacked spots");
}

#[test]
fn a_time_lapse_of_volumes_is_tracked_warm_started_with_its_outputs_in_3d() {
    // Three time points, everything drifting 1 unit up in z per time point.
    let frames: Vec<Array3<f32>> = (0..3).map(|t| volume(t as f64, 20 + t).1).collect();
    let views: Vec<_> = frames.iter().map(|f| f.view()).collect();
    let pixels: Array4<f32> = ndarray::stack(Axis(0), &views).expect("same shapes");
    let stack = Stack::from_volumes(pixels);
    let result = track(&stack, None, &options(Floor::Learned), &mut |_| {}).expect("a track");
    assert_eq!(result.means().shape(), &[3, 3, 3]);
    assert_eq!(result.covariances().shape(), &[3, 3, 3, 3]);
    assert_eq!(result.grid, Grid::volume(VOXEL).expect("a grid"));
    for (t, f) in result.frames.iter().enumerate() {
        let (mean_err, cov_err) = errors(&f.mixture, t as f64);
        assert!(mean_err < 0.05 && cov_err < 0.05, "time point {t}: {mean_err}, {cov_err}");
        // Warm-started from the previous time point: few iterations.
        if t > 0 {
            assert!(f.n_iter < result.frames[0].n_iter, "{} vs {}", f.n_iter, result.frames[0].n_iter);
        }
    }
    // Component identity is kept: each moved 1 unit up in z per time point.
    let means = result.means();
    for k in 0..3 {
        assert!((means[[2, k, 0]] - means[[0, k, 0]] - 2.0).abs() < 0.1, "component {k}");
    }
    // The .npz says D = 3 and the voxel's sides.
    let members = result.npz_members();
    let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"voxel_size") && names.contains(&"floor_share"));
    assert!(result.reseeds_csv().starts_with("frame,component,reason,z,row,col\n"));
}

#[test]
fn bad_volumes_and_voxel_sizes_are_refused_clearly() {
    for bad in [[0.0, 1.0, 1.0], [1.0, -0.5, 1.0], [1.0, 1.0, f64::NAN]] {
        let err = Tracker::new(TrackOptions { voxel_size: Some(bad), ..TrackOptions::default() }, None)
            .expect_err("a voxel size that is not positive");
        assert!(err.to_string().contains("voxel_size is Z,Y,X: three positive, finite lengths"), "{err}");
    }
    // Volumes asked of a stack with one slice per time point.
    let bytes = einmix_io::npy::f64_bytes(&[2, 4, 5], &[1.0; 40]);
    let read = einmix_image::ReadOptions { z_project: ZProject::Volume, ..Default::default() };
    let err = einmix_image::read_stack_bytes(std::path::Path::new("flat.npy"), &bytes, &read).unwrap_err();
    assert!(err.to_string().contains("need Z slices, but every time point of this stack has 1"), "{err}");
    // With --z-slices the same file is one volume of two slices.
    let read = einmix_image::ReadOptions { z_slices: Some(2), ..read };
    let stack = einmix_image::read_stack_bytes(std::path::Path::new("flat.npy"), &bytes, &read).unwrap();
    assert_eq!((stack.n_frames(), stack.depth(), stack.volume), (1, 2, true));
    // A track's frames are all 2-D or all volumes.
    let mut tracker = Tracker::new(options(Floor::Learned), None).unwrap();
    let (_, draw) = volume(0.0, 3);
    tracker.step_volume(0, draw.view()).unwrap();
    let err = tracker.step(1, draw.index_axis(Axis(0), 5)).unwrap_err();
    assert!(err.to_string().contains("every frame of a track is 2-D, or every frame a 3-D volume"), "{err}");
}

#[test]
fn keeping_a_volume_s_rows_between_time_points_changes_nothing() {
    // A tracker keeps the laid-out voxels from one time point to the next; a clone of it lays
    // them out again. Both fit every time point to the same bits.
    let frames: Vec<Array3<f32>> = (0..3).map(|t| volume(0.5 * t as f64, 40 + t).1).collect();
    let mut kept = Tracker::new(options(Floor::Learned), None).unwrap();
    let mut fresh = kept.clone();
    for (t, frame) in frames.iter().enumerate() {
        let a = kept.step_volume(t, frame.view()).unwrap();
        fresh = fresh.clone();
        let b = fresh.step_volume(t, frame.view()).unwrap();
        assert_eq!(a.mixture, b.mixture, "time point {t}");
        assert_eq!((a.n_iter, a.lower_bound), (b.n_iter, b.lower_bound));
    }
}

#[test]
fn dark_voxels_are_points_of_weight_zero_and_a_dark_volume_is_an_empty_frame() {
    let (_, mut draw) = volume(0.0, 50);
    // Some dark voxels: they are fitted at weight 0, and not counted as points.
    for c in 0..10 {
        draw[[0, 0, c]] = 0.0;
    }
    let positive = draw.iter().filter(|&&v| v > 0.0).count();
    let mut tracker = Tracker::new(options(Floor::Learned), None).unwrap();
    let first = tracker.step_volume(0, draw.view()).unwrap();
    assert_eq!(first.n_points, positive);
    let second = tracker.step_volume(1, draw.view()).unwrap();
    assert_eq!((second.n_points, second.mixture.n_components()), (positive, 3));
    let dark = Array3::<f32>::zeros(draw.dim());
    let err = tracker.step_volume(2, dark.view()).unwrap_err();
    assert!(matches!(err, einmix_image::Error::EmptyFrame { frame: 2, .. }), "{err}");
}

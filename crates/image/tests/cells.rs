//! Story: every labelled cell of a field is tracked in one run, each exactly as a run masked
//! to its label alone would track it; labels that move with the cells (a `(T, H, W)` stack)
//! let a cell appear late and vanish early, reported in `cells.csv`; a stopped cells run
//! resumes to the uninterrupted files; bad labels are clear errors.

mod common;

use einmix_image::{
    track_cells, track_to_dir, Init, Labels, Mask, PeakOptions, RunOptions, Stack, StackFrames, TrackOptions,
};
use ndarray::{s, Array3};

/// The synthetic time-lapse on a floor of 20 counts: blob A moves along the top left, blob B
/// (splitting) sits in the middle, blob C fades at the top right.
fn video(n: usize) -> Array3<f32> {
    let (frames, _) = common::moving_splitting_fading(n, n / 2, n);
    frames.mapv(|v| v + 20.0)
}

fn options() -> TrackOptions {
    TrackOptions {
        init: Init::Peaks(PeakOptions { min_distance: 5, ..PeakOptions::default() }),
        n_threads: Some(2),
        ..TrackOptions::default()
    }
}

/// Label 3 on the left half (blob A), label 7 on the right (blob C), label 0 elsewhere.
fn halves() -> Array3<f32> {
    let mut labels = Array3::<f32>::zeros((1, 80, 120));
    labels.slice_mut(s![0, 0..45, 0..55]).fill(3.0);
    labels.slice_mut(s![0, 0..45, 70..120]).fill(7.0);
    labels
}

fn never_stop(_: i64, _: usize, _: &einmix_image::FrameFit, _: ndarray::ArrayView3<f32>) -> bool {
    true
}

#[test]
fn each_cell_is_tracked_as_its_masked_run_would_track_it() {
    let stack = Stack::new(video(10));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cells");
    let report = track_cells(
        &mut StackFrames::new(&stack),
        Labels::Fixed(halves()),
        "halves",
        &options(),
        &RunOptions::new(&out),
        &never_stop,
    )
    .unwrap();
    assert_eq!(report.cells.iter().map(|c| c.label).collect::<Vec<_>>(), [3, 7]);
    assert!(report.complete);
    for cell in &report.cells {
        assert_eq!((cell.first_frame, cell.last_frame, cell.n_frames, cell.vanished_at), (0, 9, 10, None));
        let alone = dir.path().join(format!("alone{}", cell.label));
        let mask = Mask::from_labels(halves().index_axis(ndarray::Axis(0), 0), Some(cell.label)).unwrap();
        let mut source = StackFrames::new(&stack);
        track_to_dir(&mut source, Some(&mask), &options(), &RunOptions::new(&alone), &mut |_, _, _| true)
            .unwrap();
        let cell_npz = std::fs::read(out.join(format!("cell_{}/track.npz", cell.label))).unwrap();
        assert_eq!(cell_npz, std::fs::read(alone.join("track.npz")).unwrap(), "cell {}", cell.label);
        assert!(out.join(format!("cell_{}/summary.csv", cell.label)).exists());
    }
    let csv = std::fs::read_to_string(out.join("cells.csv")).unwrap();
    assert!(csv.starts_with("label,first_frame,last_frame,n_frames,k,median_floor_share,time_s,vanished_at"));
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(!out.join(".cells.checkpoint.json").exists());
}

/// Labels that follow the cells: label 3 over blob A's box in every frame, label 9 over blob
/// C's only in frames 2..=5.
fn moving(n: usize) -> Array3<f32> {
    let mut labels = Array3::<f32>::zeros((n, 80, 120));
    for t in 0..n {
        let c0 = (5.0 + 1.5 * t as f64) as usize;
        labels.slice_mut(s![t, 5..35, c0..c0 + 30]).fill(3.0);
        if (2..=5).contains(&t) {
            labels.slice_mut(s![t, 10..40, 80..110]).fill(9.0);
        }
    }
    labels
}

#[test]
fn moving_labels_let_a_cell_appear_late_and_vanish_early() {
    let n = 9;
    let stack = Stack::new(video(n));
    let labels = Stack::new(moving(n));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cells");
    let report = track_cells(
        &mut StackFrames::new(&stack),
        Labels::PerFrame(Box::new(StackFrames::new(&labels))),
        "moving",
        &options(),
        &RunOptions::new(&out),
        &never_stop,
    )
    .unwrap();
    let late = report.cells.iter().find(|c| c.label == 9).unwrap();
    assert_eq!((late.first_frame, late.last_frame, late.n_frames, late.vanished_at), (2, 5, 4, Some(6)));
    let npz = std::fs::read(out.join("cell_9/track.npz")).unwrap();
    let mut npz = einmix_io::npz::Npz::new(&npz).unwrap();
    assert_eq!(npz.array::<f64>("frames").unwrap().unwrap().data, [2.0, 3.0, 4.0, 5.0]);
    let csv = std::fs::read_to_string(out.join("cells.csv")).unwrap();
    assert!(csv.lines().any(|l| l.starts_with("9,2,5,4,") && l.ends_with(",6,")), "{csv}");
    // The cell's first frame's mask is its label there: the same as a run masked to it.
    let alone = dir.path().join("alone");
    let single = Stack::new(video(n).slice(s![2..6, .., ..]).to_owned());
    let mask = Mask::from_labels(moving(n).index_axis(ndarray::Axis(0), 2), Some(9)).unwrap();
    let mut source = StackFrames::new(&single);
    let first =
        track_to_dir(&mut source, Some(&mask), &options(), &RunOptions::new(&alone), &mut |_, _, _| false);
    assert_eq!(first.unwrap().n_frames, 1);
}

#[test]
fn a_stopped_cells_run_resumes_to_the_uninterrupted_files() {
    let n = 8;
    let stack = Stack::new(video(n));
    let labels = Stack::new(moving(n));
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &std::path::Path, resume: bool, stop: Option<usize>| {
        let options = RunOptions { resume, checkpoint_frames: 2, ..RunOptions::new(out) };
        track_cells(
            &mut StackFrames::new(&stack),
            Labels::PerFrame(Box::new(StackFrames::new(&labels))),
            "moving",
            &self::options(),
            &options,
            &|_, p, _, _| Some(p) != stop,
        )
        .unwrap()
    };
    let whole = dir.path().join("whole");
    run(&whole, false, None);
    // Other labels cannot continue a stopped run.
    let other = dir.path().join("other");
    let _ = run(&other, false, Some(2));
    let shifted = Stack::new(moving(n).mapv(|v| if v == 3.0 { 4.0 } else { v }));
    let err = track_cells(
        &mut StackFrames::new(&stack),
        Labels::PerFrame(Box::new(StackFrames::new(&shifted))),
        "moving",
        &options(),
        &RunOptions { resume: true, ..RunOptions::new(&other) },
        &never_stop,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("option labels: "), "{err}");
    let out = dir.path().join("stopped");
    assert!(!run(&out, false, Some(3)).complete);
    assert!(run(&out, true, None).complete);
    for label in [3, 9] {
        let file = format!("cell_{label}/track.npz");
        assert_eq!(
            std::fs::read(out.join(&file)).unwrap(),
            std::fs::read(whole.join(&file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn bad_labels_are_clear_errors() {
    let stack = Stack::new(video(3));
    let dir = tempfile::tempdir().unwrap();
    let attempt = |labels: Labels| {
        let out = dir.path().join("bad");
        let mut source = StackFrames::new(&stack);
        track_cells(&mut source, labels, "labels.tif", &options(), &RunOptions::new(&out), &never_stop)
            .unwrap_err()
            .to_string()
    };
    let err = attempt(Labels::Fixed(Array3::zeros((1, 80, 121))));
    assert!(
        err.contains("labels labels.tif") && err.contains("(1, 80, 121)") && err.contains("(1, 80, 120)"),
        "{err}"
    );
    let mut fractional = halves();
    fractional[[0, 10, 10]] = 2.5;
    let err = attempt(Labels::Fixed(fractional));
    assert!(err.contains("labels must be integers, but (z 0, row 10, col 10) holds 2.5"), "{err}");
    let err = attempt(Labels::Fixed(Array3::zeros((1, 80, 120))));
    assert!(err.contains("the label image has no labels"), "{err}");
    let wrong_length = Stack::new(moving(5));
    let err = attempt(Labels::PerFrame(Box::new(StackFrames::new(&wrong_length))));
    assert!(err.contains("5 label frames for a video of 3 frames"), "{err}");
}

#[test]
fn a_label_volume_gives_each_cell_its_own_voxels() {
    // Two blobs in a (Z, H, W) volume, one in each half; the label volume splits the halves,
    // with the slices of label 2 only in the lower half of z (its other voxels go to no cell).
    let (t_n, z_n, h, w) = (3, 6, 32, 48);
    let volumes = ndarray::Array4::from_shape_fn((t_n, z_n, h, w), |(t, z, r, c)| {
        let blob = |z0: f64, r0: f64, c0: f64| {
            let d2 = (z as f64 - z0).powi(2) + (r as f64 - r0).powi(2) + (c as f64 - c0 - t as f64).powi(2);
            90.0 * (-d2 / 6.0).exp()
        };
        (10.0 + blob(2.5, 16.0, 12.0) + blob(2.5, 16.0, 34.0)).round() as f32
    });
    let mut labels = Array3::<f32>::zeros((z_n, h, w));
    labels.slice_mut(s![.., .., 0..24]).fill(1.0);
    labels.slice_mut(s![0..4, .., 24..48]).fill(2.0);
    let stack = Stack::from_volumes(volumes);
    let dir = tempfile::tempdir().unwrap();
    let options = TrackOptions {
        init: Init::Peaks(PeakOptions { min_distance: 3, exclude_border: false, ..PeakOptions::default() }),
        n_threads: Some(2),
        ..TrackOptions::default()
    };
    let report = track_cells(
        &mut StackFrames::new(&stack),
        Labels::Fixed(labels),
        "volume labels",
        &options,
        &RunOptions::new(dir.path()),
        &never_stop,
    )
    .unwrap();
    assert_eq!(report.cells.iter().map(|c| (c.label, c.n_frames)).collect::<Vec<_>>(), [(1, 3), (2, 3)]);
    // Cell 1 has its blob whole (centre z 2.5); cell 2 only the slices z < 4 of its blob, so
    // its mean sits lower in z (a Gaussian of sd 1.7 cut at 3.5: about 1.8).
    for (label, col, z_range) in [(1, 12.0, (2.0, 3.0)), (2, 34.0, (1.3, 2.2))] {
        let npz = std::fs::read(dir.path().join(format!("cell_{label}/track.npz"))).unwrap();
        let means = einmix_io::npz::Npz::new(&npz).unwrap().array::<f64>("means").unwrap().unwrap();
        assert_eq!(means.shape, vec![3, 1, 3], "(frames, K, (z, row, col))");
        let (z, r, c) = (means.data[0], means.data[1], means.data[2]);
        let z_ok = z > z_range.0 && z < z_range.1;
        assert!((r - 16.0).abs() < 0.5 && (c - col).abs() < 0.5 && z_ok, "cell {label}: {z} {r} {c}");
    }
}

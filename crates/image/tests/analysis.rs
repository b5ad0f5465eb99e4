//! Story (issue 24): after the graphs, the analysis. A track's spectra and distances become
//! per-frame statistics (checked against plain loops written here), a trailing-window z-score
//! finds the frame where eight spots fragment into three each (far above any |z| before it),
//! stationary spots raise no more flags than the threshold's false-alarm rate allows, the
//! components whose graph neighbourhood changes are ranked first, and node features come out
//! as a table. Inputs that are not a track, a window as long as the video and a track of one
//! component are refused with messages that say so.

mod common;

use std::sync::OnceLock;

use einmix_image::{
    anomalies_csv, features_csv, features_npz_members, laplacian_eigenvectors, laplacian_spectrum,
    node_features, spatial_anomalies, spatial_csv, spectra_csv, spectra_npz_members, temporal_anomalies,
    track, trailing_z_scores, AnomalyOptions, Error, Stack, Statistic, Track, TrackData, TrackOptions,
};
use einmix_io::{npy, npz};
use ndarray::{Array2, Array3};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

// ---------------------------------------------------------------------------------------------
// Synthetic time-lapses

const SIDE: usize = 64;
const FRAMES: usize = 60;
/// The frame at which every spot fragments.
const CHANGE: usize = 36;
/// The camera's floor, in photons per pixel.
const FLOOR: f64 = 5.0;

/// Eight spots on a 2 x 4 grid, 14 to 28 pixels apart.
fn centres() -> Vec<(f64, f64)> {
    [18.0, 46.0].iter().flat_map(|&r| [10.0, 25.0, 39.0, 54.0].map(|c| (r, c))).collect()
}

/// `FRAMES` Poisson frames of eight spots (sd 2.5 px, peak 100 photons over the floor); with
/// `fragment_at`, each spot becomes from that frame on three spots of a third of its photons
/// (sd 1.5 px) 4 px from where it was, 120 degrees apart.
fn time_lapse(fragment_at: Option<usize>, seed: u64) -> Array3<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut frames = Array3::zeros((FRAMES, SIDE, SIDE));
    for t in 0..FRAMES {
        let mut blobs = Vec::new();
        for (r, c) in centres() {
            if fragment_at.is_some_and(|f| t >= f) {
                let amplitude = 100.0 * 2.5f64.powi(2) / (3.0 * 1.5f64.powi(2));
                for i in 0..3 {
                    let angle = std::f64::consts::FRAC_PI_2 + i as f64 * 2.0 * std::f64::consts::PI / 3.0;
                    let centre = (r + 4.0 * angle.sin(), c + 4.0 * angle.cos());
                    blobs.push(common::Blob { centre, sd: (1.5, 1.5), amplitude });
                }
            } else {
                blobs.push(common::Blob { centre: (r, c), sd: (2.5, 2.5), amplitude: 100.0 });
            }
        }
        let expected = expected_frame(&blobs);
        let noisy =
            expected.mapv(|lambda| Poisson::new(lambda).expect("a positive rate").sample(&mut rng) as f32);
        frames.index_axis_mut(ndarray::Axis(0), t).assign(&noisy);
    }
    frames
}

/// The blobs' expected photons per pixel over the floor (not rounded, unlike `common::render`).
fn expected_frame(blobs: &[common::Blob]) -> Array2<f64> {
    Array2::from_shape_fn((SIDE, SIDE), |(r, c)| {
        FLOOR
            + blobs
                .iter()
                .map(|b| {
                    let dr = (r as f64 - b.centre.0) / b.sd.0;
                    let dc = (c as f64 - b.centre.1) / b.sd.1;
                    b.amplitude * (-0.5 * (dr * dr + dc * dc)).exp()
                })
                .sum::<f64>()
    })
}

fn tracked(frames: Array3<f32>) -> Track {
    let options = TrackOptions { n_threads: Some(1), ..TrackOptions::default() };
    let result = track(&Stack::new(frames), None, &options, &mut |_| {}).expect("the time-lapse tracks");
    assert_eq!(result.n_components(), 8, "one component per spot in frame 0");
    result
}

/// The fragmenting time-lapse, tracked once for every test that reads it.
fn fragmenting() -> &'static Track {
    static TRACK: OnceLock<Track> = OnceLock::new();
    TRACK.get_or_init(|| tracked(time_lapse(Some(CHANGE), 24)))
}

/// Its `.npz` read back, as a user's analysis would.
fn fragmenting_data() -> TrackData {
    TrackData::from_npz(&fragmenting().to_npz().unwrap(), "fragmenting/track.npz").expect("a track")
}

// ---------------------------------------------------------------------------------------------
// Hand-made tracks

/// A small deterministic generator (no distribution needed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `(name, npy bytes)` members of a track of `f` frames and `k` components whose means wander
/// at random (distances: Euclidean between the means, a stand-in for any metric), with the
/// `laplacian` computed (or left `(F, 0)`).
fn hand_made(f: usize, k: usize, seed: u64, with_laplacian: bool) -> Vec<(String, Vec<u8>)> {
    let mut g = Lcg(seed);
    let mut means = vec![0.0; f * k * 2];
    for t in 0..f {
        for i in 0..k * 2 {
            means[t * k * 2 + i] =
                if t == 0 { 10.0 * g.next() } else { means[(t - 1) * k * 2 + i] + g.next() - 0.5 };
        }
    }
    let mut distances = vec![0.0; f * k * k];
    for t in 0..f {
        for i in 0..k {
            for j in 0..k {
                let m = |c: usize, a: usize| means[t * k * 2 + c * 2 + a];
                distances[t * k * k + i * k + j] = (m(i, 0) - m(j, 0)).hypot(m(i, 1) - m(j, 1));
            }
        }
    }
    let laplacian: Vec<f64> = if with_laplacian {
        (0..f)
            .flat_map(|t| {
                let d =
                    Array2::from_shape_vec((k, k), distances[t * k * k..(t + 1) * k * k].to_vec()).unwrap();
                laplacian_spectrum(d.view()).to_vec()
            })
            .collect()
    } else {
        Vec::new()
    };
    let covars: Vec<f64> = (0..f * k).flat_map(|_| [2.0, 0.5, 0.5, 1.0]).collect();
    vec![
        ("means".into(), npy::f64_bytes(&[f, k, 2], &means)),
        ("covars".into(), npy::f64_bytes(&[f, k, 2, 2], &covars)),
        ("weights".into(), npy::f64_bytes(&[f, k], &vec![1.0 / k as f64; f * k])),
        ("distances".into(), npy::f64_bytes(&[f, k, k], &distances)),
        ("laplacian".into(), npy::f64_bytes(&[f, if with_laplacian { k } else { 0 }], &laplacian)),
        ("frames".into(), npy::i64_bytes(&[f], &(0..f as i64).map(|t| 100 + 2 * t).collect::<Vec<_>>())),
        ("n_points".into(), npy::i64_bytes(&[f], &vec![1000; f])),
    ]
}

fn read(members: &[(String, Vec<u8>)]) -> einmix_image::Result<TrackData> {
    TrackData::from_npz(&npz::archive(members).unwrap(), "hand/track.npz")
}

fn without(members: &[(String, Vec<u8>)], names: &[&str]) -> Vec<(String, Vec<u8>)> {
    members.iter().filter(|(n, _)| !names.contains(&n.as_str())).cloned().collect()
}

// ---------------------------------------------------------------------------------------------
// The twins: the obvious loops

/// Every statistic of one frame, written out the long way.
fn twin_statistic(statistic: Statistic, ev: &[f64], d: &Array2<f64>) -> f64 {
    let k = ev.len();
    match statistic {
        Statistic::AlgebraicConnectivity => ev[1],
        Statistic::SpectralGap => {
            let mut best = ev[1] - ev[0];
            let mut i = 1;
            while i < k / 2 {
                if ev[i + 1] - ev[i] > best {
                    best = ev[i + 1] - ev[i];
                }
                i += 1;
            }
            best
        }
        Statistic::LargestEigenvalue => ev[k - 1],
        Statistic::MeanEigenvalue => {
            let mut s = 0.0;
            for v in ev {
                s += v;
            }
            s / k as f64
        }
        Statistic::MeanDistance => {
            let (mut s, mut n) = (0.0, 0);
            for i in 0..k {
                for j in 0..k {
                    if i != j {
                        s += d[[i, j]];
                        n += 1;
                    }
                }
            }
            s / n as f64
        }
        Statistic::MeanNearestDistance => {
            let mut s = 0.0;
            for i in 0..k {
                let mut m = f64::INFINITY;
                for j in 0..k {
                    if i != j && d[[i, j]] < m {
                        m = d[[i, j]];
                    }
                }
                s += m;
            }
            s / k as f64
        }
    }
}

/// The trailing z-score, one frame at a time: mean and population sd of the `w` before.
fn twin_z(x: &[f64], w: usize) -> Vec<Option<f64>> {
    let mut out = Vec::new();
    for t in 0..x.len() {
        if t < w {
            out.push(None);
            continue;
        }
        let mut mean = 0.0;
        for i in t - w..t {
            mean += x[i];
        }
        mean /= w as f64;
        let mut var = 0.0;
        for i in t - w..t {
            var += (x[i] - mean) * (x[i] - mean);
        }
        let sd = (var / w as f64).sqrt();
        let constant = (t - w..t).all(|i| x[i] == x[t - w]);
        out.push(Some(if constant {
            if x[t] == x[t - w] {
                0.0
            } else {
                f64::INFINITY.copysign(x[t] - x[t - w])
            }
        } else {
            (x[t] - mean) / sd
        }));
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

fn assert_z_match(fast: &[Option<f64>], slow: &[Option<f64>]) {
    assert_eq!(fast.len(), slow.len());
    for (t, (a, b)) in fast.iter().zip(slow).enumerate() {
        match (a, b) {
            (None, None) => {}
            (Some(a), Some(b)) => assert!(close(*a, *b), "frame {t}: z {a} vs twin {b}"),
            _ => panic!("frame {t}: {a:?} vs twin {b:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics and z-scores against the twins

#[test]
fn statistics_and_z_scores_match_their_loop_twins_on_recorded_spectra() {
    for (data, what) in
        [(read(&hand_made(40, 7, 3, true)).unwrap(), "hand-made"), (fragmenting_data(), "tracked")]
    {
        let (f, k) = (data.n_frames(), data.n_components());
        for statistic in Statistic::ALL {
            let series = data.series(statistic);
            assert_eq!(series.len(), f);
            for t in 0..f {
                let ev: Vec<f64> = data.spectra().row(t).to_vec();
                let d = data.distances().index_axis(ndarray::Axis(0), t).to_owned();
                let twin = twin_statistic(statistic, &ev, &d);
                assert!(close(series[t], twin), "{what} {statistic} frame {t}: {} vs twin {twin}", series[t]);
            }
            for window in [2, 5, 20] {
                assert_z_match(&trailing_z_scores(&series, window), &twin_z(&series, window));
            }
        }
        // The spectra are ascending, start at 0 and stay in [0, 2].
        for row in data.spectra().outer_iter() {
            assert!(row[0].abs() < 1e-9 && row[k - 1] <= 2.0 + 1e-9, "{what}: {row}");
            assert!(row.windows(2).into_iter().all(|w| w[0] <= w[1]));
        }
    }
    // The tracked statistics are summary.csv's.
    let data = fragmenting_data();
    for (t, fit) in fragmenting().frames.iter().enumerate() {
        assert_eq!(data.series(Statistic::AlgebraicConnectivity)[t], fit.algebraic_connectivity());
        assert!(close(data.series(Statistic::MeanDistance)[t], fit.mean_distance()));
        assert!(close(data.series(Statistic::MeanNearestDistance)[t], fit.mean_nearest_distance()));
    }
    // The z-score's edge cases, by hand.
    let z = trailing_z_scores(&[1.0, 1.0, 1.0, 1.0, 2.0, 1.0, f64::NAN, 1.0], 3);
    assert_eq!(z[..3], [None, None, None]);
    assert_eq!(z[3], Some(0.0), "a constant window and the same value: 0");
    assert_eq!(z[4], Some(f64::INFINITY), "a constant window left: infinite");
    assert!(z[6].unwrap().is_nan() && z[7].unwrap().is_nan(), "NaN in the window: NaN");
    // 0.1 summed 20 times is not 2 in floating point: still a constant window.
    let z = trailing_z_scores(&[0.1; 21], 20);
    assert_eq!(z[20], Some(0.0));
}

#[test]
fn a_track_without_spectra_gets_the_pipeline_s_own() {
    let with = read(&hand_made(12, 5, 9, true)).unwrap();
    let recomputed = read(&hand_made(12, 5, 9, false)).unwrap();
    assert!(!with.spectra_recomputed() && recomputed.spectra_recomputed());
    assert_eq!(with.spectra(), recomputed.spectra());
    // An in-memory track reads as its own .npz does.
    let from_memory = TrackData::from_track(fragmenting()).unwrap();
    let from_file = fragmenting_data();
    assert_eq!(from_memory.spectra(), from_file.spectra());
    assert_eq!(from_memory.distances(), from_file.distances());
    assert_eq!(from_memory.frames(), from_file.frames());
    assert_eq!(from_memory.n_points(), from_file.n_points());
    assert_eq!(from_memory.grid(), from_file.grid());
}

// ---------------------------------------------------------------------------------------------
// The temporal story

/// Every statistic's largest |z| and flags, for the record (`--nocapture`).
fn report(data: &TrackData, what: &str) {
    for statistic in Statistic::ALL {
        let options = AnomalyOptions { statistic, ..AnomalyOptions::default() };
        let a = temporal_anomalies(data, &options).unwrap();
        let flags: Vec<String> = (0..a.frames.len())
            .filter(|&t| a.anomalous[t])
            .map(|t| format!("{} (z {:.2})", a.frames[t], a.z[t].unwrap()))
            .collect();
        eprintln!("{what}: {statistic}: largest |z| {:?}, flagged {}", a.largest(), flags.join(", "));
    }
}

/// Frames 20 to 35 are scored before the change: 16 frames, each flagged under the null with
/// probability 0.072 ([`NULL_FLAGS_ALLOWED`]), so "no flag before the change" would hold with
/// probability 0.928^16 = 0.30 only, whatever the statistic. What is asserted instead: the
/// change has the largest |z|, at least 10 times any |z| before it, and the flags before it
/// are within the false-alarm rate (at most 4: `Binomial(16, 0.072)` reaches 5 with
/// probability 0.004). Measured (seed 24, not chosen): z = -148.8 at frame 36; before it one
/// flag, frame 25 (z = -2.44), the largest |z| before the change.
const EARLY_FLAGS_ALLOWED: usize = 4;

#[test]
fn the_frame_where_spots_fragment_has_the_largest_z_and_stands_out_from_the_frames_before() {
    let data = fragmenting_data();
    report(&data, "fragmenting");
    let a = temporal_anomalies(&data, &AnomalyOptions::default()).unwrap();
    assert_eq!(a.options.statistic, Statistic::AlgebraicConnectivity);
    let (frame, z) = a.largest().expect("scored frames");
    assert!(
        (frame - CHANGE as i64).abs() <= 1,
        "largest |z| = {z} at frame {frame}, the change is at {CHANGE}"
    );
    assert!(z.abs() > a.options.threshold, "the change is flagged: z = {z}");
    let before = a.z[..CHANGE].iter().flatten().fold(0.0f64, |m, z| m.max(z.abs()));
    assert!(z.abs() > 10.0 * before, "the change's |z| {} against {before} before it", z.abs());
    let early: Vec<i64> = a.flagged_frames().into_iter().filter(|&f| f < CHANGE as i64).collect();
    assert!(early.len() <= EARLY_FLAGS_ALLOWED, "flagged before the change: {early:?}");
    // The CSV says the same, frame by frame.
    let csv = anomalies_csv(&a);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "frame,statistic,value,z,anomalous");
    assert_eq!(lines.len(), FRAMES + 1);
    assert!(
        lines[1].starts_with("0,algebraic_connectivity,") && lines[1].ends_with(",,false"),
        "{}",
        lines[1]
    );
    let change: Vec<&str> = lines[CHANGE + 1].split(',').collect();
    assert_eq!(change[0], CHANGE.to_string());
    assert_eq!(change[3].parse::<f64>().unwrap(), a.z[CHANGE].unwrap());
    assert_eq!(change[4], a.anomalous[CHANGE].to_string());
}

/// Under the null (no change, independent Gaussian values), `(x - m) / s` with the population
/// sd of the `w` before is `t_{w-1} * sqrt((w + 1) / (w - 1))`: at `w = 20`, `|z| > 2` has
/// probability `P(|t_19| > 1.902) = 0.072`. Over the 40 scored frames that is 2.9 flags on
/// average; the test allows 8, which `Binomial(40, 0.072)` exceeds with probability 0.002. The
/// statistic of warm-started fits is not independent from frame to frame, which is why the
/// bound is a tail bound and not the mean.
const NULL_FLAGS_ALLOWED: usize = 8;

#[test]
fn stationary_spots_raise_no_more_flags_than_the_false_alarm_rate_allows() {
    let data = TrackData::from_track(&tracked(time_lapse(None, 7))).unwrap();
    report(&data, "stationary");
    let a = temporal_anomalies(&data, &AnomalyOptions::default()).unwrap();
    let flagged = a.flagged_frames();
    assert!(
        flagged.len() <= NULL_FLAGS_ALLOWED,
        "{} flags in {} scored frames: {flagged:?}; largest {:?}",
        flagged.len(),
        FRAMES - 20,
        a.largest()
    );
}

// ---------------------------------------------------------------------------------------------
// The spatial story

#[test]
fn the_component_that_leaves_its_group_moves_most_in_the_spectral_embedding() {
    // Two groups of five components on a line, 1 apart within a group and 11 between; from
    // frame 6 on component 9 leaves its group for the other one's end.
    let (f, k, moved, at) = (12usize, 10usize, 9usize, 6usize);
    let place = |t: usize, i: usize| -> f64 {
        match i {
            0..=4 => i as f64,
            _ if i == moved && t >= at => 5.0,
            _ => 10.0 + i as f64,
        }
    };
    let mut distances = vec![0.0; f * k * k];
    for t in 0..f {
        for i in 0..k {
            for j in 0..k {
                distances[t * k * k + i * k + j] = (place(t, i) - place(t, j)).abs();
            }
        }
    }
    let members = vec![
        ("means".to_string(), npy::f64_bytes(&[f, k, 2], &vec![0.0; f * k * 2])),
        (
            "covars".into(),
            npy::f64_bytes(&[f, k, 2, 2], &(0..f * k).flat_map(|_| [1.0, 0.0, 0.0, 1.0]).collect::<Vec<_>>()),
        ),
        ("weights".into(), npy::f64_bytes(&[f, k], &vec![1.0 / k as f64; f * k])),
        ("distances".into(), npy::f64_bytes(&[f, k, k], &distances)),
        ("laplacian".into(), npy::f64_bytes(&[f, 0], &[])),
        ("frames".into(), npy::i64_bytes(&[f], &(0..f as i64).collect::<Vec<_>>())),
    ];
    let data = read(&members).unwrap();
    let ranked = spatial_anomalies(&data, 3).unwrap();
    eprintln!("spatial: {ranked:?}");
    assert_eq!(ranked.len(), 3);
    assert_eq!(ranked[0].component, moved, "{ranked:?}");
    assert_eq!(ranked[0].frame_of_largest_move, at as i64);
    assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    let csv = spatial_csv(&ranked);
    assert_eq!(csv.lines().next(), Some("component,score,frame_of_largest_move"));
    assert_eq!(csv.lines().nth(1).unwrap(), format!("{moved},{},{at}", ranked[0].score));
    // A track whose graphs never change does not move at all, whatever signs the solver picks.
    let still = read(&hand_made(2, 5, 1, true)).unwrap();
    let (_, v) = laplacian_eigenvectors(still.distances().index_axis(ndarray::Axis(0), 0));
    assert!((v.t().dot(&v) - Array2::<f64>::eye(5)).iter().all(|x| x.abs() < 1e-10));
    let constant: Vec<(String, Vec<u8>)> = members
        .iter()
        .map(|(n, b)| {
            if n == "distances" {
                let first = distances[..k * k].repeat(f);
                (n.clone(), npy::f64_bytes(&[f, k, k], &first))
            } else {
                (n.clone(), b.clone())
            }
        })
        .collect();
    let ranked = spatial_anomalies(&read(&constant).unwrap(), k).unwrap();
    assert_eq!(ranked.len(), k);
    assert!(ranked.iter().all(|m| m.score < 1e-9), "{ranked:?}");
}

// ---------------------------------------------------------------------------------------------
// Node features and the files

#[test]
fn node_features_are_a_table_for_a_classifier() {
    let data = fragmenting_data();
    let (f, k) = (data.n_frames(), data.n_components());
    let expected = node_features(&data, None).unwrap();
    assert_eq!(
        expected.columns,
        [
            "row",
            "col",
            "var_row",
            "var_col",
            "cov_eig_0",
            "cov_eig_1",
            "weight",
            "degree",
            "eigenvector_centrality",
            "expected_pixels"
        ]
    );
    assert_eq!(expected.values.len(), f * k * expected.columns.len());
    let counted = node_features(&data, Some(&[SIDE, SIDE])).unwrap();
    assert_eq!(counted.columns.last().map(String::as_str), Some("pixels"));
    for t in [0, CHANGE, f - 1] {
        let a = einmix_image::affinity(data.distances().index_axis(ndarray::Axis(0), t));
        let mut pixels = 0.0;
        let mut norm = 0.0;
        for c in 0..k {
            let get = |name: &str| counted.get(t, c, name).unwrap();
            assert_eq!(get("row"), data.means()[[t, c, 0]]);
            assert_eq!(get("var_col"), data.covariances()[[t, c, 1, 1]]);
            let (l0, l1) = (get("cov_eig_0"), get("cov_eig_1"));
            let cov = data.covariances();
            assert!(close(l0 + l1, cov[[t, c, 0, 0]] + cov[[t, c, 1, 1]]) && l0 <= l1);
            assert!(close(l0 * l1, cov[[t, c, 0, 0]] * cov[[t, c, 1, 1]] - cov[[t, c, 0, 1]].powi(2)));
            assert!(close(get("degree"), a.row(c).sum()));
            let x = get("eigenvector_centrality");
            assert!(x >= 0.0);
            norm += x * x;
            // The centrality is the Perron vector: A x = lambda x.
            let ax: f64 =
                (0..k).map(|j| a[[c, j]] * counted.get(t, j, "eigenvector_centrality").unwrap()).sum();
            let lambda: f64 = (0..k)
                .map(|i| {
                    (0..k)
                        .map(|j| a[[i, j]] * counted.get(t, j, "eigenvector_centrality").unwrap())
                        .sum::<f64>()
                        * counted.get(t, i, "eigenvector_centrality").unwrap()
                })
                .sum();
            assert!((ax - lambda * x).abs() < 1e-8, "frame {t} component {c}: {ax} vs {}", lambda * x);
            pixels += get("pixels");
            let n_points = data.n_points().unwrap()[t] as f64;
            assert!(close(expected.get(t, c, "expected_pixels").unwrap(), data.weights()[[t, c]] * n_points));
        }
        assert_eq!(pixels, (SIDE * SIDE) as f64, "every pixel has a most probable component");
        assert!(close(norm, 1.0));
    }
    // Each spot's component is the most probable one for a share of the frame near 1/8.
    for c in 0..k {
        let p = counted.get(0, c, "pixels").unwrap();
        assert!(p > 200.0 && p < 900.0, "component {c}: {p} pixels");
    }
    // The files.
    let csv = features_csv(&counted);
    assert_eq!(csv.lines().count(), f * k + 1);
    assert!(csv.starts_with("frame,component,row,col,"));
    assert!(csv.lines().nth(k + 1).unwrap().starts_with("1,0,"));
    let bytes = npz::archive(&features_npz_members(&counted)).unwrap();
    let mut archive = npz::Npz::new(&bytes).unwrap();
    let table = archive.array::<f64>("features").unwrap().unwrap();
    assert_eq!(table.shape, [f, k, counted.columns.len()]);
    assert_eq!(table.data, counted.values);
    assert!(node_features(&data, Some(&[SIDE, SIDE, 3])).unwrap_err().to_string().contains("(H, W)"));
}

#[test]
fn volumes_count_voxels_on_their_grid() {
    // Two unit Gaussians at (z, row, col) = (0, 2, 2) and (0, 6, 6) over a (2, 8, 8) grid of
    // voxels 2 deep: each voxel goes to the nearer mean, a tie (row + col = 8) to the first.
    let (f, k) = (2usize, 2usize);
    let eye: Vec<f64> = (0..f * k).flat_map(|_| [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]).collect();
    let members = vec![
        ("means".to_string(), npy::f64_bytes(&[f, k, 3], &[0.0, 2.0, 2.0, 0.0, 6.0, 6.0].repeat(f))),
        ("covars".into(), npy::f64_bytes(&[f, k, 3, 3], &eye)),
        ("weights".into(), npy::f64_bytes(&[f, k], &[0.5; 4])),
        ("distances".into(), npy::f64_bytes(&[f, k, k], &[0.0, 1.0, 1.0, 0.0].repeat(f))),
        ("laplacian".into(), npy::f64_bytes(&[f, 0], &[])),
        ("frames".into(), npy::i64_bytes(&[f], &[0, 1])),
        ("voxel_size".into(), npy::f64_bytes(&[3], &[2.0, 1.0, 1.0])),
    ];
    let data = read(&members).unwrap();
    assert_eq!(data.grid().axes(), [2.0, 1.0, 1.0]);
    let features = node_features(&data, Some(&[2, 8, 8])).unwrap();
    assert_eq!(
        features.columns,
        [
            "z",
            "row",
            "col",
            "var_z",
            "var_row",
            "var_col",
            "cov_eig_0",
            "cov_eig_1",
            "cov_eig_2",
            "weight",
            "degree",
            "eigenvector_centrality",
            "pixels"
        ]
    );
    assert_eq!(features.column("pixels").unwrap(), [86.0, 42.0, 86.0, 42.0]);
    assert_eq!(features.column("cov_eig_2").unwrap(), [1.0; 4]);
    // Two nodes, one edge: equal degrees and centralities 1 / sqrt(2).
    let centrality = features.column("eigenvector_centrality").unwrap();
    assert!(centrality.iter().all(|c| (c - 0.5f64.sqrt()).abs() < 1e-12), "{centrality:?}");
    // Without a frame shape and without n_points, no pixel column.
    assert_eq!(node_features(&data, None).unwrap().columns.last().unwrap(), "eigenvector_centrality");
}

#[test]
fn spectra_files_hold_the_series() {
    let data = read(&hand_made(9, 4, 5, true)).unwrap();
    let csv = spectra_csv(&data);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "frame,algebraic_connectivity,spectral_gap,largest_eigenvalue,mean_eigenvalue,mean_distance,\
         mean_nearest_distance,eigenvalue_0,eigenvalue_1,eigenvalue_2,eigenvalue_3"
    );
    let second: Vec<f64> = lines.nth(1).unwrap().split(',').map(|v| v.parse().unwrap()).collect();
    assert_eq!(second[0], 102.0, "the file's frame index");
    assert_eq!(second[1], data.series(Statistic::AlgebraicConnectivity)[1]);
    assert_eq!(second[7..], data.spectra().row(1).to_vec()[..]);
    let bytes = npz::archive(&spectra_npz_members(&data)).unwrap();
    let mut archive = npz::Npz::new(&bytes).unwrap();
    assert_eq!(
        archive.array::<f64>("spectral_gap").unwrap().unwrap().data,
        data.series(Statistic::SpectralGap)
    );
    assert_eq!(archive.array::<f64>("eigenvalues").unwrap().unwrap().shape, [9, 4]);
    // Names round-trip.
    for s in Statistic::ALL {
        assert_eq!(s.to_string().parse::<Statistic>().unwrap(), s);
    }
    let bad = "mean".parse::<Statistic>().unwrap_err().to_string();
    assert!(bad.contains("algebraic_connectivity"), "{bad}");
}

// ---------------------------------------------------------------------------------------------
// Bad input

fn analysis_problem(e: Error) -> String {
    match e {
        Error::Analysis { problem, .. } => problem,
        other => panic!("expected an analysis error, got {other:?}"),
    }
}

#[test]
fn an_npz_that_is_not_a_track_is_refused() {
    // OrNet's intermediates: a mixture per frame, no graph.
    let members = without(&hand_made(5, 3, 1, true), &["distances", "laplacian", "frames", "n_points"]);
    let message = read(&members).unwrap_err().to_string();
    assert!(message.starts_with("hand/track.npz: not a track"), "{message}");
    assert!(message.contains("the arrays distances, laplacian, frames are missing"), "{message}");
    assert!(message.contains("this one holds means, covars, weights"), "{message}");
    // Inconsistent shapes name the array and both shapes.
    let mut members = hand_made(5, 3, 1, true);
    members[3].1 = npy::f64_bytes(&[5, 3, 4], &[0.0; 60]);
    let message = analysis_problem(read(&members).unwrap_err());
    assert!(message.contains("distances has shape [5, 3, 4], expected (F, K, K) = [5, 3, 3]"), "{message}");
    // Not an archive at all.
    let e = TrackData::from_npz(b"frame,value\n0,1\n", "summary.csv").unwrap_err();
    assert!(matches!(e, Error::Corrupt { format: ".npz", .. }), "{e:?}");
    // A missing file names it.
    let e = TrackData::read("/nonexistent/track.npz").unwrap_err();
    assert!(e.to_string().contains("/nonexistent/track.npz"), "{e}");
}

#[test]
fn a_window_as_long_as_the_video_is_refused() {
    let data = read(&hand_made(12, 4, 2, true)).unwrap();
    let options = AnomalyOptions::default();
    let message = temporal_anomalies(&data, &options).unwrap_err().to_string();
    assert!(message.contains("window 20 is not shorter than the track's 12 frames"), "{message}");
    let message =
        temporal_anomalies(&data, &AnomalyOptions { window: 12, ..options }).unwrap_err().to_string();
    assert!(message.contains("window 12 is not shorter than the track's 12 frames"), "{message}");
    assert!(temporal_anomalies(&data, &AnomalyOptions { window: 11, ..options }).is_ok());
    let e = temporal_anomalies(&data, &AnomalyOptions { window: 1, ..options }).unwrap_err();
    assert!(e.to_string().contains("'window'"), "{e}");
    for threshold in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = temporal_anomalies(&data, &AnomalyOptions { threshold, window: 5, ..options }).unwrap_err();
        assert!(e.to_string().contains("'threshold'"), "{e}");
    }
    // Spatial anomalies need two frames.
    let one = read(&hand_made(1, 4, 2, true)).unwrap();
    let message = spatial_anomalies(&one, 3).unwrap_err().to_string();
    assert!(message.contains("at least 2 frames"), "{message}");
}

#[test]
fn a_track_of_one_component_is_refused() {
    let message = analysis_problem(read(&hand_made(6, 1, 4, true)).unwrap_err());
    assert!(
        message.contains("the track has 1 component: a graph of one node has no spectrum to analyse"),
        "{message}"
    );
    // The same from memory: one blob, tracked.
    let frames = Array3::from_shape_fn((3, 32, 32), |(_, r, c)| {
        let d2 = (r as f64 - 15.0).powi(2) + (c as f64 - 16.0).powi(2);
        (100.0 * (-d2 / 8.0).exp()).round() as f32
    });
    let options =
        TrackOptions { background: "0.5".parse().unwrap(), n_threads: Some(1), ..TrackOptions::default() };
    let one = track(&Stack::new(frames), None, &options, &mut |_| {}).unwrap();
    assert_eq!(one.n_components(), 1);
    let message = TrackData::from_track(&one).unwrap_err().to_string();
    assert!(message.starts_with("<track>: the track has 1 component"), "{message}");
}

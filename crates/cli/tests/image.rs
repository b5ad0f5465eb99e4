//! Story: `einmix image` runs end to end in a temp dir (demo, track, fit), writes every output
//! it announces, refuses to overwrite without --force, and reports bad input as a message with
//! exit code 2.

mod common;

use predicates::prelude::*;
use predicates::str::contains;

/// A (3, 40, 60) uint16 stack with two blobs drifting right, as .npy.
fn stack_npy() -> Vec<u8> {
    stack_on_floor_npy(0.0)
}

/// [`stack_npy`]'s blobs on a flat floor of `floor` counts.
fn stack_on_floor_npy(floor: f64) -> Vec<u8> {
    let mut payload = Vec::new();
    for t in 0..3 {
        for r in 0..40 {
            for c in 0..60 {
                let blob = |r0: f64, c0: f64| {
                    let d2 = (r as f64 - r0).powi(2) + (c as f64 - c0 - 2.0 * t as f64).powi(2);
                    80.0 * (-d2 / 6.0).exp()
                };
                let v = (floor + blob(12.0, 15.0) + blob(28.0, 35.0)).round() as u16;
                payload.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    common::npy("<u2", false, "(3, 40, 60)", &payload)
}

#[test]
fn demo_writes_the_pictures_and_the_npz() {
    let dir = common::Dir::new();
    dir.einmix(&["image", "demo", "-q", "-o", "out"]).assert().success();
    let names = ["track.npz", "summary.csv", "reseeds.csv", "graph.png", "frame_0000.png", "frame_0029.png"];
    for name in names {
        let bytes = dir.read(&format!("out/{name}"));
        assert!(!bytes.is_empty(), "{name} is empty");
    }
    assert!(dir.read("out/frame_0000.png").starts_with(b"\x89PNG"));
    assert!(dir.read("out/track.npz").starts_with(b"PK"));
    assert_eq!(dir.text("out/summary.csv").lines().count(), 31);
    // A second run refuses to replace the outputs, unless --force.
    dir.einmix(&["image", "demo", "-q", "-o", "out"]).assert().code(2).stderr(contains("already exists"));
    dir.einmix(&["image", "demo", "-q", "-o", "out", "--force"]).assert().success();
}

#[test]
fn track_and_fit_a_stack() {
    let dir = common::Dir::new();
    dir.write("s.npy", stack_npy());
    dir.einmix(&["image", "track", "s.npy", "--background", "0.5", "-q", "-o", "t"]).assert().success();
    let summary = dir.text("t/summary.csv");
    assert_eq!(summary.lines().count(), 4);
    assert!(dir.read("t/frame_0001.png").starts_with(b"\x89PNG"));
    dir.einmix(&["image", "fit", "s.npy", "--frame", "2", "-k", "2", "--background", "0.5", "-q", "-o", "f"])
        .assert()
        .success();
    assert_eq!(dir.text("f/summary.csv").lines().nth(1).unwrap().split(',').next(), Some("2"));
    assert!(dir.read("f/fit.npz").starts_with(b"PK"));
}

#[test]
fn bad_inputs_are_messages_with_exit_code_2() {
    let dir = common::Dir::new();
    dir.write("s.npy", stack_npy());
    dir.write("mask.npy", common::npy("<u1", false, "(4, 4)", &[1; 16]));
    dir.einmix(&["image", "track", "s.npy", "--mask", "mask.npy", "-o", "o"])
        .assert()
        .code(2)
        .stderr(contains("einmix: error: the mask is (4, 4) pixels but the image is (40, 60)"));
    dir.write("cut.tif", b"II*\x00\x08\x00\x00\x00\x05");
    dir.einmix(&["image", "fit", "cut.tif", "-o", "o"])
        .assert()
        .code(2)
        .stderr(contains("cut.tif: not a valid TIFF file"));
    dir.einmix(&["image", "track", "s.npy", "-k", "0", "-o", "o"]).assert().code(2).stderr(contains("K is"));
    dir.einmix(&["image", "track", "s.npy", "--background", "p120", "-o", "o"])
        .assert()
        .code(2)
        .stderr(contains("percentile"));
    dir.einmix(&["image", "track", "s.npy", "--frames", "9:", "-o", "o"])
        .assert()
        .code(2)
        .stderr(contains("select nothing"));
    dir.einmix(&["image", "track", "s.npy", "--online", "--bayesian", "-o", "o"])
        .assert()
        .code(2)
        .stderr(contains("choose online or bayesian"));
    assert!(!dir.path("o").join("summary.csv").exists());
}

/// The pixels of a PNG (RGB, 8 bits), decoded.
fn rgb_pixels(bytes: &[u8]) -> Vec<[u8; 3]> {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a frame");
    buf[..info.buffer_size()].chunks(3).map(|p| [p[0], p[1], p[2]]).collect()
}

/// Issue 12: the frame pictures draw the component graph (edges in their own colour, with a
/// legend) unless --no-edges; the learned floor is the default and summary.csv reports it.
#[test]
fn pictures_draw_the_graph_unless_asked_not_to() {
    let dir = common::Dir::new();
    dir.write("s.npy", stack_npy());
    dir.einmix(&["image", "fit", "s.npy", "-k", "2", "-q", "-o", "with"]).assert().success();
    dir.einmix(&["image", "fit", "s.npy", "-k", "2", "--no-edges", "-q", "-o", "without"]).assert().success();
    let edge_pixels = |name: &str| {
        rgb_pixels(&dir.read(&format!("{name}/frame_0000.png")))
            .iter()
            .filter(|p| **p == einmix_image::EDGE_COLOUR)
            .count()
    };
    assert!(edge_pixels("with") > 20, "the edge between the two components and the legend's sample");
    assert_eq!(edge_pixels("without"), 0);
    let summary = dir.text("with/summary.csv");
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
    let share: f64 = row[header.iter().position(|h| *h == "floor_share").unwrap()].parse().unwrap();
    assert!(share > 0.0 && share < 0.5, "the blobs hold most of this frame's intensity: {share}");
}

/// Issue 12: an RGB image needs --channel; the error lists the channels.
#[test]
fn a_colour_image_needs_a_channel() {
    let dir = common::Dir::new();
    let (w, h) = (40u32, 30u32);
    let mut rgb = Vec::new();
    for r in 0..h {
        for c in 0..w {
            let d2 = (r as f64 - 15.0).powi(2) + (c as f64 - 20.0).powi(2);
            let v = (200.0 * (-d2 / 10.0).exp()) as u8;
            rgb.extend_from_slice(&[5, v, 5]);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.write_header().unwrap().write_image_data(&rgb).unwrap();
    }
    dir.write("cell.png", out);
    dir.einmix(&["image", "fit", "cell.png", "-q", "-o", "a"]).assert().code(2).stderr(contains(
        "cell.png: the image has 3 channels (0: red, 1: green, 2: blue): choose one with --channel N",
    ));
    dir.einmix(&["image", "fit", "cell.png", "--channel", "1", "-q", "-o", "b"]).assert().success();
    let summary = dir.text("b/summary.csv");
    assert!(summary.lines().count() == 2);
    dir.einmix(&["image", "fit", "cell.png", "--channel", "3", "-q", "-o", "c"])
        .assert()
        .code(2)
        .stderr(contains("channel 3 does not exist: the image has 3 channel(s)"));
}

/// Issues 12 and 13: `--bayesian` learns the floor too, unless a level is given: summary.csv
/// reports the floor's share and the effective K per frame.
#[test]
fn a_bayesian_track_learns_the_floor_unless_a_level_is_given() {
    let dir = common::Dir::new();
    dir.write("s.npy", stack_npy());
    dir.einmix(&["image", "track", "s.npy", "--bayesian", "-q", "-o", "learned"]).assert().success();
    dir.einmix(&["image", "track", "s.npy", "--bayesian", "--background", "0.5", "-q", "-o", "level"])
        .assert()
        .success();
    let column = |name: &str, column: &str| -> Vec<String> {
        let summary = dir.text(&format!("{name}/summary.csv"));
        let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
        let at = header.iter().position(|h| *h == column).unwrap();
        summary.lines().skip(1).map(|l| l.split(',').nth(at).unwrap().to_string()).collect()
    };
    for share in column("learned", "floor_share") {
        let share: f64 = share.parse().unwrap();
        assert!(share > 0.0 && share < 0.5, "the blobs hold most of the intensity: {share}");
    }
    assert_eq!(column("learned", "effective_k"), vec!["2"; 3]);
    assert_eq!(column("level", "floor_share"), vec![""; 3], "a subtracted level learns no floor");
    assert_eq!(column("level", "effective_k"), vec!["2"; 3]);
}

/// With the learned floor holding nearly all the intensity, a `--bayesian` picture still draws
/// the ellipses of its effective components (counted among the Gaussians).
#[test]
fn a_bayesian_picture_on_a_bright_floor_draws_its_components() {
    let dir = common::Dir::new();
    dir.write("s.npy", stack_on_floor_npy(300.0));
    dir.einmix(&["image", "fit", "s.npy", "--bayesian", "-q", "-o", "f"]).assert().success();
    let summary = dir.text("f/summary.csv");
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = summary.lines().nth(1).unwrap().split(',').collect();
    let share: f64 = row[header.iter().position(|h| *h == "floor_share").unwrap()].parse().unwrap();
    // Each blob's own weight is then under EFFECTIVE_WEIGHT (0.01) of the whole.
    assert!(share > 0.98, "the floor holds nearly everything: {share}");
    assert_eq!(row[header.iter().position(|h| *h == "effective_k").unwrap()], "2");
    let pixels = rgb_pixels(&dir.read("f/frame_0000.png"));
    for k in 0..2 {
        let drawn = pixels.iter().filter(|p| **p == einmix_image::colour(k)).count();
        assert!(drawn > 20, "component {k}'s ellipse: {drawn} pixels");
    }
}

/// `n` frames of 64 x 96 uint16 as .npy: three blobs wandering on a floor of 30 counts.
fn long_npy(n: usize) -> Vec<u8> {
    let mut payload = Vec::new();
    for t in 0..n {
        let tf = t as f64;
        for r in 0..64 {
            for c in 0..96 {
                let blob = |r0: f64, c0: f64, a: f64| {
                    let d2 = (r as f64 - r0).powi(2) + (c as f64 - c0).powi(2);
                    a * (-d2 / 8.0).exp()
                };
                let v = 30.0
                    + blob(16.0 + 4.0 * (tf / 9.0).sin(), 20.0 + 0.05 * tf, 90.0)
                    + blob(44.0, 50.0 + 6.0 * (tf / 13.0).cos(), 70.0)
                    + blob(30.0 + 3.0 * (tf / 7.0).cos(), 78.0, 60.0);
                payload.extend_from_slice(&(v.round() as u16).to_le_bytes());
            }
        }
    }
    common::npy("<u2", false, &format!("({n}, 64, 96)"), &payload)
}

/// The summary without its wall-time column.
fn without_times(summary: &str) -> Vec<String> {
    summary
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            f.remove(10);
            f.join(",")
        })
        .collect()
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_the_uninterrupted_files() {
    let dir = common::Dir::new();
    dir.write("v.npy", long_npy(400));
    let args = ["image", "track", "v.npy", "-q", "--threads", "1", "--checkpoint-every", "0.001"];
    let mut whole = args.to_vec();
    whole.extend(["-o", "whole"]);
    dir.einmix(&whole).assert().success();
    // The same run, killed (SIGKILL: no chance to tidy up) once a few checkpoints are down.
    let mut killed = args.to_vec();
    killed.extend(["-o", "killed"]);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("einmix"))
        .args(&killed)
        .current_dir(dir.path("."))
        .spawn()
        .unwrap();
    let checkpoint = dir.path("killed/.track.checkpoint.json");
    let started = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(&checkpoint).unwrap_or_default();
        let next = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v["next"].as_u64());
        if next.is_some_and(|n| n >= 20) || started.elapsed().as_secs() > 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(checkpoint.exists(), "the run finished before it could be killed");
    assert!(!dir.path("killed/track.npz").exists(), "a killed run wrote no final .npz");
    // Without --resume the folder is refused; with it the run goes on.
    dir.einmix(&killed).assert().code(2).stderr(contains("holds an unfinished run"));
    let mut resumed = killed.clone();
    resumed.push("--resume");
    dir.einmix(&resumed).assert().success();
    assert_eq!(dir.read("killed/track.npz"), dir.read("whole/track.npz"));
    assert_eq!(without_times(&dir.text("killed/summary.csv")), without_times(&dir.text("whole/summary.csv")));
    assert_eq!(dir.read("killed/graph.png"), dir.read("whole/graph.png"));
    assert!(!checkpoint.exists());
}

#[test]
fn labels_track_every_cell_into_its_folder() {
    let dir = common::Dir::new();
    dir.write("v.npy", long_npy(6));
    // Two cells: the left and the right of the field; a third label that does not fit is refused.
    let mut labels = Vec::new();
    for _r in 0..64 {
        for c in 0..96u16 {
            let label: u16 = if c < 40 {
                1
            } else if c > 60 {
                2
            } else {
                0
            };
            labels.extend_from_slice(&label.to_le_bytes());
        }
    }
    dir.write("labels.npy", common::npy("<u2", false, "(64, 96)", &labels));
    dir.einmix(&["image", "track", "v.npy", "--labels", "labels.npy", "-q", "-o", "cells"])
        .assert()
        .success();
    for cell in ["cell_1", "cell_2"] {
        assert!(dir.read(&format!("cells/{cell}/track.npz")).starts_with(b"PK"));
        assert_eq!(dir.text(&format!("cells/{cell}/summary.csv")).lines().count(), 7);
        assert!(dir.read(&format!("cells/{cell}/frame_0000.png")).starts_with(b"\x89PNG"));
    }
    let csv = dir.text("cells/cells.csv");
    assert!(csv.lines().nth(1).unwrap().starts_with("1,0,5,6,"), "{csv}");
    // A second run does not replace the cells without --force.
    let again = ["image", "track", "v.npy", "--labels", "labels.npy", "-q", "-o", "cells"];
    dir.einmix(&again).assert().code(2).stderr(contains("cells.csv exists"));
    let mut forced = again.to_vec();
    forced.push("--force");
    dir.einmix(&forced).assert().success();
    dir.write("small.npy", common::npy("<u2", false, "(4, 4)", &[1u8; 32]));
    dir.einmix(&["image", "track", "v.npy", "--labels", "small.npy", "-q", "-o", "bad"])
        .assert()
        .code(2)
        .stderr(contains("small.npy").and(contains("do not fit frames of shape")));
}

#[test]
fn analyse_writes_the_analysis_of_a_track_and_of_every_cell() {
    let dir = common::Dir::new();
    dir.write("v.npy", long_npy(30));
    dir.einmix(&["image", "track", "v.npy", "-q", "-o", "t"]).assert().success();
    dir.einmix(&["image", "analyse", "t/track.npz", "--window", "10", "-q", "-o", "a"]).assert().success();
    for name in
        ["anomalies.csv", "anomalies.png", "spectra.csv", "spectra.npz", "spatial.csv", "features.csv"]
    {
        assert!(!dir.read(&format!("a/{name}")).is_empty(), "{name}");
    }
    let rows = dir.text("a/anomalies.csv");
    assert_eq!(rows.lines().count(), 31);
    // The spatial anomalies boxed on a frame of the video.
    dir.einmix(&[
        "image",
        "analyse",
        "t",
        "--window",
        "10",
        "--video",
        "v.npy",
        "--pictures",
        "5",
        "-q",
        "-o",
        "p",
    ])
    .assert()
    .success();
    assert!(dir.read("p/frame_0005.png").starts_with(b"\x89PNG"));
    assert!(rows.lines().nth(11).unwrap().starts_with("10,algebraic_connectivity,"));
    // Not over an earlier analysis without --force; a window as long as the track is refused.
    dir.einmix(&["image", "analyse", "t", "--window", "10", "-q", "-o", "a"])
        .assert()
        .code(2)
        .stderr(contains("already exists"));
    dir.einmix(&["image", "analyse", "t", "--window", "30", "-q", "-o", "b"])
        .assert()
        .code(2)
        .stderr(contains("window 30 is not shorter than the track's 30 frames"));
    // A cells folder: one analysis per cell and a line each.
    let mut labels = Vec::new();
    for _r in 0..64 {
        for c in 0..96u16 {
            // Cell 1 holds two blobs; cell 2 one, whose one-node graph has nothing to analyse.
            labels.extend_from_slice(&(if c < 64 { 1u16 } else { 2 }).to_le_bytes());
        }
    }
    dir.write("labels.npy", common::npy("<u2", false, "(64, 96)", &labels));
    dir.einmix(&["image", "track", "v.npy", "--labels", "labels.npy", "-q", "-o", "cells"])
        .assert()
        .success();
    dir.einmix(&["image", "analyse", "cells", "--window", "10", "-q", "-o", "ca"]).assert().success();
    let table = dir.text("ca/cells_analysis.csv");
    assert!(table.starts_with("label,n_frames,k,statistic,largest_z_frame"), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(
        !dir.read("ca/cell_1/anomalies.csv").is_empty() && !dir.read("ca/cell_1/features.npz").is_empty()
    );
    let cell_2 = table.lines().find(|l| l.starts_with("2,")).unwrap();
    assert!(cell_2.contains("not analysed") && cell_2.contains("1 component"), "{cell_2}");
    // Not a track: a clear message.
    dir.write("x.npz", dir.read("a/spectra.npz"));
    dir.einmix(&["image", "analyse", "x.npz", "-q", "-o", "c"]).assert().code(2).stderr(contains("x.npz"));
}

#[test]
fn covariance_type_shapes_the_track_and_full_is_the_default_byte_for_byte() {
    let dir = common::Dir::new();
    dir.write("s.npy", stack_npy());
    let track = |out: &str, extra: &[&str]| {
        let args = ["image", "track", "s.npy", "--background", "0.5", "--threads", "1", "-q", "-o", out];
        dir.einmix(&[&args[..], extra].concat()).assert().success();
    };
    track("default", &[]);
    track("full", &["--covariance-type", "full"]);
    assert_eq!(dir.read("default/track.npz"), dir.read("full/track.npz"));
    for kind in ["diag", "spherical", "tied"] {
        track(kind, &["--covariance-type", kind]);
        let bytes = dir.read(&format!("{kind}/track.npz"));
        let mut npz = einmix_io::npz::Npz::new(&bytes).expect("an archive");
        // Dense (F, K, D, D) whatever the kind.
        let covars = npz.array::<f64>("covars").unwrap().expect("covars");
        assert_eq!(covars.shape, [3, 2, 2, 2], "{kind}");
        for frame in covars.data.chunks(2 * 4) {
            let (first, second) = frame.split_at(4);
            for m in [first, second] {
                assert!(m[0] > 0.0 && m[3] > 0.0, "{kind}: {m:?}");
                match kind {
                    "diag" => assert_eq!((m[1], m[2]), (0.0, 0.0)),
                    "spherical" => assert!(m[1] == 0.0 && m[2] == 0.0 && m[0] == m[3], "{m:?}"),
                    _ => assert_eq!(first, second, "tied: one matrix for both components"),
                }
            }
        }
    }
    // The spellings of `einmix fit`; anything else is a usage error naming them.
    dir.einmix(&["image", "track", "s.npy", "--covariance-type", "diagonal", "-o", "o"])
        .assert()
        .code(2)
        .stderr(contains("[possible values: full, tied, diag, spherical]"));
}

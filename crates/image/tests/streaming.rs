//! Story: a video is tracked one frame at a time into its output folder, with the same bits as
//! the in-memory run; a run stopped anywhere (interrupted, killed after writing past its last
//! checkpoint, or stopped by a truncated page) resumes to the very files an uninterrupted run
//! writes; a checkpoint of other options or another input is refused, naming the difference;
//! every reader (TIFF pages, `.npy` by positioned reads, a folder of frames) gives the frames
//! the whole-file reader gives.

mod common;

use std::io::{Cursor, Write};
use std::path::Path;

use einmix_image::{
    open_frames, read_stack, track, track_to_dir, Background, Floor, FrameRange, FrameSource, Init,
    PeakOptions, ReadOptions, RunOptions, Stack, TrackOptions,
};
use ndarray::{Array3, Axis};
use tiff::encoder::{colortype, TiffEncoder};

/// The synthetic time-lapse (moving, splitting, fading blobs) on a floor of 20 counts.
fn video(n: usize) -> Array3<f32> {
    let (frames, _) = common::moving_splitting_fading(n, n / 2, 2 * n / 3);
    frames.mapv(|v| v + 20.0)
}

fn options() -> TrackOptions {
    TrackOptions {
        init: Init::Peaks(PeakOptions { min_distance: 5, ..PeakOptions::default() }),
        n_threads: Some(2),
        ..TrackOptions::default()
    }
}

fn write_tiff(path: &Path, frames: &Array3<f32>) {
    let mut bytes = Cursor::new(Vec::new());
    {
        let mut enc = TiffEncoder::new(&mut bytes).unwrap();
        let (_, h, w) = frames.dim();
        for frame in frames.axis_iter(Axis(0)) {
            let data: Vec<u16> = frame.iter().map(|&v| v as u16).collect();
            enc.write_image::<colortype::Gray16>(w as u32, h as u32, &data).unwrap();
        }
    }
    std::fs::write(path, bytes.into_inner()).unwrap();
}

fn run(out: &Path) -> RunOptions {
    RunOptions { checkpoint_frames: 3, ..RunOptions::new(out) }
}

/// The summary without its wall-time column (which differs between any two runs).
fn summary_without_times(out: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    text.lines()
        .map(|line| {
            let mut fields: Vec<&str> = line.split(',').collect();
            fields.remove(10);
            fields.join(",")
        })
        .collect()
}

fn stream(path: &Path, out: &Path, run: &RunOptions, stop_after: Option<usize>) -> einmix_image::Result<()> {
    let mut source = open_frames(path, &ReadOptions::default())?;
    track_to_dir(&mut source, None, &options(), run, &mut |position, _, _| Some(position) != stop_after)?;
    let _ = out;
    Ok(())
}

#[test]
fn a_streamed_tiff_gives_the_in_memory_track_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("video.tif");
    let frames = video(30);
    write_tiff(&path, &frames);
    let in_memory =
        track(&read_stack(&path, &ReadOptions::default()).unwrap(), None, &options(), &mut |_| {}).unwrap();
    let out = dir.path().join("out");
    stream(&path, &out, &run(&out), None).unwrap();
    let written = std::fs::read(out.join("track.npz")).unwrap();
    assert_eq!(written, in_memory.to_npz().unwrap(), "the streamed .npz differs from the in-memory one");
    assert_eq!(in_memory.frames.len(), 30);
    // The CSV rows too, but for the wall times; the run's working files are gone.
    let mut expected: Vec<String> = in_memory.summary_csv().lines().map(str::to_string).collect();
    for line in &mut expected {
        let mut fields: Vec<&str> = line.split(',').collect();
        fields.remove(10);
        *line = fields.join(",");
    }
    assert_eq!(summary_without_times(&out), expected);
    assert_eq!(std::fs::read_to_string(out.join("reseeds.csv")).unwrap(), in_memory.reseeds_csv());
    assert!(!out.join(".track.parts").exists() && !out.join(".track.checkpoint.json").exists());
    // The in-memory stack through the same loop gives the same bytes.
    let out2 = dir.path().join("out2");
    let stack = Stack::new(frames);
    track_to_dir(
        &mut einmix_image::StackFrames::new(&stack),
        None,
        &options(),
        &run(&out2),
        &mut |_, _, _| true,
    )
    .unwrap();
    assert_eq!(std::fs::read(out2.join("track.npz")).unwrap(), written);
}

#[test]
fn an_interrupted_run_resumes_to_the_uninterrupted_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("video.tif");
    write_tiff(&path, &video(24));
    let whole = dir.path().join("whole");
    stream(&path, &whole, &run(&whole), None).unwrap();
    for stop in [0, 7, 11, 22] {
        let out = dir.path().join(format!("stopped{stop}"));
        stream(&path, &out, &run(&out), Some(stop)).unwrap();
        // The stopped run left a valid .npz of its frames so far, and its checkpoint.
        let partial = std::fs::read(out.join("track.npz")).unwrap();
        let mut npz = einmix_io::npz::Npz::new(&partial).unwrap();
        assert_eq!(npz.array::<f64>("lower_bound").unwrap().unwrap().shape, vec![stop + 1]);
        assert!(out.join(".track.checkpoint.json").exists());
        // A kill after the checkpoint leaves bytes past it; the resumed run cuts them away.
        for part in ["summary.csv", ".track.parts/means.bin", ".track.parts/series.bin"] {
            let mut f = std::fs::OpenOptions::new().append(true).open(out.join(part)).unwrap();
            f.write_all(b"half-written frame").unwrap();
        }
        let resumed = RunOptions { resume: true, ..run(&out) };
        stream(&path, &out, &resumed, None).unwrap();
        assert_eq!(
            std::fs::read(out.join("track.npz")).unwrap(),
            std::fs::read(whole.join("track.npz")).unwrap(),
            "stopped after position {stop}"
        );
        assert_eq!(summary_without_times(&out), summary_without_times(&whole));
        assert_eq!(
            std::fs::read(out.join("reseeds.csv")).unwrap(),
            std::fs::read(whole.join("reseeds.csv")).unwrap()
        );
        // Finished: nothing left to resume, and it says so.
        let again = stream(&path, &out, &resumed, None).unwrap_err().to_string();
        assert!(again.contains("is complete"), "{again}");
    }
}

#[test]
fn a_truncated_page_stops_at_its_frame_and_the_run_resumes_once_the_file_is_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("video.tif");
    write_tiff(&path, &video(20));
    let whole = dir.path().join("whole");
    stream(&path, &whole, &run(&whole), None).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // Each page's strip comes before its directory: cutting inside page 12's strip breaks
    // the chain of directories there.
    let page = (bytes.len() - 8) / 20;
    std::fs::write(&path, &bytes[..8 + 12 * page + page / 2]).unwrap();
    let out = dir.path().join("out");
    let err = stream(&path, &out, &run(&out), None).unwrap_err().to_string();
    assert!(err.starts_with("frame 12: ") && err.contains("video.tif"), "{err}");
    let partial = std::fs::read(out.join("track.npz")).unwrap();
    let mut npz = einmix_io::npz::Npz::new(&partial).unwrap();
    assert_eq!(
        npz.array::<f64>("frames").unwrap().unwrap().data,
        (0..12).map(f64::from).collect::<Vec<f64>>()
    );
    assert_eq!(summary_without_times(&out).len(), 13, "header and 12 frames");
    // The acquisition finishes writing the file; the run continues where it stopped.
    std::fs::write(&path, &bytes).unwrap();
    stream(&path, &out, &RunOptions { resume: true, ..run(&out) }, None).unwrap();
    assert_eq!(
        std::fs::read(out.join("track.npz")).unwrap(),
        std::fs::read(whole.join("track.npz")).unwrap()
    );
}

#[test]
fn a_checkpoint_of_other_options_or_another_input_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("video.tif");
    write_tiff(&path, &video(12));
    let out = dir.path().join("out");
    stream(&path, &out, &run(&out), Some(4)).unwrap();
    let resumed = RunOptions { resume: true, ..run(&out) };
    let mut source = open_frames(&path, &ReadOptions::default()).unwrap();
    let other = TrackOptions { tol: 1e-4, ..options() };
    let err = track_to_dir(&mut source, None, &other, &resumed, &mut |_, _, _| true).unwrap_err().to_string();
    assert!(err.contains("option tol: 0.001 in the checkpoint, 0.0001 now"), "{err}");
    // Another covariance kind (full by default) shapes other numbers: refused, by name.
    let other = TrackOptions { covariance_type: einmix_image::CovarianceType::Diag, ..options() };
    let err = track_to_dir(&mut source, None, &other, &resumed, &mut |_, _, _| true).unwrap_err().to_string();
    assert!(err.contains("option covariance_type: full in the checkpoint, diag now"), "{err}");
    // Another video of the same size.
    let other_video = dir.path().join("other.tif");
    write_tiff(&other_video, &video(12).mapv(|v| v + 1.0));
    let err = stream(&other_video, &out, &resumed, None).unwrap_err().to_string();
    assert!(err.contains("input: ") && err.contains("other.tif"), "{err}");
    // A fresh run over the unfinished one needs --force.
    let err = stream(&path, &out, &run(&out), None).unwrap_err().to_string();
    assert!(err.contains("holds an unfinished run") && err.contains("--resume"), "{err}");
    stream(&path, &out, &RunOptions { force: true, ..run(&out) }, None).unwrap();
    // Nothing to resume in an empty folder.
    let empty = dir.path().join("empty");
    let err =
        stream(&path, &empty, &RunOptions { resume: true, ..run(&empty) }, None).unwrap_err().to_string();
    assert!(err.contains("no checkpoint"), "{err}");
}

/// Every frame of `source` equals the whole-file reader's.
fn same_frames(source: &mut dyn FrameSource, stack: &Stack) {
    assert_eq!(source.n_frames(), stack.n_frames());
    for i in 0..stack.n_frames() {
        assert_eq!(source.read_frame(i).unwrap(), stack.pixels.index_axis(Axis(0), i));
        assert_eq!(source.source_frame(i), stack.source_frames[i]);
    }
}

#[test]
fn npy_tiff_and_folder_sources_read_the_frames_the_whole_file_reader_reads() {
    let dir = tempfile::tempdir().unwrap();
    let frames = video(9);
    let (n, h, w) = frames.dim();
    // An int64 .npy, read frame by frame and converted as the whole-file reader converts it.
    let npy = dir.path().join("video.npy");
    let bytes = einmix_io::npy::i64_bytes(&[n, h, w], &frames.iter().map(|&v| v as i64).collect::<Vec<_>>());
    std::fs::write(&npy, &bytes).unwrap();
    for options in [
        ReadOptions::default(),
        ReadOptions { frames: FrameRange { start: 1, stop: Some(8), step: 3 }, ..ReadOptions::default() },
        ReadOptions { z_slices: Some(3), z_project: einmix_image::ZProject::Max, ..ReadOptions::default() },
        ReadOptions {
            z_slices: Some(3),
            z_project: einmix_image::ZProject::Volume,
            ..ReadOptions::default()
        },
    ] {
        let stack = read_stack(&npy, &options).unwrap();
        same_frames(&mut open_frames(&npy, &options).unwrap(), &stack);
        let tif = dir.path().join("video.tif");
        write_tiff(&tif, &frames);
        same_frames(&mut open_frames(&tif, &options).unwrap(), &read_stack(&tif, &options).unwrap());
    }
    // A folder of PNG frames, named so that plain text order would be wrong.
    let folder = dir.path().join("frames");
    std::fs::create_dir(&folder).unwrap();
    for (t, frame) in frames.axis_iter(Axis(0)).enumerate() {
        let mut png = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut png, w as u32, h as u32);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Sixteen);
            let data: Vec<u8> = frame.iter().flat_map(|&v| (v as u16).to_be_bytes()).collect();
            enc.write_header().unwrap().write_image_data(&data).unwrap();
        }
        std::fs::write(folder.join(format!("t{t}.png")), png).unwrap();
    }
    std::fs::write(folder.join("notes.txt"), "not a frame").unwrap();
    let stack = Stack::new(frames.clone());
    same_frames(&mut open_frames(&folder, &ReadOptions::default()).unwrap(), &stack);
    // A frame of another size is an error naming the file.
    let odd = dir.path().join("odd");
    std::fs::create_dir(&odd).unwrap();
    std::fs::copy(folder.join("t0.png"), odd.join("a0.png")).unwrap();
    let mut small = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut small, 3, 2);
        enc.set_color(png::ColorType::Grayscale);
        enc.write_header().unwrap().write_image_data(&[0; 6]).unwrap();
    }
    std::fs::write(odd.join("a1.png"), small).unwrap();
    let mut source = open_frames(&odd, &ReadOptions::default()).unwrap();
    let err = source.read_frame(1).unwrap_err().to_string();
    assert!(err.contains("a1.png") && err.contains("first frame has 1 of 80 x 120"), "{err}");
}

#[test]
fn options_for_the_floor_subtracted_track_stream_the_same() {
    // Another set of options (a level subtracted, online EM) through the same loop.
    let frames = video(10);
    let stack = Stack::new(frames);
    let dir = tempfile::tempdir().unwrap();
    for online in [false, true] {
        let options = TrackOptions {
            floor: Floor::Subtract,
            background: Background::Absolute(20.5),
            online,
            ..options()
        };
        let in_memory = track(&stack, None, &options, &mut |_| {}).unwrap();
        let out = dir.path().join(format!("online{online}"));
        let stop = RunOptions { checkpoint_frames: 2, ..RunOptions::new(&out) };
        let mut source = einmix_image::StackFrames::new(&stack);
        track_to_dir(&mut source, None, &options, &stop, &mut |p, _, _| p != 4).unwrap();
        let resumed = RunOptions { resume: true, ..stop };
        track_to_dir(&mut source, None, &options, &resumed, &mut |_, _, _| true).unwrap();
        assert_eq!(
            std::fs::read(out.join("track.npz")).unwrap(),
            in_memory.to_npz().unwrap(),
            "online {online}"
        );
    }
}

#[test]
fn a_run_killed_before_its_first_checkpoint_resumes_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("video.tif");
    write_tiff(&path, &video(8));
    let whole = dir.path().join("whole");
    stream(&path, &whole, &run(&whole), None).unwrap();
    // A panic in the observer unwinds out of the run without a checkpoint, as a kill would.
    let out = dir.path().join("killed");
    let slow = RunOptions {
        checkpoint_frames: 1000,
        checkpoint_every: std::time::Duration::from_secs(3600),
        ..run(&out)
    };
    for at in [0, 5] {
        let killed = std::panic::catch_unwind(|| {
            let mut source = open_frames(&path, &ReadOptions::default()).unwrap();
            let _ = track_to_dir(
                &mut source,
                None,
                &options(),
                &RunOptions { force: true, ..slow.clone() },
                &mut |p, _, _| {
                    if p == at {
                        panic!("killed");
                    }
                    true
                },
            );
        });
        assert!(killed.is_err());
        stream(&path, &out, &RunOptions { resume: true, ..run(&out) }, None).unwrap();
        assert_eq!(
            std::fs::read(out.join("track.npz")).unwrap(),
            std::fs::read(whole.join("track.npz")).unwrap()
        );
        assert_eq!(summary_without_times(&out), summary_without_times(&whole));
    }
}

#[test]
fn a_complete_run_kept_for_its_caller_resumes_to_nothing_new_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("video.tif");
    write_tiff(&path, &video(6));
    let out = dir.path().join("out");
    let kept = RunOptions { keep_checkpoint: true, ..run(&out) };
    stream(&path, &out, &kept, None).unwrap();
    let first = std::fs::read(out.join("track.npz")).unwrap();
    assert!(out.join(".track.checkpoint.json").exists(), "kept for the caller");
    // Killed before the caller finished: a resume fits nothing and gives the same track.
    let mut source = open_frames(&path, &ReadOptions::default()).unwrap();
    let resumed = RunOptions { resume: true, ..kept.clone() };
    let report =
        track_to_dir(&mut source, None, &options(), &resumed, &mut |_, _, _| panic!("no frame is left"))
            .unwrap();
    assert!(report.complete && report.resumed_at == Some(6));
    assert_eq!(std::fs::read(out.join("track.npz")).unwrap(), first);
    kept.finish().unwrap();
    assert!(!out.join(".track.checkpoint.json").exists() && !out.join(".track.parts").exists());
}

#[test]
fn a_truncated_tiff_of_z_stacks_stops_at_the_time_point_it_cannot_complete() {
    // 5 time points of 4 slices, as pages without OME metadata (--z-slices 4), cut inside
    // page 13: time points 0-2 are whole, time point 3 is not.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stacks.tif");
    write_tiff(&path, &video(20));
    let bytes = std::fs::read(&path).unwrap();
    let page = (bytes.len() - 8) / 20;
    std::fs::write(&path, &bytes[..8 + 13 * page + page / 2]).unwrap();
    let read =
        ReadOptions { z_slices: Some(4), z_project: einmix_image::ZProject::Max, ..ReadOptions::default() };
    let mut source = open_frames(&path, &read).unwrap();
    assert_eq!(source.n_frames(), 4, "three whole time points and the one cut short");
    for t in 0..3 {
        source.read_frame(t).unwrap();
    }
    let err = source.read_frame(3).unwrap_err().to_string();
    assert!(err.contains("stacks.tif") && err.contains("page 13"), "{err}");
    let out = dir.path().join("out");
    let mut source = open_frames(&path, &read).unwrap();
    let err =
        track_to_dir(&mut source, None, &options(), &run(&out), &mut |_, _, _| true).unwrap_err().to_string();
    assert!(err.starts_with("frame 3: "), "{err}");
    assert!(out.join(".track.checkpoint.json").exists(), "resumable");
}

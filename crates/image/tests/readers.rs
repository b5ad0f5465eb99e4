//! Story: every reader reads what it should (TIFF single and multi-page, OME-TIFF with Z,
//! 8/16-bit and float, PNG, `.npy` of 2, 3 or 4 axes), and every broken input gives a clear
//! error naming the file: a truncated TIFF, an unsupported sample format, a mask of the wrong
//! size.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use einmix_image::io::npy;
use einmix_image::{read_mask, read_stack, FrameRange, ReadOptions, ZProject};
use tiff::encoder::{colortype, TiffEncoder};
use tiff::tags::Tag;

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A multi-page 16-bit TIFF; page p holds p * 1000 + row * w + col. `description` is
/// written into the first page's ImageDescription.
fn tiff_u16(path: &Path, pages: usize, h: usize, w: usize, description: Option<&str>) {
    let mut bytes = Cursor::new(Vec::new());
    {
        let mut enc = TiffEncoder::new(&mut bytes).unwrap();
        for p in 0..pages {
            let data: Vec<u16> = (0..h * w).map(|i| (p * 1000 + i) as u16).collect();
            let mut image = enc.new_image::<colortype::Gray16>(w as u32, h as u32).unwrap();
            if let (0, Some(d)) = (p, description) {
                image.encoder().write_tag(Tag::ImageDescription, d).unwrap();
            }
            image.write_data(&data).unwrap();
        }
    }
    std::fs::write(path, bytes.into_inner()).unwrap();
}

#[test]
fn multi_page_tiff_is_a_stack_and_frames_select() {
    let d = dir();
    let path = d.path().join("stack.tif");
    tiff_u16(&path, 5, 3, 4, None);
    let stack = read_stack(&path, &ReadOptions::default()).unwrap();
    assert_eq!((stack.n_frames(), stack.shape()), (5, (3, 4)));
    assert_eq!(stack.pixels[[2, 0, 1, 3]], 2007.0);
    let opts = ReadOptions { frames: "1::2".parse().unwrap(), ..Default::default() };
    let stack = read_stack(&path, &opts).unwrap();
    assert_eq!(stack.source_frames, vec![1, 3]);
    assert_eq!(stack.pixels[[1, 0, 0, 0]], 3000.0);
    let none = ReadOptions { frames: FrameRange { start: 7, stop: None, step: 1 }, ..Default::default() };
    let err = read_stack(&path, &none).unwrap_err();
    assert!(err.to_string().contains("select nothing"), "{err}");
}

#[test]
fn ome_tiff_with_z_needs_and_gets_a_max_projection() {
    let d = dir();
    let path = d.path().join("cells.ome.tif");
    // 2 time points x 3 Z slices, Z fastest (XYCZT); page value grows with the page index,
    // so the projection of time point t is its last slice (page 3 t + 2).
    let ome = r#"<?xml version="1.0"?><OME><Image><Pixels DimensionOrder="XYCZT" PhysicalSizeX="0.0655" PhysicalSizeZ="0.25" SizeC="1" SizeT="2" SizeZ="3" SizeX="4" SizeY="3" Type="uint16"/></Image></OME>"#;
    tiff_u16(&path, 6, 3, 4, Some(ome));
    let err = read_stack(&path, &ReadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("3 Z slices") && err.to_string().contains("z-project"), "{err}");
    let opts = ReadOptions { z_project: ZProject::Max, ..Default::default() };
    let stack = read_stack(&path, &opts).unwrap();
    assert_eq!(stack.n_frames(), 2);
    assert_eq!(stack.pixels[[0, 0, 0, 0]], 2000.0);
    assert_eq!(stack.pixels[[1, 0, 2, 3]], 5011.0);
    // T fastest (XYCTZ): page = z * T + t, so time point t's last slice is page 2 * 2 + t.
    let ome_t = ome.replace("XYCZT", "XYCTZ");
    tiff_u16(&path, 6, 3, 4, Some(&ome_t));
    let stack = read_stack(&path, &opts).unwrap();
    assert_eq!((stack.pixels[[0, 0, 0, 0]], stack.pixels[[1, 0, 0, 0]]), (4000.0, 5000.0));
    // Without OME metadata, --z-slices says how pages group.
    let plain = d.path().join("plain.tif");
    tiff_u16(&plain, 6, 3, 4, None);
    let stack = read_stack(&plain, &ReadOptions { z_slices: Some(2), ..opts.clone() }).unwrap();
    assert_eq!(stack.n_frames(), 3);
    assert_eq!(stack.pixels[[2, 0, 0, 0]], 5000.0);
    let err = read_stack(&plain, &ReadOptions { z_slices: Some(4), ..opts }).unwrap_err();
    assert!(err.to_string().contains("6 pages cannot be split"), "{err}");
}

#[test]
fn eight_bit_and_float_tiffs() {
    let d = dir();
    let p8 = d.path().join("a.tiff");
    let mut bytes = Cursor::new(Vec::new());
    TiffEncoder::new(&mut bytes)
        .unwrap()
        .write_image::<colortype::Gray8>(3, 2, &[0, 1, 2, 3, 4, 255])
        .unwrap();
    std::fs::write(&p8, bytes.into_inner()).unwrap();
    let s = read_stack(&p8, &ReadOptions::default()).unwrap();
    assert_eq!(s.pixels.iter().copied().collect::<Vec<_>>(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 255.0]);
    let pf = d.path().join("f.tif");
    let mut bytes = Cursor::new(Vec::new());
    TiffEncoder::new(&mut bytes).unwrap().write_image::<colortype::Gray32Float>(2, 1, &[0.25, -1.5]).unwrap();
    std::fs::write(&pf, bytes.into_inner()).unwrap();
    let s = read_stack(&pf, &ReadOptions::default()).unwrap();
    assert_eq!(s.pixels.iter().copied().collect::<Vec<_>>(), vec![0.25, -1.5]);
}

#[test]
fn truncated_tiff_is_a_clear_error() {
    let d = dir();
    let path = d.path().join("cut.tif");
    tiff_u16(&path, 1, 64, 64, None);
    let bytes = std::fs::read(&path).unwrap();
    // Strip data come first (after the 8-byte header), the directory at the end: cut either.
    for keep in [bytes.len() / 2, 6, bytes.len() - 20] {
        std::fs::write(&path, &bytes[..keep]).unwrap();
        let err = read_stack(&path, &ReadOptions::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("cut.tif") && msg.contains("not a valid TIFF"), "cut at {keep}: {msg}");
    }
}

#[test]
fn unsupported_sample_formats_are_clear_errors() {
    let d = dir();
    let c = d.path().join("complex.npy");
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    let header = "{'descr': '<c16', 'fortran_order': False, 'shape': (2, 2), }";
    let header = format!("{header}{}\n", " ".repeat(128 - 10 - header.len() - 1));
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(&[0u8; 64]);
    std::fs::write(&c, b).unwrap();
    let msg = read_stack(&c, &ReadOptions::default()).unwrap_err().to_string();
    assert!(msg.contains("unsupported .npy sample format: dtype '<c16'"), "{msg}");
    let msg = read_stack(Path::new("x.jpg"), &ReadOptions::default()).unwrap_err().to_string();
    assert!(
        msg.contains("x.jpg") && msg.contains("No such file") || msg.contains("unknown image format"),
        "{msg}"
    );
}

fn channel(n: usize) -> ReadOptions {
    ReadOptions { channel: Some(n), ..Default::default() }
}

/// Issue 12: a multichannel file is read one channel at a time, `--channel N`; without it the
/// error lists the channels (never a silent average), and a channel that does not exist says so.
#[test]
fn multichannel_files_need_a_channel_and_give_exactly_it() {
    let d = dir();
    // RGB TIFF and PNG, 2 x 1 pixels: (1, 2, 3) and (4, 5, 6).
    let rgb = d.path().join("rgb.tif");
    let mut bytes = Cursor::new(Vec::new());
    TiffEncoder::new(&mut bytes).unwrap().write_image::<colortype::RGB8>(2, 1, &[1, 2, 3, 4, 5, 6]).unwrap();
    std::fs::write(&rgb, bytes.into_inner()).unwrap();
    let rgb_png = d.path().join("rgb.png");
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 2, 1);
        enc.set_color(png::ColorType::Rgb);
        enc.write_header().unwrap().write_image_data(&[1, 2, 3, 4, 5, 6]).unwrap();
    }
    std::fs::write(&rgb_png, out).unwrap();
    for path in [&rgb, &rgb_png] {
        let msg = read_stack(path, &ReadOptions::default()).unwrap_err().to_string();
        assert_eq!(
            msg,
            format!(
                "{}: the image has 3 channels (0: red, 1: green, 2: blue): choose one with --channel N (Python: channel=N)",
                path.display()
            )
        );
        for (c, expected) in [(0, [1.0, 4.0]), (1, [2.0, 5.0]), (2, [3.0, 6.0])] {
            let s = read_stack(path, &channel(c)).unwrap();
            assert_eq!(
                s.pixels.iter().copied().collect::<Vec<f32>>(),
                expected,
                "{} channel {c}",
                path.display()
            );
        }
        let msg = read_stack(path, &channel(3)).unwrap_err().to_string();
        assert!(
            msg.ends_with("channel 3 does not exist: the image has 3 channel(s) (0: red, 1: green, 2: blue)"),
            "{msg}"
        );
    }
    // A grey file has channel 0 only.
    let grey = d.path().join("grey.tif");
    tiff_u16(&grey, 1, 2, 2, None);
    assert!(read_stack(&grey, &channel(0)).is_ok());
    let msg = read_stack(&grey, &channel(1)).unwrap_err().to_string();
    assert!(msg.ends_with("channel 1 does not exist: the image has 1 channel(s) (0: grey)"), "{msg}");
    // OME-TIFF, 2 channels x 2 time points, C fastest (XYCZT): page = t * 2 + c.
    let ome = r#"<?xml version="1.0"?><OME><Image><Pixels DimensionOrder="XYCZT" SizeC="2" SizeT="2" SizeZ="1" SizeX="2" SizeY="2" Type="uint16"><Channel ID="Channel:0:0" Name="mito"/><Channel ID="Channel:0:1" Name="nucleus"/></Pixels></Image></OME>"#;
    let path = d.path().join("two.ome.tif");
    tiff_u16(&path, 4, 2, 2, Some(ome));
    let msg = read_stack(&path, &ReadOptions::default()).unwrap_err().to_string();
    assert!(
        msg.contains("the image has 2 channels (0: mito, 1: nucleus): choose one with --channel N"),
        "{msg}"
    );
    let nucleus = read_stack(&path, &channel(1)).unwrap();
    assert_eq!(nucleus.n_frames(), 2);
    assert_eq!((nucleus.pixels[[0, 0, 0, 0]], nucleus.pixels[[1, 0, 0, 0]]), (1000.0, 3000.0));
    // T before C (XYZTC): page = c * 2 + t.
    tiff_u16(&path, 4, 2, 2, Some(&ome.replace("XYCZT", "XYZTC")));
    let nucleus = read_stack(&path, &channel(1)).unwrap();
    assert_eq!((nucleus.pixels[[0, 0, 0, 0]], nucleus.pixels[[1, 0, 0, 0]]), (2000.0, 3000.0));
}

#[test]
fn npy_and_png_readers() {
    let d = dir();
    let path = d.path().join("s.npy");
    // float64 (2, 2, 3) written by our own writer.
    let data: Vec<f64> = (0..12).map(f64::from).collect();
    std::fs::write(&path, npy::f64_bytes(&[2, 2, 3], &data)).unwrap();
    let s = read_stack(&path, &ReadOptions::default()).unwrap();
    assert_eq!((s.n_frames(), s.shape(), s.pixels[[1, 0, 1, 2]]), (2, (2, 3), 11.0));
    // (T, Z, H, W) with a projection.
    std::fs::write(&path, npy::f64_bytes(&[1, 2, 2, 3], &data)).unwrap();
    let s = read_stack(&path, &ReadOptions { z_project: ZProject::Max, ..Default::default() }).unwrap();
    assert_eq!(s.pixels.iter().copied().collect::<Vec<_>>(), (6..12).map(|v| v as f32).collect::<Vec<_>>());
    // A truncated .npy.
    let bytes = npy::f64_bytes(&[4, 4], &[1.0; 16]);
    std::fs::write(&path, &bytes[..bytes.len() - 8]).unwrap();
    let msg = read_stack(&path, &ReadOptions::default()).unwrap_err().to_string();
    assert!(msg.contains("truncated"), "{msg}");
    // 16-bit grey PNG.
    let p = d.path().join("g.png");
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 2, 1);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Sixteen);
        enc.write_header().unwrap().write_image_data(&[0x01, 0x00, 0xff, 0xff]).unwrap();
    }
    std::fs::write(&p, out).unwrap();
    let s = read_stack(&p, &ReadOptions::default()).unwrap();
    assert_eq!(s.pixels.iter().copied().collect::<Vec<_>>(), vec![256.0, 65535.0]);
}

#[test]
fn masks_by_label_and_a_size_mismatch_is_a_clear_error() {
    let d = dir();
    let labels = d.path().join("labels.npy");
    std::fs::write(&labels, npy::f64_bytes(&[2, 3], &[0.0, 1.0, 1.0, 2.0, 0.0, 2.0])).unwrap();
    assert_eq!(read_mask(&labels, None).unwrap().count(), 4);
    assert_eq!(read_mask(&labels, Some(2)).unwrap().count(), 2);
    let msg = read_mask(&labels, Some(7)).unwrap_err().to_string();
    assert!(msg.contains("label 7 does not occur"), "{msg}");
    let mask = read_mask(&labels, None).unwrap();
    let image = einmix_image::Stack::new(ndarray::Array3::ones((1, 4, 4)));
    let err = einmix_image::track(&image, Some(&mask), &Default::default(), &mut |_| {}).unwrap_err();
    assert_eq!(err.to_string(), "the mask is (2, 3) pixels but the image is (4, 4) (height, width)");
    let frame = ndarray::Array2::<f32>::ones((4, 4));
    let msg = einmix_image::weighted_points(frame.view(), Some(&mask), Default::default(), 1.0)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("mask is (2, 3)"), "{msg}");
}

#[test]
fn the_demo_stack_is_embedded() {
    let s = einmix_image::demo_stack().unwrap();
    assert_eq!((s.n_frames(), s.shape()), (30, (192, 279)));
    let (lo, hi) = s.pixels.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    assert_eq!((lo, hi), (97.0, 208.0));
    let _ = PathBuf::new();
}

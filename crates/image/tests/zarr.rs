//! Story: an OME-Zarr store is read one time point at a time, whichever Zarr version, codec,
//! chunking or channel it has: NGFF 0.4 (Zarr v2) and 0.5 (Zarr v3), time points made of
//! several chunks, gzip and blosc chunks, plain arrays without OME metadata, the voxel size in
//! the axes' units. A store that cannot be read says why: the channels to choose from, the axes
//! it cannot map, the time point whose chunk is damaged.
//!
//! The stores are written by hand, metadata and chunk files, as zarr-python lays them out, so
//! that the reader is checked against the format rather than against `zarrs`' own writer; the
//! blosc store alone is compressed through `zarrs`, there being no blosc encoder here otherwise.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use einmix_image::io::frames::{FrameSource, Frames};
use einmix_image::io::open_frames;
use einmix_image::{Error, ReadOptions, ZProject};
use serde_json::{json, Value};

fn write(root: &Path, name: &str, bytes: &[u8]) {
    let path = root.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn write_json(root: &Path, name: &str, value: &Value) {
    write(root, name, serde_json::to_string_pretty(value).unwrap().as_bytes());
}

/// The value at every position of a test array: its C-order index, so that any mix-up of axes
/// or chunks shows.
fn ramp(shape: &[usize]) -> Vec<f64> {
    (0..shape.iter().product::<usize>()).map(|i| i as f64).collect()
}

/// One element's bytes, from its value.
type Element = fn(f64) -> Vec<u8>;

/// Zarr v2 chunk names (`1.0.2`) or v3's default ones (`c/1/0/2`).
#[derive(Clone, Copy)]
enum Keys {
    V2,
    V3,
}

/// `data` (C order, `shape`) as chunk files of `chunks` under `array`, each chunk padded with
/// zeros to its full shape (edge chunks too, as Zarr stores them) and passed through `encode`.
fn write_chunks(
    array: &Path,
    shape: &[usize],
    chunks: &[usize],
    keys: Keys,
    data: &[f64],
    element: Element,
    encode: fn(Vec<u8>) -> Vec<u8>,
) {
    let grid: Vec<usize> = shape.iter().zip(chunks).map(|(s, c)| s.div_ceil(*c)).collect();
    for g in 0..grid.iter().product() {
        let chunk_index = unravel(g, &grid);
        let mut bytes = Vec::new();
        for p in 0..chunks.iter().product() {
            let at = unravel(p, chunks);
            let global: Vec<usize> =
                chunk_index.iter().zip(chunks).zip(&at).map(|((g, c), a)| g * c + a).collect();
            let inside = global.iter().zip(shape).all(|(i, s)| i < s);
            bytes.extend(element(if inside { data[ravel(&global, shape)] } else { 0.0 }));
        }
        let names: Vec<String> = chunk_index.iter().map(|i| i.to_string()).collect();
        let key = match keys {
            Keys::V2 => names.join("."),
            Keys::V3 => format!("c/{}", names.join("/")),
        };
        write(array, &key, &encode(bytes));
    }
}

fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, s) in index.iter_mut().zip(shape).rev() {
        (*i, flat) = (flat % s, flat / s);
    }
    index
}

fn ravel(index: &[usize], shape: &[usize]) -> usize {
    index.iter().zip(shape).fold(0, |flat, (i, s)| flat * s + i)
}

fn raw(bytes: Vec<u8>) -> Vec<u8> {
    bytes
}

fn gzip(bytes: Vec<u8>) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&bytes).unwrap();
    encoder.finish().unwrap()
}

fn u16_le(v: f64) -> Vec<u8> {
    (v as u16).to_le_bytes().to_vec()
}

fn f32_le(v: f64) -> Vec<u8> {
    (v as f32).to_le_bytes().to_vec()
}

/// NGFF axes of these names (`t`, `c`, `z`, `y`, `x` get their types; others none).
fn axes(names: &[&str], space_unit: &str) -> Value {
    let axis = |n: &&str| match *n {
        "t" => json!({"name": "t", "type": "time", "unit": "second"}),
        "c" => json!({"name": "c", "type": "channel"}),
        "z" | "y" | "x" => json!({"name": n, "type": "space", "unit": space_unit}),
        other => json!({"name": other}),
    };
    Value::Array(names.iter().map(axis).collect())
}

/// A multiscale image whose level 0 is the array `0`, with this `scale`.
fn multiscale(axes: Value, scale: &[f64]) -> Value {
    json!({
        "version": "0.4",
        "axes": axes,
        "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": scale}]}],
    })
}

/// An NGFF 0.4 (Zarr v2) store: `.zgroup`, `.zattrs` with `attributes`, and the array `0`.
fn v2_store(root: &Path, attributes: &Value, zarray: Value) {
    write_json(root, ".zgroup", &json!({"zarr_format": 2}));
    write_json(root, ".zattrs", attributes);
    write_json(root, "0/.zarray", &zarray);
}

fn zarray(shape: &[usize], chunks: &[usize], dtype: &str, compressor: Value) -> Value {
    json!({
        "zarr_format": 2, "shape": shape, "chunks": chunks, "dtype": dtype, "compressor": compressor,
        "fill_value": 0, "order": "C", "filters": null, "dimension_separator": ".",
    })
}

/// An NGFF 0.5 (Zarr v3) store: the group's `zarr.json` with `ome`, and the array `0`.
fn v3_store(root: &Path, ome: &Value, array: Value) {
    let group = json!({"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}});
    write_json(root, "zarr.json", &group);
    write_json(root, "0/zarr.json", &array);
}

fn zarr_json(shape: &[usize], chunks: &[usize], data_type: &str, codecs: Value) -> Value {
    json!({
        "zarr_format": 3, "node_type": "array", "shape": shape, "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0, "codecs": codecs,
    })
}

fn open(path: &Path, channel: Option<usize>, z_project: ZProject) -> einmix_image::Result<Frames> {
    open_frames(path, &ReadOptions { channel, z_project, ..Default::default() })
}

/// Every frame of `frames`, flattened.
fn read_all(frames: &mut Frames) -> Vec<Vec<f32>> {
    (0..frames.n_frames()).map(|i| frames.read_frame(i).unwrap().into_raw_vec_and_offset().0).collect()
}

/// The expected frame `t` of a `ramp` of shape `(T, C, Z, Y, X)`, channel `c`.
fn expected(shape: [usize; 5], t: usize, c: usize) -> Vec<f32> {
    let [_, _, z, h, w] = shape;
    let mut out = Vec::new();
    for zi in 0..z {
        for yi in 0..h {
            for xi in 0..w {
                out.push(ravel(&[t, c, zi, yi, xi], &shape) as f32);
            }
        }
    }
    out
}

#[test]
fn ngff_04_zarr_v2_volumes_are_read_time_point_by_time_point_from_many_chunks() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("cells.ome.zarr");
    // Chunks of 1 x 1 x 2 x 2 x 4: a time point is 2 x 3 x 2 = 12 chunks, the edge ones partial.
    let shape = [3, 2, 3, 5, 7];
    let attributes = json!({
        "multiscales": [multiscale(axes(&["t", "c", "z", "y", "x"], "micrometer"), &[1.0, 1.0, 2.0, 0.5, 0.25])],
        "omero": {"channels": [{"label": "DAPI"}, {"label": "GFP"}]},
    });
    v2_store(&root, &attributes, zarray(&shape, &[1, 1, 2, 2, 4], "<u2", Value::Null));
    write_chunks(&root.join("0"), &shape, &[1, 1, 2, 2, 4], Keys::V2, &ramp(&shape), u16_le, raw);

    let mut frames = open(&root, Some(1), ZProject::Volume).unwrap();
    assert_eq!((frames.n_frames(), frames.frame_shape()), (3, (3, 5, 7)));
    assert_eq!(frames.voxel_size(), Some([2.0, 0.5, 0.25]));
    for (t, frame) in read_all(&mut frames).into_iter().enumerate() {
        assert_eq!(frame, expected(shape, t, 1), "time point {t}");
    }
    // A maximum projection of the same store: the last slice holds the largest values.
    let mut projected = open(&root, Some(0), ZProject::Max).unwrap();
    assert_eq!(projected.frame_shape(), (1, 5, 7));
    assert_eq!(read_all(&mut projected)[2], expected(shape, 2, 0)[2 * 35..].to_vec());
}

#[test]
fn ngff_05_zarr_v3_store_without_c_and_z_gives_2d_frames() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("plane.ome.zarr");
    let shape = [4, 6, 5];
    let ome = json!({"version": "0.5", "multiscales": [multiscale(axes(&["t", "y", "x"], "micrometer"), &[1.0, 0.3, 0.3])]});
    let codecs = json!([{"name": "bytes", "configuration": {"endian": "little"}}]);
    v3_store(&root, &ome, zarr_json(&shape, &[2, 4, 3], "float32", codecs));
    write_chunks(&root.join("0"), &shape, &[2, 4, 3], Keys::V3, &ramp(&shape), f32_le, raw);

    let mut frames = open(&root, None, ZProject::None).unwrap();
    assert_eq!((frames.n_frames(), frames.frame_shape()), (4, (1, 6, 5)));
    // No z axis, so no voxel: a 2-D store states no slice thickness.
    assert_eq!(frames.voxel_size(), None);
    for (t, frame) in read_all(&mut frames).into_iter().enumerate() {
        assert_eq!(frame, expected([4, 1, 1, 6, 5], t, 0));
    }
    // A chunk holds two time points and is decoded once for both: time point 1 comes from the
    // chunks decoded for time point 0, even once their files are gone.
    let mut frames = open(&root, None, ZProject::None).unwrap();
    frames.read_frame(0).unwrap();
    std::fs::remove_dir_all(root.join("0/c/0")).unwrap();
    assert_eq!(frames.read_frame(1).unwrap().into_raw_vec_and_offset().0, expected([4, 1, 1, 6, 5], 1, 0));
    // A single-channel store takes channel 0 and nothing else.
    assert!(open(&root, Some(0), ZProject::None).is_ok());
    assert!(matches!(open(&root, Some(1), ZProject::None), Err(Error::NoSuchChannel { .. })));
}

#[test]
fn ngff_05_gzip_volumes_and_the_voxel_size_in_micrometres() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("volume.ome.zarr");
    let shape = [2, 4, 6, 5];
    let mut image = multiscale(axes(&["t", "z", "y", "x"], "nanometer"), &[1.0, 500.0, 100.0, 100.0]);
    // A scale for the whole multiscale image multiplies each level's (NGFF 0.4 and 0.5).
    image["coordinateTransformations"] = json!([{"type": "scale", "scale": [1.0, 2.0, 1.0, 1.0]}]);
    let ome = json!({"version": "0.5", "multiscales": [image]});
    let codecs = json!([
        {"name": "bytes", "configuration": {"endian": "little"}},
        {"name": "gzip", "configuration": {"level": 1}},
    ]);
    v3_store(&root, &ome, zarr_json(&shape, &[1, 3, 4, 4], "uint16", codecs));
    write_chunks(&root.join("0"), &shape, &[1, 3, 4, 4], Keys::V3, &ramp(&shape), u16_le, gzip);

    let mut frames = open(&root, None, ZProject::Volume).unwrap();
    assert_eq!((frames.n_frames(), frames.frame_shape()), (2, (4, 6, 5)));
    assert_eq!(frames.voxel_size(), Some([1.0, 0.1, 0.1]));
    for (t, frame) in read_all(&mut frames).into_iter().enumerate() {
        assert_eq!(frame, expected([2, 1, 4, 6, 5], t, 0));
    }
}

#[test]
fn the_voxel_size_needs_z_y_x_and_known_units() {
    let d = tempfile::tempdir().unwrap();
    let shape = [1, 2, 3, 3];
    for (i, (unit, scale)) in
        [("parsec", [1.0, 1.0, 1.0, 1.0]), ("micrometer", [1.0, 1.0, 0.0, 1.0])].iter().enumerate()
    {
        let root = d.path().join(format!("{i}.ome.zarr"));
        let attributes = json!({"multiscales": [multiscale(axes(&["t", "z", "y", "x"], unit), scale)]});
        v2_store(&root, &attributes, zarray(&shape, &shape, "<u2", Value::Null));
        write_chunks(&root.join("0"), &shape, &shape, Keys::V2, &ramp(&shape), u16_le, raw);
        assert_eq!(
            open(&root, None, ZProject::Volume).unwrap().voxel_size(),
            None,
            "unit {unit}, scale {scale:?}"
        );
    }
}

#[test]
fn several_channels_must_be_chosen_and_the_error_lists_them() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("three.ome.zarr");
    let shape = [1, 3, 1, 2, 2];
    let attributes = json!({
        "multiscales": [multiscale(axes(&["t", "c", "z", "y", "x"], "micrometer"), &[1.0; 5])],
        "omero": {"channels": [{"label": "DAPI"}, {"label": "GFP"}, {"color": "FF0000"}]},
    });
    v2_store(&root, &attributes, zarray(&shape, &shape, "<u2", Value::Null));
    write_chunks(&root.join("0"), &shape, &shape, Keys::V2, &ramp(&shape), u16_le, raw);

    let message = open(&root, None, ZProject::None).err().unwrap().to_string();
    assert!(message.contains("3 channels (0: DAPI, 1: GFP, 2: channel 2)"), "{message}");
    let message = open(&root, Some(3), ZProject::None).err().unwrap().to_string();
    assert!(message.contains("channel 3 does not exist") && message.contains("1: GFP"), "{message}");
    let mut frames = open(&root, Some(2), ZProject::None).unwrap();
    assert_eq!(read_all(&mut frames)[0], expected(shape, 0, 2));
}

#[test]
fn axes_that_cannot_be_mapped_are_refused_naming_them() {
    let d = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["t", "angle", "y", "x"], "axis 'angle' is not t, c, z, y or x"),
        (&["t", "y", "y", "x"], "axis 'y' is a second Y axis"),
        (&["t", "c", "z", "y"], "there is no x axis"),
        (&["t", "q", "y", "x"], "space axis 'q' is not z, y or x"),
        (&["t", "z", "y"], "names 3 axes (t (time), z (space), y (space)) but the array has 4 dimensions"),
    ];
    for (i, (names, problem)) in cases.iter().enumerate() {
        let root = d.path().join(format!("{i}.ome.zarr"));
        let mut axes = axes(names, "micrometer");
        if names[1] == "q" {
            axes[1]["type"] = json!("space");
        }
        let attributes =
            json!({"multiscales": [{"version": "0.4", "axes": axes, "datasets": [{"path": "0"}]}]});
        v2_store(&root, &attributes, zarray(&[1, 2, 3, 3], &[1, 2, 3, 3], "<u2", Value::Null));
        let message = open(&root, None, ZProject::Volume).err().unwrap().to_string();
        assert!(message.contains("not a valid OME-Zarr file"), "{message}");
        assert!(message.contains(problem), "{message}");
        if i < 4 {
            assert!(message.contains("the axes found: t (time)"), "{message}");
        }
    }
}

#[test]
fn a_truncated_chunk_names_its_time_point_and_a_missing_one_is_the_fill_value() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("damaged.ome.zarr");
    let shape = [3, 1, 1, 4, 4];
    let attributes =
        json!({"multiscales": [multiscale(axes(&["t", "c", "z", "y", "x"], "micrometer"), &[1.0; 5])]});
    let compressor = json!({"id": "gzip", "level": 1});
    v2_store(&root, &attributes, zarray(&shape, &[1, 1, 1, 2, 4], "<u2", compressor));
    write_chunks(&root.join("0"), &shape, &[1, 1, 1, 2, 4], Keys::V2, &ramp(&shape), u16_le, gzip);
    let chunk = root.join("0/1.0.0.1.0");
    let bytes = std::fs::read(&chunk).unwrap();
    std::fs::write(&chunk, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_file(root.join("0/2.0.0.0.0")).unwrap();

    let mut frames = open(&root, None, ZProject::None).unwrap();
    assert_eq!(frames.read_frame(0).unwrap().into_raw_vec_and_offset().0, expected(shape, 0, 0));
    let message = frames.read_frame(1).unwrap_err().to_string();
    assert!(message.contains("not a valid OME-Zarr file: time point 1: chunk '0/1.0.0.1.0'"), "{message}");
    // Zarr's rule: an absent chunk holds the fill value.
    let last = frames.read_frame(2).unwrap().into_raw_vec_and_offset().0;
    assert_eq!(last[..8], [0.0; 8]);
    assert_eq!(last[8..], expected(shape, 2, 0)[8..]);

    // The same through the cache of chunks that hold two time points (Zarr v3, gzip).
    let root = d.path().join("damaged_v3.ome.zarr");
    let shape = [4, 3, 4];
    let ome = json!({"version": "0.5", "multiscales": [multiscale(axes(&["t", "y", "x"], "micrometer"), &[1.0; 3])]});
    let codecs = json!([{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "gzip", "configuration": {"level": 1}}]);
    v3_store(&root, &ome, zarr_json(&shape, &[2, 3, 2], "uint16", codecs));
    write_chunks(&root.join("0"), &shape, &[2, 3, 2], Keys::V3, &ramp(&shape), u16_le, gzip);
    std::fs::write(root.join("0/c/1/0/1"), b"\x1f\x8b\x08").unwrap();
    let mut frames = open(&root, None, ZProject::None).unwrap();
    assert!(frames.read_frame(1).is_ok());
    let message = frames.read_frame(3).unwrap_err().to_string();
    assert!(message.contains("time point 3: chunk '0/c/1/0/1'"), "{message}");
}

#[test]
fn plain_arrays_without_ome_metadata_take_their_axes_from_their_dimensions() {
    let d = tempfile::tempdir().unwrap();
    // v2, (T, H, W), big-endian int16 as zarr-python writes `>i2`.
    let root = d.path().join("stack.zarr");
    let shape = [2, 3, 4];
    write_json(&root, ".zarray", &zarray(&shape, &[1, 2, 4], ">i2", Value::Null));
    let data: Vec<f64> = ramp(&shape).iter().map(|v| v - 12.0).collect();
    write_chunks(&root, &shape, &[1, 2, 4], Keys::V2, &data, |v| (v as i16).to_be_bytes().to_vec(), raw);
    let mut frames = open(&root, None, ZProject::None).unwrap();
    assert_eq!((frames.n_frames(), frames.frame_shape(), frames.voxel_size()), (2, (1, 3, 4), None));
    let read: Vec<f32> = read_all(&mut frames).concat();
    assert_eq!(read, data.iter().map(|&v| v as f32).collect::<Vec<_>>());

    // v3, (T, Z, H, W) of float64.
    let root = d.path().join("volume.zarr");
    let shape = [2, 2, 3, 2];
    let codecs = json!([{"name": "bytes", "configuration": {"endian": "little"}}]);
    write_json(&root, "zarr.json", &zarr_json(&shape, &[1, 1, 3, 2], "float64", codecs));
    let data: Vec<f64> = ramp(&shape).iter().map(|v| v / 4.0).collect();
    write_chunks(&root, &shape, &[1, 1, 3, 2], Keys::V3, &data, |v| v.to_le_bytes().to_vec(), raw);
    let mut frames = open(&root, None, ZProject::Volume).unwrap();
    assert_eq!((frames.n_frames(), frames.frame_shape()), (2, (2, 3, 2)));
    assert_eq!(read_all(&mut frames).concat(), data.iter().map(|&v| v as f32).collect::<Vec<_>>());

    // v3 with `dimension_names` in an order OME would not allow: (t, x, y) read as (t, y, x).
    let root = d.path().join("named.zarr");
    let shape = [2, 3, 4];
    let codecs = json!([{"name": "bytes", "configuration": {"endian": "little"}}]);
    let mut array = zarr_json(&shape, &[1, 2, 3], "uint16", codecs);
    array["dimension_names"] = json!(["t", "x", "y"]);
    write_json(&root, "zarr.json", &array);
    write_chunks(&root, &shape, &[1, 2, 3], Keys::V3, &ramp(&shape), u16_le, raw);
    let mut frames = open(&root, None, ZProject::None).unwrap();
    assert_eq!(frames.frame_shape(), (1, 4, 3));
    let transposed: Vec<f32> =
        (0..4).flat_map(|y| (0..3).map(move |x| ravel(&[1, x, y], &shape) as f32)).collect();
    assert_eq!(read_all(&mut frames)[1], transposed);

    // Five axes without OME metadata say nothing of which is which.
    let root = d.path().join("five.zarr");
    write_json(&root, ".zarray", &zarray(&[1, 1, 1, 2, 2], &[1, 1, 1, 2, 2], "<u2", Value::Null));
    assert!(matches!(open(&root, None, ZProject::None), Err(Error::UnsupportedShape { .. })));
}

#[test]
fn booleans_and_wide_integers_convert_as_numpy_astype_float32() {
    let d = tempfile::tempdir().unwrap();
    let cases: [(&str, Element, [f64; 4], [f32; 4]); 3] = [
        ("|b1", |v| vec![v as u8], [0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]),
        (
            "<u8",
            |v| (v as u64).to_le_bytes().to_vec(),
            [0.0, 16777217.0, 3.0, 1e12],
            [0.0, 16777216.0, 3.0, 1e12],
        ),
        ("|i1", |v| (v as i8).to_le_bytes().to_vec(), [-128.0, -1.0, 0.0, 127.0], [-128.0, -1.0, 0.0, 127.0]),
    ];
    for (dtype, element, values, read) in cases {
        let root = d.path().join(format!("{}.zarr", &dtype[1..]));
        write_json(&root, ".zarray", &zarray(&[2, 2], &[2, 2], dtype, Value::Null));
        write_chunks(&root, &[2, 2], &[2, 2], Keys::V2, &values, element, raw);
        let mut frames = open(&root, None, ZProject::None).unwrap();
        assert_eq!(read_all(&mut frames)[0], read, "{dtype}");
    }
}

#[test]
fn blosc_chunks_as_zarr_python_writes_them_by_default() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("blosc.ome.zarr");
    let shape = [2, 1, 2, 8, 8];
    let attributes =
        json!({"multiscales": [multiscale(axes(&["t", "c", "z", "y", "x"], "micrometer"), &[1.0; 5])]});
    // numcodecs' default compressor: Blosc(cname='lz4', clevel=5, shuffle=SHUFFLE).
    let blosc = json!({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0});
    v2_store(&root, &attributes, zarray(&shape, &[1, 1, 1, 4, 8], "<u2", blosc));
    let store = Arc::new(zarrs::filesystem::FilesystemStore::new(&root).unwrap());
    let array = zarrs::array::Array::open(store, "/0").unwrap();
    let data: Vec<u16> = ramp(&shape).iter().map(|&v| v as u16).collect();
    let everything =
        zarrs::array_subset::ArraySubset::new_with_shape(shape.iter().map(|&s| s as u64).collect());
    array.store_array_subset_elements(&everything, &data).unwrap();
    assert!(std::fs::read(root.join("0/1.0.1.1.0")).unwrap().len() < 64 * 2, "the chunks are compressed");

    let mut frames = open(&root, None, ZProject::Volume).unwrap();
    for (t, frame) in read_all(&mut frames).into_iter().enumerate() {
        assert_eq!(frame, expected(shape, t, 0));
    }
}

#[test]
fn codecs_and_data_types_not_decoded_are_named() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("lzma.zarr");
    write_json(&root, ".zarray", &zarray(&[2, 2], &[2, 2], "<u2", json!({"id": "lzma", "preset": 1})));
    let message = open(&root, None, ZProject::None).err().unwrap().to_string();
    assert!(
        message.contains("unsupported OME-Zarr sample format: the array is stored with the codec 'lzma'"),
        "{message}"
    );

    let root = d.path().join("complex.zarr");
    let codecs = json!([{"name": "bytes", "configuration": {"endian": "little"}}]);
    let mut complex = zarr_json(&[2, 2], &[2, 2], "complex64", codecs);
    complex["fill_value"] = json!([0.0, 0.0]);
    write_json(&root, "zarr.json", &complex);
    let message = open(&root, None, ZProject::None).err().unwrap().to_string();
    assert!(message.contains("data type complex64; expected bool"), "{message}");
}

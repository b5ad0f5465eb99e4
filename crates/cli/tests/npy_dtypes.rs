//! Story: a `.npy` of any numeric dtype (integers, unsigned, bool, float16/32/64, either byte
//! order, C or Fortran order) is read as NumPy's `astype(numpy.float64)` reads it, by `fit` in
//! memory and by `fit --stream`, so the CLI takes what the Python package takes.

mod common;

use common::{model, npy, npy_f64, Dir};
use ndarray::Array2;

/// Small integers (exact in every dtype below), in three loose clumps.
fn integer_data() -> Array2<f64> {
    Array2::from_shape_fn((300, 2), |(i, j)| ((i % 3) * 40 + (i * 7 + j * 13) % 11) as f64)
}

fn encoded(x: &Array2<f64>, descr: &str, fortran: bool) -> Vec<u8> {
    let values: Vec<f64> =
        if fortran { x.t().iter().copied().collect() } else { x.iter().copied().collect() };
    let payload: Vec<u8> = values
        .iter()
        .flat_map(|&v| match descr {
            "<i8" => (v as i64).to_le_bytes().to_vec(),
            ">i4" => (v as i32).to_be_bytes().to_vec(),
            "<i2" => (v as i16).to_le_bytes().to_vec(),
            "|u1" => vec![v as u8],
            ">u2" => (v as u16).to_be_bytes().to_vec(),
            "<f4" => (v as f32).to_le_bytes().to_vec(),
            other => panic!("no encoder for {other}"),
        })
        .collect();
    npy(descr, fortran, &format!("({}, {})", x.nrows(), x.ncols()), &payload)
}

#[test]
fn integer_and_narrow_dtypes_fit_as_their_float64_conversion() {
    let dir = Dir::new();
    let x = integer_data();
    dir.write("f8.npy", npy_f64(&x));
    let fit = |file: &str, extra: &[&str]| {
        let out = format!("{file}{}.json", extra.len());
        let mut args = vec!["fit", file, "-k", "3", "--random-state", "4", "-o", &out];
        args.extend_from_slice(extra);
        dir.einmix(&args).assert().success();
        model(&dir.path(&out))
    };
    // Each path against float64 through the same path: the conversion is exact, so the fits
    // agree bit for bit (a streamed fit sums in blocks, so it is compared with a streamed one).
    let stream: &[&str] = &["--stream", "--chunk-rows", "64"];
    let in_memory = fit("f8.npy", &[]);
    let streamed = fit("f8.npy", stream);
    for descr in ["<i8", ">i4", "<i2", "|u1", ">u2", "<f4"] {
        for fortran in [false, true] {
            let name =
                format!("{}{}.npy", descr.replace(['<', '>', '|'], "_"), if fortran { "F" } else { "C" });
            dir.write(&name, encoded(&x, descr, fortran));
            for (extra, reference) in [(&[][..], &in_memory), (stream, &streamed)] {
                let m = fit(&name, extra);
                assert_eq!(m.to_json(), reference.to_json(), "{descr} fortran={fortran} {extra:?}");
            }
        }
    }
}

#[test]
fn bool_and_float16_convert_as_numpy_does() {
    let dir = Dir::new();
    // A (4, 1) bool column [F, T, T, F] (any non-zero byte is True) and the float16 column
    // [0.5, -2, 65504, 2^-24] (the largest normal and the smallest subnormal half).
    dir.write("b.npy", npy("|b1", false, "(4, 1)", &[0, 1, 9, 0]));
    dir.write("h.npy", npy("<f2", false, "(4, 1)", &[0x00, 0x38, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00]));
    for (file, expected) in [("b.npy", [0.0, 1.0, 1.0, 0.0]), ("h.npy", [0.5, -2.0, 65504.0, 2f64.powi(-24)])]
    {
        dir.einmix(&["fit", file, "-k", "1", "--reg-covar", "1", "--force", "-o", "m.json"])
            .assert()
            .success();
        let mean = expected.iter().sum::<f64>() / 4.0;
        let got = model(&dir.path("m.json")).means()[[0, 0]];
        assert!((got - mean).abs() <= 1e-12 * mean.abs().max(1.0), "{file}: mean {got}, expected {mean}");
    }
}

/// An `.npz` (stored, as `numpy.savez` writes it) holds the same data as the `.npy` files it
/// was made from: `fit`, `fit --online` and `predict` give the same answers from either, with
/// the weights as an array of the archive named by `--weight-column`.
#[test]
fn an_npz_reads_as_the_npy_arrays_it_holds() {
    let dir = Dir::new();
    let x = integer_data();
    let w: Vec<f64> = (0..x.nrows()).map(|i| 0.5 + (i % 4) as f64).collect();
    let w_npy = einmix_io::npy::f64_bytes(&[w.len()], &w);
    dir.write("x.npy", npy_f64(&x));
    dir.write("w.npy", &w_npy);
    let archive = |data: &str| {
        einmix_io::npz::archive(&[(data.to_string(), npy_f64(&x)), ("w".to_string(), w_npy.clone())]).unwrap()
    };
    dir.write("d.npz", archive("x"));
    dir.write("points.npz", archive("points"));
    let fit = |args: &[&str], out: &str| {
        let mut all = vec!["fit"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-k", "3", "--random-state", "4", "-o", out]);
        dir.einmix(&all).assert().success();
        model(&dir.path(out)).to_json()
    };
    let reference = fit(&["x.npy", "--weights", "w.npy"], "a.json");
    assert_eq!(fit(&["d.npz", "--weight-column", "w"], "b.json"), reference);
    assert_eq!(fit(&["points.npz", "--weight-column", "w"], "c.json"), reference);
    let online = fit(&["x.npy", "--online", "--batch-rows", "50"], "d.json");
    assert_eq!(fit(&["d.npz", "--online", "--batch-rows", "50"], "e.json"), online);
    dir.einmix(&["predict", "a.json", "x.npy", "-o", "p1.npy"]).assert().success();
    dir.einmix(&["predict", "a.json", "d.npz", "-o", "p2.npy"]).assert().success();
    assert_eq!(dir.read("p1.npy"), dir.read("p2.npy"));
}

//! Story: fit -> predict -> score -> sample through the binary give exactly what the library
//! computes on the same data, whatever the input format.

mod common;

use common::{csv, model, npy, npy_f64, npy_read_f64, npy_read_i64, parse_csv, separated, Dir};
use einmix::{CovarianceType, GaussianMixture};
use ndarray::Array1;
use predicates::prelude::*;

#[test]
fn fit_predict_score_equal_the_library_for_every_covariance_type() {
    let dir = Dir::new();
    let (x, _) = separated(3, 2).sample(600, 1);
    dir.write("data.csv", csv(&x));
    for kind in CovarianceType::ALL {
        let kind_name = kind.to_string();
        let model_name = format!("{kind_name}.json");
        dir.einmix(&[
            "fit",
            "data.csv",
            "-k",
            "3",
            "--covariance-type",
            &kind_name,
            "--random-state",
            "0",
            "-o",
            &model_name,
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("fitted 3 components"))
        .stdout(predicate::str::contains("converged after"))
        .stderr(predicate::str::contains(format!("wrote {model_name}")));

        let lib = GaussianMixture::new(3).covariance_type(kind).random_state(0).fit(x.view(), None).unwrap();
        let m = model(&dir.path(&model_name));
        assert_eq!(m, lib.mixture, "{kind_name}: the saved model is the library's, bit for bit");

        dir.einmix(&["predict", &model_name, "data.csv", "-o", "labels.npy", "--force"]).assert().success();
        let labels = npy_read_i64(&dir.read("labels.npy"));
        let want: Vec<i64> = m.predict(x.view()).unwrap().iter().map(|&l| l as i64).collect();
        assert_eq!(labels, want);
        assert_eq!(
            labels,
            lib.labels.iter().map(|&l| l as i64).collect::<Vec<_>>(),
            "fit(X).predict(X) == fit_predict(X)"
        );

        dir.einmix(&["predict", &model_name, "data.csv", "--proba", "-o", "proba.csv", "--force"])
            .assert()
            .success();
        let proba = parse_csv(&dir.text("proba.csv"));
        assert_eq!(proba, m.predict_proba(x.view()).unwrap());
        assert!(dir.text("proba.csv").starts_with("p0,p1,p2\n"));

        let out =
            dir.einmix(&["score", &model_name, "data.csv", "-o", "ll.npy", "--force"]).assert().success();
        let printed: f64 = String::from_utf8_lossy(&out.get_output().stdout).trim().parse().unwrap();
        assert_eq!(printed, m.score(x.view()).unwrap());
        assert_eq!(npy_read_f64(&dir.read("ll.npy")), m.score_samples(x.view()).unwrap().to_vec());
    }
}

#[test]
fn npy_inputs_in_any_order_and_float32_and_stdin_read_like_csv() {
    let dir = Dir::new();
    let (x, _) = separated(2, 3).sample(300, 2);
    dir.write("data.csv", csv(&x));
    dir.write("c.npy", npy_f64(&x));
    let fortran: Vec<u8> = x.t().iter().flat_map(|v| v.to_le_bytes()).collect();
    dir.write("f.npy", npy("<f8", true, "(300, 3)", &fortran));
    let single: Vec<u8> = x.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect();
    dir.write("s.npy", npy("<f4", false, "(300, 3)", &single));
    let fit = |input: &str, out: &str| {
        dir.einmix(&["fit", input, "-k", "2", "--random-state", "1", "-o", out]).assert().success();
        model(&dir.path(out))
    };
    let lib = GaussianMixture::new(2).random_state(1).fit(x.view(), None).unwrap().mixture;
    assert_eq!(fit("data.csv", "csv.json"), lib);
    assert_eq!(fit("c.npy", "c.json"), lib);
    assert_eq!(fit("f.npy", "f.json"), lib);
    let x32 = x.mapv(|v| v as f32 as f64);
    let lib32 = GaussianMixture::new(2).random_state(1).fit(x32.view(), None).unwrap().mixture;
    assert_eq!(fit("s.npy", "s.json"), lib32);

    // Standard input: CSV or .npy, told apart by content.
    dir.einmix(&["fit", "-", "-k", "2", "--random-state", "1", "-o", "stdin.json"])
        .write_stdin(csv(&x))
        .assert()
        .success()
        .stdout(predicate::str::contains("from <stdin>"));
    assert_eq!(model(&dir.path("stdin.json")), lib);
    dir.einmix(&["fit", "-", "-k", "2", "--random-state", "1", "-o", "stdin-npy.json"])
        .write_stdin(npy_f64(&x))
        .assert()
        .success();
    assert_eq!(model(&dir.path("stdin-npy.json")), lib);
}

#[test]
fn tsv_columns_and_weights_select_what_is_fitted() {
    let dir = Dir::new();
    let (x, _) = separated(2, 2).sample(200, 3);
    let w: Vec<f64> = (0..200).map(|i| 0.5 + (i % 4) as f64).collect();
    let mut text = String::from("id\tx\tweight\ty\n");
    for (i, row) in x.rows().into_iter().enumerate() {
        text += &format!("{i}\t{:?}\t{:?}\t{:?}\n", row[0], w[i], row[1]);
    }
    dir.write("data.tsv", text);
    let lib = GaussianMixture::new(2)
        .random_state(0)
        .fit(x.view(), Some(Array1::from(w.clone()).view()))
        .unwrap()
        .mixture;
    dir.einmix(&[
        "fit",
        "data.tsv",
        "-k",
        "2",
        "--random-state",
        "0",
        "--columns",
        "x,4",
        "--weight-column",
        "weight",
        "-o",
        "a.json",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("BIC").not());
    assert_eq!(model(&dir.path("a.json")), lib);

    let wcsv: String =
        std::iter::once("w\n".to_string()).chain(w.iter().map(|v| format!("{v:?}\n"))).collect();
    dir.write("w.csv", wcsv);
    dir.einmix(&[
        "fit",
        "data.tsv",
        "-k",
        "2",
        "--random-state",
        "0",
        "--columns",
        "x,y",
        "--weights",
        "w.csv",
        "-o",
        "b.json",
    ])
    .assert()
    .success();
    assert_eq!(model(&dir.path("b.json")), lib);
}

#[test]
fn sample_is_the_library_sample_and_reproducible() {
    let dir = Dir::new();
    let truth = separated(3, 2);
    dir.write("truth.json", truth.to_json());
    dir.einmix(&[
        "sample",
        "truth.json",
        "-n",
        "500",
        "--random-state",
        "3",
        "-o",
        "s.npy",
        "--labels",
        "l.csv",
    ])
    .assert()
    .success()
    .stderr(predicate::str::contains("wrote 500 samples of 2 features to s.npy"));
    let (x, labels) = truth.sample(500, 3);
    assert!(common::npy_header(&dir.read("s.npy")).contains("'shape': (500, 2)"));
    assert_eq!(npy_read_f64(&dir.read("s.npy")), x.iter().copied().collect::<Vec<_>>());
    let l: Vec<usize> = dir.text("l.csv").lines().skip(1).map(|v| v.parse().unwrap()).collect();
    assert_eq!(l, labels.to_vec());
    dir.einmix(&["sample", "truth.json", "-n", "500", "--random-state", "3", "-o", "s.csv"])
        .assert()
        .success();
    assert_eq!(parse_csv(&dir.text("s.csv")), x);
    // Standard output takes CSV.
    dir.einmix(&["sample", "truth.json", "-n", "4", "--random-state", "3", "-o", "-"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("x1,x2\n"));
}

#[test]
fn model_to_standard_output_keeps_the_report_on_standard_error() {
    let dir = Dir::new();
    let (x, _) = separated(2, 2).sample(100, 4);
    dir.write("data.csv", csv(&x));
    let out = dir
        .einmix(&["fit", "data.csv", "-k", "2", "--random-state", "0", "-o", "-"])
        .assert()
        .success()
        .stderr(predicate::str::contains("fitted 2 components"));
    let json = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lib = GaussianMixture::new(2).random_state(0).fit(x.view(), None).unwrap().mixture;
    assert_eq!(einmix::Mixture::from_json(&json).unwrap(), lib);
}

#[test]
fn info_summarises_every_covariance_type() {
    let dir = Dir::new();
    let (x, _) = separated(2, 2).sample(200, 5);
    for kind in CovarianceType::ALL {
        let m = GaussianMixture::new(2)
            .covariance_type(kind)
            .random_state(0)
            .fit(x.view(), None)
            .unwrap()
            .mixture;
        dir.write("m.json", m.to_json());
        let assert = dir.einmix(&["info", "m.json"]).assert().success();
        let text = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
        assert!(text.starts_with(&format!(
            "m.json: Gaussian mixture of 2 components in 2 dimensions, {kind} covariance"
        )));
        assert!(text.contains("component 1: weight"), "{text}");
        assert!(text.contains("  mean ["), "{text}");
        match kind {
            CovarianceType::Spherical => assert!(text.contains("in every direction"), "{text}"),
            CovarianceType::Tied => assert!(text.contains("shared covariance axes:"), "{text}"),
            _ => assert_eq!(text.matches(" along [").count(), 4, "{text}"),
        }
    }
}

#[test]
fn not_converging_warns_and_fails_only_under_strict() {
    let dir = Dir::new();
    let (x, _) = separated(3, 2).sample(300, 6);
    dir.write("data.csv", csv(&x));
    let args = ["fit", "data.csv", "-k", "3", "--random-state", "0", "--max-iter", "1", "--tol", "0"];
    dir.einmix(&[&args[..], &["-o", "a.json"]].concat())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("NOT converged after 1 iterations"))
        .stderr(predicate::str::contains("einmix: warning: did not converge within 1 iterations"));
    dir.einmix(&[&args[..], &["-o", "b.json", "--strict"]].concat())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("einmix: warning: did not converge"));
    // The model is written all the same: non-convergence is an outcome, not an error.
    assert_eq!(model(&dir.path("b.json")).n_components(), 3);
}

#[test]
fn verbose_prints_iterations_and_quiet_prints_nothing() {
    let dir = Dir::new();
    let (x, _) = separated(2, 2).sample(200, 7);
    dir.write("data.csv", csv(&x));
    dir.einmix(&[
        "fit",
        "data.csv",
        "-k",
        "2",
        "--random-state",
        "0",
        "--n-init",
        "2",
        "-o",
        "a.json",
        "--verbose",
    ])
    .assert()
    .success()
    .stderr(predicate::str::is_match(r"run 1/2 iteration +1: lower bound -?\d+\.\d+, change").unwrap())
    .stderr(predicate::str::contains("run 2/2 iteration"));
    dir.einmix(&["fit", "data.csv", "-k", "2", "--random-state", "0", "-o", "b.json", "-q"])
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

#[test]
fn demo_still_runs() {
    Dir::new()
        .einmix(&["demo", "--n-samples", "3000", "-k", "3"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("seed workload: 3000 points"))
        .stdout(predicate::str::contains("lower bound"));
}

#[test]
fn f32_fits_the_library_s_single_precision_model_bit_for_bit() {
    let dir = Dir::new();
    for kind in [CovarianceType::Full, CovarianceType::Diag] {
        // Overlapping components, so that responsibilities are not all 0 or 1 and the
        // single-precision densities change the fit's last digits.
        let (x, _) = einmix::datasets::random_mixture(kind, 3, 12, 1.0, 5).sample(900, 2);
        dir.write("data.csv", csv(&x));
        let name = kind.to_string();
        let args = ["fit", "data.csv", "-k", "3", "--covariance-type", &name, "--random-state", "0"];
        dir.einmix(&[&args[..], &["--f32", "-o", "single.json", "--force"]].concat()).assert().success();
        dir.einmix(&[&args[..], &["-o", "double.json", "--force"]].concat()).assert().success();
        let spec = GaussianMixture::new(3).covariance_type(kind).random_state(0);
        let lib = spec.clone().precision(einmix::Precision::F32).fit(x.view(), None).unwrap();
        assert_eq!(model(&dir.path("single.json")), lib.mixture, "{name}: --f32 is Precision::F32");
        let double = spec.fit(x.view(), None).unwrap();
        assert_eq!(model(&dir.path("double.json")), double.mixture, "{name}: the default is f64");
        assert_ne!(lib.mixture, double.mixture, "{name}: at D = 12 the single-precision products run");
    }
}

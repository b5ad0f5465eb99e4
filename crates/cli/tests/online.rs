//! Story: `einmix fit --online` is the library's `partial_fit` over batches of a file or of
//! standard input (issue 14).

mod common;

use common::{csv, model, npy_f64, separated, Dir};
use einmix::{GaussianMixture, OnlineFit};
use ndarray::{s, Array2};

/// The library's online fit over `x` in batches of `rows`, `passes` times.
fn library(x: &Array2<f64>, rows: usize, passes: usize) -> einmix::Mixture {
    let spec = GaussianMixture::new(3).random_state(1);
    let mut fit: Option<OnlineFit> = None;
    for _ in 0..passes {
        for start in (0..x.nrows()).step_by(rows) {
            let batch = x.slice(s![start..(start + rows).min(x.nrows()), ..]);
            fit = Some(spec.partial_fit(batch, None, fit.as_ref()).unwrap());
        }
    }
    fit.unwrap().mixture
}

#[test]
fn npy_csv_and_standard_input_give_the_library_online_fit() {
    let dir = Dir::new();
    let (x, _) = separated(3, 2).sample(2500, 4);
    // `sample` groups rows by component: interleave them, as a stream would come.
    let order: Vec<usize> = (0..x.nrows()).map(|i| (i * 7) % x.nrows()).collect();
    let x = x.select(ndarray::Axis(0), &order);
    dir.write("x.npy", npy_f64(&x));
    dir.write("x.csv", csv(&x));
    let want = library(&x, 400, 1);
    for input in ["x.npy", "x.csv"] {
        let out = format!("{input}.json");
        dir.einmix(&[
            "fit",
            input,
            "-k",
            "3",
            "--online",
            "--batch-rows",
            "400",
            "--random-state",
            "1",
            "-o",
            &out,
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("7 batches of up to 400 rows, 1 pass"));
        assert_eq!(model(&dir.path(&out)), want, "{input}");
    }
    dir.einmix(&[
        "fit",
        "-",
        "-k",
        "3",
        "--online",
        "--batch-rows",
        "400",
        "--random-state",
        "1",
        "-o",
        "in.json",
    ])
    .write_stdin(csv(&x))
    .assert()
    .success();
    assert_eq!(model(&dir.path("in.json")), want);
    dir.einmix(&[
        "fit",
        "x.csv",
        "-k",
        "3",
        "--online",
        "--batch-rows",
        "400",
        "--passes",
        "2",
        "--random-state",
        "1",
        "-o",
        "two.json",
    ])
    .assert()
    .success();
    assert_eq!(model(&dir.path("two.json")), library(&x, 400, 2));
}

#[test]
fn online_errors_name_the_problem() {
    let dir = Dir::new();
    let (x, _) = separated(3, 2).sample(300, 1);
    dir.write("x.npy", npy_f64(&x));
    let fails = |args: &[&str], stdin: Option<Vec<u8>>, message: &str| {
        let mut cmd = dir.einmix(args);
        if let Some(bytes) = stdin {
            cmd.write_stdin(bytes);
        }
        cmd.assert().failure().stderr(predicates::str::contains(message.to_string()));
        assert!(!dir.path("m.json").exists(), "no model is written: {args:?}");
    };
    fails(
        &["fit", "-", "-k", "3", "--online", "--passes", "2", "-o", "m.json"],
        Some(csv(&x).into_bytes()),
        "standard input can be read only once, from the start: --passes above 1 reads the data again",
    );
    fails(
        &["fit", "-", "-k", "3", "--online", "-o", "m.json"],
        Some(npy_f64(&x)),
        "--online reads .npy from a file",
    );
    fails(
        &["fit", "x.npy", "-k", "3", "--online", "--batch-rows", "2", "-o", "m.json"],
        None,
        "n_samples >= n_components",
    );
    fails(
        &["fit", "x.npy", "-k", "3", "--online", "--learning-decay", "0.4", "-o", "m.json"],
        None,
        "learning_decay must be in (0.5, 1]",
    );
    fails(&["fit", "x.npy", "-k", "3", "--batch-rows", "5", "-o", "m.json"], None, "--online");
    fails(
        &["fit", "-", "-k", "3", "--online", "-o", "m.json"],
        Some(b"a,b\n".to_vec()),
        "holds no data rows",
    );
}

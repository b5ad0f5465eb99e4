//! Story: `einmix select` finds the true number of components on well-separated data, writes
//! the best model and a plot of the criterion.

mod common;

use common::{csv, model, separated, Dir};
use einmix::GaussianMixture;
use predicates::prelude::*;

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn picks_the_true_k_and_plots_the_criterion() {
    let dir = Dir::new();
    let (x, _) = separated(4, 2).sample(1200, 11);
    dir.write("data.csv", csv(&x));
    let assert = dir
        .einmix(&[
            "select",
            "data.csv",
            "--k-range",
            "1..=7",
            "--covariance-types",
            "full,diag",
            "--random-state",
            "0",
            "-o",
            "best.json",
            "--plot",
            "bic.png",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("BIC (lower is better) for 1200 samples x 2 features from data.csv"))
        .stdout(predicate::str::contains("best (*): K=4, "))
        .stderr(predicate::str::contains("wrote best.json"))
        .stderr(predicate::str::contains("wrote bic.png"));
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    // A header line and one line per K, each with one value per covariance type.
    let rows: Vec<&str> = stdout.lines().filter(|l| l.trim_start().starts_with(char::is_numeric)).collect();
    assert_eq!(rows.len(), 7, "{stdout}");
    assert!(rows.iter().all(|r| r.split_whitespace().filter(|t| t.contains('.')).count() == 2), "{stdout}");
    assert_eq!(stdout.matches('*').count(), 2, "one chosen cell, and the legend: {stdout}");

    let best = model(&dir.path("best.json"));
    assert_eq!(best.n_components(), 4);
    let (w, h) = png_size(&dir.read("bic.png"));
    assert_eq!((w, h), (960, 600));
}

#[test]
fn the_chosen_model_is_at_least_as_good_as_a_plain_fit() {
    let dir = Dir::new();
    let (x, _) = separated(5, 2).sample(1000, 12);
    dir.write("data.csv", csv(&x));
    dir.einmix(&["select", "data.csv", "--k-range", "5", "--random-state", "0", "-o", "a.json", "-q"])
        .assert()
        .success();
    let plain = GaussianMixture::new(5).random_state(0).fit(x.view(), None).unwrap().mixture;
    // With one K there is nothing to warm-start from: the plain library fit.
    assert_eq!(model(&dir.path("a.json")), plain);

    dir.einmix(&["select", "data.csv", "--k-range", "3..=5", "--random-state", "0", "-o", "b.json", "-q"])
        .assert()
        .success()
        .stdout(predicate::str::contains("the split warm start gave the better fit in"));
    let chosen = model(&dir.path("b.json"));
    assert_eq!(chosen.n_components(), 5);
    assert!(chosen.bic(x.view()).unwrap() <= plain.bic(x.view()).unwrap());
}

#[test]
fn aic_and_no_warm_start_agree_on_separated_data() {
    let dir = Dir::new();
    let (x, _) = separated(3, 3).sample(900, 13);
    dir.write("data.npy", common::npy_f64(&x));
    dir.einmix(&[
        "select",
        "data.npy",
        "--k-range",
        "1..6",
        "--covariance-types",
        "spherical,tied,diag",
        "--criterion",
        "aic",
        "--no-warm-start",
        "--random-state",
        "1",
        "-o",
        "best.json",
    ])
    .assert()
    .success()
    .stdout(predicate::str::contains("AIC (lower is better)"))
    .stdout(predicate::str::contains("best (*): K=3, "))
    .stdout(predicate::str::contains("warm start").not());
    assert_eq!(model(&dir.path("best.json")).n_components(), 3);
}

#[test]
fn k_beyond_the_samples_is_reported_as_failed_not_fatal() {
    let dir = Dir::new();
    let (x, _) = separated(2, 2).sample(6, 14);
    dir.write("data.csv", csv(&x));
    dir.einmix(&["select", "data.csv", "--k-range", "1..=8", "--random-state", "0", "-o", "best.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("failed"))
        .stderr(predicate::str::contains("fit failed for K=7 full: Expected n_samples >= n_components"));
}

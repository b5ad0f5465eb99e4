//! Story: `einmix fit --bayesian` is the library's variational fit, saved with its state, and
//! `predict`, `score`, `sample` and `info` read it (issue 13).

mod common;

use common::{csv, npy_f64, parse_csv, separated, Dir};
use einmix::{BayesianGaussianMixture, VariationalMixture};

#[test]
fn the_saved_variational_model_is_the_library_fit_and_the_other_commands_read_it() {
    let dir = Dir::new();
    let (x, _) = separated(3, 2).sample(900, 7);
    dir.write("x.csv", csv(&x));
    dir.write("x.npy", npy_f64(&x));
    dir.einmix(&[
        "fit",
        "x.csv",
        "-k",
        "6",
        "--bayesian",
        "--weight-concentration-prior",
        "0.001",
        "--max-iter",
        "500",
        "--random-state",
        "2",
        "-o",
        "b.json",
    ])
    .assert()
    .success()
    .stdout(predicates::str::contains("effective components"));
    let saved = VariationalMixture::from_json(&dir.text("b.json")).unwrap();
    let lib = BayesianGaussianMixture::new(6)
        .weight_concentration_prior(0.001)
        .max_iter(500)
        .random_state(2)
        .fit(x.view(), None)
        .unwrap()
        .model;
    assert_eq!(saved.mixture, lib.mixture);
    assert_eq!(saved.concentration_a, lib.concentration_a);
    dir.einmix(&["predict", "b.json", "x.npy", "-o", "labels.csv"]).assert().success();
    let labels = parse_csv(&dir.text("labels.csv"));
    let want = lib.predict(x.view()).unwrap();
    assert!(labels.iter().zip(want.iter()).all(|(a, &b)| *a as usize == b));
    let score = dir.einmix(&["score", "b.json", "x.npy"]).assert().success().get_output().stdout.clone();
    let mean: f64 = String::from_utf8(score).unwrap().trim().parse().unwrap();
    let lib_scores = lib.score_samples(x.view()).unwrap();
    assert_eq!(mean, lib_scores.sum() / lib_scores.len() as f64);
    dir.einmix(&["sample", "b.json", "-n", "10", "-o", "s.csv"]).assert().success();
    let (effective, _) = lib.effective_components(0.01);
    dir.einmix(&["info", "b.json"])
        .assert()
        .success()
        .stdout(predicates::str::contains(format!("{effective} effective component")));
    assert_eq!(effective, 3);
}

#[test]
fn bad_priors_are_reported() {
    let dir = Dir::new();
    let (x, _) = separated(2, 2).sample(100, 1);
    dir.write("x.csv", csv(&x));
    dir.einmix(&[
        "fit",
        "x.csv",
        "-k",
        "3",
        "--bayesian",
        "--degrees-of-freedom-prior",
        "0.5",
        "-o",
        "b.json",
    ])
    .assert()
    .failure()
    .stderr(predicates::str::contains("'degrees_of_freedom_prior' should be greater than 1, but got 0.500"));
    dir.einmix(&[
        "fit",
        "x.csv",
        "-k",
        "3",
        "--bayesian",
        "--weight-concentration-prior",
        "-1",
        "-o",
        "b.json",
    ])
    .assert()
    .failure()
    .stderr(predicates::str::contains("weight_concentration_prior"));
    assert!(!dir.path("b.json").exists());
}

//! Story: `einmix fit --background` adds a uniform background component (issue 12): the saved
//! model carries it, `predict` labels its points -1, `--proba` gets its column, `info` shows
//! it, a streamed fit and a variational fit take it too; bad regions and a region that a
//! single pass cannot know are errors.

mod common;

use common::{model, npy_f64, npy_read_i64, separated, Dir};
use einmix::{Background, BackgroundRegion, BayesianGaussianMixture, GaussianMixture, VariationalMixture};
use predicates::prelude::*;

#[test]
fn a_fit_with_a_background_is_the_library_s_and_predict_marks_its_points() {
    let dir = Dir::new();
    let truth = separated(2, 2)
        .with_background(Background::new(vec![-30.0, -30.0], vec![30.0, 30.0], 0.3).unwrap())
        .unwrap();
    let (x, _) = truth.sample(3000, 4);
    dir.write("x.npy", npy_f64(&x));
    dir.einmix(&["fit", "x.npy", "-k", "2", "--background", "--random-state", "3", "-o", "m.json"])
        .assert()
        .success();
    let saved = model(&dir.path("m.json"));
    let library = GaussianMixture::new(2)
        .background(BackgroundRegion::BoundingBox)
        .random_state(3)
        .fit(x.view(), None)
        .unwrap();
    assert_eq!(saved, library.mixture);
    let weight = saved.background().unwrap().weight();
    assert!((weight - 0.3).abs() < 0.03, "background weight {weight}");

    dir.einmix(&["predict", "m.json", "x.npy", "-o", "labels.npy"]).assert().success();
    let labels = npy_read_i64(&dir.read("labels.npy"));
    let expected: Vec<i64> = library.labels.iter().map(|&l| if l == 2 { -1 } else { l as i64 }).collect();
    assert_eq!(labels, expected);
    assert!(labels.contains(&-1));
    dir.einmix(&["predict", "m.json", "x.npy", "--proba", "-o", "p.csv"]).assert().success();
    assert!(dir.text("p.csv").starts_with("p0,p1,background\n"));
    dir.einmix(&["info", "m.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("background (label -1): weight"));

    // A streamed fit over a given box.
    dir.einmix(&[
        "fit",
        "x.npy",
        "-k",
        "2",
        "--background=-30,-30:30,30",
        "--stream",
        "--random-state",
        "3",
        "-o",
        "s.json",
    ])
    .assert()
    .success();
    let streamed = model(&dir.path("s.json"));
    assert_eq!(streamed.background().unwrap().lower(), [-30.0, -30.0]);
}

#[test]
fn a_variational_fit_takes_the_background_as_the_library_does() {
    let dir = Dir::new();
    let truth = separated(2, 2)
        .with_background(Background::new(vec![-30.0, -30.0], vec![30.0, 30.0], 0.3).unwrap())
        .unwrap();
    let (x, _) = truth.sample(3000, 6);
    dir.write("x.npy", npy_f64(&x));
    let out = dir
        .einmix(&[
            "fit",
            "x.npy",
            "-k",
            "5",
            "--bayesian",
            "--background",
            "--random-state",
            "2",
            "-o",
            "v.json",
        ])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("background (label -1): weight"), "{text}");
    assert!(text.contains("expected weight among the Gaussians above 0.01"), "{text}");
    let saved = VariationalMixture::from_json(&dir.text("v.json")).unwrap();
    let library = BayesianGaussianMixture::new(5)
        .background(BackgroundRegion::BoundingBox)
        .random_state(2)
        .fit(x.view(), None)
        .unwrap();
    assert_eq!(saved, library.model);
    let weight = saved.mixture.background().unwrap().weight();
    assert!((weight - 0.3).abs() < 0.03, "background weight {weight}");
    dir.einmix(&["predict", "v.json", "x.npy", "-o", "labels.npy"]).assert().success();
    let labels = npy_read_i64(&dir.read("labels.npy"));
    let expected: Vec<i64> = library.labels.iter().map(|&l| if l == 5 { -1 } else { l as i64 }).collect();
    assert_eq!(labels, expected);
    assert!(labels.contains(&-1));
    dir.einmix(&["predict", "v.json", "x.npy", "--proba", "-o", "p.csv"]).assert().success();
    assert!(dir.text("p.csv").starts_with("p0,p1,p2,p3,p4,background\n"));
    dir.einmix(&["info", "v.json"]).assert().success().stdout(
        predicate::str::contains("background (label -1): weight")
            .and(predicate::str::contains("(expected weight among the Gaussians above 0.01) holding"))
            .and(predicate::str::contains("of the Gaussians' mass")),
    );
}

#[test]
fn bad_regions_and_a_region_one_pass_cannot_know_are_errors() {
    let dir = Dir::new();
    let (x, _) = separated(2, 2).sample(200, 1);
    dir.write("x.npy", npy_f64(&x));
    let fit = |extra: &[&str]| {
        let mut args = vec!["fit", "x.npy", "-k", "2", "-o", "m.json"];
        args.extend_from_slice(extra);
        dir.einmix(&args).assert().code(2)
    };
    fit(&["--background", "0,0:1"]).stderr(predicate::str::contains(
        "Invalid background region: the region has 2 and 1 values for its corners, but the data has 2 features",
    ));
    fit(&["--background", "0,5:1,1"]).stderr(predicate::str::contains(
        "feature 1: the upper corner (1) must exceed the lower (5); the region's volume must be positive",
    ));
    fit(&["--background", "everywhere"]).stderr(predicate::str::contains("expected bbox or LOWER:UPPER"));
    fit(&["--background", "--online"]).stderr(predicate::str::contains(
        "--online reads the data once, so the background's region must be given",
    ));
    assert!(!dir.path("m.json").exists());
}

#[test]
fn an_online_fit_takes_a_given_region_as_the_library_does() {
    let dir = Dir::new();
    let truth = separated(2, 2)
        .with_background(Background::new(vec![-30.0, -30.0], vec![30.0, 30.0], 0.3).unwrap())
        .unwrap();
    let (x, _) = truth.sample(3000, 4);
    // `sample` groups rows by component: interleave them, as a stream would come.
    let order: Vec<usize> = (0..x.nrows()).map(|i| (i * 7) % x.nrows()).collect();
    let x = x.select(ndarray::Axis(0), &order);
    dir.write("x.npy", npy_f64(&x));
    let args = ["fit", "x.npy", "-k", "2", "--online", "--batch-rows", "500", "--random-state", "3"];
    dir.einmix(&[&args[..], &["--background=-30,-30:30,30", "-o", "m.json"]].concat()).assert().success();
    let spec = GaussianMixture::new(2)
        .random_state(3)
        .background(BackgroundRegion::Box { lower: vec![-30.0, -30.0], upper: vec![30.0, 30.0] });
    let mut online = None;
    for start in (0..x.nrows()).step_by(500) {
        let batch = x.slice(ndarray::s![start..(start + 500).min(x.nrows()), ..]);
        online = Some(spec.partial_fit(batch, None, online.as_ref()).unwrap());
    }
    let saved = model(&dir.path("m.json"));
    assert_eq!(saved, online.unwrap().mixture);
    let weight = saved.background().unwrap().weight();
    assert!((weight - 0.3).abs() < 0.05, "background weight {weight}");
}

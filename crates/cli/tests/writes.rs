//! Story: every output is written whole or not at all, and an existing file is replaced only
//! with `--force`.

mod common;

use std::time::{Duration, Instant};

use common::{csv, separated, Dir};
use predicates::prelude::*;

fn setup() -> Dir {
    let dir = Dir::new();
    let truth = separated(2, 2);
    let (x, _) = truth.sample(100, 1);
    dir.write("model.json", truth.to_json());
    dir.write("data.csv", csv(&x));
    dir
}

#[test]
fn an_existing_output_is_kept_unless_forced() {
    let dir = setup();
    dir.write("labels.csv", "precious\n");
    dir.einmix(&["predict", "model.json", "data.csv", "-o", "labels.csv"]).assert().code(2).stderr(
        predicate::eq("einmix: error: cannot write labels.csv: already exists (use --force to replace it)\n"),
    );
    assert_eq!(dir.text("labels.csv"), "precious\n");
    dir.einmix(&["predict", "model.json", "data.csv", "-o", "labels.csv", "--force"]).assert().success();
    assert!(dir.text("labels.csv").starts_with("label\n"));
    assert_eq!(dir.text("labels.csv").lines().count(), 101);
}

#[test]
fn a_failed_command_leaves_the_old_output_untouched() {
    let dir = setup();
    dir.write("out.csv", "old\n");
    dir.write("bad.csv", "x1,x2\n1,2\n3,oops\n");
    dir.einmix(&["predict", "model.json", "bad.csv", "-o", "out.csv", "--force"]).assert().code(2);
    assert_eq!(dir.text("out.csv"), "old\n");
    assert_eq!(dir.entries(), vec!["bad.csv", "data.csv", "model.json", "out.csv"]);
}

#[test]
fn a_failed_write_leaves_no_partial_or_temporary_file() {
    let dir = setup();
    // Renaming a file over a directory fails after the data is written to a temporary file.
    std::fs::create_dir(dir.path("blocked.csv")).unwrap();
    dir.einmix(&["predict", "model.json", "data.csv", "-o", "blocked.csv", "--force"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("einmix: error: cannot write blocked.csv: "));
    assert!(dir.path("blocked.csv").is_dir());
    assert_eq!(std::fs::read_dir(dir.path("blocked.csv")).unwrap().count(), 0);
    assert_eq!(dir.entries(), vec!["blocked.csv", "data.csv", "model.json"]);
}

#[test]
fn an_interrupted_fit_leaves_no_output() {
    let dir = setup();
    // A fit that runs for much longer than we wait: many points, many components, tol 0.
    dir.einmix(&["sample", "model.json", "-n", "200000", "--random-state", "0", "-o", "big.npy"])
        .assert()
        .success();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("einmix"))
        .current_dir(dir.tmp.path())
        .args([
            "fit",
            "big.npy",
            "-k",
            "40",
            "--tol",
            "0",
            "--max-iter",
            "100000",
            "-o",
            "model-out.json",
            "-q",
        ])
        .spawn()
        .unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(700));
    assert!(child.try_wait().unwrap().is_none(), "still fitting after {:?}", started.elapsed());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(dir.entries(), vec!["big.npy", "data.csv", "model.json"]);
}

#[test]
fn outputs_are_checked_before_the_work() {
    let dir = setup();
    dir.write("best.json", "{}");
    let started = Instant::now();
    // Refused at once, without fitting 20 K values.
    dir.einmix(&["select", "data.csv", "--k-range", "1..=20", "-o", "best.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    dir.einmix(&["select", "data.csv", "--k-range", "1..=20", "-o", "new.json", "--plot", "best.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("use .png"));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!dir.path("new.json").exists());
}

//! Story: the `--help` text of every subcommand is reviewed like code. Each is compared with
//! `tests/snapshots/<name>.txt`; run with `UPDATE_SNAPSHOTS=1` to rewrite them after a
//! deliberate change, and review the diff.

mod common;

use std::path::PathBuf;

const COMMANDS: [&str; 8] = ["", "fit", "predict", "score", "sample", "select", "info", "demo"];

#[test]
fn help_matches_the_snapshots() {
    let dir = common::Dir::new();
    let snapshots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for name in COMMANDS {
        let args: Vec<&str> = if name.is_empty() { vec!["--help"] } else { vec![name, "--help"] };
        let out = dir.einmix(&args).assert().success().get_output().stdout.clone();
        let help = String::from_utf8(out).expect("UTF-8 help");
        let file = snapshots.join(format!("{}.txt", if name.is_empty() { "einmix" } else { name }));
        if update {
            std::fs::write(&file, &help).expect("write a snapshot");
            continue;
        }
        let expected = std::fs::read_to_string(&file).unwrap_or_default();
        if expected != help {
            stale.push(format!("--- {} (expected)\n{expected}\n+++ actual\n{help}", file.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "help text differs from its snapshot; if the change is deliberate, run \
         `UPDATE_SNAPSHOTS=1 cargo test -p einmix-cli --test help` and review the diff:\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_help_documents_the_exit_codes() {
    let dir = common::Dir::new();
    for name in COMMANDS.iter().filter(|n| !n.is_empty()) {
        dir.einmix(&[name, "--help"]).assert().success().stdout(predicates::str::contains(
            "Exit codes: 0 success; 1 a fit did not converge and --strict was given; 2 usage or input error.",
        ));
    }
}

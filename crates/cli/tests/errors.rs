//! Story: every user error names its file (and line and column where it matters), exits with
//! code 2, and is never a panic or a backtrace.

mod common;

use assert_cmd::assert::Assert;
use common::{csv, npy, separated, Dir};
use predicates::prelude::*;

/// Exit code 2 and exactly `message` after `einmix: error: `, nothing else on stderr.
fn fails_with(assert: Assert, message: &str) {
    assert
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::eq(format!("einmix: error: {message}\n")));
}

/// A directory with a 2-feature model and matching data.
fn setup() -> Dir {
    let dir = Dir::new();
    let truth = separated(2, 2);
    let (x, _) = truth.sample(50, 1);
    dir.write("model.json", truth.to_json());
    dir.write("data.csv", csv(&x));
    dir
}

#[test]
fn unreadable_files() {
    let dir = setup();
    fails_with(
        dir.einmix(&["fit", "missing.csv", "-k", "2", "-o", "m.json"]).assert(),
        "missing.csv: cannot read: No such file or directory (os error 2)",
    );
    std::fs::create_dir(dir.path("folder.csv")).unwrap();
    fails_with(
        dir.einmix(&["predict", "model.json", "folder.csv", "-o", "p.csv"]).assert(),
        "folder.csv: cannot read: Is a directory (os error 21)",
    );
    fails_with(
        dir.einmix(&["info", "missing.json"]).assert(),
        "missing.json: cannot read: No such file or directory (os error 2)",
    );
}

#[test]
fn broken_npy_files() {
    let dir = setup();
    let payload = vec![0u8; 8 * 100];
    dir.write("truncated.npy", npy("<f8", false, "(100, 2)", &payload));
    fails_with(
        dir.einmix(&["fit", "truncated.npy", "-k", "2", "-o", "m.json"]).assert(),
        "truncated.npy: truncated: the header's shape (100, 2) needs 1600 bytes of data, but the file holds 800",
    );
    dir.write("complex.npy", npy("<c16", false, "(50, 2)", &vec![0u8; 1600]));
    fails_with(
        dir.einmix(&["score", "model.json", "complex.npy"]).assert(),
        "complex.npy: unsupported dtype '<c16': expected a boolean, integer or floating-point array \
         (complex, string, object and record arrays have no single real value per element)",
    );
    dir.write("text.npy", "x,y\n1,2\n");
    fails_with(
        dir.einmix(&["fit", "text.npy", "-k", "1", "-o", "m.json"]).assert(),
        "text.npy: not a .npy file (it does not start with \\x93NUMPY)",
    );
    dir.write("cube.npy", npy("<f8", false, "(2, 2, 2)", &[0u8; 64]));
    fails_with(
        dir.einmix(&["fit", "cube.npy", "-k", "1", "-o", "m.json"]).assert(),
        "cube.npy: expected a 2-d (samples, features) array, found shape (2, 2, 2)",
    );
    let mut cut = npy("<f8", false, "(2, 2)", &[0u8; 32]);
    cut.truncate(30);
    dir.write("header.npy", cut);
    fails_with(
        dir.einmix(&["fit", "header.npy", "-k", "1", "-o", "m.json"]).assert(),
        "header.npy: malformed .npy header: the file ends inside the header",
    );
}

#[test]
fn ragged_and_non_numeric_text() {
    let dir = setup();
    dir.write("ragged.csv", "x,y\n1,2\n3,4,5\n");
    fails_with(
        dir.einmix(&["fit", "ragged.csv", "-k", "1", "-o", "m.json"]).assert(),
        "ragged.csv: line 3 has 3 fields, but line 1 has 2",
    );
    dir.write("words.csv", "x,y\n1,2\n3,4\n5,abc\n");
    fails_with(
        dir.einmix(&["predict", "model.json", "words.csv", "-o", "p.npy"]).assert(),
        "words.csv: line 4, column 2 ('y'): 'abc' is not a number",
    );
    dir.write("gap.tsv", "1\t2\n3\t\n");
    fails_with(
        dir.einmix(&["fit", "gap.tsv", "-k", "1", "-o", "m.json"]).assert(),
        "gap.tsv: line 2, column 2: '' is not a number",
    );
    dir.write("nan.csv", "x,y\n1,2\nNaN,4\n");
    fails_with(
        dir.einmix(&["fit", "nan.csv", "-k", "1", "-o", "m.json"]).assert(),
        "nan.csv: line 3, column 1 ('x'): 'NaN' is not finite (NaN and infinity are not allowed)",
    );
    dir.write("empty.csv", "x,y\n");
    fails_with(
        dir.einmix(&["fit", "empty.csv", "-k", "1", "-o", "m.json"]).assert(),
        "empty.csv: holds no data rows",
    );
    fails_with(
        dir.einmix(&["fit", "-", "-k", "1", "-o", "m.json"]).write_stdin("1,2\n3,x\n").assert(),
        "<stdin>: line 2, column 2: 'x' is not a number",
    );
}

#[test]
fn columns_that_do_not_exist() {
    let dir = setup();
    fails_with(
        dir.einmix(&["fit", "data.csv", "-k", "1", "--columns", "x1,z", "-o", "m.json"]).assert(),
        "data.csv: no column named 'z' (the header has: x1, x2)",
    );
    fails_with(
        dir.einmix(&["fit", "data.csv", "-k", "1", "--weight-column", "3", "-o", "m.json"]).assert(),
        "data.csv: column 3 does not exist: the data has 2 column(s)",
    );
    dir.write("plain.csv", "1,2\n3,4\n");
    fails_with(
        dir.einmix(&["fit", "plain.csv", "-k", "1", "--columns", "a", "-o", "m.json"]).assert(),
        "plain.csv: column 'a' is given by name, but the data has no header line (give its 1-based position instead)",
    );
}

#[test]
fn data_whose_dimension_does_not_match_the_model() {
    let dir = setup();
    let (x3, _) = separated(2, 3).sample(20, 2);
    dir.write("three.csv", csv(&x3));
    for cmd in ["predict", "score"] {
        fails_with(
            dir.einmix(&[cmd, "model.json", "three.csv", "-o", "out.csv"]).assert(),
            "three.csv has 3 feature column(s), but the model model.json expects 2",
        );
    }
}

#[test]
fn bad_weights() {
    let dir = setup();
    dir.write("w.csv", "1\n2\n3\n");
    fails_with(
        dir.einmix(&["fit", "data.csv", "-k", "2", "--weights", "w.csv", "-o", "m.json"]).assert(),
        "w.csv: holds 3 weights, but the data has 50 samples",
    );
    let mut w = "w\n".to_string() + &"1\n".repeat(49);
    w += "-1\n";
    dir.write("neg.csv", w);
    fails_with(
        dir.einmix(&["fit", "data.csv", "-k", "2", "--weights", "neg.csv", "-o", "m.json"]).assert(),
        "data.csv: Negative values in data passed to sample_weight: sample_weight[49] = -1.",
    );
}

#[test]
fn bad_models() {
    let dir = setup();
    dir.write("bad.json", "{\"format\": \"something else\"}");
    dir.einmix(&["info", "bad.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("einmix: error: bad.json: not a valid einmix model: "));
    dir.write("notjson.json", "hello");
    dir.einmix(&["sample", "notjson.json", "-n", "3", "-o", "s.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("einmix: error: notjson.json: not a valid einmix model: "));
}

#[test]
fn a_hand_edited_model_that_cannot_be_sampled() {
    let dir = setup();
    dir.write(
        "edited.json",
        r#"{"format": "einmix.Mixture", "version": 1, "covariance_type": "full", "n_components": 1,
            "n_features": 2, "weights": [1.0], "means": [[0.0, 0.0]],
            "covariances": [[[1.0, 5.0], [5.0, 1.0]]], "precisions_cholesky": [[[1.0, 0.0], [0.0, 1.0]]]}"#,
    );
    fails_with(
        dir.einmix(&["sample", "edited.json", "-n", "3", "-o", "s.csv"]).assert(),
        "edited.json: not a valid einmix model: Could not read the mixture model: \
         'covariances' of component 0 is not symmetric positive definite",
    );
    assert!(!dir.path("s.csv").exists());
}

#[test]
fn bad_parameter_values_are_usage_errors() {
    let dir = setup();
    let cases: [(&[&str], &str); 9] = [
        (
            &["fit", "data.csv", "-k", "0", "-o", "m.json"],
            "invalid value '0' for '--n-components <N_COMPONENTS>'",
        ),
        (
            &["fit", "data.csv", "-k", "2", "--tol", "-1", "-o", "m.json"],
            "invalid value '-1' for '--tol <TOL>'",
        ),
        (
            &["fit", "data.csv", "-k", "2", "--reg-covar", "nan", "-o", "m.json"],
            "invalid value 'nan' for '--reg-covar",
        ),
        (&["fit", "data.csv", "-k", "2", "--n-init", "0", "-o", "m.json"], "invalid value '0' for '--n-init"),
        (
            &["fit", "data.csv", "-k", "2", "--covariance-type", "round", "-o", "m.json"],
            "[possible values: full, tied, diag, spherical]",
        ),
        (
            &["fit", "data.csv", "-k", "2", "--init-params", "magic", "-o", "m.json"],
            "invalid value 'magic' for '--init-params",
        ),
        (&["fit", "data.csv", "-k", "2"], "the following required arguments were not provided"),
        (
            &["select", "data.csv", "--k-range", "5..=3", "-o", "m.json"],
            "expected A..=B, A..B or K with 1 <= A <= B, got '5..=3'",
        ),
        (&["sample", "model.json", "-n", "-4", "-o", "s.csv"], "invalid value '-4' for '--n-samples"),
    ];
    for (args, message) in cases {
        dir.einmix(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains("panicked").not());
    }
    // Values only the data can refute come from the library, with the data file named.
    fails_with(
        dir.einmix(&["fit", "data.csv", "-k", "60", "-o", "m.json"]).assert(),
        "data.csv: Expected n_samples >= n_components but got n_components = 60, n_samples = 50",
    );
    assert!(!dir.path("m.json").exists());
}

#[test]
fn outputs_that_cannot_be_written() {
    let dir = setup();
    fails_with(
        dir.einmix(&["predict", "model.json", "data.csv", "-o", "labels.txt"]).assert(),
        "cannot write labels.txt: cannot tell the output format from the extension: use .npy, .csv or .tsv (or - for standard output)",
    );
    fails_with(
        dir.einmix(&["fit", "data.csv", "-k", "2", "-o", "model.npy"]).assert(),
        "cannot write model.npy: cannot tell the output format from the extension: use .json (or - for standard output)",
    );
    fails_with(
        dir.einmix(&["select", "data.csv", "-o", "best.json", "--plot", "plot.svg"]).assert(),
        "cannot write plot.svg: cannot tell the output format from the extension: use .png",
    );
    fails_with(
        dir.einmix(&["fit", "data.csv", "-k", "2", "-o", "nowhere/model.json"]).assert(),
        "cannot write nowhere/model.json: the directory 'nowhere' does not exist",
    );
}

#[test]
fn no_backtrace_even_when_asked_for() {
    let dir = setup();
    dir.einmix(&["fit", "missing.csv", "-k", "2", "-o", "m.json"])
        .env("RUST_BACKTRACE", "1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("backtrace").not())
        .stderr(predicate::str::contains("panicked").not());
}

/// A file that is not a data table says what it is instead, and its bytes come out escaped.
#[test]
fn files_that_are_not_tables_say_what_they_are() {
    let dir = setup();
    let fit = |file: &str| dir.einmix(&["fit", file, "-k", "1", "-o", "m.json"]).assert();
    // A model given where data belongs: whatever its extension.
    dir.write("model.csv", dir.read("model.json"));
    for file in ["model.json", "model.csv"] {
        let start = String::from_utf8_lossy(&dir.read(file)[..16]).replace('\n', "\\n");
        fails_with(
            fit(file),
            &format!(
                "{file}: not a data table: it holds a JSON document (a model file?) (it starts with \
                 \"{start}\"); data tables are .npy, .npz, .csv or .tsv files"
            ),
        );
    }
    dir.write("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR");
    fails_with(
        fit("image.csv"),
        "image.csv: not a data table: it holds a PNG image (it starts with \
         \"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR\"); data tables are .npy, .npz, .csv or .tsv files",
    );
    dir.write("stack.tsv", b"II*\x00\x08\x00\x00\x00");
    fails_with(
        fit("stack.tsv"),
        "stack.tsv: not a data table: it holds a TIFF image (it starts with \
         \"II*\\x00\\x08\\x00\\x00\\x00\"); data tables are .npy, .npz, .csv or .tsv files",
    );
    // A zip archive is read as an .npz whatever its name, except under a text extension.
    dir.write("archive", b"PK\x03\x04rest");
    fails_with(
        fit("archive"),
        "archive: not a readable .npz (zip) archive: invalid Zip archive: Could not find EOCD",
    );
    dir.write("archive.csv", b"PK\x03\x04rest");
    fails_with(
        fit("archive.csv"),
        "archive.csv: the name says .csv, but the file holds a zip archive (an .npz?)",
    );
    dir.write("image.npz", b"\x89PNG\r\n\x1a\n");
    fails_with(fit("image.npz"), "image.npz: the name says .npz, but the file holds a PNG image");
    dir.write("raw.csv", b"1,2\n\xff\xfe\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b");
    fails_with(
        fit("raw.csv"),
        "raw.csv: not a data table: it holds binary data (it starts with \
         \"1,2\\n\\xff\\xfe\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\"); data tables are .npy, .npz, .csv or .tsv files",
    );
    // A .npy array under a text extension is a mismatch, not a table of garbage.
    dir.write("array.csv", npy("<f8", false, "(1, 2)", &[0u8; 16]));
    fails_with(fit("array.csv"), "array.csv: the name says .csv, but the file holds a .npy array");
    // Control characters inside an otherwise textual field are escaped; accents are kept.
    dir.write("odd.csv", "a,b\n1,\u{1}x\n");
    fails_with(fit("odd.csv"), "odd.csv: line 2, column 2 ('b'): '\\x01x' is not a number");
    dir.write("accent.csv", "a,b\n1,café\n");
    fails_with(fit("accent.csv"), "accent.csv: line 2, column 2 ('b'): 'café' is not a number");
    // A long field is cut after 40 characters.
    dir.write("long.csv", format!("a,b\n1,{}\n", "y".repeat(50)));
    fails_with(
        fit("long.csv"),
        &format!("long.csv: line 2, column 2 ('b'): '{}...' is not a number", "y".repeat(40)),
    );
    assert!(!dir.path("m.json").exists());
}

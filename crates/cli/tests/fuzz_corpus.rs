//! Every input kept under `fuzz/` (the seed corpus, what the fuzzers added to it, and any crash
//! they found, in `fuzz/artifacts/`) replayed through the same calls as the fuzz targets, so an
//! ordinary `cargo test` guards each one (see docs/reliability.md). The hand-made seeds are
//! valid files, and they must read.

use std::path::{Path, PathBuf};

use clap::Parser;
use einmix::{Mixture, VariationalMixture};
use einmix_image::{read_stack_bytes, ReadOptions};
use einmix_io::npy;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Every file of one target: its corpus and its artifacts.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(dir).join(target)) else { continue };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_file() {
                let bytes = std::fs::read(&path).expect("a readable corpus file");
                out.push((path, bytes));
            }
        }
    }
    out.sort();
    out
}

fn seeds_read(target: &str, read: impl Fn(&[u8]) -> bool) {
    let all = inputs(target);
    assert!(!all.is_empty(), "no corpus for {target} under {}", fuzz_dir().display());
    for (path, bytes) in &all {
        let ok = read(bytes);
        // Hand-made seeds are named by what they hold; libFuzzer's own files are hashes, and
        // artifacts are inputs that once crashed.
        let in_corpus = path.parent().and_then(|p| p.parent()).is_some_and(|p| p.ends_with("corpus"));
        let is_seed = in_corpus && path.extension().is_some();
        assert!(ok || !is_seed, "the seed {} does not read", path.display());
    }
}

#[test]
fn npy_inputs_never_panic() {
    seeds_read("npy", |bytes| {
        let f64s = npy::read::<f64>(bytes);
        let f32s = npy::read::<f32>(bytes);
        assert_eq!(f64s.is_ok(), f32s.is_ok());
        f64s.is_ok()
    });
}

#[test]
fn npz_inputs_never_panic() {
    seeds_read("npz", |bytes| {
        let name = Some(Path::new("data.npz"));
        let _ = einmix_io::read_data(name, bytes, &[], Some("w"));
        let _ = einmix_io::read_weights(name, bytes, 4);
        // An archive with no arrays (numpy.savez(path)) is a valid file that holds no data.
        let archive = einmix_io::npz::Npz::new(bytes);
        archive.is_ok_and(|a| a.names().is_empty()) || einmix_io::read_data(name, bytes, &[], None).is_ok()
    });
}

/// The same checks as the fuzz target: the block reader and the whole-file reader agree.
#[test]
fn csv_inputs_never_panic_and_both_readers_agree() {
    use einmix_io::text::{parse, TableReader};
    seeds_read("csv", |input| {
        let Some((&choice, bytes)) = input.split_first() else { return false };
        let delimiter = if choice & 1 == 0 { b',' } else { b'\t' };
        let select: Vec<String> = match choice >> 1 & 3 {
            0 => vec![],
            1 => vec!["1".into()],
            2 => vec!["x".into(), "2".into()],
            _ => vec!["0".into()],
        };
        let weight = (choice & 16 != 0).then_some("w");
        let whole = parse(bytes, delimiter, &select, weight);
        let _ = einmix_io::read_data(None, bytes, &select, weight);
        let Ok(mut reader) = TableReader::new(bytes, delimiter, &select, weight) else {
            assert!(whole.is_err());
            return false;
        };
        // Values and rows both: a table of no feature columns (only a weight) has rows, no values.
        let (mut rows, mut n_rows) = (Vec::new(), 0);
        loop {
            match reader.next_block(3) {
                Ok(Some(block)) => {
                    rows.extend(block.x.iter().copied());
                    n_rows += block.x.nrows();
                }
                Ok(None) => {
                    return match &whole {
                        Ok(t) => {
                            assert_eq!(rows, t.x.iter().copied().collect::<Vec<_>>());
                            assert_eq!(n_rows, t.x.nrows());
                            true
                        }
                        Err(_) => {
                            assert_eq!(n_rows, 0);
                            false
                        }
                    };
                }
                Err(_) => {
                    assert!(whole.is_err());
                    return false;
                }
            }
        }
    });
}

/// `einmix fit DATA -o out.json` with each kept argument list, in-process, as the fuzz target
/// runs it: a fit, a usage error or a user error, never a panic. The seeds are valid commands.
#[test]
fn cli_argument_lists_never_panic() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let rows: Vec<[f64; 3]> = (0..24)
        .map(|i| {
            [(i % 3) as f64 * 5.0 + (i as f64 * 0.37).sin(), (i as f64 * 0.61).cos(), 1.0 + (i % 4) as f64]
        })
        .collect();
    let mut csv = String::from("x,y,w\n");
    for r in &rows {
        csv.push_str(&format!("{},{},{}\n", r[0], r[1], r[2]));
    }
    std::fs::write(dir.path().join("data.csv"), csv).expect("write data.csv");
    let flat: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    std::fs::write(dir.path().join("data.npy"), npy::f64_bytes(&[rows.len(), 3], &flat))
        .expect("write data.npy");
    let data_csv = dir.path().join("data.csv").display().to_string();
    let data_npy = dir.path().join("data.npy").display().to_string();
    let out = dir.path().join("out.json").display().to_string();
    seeds_read("cli_fit", |input| {
        let Some((&choice, rest)) = input.split_first() else { return false };
        let Ok(text) = std::str::from_utf8(rest) else { return false };
        let tokens: Vec<&str> = text.split('\0').filter(|t| !t.is_empty()).collect();
        let too_big = |t: &str| t.trim().parse::<f64>().is_ok_and(|v| v.abs() > 64.0);
        if tokens.len() > 24 || tokens.iter().any(|t| too_big(t) || t.contains('/') || t.contains("..")) {
            return false;
        }
        let data = if choice & 1 == 0 { &data_csv } else { &data_npy };
        let mut args = vec!["einmix", "fit", data, "-o", &out, "--force", "-q"];
        args.extend(tokens);
        let Ok(cli) = einmix_cli::Cli::try_parse_from(&args) else { return false };
        einmix_cli::execute(cli).is_ok()
    });
}

#[test]
fn image_inputs_never_panic() {
    for (target, name) in [("image_npy", "input.npy"), ("tiff", "input.tif"), ("png", "input.png")] {
        seeds_read(target, |bytes| {
            // As the targets do: no channel, then channel 1 of a multichannel file.
            let second = ReadOptions { channel: Some(1), ..Default::default() };
            let _ = read_stack_bytes(Path::new(name), bytes, &second);
            read_stack_bytes(Path::new(name), bytes, &ReadOptions::default()).is_ok()
        });
    }
}

#[test]
fn model_inputs_never_panic() {
    seeds_read("model_json", |bytes| {
        let Ok(text) = std::str::from_utf8(bytes) else { return false };
        let plain = Mixture::from_json(text);
        if let Ok(m) = &plain {
            let x = ndarray::Array2::<f64>::zeros((1, m.n_features()));
            assert!(m.score_samples(x.view()).is_ok());
        }
        plain.is_ok() || VariationalMixture::from_json(text).is_ok()
    });
}

/// The two crashes fuzzing found (headers asking for 39 GB and 2 TB from files of a few dozen
/// bytes) are refused with a reason, before any allocation.
#[test]
fn oversized_headers_are_corrupt_files() {
    // A TIFF's directories are walked first; a directory past the first that claims too much
    // ends the readable pages, and the page that needs it says why.
    for (target, name, expected, reason) in [
        (
            "tiff",
            "input.tif",
            "input.tif: not a valid TIFF file: ",
            "a tag or a page claims more data than the file can hold",
        ),
        ("png", "input.png", "input.png: not a valid PNG file", ""),
    ] {
        let crashes: Vec<_> = std::fs::read_dir(fuzz_dir().join("artifacts").join(target))
            .expect("the artifacts folder")
            .map(|e| e.expect("an entry").path())
            .collect();
        assert!(!crashes.is_empty());
        for path in crashes {
            let bytes = std::fs::read(&path).expect("a readable artifact");
            let message = read_stack_bytes(Path::new(name), &bytes, &ReadOptions::default())
                .expect_err("a corrupt file")
                .to_string();
            assert!(
                message.starts_with(expected) && message.ends_with(reason),
                "{}: {message}",
                path.display()
            );
        }
    }
}

/// A `.npz` member whose directory entry claims 2 GB from a few bytes (found by fuzzing): the
/// claim is checked against the archive's size and deflate's ratio before any allocation.
#[test]
fn an_npz_member_claiming_more_than_its_archive_holds_is_refused() {
    let dir = fuzz_dir().join("artifacts").join("npz");
    let found: Vec<_> =
        std::fs::read_dir(&dir).expect("the artifacts folder").map(|e| e.expect("an entry").path()).collect();
    assert!(!found.is_empty());
    for path in found {
        let bytes = std::fs::read(&path).expect("a readable artifact");
        let message = einmix_io::read_data(Some(Path::new("a.npz")), &bytes, &[], None)
            .expect_err("refused")
            .to_string();
        assert!(message.contains("more than deflate can expand to"), "{}: {message}", path.display());
    }
}

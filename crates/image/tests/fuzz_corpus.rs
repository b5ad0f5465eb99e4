//! Every input kept under `fuzz/` (the seed corpus, what the fuzzers added to it, and any crash
//! they found, in `fuzz/artifacts/`) replayed through the same calls as the fuzz targets, so an
//! ordinary `cargo test` guards each one (see docs/reliability.md). The hand-made seeds are
//! valid files, and they must read.

use std::path::{Path, PathBuf};

use einmix::{Mixture, VariationalMixture};
use einmix_image::{read_stack_bytes, ReadOptions};

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
        let f64s = einmix_npy::read::<f64>(bytes);
        let f32s = einmix_npy::read::<f32>(bytes);
        assert_eq!(f64s.is_ok(), f32s.is_ok());
        f64s.is_ok()
    });
}

#[test]
fn image_inputs_never_panic() {
    for (target, name) in [("image_npy", "input.npy"), ("tiff", "input.tif"), ("png", "input.png")] {
        seeds_read(target, |bytes| read_stack_bytes(Path::new(name), bytes, &ReadOptions::default()).is_ok());
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
    for (target, name, expected) in [
        (
            "tiff",
            "input.tif",
            "input.tif: not a valid TIFF file: a tag or a page claims more data than the file can hold",
        ),
        ("png", "input.png", "input.png: not a valid PNG file"),
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
            assert!(message.starts_with(expected), "{}: {message}", path.display());
        }
    }
}

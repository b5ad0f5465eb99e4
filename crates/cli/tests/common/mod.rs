//! Shared by the CLI's integration tests: a temporary working directory, the binary run in
//! it, and data with known answers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use einmix::{CovarianceType, Mixture};
use ndarray::{Array1, Array2, ArrayD, IxDyn};

/// A temporary directory that the binary runs in.
pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir { tmp: tempfile::tempdir().expect("a temporary directory") }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `einmix ARGS...` in this directory.
    pub fn einmix(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("einmix").expect("the einmix binary");
        cmd.current_dir(self.tmp.path()).args(args);
        cmd
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write a test file");
        p
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("read a test file")
    }

    pub fn text(&self, name: &str) -> String {
        String::from_utf8(self.read(name)).expect("UTF-8")
    }

    /// Names of the entries of the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.tmp.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// `k` well-separated round components in `d` dimensions, equal weights.
pub fn separated(k: usize, d: usize) -> Mixture {
    let weights = Array1::from_elem(k, 1.0 / k as f64);
    let means = Array2::from_shape_fn((k, d), |(c, j)| {
        // Corners of a grid 12 standard deviations apart.
        let (a, b) = (c % 3, c / 3);
        12.0 * if j == 0 {
            a as f64
        } else if j == 1 {
            b as f64
        } else {
            0.0
        }
    });
    let mut cov = vec![0.0; k * d * d];
    for c in 0..k {
        for j in 0..d {
            cov[c * d * d + j * d + j] = 1.0 + 0.25 * j as f64;
        }
        if d > 1 {
            cov[c * d * d + 1] = 0.3;
            cov[c * d * d + d] = 0.3;
        }
    }
    let cov = ArrayD::from_shape_vec(IxDyn(&[k, d, d]), cov).expect("shape");
    Mixture::from_parameters(CovarianceType::Full, weights.view(), means.view(), cov.view())
        .expect("a valid mixture")
}

/// CSV text with a header `x1,x2,...`, numbers written to round-trip.
pub fn csv(x: &Array2<f64>) -> String {
    let mut s: String = (1..=x.ncols()).map(|j| format!("x{j}")).collect::<Vec<_>>().join(",") + "\n";
    for row in x.rows() {
        s += &row.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(",");
        s.push('\n');
    }
    s
}

/// Parses CSV text with a header into a matrix.
pub fn parse_csv(text: &str) -> Array2<f64> {
    let mut lines = text.lines();
    let d = lines.next().expect("header").split(',').count();
    let values: Vec<f64> = lines
        .flat_map(|l| l.split(',').map(|v| v.parse::<f64>().expect("a number")).collect::<Vec<_>>())
        .collect();
    Array2::from_shape_vec((values.len() / d, d), values).expect("rectangular")
}

/// A `.npy` file of raw element bytes with the given header fields.
pub fn npy(descr: &str, fortran: bool, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// A float64 C-order `.npy` of a matrix.
pub fn npy_f64(x: &Array2<f64>) -> Vec<u8> {
    let payload: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    npy("<f8", false, &format!("({}, {})", x.nrows(), x.ncols()), &payload)
}

/// The data section of a `.npy` file (after the header).
pub fn npy_payload(bytes: &[u8]) -> &[u8] {
    assert!(bytes.starts_with(b"\x93NUMPY\x01\x00"), "a version 1.0 .npy file");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    &bytes[10 + len..]
}

/// The header text of a `.npy` file.
pub fn npy_header(bytes: &[u8]) -> String {
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    String::from_utf8_lossy(&bytes[10..10 + len]).into_owned()
}

pub fn npy_read_f64(bytes: &[u8]) -> Vec<f64> {
    npy_payload(bytes).chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect()
}

pub fn npy_read_i64(bytes: &[u8]) -> Vec<i64> {
    npy_payload(bytes).chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap())).collect()
}

pub fn model(path: &Path) -> Mixture {
    Mixture::from_json(&std::fs::read_to_string(path).expect("a model file")).expect("a valid model")
}

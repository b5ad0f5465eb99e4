//! Story: `einmix fit --stream` reads a `.npy` file block by block and fits what the in-memory
//! `einmix fit` fits (C or Fortran order, float64 or big-endian float32, with weights).

mod common;

use common::{model, npy, npy_f64, separated, Dir};
use einmix::Mixture;
use ndarray::Array1;

fn max_rel(a: &Mixture, b: &Mixture) -> f64 {
    let flat = |m: &Mixture| -> Vec<f64> {
        m.weights().iter().chain(m.means().iter()).chain(m.covariances().iter()).copied().collect()
    };
    let (a, b) = (flat(a), flat(b));
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter().zip(&b).map(|(x, y)| (x - y).abs() / y.abs().max(1e-3 * scale)).fold(0.0, f64::max)
}

#[test]
fn streamed_fit_equals_the_in_memory_fit() {
    let dir = Dir::new();
    let (x, _) = separated(4, 3).sample(5000, 3);
    dir.write("c.npy", npy_f64(&x));
    let fortran: Vec<u8> = x.t().iter().flat_map(|&v| (v as f32).to_be_bytes()).collect();
    dir.write("f.npy", npy(">f4", true, "(5000, 3)", &fortran));
    let w = Array1::from_shape_fn(5000, |i| 0.5 + (i % 3) as f64);
    let w_bytes: Vec<u8> = w.iter().flat_map(|v| v.to_le_bytes()).collect();
    dir.write("w.npy", npy("<f8", false, "(5000,)", &w_bytes));
    let fit = |args: &[&str], out: &str| {
        let mut all = vec!["fit", "-k", "4", "--random-state", "2", "--tol", "1e-8", "-o", out];
        all.extend_from_slice(args);
        dir.einmix(&all).assert().success();
        model(&dir.path(out))
    };
    let memory = fit(&["c.npy"], "memory.json");
    let streamed = fit(&["c.npy", "--stream", "--chunk-rows", "777"], "streamed.json");
    assert!(max_rel(&streamed, &memory) <= 1e-10, "{}", max_rel(&streamed, &memory));

    let x32 = x.mapv(|v| v as f32 as f64);
    dir.write("s.npy", npy_f64(&x32));
    let memory32 = fit(&["s.npy"], "memory32.json");
    let fortran32 = fit(&["f.npy", "--stream", "--chunk-rows", "1000"], "fortran32.json");
    assert!(max_rel(&fortran32, &memory32) <= 1e-10);

    let weighted = fit(&["c.npy", "--weights", "w.npy"], "weighted.json");
    let weighted_streamed = fit(&["c.npy", "--weights", "w.npy", "--stream"], "weighted-streamed.json");
    assert!(max_rel(&weighted_streamed, &weighted) <= 1e-10);
}

#[test]
fn stream_refuses_what_it_cannot_stream() {
    let dir = Dir::new();
    dir.write("x.csv", "1,2\n3,4\n");
    dir.einmix(&["fit", "x.csv", "-k", "1", "--stream", "-o", "m.json"]).assert().code(2);
    dir.einmix(&["fit", "x.npy", "-k", "1", "--chunk-rows", "5", "-o", "m.json"]).assert().code(2);
    assert!(!dir.path("m.json").exists());
}

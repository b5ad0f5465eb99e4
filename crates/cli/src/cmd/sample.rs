//! `einmix sample`: draw data from a model.

use std::hash::{BuildHasher, Hasher};
use std::process::ExitCode;

use crate::args::SampleArgs;

use crate::error::CliError;
use crate::io::{self, Kind, Output};
use crate::progress::Reporter;

pub fn run(a: &SampleArgs) -> Result<ExitCode, CliError> {
    let output = Output::new(&a.output, Kind::Array, a.out.force)?;
    let labels_output = a.labels.as_ref().map(|o| Output::new(o, Kind::Array, a.out.force)).transpose()?;
    let (_, model) = io::read_model(&a.model)?;
    // The model reader has checked every covariance is positive definite (sampling factors them).
    let seed = a.random_state.unwrap_or_else(fresh_seed);
    let (x, labels) = model.mixture().sample(a.n_samples, seed);
    output.matrix(x.view(), &super::feature_names(x.ncols()))?;
    if let Some(l) = &labels_output {
        l.labels(io::signed_labels(model.mixture(), labels).view(), "label")?;
    }
    Reporter::notes(a.verbosity).note(format_args!(
        "wrote {} samples of {} features to {}",
        x.nrows(),
        x.ncols(),
        output.file()
    ));
    Ok(ExitCode::SUCCESS)
}

/// A seed from the standard library's per-process random hash keys (no extra dependency).
fn fresh_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish()
}

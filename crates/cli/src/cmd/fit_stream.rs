//! `einmix fit --stream`: a `.npy` file larger than memory, passed over block by block every
//! iteration (see `einmix::stream`), memory `O(--chunk-rows x D)`.

use std::io::Write;
use std::process::ExitCode;

use crate::args::FitArgs;
use crate::error::{CliError, ReadError, Source};
use crate::io::npy_stream::{NpyFile, NpyRows, StreamError};
use crate::io::Output;
use crate::progress::Reporter;

pub fn run(a: &FitArgs, output: Output) -> Result<ExitCode, CliError> {
    let file = Source::input(&a.data);
    let to_cli = |e: StreamError| match e {
        StreamError::Read(path, kind) => CliError::read(&Source::input(&path), kind),
        StreamError::Core(e) => CliError::Library { file: file.clone(), source: e },
    };
    if file == Source::Stdin {
        return Err(CliError::read(
            &file,
            ReadError::WrongShape {
                expected: ".npy file on disk (--stream cannot read standard input)",
                found: "-".into(),
            },
        ));
    }
    let x = NpyFile::open(&a.data, false).map_err(to_cli)?;
    let w = match &a.weights {
        Some(path) => Some(NpyFile::open(path, true).map_err(to_cli)?),
        None => None,
    };
    let mut rows = NpyRows::new(x, w, a.chunk_rows).map_err(to_cli)?;
    let (n, d) = (rows.n_rows(), einmix::stream::RowSource::n_features(&rows));
    let mut spec = super::spec(&a.em, a.n_components, a.covariance_type);
    if let Some(region) = &a.background {
        spec = spec.background(region.clone());
    }
    let reporter = Reporter::new(a.verbosity, a.em.max_iter as u64, "iterations");
    let mut report = |p: &einmix::Progress| {
        reporter.step(p.iteration as u64, "fitting (streamed)");
        reporter.iteration("", p);
    };
    let fit = spec.fit_stream(&mut rows, einmix::FitOptions::new().progress(&mut report)).map_err(to_cli)?;
    let mut out = super::save_model(&reporter, &output, &fit.mixture)?;
    let info = &fit.info;
    writeln!(
        out,
        "fitted {} components ({} covariance) to {n} samples x {d} features streamed from {file} ({} rows per block)",
        a.n_components, a.covariance_type, a.chunk_rows
    )?;
    writeln!(out, "{}", super::outcome(info, a.em.n_init))?;
    Ok(super::finish_fit(&reporter, &output, info, &a.em, super::Bound::PerSample))
}

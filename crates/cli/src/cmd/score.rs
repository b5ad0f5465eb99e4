//! `einmix score`: the mean log-likelihood of data under a model.

use std::io::Write;
use std::process::ExitCode;

use crate::args::ScoreArgs;
use crate::error::CliError;
use crate::io::{self, Kind, Output};
use crate::progress::Reporter;

pub fn run(a: &ScoreArgs) -> Result<ExitCode, CliError> {
    let output = a.output.as_ref().map(|o| Output::new(o, Kind::Array, a.out.force)).transpose()?;
    let (model_file, model) = io::read_model(&a.model)?;
    let (file, table) = io::read_data(&a.data, &a.columns.columns, None)?;
    super::check_dimension(&file, &table, &model_file, model.mixture())?;
    let per_sample = model.score_samples(table.x.view()).map_err(CliError::library(&file))?;
    // The same sum and division as `Mixture::score`, so the two agree bit for bit.
    let mean = per_sample.sum() / per_sample.len() as f64;
    if let Some(output) = &output {
        output.vector(per_sample.view(), "log_likelihood")?;
        Reporter::notes(a.verbosity).note(format_args!(
            "wrote the log-likelihood of {} samples to {}",
            per_sample.len(),
            output.file()
        ));
    }
    writeln!(super::report_stream(&[output.as_ref()]), "{mean}")?;
    Ok(ExitCode::SUCCESS)
}

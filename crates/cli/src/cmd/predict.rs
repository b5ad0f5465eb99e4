//! `einmix predict`: model + data -> labels (or probabilities).

use std::process::ExitCode;

use crate::args::PredictArgs;
use crate::error::CliError;
use crate::io::{self, Kind, Output};
use crate::progress::Reporter;

pub fn run(a: &PredictArgs) -> Result<ExitCode, CliError> {
    let output = Output::new(&a.output, Kind::Array, a.out.force)?;
    let (model_file, model) = io::read_model(&a.model)?;
    let (file, table) = io::read_data(&a.data, &a.columns.columns, None)?;
    super::check_dimension(&file, &table, &model_file, model.mixture())?;
    let x = table.x.view();
    if a.proba {
        let p = model.predict_proba(x).map_err(CliError::library(&file))?;
        let names: Vec<String> = (0..model.mixture().n_components()).map(|k| format!("p{k}")).collect();
        output.matrix(p.view(), &names)?;
    } else {
        let labels = model.predict(x).map_err(CliError::library(&file))?;
        output.labels(labels.view(), "label")?;
    }
    let reporter = Reporter::notes(a.verbosity);
    let (n, k) = (x.nrows(), model.mixture().n_components());
    if a.proba {
        reporter.note(format_args!("wrote {n} x {k} component probabilities to {}", output.file()));
    } else {
        reporter.note(format_args!("wrote {n} labels (components 0 to {}) to {}", k - 1, output.file()));
    }
    Ok(ExitCode::SUCCESS)
}

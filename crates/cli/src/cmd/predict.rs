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
        let mut names: Vec<String> = (0..model.mixture().n_components()).map(|k| format!("p{k}")).collect();
        if model.mixture().background().is_some() {
            names.push("background".into());
        }
        output.matrix(p.view(), &names)?;
    } else {
        let labels = model.predict(x).map_err(CliError::library(&file))?;
        output.labels(labels.view(), "label")?;
    }
    let reporter = Reporter::notes(a.verbosity);
    let (n, k) = (x.nrows(), model.mixture().n_components());
    if a.proba {
        let columns = if model.mixture().background().is_some() {
            format!("{} (with the background's)", k + 1)
        } else {
            k.to_string()
        };
        reporter.note(format_args!("wrote {n} x {columns} component probabilities to {}", output.file()));
    } else {
        let background = if model.mixture().background().is_some() { "; -1: background" } else { "" };
        reporter.note(format_args!(
            "wrote {n} labels (components 0 to {}{background}) to {}",
            k - 1,
            output.file()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

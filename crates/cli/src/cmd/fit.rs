//! `einmix fit`: data -> model.json.

use std::io::Write;
use std::process::ExitCode;

use crate::args::FitArgs;
use crate::error::CliError;
use crate::io::{self, Kind, Output};
use crate::progress::Reporter;

pub fn run(a: &FitArgs) -> Result<ExitCode, CliError> {
    let output = Output::new(&a.output, Kind::Model, a.out.force)?;
    if a.stream {
        return super::fit_stream::run(a, output);
    }
    if a.online {
        return super::fit_online::run(a, output);
    }
    if a.bayesian {
        return super::fit_bayesian::run(a, output);
    }
    let (file, table) = io::read_data(&a.data, &a.columns.columns, a.weight_column.as_deref())?;
    let weights = match &a.weights {
        Some(path) => Some(io::read_weights(path, table.x.nrows())?),
        None => table.weights,
    };
    let x = table.x.view();
    let mut spec = super::spec(&a.em, a.n_components, a.covariance_type);
    if let Some(region) = &a.background {
        spec = spec.background(region.clone());
    }
    let reporter = Reporter::new(a.verbosity, a.em.max_iter as u64, "iterations");
    let mut report = |p: &einmix::Progress| {
        reporter.step(p.iteration as u64, "fitting");
        reporter.iteration("", p);
    };
    let fit = spec
        .fit_with(x, weights.as_ref().map(|w| w.view()), einmix::FitOptions::new().progress(&mut report))
        .map_err(CliError::library(&file))?;
    let mut out = super::save_model(&reporter, &output, &fit.mixture)?;
    let info = &fit.info;
    writeln!(
        out,
        "fitted {} components ({} covariance) to {} samples x {} features from {file}",
        a.n_components,
        a.covariance_type,
        x.nrows(),
        x.ncols()
    )?;
    writeln!(out, "{}", super::outcome(info, a.em.n_init))?;
    if weights.is_none() {
        let m = &fit.mixture;
        writeln!(
            out,
            "BIC {:.2}, AIC {:.2} ({} free parameters)",
            m.bic(x).map_err(CliError::library(&file))?,
            m.aic(x).map_err(CliError::library(&file))?,
            m.n_parameters()
        )?;
    }
    Ok(super::finish_fit(&reporter, &output, info, &a.em, super::Bound::PerSample))
}

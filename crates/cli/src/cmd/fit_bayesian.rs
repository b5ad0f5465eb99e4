//! `einmix fit --bayesian`: the variational mixture (`einmix::BayesianGaussianMixture`).

use std::io::Write;
use std::process::ExitCode;

use einmix::BayesianGaussianMixture;

use crate::args::FitArgs;
use crate::error::CliError;
use crate::io::{self, Output};
use crate::progress::Reporter;

pub fn run(a: &FitArgs, output: Output) -> Result<ExitCode, CliError> {
    let (file, table) = io::read_data(&a.data, &a.columns.columns, a.weight_column.as_deref())?;
    let weights = match &a.weights {
        Some(path) => Some(io::read_weights(path, table.x.nrows())?),
        None => table.weights,
    };
    let em = &a.em;
    let mut spec = BayesianGaussianMixture::new(a.n_components)
        .covariance_type(a.covariance_type)
        .init_params(em.init_params)
        .n_init(em.n_init)
        .max_iter(em.max_iter)
        .tol(em.tol)
        .reg_covar(em.reg_covar)
        .weight_prior(a.weight_prior.parse().map_err(CliError::library(&file))?)
        .precision(super::precision(em));
    if let Some(seed) = em.random_state {
        spec = spec.random_state(seed);
    }
    if let Some(t) = em.threads {
        spec = spec.n_threads(t);
    }
    if let Some(v) = a.weight_concentration_prior {
        spec = spec.weight_concentration_prior(v);
    }
    if let Some(v) = a.mean_precision_prior {
        spec = spec.mean_precision_prior(v);
    }
    if let Some(v) = a.degrees_of_freedom_prior {
        spec = spec.degrees_of_freedom_prior(v);
    }
    if let Some(region) = &a.background {
        spec = spec.background(region.clone());
    }
    let x = table.x.view();
    let reporter = Reporter::new(a.verbosity, em.max_iter as u64, "iterations");
    let mut report = |p: &einmix::Progress| {
        reporter.step(p.iteration as u64, "fitting (variational)");
        reporter.iteration("", p);
    };
    let fit = spec
        .fit_with(x, weights.as_ref().map(|w| w.view()), einmix::FitOptions::new().progress(&mut report))
        .map_err(CliError::library(&file))?;
    reporter.finish();
    output.variational(&fit.model)?;
    let mut out = super::report_stream(&[Some(&output)]);
    writeln!(
        out,
        "fitted a variational mixture of up to {} components ({} covariance, {} prior) to {} samples x {} features from {file}",
        a.n_components,
        a.covariance_type,
        a.weight_prior,
        x.nrows(),
        x.ncols()
    )?;
    writeln!(
        out,
        "{}",
        super::outcome(&fit.info, em.n_init).replace("per sample", "(variational bound, summed)")
    )?;
    writeln!(out, "{}", super::effective_components(&fit.model))?;
    if let Some(b) = fit.model.mixture.background() {
        writeln!(out, "background (label -1): weight {:.4}", b.weight())?;
    }
    Ok(super::finish_fit(&reporter, &output, &fit.info, em, super::Bound::Total))
}

//! One module per subcommand; each returns the exit code or a [`CliError`].

pub(crate) mod analyse;
mod demo;
mod fit;
mod fit_bayesian;
mod fit_online;
mod fit_stream;
pub(crate) mod image;
mod info;
mod predict;
mod sample;
mod score;
mod select;

use std::io::Write;
use std::process::ExitCode;

use einmix::{CovarianceType, FitInfo, GaussianMixture, Mixture};

use crate::args::{Cli, Command, EmArgs};
use crate::error::{CliError, Source};
use crate::io::{Output, Table};
use crate::progress::Reporter;

pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Fit(a) => fit::run(&a),
        Command::Predict(a) => predict::run(&a),
        Command::Score(a) => score::run(&a),
        Command::Sample(a) => sample::run(&a),
        Command::Select(a) => select::run(&a),
        Command::Info(a) => info::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Image(a) => match &a.command {
            crate::args::ImageCommand::Analyse(args) => analyse::run(args),
            _ => image::run(&a),
        },
    }
}

/// Exit code 1: a fit did not converge and `--strict` was given.
const NOT_CONVERGED: u8 = 1;

/// `--f32` as the library's precision.
pub(crate) fn precision(em: &EmArgs) -> einmix::Precision {
    if em.f32 {
        einmix::Precision::F32
    } else {
        einmix::Precision::F64
    }
}

/// The library's specification from the shared EM flags.
fn spec(em: &EmArgs, k: usize, kind: CovarianceType) -> GaussianMixture {
    let mut spec = GaussianMixture::new(k)
        .covariance_type(kind)
        .init_params(em.init_params)
        .n_init(em.n_init)
        .max_iter(em.max_iter)
        .tol(em.tol)
        .reg_covar(em.reg_covar)
        .precision(precision(em));
    if let Some(seed) = em.random_state {
        spec = spec.random_state(seed);
    }
    if let Some(t) = em.threads {
        spec = spec.n_threads(t);
    }
    spec
}

/// Why a fit is reported as not converged, for the warning.
/// The one-line outcome of a fit, as `fit` (in memory or streamed) reports it.
/// A variational model's effective components, as `fit --bayesian` and `info` report them:
/// those whose expected weight (among the Gaussians', with a background) exceeds the image
/// pipeline's threshold, 1 % (below it a component holds the prior's leftover mass), and their
/// share of the mass.
fn effective_components(v: &einmix::VariationalMixture) -> String {
    let threshold = einmix_image::EFFECTIVE_WEIGHT;
    let (k_eff, mass) = v.effective_components(threshold);
    let (among, whose) = if v.mixture.background().is_some() {
        (" among the Gaussians", "the Gaussians'")
    } else {
        ("", "the")
    };
    format!(
        "{k_eff} effective component{} (expected weight{among} above {threshold}) holding {mass:.4} of {whose} mass",
        if k_eff == 1 { "" } else { "s" }
    )
}

fn outcome(info: &FitInfo, n_init: usize) -> String {
    format!(
        "{} after {} iterations (best of {n_init} initialisation{}); lower bound {:.6} per sample",
        if info.converged { "converged" } else { "NOT converged" },
        info.n_iter,
        if n_init == 1 { "" } else { "s" },
        info.lower_bound
    )
}

fn not_converged(info: &FitInfo, em: &EmArgs, bound: Bound) -> String {
    let unit = match bound {
        Bound::PerSample => "per sample",
        Bound::Total => "in total",
    };
    let change = match info.lower_bounds[..] {
        [.., a, b] => {
            format!("; the lower bound still changed by {:.3e} {unit} in the last iteration", (b - a).abs())
        }
        _ => String::new(),
    };
    format!(
        "did not converge within {} iterations (--max-iter {}, --tol {}){change}; \
         raise --max-iter or --tol, or try another --init-params",
        info.n_iter, em.max_iter, em.tol
    )
}

/// After a fit: the progress bar removed, the model written, and the stream the report goes to.
fn save_model(reporter: &Reporter, output: &Output, model: &Mixture) -> Result<Box<dyn Write>, CliError> {
    reporter.finish();
    output.model(model)?;
    Ok(report_stream(&[Some(output)]))
}

/// The end of a fit command: says where the model went, warns if the fit did not converge
/// and, with `--strict`, turns that into the exit code.
/// How a fit's lower bound is reported: EM's is the mean per sample (scikit-learn's
/// `GaussianMixture`), the variational bound a sum over samples (its `BayesianGaussianMixture`).
#[derive(Clone, Copy)]
enum Bound {
    PerSample,
    Total,
}

fn finish_fit(reporter: &Reporter, output: &Output, info: &FitInfo, em: &EmArgs, bound: Bound) -> ExitCode {
    reporter.note(format_args!("wrote {}", output.file()));
    if !info.converged {
        reporter.warn(not_converged(info, em, bound));
        if em.strict {
            return ExitCode::from(NOT_CONVERGED);
        }
    }
    ExitCode::SUCCESS
}

/// The data's dimension must be the model's.
fn check_dimension(
    data: &Source,
    table: &Table,
    model_file: &Source,
    model: &Mixture,
) -> Result<(), CliError> {
    if table.x.ncols() != model.n_features() {
        return Err(CliError::DimensionMismatch {
            data: data.clone(),
            found: table.x.ncols(),
            model: model_file.clone(),
            expected: model.n_features(),
        });
    }
    Ok(())
}

/// Where a command's report goes: standard output, unless an output file is being written
/// there, in which case standard error.
fn report_stream(outputs: &[Option<&Output>]) -> Box<dyn Write> {
    if outputs.iter().flatten().any(|o| *o.file() == Source::Stdout) {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    }
}

/// `x1, x2, ...`: feature column names for text outputs.
fn feature_names(d: usize) -> Vec<String> {
    (1..=d).map(|j| format!("x{j}")).collect()
}

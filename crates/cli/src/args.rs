//! Every flag, defined once; the doc comments are the `--help` text.
//!
//! Flags carry scikit-learn's parameter names in kebab case (`--n-init`, `--reg-covar`, ...)
//! with its defaults; value checks that need no data happen here, so a bad value is a usage
//! error (exit code 2) before any file is read.

use std::ops::RangeInclusive;
use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use einmix::{BackgroundRegion, CovarianceType, InitParams};

mod image;
pub use image::*;

/// The exit codes, shown at the end of every `--help`.
const EXIT_CODES: &str = "Exit codes: 0 success; 1 a fit did not converge and --strict was given; \
                          2 usage or input error.";

/// Gaussian mixture models fitted by EM: exact, and fast on every core.
///
/// Data files are .npy (float64 or float32, C or Fortran order, shape (samples, features)),
/// .csv or .tsv (header line optional), or - for standard input. Outputs take their format
/// from their extension: .npy, .csv or .tsv for arrays, .json for models; - writes CSV (or the
/// model's JSON) to standard output. Every output is written whole or not at all, and an
/// existing file is replaced only with --force.
#[derive(Debug, Parser)]
#[command(name = "einmix", version, about, long_about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit a Gaussian mixture to data and save the model as JSON.
    #[command(after_help = EXIT_CODES)]
    Fit(FitArgs),
    /// Label each row of the data with its most probable component (or, with --proba, the
    /// probability of every component).
    #[command(after_help = EXIT_CODES)]
    Predict(PredictArgs),
    /// Print the mean log-likelihood of the data under a model (optionally save it per sample).
    #[command(after_help = EXIT_CODES)]
    Score(ScoreArgs),
    /// Draw samples from a model.
    #[command(after_help = EXIT_CODES)]
    Sample(SampleArgs),
    /// Fit every K in a range and every covariance type, pick the best by BIC or AIC, save it,
    /// and plot the criterion against K.
    #[command(after_help = EXIT_CODES)]
    Select(SelectArgs),
    /// Print a readable summary of a model: weights, means and covariance eigen-axes.
    #[command(after_help = EXIT_CODES)]
    Info(InfoArgs),
    /// Fit the seed workload (130,000 points, 50 full-covariance components in a 512x512 box,
    /// generated with a fixed seed) and report iterations, lower bound and time per iteration.
    #[command(after_help = EXIT_CODES)]
    Demo(DemoArgs),
    /// Microscopy images and time-lapses: per-frame mixtures, component graphs, pictures.
    Image(ImageArgs),
}

/// How much is said on standard error.
#[derive(Debug, Clone, Copy, Args)]
pub struct Verbosity {
    /// No progress bar and no notes (warnings and errors are still printed).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// One line per EM iteration on standard error instead of the progress bar.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `--quiet` alone, for the commands that run no EM.
#[derive(Debug, Clone, Copy, Args)]
pub struct Quiet {
    /// No notes on standard error (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
}

/// Which columns of a data file are the features.
#[derive(Debug, Clone, Args)]
pub struct ColumnArgs {
    /// Columns to use as features, comma-separated: header names or 1-based positions
    /// (default: every column, less the --weight-column of `fit`).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub columns: Vec<String>,
}

/// An output file and whether it may replace an existing one.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// The EM settings shared by `fit` and `select` (scikit-learn's names and defaults).
#[derive(Debug, Clone, Args)]
pub struct EmArgs {
    /// How the initial responsibilities are made.
    #[arg(long, default_value = "kmeans", value_parser = init_params())]
    pub init_params: InitParams,
    /// Number of initialisations; the one with the best lower bound is kept.
    #[arg(long, default_value_t = 1, value_parser = at_least_one, allow_negative_numbers = true)]
    pub n_init: usize,
    /// Maximum number of EM iterations per initialisation.
    #[arg(long, default_value_t = 100, value_parser = whole_number, allow_negative_numbers = true)]
    pub max_iter: usize,
    /// Convergence threshold: EM stops when the per-sample lower bound changes by less.
    #[arg(long, default_value_t = 1e-3, value_parser = non_negative, allow_negative_numbers = true)]
    pub tol: f64,
    /// Non-negative regularisation added to the diagonal of every covariance.
    #[arg(long, default_value_t = 1e-6, value_parser = non_negative, allow_negative_numbers = true)]
    pub reg_covar: f64,
    /// Seed of every random choice, for reproducible fits (default: fresh entropy each run).
    #[arg(long, value_name = "SEED", value_parser = seed, allow_negative_numbers = true)]
    pub random_state: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = at_least_one, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Single-precision density products in the E-step (from D = 4 diagonal, D = 8 full),
    /// statistics and M-step in f64: the lower bound within 1e-6 relative of the default f64 fit.
    #[arg(long)]
    pub f32: bool,
    /// Exit with code 1 when a fit did not converge within --max-iter (the model is still
    /// written); without it, non-convergence is a warning.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// The data: .npy, .npz (its array x, or its only array), .csv, .tsv, or - for standard input.
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// Number of mixture components.
    #[arg(short = 'k', long, value_parser = at_least_one, allow_negative_numbers = true)]
    pub n_components: usize,
    /// The shape of each component's covariance.
    #[arg(long, default_value = "full", value_parser = covariance_type())]
    pub covariance_type: CovarianceType,
    #[command(flatten)]
    pub em: EmArgs,
    /// Per-sample weights (non-negative, one per row): a .npy vector, a .npz of one such
    /// array, or a one-column CSV.
    #[arg(long, value_name = "FILE", conflicts_with = "weight_column")]
    pub weights: Option<PathBuf>,
    /// A column of the data holding per-sample weights (header name or 1-based position), or
    /// in a .npz the name of an array of them; it is not used as a feature.
    #[arg(long, value_name = "NAME")]
    pub weight_column: Option<String>,
    #[command(flatten)]
    pub columns: ColumnArgs,
    /// Where to save the fitted model (.json, or - for standard output).
    #[arg(short, long, value_name = "MODEL")]
    pub output: PathBuf,
    /// Stream a .npy file from disk, --chunk-rows rows at a time, every iteration, instead of
    /// reading it into memory: for data larger than memory. Same result as the in-memory fit
    /// from the same start; initialisation runs on a uniform sample of 200,000 rows.
    #[arg(long, conflicts_with_all = ["weight_column", "columns"])]
    pub stream: bool,
    /// Rows per block read with --stream.
    #[arg(long, default_value_t = 262_144, value_parser = at_least_one, requires = "stream")]
    pub chunk_rows: usize,
    /// Add a uniform background component, whose weight EM learns with the Gaussians': for
    /// clutter or a noise floor. Alone, over the data's bounding box; or over a box given as
    /// LOWER:UPPER, each comma-separated per feature (e.g. --background=0,0:512,512; the `=`
    /// is needed when a corner starts with -). Labels of points the background explains best
    /// are -1; --proba gets a last column, "background". With --online, LOWER:UPPER is required;
    /// with --bayesian its weight is estimated beside the variational posterior.
    #[arg(long, value_name = "REGION", num_args = 0..=1, default_missing_value = "bbox", value_parser = background_region)]
    pub background: Option<BackgroundRegion>,
    /// Variational Bayesian fit (scikit-learn's BayesianGaussianMixture): -k is an upper bound,
    /// the weight prior switches off the components the data do not need; the saved model's
    /// predictions and scores are the variational ones.
    #[arg(long, conflicts_with_all = ["stream", "online"])]
    pub bayesian: bool,
    /// With --bayesian: the weight prior.
    #[arg(long, default_value = "dirichlet_process", value_parser = ["dirichlet_process", "dirichlet_distribution"], requires = "bayesian")]
    pub weight_prior: String,
    /// With --bayesian: the weight concentration prior alpha_0 > 0 [default: 1/K].
    #[arg(long, requires = "bayesian", allow_negative_numbers = true)]
    pub weight_concentration_prior: Option<f64>,
    /// With --bayesian: the mean precision prior beta_0 > 0 [default: 1].
    #[arg(long, requires = "bayesian", allow_negative_numbers = true)]
    pub mean_precision_prior: Option<f64>,
    /// With --bayesian: the degrees-of-freedom prior nu_0 > D - 1 [default: D].
    #[arg(long, requires = "bayesian", allow_negative_numbers = true)]
    pub degrees_of_freedom_prior: Option<f64>,
    /// Online EM: read the data --batch-rows rows at a time (a .npy file, a CSV/TSV file, or
    /// standard input) and update the model after each batch, each row seen once per pass
    /// (memory O(batch)). The first batch is fitted as `fit` would; it needs at least K rows.
    #[arg(long, conflicts_with_all = ["stream", "weights"])]
    pub online: bool,
    /// Rows per batch with --online.
    #[arg(long, default_value_t = 10_000, value_parser = at_least_one, requires = "online")]
    pub batch_rows: usize,
    /// Passes over the data with --online (more than one needs a file, not standard input).
    #[arg(long, default_value_t = 1, value_parser = at_least_one, requires = "online")]
    pub passes: usize,
    /// Online EM's step size rho_t = (t + offset)^-decay: the decay, in (0.5, 1].
    #[arg(long, default_value_t = 0.7, requires = "online")]
    pub learning_decay: f64,
    /// Online EM's step size offset (>= 0): larger damps the first steps.
    #[arg(long, default_value_t = 10.0, requires = "online")]
    pub learning_offset: f64,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A model saved by `einmix fit` or `einmix select`.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// The data: .npy, .npz (its array x, or its only array), .csv, .tsv, or - for standard input.
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// Write the probability of every component (one column per component) instead of labels.
    #[arg(long)]
    pub proba: bool,
    #[command(flatten)]
    pub columns: ColumnArgs,
    /// Where to write: .npy (int64 labels or float64 probabilities), .csv, .tsv, or - for
    /// CSV on standard output.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub verbosity: Quiet,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// A model saved by `einmix fit` or `einmix select`.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// The data: .npy, .npz (its array x, or its only array), .csv, .tsv, or - for standard input.
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    #[command(flatten)]
    pub columns: ColumnArgs,
    /// Also write each sample's log-likelihood log p(x) (.npy, .csv, .tsv, or - for standard
    /// output).
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub verbosity: Quiet,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// A model saved by `einmix fit` or `einmix select`.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
    /// Number of samples to draw.
    #[arg(short = 'n', long, value_parser = at_least_one, allow_negative_numbers = true)]
    pub n_samples: usize,
    /// Seed of the draw (default: fresh entropy each run).
    #[arg(long, value_name = "SEED")]
    pub random_state: Option<u64>,
    /// Where to write the samples, grouped by component: .npy, .csv, .tsv, or - for CSV on
    /// standard output.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Also write the component each sample came from (.npy, .csv or .tsv).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub verbosity: Quiet,
}

/// The information criterion `select` minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Criterion {
    /// Bayesian information criterion: -2 log L + p ln N.
    Bic,
    /// Akaike information criterion: -2 log L + 2 p.
    Aic,
}

#[derive(Debug, Args)]
pub struct SelectArgs {
    /// The data: .npy, .npz (its array x, or its only array), .csv, .tsv, or - for standard input.
    #[arg(value_name = "DATA")]
    pub data: PathBuf,
    /// The numbers of components to try: A..=B (inclusive), A..B (B excluded), or one K.
    #[arg(long, default_value = "1..=10", value_parser = k_range)]
    pub k_range: RangeInclusive<usize>,
    /// Covariance types to try, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "full",
        value_parser = covariance_type()
    )]
    pub covariance_types: Vec<CovarianceType>,
    /// The criterion to minimise.
    #[arg(long, value_enum, default_value_t = Criterion::Bic)]
    pub criterion: Criterion,
    /// Skip the warm start: fit every K only from --init-params. By default, each K above the
    /// smallest is also fitted by EM from the K-1 model with its worst-explained component
    /// (lowest mean log-likelihood of its points) split in two along its main axis, and the
    /// better of the two fits (by the criterion) is kept.
    #[arg(long)]
    pub no_warm_start: bool,
    #[command(flatten)]
    pub em: EmArgs,
    #[command(flatten)]
    pub columns: ColumnArgs,
    /// Where to save the best model (.json, or - for standard output).
    #[arg(short, long, value_name = "MODEL")]
    pub output: PathBuf,
    /// Also draw the criterion against K as a PNG: one line per covariance type, the chosen
    /// model circled.
    #[arg(long, value_name = "PNG")]
    pub plot: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// A model saved by `einmix fit` or `einmix select`.
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Number of points.
    #[arg(long, default_value_t = 130_000)]
    pub n_samples: usize,
    /// Number of components.
    #[arg(short = 'k', long, default_value_t = 50)]
    pub n_components: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Seed of the data and of the k-means++ initialisation.
    #[arg(long, default_value_t = 0)]
    pub random_state: u64,
}

/// scikit-learn's spellings, parsed by the library's own `FromStr`.
fn covariance_type() -> impl TypedValueParser<Value = CovarianceType> {
    PossibleValuesParser::new(["full", "tied", "diag", "spherical"]).try_map(|s| s.parse::<CovarianceType>())
}

fn init_params() -> impl TypedValueParser<Value = InitParams> {
    PossibleValuesParser::new(["kmeans", "k-means++", "random", "random_from_data"])
        .try_map(|s| s.parse::<InitParams>())
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a whole number of at least 1".into()),
    }
}

/// `bbox`, or `LOWER:UPPER` with comma-separated corners.
fn background_region(s: &str) -> Result<BackgroundRegion, String> {
    if s == "bbox" {
        return Ok(BackgroundRegion::BoundingBox);
    }
    let bad =
        || format!("expected bbox or LOWER:UPPER with comma-separated numbers (e.g. 0,0:512,512), got '{s}'");
    let (lower, upper) = s.split_once(':').ok_or_else(bad)?;
    let corner = |t: &str| {
        t.split(',').map(|v| v.trim().parse::<f64>().map_err(|_| bad())).collect::<Result<Vec<_>, _>>()
    };
    Ok(BackgroundRegion::Box { lower: corner(lower)?, upper: corner(upper)? })
}

fn whole_number(s: &str) -> Result<usize, String> {
    s.parse::<usize>().map_err(|_| "expected a whole number >= 0".into())
}

fn seed(s: &str) -> Result<u64, String> {
    s.parse::<u64>().map_err(|_| format!("expected a whole number from 0 to {}", u64::MAX))
}

fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v >= 0.0 && v.is_finite() => Ok(v),
        _ => Err("expected a finite number >= 0".into()),
    }
}

/// `A..=B`, `A..B` or `K`, with 1 <= A <= B.
fn k_range(s: &str) -> Result<RangeInclusive<usize>, String> {
    let bad = || format!("expected A..=B, A..B or K with 1 <= A <= B, got '{s}'");
    let number = |t: &str| t.trim().parse::<usize>().map_err(|_| bad());
    let (lo, hi) = if let Some((a, b)) = s.split_once("..=") {
        (number(a)?, number(b)?)
    } else if let Some((a, b)) = s.split_once("..") {
        (number(a)?, number(b)?.checked_sub(1).ok_or_else(bad)?)
    } else {
        let k = number(s)?;
        (k, k)
    };
    if lo == 0 || lo > hi {
        return Err(bad());
    }
    Ok(lo..=hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn k_ranges() {
        assert_eq!(k_range("1..=20"), Ok(1..=20));
        assert_eq!(k_range("2..5"), Ok(2..=4));
        assert_eq!(k_range("3"), Ok(3..=3));
        assert!(k_range("0..=3").is_err());
        assert!(k_range("5..=3").is_err());
        assert!(k_range("1..1").is_err());
        assert!(k_range("a..=b").is_err());
    }

    #[test]
    fn spellings_match_the_library() {
        for kind in CovarianceType::ALL {
            assert!(covariance_type().parse_ref(&Cli::command(), None, kind.to_string().as_ref()).is_ok());
        }
        for init in InitParams::ALL {
            assert!(init_params().parse_ref(&Cli::command(), None, init.to_string().as_ref()).is_ok());
        }
    }
}

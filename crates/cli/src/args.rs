//! Every flag, defined once; the doc comments are the `--help` text.

use clap::{Parser, Subcommand};

/// Gaussian mixture models fitted by EM: exact, and fast on every core.
///
/// Exit codes: 0 success, 1 not converged under --strict, 2 usage or input error.
#[derive(Debug, Parser)]
#[command(name = "einmix", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit the seed workload (130,000 points, 50 full-covariance components in a 512x512 box,
    /// generated with a fixed seed) and report iterations, lower bound and time per iteration.
    Demo(DemoArgs),
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

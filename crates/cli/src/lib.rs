//! The `einmix` command line as a library: [`Cli`] parses the arguments, [`execute`] runs them.
//! The binary (`main.rs`) is these two calls and the exit code; the fuzz target
//! `fuzz/fuzz_targets/cli_fit.rs` drives the same path from arbitrary arguments.
//!
//! Exit codes: 0 success; 1 a fit did not converge under `--strict`; 2 usage or input error
//! (clap's usage errors exit with 2 too). User errors are messages, never panics.

mod args;
mod cmd;
mod error;
mod io;
mod plot;
mod progress;

use std::process::ExitCode;

pub use args::Cli;
pub use error::CliError;

/// Runs parsed arguments: writes the outputs they name, and returns the exit code (0, or 1
/// for a fit that did not converge under `--strict`); a user error is an `Err` to print.
pub fn execute(cli: Cli) -> Result<ExitCode, CliError> {
    cmd::run(cli)
}

//! The `einmix` command line: parse, run, exit code.
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

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        // A closed pipe (`einmix predict ... -o - | head`) is the reader's choice, not an error.
        Err(error::CliError::Stdout(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("einmix: error: {e}");
            ExitCode::from(2)
        }
    }
}

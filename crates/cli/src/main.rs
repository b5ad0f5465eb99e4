//! The `einmix` command line: parse, run, exit code (see the library, `einmix_cli`).

use std::process::ExitCode;

use clap::Parser;
use einmix_cli::{execute, Cli, CliError};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(code) => code,
        // A closed pipe (`einmix predict ... -o - | head`) is the reader's choice, not an error.
        Err(CliError::Stdout(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("einmix: error: {e}");
            ExitCode::from(2)
        }
    }
}

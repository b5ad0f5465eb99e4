//! The `einmix` command line: parse, run, exit code.

mod args;
mod cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("einmix: error: {e}");
            ExitCode::from(2)
        }
    }
}

//! One module per subcommand.

mod demo;

use std::process::ExitCode;

use crate::args::{Cli, Command};

/// Any error a subcommand reports; printed once by `main`.
pub type CliError = Box<dyn std::error::Error>;

pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Demo(a) => demo::run(&a),
    }
}

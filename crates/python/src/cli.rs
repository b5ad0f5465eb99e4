//! `einmix._einmix.cli_main`: the `einmix` command line inside the extension, for the console
//! script that `pip install einmix` puts on PATH (`python/einmix/_cli.py`). It is the CLI
//! library the cargo-built binary runs (`einmix_cli`), so both write the same files and say
//! the same things; only the exit code comes back to Python.

use std::process::ExitCode;

use clap::Parser;
use einmix_cli::{execute, Cli, CliError};
use pyo3::prelude::*;

/// Runs the command line `args` (`args[0]` is the program's name) and returns its exit code:
/// 0 success, 1 a fit that did not converge under `--strict`, 2 a usage or input error (its
/// message printed on standard error, as the binary prints it).
#[pyfunction]
fn cli_main(py: Python<'_>, args: Vec<String>) -> i32 {
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        // --help and --version are "errors" of clap's that exit with 0; usage errors with 2.
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match py.detach(|| execute(cli)) {
        Ok(code) if code == ExitCode::SUCCESS => 0,
        Ok(_) => 1,
        // A closed pipe (`einmix predict ... -o - | head`) is the reader's choice, not an error.
        Err(CliError::Stdout(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("einmix: error: {e}");
            2
        }
    }
}

/// Adds `cli_main` to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cli_main, m)?)
}

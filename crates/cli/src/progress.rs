//! What a long command says on standard error while it works.
//!
//! A progress bar (run, iteration, lower bound) when standard error is a terminal; nothing
//! when it is not, or with `--quiet`; with `--verbose`, one plain line per EM iteration instead.
//! Warnings (non-convergence) are printed in every mode; notes ("wrote model.json") in every
//! mode but `--quiet`.

use std::fmt::Display;
use std::io::IsTerminal;
use std::time::Duration;

use einmix::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::{Quiet, Verbosity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Quiet,
    Silent,
    Bar,
    Lines,
}

/// Reports progress and notes on standard error.
pub struct Reporter {
    mode: Mode,
    bar: ProgressBar,
}

impl Reporter {
    /// `steps` is the bar's length (EM iterations of one run for `fit`, fits for `select`);
    /// `unit` names them.
    pub fn new(v: Verbosity, steps: u64, unit: &str) -> Reporter {
        let mode = if v.quiet {
            Mode::Quiet
        } else if v.verbose {
            Mode::Lines
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Silent
        };
        let bar = if mode == Mode::Bar {
            let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
            let template = format!("{{prefix}} [{{bar:30}}] {{pos:>3}}/{{len}} {unit}  {{msg}}");
            bar.set_style(
                ProgressStyle::with_template(&template).expect("a valid template").progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        Reporter { mode, bar }
    }

    /// For commands that run no EM: notes and warnings only.
    pub fn notes(q: Quiet) -> Reporter {
        Reporter { mode: if q.quiet { Mode::Quiet } else { Mode::Silent }, bar: ProgressBar::hidden() }
    }

    /// The bar's position (iteration or fit) and prefix (what is running).
    pub fn step(&self, position: u64, prefix: impl Display) {
        if self.mode == Mode::Bar {
            self.bar.set_position(position);
            self.bar.set_prefix(prefix.to_string());
        }
    }

    /// After each EM iteration. `what` prefixes the verbose line (the bar shows it through
    /// [`Reporter::step`]'s prefix).
    pub fn iteration(&self, what: &str, p: &Progress) {
        match self.mode {
            Mode::Bar => {
                self.bar.set_message(format!(
                    "run {}/{}  iteration {}  lower bound {:.6}",
                    p.run + 1,
                    p.n_runs,
                    p.iteration,
                    p.lower_bound
                ));
            }
            Mode::Lines => eprintln!(
                "{what}run {}/{} iteration {:>3}: lower bound {:.10}, change {:+.3e}",
                p.run + 1,
                p.n_runs,
                p.iteration,
                p.lower_bound,
                p.change
            ),
            Mode::Quiet | Mode::Silent => {}
        }
    }

    /// What is running now, for steps without per-iteration reports: the bar's message, or a
    /// line with `--verbose`.
    pub fn status(&self, message: impl Display) {
        match self.mode {
            Mode::Bar => self.bar.set_message(message.to_string()),
            Mode::Lines => eprintln!("{message}"),
            Mode::Quiet | Mode::Silent => {}
        }
    }

    /// A line that the user should see whatever the mode.
    pub fn warn(&self, message: impl Display) {
        self.bar.suspend(|| eprintln!("einmix: warning: {message}"));
    }

    /// A line about what was done, hidden by `--quiet`.
    pub fn note(&self, message: impl Display) {
        if self.mode != Mode::Quiet {
            self.bar.suspend(|| eprintln!("{message}"));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

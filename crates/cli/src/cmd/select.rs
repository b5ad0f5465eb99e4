//! `einmix select`: fit every (K, covariance type), keep the one with the lowest BIC or AIC.
//!
//! ```text
//! BIC = -2 log L + p ln N        AIC = -2 log L + 2 p
//! ```
//! Each K is fitted from `--init-params` (with `--n-init` restarts). Unless `--no-warm-start`,
//! K above the smallest is also fitted by EM from the K-1 model with one component split in
//! two, and the fit with the lower criterion is kept: the split start often finds a better
//! optimum for the same price as one restart, and the criterion decides, so it never hurts.

use std::io::Write;
use std::process::ExitCode;

use einmix::{CovarianceType, FitOptions, Mixture};
use ndarray::ArrayView2;

use crate::args::{Criterion, SelectArgs};
use crate::error::CliError;
use crate::io::{self, Kind, Output};
use crate::plot::{self, Series};
use crate::progress::Reporter;

/// One cell of the table.
enum Outcome {
    Fitted { mixture: Mixture, value: f64, converged: bool, warm: bool },
    Failed(einmix::Error),
}

pub fn run(a: &SelectArgs) -> Result<ExitCode, CliError> {
    let output = Output::new(&a.output, Kind::Model, a.out.force)?;
    let plot_output = a.plot.as_ref().map(|p| Output::new(p, Kind::Png, a.out.force)).transpose()?;
    let (file, table) = io::read_data(&a.data, &a.columns.columns, None)?;
    let x = table.x.view();
    let mut kinds: Vec<CovarianceType> = Vec::new();
    for &kind in &a.covariance_types {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let ks: Vec<usize> = a.k_range.clone().collect();
    let reporter = Reporter::new(a.verbosity, (ks.len() * kinds.len()) as u64, "fits");
    let criterion = |m: &Mixture| match a.criterion {
        Criterion::Bic => m.bic(x),
        Criterion::Aic => m.aic(x),
    };

    // results[kind][k index]
    let mut results: Vec<Vec<Outcome>> = Vec::new();
    let mut warm_tried = 0;
    for (i, &kind) in kinds.iter().enumerate() {
        let mut row = Vec::new();
        let mut previous: Option<Mixture> = None;
        for (j, &k) in ks.iter().enumerate() {
            let what = format!("K={k} {kind}: ");
            reporter.step((i * ks.len() + j) as u64, format!("K={k} {kind}"));
            let spec = super::spec(&a.em, k, kind);
            let mut best: Option<Outcome> = None;
            let mut consider = |fit: einmix::Result<einmix::Fit>, warm: bool| {
                let scored = fit.and_then(|f| {
                    let value = criterion(&f.mixture)?;
                    Ok((f, value))
                });
                match (scored, &best) {
                    (Ok((f, value)), None | Some(Outcome::Failed(_))) => {
                        best = Some(Outcome::Fitted {
                            mixture: f.mixture,
                            value,
                            converged: f.info.converged,
                            warm,
                        })
                    }
                    (Ok((f, value)), Some(Outcome::Fitted { value: v, .. })) if value < *v => {
                        best = Some(Outcome::Fitted {
                            mixture: f.mixture,
                            value,
                            converged: f.info.converged,
                            warm,
                        })
                    }
                    (Err(e), None) => best = Some(Outcome::Failed(e)),
                    _ => {}
                }
            };
            let mut report = |p: &einmix::Progress| reporter.iteration(&what, p);
            consider(spec.fit_with(x, None, FitOptions::new().progress(&mut report)), false);
            if let (false, Some(prev)) = (a.no_warm_start, &previous) {
                if let Some(start) = split_worst(prev, x) {
                    reporter.status(format_args!("{what}EM from the K={} fit with a component split", k - 1));
                    warm_tried += 1;
                    let warm =
                        spec.fit_with(x, None, FitOptions::new().warm_start(&start, f64::NEG_INFINITY));
                    if let Ok(f) = &warm {
                        reporter.status(format_args!(
                            "{what}split start: {} iterations, lower bound {:.10}",
                            f.info.n_iter, f.info.lower_bound
                        ));
                    }
                    consider(warm, true);
                }
            }
            let outcome = best.expect("at least one fit was considered");
            previous = match &outcome {
                Outcome::Fitted { mixture, .. } => Some(mixture.clone()),
                Outcome::Failed(_) => None,
            };
            row.push(outcome);
        }
        results.push(row);
    }
    reporter.finish();

    // The best cell, first in table order on ties.
    let mut chosen: Option<(usize, usize, f64)> = None;
    for (i, row) in results.iter().enumerate() {
        for (j, cell) in row.iter().enumerate() {
            if let Outcome::Fitted { value, .. } = cell {
                if chosen.is_none_or(|(_, _, v)| *value < v) {
                    chosen = Some((i, j, *value));
                }
            }
        }
    }
    let Some((bi, bj, best_value)) = chosen else {
        let first = results
            .into_iter()
            .flatten()
            .find_map(|o| match o {
                Outcome::Failed(e) => Some(e),
                Outcome::Fitted { .. } => None,
            })
            .expect("no fit succeeded, so one failed");
        return Err(CliError::NothingFitted { file, first });
    };
    let name = match a.criterion {
        Criterion::Bic => "BIC",
        Criterion::Aic => "AIC",
    };

    let mut out = super::report_stream(&[Some(&output)]);
    writeln!(out, "{name} (lower is better) for {} samples x {} features from {file}", x.nrows(), x.ncols())?;
    let mut line = format!("{:>4}", "K");
    for kind in &kinds {
        line += &format!("  {:>14}  ", kind.to_string());
    }
    writeln!(out, "{}", line.trim_end())?;
    let (mut unconverged, mut warm_kept, mut failures) = (Vec::new(), 0, Vec::new());
    for (j, &k) in ks.iter().enumerate() {
        let mut line = format!("{k:>4}");
        for (i, kind) in kinds.iter().enumerate() {
            let cell = match &results[i][j] {
                Outcome::Fitted { value, converged, warm, .. } => {
                    if !converged {
                        unconverged.push(format!("K={k} {kind}"));
                    }
                    warm_kept += usize::from(*warm);
                    let mark = match ((i, j) == (bi, bj), converged) {
                        (true, _) => " *",
                        (false, false) => " !",
                        (false, true) => "  ",
                    };
                    format!("{value:.2}{mark}")
                }
                Outcome::Failed(e) => {
                    failures.push(format!("K={k} {kind}: {e}"));
                    "failed  ".to_string()
                }
            };
            line += &format!("  {cell:>16}");
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    let Outcome::Fitted { mixture, converged, .. } = &results[bi][bj] else {
        unreachable!("the chosen cell was fitted");
    };
    writeln!(
        out,
        "best (*): K={}, {} covariance, {name} {best_value:.2}{}",
        ks[bj],
        kinds[bi],
        if *converged { "" } else { " (not converged)" }
    )?;
    if warm_tried > 0 {
        writeln!(out, "the split warm start gave the better fit in {warm_kept} of the {warm_tried} cells it was tried in")?;
    }
    output.model(mixture)?;
    reporter.note(format_args!("wrote {}", output.file()));

    if let Some(plot_output) = &plot_output {
        let series: Vec<Series> = kinds
            .iter()
            .zip(&results)
            .map(|(kind, row)| Series {
                label: kind.to_string(),
                points: ks
                    .iter()
                    .zip(row)
                    .filter_map(|(&k, o)| match o {
                        Outcome::Fitted { value, .. } => Some((k, *value)),
                        Outcome::Failed(_) => None,
                    })
                    .collect(),
            })
            .collect();
        let png = plot::criterion(name, &series, (bi, ks[bj], best_value))
            .map_err(|message| CliError::Plot { file: plot_output.file().clone(), message })?;
        plot_output.png(&png)?;
        reporter.note(format_args!("wrote {}", plot_output.file()));
    }

    for f in &failures {
        reporter.warn(format_args!("fit failed for {f}"));
    }
    if !unconverged.is_empty() {
        reporter.warn(format_args!(
            "{} fit(s) did not converge within --max-iter {} (marked !): {}; raise --max-iter or --tol",
            unconverged.len(),
            a.em.max_iter,
            unconverged.join(", ")
        ));
        if a.em.strict {
            return Ok(ExitCode::from(super::NOT_CONVERGED));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The start for K components from a K-1 fit: the component whose points are worst explained
/// (lowest mean log-likelihood, among components with at least two points) is split in two
/// along its main axis. Halving a Gaussian along an axis of variance `lambda` gives halves with
/// means at `+-sqrt(2 lambda / pi)` and variance `lambda (1 - 2/pi)` along it, so the split
/// keeps the mixture's first two moments. Tied and spherical kinds keep their covariances.
/// `None` when no component can be split.
fn split_worst(prev: &Mixture, x: ArrayView2<f64>) -> Option<Mixture> {
    let k = prev.n_components();
    let labels = prev.predict(x).ok()?;
    let ll = prev.score_samples(x).ok()?;
    let mut sum = vec![0.0; k];
    let mut count = vec![0usize; k];
    for (&l, &v) in labels.iter().zip(&ll) {
        sum[l] += v;
        count[l] += 1;
    }
    let worst = (0..k)
        .filter(|&c| count[c] >= 2)
        .min_by(|&a, &b| (sum[a] / count[a] as f64).total_cmp(&(sum[b] / count[b] as f64)))?;

    prev.split_component(worst).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ArrayD, IxDyn};

    #[test]
    fn split_keeps_weights_and_moves_means_apart() {
        let cov = ArrayD::from_shape_vec(IxDyn(&[1, 2, 2]), vec![4.0, 0.0, 0.0, 1.0]).unwrap();
        let m = Mixture::from_parameters(
            CovarianceType::Full,
            ndarray::array![1.0].view(),
            ndarray::array![[0.0, 0.0]].view(),
            cov.view(),
        )
        .unwrap();
        let x = Array2::from_shape_fn((20, 2), |(i, j)| if j == 0 { i as f64 - 10.0 } else { 0.0 });
        let s = split_worst(&m, x.view()).unwrap();
        assert_eq!(s.n_components(), 2);
        assert_eq!(s.weights().to_vec(), vec![0.5, 0.5]);
        let offset = (2.0 / std::f64::consts::PI * 4.0).sqrt();
        assert!((s.means()[[0, 0]].abs() - offset).abs() < 1e-12);
        assert!((s.means()[[0, 0]] + s.means()[[1, 0]]).abs() < 1e-12);
        let c = s.covariances();
        assert!((c[[1, 0, 0]] - 4.0 * (1.0 - 2.0 / std::f64::consts::PI)).abs() < 1e-12);
        assert!((c[[1, 1, 1]] - 1.0).abs() < 1e-12);
    }
}

//! `einmix info`: a model, summarised for people.
//!
//! Each covariance is shown by its eigen-decomposition `Sigma = sum_i lambda_i v_i v_i^T`: the
//! standard deviation `sqrt(lambda_i)` along each unit axis `v_i`, largest first.

use std::io::Write;
use std::process::ExitCode;

use einmix::CovarianceType;

use crate::args::InfoArgs;
use crate::error::CliError;
use crate::io;

pub fn run(a: &InfoArgs) -> Result<ExitCode, CliError> {
    let (file, model) = io::read_model(&a.model)?;
    let m = model.mixture();
    let mut out = std::io::stdout().lock();
    let (k, d, kind) = (m.n_components(), m.n_features(), m.covariance_type());
    writeln!(
        out,
        "{file}: Gaussian mixture of {k} component{} in {d} dimension{}, {kind} covariance, {} free parameters",
        if k == 1 { "" } else { "s" },
        if d == 1 { "" } else { "s" },
        m.n_parameters()
    )?;
    if let io::Model::Variational(v) = &model {
        writeln!(out, "variational ({} prior): {}", v.weight_prior, super::effective_components(v))?;
    }
    let dense = |c: usize| m.covariance_matrix(c).iter().copied().collect::<Vec<f64>>();
    if kind.is_shared() {
        writeln!(out, "shared covariance axes:")?;
        axes(&mut out, &dense(0), d)?;
    }
    for c in 0..k {
        writeln!(out)?;
        writeln!(out, "component {c}: weight {}", g(m.weights()[c]))?;
        writeln!(out, "  mean {}", vector(m.means().row(c).iter().copied()))?;
        if kind == CovarianceType::Spherical {
            writeln!(out, "  sd {} in every direction", g(m.covariance_matrix(c)[[0, 0]].sqrt()))?;
        } else if !kind.is_shared() {
            axes(&mut out, &dense(c), d)?;
        }
    }
    if let Some(b) = m.background() {
        writeln!(out)?;
        writeln!(
            out,
            "background (label -1): weight {}, uniform over {} to {}",
            g(b.weight()),
            vector(b.lower().iter().copied()),
            vector(b.upper().iter().copied())
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `sd S along [v]` for each eigen-axis, largest first.
fn axes(out: &mut impl Write, cov: &[f64], d: usize) -> std::io::Result<()> {
    let (values, vectors) = einmix::symmetric_eigen(cov, d);
    for i in (0..d).rev() {
        let v = &vectors[i * d..(i + 1) * d];
        // An eigenvector's sign is arbitrary: show its largest entry positive.
        let big = v.iter().fold(0.0f64, |m, x| if x.abs() > m.abs() { *x } else { m });
        let sign = if big < 0.0 { -1.0 } else { 1.0 };
        writeln!(
            out,
            "  sd {:<10} along {}",
            g(values[i].max(0.0).sqrt()),
            vector(v.iter().map(|x| sign * x + 0.0))
        )?;
    }
    Ok(())
}

fn vector(values: impl Iterator<Item = f64>) -> String {
    format!("[{}]", values.map(g).collect::<Vec<_>>().join(", "))
}

/// Five significant digits, like C's `%.5g`.
fn g(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let exponent = v.abs().log10().floor() as i32;
    if (-4..5).contains(&exponent) {
        let decimals = (4 - exponent).max(0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{v:.4e}")
    }
}

#[cfg(test)]
mod tests {
    use super::g;

    #[test]
    fn five_significant_digits() {
        assert_eq!(g(0.333333333), "0.33333");
        assert_eq!(g(12345.678), "12346");
        assert_eq!(g(-2.5), "-2.5");
        assert_eq!(g(1e-7), "1.0000e-7");
        assert_eq!(g(0.0), "0");
    }
}

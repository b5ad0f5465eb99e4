//! The command line's argument-to-fit path: `einmix fit DATA -o out.json` with arbitrary
//! further arguments, on a small CSV or `.npy`: a fit, a usage error or a clear error, never a
//! panic. Tokens are NUL-separated; numbers above 64 are left out so that one input cannot ask
//! for a fit of a million iterations (a hang that says nothing about the code).
#![no_main]
use libfuzzer_sys::fuzz_target;

use std::sync::Once;

use clap::Parser;

static SETUP: Once = Once::new();

fn setup() {
    // A directory of its own, holding the inputs; outputs go there too.
    let dir = std::env::temp_dir().join(format!("einmix-fuzz-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    std::env::set_current_dir(&dir).expect("enter it");
    let rows: Vec<[f64; 3]> =
        (0..24).map(|i| [(i % 3) as f64 * 5.0 + (i as f64 * 0.37).sin(), (i as f64 * 0.61).cos(), 1.0 + (i % 4) as f64]).collect();
    let mut csv = String::from("x,y,w\n");
    for r in &rows {
        csv.push_str(&format!("{},{},{}\n", r[0], r[1], r[2]));
    }
    std::fs::write("data.csv", csv).expect("write data.csv");
    let flat: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    std::fs::write("data.npy", einmix_io::npy::f64_bytes(&[rows.len(), 3], &flat)).expect("write data.npy");
}

fuzz_target!(|input: &[u8]| {
    SETUP.call_once(setup);
    let Some((&choice, rest)) = input.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let tokens: Vec<&str> = text.split('\0').filter(|t| !t.is_empty()).collect();
    let too_big = |t: &str| t.trim().parse::<f64>().is_ok_and(|v| v.abs() > 64.0);
    if tokens.len() > 24 || tokens.iter().any(|t| too_big(t) || t.contains('/') || t.contains("..")) {
        return;
    }
    let data = if choice & 1 == 0 { "data.csv" } else { "data.npy" };
    let mut args = vec!["einmix", "fit", data, "-o", "out.json", "--force", "-q"];
    args.extend(tokens);
    let Ok(cli) = einmix_cli::Cli::try_parse_from(&args) else { return };
    let _ = einmix_cli::execute(cli);
});

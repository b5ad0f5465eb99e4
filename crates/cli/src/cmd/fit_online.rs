//! `einmix fit --online`: online (stepwise) EM over the data read a batch at a time, from a
//! `.npy` file, a CSV/TSV file or standard input (see `einmix::GaussianMixture::partial_fit`);
//! memory `O(--batch-rows x D)`.

use std::io::{BufRead, BufReader, Write};
use std::process::ExitCode;

use einmix::stream::RowSource;
use einmix::{GaussianMixture, OnlineFit};
use ndarray::{ArrayView1, ArrayView2};

use crate::args::FitArgs;
use crate::error::{CliError, ReadError, Source};
use crate::io::npy_stream::{NpyFile, NpyRows, StreamError};
use crate::io::text::TableReader;
use crate::io::{input_format, InputFormat, Output};
use crate::progress::Reporter;

/// The stream's state: the last step, and what was seen.
struct Online<'a> {
    spec: &'a GaussianMixture,
    fit: Option<OnlineFit>,
    rows: u64,
    reporter: &'a Reporter,
}

impl Online<'_> {
    fn step(&mut self, x: ArrayView2<f64>, w: Option<ArrayView1<f64>>) -> einmix::Result<()> {
        let fit = self.spec.partial_fit(x, w, self.fit.as_ref())?;
        self.rows += x.nrows() as u64;
        let batches = fit.state.n_batches();
        self.reporter.step(batches, "fitting (online)");
        self.reporter.status(format_args!(
            "batch {batches}: {} rows, lower bound {:.6}",
            x.nrows(),
            fit.lower_bound
        ));
        self.fit = Some(fit);
        Ok(())
    }
}

pub fn run(a: &FitArgs, output: Output) -> Result<ExitCode, CliError> {
    let file = Source::input(&a.data);
    let mut spec = super::spec(&a.em, a.n_components, a.covariance_type)
        .learning_decay(a.learning_decay)
        .learning_offset(a.learning_offset);
    match &a.background {
        None => {}
        // One pass over a stream cannot know the data's bounding box before the first batch.
        Some(einmix::BackgroundRegion::BoundingBox) => {
            return Err(CliError::Library {
                file: file.clone(),
                source: einmix::Error::InvalidParameter {
                    name: "background",
                    value: "bbox".into(),
                    expected: "--online reads the data once, so the background's region must be given: \
                               --background=LOWER:UPPER",
                },
            })
        }
        Some(region) => spec = spec.background(region.clone()),
    }
    spec.validate().map_err(CliError::library(&file))?;
    let reporter = Reporter::new(a.verbosity, 0, "batches");
    let mut online = Online { spec: &spec, fit: None, rows: 0, reporter: &reporter };
    let reader: Box<dyn BufRead> = match &file {
        Source::Path(p) => {
            Box::new(BufReader::new(std::fs::File::open(p).map_err(|e| CliError::read(&file, e))?))
        }
        Source::Stdin | Source::Stdout => Box::new(BufReader::new(std::io::stdin().lock())),
    };
    let mut reader = reader;
    let head = reader.fill_buf().map_err(|e| CliError::read(&file, e))?.to_vec();
    match input_format(&file, &head).map_err(|e| CliError::read(&file, e))? {
        InputFormat::Npy => {
            if file == Source::Stdin {
                return Err(CliError::read(
                    &file,
                    ReadError::NeedsAFile {
                        needs: "--online reads .npy from a file on disk (pipe CSV instead)",
                    },
                ));
            }
            drop(reader);
            let to_cli = |e: StreamError| match e {
                StreamError::Read(path, kind) => CliError::read(&Source::input(&path), kind),
                StreamError::Core(e) => CliError::Library { file: file.clone(), source: e },
            };
            let x = NpyFile::open(&a.data, false).map_err(to_cli)?;
            let mut rows = NpyRows::new(x, None, a.batch_rows).map_err(to_cli)?;
            for _ in 0..a.passes {
                rows.for_each_block(&mut |x, w| online.step(x, w)).map_err(to_cli)?;
            }
        }
        InputFormat::Npz => {
            if file == Source::Stdin {
                return Err(CliError::read(
                    &file,
                    ReadError::NeedsAFile {
                        needs: "--online reads .npz from a file on disk (pipe CSV instead)",
                    },
                ));
            }
            // An archive is compressed as a whole member: read it once, then feed it in batches.
            drop(reader);
            let (_, table) = crate::io::read_data(&a.data, &a.columns.columns, a.weight_column.as_deref())?;
            for _ in 0..a.passes {
                for start in (0..table.x.nrows()).step_by(a.batch_rows.max(1)) {
                    let rows = start..(start + a.batch_rows.max(1)).min(table.x.nrows());
                    let x = table.x.slice(ndarray::s![rows.clone(), ..]);
                    let w = table.weights.as_ref().map(|w| w.slice(ndarray::s![rows]));
                    online.step(x, w).map_err(CliError::library(&file))?;
                }
            }
        }
        InputFormat::Text(delimiter) => {
            if file == Source::Stdin && a.passes > 1 {
                return Err(CliError::read(
                    &file,
                    ReadError::NeedsAFile { needs: "--passes above 1 reads the data again" },
                ));
            }
            let (select, weight) = (&a.columns.columns, a.weight_column.as_deref());
            for pass in 0..a.passes {
                if pass > 0 {
                    reader = Box::new(BufReader::new(
                        std::fs::File::open(&a.data).map_err(|e| CliError::read(&file, e))?,
                    ));
                }
                let mut table = TableReader::new(&mut reader, delimiter, select, weight)
                    .map_err(|e| CliError::read(&file, e))?;
                while let Some(block) =
                    table.next_block(a.batch_rows).map_err(|e| CliError::read(&file, e))?
                {
                    online
                        .step(block.x.view(), block.weights.as_ref().map(|w| w.view()))
                        .map_err(CliError::library(&file))?;
                }
            }
        }
    }
    reporter.finish();
    let Some(fit) = online.fit else {
        return Err(CliError::read(&file, ReadError::Empty));
    };
    output.model(&fit.mixture)?;
    let mut out = super::report_stream(&[Some(&output)]);
    writeln!(
        out,
        "fitted {} components ({} covariance) online to {} rows x {} features from {file} \
         ({} batches of up to {} rows, {} pass{})",
        a.n_components,
        a.covariance_type,
        online.rows,
        fit.mixture.n_features(),
        fit.state.n_batches(),
        a.batch_rows,
        a.passes,
        if a.passes == 1 { "" } else { "es" }
    )?;
    writeln!(out, "last batch: mean log-likelihood {:.6} per sample (before its update)", fit.lower_bound)?;
    reporter.note(format_args!("wrote {}", output.file()));
    Ok(ExitCode::SUCCESS)
}

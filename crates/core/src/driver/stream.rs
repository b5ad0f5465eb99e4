//! Streaming EM: fit data that need not fit in memory, from a [`RowSource`] that hands over
//! its rows block by block, once per pass.
//!
//! ```text
//! init:   one pass keeps a uniform reservoir sample of at most `sample_size` rows (all rows,
//!         in order, when there are fewer) and initialises on it as the in-memory fit would
//! EM:     per iteration one pass: s = sum_blocks statistics(block | theta)  (crate::blockwise),
//!         theta' = m_step(s); stop when the mean lower bound changes by less than `tol`
//! ```
//! Memory is `O(block + sample_size D)`, whatever the number of rows. From the same initial
//! mixture the iterates equal the in-memory fit's (a warm start, [`crate::FitOptions::warm_start`]) up to the
//! rounding of a different summation order (tested to 1e-10 relative); when every row fits in
//! the reservoir and `n_init = 1`, the initialisation is the in-memory one too.
//!
//! ```
//! use einmix::stream::Blocks;
//! use einmix::{FitOptions, GaussianMixture, InitParams};
//! use ndarray::Array2;
//!
//! let x = Array2::from_shape_fn((3000, 2), |(i, j)| (i % 3) as f64 * 5.0 + ((i * 7 + j * 3) % 13) as f64 / 13.0);
//! let spec = GaussianMixture::new(3).init_params(InitParams::KMeansPlusPlus).random_state(1);
//! let streamed = spec.fit_stream(&mut Blocks::new(x.view(), None, 700), FitOptions::new())?;
//! let in_memory = spec.fit(x.view(), None)?;
//! assert_eq!(streamed.info.n_iter, in_memory.info.n_iter);
//! assert!((streamed.info.lower_bound - in_memory.info.lower_bound).abs() < 1e-10);
//! # Ok::<(), einmix::Error>(())
//! ```

use std::time::Instant;

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{drive, start_and_progress, FitOptions, Source};
use crate::background::{Background, BackgroundRegion};
use crate::blockwise::{culls, unpack_checked, BlockStatistics, Layout};
use crate::covariance::SuffStats;
use crate::error::{Error, Result};
use crate::estimator::GaussianMixture;
use crate::model::{FitInfo, Mixture};

/// Rows of the reservoir sample the initialisation runs on.
pub const DEFAULT_SAMPLE_SIZE: usize = 200_000;

/// What a [`RowSource`] calls on each block: the rows `(rows, D)` and their weights, if any.
pub type OnBlock<'a> = dyn FnMut(ArrayView2<f64>, Option<ArrayView1<f64>>) -> Result<()> + 'a;

/// A source of rows that can be passed over any number of times, always in the same blocks
/// and order (a file read chunk by chunk, a memory map, a list of arrays).
pub trait RowSource {
    /// The source's own failure (I/O, parsing); core errors convert into it.
    type Error: From<Error>;
    /// Number of features `D` of every row.
    fn n_features(&self) -> usize;
    /// Calls `f` on consecutive blocks of rows (`(rows, D)`, with their weights if any) that
    /// together cover every row once.
    fn for_each_block(&mut self, f: &mut OnBlock<'_>) -> std::result::Result<(), Self::Error>;
}

/// An in-memory array handed over `rows` at a time: for tests, and a model of a source.
pub struct Blocks<'a> {
    x: ArrayView2<'a, f64>,
    w: Option<ArrayView1<'a, f64>>,
    rows: usize,
}

impl<'a> Blocks<'a> {
    /// Blocks of `rows` rows (at least 1) of `x` and its weights.
    pub fn new(x: ArrayView2<'a, f64>, w: Option<ArrayView1<'a, f64>>, rows: usize) -> Blocks<'a> {
        Blocks { x, w, rows: rows.max(1) }
    }
}

impl RowSource for Blocks<'_> {
    type Error = Error;
    fn n_features(&self) -> usize {
        self.x.ncols()
    }
    fn for_each_block(&mut self, f: &mut OnBlock<'_>) -> Result<()> {
        let n = self.x.nrows();
        let mut start = 0;
        while start < n {
            let end = (start + self.rows).min(n);
            f(self.x.slice(s![start..end, ..]), self.w.map(|w| w.slice_move(s![start..end])))?;
            start = end;
        }
        Ok(())
    }
}

/// What a streamed fit returns: the mixture and its report (no labels: they would be `O(N)`).
#[derive(Debug, Clone)]
pub struct StreamFit {
    /// The fitted mixture.
    pub mixture: Mixture,
    /// Convergence, lower bounds, timings.
    pub info: FitInfo,
}

/// A uniform sample of the rows (Vitter's algorithm R), their weights, and what one pass
/// learns about the whole source.
struct Reservoir {
    rows: Vec<f64>,
    weights: Vec<f64>,
    seen: usize,
    positive: usize,
    /// The bounding box of every row seen (a background's default region).
    lower: Vec<f64>,
    upper: Vec<f64>,
}

fn reservoir<S: RowSource>(
    source: &mut S,
    capacity: usize,
    seed: u64,
) -> std::result::Result<Reservoir, S::Error> {
    let d = source.n_features();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut r = Reservoir {
        rows: Vec::new(),
        weights: Vec::new(),
        seen: 0,
        positive: 0,
        lower: vec![f64::INFINITY; d],
        upper: vec![f64::NEG_INFINITY; d],
    };
    let mut weighted = false;
    source.for_each_block(&mut |x, w| {
        if x.ncols() != d {
            return Err(Error::DimensionMismatch { expected: d, found: x.ncols() });
        }
        crate::validate::finite_2d(x, crate::error::Input::X)?;
        weighted |= w.is_some();
        for (i, row) in x.outer_iter().enumerate() {
            let wt = w.map_or(1.0, |w| w[i]);
            if !wt.is_finite() {
                let what = if wt.is_nan() { "NaN" } else { "infinity" };
                return Err(Error::NonFinite {
                    input: crate::error::Input::SampleWeight,
                    what,
                    row: r.seen,
                    column: 0,
                });
            }
            if wt < 0.0 {
                return Err(Error::NegativeWeight { row: r.seen, value: wt });
            }
            r.positive += (wt > 0.0) as usize;
            for (j, &v) in row.iter().enumerate() {
                r.lower[j] = r.lower[j].min(v);
                r.upper[j] = r.upper[j].max(v);
            }
            let slot = if r.seen < capacity {
                r.rows.extend(row.iter());
                r.weights.push(wt);
                None
            } else {
                let j = rng.random_range(0..=r.seen);
                (j < capacity).then_some(j)
            };
            if let Some(j) = slot {
                r.rows[j * d..(j + 1) * d].iter_mut().zip(row).for_each(|(a, b)| *a = *b);
                r.weights[j] = wt;
            }
            r.seen += 1;
        }
        Ok(())
    })?;
    if !weighted {
        r.weights.clear();
    }
    Ok(r)
}

/// A [`RowSource`] as the driver sees it: the reservoir sample for initialisations, and a pass
/// that sums the engine's statistics over the blocks.
struct Streamed<'s, S: RowSource> {
    spec: &'s GaussianMixture,
    rows: &'s mut S,
    sample: Option<Reservoir>,
    seed: u64,
    cull: bool,
    engine: Option<BlockStatistics>,
    summed: Vec<f64>,
    stats: Option<(SuffStats, f64)>,
}

impl<S: RowSource> Source<Mixture> for Streamed<'_, S> {
    type Error = S::Error;

    fn culls(&self) -> bool {
        self.cull
    }

    fn initial_mixture(&mut self, run: usize) -> std::result::Result<Mixture, S::Error> {
        let Some(r) = &self.sample else {
            return Err(Error::InvalidParameter {
                name: "start",
                value: "none".into(),
                expected: "a streamed fit draws its sample unless it is warm-started.",
            }
            .into());
        };
        let d = self.rows.n_features();
        let x = Array2::from_shape_vec((r.rows.len() / d, d), r.rows.clone()).expect("whole rows");
        let w = (!r.weights.is_empty()).then(|| Array1::from(r.weights.clone()));
        // The initialisation alone: max_iter = 0 returns it. Run r uses the seed the in-memory
        // fit uses for a single run, moved on by r.
        let mut init =
            self.spec.clone().max_iter(0).n_init(1).random_state(self.seed.wrapping_add(run as u64));
        // The background's region comes from every row (the sample's box would be smaller).
        let background = init.background.take();
        let m = init.fit(x.view(), w.as_ref().map(|w| w.view()))?.mixture;
        let weight = 1.0 / (m.n_components() as f64 + 1.0);
        Ok(match background {
            None => m,
            Some(BackgroundRegion::BoundingBox) => {
                m.with_background(Background::from_bounds(r.lower.clone(), r.upper.clone(), weight)?)?
            }
            Some(region) => m.with_background(Background::resolve(&region, x.view(), weight)?)?,
        })
    }

    fn pass(&mut self, model: &Mixture, cull: bool) -> std::result::Result<(), S::Error> {
        if self.engine.is_none() {
            let mut engine = BlockStatistics::new(model, self.spec.n_threads)?;
            // Blocks come in file order: sorted, their chunks are compact and culling pays.
            engine.set_sort_rows(true);
            self.engine = Some(engine);
            self.summed = vec![0.0; Layout::of(model).len()];
        }
        let (engine, summed) = (self.engine.as_mut().expect("made above"), &mut self.summed);
        engine.set_cull(cull);
        engine.set_mixture(model)?;
        summed.fill(0.0);
        self.rows.for_each_block(&mut |x, w| engine.add_block(x, w, summed))?;
        self.stats = Some(unpack_checked(&Layout::of(model), summed)?);
        Ok(())
    }

    fn statistics(&self) -> (&SuffStats, f64) {
        let (stats, total_weight) = self.stats.as_ref().expect("statistics are read after a pass");
        (stats, *total_weight)
    }
}

impl GaussianMixture {
    /// Fits by streamed EM over `source` (see [`crate::stream`]): every iteration is one pass
    /// over its blocks, the initialisation runs on a uniform sample of its rows
    /// ([`FitOptions::sample_size`]). Sample weights are used as the in-memory fit uses them
    /// (rescaled to mean 1). A warm start skips the sampling pass.
    pub fn fit_stream<S: RowSource>(
        &self,
        source: &mut S,
        options: FitOptions<'_>,
    ) -> std::result::Result<StreamFit, S::Error> {
        self.validate()?;
        let d = source.n_features();
        let seed = self.random_state.unwrap_or_else(|| ChaCha8Rng::from_os_rng().random());
        let t0 = Instant::now();
        let sample = match options.start {
            Some((m, _)) => {
                if m.n_features() != d {
                    return Err(Error::DimensionMismatch { expected: m.n_features(), found: d }.into());
                }
                None
            }
            None => {
                self.validate_inits(d)?;
                let size = options.sample_size.unwrap_or(DEFAULT_SAMPLE_SIZE).max(self.n_components);
                let r = reservoir(source, size, seed ^ 0x5eed_5a3b_1e00_0001)?;
                if r.seen == 0 {
                    return Err(Error::EmptyData { n_samples: 0, n_features: d, min_samples: 1 }.into());
                }
                if r.positive == 0 {
                    return Err(Error::ZeroWeights { n_samples: r.seen }.into());
                }
                if r.positive < self.n_components {
                    return Err(Error::TooFewSamples {
                        n_samples: r.positive,
                        n_components: self.n_components,
                    }
                    .into());
                }
                Some(r)
            }
        };
        let k = options.start.map_or(self.n_components, |(m, _)| m.n_components());
        let mut streamed = Streamed {
            spec: self,
            rows: source,
            sample,
            seed,
            cull: culls(k, d),
            engine: None,
            summed: Vec::new(),
            stats: None,
        };
        let (mixture, info) = drive(self, &mut streamed, start_and_progress(options), t0.elapsed())?;
        Ok(StreamFit { mixture, info })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::covariance::CovarianceType;
    use crate::datasets;
    use crate::estimator::InitParams;

    fn max_rel(a: &Mixture, b: &Mixture) -> f64 {
        let flat = |m: &Mixture| -> Vec<f64> {
            m.weights().iter().chain(m.means().iter()).chain(m.covariances().iter()).copied().collect()
        };
        let (a, b) = (flat(a), flat(b));
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        a.iter().zip(&b).map(|(x, y)| (x - y).abs() / y.abs().max(1e-3 * scale)).fold(0.0, f64::max)
    }

    /// The streamed fit is the in-memory fit: same initialisation (every row in the
    /// reservoir), same iterations, parameters to 1e-10, for every kind and block size.
    #[test]
    fn streamed_fit_equals_the_in_memory_fit() {
        let (_, x) = datasets::seed_workload(5_000, 8, 4);
        let w = Array1::from_shape_fn(x.nrows(), |i| 1.0 + (i % 5) as f64);
        for kind in CovarianceType::ALL {
            for weights in [None, Some(w.view())] {
                let spec = GaussianMixture::new(8).covariance_type(kind).random_state(9).tol(1e-6);
                let reference = spec.fit(x.view(), weights).unwrap();
                for rows in [1usize << 20, 999, 4096] {
                    let got = spec
                        .fit_stream(&mut Blocks::new(x.view(), weights, rows), FitOptions::new())
                        .unwrap();
                    assert_eq!(got.info.n_iter, reference.info.n_iter, "{kind} rows {rows}");
                    let rel = max_rel(&got.mixture, &reference.mixture);
                    assert!(rel <= 1e-10, "{kind} rows {rows} weighted {}: {rel}", weights.is_some());
                }
            }
        }
    }

    #[test]
    fn a_sample_smaller_than_the_data_still_fits_well() {
        let (truth, x) = datasets::seed_workload(20_000, 5, 1);
        let spec = GaussianMixture::new(5).init_params(InitParams::KMeans).random_state(2);
        let got = spec
            .fit_stream(&mut Blocks::new(x.view(), None, 3000), FitOptions::new().sample_size(2_000))
            .unwrap();
        let reference = spec.fit(x.view(), None).unwrap();
        assert!(got.info.converged);
        assert!(got.info.lower_bound > reference.info.lower_bound - 0.05, "{:?}", got.info.lower_bound);
        assert_eq!(got.mixture.n_components(), truth.n_components());
    }

    #[test]
    fn errors_are_reported() {
        let x = Array2::<f64>::zeros((0, 2));
        let spec = GaussianMixture::new(2);
        let err = spec.fit_stream(&mut Blocks::new(x.view(), None, 10), FitOptions::new()).unwrap_err();
        assert!(matches!(err, Error::EmptyData { .. }));
        let x = Array2::from_shape_fn((3, 2), |(i, _)| i as f64);
        let err = GaussianMixture::new(4)
            .fit_stream(&mut Blocks::new(x.view(), None, 2), FitOptions::new())
            .unwrap_err();
        assert!(matches!(err, Error::TooFewSamples { .. }));
    }
}

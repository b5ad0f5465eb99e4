//! Time-lapse tracking: one mixture per frame, `K` fixed, each frame warm-started from the
//! previous one so that component `k` stays the same region over time.
//!
//! ```text
//! frame 0:  start = peaks (K = #peaks, means at the peaks, pi ~ I(peak) - b, Sigma = s^2 I)
//!                   or k-means++ with a given K;          EM to convergence
//! frame t:  start = mixture of frame t-1;                 EM to convergence
//! then:     a component with pi_k < floor, an eigenvalue of Sigma_k < floor, or no data
//!           pixel within its 2-sigma ellipse is re-seeded at the pixel the model explains
//!           worst, argmax_i (w_i / W - p(x_i) a) with a the pixel area, and EM runs again.
//! ```
//! `reg_covar` defaults to `pixel_size^2 / 12`: a pixel stands for a unit square of positions,
//! whose variance is 1/12 per axis (Sheppard's correction), so no component can shrink below
//! one pixel's spread, and none becomes a zero-variance spike. A 3-D volume (`voxel_size`) is
//! fitted in (z, row, col) the same way, its voxels' finest side taking the pixel's part.

use std::fmt;
use std::time::{Duration, Instant};

use einmix::{BackgroundRegion, CovarianceType, FitOptions, GaussianMixture, InitParams, Mixture};
use ndarray::{Array1, Array2, ArrayView2, ArrayView3, Axis};

use crate::distance::{component_distances, laplacian_spectrum, Metric};
use crate::error::{Error, Result};
use crate::floor::{floor_share_estimate, grid_region, volume_noise_level, Floor};
use crate::grid::Grid;
use crate::peaks::PeakOptions;
use crate::points::{Background, Points};
use crate::stack::Mask;

mod dense;
mod reseed;
mod rows;
mod sequence;
mod start;
mod state;
mod variational;
pub(crate) use sequence::{fit_pixels, tracker_for};
pub use sequence::{track, track_frames, track_until, Track};
pub use state::TrackerState;

/// How the first frame's components are chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// One component per local intensity maximum (`K` = number of peaks).
    Peaks(PeakOptions),
    /// A fixed `K`, started by weighted k-means++ (seeded).
    KMeansPlusPlus {
        /// Number of components.
        k: usize,
        /// Seed of the random choices.
        seed: u64,
    },
}

impl Default for Init {
    fn default() -> Self {
        Init::Peaks(PeakOptions::default())
    }
}

/// Everything that shapes a tracking run (defaults in brackets).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackOptions {
    /// How the floor is treated [learned: a uniform background component].
    pub floor: Floor,
    /// With `Floor::Subtract`: the level subtracted from every pixel [absolute 0].
    pub background: Background,
    /// Length of a pixel side; coordinates are (row, col) times it [1].
    pub pixel_size: f64,
    /// The sides `(z, row, col)` of a voxel, for 3-D volumes (frames given to
    /// [`Tracker::step_volume`], stacks read with `ZProject::Volume`), whose coordinates are
    /// (z, row, col) times them [the file's, else cubes of `pixel_size`]. The peaks'
    /// `min_distance` and `smooth_sigma` are in row sides, and along z the same length; a new
    /// component's `init_size` is in cells along each axis; `eigen_floor` and the default
    /// `reg_covar` are in the finest side.
    pub voxel_size: Option<[f64; 3]>,
    /// The first frame's components [peaks].
    pub init: Init,
    /// Standard deviation, in pixels, of the isotropic covariance of a new component [2].
    pub init_size: f64,
    /// The shape of the components' covariances [full]: each its own ellipse (full), one shared
    /// ellipse (tied), axis-aligned ellipses (diag) or circles (spherical). Every fit of the
    /// track (EM, online, variational, the start and re-seeds) is of this kind; the report
    /// writes the covariances out as full `D x D` matrices whatever it is.
    pub covariance_type: CovarianceType,
    /// EM convergence threshold on the per-pixel lower bound of the structures [1e-3]: with a
    /// learned floor, on the bound's change per pixel divided by the structures' share of the
    /// frame (the Gaussians' total weight), so that a frame that is mostly floor converges as
    /// far as one that is mostly structure.
    pub tol: f64,
    /// EM iterations per frame at most [100].
    pub max_iter: usize,
    /// Added to every covariance's diagonal, in coordinate units squared [pixel_size^2 / 12].
    pub reg_covar: Option<f64>,
    /// Worker threads [all cores]; results do not depend on it.
    pub n_threads: Option<usize>,
    /// A component whose share of the structures' weight (all but a learned floor's) falls
    /// below this is re-seeded [0.01 / K].
    pub weight_floor: Option<f64>,
    /// A component with a covariance eigenvalue below this many pixels squared is re-seeded [0.1].
    pub eigen_floor: f64,
    /// Re-seed emptied or collapsed components [true]; when false they are only reported.
    pub reseed: bool,
    /// The per-frame component distances [hellinger].
    pub metric: Metric,
    /// Compute the normalised Laplacian's eigenvalues per frame [true].
    pub laplacian: bool,
    /// Update one model across the time-lapse by online EM, the frames as the stream [false]:
    /// each frame after the first is one E-step and a step of the running statistics
    /// (`einmix::GaussianMixture::partial_fit`) instead of a warm-started fit to convergence,
    /// so a component averages over the frames it has seen (smoother tracks, one pass per
    /// frame). Re-seeding refits the frame and restarts the running statistics from it.
    pub online: bool,
    /// Fit each frame with the variational mixture (a Dirichlet-process prior on the weights,
    /// `einmix::BayesianGaussianMixture`) instead of EM [false]: the initial `K` (the peaks, or
    /// `k`) is an upper bound and each frame keeps the components its data need (the frame's
    /// `effective_components`); later frames warm-start from the previous posterior. No
    /// re-seeding: emptying components is the prior's job. The pixels' weights are scaled to
    /// average 1 (a frame's evidence is its pixels, not its photon count, which would swamp the
    /// prior), and the convergence threshold is `tol` per pixel (the bound is a sum; with the
    /// learned floor, per pixel of the structures' share). Frame 0 starts from its peaks (the
    /// posterior one M-step from them) or k-means++. With the learned floor the background's
    /// weight is estimated beside the posterior, the excess above the floor's level is what
    /// averages 1 per pixel (above that level), `effective_components` counts among the
    /// Gaussians, and the Gauss-Wishart prior is a starting component's size around a mean of
    /// little weight (scikit-learn's default, the frame's extent, would pull each structure's
    /// covariance by the frame's size over its share of the pixels).
    pub bayesian: bool,
    /// With `bayesian`: the weight concentration prior `alpha_0 > 0` [1 / K]; smaller keeps fewer.
    pub weight_concentration_prior: Option<f64>,
}

/// A component of a variational fit counts as present above this expected weight.
pub const EFFECTIVE_WEIGHT: f64 = 0.01;

impl Default for TrackOptions {
    fn default() -> Self {
        TrackOptions {
            floor: Floor::default(),
            background: Background::default(),
            pixel_size: 1.0,
            voxel_size: None,
            init: Init::default(),
            init_size: 2.0,
            covariance_type: CovarianceType::Full,
            tol: 1e-3,
            max_iter: 100,
            reg_covar: None,
            n_threads: None,
            online: false,
            bayesian: false,
            weight_concentration_prior: None,
            weight_floor: None,
            eigen_floor: 0.1,
            reseed: true,
            metric: Metric::Hellinger,
            laplacian: true,
        }
    }
}

/// Why a component was re-seeded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason {
    /// Its weight fell below the floor.
    Emptied {
        /// The weight.
        weight: f64,
    },
    /// Its covariance's smallest eigenvalue fell below the floor (in coordinate units squared).
    Collapsed {
        /// The eigenvalue.
        eigenvalue: f64,
    },
    /// No data pixel lies within its 2-sigma ellipse (its mean left the data).
    LeftData,
}

impl Reason {
    /// `emptied`, `collapsed` or `left_data`.
    pub fn name(&self) -> &'static str {
        match self {
            Reason::Emptied { .. } => "emptied",
            Reason::Collapsed { .. } => "collapsed",
            Reason::LeftData => "left_data",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Emptied { weight } => write!(f, "emptied (weight {weight:.2e})"),
            Reason::Collapsed { eigenvalue } => write!(f, "collapsed (eigenvalue {eigenvalue:.2e})"),
            Reason::LeftData => f.write_str("left the data"),
        }
    }
}

/// One re-seeded component.
#[derive(Debug, Clone, PartialEq)]
pub struct Reseed {
    /// The frame (index in the input file).
    pub frame: usize,
    /// The component.
    pub component: usize,
    /// Why.
    pub reason: Reason,
    /// Where it was re-seeded, (row, col) or (z, row, col) in coordinate units (NaN when
    /// only reported).
    pub position: Vec<f64>,
}

/// The fit of one frame.
#[derive(Debug, Clone)]
pub struct FrameFit {
    /// The frame (index in the input file).
    pub frame: usize,
    /// The mixture (`K` components, coordinates (row, col), or (z, row, col) for a volume),
    /// its covariances written out as full `D x D` matrices whatever
    /// [`TrackOptions::covariance_type`] was fitted (diagonal for diag, isotropic for spherical,
    /// one matrix repeated for tied).
    pub mixture: Mixture,
    /// Final lower bound (mean weighted log-likelihood per pixel).
    pub lower_bound: f64,
    /// EM iterations (all rounds, re-seeding included).
    pub n_iter: usize,
    /// Whether the last EM round converged (always true for an online update, which has no
    /// convergence test: it is one step by design).
    pub converged: bool,
    /// Pixels (voxels) above background: the points fitted.
    pub n_points: usize,
    /// Background level subtracted (0 with the learned floor).
    pub background: f64,
    /// The learned floor's share of the frame's total intensity (its background component's
    /// weight); `None` when the floor is subtracted.
    pub floor_share: Option<f64>,
    /// Components re-seeded in this frame.
    pub reseeds: Vec<Reseed>,
    /// `K x K` distances of the components.
    pub distances: Array2<f64>,
    /// Normalised Laplacian eigenvalues, ascending (empty when not asked for).
    pub laplacian: Array1<f64>,
    /// Wall time of the frame: points, EM, checks and distances.
    pub elapsed: Duration,
    /// Components holding more than [`EFFECTIVE_WEIGHT`] of the frame's Gaussians' weight (of
    /// the whole without a learned floor; all of them for EM).
    pub effective_components: usize,
}

impl FrameFit {
    /// Mean off-diagonal distance.
    pub fn mean_distance(&self) -> f64 {
        let k = self.distances.nrows();
        if k < 2 {
            return 0.0;
        }
        self.distances.sum() / (k * (k - 1)) as f64
    }
    /// Mean over components of the distance to the nearest other component.
    pub fn mean_nearest_distance(&self) -> f64 {
        let k = self.distances.nrows();
        if k < 2 {
            return 0.0;
        }
        let total: f64 = (0..k)
            .map(|i| (0..k).filter(|&j| j != i).map(|j| self.distances[[i, j]]).fold(f64::INFINITY, f64::min))
            .sum();
        total / k as f64
    }
    /// Second-smallest Laplacian eigenvalue (NaN when not computed).
    pub fn algebraic_connectivity(&self) -> f64 {
        self.laplacian.get(1).copied().unwrap_or(f64::NAN)
    }
}

/// Tracks frame after frame, holding the previous frame's mixture.
///
/// ```
/// use einmix_image::{Tracker, TrackOptions};
/// use ndarray::Array2;
/// // One bright blob on a dark frame.
/// let frame = Array2::from_shape_fn((32, 32), |(r, c)| {
///     let d2 = (r as f64 - 15.0).powi(2) + (c as f64 - 12.0).powi(2);
///     (100.0 * (-d2 / 8.0).exp()) as f32
/// });
/// let mut tracker = Tracker::new(TrackOptions { background: "1".parse()?, ..Default::default() }, None)?;
/// let fit = tracker.step(0, frame.view())?;
/// assert_eq!(fit.mixture.n_components(), 1);
/// assert!((fit.mixture.means()[[0, 0]] - 15.0).abs() < 0.1);
/// # Ok::<(), einmix_image::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Tracker {
    options: TrackOptions,
    mask: Option<Mask>,
    previous: Option<(Mixture, f64)>,
    /// With `online`: the running state after the previous frame.
    online: Option<einmix::OnlineFit>,
    /// With `bayesian`: the previous frame's posterior and bound.
    posterior: Option<(einmix::VariationalMixture, f64)>,
    /// Whether the frames are 3-D volumes (set by the first frame).
    volume: bool,
    /// A volume's rows laid out for the fit, kept while its nonzero voxels stay the same.
    kept: rows::Kept,
}

impl Tracker {
    /// A tracker; `mask` restricts every frame to its inside pixels.
    pub fn new(options: TrackOptions, mask: Option<Mask>) -> Result<Tracker> {
        let check = |ok: bool, name: &'static str, value: f64, expected: &'static str| {
            if ok {
                Ok(())
            } else {
                Err(Error::InvalidParameter { name, value: value.to_string(), expected })
            }
        };
        let o = &options;
        check(
            o.pixel_size > 0.0 && o.pixel_size.is_finite(),
            "pixel_size",
            o.pixel_size,
            "pixel_size must be positive",
        )?;
        check(
            o.init_size > 0.0 && o.init_size.is_finite(),
            "init_size",
            o.init_size,
            "init_size must be positive",
        )?;
        check(o.eigen_floor >= 0.0, "eigen_floor", o.eigen_floor, "eigen_floor must be non-negative")?;
        if let Some(w) = o.weight_floor {
            check((0.0..1.0).contains(&w), "weight_floor", w, "weight_floor must be in [0, 1)")?;
        }
        if let Some(v) = o.voxel_size {
            Grid::volume(v)?;
        }
        if let Some(r) = o.reg_covar {
            check(r >= 0.0 && r.is_finite(), "reg_covar", r, "reg_covar must be non-negative")?;
        }
        if let Init::KMeansPlusPlus { k, .. } = o.init {
            check(k >= 1, "k", k as f64, "K must be at least 1")?;
        }
        if o.online && o.bayesian {
            return Err(Error::InvalidParameter {
                name: "online",
                value: "true".into(),
                expected: "online EM updates an EM model, and the variational fit has no online form: choose online or bayesian",
            });
        }
        Ok(Tracker {
            options,
            mask,
            previous: None,
            online: None,
            posterior: None,
            volume: false,
            kept: rows::Kept::default(),
        })
    }

    /// The options in force.
    pub fn options(&self) -> &TrackOptions {
        &self.options
    }

    /// Restricts the next frames to `mask`'s inside (`None`: every pixel); for cells whose
    /// label image changes from frame to frame.
    pub fn set_mask(&mut self, mask: Option<Mask>) {
        self.mask = mask;
    }

    /// Where the cells sit: square pixels, or the voxels of `voxel_size` once a volume is fitted.
    pub fn grid(&self) -> Grid {
        self.grid_for(self.volume)
    }

    /// Where the cells of 2-D frames (`volume` false) or of volumes sit with these options.
    pub fn grid_for(&self, volume: bool) -> Grid {
        match (volume, self.options.voxel_size) {
            (true, Some(v)) => Grid { spacing: v, volume: true },
            (true, None) => Grid { spacing: [self.options.pixel_size; 3], volume: true },
            (false, _) => Grid::planar(self.options.pixel_size),
        }
    }

    fn reg_covar(&self) -> f64 {
        let finest = self.grid().finest();
        self.options.reg_covar.unwrap_or(finest * finest / 12.0)
    }

    /// EM for `k` components whose floor (a learned background) holds `floor_share` of the
    /// frame: the threshold `tol` is on the structures' part of the per-pixel bound, so it is
    /// scaled by their share (`1 - floor_share`). The bound is an average over every pixel,
    /// floor and structures alike; on a sparse frame (a z-stack, mostly floor) an unscaled
    /// threshold would stop EM while the structures' covariances are still growing.
    fn em(&self, k: usize, floor_share: f64) -> GaussianMixture {
        self.spec(k).tol(self.options.tol * (1.0 - floor_share).max(1e-3))
    }

    /// [`em`](Tracker::em) from `start`, with its floor's share.
    fn em_from(&self, start: &Mixture) -> GaussianMixture {
        self.em(start.n_components(), start.background().map_or(0.0, |b| b.weight()))
    }

    fn spec(&self, k: usize) -> GaussianMixture {
        let mut spec = GaussianMixture::new(k)
            .covariance_type(self.options.covariance_type)
            .tol(self.options.tol)
            .max_iter(self.options.max_iter)
            .reg_covar(self.reg_covar())
            // Tracking needs the models, not per-pixel labels: skip the final E-step.
            .final_labels(false)
            // A volume's voxels come in bricks (`points::weighted_cells`).
            .rows_in_spatial_order(self.volume);
        if let Some(t) = self.options.n_threads {
            spec = spec.n_threads(t);
        }
        spec
    }

    /// Fits one 2-D frame: frame 0 from its peaks (or k-means++), every later one
    /// warm-started. `frame_index` names the frame in errors and reports.
    pub fn step(&mut self, frame_index: usize, frame: ArrayView2<f32>) -> Result<FrameFit> {
        self.fit_frame(frame_index, frame.insert_axis(Axis(0)), false)
    }

    /// Fits one 3-D volume `(Z, H, W)` in (z, row, col) with the voxel's sides
    /// `TrackOptions::voxel_size`, as [`step`](Tracker::step) fits a 2-D frame: peaks in 3-D,
    /// the learned floor over the volume's box. A 2-D mask holds for every slice.
    pub fn step_volume(&mut self, frame_index: usize, volume: ArrayView3<f32>) -> Result<FrameFit> {
        self.fit_frame(frame_index, volume, true)
    }

    fn fit_frame(&mut self, frame_index: usize, frame: ArrayView3<f32>, volume: bool) -> Result<FrameFit> {
        let t0 = Instant::now();
        if self.previous.is_some() && volume != self.volume {
            return Err(Error::InvalidParameter {
                name: "frame",
                value: frame_index.to_string(),
                expected: "every frame of a track is 2-D, or every frame a 3-D volume",
            });
        }
        self.volume = volume;
        let grid = self.grid();
        // With the learned floor every pixel goes in whole (the background component explains
        // the floor); otherwise the level is subtracted.
        let level = match self.options.floor {
            Floor::Learned => Background::Absolute(0.0),
            Floor::Subtract => self.options.background,
        };
        let points = self.frame_points(frame_index, frame, level, &grid)?;
        if !points.weights.iter().any(|&w| w > 0.0) {
            return Err(Error::EmptyFrame { frame: frame_index, background: points.background });
        }
        let fit_err = |source| Error::Fit { frame: frame_index, source };
        let (x, w) = (points.coords.view(), points.weights.view());
        if self.options.bayesian {
            let fit = self.variational_step(frame_index, frame, &points)?;
            let mixture = fit.model.mixture.clone();
            let effective_components = fit.model.effective_components(EFFECTIVE_WEIGHT).0;
            self.posterior = Some((fit.model, fit.info.lower_bound));
            return self.frame_fit(
                frame_index,
                t0,
                mixture,
                &fit.info,
                fit.info.n_iter,
                &points,
                Vec::new(),
                effective_components,
            );
        }
        let online_step = match &self.online {
            Some(previous) if self.options.online => {
                let k = previous.mixture.n_components();
                Some(self.spec(k).partial_fit(x, Some(w), Some(previous)).map_err(fit_err)?)
            }
            _ => None,
        };
        let mut fit = match (&online_step, &self.previous) {
            (Some(step), _) => einmix::Fit {
                mixture: step.mixture.clone(),
                info: einmix::FitInfo {
                    converged: true,
                    n_iter: 1,
                    lower_bound: step.lower_bound,
                    lower_bounds: vec![step.lower_bound],
                    run_lower_bounds: vec![step.lower_bound],
                    best_run: 0,
                    init_time: Duration::ZERO,
                    em_time: t0.elapsed(),
                    total_iter: 1,
                },
                labels: Array1::zeros(0),
            },
            (None, Some((m, lb))) => {
                let (m, lb) = (m.clone(), *lb);
                self.fit_points(&self.em_from(&m), &points, from(&m, lb)).map_err(fit_err)?
            }
            (None, None) => match self.initial(frame_index, frame, &points)? {
                Some(start) => self
                    .fit_points(&self.em_from(&start), &points, from(&start, f64::NEG_INFINITY))
                    .map_err(fit_err)?,
                None => {
                    let Init::KMeansPlusPlus { k, seed } = self.options.init else { unreachable!() };
                    let mut spec = self.spec(k);
                    if self.options.floor == Floor::Learned {
                        let (lower, upper) = grid_region(frame.dim(), self.mask.as_ref(), &grid);
                        let level = volume_noise_level(frame, self.mask.as_ref());
                        let share = floor_share_estimate(frame, self.mask.as_ref(), level);
                        spec = self.em(k, share).background(BackgroundRegion::Box { lower, upper });
                    }
                    let spec = spec.init_params(InitParams::KMeansPlusPlus).random_state(seed);
                    self.fit_points(&spec, &points, FitOptions::new()).map_err(fit_err)?
                }
            },
        };
        let mut n_iter = fit.info.n_iter;
        let mut reseeds = Vec::new();
        // Two rounds at most: a component re-seeded and collapsed again is reported twice and kept.
        for _round in 0..2 {
            // The checks read dense covariances, whatever the kind.
            let bad = self.degenerate(&*dense::full_form(&fit.mixture).map_err(fit_err)?, &points);
            if bad.is_empty() {
                break;
            }
            if !self.options.reseed {
                reseeds.extend(bad.into_iter().map(|(component, reason)| Reseed {
                    frame: frame_index,
                    component,
                    reason,
                    position: vec![f64::NAN; grid.dims()],
                }));
                break;
            }
            let (start, new) = self.reseeded(&fit.mixture, &points, &bad, frame_index)?;
            reseeds.extend(new);
            fit = self
                .fit_points(&self.em_from(&start), &points, from(&start, f64::NEG_INFINITY))
                .map_err(fit_err)?;
            n_iter += fit.info.n_iter;
        }
        let refitted = online_step.is_none() || n_iter > 1;
        self.online = match (self.options.online, online_step) {
            (false, _) => None,
            (true, Some(step)) if !refitted => Some(step),
            // The frame was fitted in full (the first, or re-seeded): the stream starts over from it.
            (true, _) => {
                let k = fit.mixture.n_components();
                let start = self.spec(k).partial_fit_from(x, Some(w), &fit.mixture).map_err(fit_err)?;
                fit.mixture = start.mixture.clone();
                Some(start)
            }
        };
        let k = fit.mixture.n_components();
        let report = self.frame_fit(frame_index, t0, fit.mixture, &fit.info, n_iter, &points, reseeds, k);
        self.keep_points(points);
        report
    }

    /// The report of a frame fitted to `mixture`.
    #[allow(clippy::too_many_arguments)]
    fn frame_fit(
        &mut self,
        frame_index: usize,
        t0: Instant,
        mixture: Mixture,
        info: &einmix::FitInfo,
        n_iter: usize,
        points: &Points,
        reseeds: Vec<Reseed>,
        effective_components: usize,
    ) -> Result<FrameFit> {
        // The next frame starts from the fitted kind; the report reads its dense form.
        let reported = dense::full_form(&mixture)
            .map_err(|source| Error::Fit { frame: frame_index, source })?
            .into_owned();
        let covs = reported.covariances().into_dimensionality::<ndarray::Ix3>().expect("full covariances");
        let distances = component_distances(reported.means(), covs, self.options.metric)?;
        let laplacian =
            if self.options.laplacian { laplacian_spectrum(distances.view()) } else { Array1::zeros(0) };
        self.previous = Some((mixture, info.lower_bound));
        let mixture = reported;
        let floor_share = mixture.background().map(|b| b.weight());
        Ok(FrameFit {
            frame: frame_index,
            mixture,
            lower_bound: info.lower_bound,
            n_iter,
            converged: info.converged,
            // Cells of positive weight (a volume's dark voxels are points of weight 0).
            n_points: points.weights.iter().filter(|&&w| w > 0.0).count(),
            background: points.background,
            floor_share,
            reseeds,
            distances,
            laplacian,
            elapsed: t0.elapsed(),
            effective_components,
        })
    }
}

/// A warm start from `start`, whose lower bound was `lower_bound`.
fn from(start: &Mixture, lower_bound: f64) -> FitOptions<'_> {
    FitOptions::new().warm_start(start, lower_bound)
}

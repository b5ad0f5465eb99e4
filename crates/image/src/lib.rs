//! # einmix-image: microscopy images and time-lapses -> per-frame Gaussian mixtures
//!
//! The pipeline, one module per stage:
//!
//! 1. [`io`]: read a 2-D image or a stack ([`read_stack`]: TIFF, OME-TIFF, PNG, `.npy`; a
//!    maximum-intensity projection of `(T, Z, Y, X)` stacks, or their 3-D volumes; a frame
//!    range) and a [`Mask`].
//! 2. [`points`](weighted_points): the pixels (or voxels, on a [`Grid`] of anisotropic sides)
//!    become weighted points (weight = intensity, or intensity - background), each once.
//! 3. [`peaks`](peak_local_max): local maxima of the first frame (in 3-D for volumes) give
//!    `K`, the means and the initial weights (or a fixed `K` by k-means++); covariances start
//!    isotropic; a uniform background component learns the floor ([`Floor`]).
//! 4. [`track`](track()): every later frame warm-started from the previous one, `K` fixed;
//!    emptied or collapsed components re-seeded and reported ([`Reseed`]).
//! 5. [`distance`](component_distances): `K x K` Hellinger, Bhattacharyya, KL or symmetric KL
//!    matrices per frame, and the normalised Laplacian's spectrum.
//! 6. [`output`](Track::to_npz) and [`render`](overlay_png): `.npz`, CSV, and PNG pictures.
//!
//! ```
//! use einmix_image::{track, Stack, TrackOptions};
//! use ndarray::Array3;
//!
//! // Two blobs drifting right over three frames.
//! let frames = Array3::from_shape_fn((3, 40, 60), |(t, r, c)| {
//!     let blob = |r0: f64, c0: f64| {
//!         let d2 = (r as f64 - r0).powi(2) + (c as f64 - c0 - 2.0 * t as f64).powi(2);
//!         80.0 * (-d2 / 6.0).exp()
//!     };
//!     (blob(12.0, 15.0) + blob(28.0, 35.0)).round() as f32
//! });
//! let options = TrackOptions { background: "0.5".parse()?, ..Default::default() };
//! let result = track(&Stack::new(frames), None, &options, &mut |_| {})?;
//! let means = result.means(); // (F, K, 2)
//! assert_eq!(means.shape(), &[3, 2, 2]);
//! // Component identity is kept: each one moved 2 pixels to the right per frame.
//! assert!((means[[2, 0, 1]] - means[[0, 0, 1]] - 4.0).abs() < 0.2);
//! # Ok::<(), einmix_image::Error>(())
//! ```
//!
//! The library prints nothing and reads no environment; it reads the files it is given and
//! returns the bytes of what it would write ([`Track::to_npz`], [`overlay_png`]).

mod analysis;
mod demo;
mod distance;
mod eigen;
mod error;
mod floor;
mod grid;
pub mod io;
mod output;
mod peaks;
mod points;
mod render;
mod run;
mod stack;
mod track;

pub use analysis::{
    analyse, anomalies_csv, eigenvector_moves, features_csv, features_npz_members, laplacian_eigenvectors,
    node_features, spatial_anomalies, spatial_csv, spectra_csv, spectra_npz_members, temporal_anomalies,
    trailing_z_scores, AnalyseOptions, Analysis, AnomalyOptions, ComponentMovement, NodeFeatures, Statistic,
    TemporalAnomalies, TrackData,
};
pub use demo::{demo_stack, DEMO_NPY, DEMO_PIXEL_SIZE_UM};
pub use distance::{affinity, component_distances, laplacian_spectrum, Metric};
/// The covariance kinds a track fits ([`TrackOptions::covariance_type`]), the core's own.
pub use einmix::CovarianceType;
pub use error::{Error, Result};
pub use floor::{floor_region, grid_region, noise_level, volume_noise_level, Floor, NoiseLevel, PEAK_SIGMAS};
pub use grid::Grid;
pub use io::frames::{FrameSource, Frames, StackFrames, TimePoints};
pub use io::open_frames;
pub use io::{read_mask, read_stack, read_stack_bytes};
pub use peaks::{gaussian_smooth, peak_local_max, peaks_in_volume, smooth_volume, PeakOptions, PeakSpacing};
pub use points::{
    background_level, percentile, volume_background_level, weighted_cells, weighted_points, Background,
    Points,
};
pub use render::{
    colour, nearest_edges, overlay_png, overlay_rgb, overlay_volume_png, overlay_volume_rgb, RenderOptions,
    BOX_COLOUR, EDGE_COLOUR,
};
pub use run::{
    track_cells, track_to_dir, CellObserver, CellReport, CellsReport, Labels, RunOptions, RunReport,
    SERIES_VALUES,
};
pub use stack::{FrameRange, Mask, ReadOptions, Stack, ZProject};
pub use track::{
    track, track_frames, track_until, FrameFit, Init, Reason, Reseed, Track, TrackOptions, Tracker,
    TrackerState, EFFECTIVE_WEIGHT,
};

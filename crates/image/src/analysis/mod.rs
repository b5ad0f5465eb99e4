//! The analysis after the graphs: what a track's per-frame component graphs say over time.
//!
//! ```text
//! frame t:  distances D_t (K x K)  ->  affinity A_t = exp(-D^2 / 2 s^2)  ->  L_t = I - D^-1/2 A_t D^-1/2
//!           spectrum 0 = lambda_0 <= ... <= lambda_{K-1} <= 2,  eigenvectors V_t
//! temporal: a statistic x_t of the spectrum or the distances, z_t against the w frames before t
//! spatial:  how far each component's row of V_t moves from t - 1 to t
//! features: per (frame, component): position, spread, weight, degree, centrality, pixels
//! ```
//! OrNet's analysis (`src/analysis/` of quinngroup/ornet: `util.py::generate_eigens`,
//! `temporal_anomaly_detection.py`, `spatial_anomaly_detection.py`, and the SciPy 2021 node
//! features), on the graphs the pipeline writes: [`TrackData`] reads and checks a `track.npz`
//! (`data.rs`), [`Statistic`] and the spectra files (`spectrum.rs`), [`temporal_anomalies`]
//! (`temporal.rs`), [`spatial_anomalies`] (`spatial.rs`), [`node_features`] (`features.rs`).
//! Each returns data; the `*_csv` and `*_npz_members` functions give the files' contents.

mod data;
mod features;
mod report;
mod spatial;
mod spectrum;
mod temporal;

pub use data::TrackData;
pub use features::{features_csv, features_npz_members, node_features, NodeFeatures};
pub use report::{analyse, AnalyseOptions, Analysis};
pub use spatial::{
    eigenvector_moves, laplacian_eigenvectors, spatial_anomalies, spatial_csv, ComponentMovement,
};
pub use spectrum::{spectra_csv, spectra_npz_members, Statistic};
pub use temporal::{anomalies_csv, temporal_anomalies, trailing_z_scores, AnomalyOptions, TemporalAnomalies};

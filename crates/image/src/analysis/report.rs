//! The whole analysis of one track in one call, and the files it writes: what the CLI's
//! `einmix image analyse` and Python's `einmix.image.analyse` share, so both write the same.

use super::{
    anomalies_csv, features_csv, features_npz_members, node_features, spatial_anomalies, spatial_csv,
    spectra_csv, spectra_npz_members, temporal_anomalies, AnomalyOptions, ComponentMovement, NodeFeatures,
    TemporalAnomalies, TrackData,
};
use crate::error::{Error, Result};

/// What the analysis does (defaults in brackets).
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyseOptions {
    /// The temporal anomalies' statistic, window and threshold.
    pub anomalies: AnomalyOptions,
    /// Components reported as spatial anomalies [5].
    pub top_k: usize,
    /// The frames' `(H, W)` or `(Z, H, W)`, to count each component's pixels [none: the
    /// expected count from `n_points`, where the track has it].
    pub frame_shape: Option<Vec<usize>>,
}

impl Default for AnalyseOptions {
    fn default() -> Self {
        AnalyseOptions { anomalies: AnomalyOptions::default(), top_k: 5, frame_shape: None }
    }
}

/// A track's analysis: temporal and spatial anomalies, node features.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The track analysed.
    pub data: TrackData,
    /// The statistic over time, its z-scores and the anomalous frames.
    pub temporal: TemporalAnomalies,
    /// The components whose eigenvector rows move most, most first.
    pub spatial: Vec<ComponentMovement>,
    /// Per frame and component, the features for a classifier.
    pub features: NodeFeatures,
}

/// Analyses `data` as `options` say.
pub fn analyse(data: TrackData, options: &AnalyseOptions) -> Result<Analysis> {
    if options.top_k == 0 {
        return Err(Error::InvalidParameter {
            name: "top_k",
            value: "0".into(),
            expected: "top_k is the number of components reported, at least 1",
        });
    }
    let temporal = temporal_anomalies(&data, &options.anomalies)?;
    let spatial = spatial_anomalies(&data, options.top_k)?;
    let features = node_features(&data, options.frame_shape.as_deref())?;
    Ok(Analysis { data, temporal, spatial, features })
}

impl Analysis {
    /// The files of the analysis, by name: `anomalies.csv`, `spectra.csv`, `spectra.npz`,
    /// `spatial.csv`, `features.csv`, `features.npz`.
    pub fn files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let npz = |members: Vec<(String, Vec<u8>)>| {
            einmix_io::npz::archive(&members).map_err(|e| Error::Encode { message: e.to_string() })
        };
        Ok(vec![
            ("anomalies.csv".into(), anomalies_csv(&self.temporal).into_bytes()),
            ("spectra.csv".into(), spectra_csv(&self.data).into_bytes()),
            ("spectra.npz".into(), npz(spectra_npz_members(&self.data))?),
            ("spatial.csv".into(), spatial_csv(&self.spatial).into_bytes()),
            ("features.csv".into(), features_csv(&self.features).into_bytes()),
            ("features.npz".into(), npz(features_npz_members(&self.features))?),
        ])
    }
}

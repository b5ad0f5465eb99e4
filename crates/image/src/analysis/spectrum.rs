//! The spectral time series: per frame, the normalised Laplacian's eigenvalues
//! `0 = lambda_0 <= lambda_1 <= ... <= lambda_{K-1} <= 2` and a few numbers that summarise
//! them or the distances they come from.

use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

use ndarray::ArrayView2;

use crate::analysis::data::TrackData;
use crate::error::{Error, Result};
use crate::io::npy;

/// A number per frame that the temporal analysis follows (names as in `summary.csv` where they
/// occur there). Eigenvalues are 0-based and ascending: `lambda_0 = 0` is the trivial one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Statistic {
    /// `lambda_1`, the second-smallest eigenvalue (Fiedler's algebraic connectivity): near 0
    /// when the graph nearly falls into two parts, larger the better it holds together. The
    /// default: it moves when the components regroup, which is what fragmentation and fusion
    /// do (issue 24: on 8 spots fragmenting at frame 36, its largest |z| was at frame 36 and
    /// nothing was flagged before it).
    #[default]
    AlgebraicConnectivity,
    /// The eigengap: the largest `lambda_{i+1} - lambda_i` for `i < max(1, K / 2)`, i.e. for
    /// `c = i + 1` from 1 to `K / 2` groups. Not `lambda_1 - lambda_0`: the normalised
    /// Laplacian's `lambda_0` is 0 in every frame, so that difference would be
    /// [`AlgebraicConnectivity`](Statistic::AlgebraicConnectivity) again. The eigengap is large
    /// when the components fall clearly into `c` groups (von Luxburg 2007, section 8.3: the
    /// gap after the `c`-th eigenvalue); it is at least `lambda_1`. Only the smallest half:
    /// gaps among the largest eigenvalues say how bipartite the graph is, not how it groups.
    SpectralGap,
    /// `lambda_{K-1}`, at most 2 (2 for a bipartite part).
    LargestEigenvalue,
    /// The mean eigenvalue, OrNet's statistic. The normalised Laplacian's trace is the number
    /// of components with a neighbour, so the mean is exactly 1 unless a component is isolated
    /// (every affinity underflowed): it moves by rounding only, and its z-scores measure
    /// rounding noise (issue 24: on the fragmenting spots its largest |z| fell at frame 20,
    /// with flags at 20, 30, 40 and 44, none of them the change).
    MeanEigenvalue,
    /// The mean of the `K (K - 1)` off-diagonal distances (the metric the track was run
    /// with, e.g. the mean Hellinger distance), as `summary.csv`'s `mean_distance`.
    MeanDistance,
    /// The mean over components of the distance to the nearest other component, as
    /// `summary.csv`'s `mean_nearest_distance`.
    MeanNearestDistance,
}

impl Statistic {
    /// Every statistic, in the order of the spectra files' columns.
    pub const ALL: [Statistic; 6] = [
        Statistic::AlgebraicConnectivity,
        Statistic::SpectralGap,
        Statistic::LargestEigenvalue,
        Statistic::MeanEigenvalue,
        Statistic::MeanDistance,
        Statistic::MeanNearestDistance,
    ];

    /// The snake_case name (`algebraic_connectivity`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Statistic::AlgebraicConnectivity => "algebraic_connectivity",
            Statistic::SpectralGap => "spectral_gap",
            Statistic::LargestEigenvalue => "largest_eigenvalue",
            Statistic::MeanEigenvalue => "mean_eigenvalue",
            Statistic::MeanDistance => "mean_distance",
            Statistic::MeanNearestDistance => "mean_nearest_distance",
        }
    }

    /// The statistic of one frame from its eigenvalues (ascending, `K >= 2` of them) and its
    /// `K x K` distances.
    ///
    /// ```
    /// use einmix_image::Statistic;
    /// use ndarray::array;
    /// let d = array![[0.0, 0.2, 0.6], [0.2, 0.0, 0.4], [0.6, 0.4, 0.0]];
    /// let ev = [0.0, 0.5, 1.5];
    /// assert_eq!(Statistic::AlgebraicConnectivity.of_frame(&ev, d.view()), 0.5);
    /// assert_eq!(Statistic::SpectralGap.of_frame(&ev, d.view()), 0.5); // K / 2 = 1 gap
    /// assert!((Statistic::MeanDistance.of_frame(&ev, d.view()) - 0.4).abs() < 1e-15);
    /// assert!((Statistic::MeanNearestDistance.of_frame(&ev, d.view()) - 0.8 / 3.0).abs() < 1e-15);
    /// ```
    pub fn of_frame(self, eigenvalues: &[f64], distances: ArrayView2<f64>) -> f64 {
        let k = eigenvalues.len();
        match self {
            Statistic::AlgebraicConnectivity => eigenvalues[1],
            Statistic::SpectralGap => (0..(k / 2).max(1))
                .map(|i| eigenvalues[i + 1] - eigenvalues[i])
                .fold(f64::NEG_INFINITY, f64::max),
            Statistic::LargestEigenvalue => eigenvalues[k - 1],
            Statistic::MeanEigenvalue => eigenvalues.iter().sum::<f64>() / k as f64,
            Statistic::MeanDistance => {
                let n = distances.nrows();
                let off: f64 = distances.indexed_iter().filter(|((i, j), _)| i != j).map(|(_, v)| v).sum();
                off / (n * (n - 1)) as f64
            }
            Statistic::MeanNearestDistance => {
                let n = distances.nrows();
                let nearest = |i: usize| {
                    (0..n).filter(|&j| j != i).map(|j| distances[[i, j]]).fold(f64::INFINITY, f64::min)
                };
                (0..n).map(nearest).sum::<f64>() / n as f64
            }
        }
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Statistic {
    type Err = Error;
    fn from_str(s: &str) -> Result<Statistic> {
        Statistic::ALL.into_iter().find(|st| st.name() == s).ok_or_else(|| Error::InvalidParameter {
            name: "statistic",
            value: s.to_string(),
            expected: "'statistic' should be in ['algebraic_connectivity', 'spectral_gap', \
                       'largest_eigenvalue', 'mean_eigenvalue', 'mean_distance', 'mean_nearest_distance']",
        })
    }
}

impl TrackData {
    /// `statistic` in every frame, `(F,)`.
    pub fn series(&self, statistic: Statistic) -> Vec<f64> {
        let spectra = self.spectra();
        (0..self.n_frames())
            .map(|t| {
                let ev = spectra.row(t);
                statistic.of_frame(ev.as_slice().expect("rows of a standard array"), self.distances_at(t))
            })
            .collect()
    }
}

/// The spectral series as CSV: `frame`, every [`Statistic`] ([`Statistic::ALL`]'s order),
/// then `eigenvalue_0 ... eigenvalue_{K-1}` (ascending); one line per frame, numbers in their
/// shortest exact form.
pub fn spectra_csv(data: &TrackData) -> String {
    let series: Vec<Vec<f64>> = Statistic::ALL.iter().map(|&s| data.series(s)).collect();
    let mut out = String::from("frame");
    Statistic::ALL.iter().for_each(|s| out.push_str(&format!(",{s}")));
    (0..data.n_components()).for_each(|i| out.push_str(&format!(",eigenvalue_{i}")));
    out.push('\n');
    let spectra = data.spectra();
    for (t, frame) in data.frames().iter().enumerate() {
        let _ = write!(out, "{frame}");
        series.iter().for_each(|s| {
            let _ = write!(out, ",{}", s[t]);
        });
        spectra.row(t).iter().for_each(|v| {
            let _ = write!(out, ",{v}");
        });
        out.push('\n');
    }
    out
}

/// The spectral series as `.npz` members (for [`einmix_io::npz::archive`]): `frames` (F)
/// int64, `eigenvalues` (F,K) and one (F) float64 member per [`Statistic`], by its name.
pub fn spectra_npz_members(data: &TrackData) -> Vec<(String, Vec<u8>)> {
    let (f, k) = (data.n_frames(), data.n_components());
    let mut members = vec![
        ("frames".to_string(), npy::i64_bytes(&[f], data.frames())),
        (
            "eigenvalues".to_string(),
            npy::f64_bytes(&[f, k], &data.spectra().iter().copied().collect::<Vec<_>>()),
        ),
    ];
    for s in Statistic::ALL {
        members.push((s.name().to_string(), npy::f64_bytes(&[f], &data.series(s))));
    }
    members
}

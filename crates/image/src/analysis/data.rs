//! A track's arrays as the analysis reads them, checked once so that every later step can
//! index without asking: `F` frames, `K >= 2` components, `D` = 2 or 3 coordinates.

use std::path::{Path, PathBuf};

use einmix_io::npz::Npz;
use ndarray::{Array2, Array3, Array4, ArrayView2, ArrayView3, ArrayView4, Axis};

use crate::distance::laplacian_spectrum;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::track::Track;

/// The arrays a track's `.npz` must hold for the analysis.
const REQUIRED: [&str; 6] = ["means", "covars", "weights", "distances", "laplacian", "frames"];

/// The arrays of one track that the analysis needs, validated: `means` (F,K,D), `covars`
/// (F,K,D,D), `weights` (F,K), `distances` (F,K,K), the normalised Laplacian's eigenvalues
/// (F,K, ascending; recomputed from `distances` when the file holds none), the frame indices
/// (F), and where the file has them `n_points` (F) and `voxel_size` (D).
///
/// ```
/// use einmix_image::{track, Stack, TrackData, TrackOptions};
/// use ndarray::Array3;
/// let frames = Array3::from_shape_fn((3, 40, 60), |(_, r, c)| {
///     let d2 = |r0: f64, c0: f64| (r as f64 - r0).powi(2) + (c as f64 - c0).powi(2);
///     let blob = |r0: f64, c0: f64| 80.0 * (-d2(r0, c0) / 6.0).exp();
///     (blob(12.0, 15.0) + blob(28.0, 35.0) + blob(10.0, 50.0)).round() as f32
/// });
/// let options = TrackOptions { background: "0.5".parse()?, ..Default::default() };
/// let result = track(&Stack::new(frames), None, &options, &mut |_| {})?;
/// let data = TrackData::from_npz(&result.to_npz()?, "track.npz")?;
/// assert_eq!((data.n_frames(), data.n_components(), data.dims()), (3, 3, 2));
/// # Ok::<(), einmix_image::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TrackData {
    path: PathBuf,
    frames: Vec<i64>,
    means: Array3<f64>,
    covariances: Array4<f64>,
    weights: Array2<f64>,
    distances: Array3<f64>,
    spectra: Array2<f64>,
    recomputed: bool,
    n_points: Option<Vec<i64>>,
    grid: Grid,
}

/// An [`Error::Analysis`] about `path`.
pub(crate) fn problem(path: &Path, problem: impl Into<String>) -> Error {
    Error::Analysis { path: path.to_path_buf(), problem: problem.into() }
}

/// One member read as float64 (integers converted as NumPy's `astype` does), with its shape.
fn member(npz: &mut Npz<'_>, path: &Path, name: &str) -> Result<Option<(Vec<usize>, Vec<f64>)>> {
    let array = npz.array::<f64>(name).map_err(|e| Error::Corrupt {
        path: path.to_path_buf(),
        format: ".npz",
        problem: e.to_string(),
    })?;
    Ok(array.map(|a| (a.shape, a.data)))
}

impl TrackData {
    /// Reads the `track.npz` at `path` (as written by `einmix image track`, [`Track::to_npz`] or a
    /// per-cell run's `cell_<label>/track.npz`).
    pub fn read(path: impl AsRef<Path>) -> Result<TrackData> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        TrackData::from_npz(&bytes, path)
    }

    /// A track from the bytes of its `.npz`; `path` names it in error messages.
    pub fn from_npz(bytes: &[u8], path: impl Into<PathBuf>) -> Result<TrackData> {
        let path = path.into();
        let mut npz = Npz::new(bytes).map_err(|e| Error::Corrupt {
            path: path.clone(),
            format: ".npz",
            problem: e.to_string(),
        })?;
        let names = npz.names();
        let missing: Vec<&str> = REQUIRED.iter().copied().filter(|r| !names.iter().any(|n| n == r)).collect();
        if !missing.is_empty() {
            let holds = if names.is_empty() { "nothing".to_string() } else { names.join(", ") };
            return Err(problem(
                &path,
                format!(
                    "not a track: the arrays {} are missing (a track's .npz holds {}; \
                     this one holds {holds})",
                    missing.join(", "),
                    REQUIRED.join(", ")
                ),
            ));
        }
        let mut get = |name: &str| -> Result<(Vec<usize>, Vec<f64>)> {
            Ok(member(&mut npz, &path, name)?.expect("checked present"))
        };
        let means = get("means")?;
        let covars = get("covars")?;
        let weights = get("weights")?;
        let distances = get("distances")?;
        let laplacian = get("laplacian")?;
        let frames = get("frames")?;
        let n_points = member(&mut npz, &path, "n_points")?;
        let voxel_size = member(&mut npz, &path, "voxel_size")?;
        let pixel_size = member(&mut npz, &path, "pixel_size")?;

        let (f, k, d) = match means.0[..] {
            [f, k, d] => (f, k, d),
            _ => return Err(shape_problem(&path, "means", &means.0, "(F, K, D)")),
        };
        let expect = |name: &str, (shape, _): &(Vec<usize>, Vec<f64>), want: &[usize], text: &str| {
            if shape[..] == *want {
                Ok(())
            } else {
                Err(shape_problem(
                    &path,
                    name,
                    shape,
                    &format!("{text} = {want:?} for means of shape {:?}", [f, k, d]),
                ))
            }
        };
        expect("covars", &covars, &[f, k, d, d], "(F, K, D, D)")?;
        expect("weights", &weights, &[f, k], "(F, K)")?;
        expect("distances", &distances, &[f, k, k], "(F, K, K)")?;
        expect("frames", &frames, &[f], "(F,)")?;
        if laplacian.0 != [f, k] && laplacian.0 != [f, 0] {
            let text = format!(
                "(F, K) = {:?}, or (F, 0) when not computed, for means of shape {:?}",
                [f, k],
                [f, k, d]
            );
            return Err(shape_problem(&path, "laplacian", &laplacian.0, &text));
        }
        let n_points = match n_points {
            Some(n) => {
                expect("n_points", &n, &[f], "(F,)")?;
                Some(n.1.iter().map(|&v| v as i64).collect())
            }
            None => None,
        };
        let axes: Vec<f64> = match (voxel_size, pixel_size) {
            (Some(v), _) => {
                expect("voxel_size", &v, &[d], "(D,)")?;
                v.1
            }
            (None, Some((_, p))) if p.len() == 1 => vec![p[0]; d],
            _ => vec![1.0; d],
        };
        let grid = grid_of(&path, &axes)?;
        let frames = frames.1.iter().map(|&v| v as i64).collect();
        let array = |(shape, data): (Vec<usize>, Vec<f64>)| {
            ndarray::ArrayD::from_shape_vec(shape, data).expect("the reader's shape fits its data")
        };
        let dim3 = |a: (Vec<usize>, Vec<f64>)| array(a).into_dimensionality().expect("checked 3-D");
        let dim2 = |a: (Vec<usize>, Vec<f64>)| array(a).into_dimensionality().expect("checked 2-D");
        TrackData::checked(
            path.clone(),
            frames,
            dim3(means),
            array(covars).into_dimensionality().expect("checked 4-D"),
            dim2(weights),
            dim3(distances),
            dim2(laplacian),
            n_points,
            grid,
        )
    }

    /// The analysis's view of an in-memory [`Track`] (named `<track>` in error messages).
    pub fn from_track(track: &Track) -> Result<TrackData> {
        let (f, l) = (track.frames.len(), track.frames.first().map_or(0, |fit| fit.laplacian.len()));
        let laplacian = Array2::from_shape_fn((f, l), |(t, i)| track.frames[t].laplacian[i]);
        let shape = |_| problem(Path::new("<track>"), "frames of different sizes");
        TrackData::checked(
            PathBuf::from("<track>"),
            track.frames.iter().map(|fit| fit.frame as i64).collect(),
            track.means().into_dimensionality().map_err(shape)?,
            track.covariances().into_dimensionality().map_err(shape)?,
            track.weights().into_dimensionality().map_err(shape)?,
            track.distances().into_dimensionality().map_err(shape)?,
            laplacian,
            Some(track.frames.iter().map(|fit| fit.n_points as i64).collect()),
            track.grid,
        )
    }

    /// The checks every source goes through, and the spectra recomputed when absent.
    #[allow(clippy::too_many_arguments)]
    fn checked(
        path: PathBuf,
        frames: Vec<i64>,
        means: Array3<f64>,
        covariances: Array4<f64>,
        weights: Array2<f64>,
        distances: Array3<f64>,
        laplacian: Array2<f64>,
        n_points: Option<Vec<i64>>,
        grid: Grid,
    ) -> Result<TrackData> {
        let (f, k, d) = means.dim();
        if f == 0 {
            return Err(problem(&path, "the track has no frames"));
        }
        if k < 2 {
            return Err(problem(
                &path,
                format!(
                    "the track has {k} component{}: a graph of one node has no spectrum to analyse \
                     (its Laplacian is the 1 x 1 zero matrix); track with at least 2 components \
                     (a lower peak threshold or min_distance, or a fixed K)",
                    if k == 1 { "" } else { "s" }
                ),
            ));
        }
        if d != 2 && d != 3 {
            return Err(problem(
                &path,
                format!("means has {d} coordinates; a track has 2 (row, col) or 3 (z, row, col)"),
            ));
        }
        for (name, values) in [
            ("means", means.view().into_dyn()),
            ("covars", covariances.view().into_dyn()),
            ("weights", weights.view().into_dyn()),
            ("distances", distances.view().into_dyn()),
            ("laplacian", laplacian.view().into_dyn()),
        ] {
            if let Some(t) = values.outer_iter().position(|frame| frame.iter().any(|v| !v.is_finite())) {
                return Err(problem(
                    &path,
                    format!("{name} of frame {} holds a value that is not finite", frames[t]),
                ));
            }
        }
        // A track run without its spectra (`laplacian = false`) has (F, 0): the pipeline's
        // own function fills them in, so a recomputed spectrum is the one a run would write.
        let recomputed = laplacian.ncols() == 0;
        let spectra = if recomputed {
            let mut out = Array2::zeros((f, k));
            for (t, dist) in distances.outer_iter().enumerate() {
                out.row_mut(t).assign(&laplacian_spectrum(dist));
            }
            out
        } else {
            laplacian
        };
        Ok(TrackData {
            path,
            frames,
            means,
            covariances,
            weights,
            distances,
            spectra,
            recomputed,
            n_points,
            grid,
        })
    }

    /// The file read (`<track>` for an in-memory track).
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// `F`.
    pub fn n_frames(&self) -> usize {
        self.frames.len()
    }
    /// `K` (at least 2).
    pub fn n_components(&self) -> usize {
        self.means.dim().1
    }
    /// `D`: 2 for (row, col), 3 for (z, row, col).
    pub fn dims(&self) -> usize {
        self.means.dim().2
    }
    /// Each frame's index in the input file, `(F,)`.
    pub fn frames(&self) -> &[i64] {
        &self.frames
    }
    /// Means, `(F, K, D)`, in coordinate units (cells times `voxel_size`).
    pub fn means(&self) -> ArrayView3<'_, f64> {
        self.means.view()
    }
    /// Covariances, `(F, K, D, D)`.
    pub fn covariances(&self) -> ArrayView4<'_, f64> {
        self.covariances.view()
    }
    /// The Gaussians' weights, `(F, K)` (summing to 1 minus the learned floor's share).
    pub fn weights(&self) -> ArrayView2<'_, f64> {
        self.weights.view()
    }
    /// The component distances, `(F, K, K)` (the metric the track was run with).
    pub fn distances(&self) -> ArrayView3<'_, f64> {
        self.distances.view()
    }
    /// The normalised Laplacian's eigenvalues per frame, `(F, K)`, ascending.
    pub fn spectra(&self) -> ArrayView2<'_, f64> {
        self.spectra.view()
    }
    /// Whether the file held no spectra and they were computed from `distances`.
    pub fn spectra_recomputed(&self) -> bool {
        self.recomputed
    }
    /// Points fitted per frame (pixels or voxels), when the file says.
    pub fn n_points(&self) -> Option<&[i64]> {
        self.n_points.as_deref()
    }
    /// Where a frame's cells sit (from `voxel_size`, else `pixel_size`, else unit cells).
    pub fn grid(&self) -> Grid {
        self.grid
    }
    /// Frame `t`'s `K x K` distances (`t` counts the track's frames from 0).
    pub(crate) fn distances_at(&self, t: usize) -> ArrayView2<'_, f64> {
        self.distances.index_axis(Axis(0), t)
    }
}

fn shape_problem(path: &Path, name: &str, shape: &[usize], want: &str) -> Error {
    problem(path, format!("not a track: {name} has shape {shape:?}, expected {want}"))
}

/// The grid of a track's cell sides (`(row, col)` or `(z, row, col)`).
fn grid_of(path: &Path, axes: &[f64]) -> Result<Grid> {
    if !axes.iter().all(|v| *v > 0.0 && v.is_finite()) {
        return Err(problem(path, format!("voxel_size {axes:?} is not positive and finite")));
    }
    Ok(match *axes {
        [r, c] => Grid { spacing: [1.0, r, c], volume: false },
        [z, r, c] => Grid { spacing: [z, r, c], volume: true },
        // `checked` refuses other dimensions, with the message that names the means.
        _ => Grid::planar(1.0),
    })
}

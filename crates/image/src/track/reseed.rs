//! Components that emptied, collapsed or left the data, and where to re-seed them: where the
//! model explains the image worst (the largest residual share of intensity).

use einmix::Mixture;
use ndarray::{Array3, Axis};

use super::{Reason, Reseed, Tracker};
use crate::eigen::symmetric_eigenvalues;
use crate::error::{Error, Result};
use crate::points::Points;

impl Tracker {
    /// The components that emptied, collapsed or left the data.
    pub(super) fn degenerate(&self, m: &Mixture, points: &Points) -> Vec<(usize, Reason)> {
        let k = m.n_components();
        let grid = self.grid();
        let d = grid.dims();
        // Relative to the structures' share: with a learned floor the Gaussians hold only what
        // the floor does not.
        let structures: f64 = m.weights().sum();
        let weight_floor = self.options.weight_floor.unwrap_or(0.01 / k as f64) * structures;
        let eigen_floor = self.options.eigen_floor * grid.finest() * grid.finest();
        let covs = m.covariances();
        let precisions = m.precisions();
        let (depth, h, w) = points.occupied.dim();
        let cells = [depth, h, w];
        let mut bad = Vec::new();
        for i in 0..k {
            let weight = m.weights()[i];
            let cov: Vec<f64> = covs.index_axis(Axis(0), i).iter().copied().collect();
            let l_small = symmetric_eigenvalues(&cov, d)[0];
            if weight < weight_floor {
                bad.push((i, Reason::Emptied { weight }));
                continue;
            }
            if l_small < eigen_floor {
                bad.push((i, Reason::Collapsed { eigenvalue: l_small }));
                continue;
            }
            let mean: Vec<f64> = m.means().row(i).to_vec();
            let centre = grid.to_cells(&mean);
            // Most components sit on data: look at the cell under the mean first.
            let nearest = centre.map(|x| x.round());
            let under_mean = (0..3).all(|a| nearest[a] >= 0.0 && (nearest[a] as usize) < cells[a])
                && points.occupied[[nearest[0] as usize, nearest[1] as usize, nearest[2] as usize]];
            if under_mean {
                continue;
            }
            // Scan the 2-sigma ellipsoid's bounding box (half-sides 2 sqrt(Sigma_aa)) for a data cell.
            let offset = 3 - d;
            let range = |a: usize| -> std::ops::Range<usize> {
                if a < offset {
                    return 0..1;
                }
                let reach = 2.0 * cov[(a - offset) * d + (a - offset)].sqrt() / grid.spacing[a];
                let lo = (centre[a] - reach).floor().max(0.0);
                let hi = (centre[a] + reach).ceil().min(cells[a] as f64 - 1.0);
                if hi < lo {
                    // The box misses the frame: an empty range.
                    return 0..0;
                }
                lo as usize..hi as usize + 1
            };
            let precision = precisions.index_axis(Axis(0), i);
            let found = range(0).any(|z| {
                range(1).any(|r| {
                    range(2).any(|c| {
                        if !points.occupied[[z, r, c]] {
                            return false;
                        }
                        // The cell's offset from the mean, along the fitted axes (no allocation
                        // per scanned cell).
                        let cell = [z, r, c];
                        let dx = |a: usize| cell[a + offset] as f64 * grid.spacing[a + offset] - mean[a];
                        // Mahalanobis distance squared with the component's precision.
                        let mut q = 0.0;
                        for a in 0..d {
                            for b in 0..d {
                                q += dx(a) * precision[[a, b]] * dx(b);
                            }
                        }
                        q <= 4.0
                    })
                })
            });
            if !found {
                bad.push((i, Reason::LeftData));
            }
        }
        bad
    }

    /// `m` with the `bad` components moved to where the model explains the image worst.
    pub(super) fn reseeded(
        &self,
        m: &Mixture,
        points: &Points,
        bad: &[(usize, Reason)],
        frame_index: usize,
    ) -> Result<(Mixture, Vec<Reseed>)> {
        let grid = self.grid();
        let log_p = m
            .score_samples(points.coords.view())
            .map_err(|source| Error::Fit { frame: frame_index, source })?;
        let total: f64 = points.weights.sum();
        let area = grid.cell_volume();
        // Residual share of each pixel: observed share minus the model's.
        let mut residual: Vec<f64> =
            points.weights.iter().zip(log_p.iter()).map(|(w, lp)| w / total - lp.exp() * area).collect();
        let mut means = m.means().to_owned();
        let mut weights = m.weights().to_owned();
        let k = m.n_components();
        let fit_error = |source| Error::Fit { frame: frame_index, source };
        // Re-seeded in dense form, then back to the fitted kind (tied: the components' shared
        // matrix, the new ones' start covariances weighed in).
        let dense = super::dense::full_form(m).map_err(fit_error)?;
        let mut covs: Array3<f64> =
            dense.covariances().into_dimensionality::<ndarray::Ix3>().expect("full").to_owned();
        let start_covariance = self.start_covariance();
        let exclusion = (2.0 * self.options.init_size * grid.spacing[1]).powi(2);
        let mut out = Vec::new();
        for &(component, reason) in bad {
            let (best, _) = residual.iter().enumerate().fold((0, f64::NEG_INFINITY), |acc, (i, &r)| {
                if r > acc.1 {
                    (i, r)
                } else {
                    acc
                }
            });
            let position = points.coords.row(best).to_vec();
            // No second seed next to this one.
            for (r, x) in residual.iter_mut().zip(points.coords.rows()) {
                let d2: f64 = x.iter().zip(&position).map(|(a, b)| (a - b) * (a - b)).sum();
                if d2 <= exclusion {
                    *r = f64::NEG_INFINITY;
                }
            }
            means.row_mut(component).assign(&ndarray::ArrayView1::from(&position));
            covs.index_axis_mut(Axis(0), component).assign(&start_covariance);
            weights[component] = 1.0 / k as f64;
            out.push(Reseed { frame: frame_index, component, reason, position });
        }
        let total_w = weights.sum();
        weights.mapv_inplace(|v| v / total_w);
        let dense_covs = covs.as_slice().expect("a standard-layout array");
        let start = super::dense::mixture_of_kind(m.covariance_type(), &weights, means.view(), dense_covs)
            .map_err(fit_error)?;
        // The floor stays as it was learned.
        let start = match m.background() {
            Some(b) => start.with_background(b.clone()).map_err(fit_error)?,
            None => start,
        };
        Ok((start, out))
    }
}

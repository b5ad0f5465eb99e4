//! Running averages of the sufficient statistics, for online EM, in each kind's centred form.
//!
//! Per unit weight, per component: the mass `n_k`, the mean `m_k` and the centred second moment
//! `C_k` (the kind's scatter layout: `D x D`, pooled, or squares). A batch's statistics, taken
//! around shifts `c_k`, become `n_b = sr / W`, `m_b = c + sx / sr`,
//! `C_b = (S - sr delta delta^T) / W` with `delta = sx / sr`; blending with step `rho`:
//!
//! ```text
//! n' = (1 - rho) n + rho n_b
//! m' = ((1 - rho) n m + rho n_b m_b) / n'
//! C' = (1 - rho) C + rho C_b + ((1 - rho) n rho n_b / n') (m - m_b)(m - m_b)^T
//! ```
//! the two-sample combination of centred moments (Chan, Golub and LeVeque, 1979): every value
//! stays an average, nothing grows with the number of batches, and no raw second moment is
//! formed. The between-means term goes through [`CovarianceType::add_point_scatter`], so each
//! kind keeps its own form (pooled for tied, squares for diag and spherical). A background
//! component's share `n_0` (its responsibilities per unit weight) is blended like the masses:
//! `n_0' = (1 - rho) n_0 + rho n_0b`; it has no mean or scatter.

use super::{CovarianceType, SuffStats};

/// Running statistics per unit weight, centred on their own means.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RunningStats {
    pub kind: CovarianceType,
    pub k: usize,
    pub d: usize,
    /// `n_k`: each component's share of the weight (they sum to 1 with `background`).
    pub mass: Vec<f64>,
    /// `n_0`: a background component's share of the weight (0 without one).
    pub background: f64,
    /// `m_k`, `K x D`.
    pub means: Vec<f64>,
    /// `C_k` in the kind's scatter layout (upper triangles for full and tied).
    pub scatter: Vec<f64>,
    /// The running average of the batches' total weights: the scale the M-step sees.
    pub mean_weight: f64,
}

impl RunningStats {
    /// A batch's statistics (around `shifts`, total weight `w`) in running form.
    fn of_batch(batch: &SuffStats, shifts: &[f64], w: f64, kind: CovarianceType, d: usize) -> RunningStats {
        let k = batch.sr.len();
        let mut r = RunningStats {
            kind,
            k,
            d,
            mass: batch.sr.iter().map(|sr| sr / w).collect(),
            background: batch.background / w,
            means: shifts.to_vec(),
            scatter: batch.scatter.iter().map(|s| s / w).collect(),
            mean_weight: w,
        };
        let mut delta = vec![0.0; d];
        for c in 0..k {
            let sr = batch.sr[c];
            if sr > 0.0 {
                for j in 0..d {
                    delta[j] = batch.sx[c * d + j] / sr;
                    r.means[c * d + j] += delta[j];
                }
                // S - sr delta delta^T, per unit weight: the scatter around the batch's own mean.
                kind.add_point_scatter(&mut r.scatter, c, -sr / w, &delta);
            }
        }
        r
    }

    /// The running statistics of a first batch (around `shifts`, total weight `w`).
    pub(crate) fn from_batch(
        batch: &SuffStats,
        shifts: &[f64],
        w: f64,
        kind: CovarianceType,
    ) -> RunningStats {
        let d = shifts.len() / batch.sr.len().max(1);
        RunningStats::of_batch(batch, shifts, w, kind, d)
    }

    /// Moves a step `rho` towards a batch's statistics (around `shifts`, total weight `w`).
    pub(crate) fn blend(&mut self, batch: &SuffStats, shifts: &[f64], w: f64, rho: f64) {
        let b = RunningStats::of_batch(batch, shifts, w, self.kind, self.d);
        let d = self.d;
        for v in self.scatter.iter_mut().zip(&b.scatter) {
            *v.0 = (1.0 - rho) * *v.0 + rho * v.1;
        }
        let mut gap = vec![0.0; d];
        for c in 0..self.k {
            let (old, new) = ((1.0 - rho) * self.mass[c], rho * b.mass[c]);
            let mass = old + new;
            if mass > 0.0 {
                for j in 0..d {
                    let at = c * d + j;
                    gap[j] = self.means[at] - b.means[at];
                    self.means[at] = (old * self.means[at] + new * b.means[at]) / mass;
                }
                self.kind.add_point_scatter(&mut self.scatter, c, old * new / mass, &gap);
            }
            self.mass[c] = mass;
        }
        self.background = (1.0 - rho) * self.background + rho * b.background;
        self.mean_weight = (1.0 - rho) * self.mean_weight + rho * w;
    }

    /// The statistics the M-step reads, around `self.means` (so `sx = 0`), scaled to the mean
    /// batch weight (so scikit-learn's `10 eps` guard on each `N_k` means what it means in a
    /// batch fit).
    pub(crate) fn scaled_into(&self, stats: &mut SuffStats) {
        let w = self.mean_weight;
        stats.clear();
        stats.sr.iter_mut().zip(&self.mass).for_each(|(s, m)| *s = m * w);
        stats.scatter.iter_mut().zip(&self.scatter).for_each(|(s, c)| *s = c * w);
        stats.background = self.background * w;
    }
}

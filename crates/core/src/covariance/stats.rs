//! Weighted sufficient statistics, in each kind's own form.
//!
//! ```text
//! sr_k      = sum_i w_i r_ik
//! sx_k      = sum_i w_i r_ik (x_i - c_k)
//! scatter_k = sum_i w_i r_ik (x_i - c_k)(x_i - c_k)^T     full: K x D x D (upper triangle)
//!                                                          tied: D x D, pooled over k
//!                                                          diag, spherical: K x D squares
//! ```
//! around shifts `c_k` (the current means), so nothing cancels when the M-step re-centres.

use super::CovarianceType;

/// Weighted sufficient statistics of one EM pass (or one block of it).
#[derive(Clone, Debug)]
pub(crate) struct SuffStats {
    /// `sum_i w_i r_ik`.
    pub sr: Vec<f64>,
    /// `sum_i w_i r_ik (x_i - c_k)`, `K x D`.
    pub sx: Vec<f64>,
    /// Centred scatter: `K x D x D` (full), `D x D` pooled (tied), `K x D` squares (diag, spherical).
    pub scatter: Vec<f64>,
    /// `sum_i w_i log p(x_i)`.
    pub log_lik: f64,
    /// Upper bound on the weighted responsibility each component lost to culling.
    pub skipped: Vec<f64>,
    /// (chunk, component) pairs skipped by culling.
    pub culled_pairs: u64,
    /// `sum_i w_i r_i0`: the background component's weighted responsibility (0 without one).
    pub background: f64,
}

impl SuffStats {
    pub(crate) fn new(kind: CovarianceType, k: usize, d: usize) -> SuffStats {
        SuffStats {
            sr: vec![0.0; k],
            sx: vec![0.0; k * d],
            scatter: vec![0.0; kind.scatter_len(k, d)],
            log_lik: 0.0,
            skipped: vec![0.0; k],
            culled_pairs: 0,
            background: 0.0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.sr.fill(0.0);
        self.sx.fill(0.0);
        self.scatter.fill(0.0);
        self.log_lik = 0.0;
        self.skipped.fill(0.0);
        self.culled_pairs = 0;
        self.background = 0.0;
    }

    /// Whether culling lost nothing that matters: every component's skipped mass is below
    /// 1e-13 of what it received.
    pub(crate) fn culling_was_exact(&self) -> bool {
        self.skipped.iter().zip(&self.sr).all(|(s, r)| *s <= 1e-13 * r)
    }

    pub(crate) fn add(&mut self, other: &SuffStats) {
        let pairs = [
            (&mut self.sr, &other.sr),
            (&mut self.sx, &other.sx),
            (&mut self.scatter, &other.scatter),
            (&mut self.skipped, &other.skipped),
        ];
        for (a, b) in pairs {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self.log_lik += other.log_lik;
        self.background += other.background;
        self.culled_pairs += other.culled_pairs;
    }

    /// Adds one point `x` with weight `w`, assigned wholly to component `c`, around `shift`
    /// (`dx` is scratch of length `D`): the statistics of hard assignments, `O(D^2)` per point.
    pub(crate) fn add_point(
        &mut self,
        kind: CovarianceType,
        c: usize,
        w: f64,
        x: &[f64],
        shift: &[f64],
        dx: &mut [f64],
    ) {
        let d = x.len();
        self.sr[c] += w;
        for j in 0..d {
            dx[j] = x[j] - shift[j];
            self.sx[c * d + j] += w * dx[j];
        }
        kind.add_point_scatter(&mut self.scatter, c, w, dx);
    }
}

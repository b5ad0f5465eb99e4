//! The covariance kind a track fits (`TrackOptions::covariance_type`) and the dense form every
//! consumer of a track reads: the tracker builds covariances as full `D x D` matrices (a
//! start's, a re-seeded component's) and hands them to the core in the kind's own layout;
//! it reports each frame's mixture with its covariances written out `D x D` again, so that
//! `covars`, `precs`, the distances, the pictures and the analysis read one layout whatever
//! the kind.

use std::borrow::Cow;

use einmix::{CovarianceType, Mixture};
use ndarray::{Array1, ArrayD, ArrayView2, IxDyn};

/// A mixture of `kind` from dense `K x D x D` covariances (`dense`, row-major), converted by
/// the core's [`CovarianceType::from_dense_covariances`] (tied: averaged by `weights`).
pub(super) fn mixture_of_kind(
    kind: CovarianceType,
    weights: &Array1<f64>,
    means: ArrayView2<f64>,
    dense: &[f64],
) -> einmix::Result<Mixture> {
    let (k, d) = means.dim();
    let own = kind.from_dense_covariances(dense, weights.as_slice().expect("a contiguous vector"), d);
    let covariances = ArrayD::from_shape_vec(IxDyn(&kind.shape(k, d)), own).expect("the kind's shape");
    Mixture::from_parameters(kind, weights.view(), means, covariances.view())
}

/// `m` with every covariance written out as a full `D x D` matrix: the same model (densities,
/// weights, means, background), in the layout a track's consumers read. A full mixture is
/// returned as it is.
pub(super) fn full_form(m: &Mixture) -> einmix::Result<Cow<'_, Mixture>> {
    if m.covariance_type() == CovarianceType::Full {
        return Ok(Cow::Borrowed(m));
    }
    let (k, d) = (m.n_components(), m.n_features());
    let dense: Vec<f64> = (0..k).flat_map(|c| m.covariance_matrix(c).into_iter()).collect();
    let dense = ArrayD::from_shape_vec(IxDyn(&[k, d, d]), dense).expect("K dense D x D covariances");
    // `from_parameters` factors the covariances but wants weights summing to 1 (a learned
    // floor holds the rest); the fitted weights themselves are kept, bit for bit.
    let structures = m.weights().sum();
    let normalised = m.weights().mapv(|w| w / structures);
    let factored =
        Mixture::from_parameters(CovarianceType::Full, normalised.view(), m.means(), dense.view())?;
    let full = Mixture::from_fitted_arrays(
        CovarianceType::Full,
        m.weights(),
        m.means(),
        dense.view(),
        factored.precisions_cholesky(),
    )?;
    Ok(Cow::Owned(match m.background() {
        Some(b) => full.with_fitted_background(b.clone())?,
        None => full,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn every_kind_round_trips_through_its_dense_form() {
        let weights = array![0.25, 0.75];
        let means = array![[0.0, 1.0], [4.0, 2.0]];
        let dense = [4.0, 1.0, 1.0, 2.0, 8.0, 1.0, 1.0, 6.0];
        for kind in CovarianceType::ALL {
            let m = mixture_of_kind(kind, &weights, means.view(), &dense).unwrap();
            assert_eq!(m.covariance_type(), kind);
            let full = full_form(&m).unwrap();
            assert_eq!(full.covariance_type(), CovarianceType::Full);
            assert_eq!(full.weights(), m.weights());
            assert_eq!(full.means(), m.means());
            for c in 0..2 {
                assert_eq!(full.covariance_matrix(c), m.covariance_matrix(c), "{kind}");
            }
            let x = array![[0.5, 1.5], [3.0, 3.0]];
            let (a, b) = (m.score_samples(x.view()).unwrap(), full.score_samples(x.view()).unwrap());
            assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-12), "{kind}: {a} vs {b}");
        }
        // A full mixture is reported as it is.
        let m = mixture_of_kind(CovarianceType::Full, &weights, means.view(), &dense).unwrap();
        assert!(matches!(full_form(&m).unwrap(), Cow::Borrowed(_)));
    }
}

"""Number-for-number parity with scikit-learn from identical initial parameters.

Tolerance: 1e-8 relative on fitted parameters and lower bounds. What differences remain come
from rounding: scikit-learn forms diag/spherical/tied statistics from raw second moments
(E[x^2] - mu^2) and evaluates `X U - mu U`, einmix accumulates centred statistics and
`(x - mu) U`; on these well-conditioned data sets that is ~1e-11 relative.
"""

import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture as SkGM

from einmix import GaussianMixture

KINDS = ["full", "tied", "diag", "spherical"]
RTOL = 1e-8


def rel_err(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = np.maximum(np.abs(b), np.max(np.abs(b)) * 1e-3)
    return float(np.max(np.abs(a - b) / scale))


def initial_parameters(X, k, kind, seed):
    """Identical starting point for both: one scikit-learn iteration from its k-means."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = SkGM(k, covariance_type=kind, random_state=seed, max_iter=1).fit(X)
    return dict(weights_init=start.weights_, means_init=start.means_, precisions_init=start.precisions_)


CASES = [
    # (n per cluster, centres, offset, seed)
    (300, [[0, 0], [5, 5], [0, 6]], 0.0, 0),
    (200, [[0, 0, 0], [4, 4, 0], [0, 5, 5], [6, 0, 6]], 100.0, 1),
    (150, [[0] * 6, [3] * 6], -50.0, 2),
    (400, [[0], [4], [9]], 0.0, 3),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_fit_matches_sklearn(blobs, kind, case):
    n_per, centres, offset, seed = CASES[case]
    X = blobs(np.random.RandomState(seed), n_per, centres, offset)
    k = len(centres)
    init = initial_parameters(X, k, kind, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkGM(k, covariance_type=kind, tol=1e-6, max_iter=500, **init).fit(X)
        ours = GaussianMixture(k, covariance_type=kind, tol=1e-6, max_iter=500, **init).fit(X)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.converged_ == ref.converged_
    assert rel_err(ours.weights_, ref.weights_) < RTOL
    assert rel_err(ours.means_, ref.means_) < RTOL
    assert rel_err(ours.covariances_, ref.covariances_) < RTOL
    assert rel_err(ours.precisions_cholesky_, ref.precisions_cholesky_) < RTOL
    assert rel_err(ours.precisions_, ref.precisions_) < RTOL
    assert abs(ours.lower_bound_ - ref.lower_bound_) < RTOL * abs(ref.lower_bound_)
    assert rel_err(ours.lower_bounds_, ref.lower_bounds_) < RTOL
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("kind", KINDS)
def test_scores_match_sklearn_on_same_parameters(blobs, kind):
    X = blobs(np.random.RandomState(5), 250, [[0, 0, 0], [5, 1, 0], [1, 6, 2]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkGM(3, covariance_type=kind, random_state=0).fit(X)
    ours = GaussianMixture(3, covariance_type=kind)
    for name in ["weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_"]:
        setattr(ours, name, getattr(ref, name))
    ours.n_features_in_ = X.shape[1]
    Y = blobs(np.random.RandomState(6), 50, [[0, 0, 0], [10, -3, 4]])
    for data in (X, Y):
        assert rel_err(ours.score_samples(data), ref.score_samples(data)) < 1e-10
        np.testing.assert_allclose(ours.predict_proba(data), ref.predict_proba(data), rtol=1e-8, atol=1e-12)
        np.testing.assert_array_equal(ours.predict(data), ref.predict(data))
        assert abs(ours.bic(data) - ref.bic(data)) < 1e-10 * abs(ref.bic(data))
        assert abs(ours.aic(data) - ref.aic(data)) < 1e-10 * abs(ref.aic(data))
        assert abs(ours.score(data) - ref.score(data)) < 1e-10 * abs(ref.score(data))


@pytest.mark.parametrize("kind", KINDS)
def test_integer_sample_weight_equals_duplicated_rows_in_sklearn(blobs, kind):
    rng = np.random.RandomState(7)
    X = blobs(rng, 120, [[0, 0], [6, 2], [1, 7]])
    w = rng.randint(0, 4, size=len(X))
    X_rep = np.repeat(X, w, axis=0)
    init = initial_parameters(X_rep, 3, kind, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkGM(3, covariance_type=kind, tol=1e-8, max_iter=300, **init).fit(X_rep)
        ours = GaussianMixture(3, covariance_type=kind, tol=1e-8, max_iter=300, **init).fit(X, sample_weight=w)
    assert ours.n_iter_ == ref.n_iter_
    assert rel_err(ours.weights_, ref.weights_) < RTOL
    assert rel_err(ours.means_, ref.means_) < RTOL
    assert rel_err(ours.covariances_, ref.covariances_) < RTOL
    assert abs(ours.lower_bound_ - ref.lower_bound_) < RTOL * abs(ref.lower_bound_)


def test_weighted_kmeans_init_equals_duplicated_rows():
    """With the default k-means initialisation too: weights are repetitions, not a new RNG path."""
    rng = np.random.RandomState(11)
    X = rng.normal(size=(300, 2)) + np.repeat(np.array([[0, 0], [8, 0], [0, 8]]), 100, axis=0)
    w = rng.randint(1, 4, size=len(X))
    a = GaussianMixture(3, random_state=4).fit(X, sample_weight=w)
    b = GaussianMixture(3, random_state=4).fit(np.repeat(X, w, axis=0))
    assert rel_err(a.means_, b.means_) < 1e-9
    assert abs(a.lower_bound_ - b.lower_bound_) < 1e-9 * abs(b.lower_bound_)


def test_non_diagonal_density_against_scipy():
    cov = np.array([[2.0, 0.7, 0.3], [0.7, 1.0, -0.2], [0.3, -0.2, 0.5]])
    mean = np.array([1.0, -2.0, 0.5])
    gm = GaussianMixture(1)
    gm.weights_ = np.array([1.0])
    gm.means_ = mean[None, :]
    gm.covariances_ = cov[None]
    gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(cov))[None]
    gm.n_features_in_ = 3
    x = np.random.RandomState(0).normal(size=(200, 3)) * 3
    expected = multivariate_normal(mean, cov).logpdf(x)
    np.testing.assert_allclose(gm.score_samples(x), expected, rtol=1e-12)
    # The seed's contraction einsum('ni,ji,ni->n') gives something else for this covariance.
    d = x - mean
    inv = np.linalg.inv(cov)
    wrong = np.einsum("ni,ji,ni->n", d, inv, d)
    right = np.einsum("ni,ij,nj->n", d, inv, d)
    assert np.max(np.abs(wrong - right)) > 1.0


def test_far_points_do_not_underflow():
    gm = GaussianMixture(2, random_state=0).fit(np.r_[np.zeros((20, 2)), np.ones((20, 2)) * 3] + np.random.RandomState(0).normal(size=(40, 2)) * 0.1)
    far = np.array([[1e4, -1e4], [500.0, 0.0]])
    proba = gm.predict_proba(far)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.isfinite(gm.score_samples(far)).all()


@pytest.mark.parametrize("kind", KINDS)
def test_fit_matches_sklearn_on_the_64_feature_digits(kind):
    """A real data set above every kind's crossover to the matrix-product kernels: the 1,797
    8x8 handwritten digits bundled with scikit-learn (64 features, many of them constant, so the
    covariances rest on ``reg_covar``: the ill-conditioned case)."""
    from sklearn.datasets import load_digits

    X = load_digits().data
    init = initial_parameters(X, 10, kind, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkGM(10, covariance_type=kind, tol=1e-6, max_iter=30, **init).fit(X)
        ours = GaussianMixture(10, covariance_type=kind, tol=1e-6, max_iter=30, **init).fit(X)
    assert ours.n_iter_ == ref.n_iter_
    assert rel_err(ours.weights_, ref.weights_) < RTOL
    assert rel_err(ours.means_, ref.means_) < RTOL
    assert rel_err(ours.covariances_, ref.covariances_) < RTOL
    assert rel_err(ours.lower_bounds_, ref.lower_bounds_) < RTOL
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert rel_err(ours.score_samples(X), ref.score_samples(X)) < RTOL

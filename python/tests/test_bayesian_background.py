"""Story: ``BayesianGaussianMixture(background=...)``: the variational mixture with the uniform
background component (issues 12 and 13). The background's weight is a point estimate beside the
Gaussians' posterior; every other formula is scikit-learn's, so scikit-learn's own E- and M-step
code on the Gaussians' share of the responsibilities is the reference."""

import math
import pickle
import warnings

import numpy as np
import pytest

import einmix

pytest.importorskip("sklearn")
from sklearn.mixture import BayesianGaussianMixture as SkBGM  # noqa: E402
from sklearn.mixture._gaussian_mixture import _estimate_gaussian_parameters  # noqa: E402

KINDS = ["full", "tied", "diag", "spherical"]
PRIORS = ["dirichlet_process", "dirichlet_distribution"]
GUARD = 10 * np.finfo(float).eps


def _floor_and_clusters(seed=0, n_floor=1500):
    """Two correlated clusters and a uniform floor over [0, 100]^2."""
    rng = np.random.default_rng(seed)
    a = rng.multivariate_normal([20, 30], [[9, 3], [3, 4]], 1200)
    b = rng.multivariate_normal([60, 70], [[4, -2], [-2, 6]], 900)
    return np.vstack([a, b, rng.uniform(0, 100, (n_floor, 2))])


def _sklearn_with_state(em, X):
    """scikit-learn's estimator holding einmix's fitted Gaussians' state (its weights rescaled
    to sum to 1: scikit-learn's E-step reads the concentrations, not ``weights_``)."""
    k = em.n_components
    sk = SkBGM(
        n_components=k, covariance_type=em.covariance_type,
        weight_concentration_prior_type=em.weight_concentration_prior_type,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X[: 4 * k])  # fitted once so that its priors exist; replaced below
    # The state, and the priors einmix computed from the weighted data (scikit-learn's own
    # defaults, unweighted; equal to them without weights, which test_bayesian checks).
    for name in ("weight_concentration_", "mean_precision_", "means_", "degrees_of_freedom_", "covariances_",
                 "precisions_cholesky_", "precisions_", "weight_concentration_prior_", "mean_precision_prior_",
                 "mean_prior_", "degrees_of_freedom_prior_", "covariance_prior_"):
        setattr(sk, name, getattr(em, name))
    return sk


def _reference_iteration(em, X, w):
    """One variational iteration with a background, from ``em``'s state: the E-step from
    scikit-learn's per-component log terms shifted by ``ln(1 - pi_0)`` plus the background's
    ``ln pi_0 - ln V`` inside its box; the M-step scikit-learn's on the Gaussians' weighted
    responsibilities; ``pi_0`` their complement's share; the bound scikit-learn's plus the
    background's terms. Returns (the updated estimator, pi_0, bound, responsibilities)."""
    sk = _sklearn_with_state(em, X)
    k, d = em.means_.shape
    pi0 = em.background_weight_
    lower, upper = em.background_lower_, em.background_upper_
    log_volume = float(np.sum(np.log(upper - lower)))
    inside = np.all((X >= lower) & (X <= upper), axis=1)
    terms = np.column_stack([
        sk._estimate_weighted_log_prob(X) + math.log1p(-pi0),
        np.where(inside, math.log(pi0) - log_volume, -np.inf),
    ])
    top = terms.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(terms - top).sum(axis=1))
    resp = np.exp(terms - log_norm[:, None])
    # scikit-learn's statistics weigh each row by its responsibility alone: a sample weight
    # folds into them.
    resp_w = resp[:, :k] * w[:, None]
    nk, xk, scatter = _estimate_gaussian_parameters(X, resp_w, sk.reg_covar, em.covariance_type)
    if em.covariance_type == "tied":
        # scikit-learn's tied formula takes X^T X, assuming each row's responsibilities sum to
        # 1, which a background's column breaks: the definition instead.
        scatter = sum(((X - xk[c]).T * resp_w[:, c]) @ (X - xk[c]) for c in range(k)) / nk.sum()
        scatter = scatter + sk.reg_covar * np.eye(d)
    sk._estimate_weights(nk)
    sk._estimate_means(nk, xk)
    sk._estimate_precisions(nk, xk, scatter)
    sk._set_parameters(sk._get_parameters())  # its expected weights and precisions
    n_gauss = float(np.sum(resp[:, :k] * w[:, None]))
    n0 = float(np.sum(resp[:, k] * w))
    nk = (resp[:, :k] * w[:, None]).sum(axis=0) + GUARD
    new_pi0 = (n0 + GUARD) / (nk.sum() + n0 + GUARD)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_log_r = np.where(resp > 0, resp * np.log(resp), 0.0)
    entropy = float(np.sum(w[:, None] * r_log_r))
    without_entropy = sk._compute_lower_bound(np.zeros((1, 1)), 0.0)
    bound = (
        without_entropy - entropy + n_gauss * math.log1p(-new_pi0)
        + n0 * (math.log(new_pi0) - log_volume + 0.5 * d * math.log(2 * math.pi))
    )
    return sk, new_pi0, bound, resp


def _close(a, b, rtol=1e-8):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(b), 1e-3 * np.max(np.abs(b)))
    return np.max(np.abs(a - b) / scale) <= rtol


@pytest.mark.parametrize("prior", PRIORS)
@pytest.mark.parametrize("kind", KINDS)
def test_one_iteration_matches_scikit_learns_steps_with_the_background_added(kind, prior):
    X = _floor_and_clusters(1)
    w = np.random.default_rng(2).uniform(0.5, 3.0, len(X))
    em = einmix.BayesianGaussianMixture(
        n_components=4, covariance_type=kind, weight_concentration_prior_type=prior,
        background=True, random_state=0, max_iter=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em.fit(X, sample_weight=w)
    sk, pi0, bound, resp = _reference_iteration(em, X, w)
    # The E-step the reference used is the estimator's own.
    assert np.max(np.abs(em.predict_proba(X) - resp)) <= 1e-10
    em.set_params(warm_start=True, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em.fit(X, sample_weight=w)
    assert _close(em.background_weight_, pi0), (em.background_weight_, pi0)
    assert _close(em.lower_bound_, bound), (em.lower_bound_, bound)
    for attr in ("means_", "precisions_", "precisions_cholesky_", "degrees_of_freedom_", "mean_precision_"):
        assert _close(getattr(em, attr), getattr(sk, attr)), attr
    assert _close(em.weights_, sk.weights_ * (1 - pi0))
    got, want = em.weight_concentration_, sk.weight_concentration_
    if prior == "dirichlet_process":
        assert _close(got[0], want[0]) and _close(got[1], want[1])
    else:
        assert _close(got, want)


def test_the_estimator_with_a_background_learns_the_floor_and_behaves_like_gaussian_mixtures():
    X = _floor_and_clusters(3)
    floor_share = 1500 / len(X)
    bgm = einmix.BayesianGaussianMixture(
        n_components=6, background=True, weight_concentration_prior=1e-3,
        covariance_prior=np.eye(2), init_params="random_from_data", n_init=3, random_state=0, max_iter=500,
    ).fit(X)
    assert abs(bgm.background_weight_ - floor_share) < 0.02, bgm.background_weight_
    assert abs(bgm.weights_.sum() + bgm.background_weight_ - 1) < 1e-12
    big = np.sort(bgm.means_[bgm.weights_ / (1 - bgm.background_weight_) > 0.01], axis=0)
    assert big.shape == (2, 2), bgm.weights_
    assert np.max(np.abs(big - [[20, 30], [60, 70]])) < 0.5
    labels = bgm.predict(X)
    assert set(np.unique(labels)) <= set(range(6)) | {-1}
    assert np.mean(labels[2100:] == -1) > 0.8, "the floor's points are the background's"
    proba = bgm.predict_proba(X)
    assert proba.shape == (len(X), 7) and np.allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(labels, np.where(proba.argmax(axis=1) == 6, -1, proba.argmax(axis=1)))
    Y, y = bgm.sample(2000)
    assert (y == -1).any() and np.all(Y[y == -1] >= bgm.background_lower_)
    assert np.all(np.isfinite(bgm.score_samples(Y)))
    again = pickle.loads(pickle.dumps(bgm))
    np.testing.assert_array_equal(again.score_samples(X), bgm.score_samples(X))
    without = einmix.BayesianGaussianMixture(
        n_components=6, weight_concentration_prior=1e-3, covariance_prior=np.eye(2),
        init_params="random_from_data", n_init=3, random_state=0, max_iter=500,
    ).fit(X)
    assert not hasattr(without, "background_weight_")
    assert bgm.score(X) > without.score(X)


def test_weighted_rows_equal_repeated_rows_with_a_background():
    X = _floor_and_clusters(5, n_floor=600)[::3]
    counts = 1 + np.arange(len(X)) % 3
    start = einmix.BayesianGaussianMixture(n_components=3, background=True, random_state=1, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start.fit(X, sample_weight=counts.astype(float))
    fits = []
    for data, weight in ((X, counts.astype(float)), (np.repeat(X, counts, axis=0), None)):
        est = pickle.loads(pickle.dumps(start)).set_params(warm_start=True, max_iter=5, tol=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.append(est.fit(data, sample_weight=weight))
    a, b = fits
    assert _close(a.background_weight_, b.background_weight_, 1e-6)
    for attr in ("means_", "covariances_", "degrees_of_freedom_", "weights_"):
        assert _close(getattr(a, attr), getattr(b, attr), 1e-6), attr
    assert _close(a.lower_bound_, b.lower_bound_, 1e-6)


def test_bad_background_options_name_the_estimator():
    X = _floor_and_clusters(6)[:300]
    with pytest.raises(ValueError, match="The 'background' parameter of BayesianGaussianMixture must be None"):
        einmix.BayesianGaussianMixture(n_components=2, background="box").fit(X)
    with pytest.raises(ValueError, match=r"corners must have shape \(2,\)"):
        einmix.BayesianGaussianMixture(n_components=2, background=([0], [1])).fit(X)
    with pytest.raises(einmix.EinmixError, match=r"feature 0: the upper corner \(0\) must exceed the lower \(5\)"):
        einmix.BayesianGaussianMixture(n_components=2, background=([5, 0], [0, 100])).fit(X)

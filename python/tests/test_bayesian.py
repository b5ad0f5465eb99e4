"""Story: ``einmix.BayesianGaussianMixture`` is scikit-learn's, on einmix's engine (issue 13)."""

import warnings

import numpy as np
import pytest

import einmix

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_breast_cancer, load_iris, load_wine  # noqa: E402
from sklearn.mixture import BayesianGaussianMixture as SkBGM  # noqa: E402

KINDS = ["full", "tied", "diag", "spherical"]
PRIORS = ["dirichlet_process", "dirichlet_distribution"]


def datasets():
    """Real data of different shapes: iris (150 x 4), wine (178 x 13, strongly correlated and
    of very different scales), breast cancer (569 x 30), and 3,000 rows of a 2-D time-lapse-like
    blob field."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 100, size=(6, 2))
    blobs = centres[rng.integers(6, size=3000)] + rng.normal(scale=3.0, size=(3000, 2))
    return {
        "iris": load_iris().data,
        "wine": load_wine().data,
        "breast_cancer": load_breast_cancer().data[:, :8],
        "blobs": blobs,
    }


def one_warm_iteration(X, kind, prior, k=4):
    """Fits einmix a few iterations, copies its state into scikit-learn's estimator, then runs
    one warm-started iteration on both."""
    em = einmix.BayesianGaussianMixture(
        n_components=k, covariance_type=kind, weight_concentration_prior_type=prior, random_state=0, max_iter=3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em.fit(X)
        sk = SkBGM(n_components=k, covariance_type=kind, weight_concentration_prior_type=prior, warm_start=True, max_iter=1)
        sk.fit(X[: 2 * k])  # fitted once, so that the next fit is warm; its state is replaced below
    for name in ("weight_concentration_", "mean_precision_", "means_", "degrees_of_freedom_", "covariances_",
                 "precisions_cholesky_", "weights_", "precisions_", "lower_bound_"):
        setattr(sk, name, getattr(em, name))
    em.set_params(warm_start=True, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X)
        em.fit(X)
    return em, sk


def close(a, b, rtol=1e-8):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(b), 1e-3 * np.max(np.abs(b)))
    return np.max(np.abs(a - b) / scale) <= rtol


@pytest.mark.parametrize("prior", PRIORS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "blobs"])
def test_one_iteration_from_the_same_state_matches_scikit_learn(name, kind, prior):
    X = datasets()[name]
    em, sk = one_warm_iteration(X, kind, prior)
    assert close(em.lower_bound_, sk.lower_bound_), (em.lower_bound_, sk.lower_bound_)
    for attr in ("means_", "precisions_", "precisions_cholesky_", "degrees_of_freedom_", "mean_precision_", "weights_"):
        assert close(getattr(em, attr), getattr(sk, attr)), attr
    concentration = em.weight_concentration_, sk.weight_concentration_
    if prior == "dirichlet_process":
        assert close(concentration[0][0], concentration[1][0]) and close(concentration[0][1], concentration[1][1])
    else:
        assert close(*concentration)
    assert np.max(np.abs(em.predict_proba(X) - sk.predict_proba(X))) <= 1e-8
    assert close(em.score_samples(X), sk.score_samples(X))
    for attr in ("weight_concentration_prior_", "mean_precision_prior_", "mean_prior_", "degrees_of_freedom_prior_", "covariance_prior_"):
        assert close(getattr(em, attr), getattr(sk, attr)), attr


def test_the_dirichlet_process_switches_off_surplus_components():
    X = datasets()["blobs"]
    bgm = einmix.BayesianGaussianMixture(n_components=20, weight_concentration_prior=1e-3, max_iter=500, random_state=0).fit(X)
    assert np.sum(bgm.weights_ > 0.01) == 6


def test_weighted_rows_equal_repeated_rows():
    X = datasets()["iris"]
    counts = 1 + np.arange(len(X)) % 3
    base = einmix.BayesianGaussianMixture(n_components=3, random_state=0, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = base.fit(X)
    for kind in KINDS:
        runs = []
        for data, weights in ((X, counts.astype(float)), (np.repeat(X, counts, axis=0), None)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bgm = einmix.BayesianGaussianMixture(n_components=3, covariance_type=kind, random_state=0, max_iter=0)
                bgm.fit(data, sample_weight=weights)  # the priors and a start, from the same data
                bgm.set_params(warm_start=True, max_iter=1).fit(data, sample_weight=weights)
            runs.append(bgm)
        a, b = runs
        for attr in ("means_", "covariances_", "weights_", "mean_precision_", "covariance_prior_", "mean_prior_"):
            assert close(getattr(a, attr), getattr(b, attr), 1e-6), (kind, attr)
        assert close(a.lower_bound_, b.lower_bound_, 1e-6), kind
    assert start.n_iter_ == 2


def test_check_estimator_passes_every_check():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(einmix.BayesianGaussianMixture(), on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    assert not failed
    assert len(results) > 30


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(weight_concentration_prior=-1.0), "'weight_concentration_prior' parameter of BayesianGaussianMixture must be None or a float in the range \\(0.0, inf\\)"),
        (dict(mean_precision_prior=0.0), "'mean_precision_prior' parameter of BayesianGaussianMixture must be None or a float"),
        (dict(degrees_of_freedom_prior=np.nan), "'degrees_of_freedom_prior' parameter of BayesianGaussianMixture"),
        (dict(degrees_of_freedom_prior=0.5), "should be greater than 1, but got 0.500"),
        (dict(weight_concentration_prior_type="nope"), "'weight_concentration_prior_type' parameter of BayesianGaussianMixture must be a str among"),
        (dict(mean_prior=[0.0, 1.0, 2.0]), "should have the shape"),
        (dict(mean_prior=[np.nan, 1.0]), "NaN"),
        (dict(covariance_prior=[[1.0, 2.0], [2.0, 1.0]]), "'full covariance_prior' should be symmetric, positive-definite"),
        (dict(covariance_prior=[[1.0, 0.0, 0.0]]), "covariance_prior"),
        (dict(covariance_type="diag", covariance_prior=[1.0, -1.0]), "'diag covariance_prior' should be positive"),
        (dict(covariance_type="spherical", covariance_prior=-2.0), "'covariance_prior' parameter of BayesianGaussianMixture must be None, an array-like or a float"),
    ],
)
def test_bad_priors_are_errors_naming_the_parameter(params, message):
    X = datasets()["blobs"][:200]
    with pytest.raises(ValueError, match=message):
        einmix.BayesianGaussianMixture(n_components=2, **params).fit(X)


def test_score_takes_sample_weights():
    X = datasets()["iris"]
    bgm = einmix.BayesianGaussianMixture(n_components=3, random_state=0, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgm.fit(X)
    counts = 1 + np.arange(len(X)) % 4
    assert np.isclose(bgm.score(X, sample_weight=counts), bgm.score(np.repeat(X, counts, axis=0)), rtol=1e-12)

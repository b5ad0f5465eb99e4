"""``compute_dtype``: the opt-in single-precision products of both estimators."""

import warnings

import numpy as np
import pytest

from einmix import BayesianGaussianMixture, GaussianMixture


def clustered(n, d, k, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=5.0, size=(k, d))
    a = rng.normal(size=(k, d, d)) / np.sqrt(d) + np.eye(d)
    labels = rng.integers(0, k, size=n)
    return centres[labels] + np.einsum("nij,nj->ni", a[labels], rng.normal(size=(n, d)))


@pytest.mark.parametrize("estimator", [GaussianMixture, BayesianGaussianMixture])
@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_float32_fits_within_a_millionth_of_float64(estimator, kind):
    X = clustered(4_000, 40, 5, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        double = estimator(n_components=5, covariance_type=kind, random_state=0, max_iter=10, tol=0.0).fit(X)
        single = estimator(n_components=5, covariance_type=kind, random_state=0, max_iter=10, tol=0.0, compute_dtype=np.float32).fit(X)
    if kind == "tied":
        # tied's one product per chunk is not its cost: it stays f64 (bitwise the same fit).
        assert single.lower_bound_ == double.lower_bound_
        return
    assert single.lower_bound_ != double.lower_bound_  # the single-precision products ran
    assert abs(single.lower_bound_ - double.lower_bound_) <= 1e-6 * abs(double.lower_bound_)
    np.testing.assert_allclose(single.means_, double.means_, rtol=1e-4, atol=1e-4)


def test_float32_changes_nothing_below_the_crossover():
    X = clustered(3_000, 2, 4, seed=4)
    double = GaussianMixture(4, random_state=0).fit(X)
    single = GaussianMixture(4, random_state=0, compute_dtype="float32").fit(X)
    assert single.lower_bound_ == double.lower_bound_
    np.testing.assert_array_equal(single.means_, double.means_)


@pytest.mark.parametrize("estimator", [GaussianMixture, BayesianGaussianMixture])
@pytest.mark.parametrize("bad", [np.float16, "int64", None, "double precision", 32])
def test_compute_dtype_is_validated_like_scikit_learn_parameters(estimator, bad):
    X = clustered(100, 3, 2, seed=5)
    with pytest.raises(ValueError) as err:
        estimator(n_components=2, compute_dtype=bad).fit(X)
    assert str(err.value) == (
        f"The 'compute_dtype' parameter of {estimator.__name__} must be numpy.float64 or numpy.float32. "
        f"Got {bad!r} instead."
    )


def test_compute_dtype_is_a_parameter():
    gm = GaussianMixture(compute_dtype=np.float32)
    assert gm.get_params()["compute_dtype"] is np.float32
    assert GaussianMixture().compute_dtype is np.float64

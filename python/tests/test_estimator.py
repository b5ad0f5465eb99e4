"""The scikit-learn estimator contract, errors, threads and the documented examples."""

import doctest
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import einmix
from einmix import ConvergenceWarning, EinmixError, GaussianMixture, NotFittedError


def data(seed=0, n=200):
    rng = np.random.RandomState(seed)
    return np.r_[rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) + [6, 3]]


def test_check_estimator_passes_every_check():
    results = check_estimator(GaussianMixture(), on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    assert not failed
    assert len(results) > 30


def test_defaults_and_signature_match_sklearn():
    import inspect

    from sklearn.mixture import GaussianMixture as SkGM

    ours = inspect.signature(GaussianMixture.__init__).parameters
    theirs = inspect.signature(SkGM.__init__).parameters
    for name, p in theirs.items():
        assert name in ours
        assert ours[name].default == p.default or (p.default is None and ours[name].default is None)
        assert ours[name].kind == p.kind
    assert ours["n_threads"].kind == inspect.Parameter.KEYWORD_ONLY


def test_clone_pipeline_gridsearch_pickle():
    X = data()
    gm = clone(GaussianMixture(3, covariance_type="diag", random_state=0))
    assert gm.get_params()["covariance_type"] == "diag"
    pipe = make_pipeline(StandardScaler(), GaussianMixture(2, random_state=0)).fit(X)
    assert pipe.predict(X).shape == (len(X),)
    search = GridSearchCV(GaussianMixture(random_state=0), {"n_components": [1, 2, 3]}, cv=3).fit(X)
    assert search.best_params_["n_components"] in (2, 3)
    fitted = GaussianMixture(2, random_state=0).fit(X)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))


def test_fit_predict_equals_fit_then_predict():
    X = data(3)
    for kind in ["full", "tied", "diag", "spherical"]:
        a = GaussianMixture(4, covariance_type=kind, random_state=1, max_iter=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            labels = a.fit_predict(X)
        np.testing.assert_array_equal(labels, a.predict(X))


def test_not_fitted_and_errors():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        GaussianMixture().predict(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        GaussianMixture().fit(np.array([[np.nan, 1.0], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="Expected n_samples >= n_components"):
        GaussianMixture(5).fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianMixture(covariance_type="banana").fit(data())
    with pytest.raises(ValueError, match="sample_weight"):
        GaussianMixture(2).fit(data(), sample_weight=-np.ones(400))
    with pytest.raises(EinmixError, match="sample_weight"):
        GaussianMixture(2).fit(data(), sample_weight=np.r_[-1.0, np.ones(399)])
    with pytest.raises(ValueError, match="The parameter 'weights' should be normalized"):
        GaussianMixture(2, weights_init=[0.3, 0.3]).fit(data())
    with pytest.raises(ValueError, match="'full precision' should be symmetric, positive-definite"):
        bad = np.array([np.eye(2), -np.eye(2)])
        GaussianMixture(2, precisions_init=bad).fit(data())
    fitted = GaussianMixture(2, random_state=0).fit(data())
    with pytest.raises(ValueError, match="X has 3 features, but GaussianMixture is expecting 2"):
        fitted.score_samples(np.zeros((4, 3)))
    assert issubclass(EinmixError, ValueError)


def test_ill_defined_covariance_names_the_component():
    X = np.r_[np.zeros((10, 2)), np.ones((10, 2))]
    with pytest.raises(ValueError, match=r"ill-defined empirical covariance.*increase reg_covar.*The first: component \d+"):
        GaussianMixture(2, reg_covar=0.0, random_state=0).fit(X)


def test_convergence_warning_and_lower_bounds():
    X = data(4)
    with pytest.warns(ConvergenceWarning):
        gm = GaussianMixture(3, max_iter=1, random_state=0).fit(X)
    assert not gm.converged_ and gm.n_iter_ == 1 and len(gm.lower_bounds_) == 1
    gm = GaussianMixture(2, random_state=0).fit(X)
    assert gm.converged_ and gm.lower_bounds_[-1] == gm.lower_bound_


def test_warm_start_continues():
    X = data(5)
    one = GaussianMixture(2, random_state=0, max_iter=1, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one.fit(X)
        one.fit(X)
        two = GaussianMixture(2, random_state=0, max_iter=2).fit(X)
    np.testing.assert_allclose(one.means_, two.means_, rtol=1e-12)
    np.testing.assert_allclose(one.covariances_, two.covariances_, rtol=1e-12)


def test_threads_give_identical_results_and_dtypes_layouts_accepted():
    X = np.random.RandomState(0).normal(size=(20000, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = GaussianMixture(4, random_state=0, n_threads=1, max_iter=5, tol=0).fit(X)
        b = GaussianMixture(4, random_state=0, n_threads=2, max_iter=5, tol=0).fit(X)
    np.testing.assert_array_equal(a.means_, b.means_)
    assert a.lower_bound_ == b.lower_bound_
    Xf = np.asfortranarray(X[:500]).astype(np.float32)
    ro = X[:500].copy()
    ro.setflags(write=False)
    s1 = a.score_samples(Xf)
    s2 = a.score_samples(ro)
    np.testing.assert_allclose(s1, s2, rtol=1e-5)


def test_sample_reproduces_moments_and_is_repeatable():
    gm = GaussianMixture(1)
    gm.weights_ = np.array([1.0])
    gm.means_ = np.array([[1.0, 2.0]])
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    gm.covariances_ = cov[None]
    gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(cov))[None]
    gm.n_features_in_ = 2
    gm.random_state = 3
    X, y = gm.sample(200000)
    assert X.shape == (200000, 2) and (y == 0).all()
    np.testing.assert_allclose(X.mean(axis=0), [1.0, 2.0], atol=0.02)
    np.testing.assert_allclose(np.cov(X.T), cov, atol=0.03)
    np.testing.assert_array_equal(gm.sample(5)[0], gm.sample(5)[0])
    with pytest.raises(ValueError, match="n_samples"):
        gm.sample(0)


def test_verbose_prints_progress(capsys):
    GaussianMixture(2, random_state=0, verbose=2, verbose_interval=1).fit(data())
    out = capsys.readouterr().out
    assert "Initialization 0" in out and "Iteration 1" in out and "ll change" in out
    assert "Initialization converged" in out


def test_docstring_examples_run():
    from einmix import _gaussian_mixture

    for module in (einmix, _gaussian_mixture):
        failed, attempted = doctest.testmod(module, raise_on_error=False)
        assert attempted > 0 and failed == 0


def test_float32_and_strided_inputs_are_used_without_a_copy():
    import tracemalloc

    rng = np.random.RandomState(3)
    X64 = np.r_[rng.normal(size=(3000, 2)), rng.normal(size=(3000, 2)) + 5]
    X32 = X64.astype(np.float32)
    gm32 = GaussianMixture(2, random_state=0).fit(X32)
    # Widening f32 -> f64 is exact, so the fit equals the one on the widened array, bit for bit.
    gm64 = GaussianMixture(2, random_state=0).fit(X32.astype(np.float64))
    # The fitted arrays take the input's dtype, as in scikit-learn: the float64 results rounded once.
    assert gm32.means_.dtype == np.float32 and gm32.covariances_.dtype == np.float32
    np.testing.assert_array_equal(gm32.means_, gm64.means_.astype(np.float32))
    assert gm32.lower_bound_ == gm64.lower_bound_
    assert gm32.score_samples(X32).dtype == np.float32
    assert gm64.score_samples(X32.astype(np.float64)).dtype == np.float64
    # Fortran order and strided views are read in place and give the contiguous result.
    wide = np.zeros((6000, 5))
    wide[:, 1] = X64[:, 0]
    wide[:, 3] = X64[:, 1]
    strided = wide[:, 1::2][:, :2]
    for layout in (np.asfortranarray(X64), strided):
        other = GaussianMixture(2, random_state=0).fit(layout)
        np.testing.assert_array_equal(other.means_, GaussianMixture(2, random_state=0).fit(X64).means_)
    # No copy of a large float32 array is made on the Python side: a float64 copy alone would
    # take 2x the array's bytes of traced numpy memory.
    big = rng.normal(size=(2_000_000, 2)).astype(np.float32)
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GaussianMixture(3, random_state=0, max_iter=2, tol=0).fit(big)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < big.nbytes, (peak, big.nbytes)


def test_verbose_true_is_accepted(capsys):
    GaussianMixture(2, random_state=0, verbose=True, verbose_interval=1).fit(data())
    assert "Iteration 1" in capsys.readouterr().out


def test_precisions_init_symmetry_tolerance_matches_sklearn():
    from sklearn.mixture import GaussianMixture as SkGM

    X = data(7)
    nearly = np.array([[2.0, 0.5], [0.5 + 1e-8, 1.0]])[None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(1, precisions_init=nearly, max_iter=1).fit(X)
        ref = SkGM(1, precisions_init=nearly, max_iter=1).fit(X)
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-10)
    clearly = np.array([[2.0, 0.5], [0.6, 1.0]])[None]
    with pytest.raises(ValueError, match="should be symmetric, positive-definite"):
        GaussianMixture(1, precisions_init=clearly).fit(X)

"""Story: ``GaussianMixture(background=...)`` adds a uniform background component (issue 12):
one more term of every point's density, as a plain one-point-at-a-time reference computes it,
its weight learned by EM, and what a microscopist's image needs to fit without a threshold."""

import math

import numpy as np
import pytest

import einmix
from einmix import EinmixError, GaussianMixture


def _floor_and_clusters(seed=0, n_floor=4000):
    rng = np.random.default_rng(seed)
    a = rng.multivariate_normal([20, 30], [[9, 3], [3, 4]], 3000)
    b = rng.multivariate_normal([60, 70], [[4, -2], [-2, 6]], 3000)
    return np.vstack([a, b, rng.uniform(0, 100, (n_floor, 2))])


def _dense_covariances(gm):
    k, d = gm.means_.shape
    c = gm.covariances_
    return {
        "full": lambda: [c[i] for i in range(k)],
        "tied": lambda: [c] * k,
        "diag": lambda: [np.diag(c[i]) for i in range(k)],
        "spherical": lambda: [np.eye(d) * c[i] for i in range(k)],
    }[gm.covariance_type]()


def _reference_terms(gm, x):
    """Each Gaussian's log(weight * density) and the background's log(weight / volume), one
    point at a time with explicit inverses and determinants (no einmix code)."""
    d = len(x)
    terms = []
    for w, mu, cov in zip(gm.weights_, gm.means_, _dense_covariances(gm)):
        diff = x - mu
        q = float(diff @ np.linalg.inv(cov) @ diff)
        terms.append(math.log(w) - 0.5 * (d * math.log(2 * math.pi) + math.log(np.linalg.det(cov)) + q))
    lo, hi = gm.background_lower_, gm.background_upper_
    inside = all(lo[j] <= x[j] <= hi[j] for j in range(d))
    volume = float(np.prod(hi - lo))
    terms.append(math.log(gm.background_weight_) - math.log(volume) if inside else -math.inf)
    return terms


def _log_sum_exp(terms):
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_scores_match_a_plain_reference_to_1e_12(kind):
    X = _floor_and_clusters(1)
    gm = GaussianMixture(3, covariance_type=kind, background=True, random_state=0).fit(X)
    # Points inside and outside the box, near the clusters and far.
    probe = np.vstack([X[::97], [[-5.0, 50.0], [150.0, 150.0], [20.0, 30.0]]])
    scores, proba, labels = gm.score_samples(probe), gm.predict_proba(probe), gm.predict(probe)
    assert proba.shape == (len(probe), 4)
    seen_background = False
    for i, x in enumerate(probe):
        terms = _reference_terms(gm, x)
        total = _log_sum_exp(terms)
        assert abs(scores[i] - total) <= 1e-12 * max(1.0, abs(total))
        expected = np.exp(np.array(terms) - total)
        np.testing.assert_allclose(proba[i], expected, rtol=1e-12, atol=1e-300)
        best = int(np.argmax(terms))
        assert labels[i] == (-1 if best == 3 else best)
        seen_background |= best == 3
    assert seen_background


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_one_em_step_matches_a_plain_reference(kind):
    X = _floor_and_clusters(2)
    w = 0.5 + (np.arange(len(X)) % 4) * 0.5
    gm = GaussianMixture(3, covariance_type=kind, background=True, random_state=0, max_iter=5, tol=0.0)
    with pytest.warns(einmix.ConvergenceWarning):
        gm.fit(X, sample_weight=w)
    resp = np.array([np.exp(np.array(t) - _log_sum_exp(t)) for t in (_reference_terms(gm, x) for x in X)])
    gm.set_params(warm_start=True, max_iter=1)
    with pytest.warns(einmix.ConvergenceWarning):
        gm.fit(X, sample_weight=w)
    guard = 10 * np.finfo(float).eps
    nk = (resp * w[:, None]).sum(0) + guard
    np.testing.assert_allclose(gm.weights_, nk[:3] / nk.sum(), rtol=1e-12)
    assert abs(gm.background_weight_ - nk[3] / nk.sum()) <= 1e-12
    means = (resp[:, :3] * w[:, None]).T @ X / nk[:3, None]
    np.testing.assert_allclose(gm.means_, means, rtol=1e-12)


@pytest.mark.filterwarnings("ignore::einmix.ConvergenceWarning")
def test_weighted_rows_equal_repeated_rows_and_threads_change_nothing():
    X = _floor_and_clusters(3, n_floor=1000)[::5]
    counts = 1 + np.arange(len(X)) % 3
    # From the same given means, so that both start alike; the iterations then agree.
    kw = dict(n_components=2, background=True, means_init=[[25.0, 25.0], [55.0, 75.0]], tol=0.0, max_iter=50)
    a = GaussianMixture(**kw).fit(X, sample_weight=counts.astype(float))
    b = GaussianMixture(**kw).fit(np.repeat(X, counts, axis=0))
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-10)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-10)
    assert abs(a.background_weight_ - b.background_weight_) < 1e-12
    kw["random_state"] = 0
    one = GaussianMixture(**kw, n_threads=1).fit(X, sample_weight=counts.astype(float))
    two = GaussianMixture(**kw, n_threads=2).fit(X, sample_weight=counts.astype(float))
    assert one.means_.tobytes() == two.means_.tobytes()
    assert one.background_weight_ == two.background_weight_


def test_sampling_counting_and_a_given_region():
    X = _floor_and_clusters(4)
    gm = GaussianMixture(2, background=([0, 0], [100, 100]), random_state=0).fit(X)
    np.testing.assert_array_equal(gm.background_lower_, [0, 0])
    assert abs(gm.weights_.sum() + gm.background_weight_ - 1) < 1e-12
    plain = GaussianMixture(2, random_state=0).fit(X)
    assert gm._n_parameters() == plain._n_parameters() + 1
    n = len(X)
    assert gm.bic(X) == pytest.approx(-2 * gm.score(X) * n + (plain._n_parameters() + 1) * np.log(n))
    s, labels = gm.sample(2000)
    floor = s[labels == -1]
    assert abs(len(floor) / 2000 - gm.background_weight_) < 0.05
    assert floor.min() >= 0 and floor.max() <= 100
    # Turning it off again gives scikit-learn's model and attributes.
    gm.set_params(background=None).fit(X)
    assert not hasattr(gm, "background_weight_") and gm.predict_proba(X[:2]).shape == (2, 2)


def _spot_errors(gm, truth):
    """Largest error of the means and of the covariances (relative to each spot's largest
    entry), the components matched to the spots by their first coordinate."""
    order = np.argsort(gm.means_[:, 0])
    mean_err = max(np.abs(gm.means_[o] - mu).max() for o, (mu, _, _) in zip(order, truth))
    cov_err = max(np.abs(gm.covariances_[o] - cov).max() / np.abs(cov).max() for o, (_, cov, _) in zip(order, truth))
    return mean_err, cov_err


def test_an_image_on_a_poisson_floor_needs_no_threshold():
    """Pixels as points weighted by intensity: two Gaussian spots on a uniform floor with
    Poisson noise. With the background, the spots' means and covariances come back and the
    floor's share of the total intensity to within 1%; without it, the fit is far worse."""
    rng = np.random.default_rng(5)
    h, w = 96, 128
    rows, cols = np.mgrid[0:h, 0:w]
    pts = np.column_stack([rows.ravel(), cols.ravel()]).astype(float)
    truth = [([30.0, 40.0], np.array([[16.0, 6.0], [6.0, 9.0]]), 60_000.0), ([60.0, 90.0], np.array([[9.0, -4.0], [-4.0, 12.0]]), 40_000.0)]
    floor_level = 6.0
    expected = np.full(h * w, floor_level)
    for mu, cov, total in truth:
        d = pts - mu
        q = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
        expected += total * np.exp(-0.5 * q) / (2 * np.pi * np.sqrt(np.linalg.det(cov)))
    image = rng.poisson(expected).astype(float)
    floor_share = floor_level * h * w / expected.sum()
    # Each pixel is a unit square: the floor is uniform over the image's extent.
    region = ([-0.5, -0.5], [h - 0.5, w - 0.5])
    with_bg = GaussianMixture(2, background=region, random_state=0, tol=1e-9, max_iter=500).fit(pts, sample_weight=image)
    without = GaussianMixture(2, random_state=0, tol=1e-9, max_iter=500).fit(pts, sample_weight=image)
    assert abs(with_bg.background_weight_ - floor_share) < 0.01, (with_bg.background_weight_, floor_share)

    mean_err, cov_err = _spot_errors(with_bg, truth)
    assert mean_err < 0.1 and cov_err < 0.05, (mean_err, cov_err)  # a tenth of a pixel, 5%
    bad_mean, bad_cov = _spot_errors(without, truth)
    assert bad_mean > 10 * mean_err and bad_cov > 10 * cov_err, (bad_mean, bad_cov, mean_err, cov_err)


def test_bad_background_options_are_clear_errors():
    X = _floor_and_clusters(6)[:500]
    with pytest.raises(ValueError, match="The 'background' parameter of GaussianMixture must be None, a bool, 'bbox'"):
        GaussianMixture(2, background="box").fit(X)
    with pytest.raises(ValueError, match=r"corners must have shape \(2,\)"):
        GaussianMixture(2, background=([0], [1])).fit(X)
    with pytest.raises(EinmixError, match=r"feature 1: the upper corner \(0\) must exceed the lower \(5\)"):
        GaussianMixture(2, background=([0, 5], [100, 0])).fit(X)
    flat = np.column_stack([X[:, 0], np.ones(len(X))])
    with pytest.raises(EinmixError, match="bounding box has zero width along feature 1"):
        GaussianMixture(2, background=True).fit(flat)
    with pytest.raises(ValueError, match="The 'background' parameter of GaussianMixture must be None"):
        GaussianMixture(2, background="box").partial_fit(X)


def test_a_3d_stack_with_anisotropic_voxels():
    """The same in 3-D, with voxels 2 units deep and 0.5 wide (a z-stack's usual anisotropy),
    fitted by the library on voxels weighted by counts (the image pipeline is 2-D for now)."""
    rng = np.random.default_rng(9)
    voxel = np.array([2.0, 0.5, 0.5])
    shape = (16, 48, 48)
    idx = np.indices(shape).reshape(3, -1).T.astype(float)
    pts = idx * voxel  # physical (z, row, col)
    truth = [
        (np.array([12.0, 8.0, 9.0]), np.array([[6.0, 1.0, 0.5], [1.0, 2.0, 0.6], [0.5, 0.6, 1.5]]), 40_000.0),
        (np.array([20.0, 16.0, 15.0]), np.array([[5.0, -1.0, 0.0], [-1.0, 1.5, -0.4], [0.0, -0.4, 2.0]]), 30_000.0),
    ]
    floor = 3.0
    volume = float(np.prod(voxel))
    expected = np.full(len(pts), floor)
    for mu, cov, photons in truth:
        d = pts - mu
        q = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
        expected += photons * volume * np.exp(-0.5 * q) / np.sqrt((2 * np.pi) ** 3 * np.linalg.det(cov))
    counts = rng.poisson(expected).astype(float)
    share = floor * len(pts) / expected.sum()
    region = (list(-0.5 * voxel), list((np.array(shape) - 0.5) * voxel))
    kw = dict(n_components=2, random_state=0, tol=1e-9, max_iter=500, means_init=[[11, 9, 8], [21, 15, 16]])
    with_bg = GaussianMixture(background=region, **kw).fit(pts, sample_weight=counts)
    without = GaussianMixture(**kw).fit(pts, sample_weight=counts)
    assert abs(with_bg.background_weight_ - share) < 0.01, (with_bg.background_weight_, share)

    mean_err, cov_err = _spot_errors(with_bg, truth)
    assert mean_err < 0.1 and cov_err < 0.05, (mean_err, cov_err)  # a tenth of a unit, 5 %
    bad_mean, bad_cov = _spot_errors(without, truth)
    assert bad_mean > 5 * mean_err and bad_cov > 10 * cov_err, (bad_mean, bad_cov, mean_err, cov_err)


def test_partial_fit_learns_the_background_over_a_stream():
    """Online EM with the floor: the region is fixed by the first batch (here given), the
    weight's running share is learned, the state survives pickling, and a Dask array's stream
    takes the whole array's bounding box."""
    import pickle

    rng = np.random.default_rng(5)
    X = _floor_and_clusters(7, n_floor=8000)
    X = X[rng.permutation(len(X))]
    floor_share = 8000 / len(X)
    gm = GaussianMixture(2, background=([0, 0], [100, 100]), random_state=0)
    batches = np.array_split(X, 28)
    for b in batches[:14]:
        gm.partial_fit(b)
    copy = pickle.loads(pickle.dumps(gm))
    for b in batches[14:]:
        gm.partial_fit(b)
        copy.partial_fit(b)
    np.testing.assert_array_equal(gm.means_, copy.means_)
    assert gm.background_weight_ == copy.background_weight_
    assert abs(gm.background_weight_ - floor_share) < 0.02, (gm.background_weight_, floor_share)
    order = np.argsort(gm.means_[:, 0])
    np.testing.assert_allclose(gm.means_[order], [[20, 30], [60, 70]], atol=0.4)
    np.testing.assert_array_equal(gm.background_lower_, [0, 0])
    assert set(np.unique(gm.predict(X))) == {-1, 0, 1}
    # The background cannot be switched off (or on) in the middle of a stream.
    switched = pickle.loads(pickle.dumps(gm))
    switched.set_params(background=None)
    with pytest.raises(ValueError, match="The 'background' parameter changed after the stream started"):
        switched.partial_fit(batches[0])
    # A fit starts the stream over; the next partial_fit starts a new one.
    gm.fit(X[:3000])
    assert not hasattr(gm, "_online_state")

    da = pytest.importorskip("dask.array")
    stream = GaussianMixture(2, background=True, random_state=0)
    stream.partial_fit(da.from_array(X, chunks=2000))
    np.testing.assert_allclose(stream.background_lower_, X.min(axis=0))
    np.testing.assert_allclose(stream.background_upper_, X.max(axis=0))
    assert abs(stream.background_weight_ - floor_share) < 0.05

"""Story: ``einmix.dask`` fits a Dask array as the in-memory estimator fits the same numbers.

Every cluster here is local (loopback only) and closed by its context manager. From the same
initial parameters the distributed fit equals ``einmix.GaussianMixture.fit`` to 1e-10
relative, for every chunking (one chunk, uneven chunks, a chunk with fewer rows than
components), for float32 and read-only blocks, and when a worker dies mid-fit.
"""

import os

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import einmix  # noqa: E402
from einmix import _einmix  # noqa: E402
from einmix import dask as edask  # noqa: E402

KINDS = ["full", "tied", "diag", "spherical"]


def blobs(n=6000, k=5, d=2, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0, 40, (k, d))
    return centers[rng.integers(0, k, n)] + rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, (n, 1))


def start_of(X, k, kind, seed=1):
    """Initial parameters, from a rough fit (so both fits start from the same place)."""
    gm = einmix.GaussianMixture(k, covariance_type=kind, max_iter=2, random_state=seed).fit(X[::7])
    return dict(weights_init=gm.weights_, means_init=gm.means_, precisions_init=gm.precisions_)


def rel(a, b):
    a, b = np.ravel(a), np.ravel(b)
    scale = np.abs(b).max()
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-3 * scale)))


def assert_same(a, b, tol=1e-10):
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert rel(getattr(a, name), getattr(b, name)) <= tol, (name, rel(getattr(a, name), getattr(b, name)))
    assert abs(a.lower_bound_ - b.lower_bound_) <= tol * abs(b.lower_bound_)
    assert a.n_iter_ == b.n_iter_


@pytest.fixture(scope="module")
def client():
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as c:
        yield c


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_distributed_fit_equals_the_local_fit(client, kind, weighted):
    X = blobs()
    w = np.random.default_rng(3).uniform(0.2, 3.0, len(X)) if weighted else None
    start = start_of(X, 5, kind)
    local = einmix.GaussianMixture(5, covariance_type=kind, tol=1e-6, **start).fit(X, sample_weight=w)
    Xd = da.from_array(X, chunks=(1100, 2))
    wd = None if w is None else da.from_array(w, chunks=1100)
    got = edask.fit(Xd, wd, n_components=5, covariance_type=kind, tol=1e-6, **start)
    assert_same(got, local)


def test_the_result_does_not_depend_on_the_chunking(client):
    X = blobs(n=4000, k=6)
    start = start_of(X, 6, "full")
    local = einmix.GaussianMixture(6, tol=1e-6, **start).fit(X)
    # One chunk; uneven chunks; a chunk with fewer rows than components (3 < 6); an empty one.
    for chunks in [(4000,), (1000, 3, 997, 2000), (3, 3997), (0, 1500, 2500)]:
        got = edask.fit(da.from_array(X, chunks=(chunks, 2)), n_components=6, tol=1e-6, **start)
        assert_same(got, local)


def test_float32_and_read_only_blocks(client):
    X = blobs(n=3000).astype(np.float32)
    X.setflags(write=False)
    start = start_of(X.astype(np.float64), 5, "diag")
    local = einmix.GaussianMixture(5, covariance_type="diag", tol=1e-6, **start).fit(X.astype(np.float64))
    got = edask.fit(da.from_array(X, chunks=700), n_components=5, covariance_type="diag", tol=1e-6, **start)
    assert_same(got, local)
    # The kernel reads float32, strided and read-only blocks in place, as their float64 values.
    params = local._params_tuple()
    ref = _einmix.block_statistics(np.ascontiguousarray(X[::2], dtype=np.float64), None, params[0], params[1:])
    for block in (X[::2], np.asfortranarray(X)[::2]):
        assert np.array_equal(_einmix.block_statistics(block, None, params[0], params[1:]), ref)


def test_kmeans_parallel_and_sample_initialisations_fit_well(client):
    X = blobs(n=8000, k=5)
    local = einmix.GaussianMixture(5, random_state=0).fit(X)
    Xd = da.from_array(X, chunks=1500)
    for init in ("kmeans", "sample", "k-means++"):
        gm = edask.fit(Xd, n_components=5, init_params=init, random_state=0)
        assert gm.converged_
        assert gm.lower_bound_ >= local.lower_bound_ - 0.05, (init, gm.lower_bound_, local.lower_bound_)
    # Deterministic given the seed and the chunking.
    again = edask.fit(Xd, n_components=5, random_state=0)
    assert np.array_equal(again.means_, edask.fit(Xd, n_components=5, random_state=0).means_)


def test_the_estimator_takes_dask_arrays_and_scores_lazily(client):
    X = blobs(n=5000)
    Xd = da.from_array(X, chunks=1200)
    gm = einmix.GaussianMixture(5, random_state=2).fit(Xd)
    labels = gm.predict(Xd)
    assert isinstance(labels, da.Array) and labels.chunks == (Xd.chunks[0],)
    assert np.array_equal(labels.compute(), gm.predict(X))
    proba = gm.predict_proba(Xd)
    assert proba.shape == (5000, 5)
    np.testing.assert_allclose(proba.compute(), gm.predict_proba(X), rtol=0, atol=1e-13)
    np.testing.assert_allclose(gm.score_samples(Xd).compute(), gm.score_samples(X), rtol=1e-13)
    assert abs(gm.score(Xd) - gm.score(X)) <= 1e-12 * abs(gm.score(X))
    # float32 blocks score as their float64 values.
    X32 = X.astype(np.float32)
    assert np.array_equal(gm.predict(da.from_array(X32, chunks=999)).compute(), gm.predict(X32.astype(np.float64)))


def test_without_a_client_the_threaded_scheduler_is_used():
    X = blobs(n=2000)
    start = start_of(X, 5, "spherical")
    local = einmix.GaussianMixture(5, covariance_type="spherical", tol=1e-6, **start).fit(X)
    got = edask.fit(da.from_array(X, chunks=600), n_components=5, covariance_type="spherical", tol=1e-6, **start)
    assert_same(got, local)


def test_bad_input_is_refused():
    X = da.from_array(blobs(n=100), chunks=50)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        edask.fit(X[:3], n_components=5)
    with pytest.raises(ValueError, match="init_params"):
        edask.fit(X, n_components=2, init_params="nope")
    bad = blobs(n=100)
    bad[7, 1] = np.nan
    with pytest.raises(einmix.EinmixError, match="NaN"):
        edask.fit(da.from_array(bad, chunks=50), n_components=2, init_params="sample")


@pytest.mark.filterwarnings("ignore:Best performing initialization did not converge")
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_a_worker_killed_mid_fit_is_survived(monkeypatch):
    X = blobs(n=20000, k=5)
    start = start_of(X, 5, "full")
    local = einmix.GaussianMixture(5, tol=0.0, max_iter=8, **start).fit(X)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        fit_partitions = _einmix.fit_partitions
        calls, victims = [], []

        def fit_partitions_killing(initial_mixture, summed_statistics, **kwargs):
            # The core's EM driver calls back for each pass over the blocks; the third one
            # first loses a worker.
            def statistics_then_kill(params, cull):
                calls.append(1)
                if len(calls) == 3:
                    # Kill the worker that holds the most blocks; its nanny starts a fresh one.
                    held = client.has_what()
                    victim = max(held, key=lambda w: len(held[w]))
                    assert len(held[victim]) > 0
                    victims.append(victim)
                    try:
                        client.run(os._exit, 1, workers=[victim])
                    except Exception:  # noqa: BLE001 - the connection dies with the worker
                        pass
                return summed_statistics(params, cull)

            return fit_partitions(initial_mixture, statistics_then_kill, **kwargs)

        monkeypatch.setattr(_einmix, "fit_partitions", fit_partitions_killing)
        got = edask.fit(da.from_array(X, chunks=2500), n_components=5, tol=0.0, max_iter=8, **start)
        # The killed worker is gone (its blocks were recomputed on the others).
        assert victims and victims[0] not in client.has_what()
    # All 8 EM iterations (M-steps) ran, each after at least one pass.
    assert got.n_iter_ == 8 and len(got.lower_bounds_) == 8 and len(calls) >= 8
    assert_same(got, local)


def test_statistics_of_the_wrong_length_from_an_engine_are_an_error_not_a_panic():
    """Regression (issue 11): the core's driver checks what the engine hands back."""
    X = blobs(n=2000, k=3)
    start = einmix.GaussianMixture(3, max_iter=0, init_params="k-means++", random_state=0).fit(X)
    model = dict(
        weights=start.weights_, means=start.means_, covariances=start.covariances_,
        precisions_cholesky=start.precisions_cholesky_,
    )
    settings = (3, "full", 1e-3, 1e-6, 10, 1)
    with pytest.raises(einmix.EinmixError, match="statistics vector must have the layout's length"):
        _einmix.fit_partitions(lambda run: model, lambda params, cull: np.zeros(5), n_features=2, settings=settings)
    with pytest.raises(ZeroDivisionError):
        # The engine's own failure comes through as it is.
        _einmix.fit_partitions(lambda run: model, lambda params, cull: 1 / 0, n_features=2, settings=settings)


@pytest.mark.parametrize("kind", KINDS)
def test_a_background_fits_on_dask_as_in_memory(client, kind):
    """Issue 12: the background component on the Dask path (its box from one pass over the
    data, its count in the block statistics) gives the in-memory fit, and scores alike."""
    rng = np.random.default_rng(4)
    X = np.vstack([blobs(n=4000), rng.uniform(-5, 45, (1500, 2))])
    w = rng.uniform(0.5, 2.0, len(X))
    start = start_of(X, 5, kind)
    kw = dict(covariance_type=kind, tol=1e-6, background=True, **start)
    local = einmix.GaussianMixture(5, **kw).fit(X, sample_weight=w)
    got = einmix.GaussianMixture(5, **kw).fit(da.from_array(X, chunks=(1300, 2)), sample_weight=da.from_array(w, chunks=1300))
    assert_same(got, local)
    np.testing.assert_array_equal(got.background_lower_, local.background_lower_)
    assert abs(got.background_weight_ - local.background_weight_) <= 1e-9
    Xd = da.from_array(X, chunks=1100)
    labels = got.predict(Xd).compute()
    assert np.array_equal(labels, got.predict(X)) and (labels == -1).any()
    assert got.predict_proba(Xd).shape == (len(X), 6)
    np.testing.assert_allclose(got.predict_proba(Xd).compute(), got.predict_proba(X), rtol=0, atol=1e-13)
    np.testing.assert_allclose(got.score_samples(Xd).compute(), got.score_samples(X), rtol=1e-13)

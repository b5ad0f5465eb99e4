"""Story: ``GaussianMixture.partial_fit`` learns from a stream as a batch fit does (issue 14)."""

import copy
import pickle

import numpy as np
import pytest

import einmix


def mixture_stream(n_batches=100, rows=1000, k=5, d=3, seed=0):
    """Batches and held-out points from a known mixture of well-separated components."""
    rng = np.random.default_rng(seed)
    means = rng.uniform(-5, 5, size=(k, d))
    factors = [np.linalg.qr(rng.normal(size=(d, d)))[0] * rng.uniform(0.5, 1.5, size=d) for _ in range(k)]
    weights = rng.uniform(0.5, 1.5, size=k)
    weights /= weights.sum()

    def draw(n):
        labels = rng.choice(k, size=n, p=weights)
        z = rng.normal(size=(n, d))
        return means[labels] + np.einsum("nij,nj->ni", np.array(factors)[labels], z)

    return [draw(rows) for _ in range(n_batches)], draw(20_000)


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_one_pass_is_within_five_millinats_of_the_batch_fit(kind):
    batches, held_out = mixture_stream(seed=3)
    batch = einmix.GaussianMixture(5, covariance_type=kind, random_state=0, n_init=3).fit(np.vstack(batches))
    online = einmix.GaussianMixture(5, covariance_type=kind, random_state=0, n_init=3)
    for x in batches:
        online.partial_fit(x)
    assert online.n_iter_ == 100 and not online.converged_
    gap = batch.score(held_out) - online.score(held_out)
    assert gap <= 0.005, f"{kind}: {gap}"


def test_fitted_attributes_are_valid_after_every_batch_and_fit_starts_over():
    batches, held_out = mixture_stream(n_batches=5, rows=400, seed=1)
    gm = einmix.GaussianMixture(5, random_state=0)
    for i, x in enumerate(batches):
        assert gm.partial_fit(x) is gm
        assert gm.n_features_in_ == 3 and gm.n_iter_ == i + 1
        assert gm.predict(held_out[:10]).shape == (10,)
        assert np.isfinite(gm.score(held_out)) and np.isfinite(gm.lower_bound_)
        np.testing.assert_allclose(gm.weights_.sum(), 1.0)
    with pytest.raises(ValueError, match="X has 2 features, but GaussianMixture is expecting 3 features"):
        gm.partial_fit(batches[0][:, :2])
    gm.fit(np.vstack(batches))
    gm.partial_fit(batches[0])
    assert gm.n_iter_ == 1, "a full fit starts the stream over"


def test_bad_batches_leave_the_estimator_as_it_was():
    batches, _ = mixture_stream(n_batches=2, rows=300, seed=2)
    fresh = einmix.GaussianMixture(5, random_state=0)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        fresh.partial_fit(batches[0][:3])
    assert not hasattr(fresh, "means_") and not hasattr(fresh, "n_features_in_")
    gm = einmix.GaussianMixture(5, random_state=0).partial_fit(batches[0])
    before = copy.deepcopy(gm.__dict__)
    bad = batches[1].copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        gm.partial_fit(bad)
    assert before.keys() == gm.__dict__.keys()
    for key, value in before.items():
        after = gm.__dict__[key]
        if isinstance(value, tuple):  # the online state
            assert all(np.array_equal(a, b) for a, b in zip(value, after)), key
        else:
            assert np.array_equal(value, after) if isinstance(value, np.ndarray) else value == after, key
    with pytest.raises(ValueError, match="learning_decay"):
        einmix.GaussianMixture(5, learning_decay=0.5).partial_fit(batches[0])
    with pytest.raises(ValueError, match="learning_offset"):
        einmix.GaussianMixture(5, learning_offset=-1.0).partial_fit(batches[0])


def test_a_weighted_step_equals_the_step_with_repeated_rows():
    batches, _ = mixture_stream(n_batches=2, rows=500, seed=4)
    gm = einmix.GaussianMixture(5, covariance_type="full", random_state=0).partial_fit(batches[0])
    counts = 1 + np.arange(500) % 3
    weighted = copy.deepcopy(gm).partial_fit(batches[1], sample_weight=counts.astype(float))
    repeated = copy.deepcopy(gm).partial_fit(np.repeat(batches[1], counts, axis=0))
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(weighted, name), getattr(repeated, name), rtol=1e-9, atol=1e-12)


def test_the_stream_survives_pickling():
    batches, _ = mixture_stream(n_batches=6, rows=400, seed=5)
    straight = einmix.GaussianMixture(5, random_state=0)
    for x in batches:
        straight.partial_fit(x)
    resumed = einmix.GaussianMixture(5, random_state=0)
    for x in batches[:3]:
        resumed.partial_fit(x)
    resumed = pickle.loads(pickle.dumps(resumed))
    for x in batches[3:]:
        resumed.partial_fit(x)
    np.testing.assert_array_equal(resumed.means_, straight.means_)
    np.testing.assert_array_equal(resumed.covariances_, straight.covariances_)


def test_a_dask_array_is_one_pass_over_its_blocks():
    da = pytest.importorskip("dask.array")
    batches, _ = mixture_stream(n_batches=8, rows=500, seed=6)
    X = np.vstack(batches)
    by_hand = einmix.GaussianMixture(5, random_state=0)
    for x in batches:
        by_hand.partial_fit(x)
    streamed = einmix.GaussianMixture(5, random_state=0).partial_fit(da.from_array(X, chunks=(500, 3)))
    assert streamed.n_iter_ == 8
    np.testing.assert_array_equal(streamed.means_, by_hand.means_)

"""The Dask engine behind :mod:`einmix.dask` and ``GaussianMixture.fit`` on Dask arrays: the
partition plumbing (persisted row blocks, k-means|| and sampled initialisations, tree-summed
block statistics, lazy scoring). The EM loop itself is the core's driver
(``_einmix.fit_partitions``); see :mod:`einmix.dask` for the user's view.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as e:  # pragma: no cover - exercised only without dask
    raise ImportError("einmix.dask needs dask: pip install 'einmix[dask]' (or dask[array] distributed)") from e

from . import _einmix
from ._common import ConvergenceWarning, _seed_from


_CULL = ("full", "tied", "diag", "spherical")


def is_dask_collection(X) -> bool:
    """Whether ``X`` is a Dask array (without importing anything else)."""
    return isinstance(X, da.Array)


# -- what runs on the workers, one block at a time ----------------------------------------
def _prepare(x, w, sort):
    """A block as the kernels read it: float32/float64 kept as they are (no copy), anything
    else widened to float64; rows in Morton order when ``sort`` (culling then pays)."""
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    if w is not None:
        w = np.ascontiguousarray(w, dtype=np.float64)
    if sort and x.shape[0] > 256:
        order = _einmix.spatial_order(x)
        x = x[order]
        w = None if w is None else w[order]
    return x, w


def _statistics(block, kind, params, cull, background=None):
    x, w = block
    return _einmix.block_statistics(x, w, kind, params, cull, background)


def _hard_statistics(block, kind, centers):
    x, w = block
    return _einmix.hard_statistics(x, w, kind, centers)


def _block_weight(block):
    x, w = block
    return float(x.shape[0]) if w is None else float(w.sum())


def _row_at(block, u):
    x, w = block
    return np.asarray(x[_einmix.weighted_row(x.shape[0], w, u)], dtype=np.float64)[None, :]


def _min_d2(block, centers, previous):
    return _einmix.min_sq_distances(block[0], centers, previous)


def _cost(block, d2):
    w = block[1]
    return np.array([float(d2.sum() if w is None else (w * d2).sum())])


def _sample(block, d2, oversampling, cost, seed, index, round_):
    x, w = block
    return _einmix.sample_candidates(x, w, d2, oversampling, cost, seed, index, round_)


def _candidate_weights(block, candidates):
    x, w = block
    return _einmix.candidate_weights(x, w, candidates)


def _uniform_sample(block, fraction, seed, index):
    x, w = block
    keep = np.random.default_rng([seed, index]).random(x.shape[0]) < fraction
    return np.asarray(x[keep], dtype=np.float64), (None if w is None else w[keep])


def _sum(*parts):
    # A fixed association (left to right), so the sum depends only on the graph.
    out = np.array(parts[0], dtype=np.float64, copy=True)
    for p in parts[1:]:
        out += p
    return out


def _tree_sum(parts, split_every):
    parts = list(parts)
    while len(parts) > 1:
        parts = [dask.delayed(_sum, pure=True)(*parts[i : i + split_every]) for i in range(0, len(parts), split_every)]
    return parts[0]


# -- the client's side --------------------------------------------------------------------
def _row_blocks(X, sample_weight):
    """``X`` with whole rows per block, its blocks as delayed arrays, and the weights' blocks
    aligned with them (``None`` each without weights)."""
    X = X.rechunk({1: -1}) if X.numblocks[1] > 1 else X
    xs = X.to_delayed().ravel()
    if sample_weight is None:
        return X, xs, [None] * len(xs)
    W = sample_weight if is_dask_collection(sample_weight) else da.from_array(np.asarray(sample_weight))
    return X, xs, list(W.astype(np.float64).rechunk((X.chunks[0],)).to_delayed().ravel())


class _Blocks:
    """The persisted row blocks of ``X`` (and weights) as delayed ``(x, w)`` pairs."""

    def __init__(self, X, sample_weight, sort):
        X, xs, ws = _row_blocks(X, sample_weight)
        prepare = dask.delayed(_prepare, pure=True, nout=None)
        self.parts = list(dask.persist(*[prepare(x, w, sort) for x, w in zip(xs, ws)]))
        self.n, self.d = X.shape
        self.weighted = sample_weight is not None

    def map(self, f, *args):
        g = dask.delayed(f, pure=True)
        return [g(b, *args) for b in self.parts]

    def map_indexed(self, f, *args):
        g = dask.delayed(f, pure=True)
        return [g(b, *args, i) for i, b in enumerate(self.parts)]


def _as_params(m):
    return (
        np.ascontiguousarray(m["weights"], dtype=np.float64),
        np.ascontiguousarray(m["means"], dtype=np.float64),
        np.ascontiguousarray(m["covariances"], dtype=np.float64),
        np.ascontiguousarray(m["precisions_cholesky"], dtype=np.float64),
    )


def _given(kind, k, d, weights_init, means_init, precisions_init, base=None):
    """The mixture the in-memory fit starts from when all three are given (filled from
    ``base`` where one is missing): einmix's own constructor, through a fit of 0 iterations."""
    means = np.ascontiguousarray(means_init if means_init is not None else base["means"], dtype=np.float64)
    weights = np.ascontiguousarray(weights_init if weights_init is not None else base["weights"], dtype=np.float64)
    precisions = np.ascontiguousarray(
        precisions_init if precisions_init is not None else base["precisions"], dtype=np.float64
    )
    return _einmix.fit(
        means, None, n_components=k, covariance_type=kind, tol=0.0, reg_covar=0.0, max_iter=0, n_init=1,
        init_params="kmeans", random_state=0, n_threads=1, weights_init=weights, means_init=means,
        precisions_init=precisions,
    )


def _kmeans_parallel(blocks, k, kind, reg_covar, seed, oversampling, rounds, split_every):
    """k-means|| over the blocks, then the first mixture from hard assignments."""
    rng = np.random.default_rng(seed)
    masses = np.array(dask.compute(*blocks.map(_block_weight)), dtype=np.float64)
    first = int(rng.choice(len(masses), p=masses / masses.sum()))
    centers = dask.compute(dask.delayed(_row_at)(blocks.parts[first], float(rng.random())))[0]
    d2 = dask.persist(*blocks.map(_min_d2, centers, None))
    for round_ in range(rounds):
        cost = float(dask.compute(_tree_sum([dask.delayed(_cost)(b, d) for b, d in zip(blocks.parts, d2)], split_every))[0][0])
        if not cost > 0:
            break
        sample = dask.delayed(_sample, pure=True)
        new = dask.compute(*[sample(b, d, oversampling * k, cost, seed, i, round_) for i, (b, d) in enumerate(zip(blocks.parts, d2))])
        new = np.vstack([c for c in new if c.shape[0]] or [np.empty((0, blocks.d))])
        if new.shape[0] == 0:
            continue
        centers = np.vstack([centers, new])
        d2 = dask.persist(*[dask.delayed(_min_d2, pure=True)(b, new, d) for b, d in zip(blocks.parts, d2)])
    weights = dask.compute(_tree_sum(blocks.map(_candidate_weights, centers), split_every))[0]
    if np.count_nonzero(weights) < k:
        return None  # fewer distinct candidates than components: the caller samples instead
    centers_k = _einmix.reduce_candidates(centers, weights, k, seed)
    stats = dask.compute(_tree_sum(blocks.map(_hard_statistics, kind, centers_k), split_every))[0]
    return _einmix.mixture_from_hard_statistics(stats, kind, centers_k, reg_covar)


def _sample_init(blocks, k, kind, reg_covar, seed, init_params, sample_size):
    """An in-memory initialisation (``init_params``) on a uniform sample of the rows."""
    fraction = min(1.0, sample_size / max(blocks.n, 1))
    parts = dask.compute(*blocks.map_indexed(_uniform_sample, fraction, seed))
    x = np.vstack([p[0] for p in parts])
    w = np.concatenate([p[1] for p in parts]) if blocks.weighted else None
    if x.shape[0] < k:
        raise ValueError(f"Expected n_samples >= n_components but got n_components = {k}, n_samples = {x.shape[0]}")
    return _einmix.fit(
        x, w, n_components=k, covariance_type=kind, tol=0.0, reg_covar=reg_covar, max_iter=0, n_init=1,
        init_params=init_params, random_state=seed, n_threads=None,
    )


def _background_region(gm, X):
    """The background's box for a Dask fit: given, or the data's bounding box (one pass)."""
    option = gm._background_option(X.shape[1])
    if not option["background"]:
        return None
    if option["background_region"] is not None:
        return option["background_region"]
    lower, upper = dask.compute(X.min(axis=0), X.max(axis=0))
    return ([float(v) for v in lower], [float(v) for v in upper])


def fit(X, sample_weight, estimator, *, init_params, oversampling, rounds, sample_size, split_every, spatial_sort):
    """Fit ``estimator`` (an :class:`einmix.GaussianMixture`, whose parameters are read) to the
    Dask array ``X``; see :func:`einmix.dask.fit` for the options."""
    gm = estimator
    n_components, covariance_type, tol, reg_covar = gm.n_components, gm.covariance_type, gm.tol, gm.reg_covar
    max_iter, n_init, random_state = gm.max_iter, gm.n_init, gm.random_state
    weights_init, means_init, precisions_init = gm.weights_init, gm.means_init, gm.precisions_init
    params = dict(n_components=n_components, max_iter=max_iter, n_init=n_init)
    if init_params not in ("kmeans", "sample", "k-means++", "random", "random_from_data"):
        raise ValueError(f"init_params must be 'kmeans', 'sample', 'k-means++', 'random' or 'random_from_data', got {init_params!r}")
    for name, low in (("n_components", 1), ("max_iter", 0), ("n_init", 1), ("split_every", 2), ("rounds", 0)):
        value = locals()[name] if name in ("split_every", "rounds") else params[name]
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"The '{name}' parameter must be an int in the range [{low}, inf). Got {value!r} instead.")
    if covariance_type not in _CULL:
        raise ValueError(f"covariance_type must be one of {_CULL}, got {covariance_type!r}")
    if not is_dask_collection(X):
        X = da.from_array(np.asarray(X))
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D dask array, got {X.ndim}D.")
    n, d = X.shape
    k = int(n_components)
    if n < k:
        raise ValueError(f"Expected n_samples >= n_components but got n_components = {k}, n_samples = {n}")
    sort = bool(spatial_sort) and d <= 3 and k >= 4
    blocks = _Blocks(X, sample_weight, sort)
    seed = _seed_from(random_state)
    given = weights_init is not None and means_init is not None and precisions_init is not None

    def initial_mixture(run):
        if given:
            return _given(covariance_type, k, d, weights_init, means_init, precisions_init)
        run_seed = seed + run
        model = None
        if init_params == "kmeans":
            model = _kmeans_parallel(blocks, k, covariance_type, reg_covar, run_seed, oversampling, rounds, split_every)
        if model is None:
            local = "kmeans" if init_params in ("kmeans", "sample") else init_params
            model = _sample_init(blocks, k, covariance_type, reg_covar, run_seed, local, sample_size)
        if weights_init is not None or means_init is not None or precisions_init is not None:
            model = _given(covariance_type, k, d, weights_init, means_init, precisions_init, base=model)
        return model

    def summed_statistics(model, cull):
        shared = dask.delayed(_as_params(model), pure=True)  # one copy in the graph, read by every block
        background = model.get("background")
        return dask.compute(_tree_sum(blocks.map(_statistics, covariance_type, shared, cull, background), split_every))[0]

    # The loop, the culling fallback, convergence and the best of n_init are the core's EM
    # driver; only the partition plumbing is here.
    settings = (k, covariance_type, float(tol), float(reg_covar), int(max_iter), 1 if given else int(n_init))
    model = _einmix.fit_partitions(
        initial_mixture, summed_statistics, n_features=d, settings=settings, background_region=_background_region(gm, X)
    )
    converged, n_iter, lower_bound, bounds = (
        model["converged"], model["n_iter"], model["lower_bound"], model["lower_bounds"]
    )
    gm.weights_ = model["weights"]
    gm.means_ = model["means"]
    gm.covariances_ = model["covariances"]
    gm.precisions_cholesky_ = model["precisions_cholesky"]
    gm.precisions_ = model["precisions"]
    gm.converged_ = bool(converged)
    gm.n_iter_ = int(n_iter)
    gm.lower_bound_ = float(lower_bound)
    gm.lower_bounds_ = list(bounds)
    gm.n_features_in_ = d
    gm._set_background(model.get("background"), np.float64)
    if not converged and max_iter > 0:
        warnings.warn(
            "Best performing initialization did not converge. Try different init parameters, "
            "or increase max_iter, tol, or check for degenerate data.",
            ConvergenceWarning,
        )
    return gm


def partial_fit(gm, X, sample_weight=None):
    """One pass of online EM over the row blocks of ``X`` (in order, each computed once and
    handed to ``gm.partial_fit``): a cheap alternative to the full distributed fit."""
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D dask array, got {X.ndim}D.")
    _, xs, ws = _row_blocks(X, sample_weight)
    # A new stream's background spans the whole array's bounding box, not its first block's.
    region = None
    if getattr(gm, "_online_state", None) is None and gm.background not in (None, False):
        region = _background_region(gm, X)
    for x, w in zip(xs, ws):
        x, w = dask.compute(x, w)
        if x.shape[0]:
            gm._partial_fit(x, w, region)
            region = None
    return gm


# -- using a fitted model on dask arrays: lazy, one kernel call per block -----------------
def _params_of(gm):
    return gm._params_tuple()


def _block(x):
    x = np.asarray(x)
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


def _predict_block(x, kind, params, background=None):
    labels = _einmix.predict_block(_block(x), kind, params, background)
    # The background's points are -1, as the estimator labels them.
    return labels if background is None else np.where(labels == params[1].shape[0], -1, labels)


def _proba_block(x, kind, params, background=None):
    return _einmix.predict_proba_block(_block(x), kind, params, background)


def _score_block(x, kind, params, background=None):
    return _einmix.score_samples_block(_block(x), kind, params, background)


def _check(gm, X):
    gm._check_is_fitted()
    if X.ndim != 2 or X.shape[1] != gm.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1] if X.ndim == 2 else X.shape} features, but GaussianMixture is expecting {gm.n_features_in_} features as input."
        )
    X = X.rechunk({1: -1}) if X.numblocks[1] > 1 else X
    kind, *params = _params_of(gm)
    return X, kind, tuple(params), gm._fitted_background().get("background")


def predict(gm, X):
    """Component labels of a Dask array's rows, lazily (``int64``, chunked like ``X``; -1 for a
    background's rows)."""
    X, kind, params, background = _check(gm, X)
    return X.map_blocks(_predict_block, kind, params, background, drop_axis=1, dtype=np.int64)


def predict_proba(gm, X):
    """Responsibilities, lazily: shape ``(n, K)`` (``K + 1`` with a background), chunked like
    ``X``'s rows."""
    X, kind, params, background = _check(gm, X)
    k = gm.means_.shape[0] + (background is not None)
    return X.map_blocks(_proba_block, kind, params, background, chunks=(X.chunks[0], (k,)), dtype=np.float64)


def score_samples(gm, X):
    """``log p(x)`` of every row, lazily."""
    X, kind, params, background = _check(gm, X)
    return X.map_blocks(_score_block, kind, params, background, drop_axis=1, dtype=np.float64)

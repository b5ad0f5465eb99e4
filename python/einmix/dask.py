"""``einmix.dask``: Gaussian mixtures fitted to Dask arrays, on one machine or a cluster.

Every EM iteration broadcasts the current parameters (a few KB), maps einmix's statistics
kernel over the persisted row blocks of ``X`` (each block gives one flat float64 vector),
sums the vectors in a tree (``split_every`` at a time) and hands the sum to the core's EM
driver on the client, the same loop as every other einmix fit (M-step, culling fallback,
convergence, best of ``n_init``)::

    s_b   = block_statistics(X_b, w_b | theta)        on the workers, GIL released
    s     = tree-sum of the s_b                        a few KB per block
    theta = m_step(s)                                  on the client, in the core's driver

From the same initial parameters the result equals the in-memory ``einmix.GaussianMixture``
fit to rounding (1e-10 relative in the tests), whatever the chunking. Initialisation is
k-means|| by default (Bahmani et al., 2012: a few sampling rounds over the blocks, then
weighted k-means++ and Lloyd on the candidates, locally), or an in-memory initialisation on a
uniform sample of rows, or the given ``weights_init``/``means_init``/``precisions_init``.

>>> import dask.array as da, numpy as np
>>> from einmix.dask import fit
>>> X = da.from_array(np.random.default_rng(0).normal(size=(1000, 2)), chunks=250)
>>> gm = fit(X, n_components=2, random_state=0)
>>> gm.predict(X).compute().shape
(1000,)
"""

from __future__ import annotations

from . import _dask_engine
from ._dask_engine import is_dask_collection, partial_fit, predict, predict_proba, score_samples
from ._dask_image import track_cells, track_videos
from ._gaussian_mixture import GaussianMixture

__all__ = [
    "fit",
    "partial_fit",
    "predict",
    "predict_proba",
    "score_samples",
    "is_dask_collection",
    "track_cells",
    "track_videos",
]


def fit(
    X,
    sample_weight=None,
    *,
    init_params="kmeans",
    oversampling=2.0,
    rounds=5,
    sample_size=100_000,
    split_every=8,
    spatial_sort=True,
    estimator=None,
    **params,
):
    """Fit a Gaussian mixture to a Dask array ``X`` chunked along rows; returns a fitted
    :class:`einmix.GaussianMixture` (``estimator`` if given, whose parameters are then used).

    ``params`` are scikit-learn's (``n_components``, ``covariance_type``, ``tol``,
    ``reg_covar``, ``max_iter``, ``n_init``, ``weights_init``, ``means_init``,
    ``precisions_init``, ``random_state``: the estimator's), plus:

    init_params : 'kmeans' (k-means||, the default), 'sample' (k-means on a uniform sample of
        ``sample_size`` rows), or 'k-means++' / 'random' / 'random_from_data' (that in-memory
        initialisation on the sample). Given ``weights_init``, ``means_init`` and
        ``precisions_init`` override it, as in scikit-learn.
    oversampling, rounds : k-means|| draws about ``oversampling * n_components`` candidates in
        each of ``rounds`` passes.
    split_every : fan-in of the tree that sums the per-block statistics.
    spatial_sort : persist each block's rows in Morton order (in 1-3 dimensions with 4 or more
        components this lets the kernel skip far components, exactly).
    """
    if estimator is None:
        estimator = GaussianMixture(init_params=init_params if init_params != "sample" else "kmeans", **params)
    elif params:
        raise TypeError(f"fit() got parameters {sorted(params)} beside an estimator; set them on the estimator")
    return _dask_engine.fit(
        X, sample_weight, estimator, init_params=init_params, oversampling=oversampling, rounds=rounds,
        sample_size=sample_size, split_every=split_every, spatial_sort=spatial_sort,
    )

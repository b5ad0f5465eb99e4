"""``einmix.GaussianMixture``: scikit-learn's estimator, backed by the Rust core.

The class mirrors :class:`sklearn.mixture.GaussianMixture` name for name: the same
constructor, defaults, fitted attributes and methods, plus ``sample_weight`` in ``fit`` and a
keyword-only ``n_threads``. scikit-learn is optional: when it is installed the class inherits
its ``BaseEstimator``/``DensityMixin`` (so ``clone``, ``Pipeline``, ``GridSearchCV`` and the
estimator checks see a native estimator) and raises its ``NotFittedError`` and
``ConvergenceWarning``; without it, equivalent fallbacks are used.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from . import _einmix

from ._common import (
    _BASES,
    ConvergenceWarning,
    NotFittedError,
    _as_2d_float,
    _as_sample_weight,
    _is_dask,
    _MixtureMixin,
    _seed_from,
    _VerbosePrinter,
)

EinmixError = _einmix.EinmixError



class GaussianMixture(_MixtureMixin, *_BASES):
    """Gaussian mixture model fitted by expectation-maximisation.

    A drop-in for :class:`sklearn.mixture.GaussianMixture`: same parameters, defaults,
    attributes and methods, computed by a multi-threaded Rust core. Additions: ``fit`` takes
    ``sample_weight`` and the keyword ``n_threads`` sets the worker threads.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        The type of covariance parameters to use.
    tol : float, default=1e-3
        Convergence threshold on the change of the per-sample mean lower bound.
    reg_covar : float, default=1e-6
        Non-negative regularisation added to the diagonal of covariances.
    max_iter : int, default=100
        The number of EM iterations to perform.
    n_init : int, default=1
        The number of initialisations to perform; the best result is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        The method used to initialise the responsibilities.
    weights_init : array-like of shape (n_components,), default=None
        The user-provided initial weights.
    means_init : array-like of shape (n_components, n_features), default=None
        The user-provided initial means.
    precisions_init : array-like, default=None
        The user-provided initial precisions, shaped by ``covariance_type``.
    random_state : int, RandomState instance or None, default=None
        Controls the random seed of the initialisation and of ``sample``.
    warm_start : bool, default=False
        If True, each ``fit`` starts from the previous solution.
    verbose : int, default=0
        Enable verbose output (1: iterations, 2: also timings and changes).
    verbose_interval : int, default=10
        Number of iterations between two verbose prints.
    n_threads : int or None, default=None
        Worker threads for fitting and scoring; None uses all cores. Results do not depend on it.
    compute_dtype : numpy.float64 or numpy.float32, default=numpy.float64
        The arithmetic of the fit's matrix products, which run from D = 4 (diagonal kinds) or
        D = 8 (full, tied) on. ``np.float32`` runs the E-step's density products in single
        precision, each chunk's results taken back to float64; the statistics and the M-step stay
        float64. The lower bound stays within 1e-6 relative of the float64 fit's; the speed-up is
        modest (1.1-1.4x measured). Scoring, ``partial_fit`` and Dask fits stay float64.
    learning_decay, learning_offset : float, default=0.7, 10.0
        The step size of :meth:`partial_fit`'s online EM.
    background : None, bool, 'bbox' or (lower, upper), default=None
        A uniform background component (mclust's "noise"): constant density ``1/V`` over a
        box of volume ``V``, zero outside, its weight learned by EM with the Gaussians'. True
        or 'bbox' spreads it over the data's bounding box; ``(lower, upper)`` over a given box.
        With it, ``predict`` labels the points the background explains best ``-1``,
        ``predict_proba`` has one more column (the background's, last), ``sample`` draws
        uniform points labelled ``-1``, and BIC/AIC count one more parameter. NumPy and Dask
        arrays and ``partial_fit`` take it. Off by default: the model is then scikit-learn's.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
    precisions_ : ndarray
    precisions_cholesky_ : ndarray
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
    lower_bounds_ : list of float
    n_features_in_ : int
    background_weight_ : float
        The background's mixing weight (``weights_`` then sums to ``1 - background_weight_``);
        only with ``background``.
    background_lower_, background_upper_ : ndarray of shape (n_features,)
        The corners of its box; only with ``background``.

    Examples
    --------
    >>> import numpy as np
    >>> from einmix import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> np.round(np.sort(gm.means_[:, 0]), 6).tolist()
    [1.0, 10.0]
    >>> bool(gm.predict([[0, 0]])[0] == gm.predict([[1, 1]])[0])
    True
    """

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
        n_threads=None,
        compute_dtype=np.float64,
        learning_decay=0.7,
        learning_offset=10.0,
        background=None,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_threads = n_threads
        self.compute_dtype = compute_dtype
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset
        self.background = background

    # -- parameter checks ---------------------------------------------------------------
    def _params_tuple(self):
        return (
            self.covariance_type,
            np.ascontiguousarray(self.weights_, dtype=np.float64),
            np.ascontiguousarray(self.means_, dtype=np.float64),
            np.ascontiguousarray(self.covariances_, dtype=np.float64),
            np.ascontiguousarray(self.precisions_cholesky_, dtype=np.float64),
        )

    # -- fitting ------------------------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None):
        """Estimate model parameters with the EM algorithm.

        Fits ``n_init`` times from fresh initialisations (once, from the previous solution,
        when ``warm_start`` is set and the model is fitted) and keeps the best lower bound.
        A ``ConvergenceWarning`` is issued if the kept run did not converge.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; an integer weight acts as that many copies of the row.

        Returns
        -------
        self : GaussianMixture
        """
        if _is_dask(X):
            self._fit_dask(X, sample_weight)
            return self
        self._fit(X, sample_weight)
        return self

    def _fit_dask(self, X, sample_weight):
        """A Dask array: the distributed path of :mod:`einmix.dask` (k-means|| initialisation)."""
        from . import _dask_engine as _dask

        params = self._check_parameters()
        return _dask.fit(
            X, sample_weight, self, init_params=params["init_params"], oversampling=2.0, rounds=5,
            sample_size=100_000, split_every=8, spatial_sort=True,
        )

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return the component of each sample after a final E-step.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self._fit(X, sample_weight)

    def _fit(self, X, sample_weight):
        params = self._check_parameters()
        X = _as_2d_float(X, min_samples=2)
        n, d = X.shape
        if n < params["n_components"]:
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = {params['n_components']}, n_samples = {n}"
            )
        w = _as_sample_weight(sample_weight, n)
        warm = None
        if self.warm_start and hasattr(self, "means_"):
            if self.n_features_in_ != d:
                raise ValueError(
                    f"X has {d} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input."
                )
            warm = self._params_tuple()[1:] + (float(self.lower_bound_),)
        kwargs = dict(params)
        kwargs.update(self._background_option(d))
        if warm is not None and self._fitted_background():
            kwargs["warm_background"] = self._fitted_background()["background"]
        kwargs["random_state"] = _seed_from(self.random_state)
        kwargs.update(self._given_inits(d))
        progress = _VerbosePrinter(self.verbose, self.verbose_interval, self.tol, params["max_iter"]) if self.verbose else None
        result = _einmix.fit(X, w, warm_start=warm, progress=progress, **kwargs)
        if progress is not None:
            progress.finish(result["converged"])

        self._set_fitted(result, X.dtype, d)
        self.__dict__.pop("_online_state", None)  # a full fit starts any stream over
        self.converged_ = bool(result["converged"])
        self.n_iter_ = int(result["n_iter"])
        self.lower_bound_ = float(result["lower_bound"])
        self.lower_bounds_ = list(result["lower_bounds"])
        if not self.converged_ and params["max_iter"] > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init parameters, "
                "or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
            )
        return self._background_labels(result["labels"])

    def _given_inits(self, n_features=None):
        """The user's ``weights_init``/``means_init``/``precisions_init``, checked with
        scikit-learn's messages (its ``_check_weights``, ``_check_means``, ``_check_precisions``)
        when the data's ``n_features`` is known, as the core takes them."""
        k, kind = self.n_components, self.covariance_type

        def shaped(value, shape, name):
            value = np.ascontiguousarray(value, dtype=np.float64)
            if n_features is not None and value.shape != shape:
                raise ValueError(f"The parameter '{name}' should have the shape of {shape}, but got {value.shape}")
            return value

        given = {}
        if self.weights_init is not None:
            w = shaped(self.weights_init, (k,), "weights")
            if np.any(w < 0.0) or np.any(w > 1.0):
                raise ValueError(
                    "The parameter 'weights' should be in the range [0, 1], but got "
                    f"max value {np.min(w):.5f}, min value {np.max(w):.5f}"
                )
            if not np.allclose(np.abs(1.0 - np.sum(w)), 0.0):
                raise ValueError(f"The parameter 'weights' should be normalized, but got sum(weights) = {np.sum(w):.5f}")
            given["weights_init"] = w
        if self.means_init is not None:
            given["means_init"] = shaped(self.means_init, (k, n_features), "means")
        if self.precisions_init is not None:
            d = n_features
            shape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}[kind]
            p = shaped(self.precisions_init, shape, f"{kind} precision")
            if n_features is not None:
                if kind in ("diag", "spherical"):
                    if np.any(p <= 0.0):
                        raise ValueError(f"'{kind} precision' should be positive")
                else:
                    for m in p if kind == "full" else [p]:
                        if not (np.all(np.isclose(m, m.T)) and np.all(np.linalg.eigvalsh(m) > 0.0)):
                            raise ValueError(f"'{kind} precision' should be symmetric, positive-definite")
            given["precisions_init"] = p
        return given

    def _set_fitted(self, result, input_dtype, n_features):
        # As scikit-learn does, the fitted arrays take the input's float dtype (einmix computes in
        # float64 throughout and rounds the results once).
        dtype = input_dtype if input_dtype == np.float32 else np.float64
        self.weights_ = result["weights"].astype(dtype, copy=False)
        self.means_ = result["means"].astype(dtype, copy=False)
        self.covariances_ = result["covariances"].astype(dtype, copy=False)
        self.precisions_cholesky_ = result["precisions_cholesky"].astype(dtype, copy=False)
        self.precisions_ = result["precisions"].astype(dtype, copy=False)
        self.n_features_in_ = n_features
        self._set_background(result.get("background"), dtype)

    # -- online EM -------------------------------------------------------------------------
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the model with one batch of samples by online (stepwise) EM.

        The first call (or the first after :meth:`fit`) fits the batch as :meth:`fit` would,
        with the configured initialisation, and fixes ``n_features_in_``; it needs at least
        ``n_components`` samples. Each later call makes one E-step on the batch under the
        current parameters, moves running averages of the sufficient statistics a step
        ``rho_t = (t + learning_offset) ** -learning_decay`` towards the batch's, and
        re-estimates the parameters (Cappé & Moulines, 2009). All fitted attributes are valid
        after every call; ``n_iter_`` counts the batches, ``lower_bound_`` is the batch's mean
        log-likelihood under the parameters it met, and ``converged_`` stays False (a stream
        has no end to converge to). A Dask array is streamed one block at a time.

        With ``background``, the background's region is fixed by the stream's first call: the
        given ``(lower, upper)``, or with ``True``/``'bbox'`` the first batch's bounding box (a
        Dask array's: the whole array's); later batches' points outside it have no background
        term. Its weight is learned like the components' (its running share of the weight).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : GaussianMixture
        """
        if _is_dask(X):
            from . import _dask_engine as _dask

            return _dask.partial_fit(self, X, sample_weight)
        return self._partial_fit(X, sample_weight)

    def _partial_fit(self, X, sample_weight, region=None):
        """:meth:`partial_fit` on an in-memory batch; ``region`` (lower, upper) replaces a
        new stream's bounding-box background region (the Dask path's whole-array box)."""
        params = self._check_parameters()
        decay, offset = self.learning_decay, self.learning_offset
        if isinstance(decay, bool) or not isinstance(decay, numbers.Real) or not 0.5 < decay <= 1:
            raise ValueError(f"The 'learning_decay' parameter of GaussianMixture must be a float in the range (0.5, 1.0]. Got {decay!r} instead.")
        if isinstance(offset, bool) or not isinstance(offset, numbers.Real) or not 0 <= offset < np.inf:
            raise ValueError(f"The 'learning_offset' parameter of GaussianMixture must be a float in the range [0.0, inf). Got {offset!r} instead.")
        state = getattr(self, "_online_state", None)
        X = _as_2d_float(X, min_samples=1)
        n, d = X.shape
        if state is not None and d != self.n_features_in_:
            raise ValueError(
                f"X has {d} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input."
            )
        if state is None and n < params["n_components"]:
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = {params['n_components']}, n_samples = {n}"
            )
        w = _as_sample_weight(sample_weight, n)
        settings = tuple(params[k] for k in ("n_components", "covariance_type", "tol", "reg_covar", "max_iter", "n_init"))
        previous = None if state is None else self._params_tuple()[1:] + (state[:5],)
        background = self._background_option(d)
        if state is not None and background["background"] != (getattr(self, "background_weight_", None) is not None):
            raise ValueError(
                "The 'background' parameter changed after the stream started: call fit, or start a new "
                "stream (a new estimator), to change it."
            )
        if region is not None and background["background"] and background["background_region"] is None:
            background["background_region"] = (list(map(float, region[0])), list(map(float, region[1])))
        if state is not None and self._fitted_background():
            # The stream keeps the background's region from its first batch, and its running share.
            background.update(warm_background=self._fitted_background()["background"], background_share=state[5])
        result = _einmix.partial_fit(
            X, w, settings=settings, start=(params["init_params"], _seed_from(self.random_state), params["n_threads"]),
            learning=(float(decay), float(offset)), previous=previous,
            **background, **self._given_inits(d),
        )
        self._set_fitted(result, X.dtype, d)
        self._online_state = (
            result["mass"], result["state_means"], result["scatter"], float(result["mean_weight"]), int(result["n_batches"]),
            result["background_share"],
        )
        self.converged_ = False
        self.n_iter_ = int(result["n_batches"])
        self.lower_bound_ = float(result["lower_bound"])
        self.lower_bounds_ = [self.lower_bound_]
        return self

    def _score(self, X, what):
        out = getattr(_einmix, what)(X, *self._params_tuple(), n_threads=self.n_threads, **self._fitted_background())
        return self._background_labels(out) if what == "predict" else out

    def _score_dask(self, X, what):
        from . import _dask_engine as _dask

        return getattr(_dask, what)(self, X)

    def _n_parameters(self):
        k, d = self.means_.shape
        cov = {"full": k * d * (d + 1) / 2.0, "diag": k * d, "tied": d * (d + 1) / 2.0, "spherical": k}[
            self.covariance_type
        ]
        # A background adds its weight (its region is given or the data's range, as mclust).
        return int(cov + k * d + k - 1) + int(getattr(self, "background_weight_", None) is not None)

    def bic(self, X):
        """Bayesian information criterion for ``X`` (lower is better).

        Returns
        -------
        bic : float
        """
        X = _as_2d_float(X)
        return -2 * self.score(X) * X.shape[0] + self._n_parameters() * np.log(X.shape[0])

    def aic(self, X):
        """Akaike information criterion for ``X`` (lower is better).

        Returns
        -------
        aic : float
        """
        X = _as_2d_float(X)
        return -2 * self.score(X) * X.shape[0] + 2 * self._n_parameters()

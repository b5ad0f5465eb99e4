"""What the estimator and the Dask engine share: scikit-learn's exceptions (or equivalent
fallbacks when it is absent), its base classes, and its ``random_state`` and input conventions."""

from __future__ import annotations

import inspect
import numbers
import time

import numpy as np

from . import _einmix

try:  # scikit-learn is optional: inherit its machinery when present.
    from sklearn.base import BaseEstimator as _SkBase
    from sklearn.base import DensityMixin as _SkDensity
    from sklearn.exceptions import ConvergenceWarning, NotFittedError

    _BASES: tuple = (_SkDensity, _SkBase)
except ImportError:  # pragma: no cover - exercised only without scikit-learn

    class ConvergenceWarning(UserWarning):
        """Raised when EM stops at ``max_iter`` before converging."""

    class NotFittedError(ValueError, AttributeError):
        """Raised when a method needs a fitted estimator."""

    class _ParamsBase:
        """Minimal ``get_params``/``set_params``, as scikit-learn's ``BaseEstimator``."""

        @classmethod
        def _get_param_names(cls):
            sig = inspect.signature(cls.__init__)
            return sorted(p.name for p in sig.parameters.values() if p.name != "self")

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for key, value in params.items():
                if key not in valid:
                    raise ValueError(f"Invalid parameter {key!r} for estimator {self}. Valid parameters are: {valid!r}.")
                setattr(self, key, value)
            return self

        def score(self, X, y=None):  # replaced below; keeps the mixin's contract
            raise NotImplementedError

        def __repr__(self):
            params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({params})"

    _BASES = (_ParamsBase,)


def _seed_from(random_state):
    """An unsigned 64-bit seed from scikit-learn's ``random_state`` conventions."""
    if random_state is None:
        return int(np.random.mtrand._rand.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {random_state}.")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(np.iinfo(np.int64).max))
    raise ValueError(f"{random_state!r} cannot be used to seed a numpy.random.RandomState instance")


def _is_dask(X):
    """A Dask array (told by its type's module, so dask is never imported for numpy input)."""
    return type(X).__module__.startswith("dask.") and hasattr(X, "map_blocks")


def _as_sample_weight(sample_weight, n):
    """scikit-learn's ``_check_sample_weight`` for what einmix accepts: ``None``, a scalar or
    one float64 per row (contiguous)."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.ndim != 1:
        raise ValueError("Sample weights must be 1D array or scalar")
    if w.shape != (n,):
        raise ValueError(f"sample_weight.shape == {w.shape}, expected {(n,)}!")
    return np.ascontiguousarray(w)


def _as_2d_float(X, name="X", min_samples=1):
    """scikit-learn's ``check_array`` for what einmix accepts: dense, 2-D, finite, numeric."""
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            "Sparse data was passed, but dense data is required. Use '.toarray()' to convert to a dense numpy array."
        )
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise ValueError("Complex data not supported\n{}\n".format(arr))
    if arr.dtype.kind not in "fiub":
        arr = arr.astype(np.float64)
    if arr.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {arr.ndim}D array instead:\narray={arr}.\n"
            "Reshape your data either using array.reshape(-1, 1) if your data has a single feature "
            "or array.reshape(1, -1) if it contains a single sample."
        )
    # float64 and float32 arrays of any layout (strided, Fortran-ordered, read-only) reach the
    # Rust core as they are, without a copy; anything else is converted to float64 once.
    if arr.dtype not in (np.float64, np.float32) or not arr.dtype.isnative:
        arr = np.asarray(arr, dtype=np.float64)
    n, d = arr.shape
    if n < min_samples:
        raise ValueError(
            f"Found array with {n} sample(s) (shape={arr.shape}) while a minimum of {min_samples} is required."
        )
    if d < 1:
        raise ValueError(f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if not np.isfinite(arr).all():
        if np.isnan(arr).any():
            raise ValueError(f"Input {name} contains NaN.")
        raise ValueError(f"Input {name} contains infinity or a value too large for {arr.dtype!r}.")
    return arr


_COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def _single_precision(owner, compute_dtype):
    """Whether ``compute_dtype`` asks for the single-precision products: ``np.float64`` (the
    default, exact) or ``np.float32``, as a type, a ``np.dtype`` or its name."""
    try:
        dtype = np.dtype(compute_dtype)
    except TypeError:
        dtype = None
    # (`np.dtype(None)` is float64, so None is refused before the comparison.)
    if compute_dtype is None or dtype is None or dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(
            f"The 'compute_dtype' parameter of {owner} must be numpy.float64 or numpy.float32. Got {compute_dtype!r} instead."
        )
    return dtype == np.dtype(np.float32)
_INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")


class _MixtureMixin:
    """What every einmix mixture does with its fitted model: checks, scoring, sampling. A
    subclass supplies ``_score(X, what)`` (``what``: ``"score_samples"``, ``"predict_proba"``
    or ``"predict"``) for numpy input, ``_score_dask(X, what)`` for Dask arrays, and
    ``_params_tuple()`` (kind, weights, means, covariances, precision Cholesky factors)."""

    def _check_parameters(self):
        """scikit-learn's parameter validation of the settings every mixture shares."""
        def integer(name, low):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
                raise ValueError(f"The '{name}' parameter of {type(self).__name__} must be an int in the range [{low}, inf). Got {value!r} instead.")
            return int(value)

        def real(name):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
                raise ValueError(f"The '{name}' parameter of {type(self).__name__} must be a float in the range [0.0, inf). Got {value!r} instead.")
            return float(value)

        if self.covariance_type not in _COVARIANCE_TYPES:
            raise ValueError(
                f"The 'covariance_type' parameter of {type(self).__name__} must be a str among {set(_COVARIANCE_TYPES)}. Got {self.covariance_type!r} instead."
            )
        if self.init_params not in _INIT_PARAMS:
            raise ValueError(
                f"The 'init_params' parameter of {type(self).__name__} must be a str among {set(_INIT_PARAMS)}. Got {self.init_params!r} instead."
            )
        n_threads = None if self.n_threads is None else integer("n_threads", 1)
        single_precision = _single_precision(type(self).__name__, self.compute_dtype)
        if not isinstance(self.verbose, bool):  # scikit-learn accepts verbose=True
            integer("verbose", 0)
        integer("verbose_interval", 1)
        return dict(
            n_components=integer("n_components", 1),
            covariance_type=self.covariance_type,
            tol=real("tol"),
            reg_covar=real("reg_covar"),
            max_iter=integer("max_iter", 0),
            n_init=integer("n_init", 1),
            init_params=self.init_params,
            n_threads=n_threads,
            single_precision=single_precision,
        )

    def _check_is_fitted(self):
        if not hasattr(self, "means_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _check_X_predict(self, X):
        self._check_is_fitted()
        X = _as_2d_float(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input."
            )
        return X

    # -- using the model ----------------------------------------------------------------
    def score_samples(self, X):
        """Log-likelihood of each sample under the model.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        if _is_dask(X):
            return self._score_dask(X, "score_samples")
        X = self._check_X_predict(X)
        out = self._score(X, "score_samples")
        return out.astype(np.float32) if X.dtype == np.float32 else out

    def score(self, X, y=None, sample_weight=None):
        """Mean per-sample log-likelihood of ``X`` (weighted by ``sample_weight`` if given).

        Returns
        -------
        log_likelihood : float
        """
        if _is_dask(X):
            if sample_weight is not None:
                raise TypeError("score of a Dask array takes no sample_weight")
            return float(self.score_samples(X).mean().compute())
        scores = self.score_samples(X)
        if sample_weight is None:
            return float(scores.mean())
        w = _as_sample_weight(sample_weight, scores.shape[0])
        return float(np.dot(w, scores) / w.sum())

    def predict(self, X):
        """Component labels of the samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        if _is_dask(X):
            return self._score_dask(X, "predict")
        return self._score(self._check_X_predict(X), "predict")

    def predict_proba(self, X):
        """Posterior probability of each component given each sample.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
        """
        if _is_dask(X):
            return self._score_dask(X, "predict_proba")
        X = self._check_X_predict(X)
        out = self._score(X, "predict_proba")
        return out.astype(np.float32) if X.dtype == np.float32 else out

    def sample(self, n_samples=1):
        """Generate random samples from the fitted model.

        As in scikit-learn, an integer ``random_state`` gives the same samples on every call.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
            Component labels, grouped by component.
        """
        self._check_is_fitted()
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples} . The sampling requires at least one sample."
            )
        seed = _seed_from(self.random_state)
        return self._sample(int(n_samples), seed)

    def _sample(self, n_samples, seed):
        X, labels = _einmix.sample(n_samples, seed, *self._params_tuple(), **self._fitted_background())
        return X, self._background_labels(labels)

    # -- the uniform background component (both estimators) -------------------------------
    def _background_option(self, n_features):
        """The ``background`` parameter as the core takes it: ``dict(background=bool,
        background_region=None or (lower, upper))``."""
        b = self.background
        if b is None or b is False:
            return dict(background=False, background_region=None)
        if b is True or (isinstance(b, str) and b == "bbox"):
            return dict(background=True, background_region=None)
        message = (
            f"The 'background' parameter of {type(self).__name__} must be None, a bool, 'bbox' or a "
            f"(lower, upper) pair of array-likes of shape (n_features,). Got {b!r} instead."
        )
        if isinstance(b, str) or not hasattr(b, "__len__") or len(b) != 2:
            raise ValueError(message)
        try:
            lower, upper = (np.asarray(v, dtype=np.float64).reshape(-1) for v in b)
        except (TypeError, ValueError):
            raise ValueError(message) from None
        if lower.shape != (n_features,) or upper.shape != (n_features,):
            raise ValueError(
                f"The 'background' region's corners must have shape ({n_features},) for data with "
                f"{n_features} features; got {lower.shape} and {upper.shape}."
            )
        return dict(background=True, background_region=(lower.tolist(), upper.tolist()))

    def _fitted_background(self):
        """``dict(background=(lower, upper, weight))`` for the core's scoring, or ``{}``."""
        if getattr(self, "background_weight_", None) is None:
            return {}
        return dict(
            background=(
                [float(v) for v in self.background_lower_],
                [float(v) for v in self.background_upper_],
                float(self.background_weight_),
            )
        )

    def _background_labels(self, labels):
        """The core labels the background's points K; the estimator says -1 (as scikit-learn's
        clusterers label noise)."""
        if getattr(self, "background_weight_", None) is not None:
            labels = np.where(labels == self.means_.shape[0], -1, labels)
        return labels

    def _set_background(self, background, dtype):
        """The fitted background's attributes from the core's ``(lower, upper, weight)``, or
        none of them."""
        if background is None:
            for name in ("background_weight_", "background_lower_", "background_upper_"):
                self.__dict__.pop(name, None)
        else:
            lower, upper, weight = background
            self.background_lower_ = np.asarray(lower, dtype=dtype)
            self.background_upper_ = np.asarray(upper, dtype=dtype)
            self.background_weight_ = float(weight)


class _VerbosePrinter:
    """Prints per-iteration progress in scikit-learn's words."""

    def __init__(self, verbose, interval, tol, max_iter):
        self.verbose, self.interval, self.tol, self.max_iter = verbose, interval, tol, max_iter
        self.run = None
        self.run_start = self.iter_start = time.time()
        self.last = None

    def __call__(self, run, iteration, lower_bound, change):
        if run != self.run:
            if self.run is not None:
                self._end(self.last_converged)
            self.run = run
            print(f"Initialization {run}")
            self.run_start = self.iter_start = time.time()
        if iteration % self.interval == 0:
            now = time.time()
            if self.verbose == 1:
                print(f"  Iteration {iteration}")
            else:
                print(f"  Iteration {iteration}\t time lapse {now - self.iter_start:.5f}s\t ll change {change:.5f}")
            self.iter_start = now
        self.last = lower_bound
        self.last_converged = abs(change) < self.tol

    def _end(self, converged):
        message = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {message}.")
        else:
            print(
                f"Initialization {message}. time lapse {time.time() - self.run_start:.5f}s\t lower bound {self.last:.5f}."
            )

    def finish(self, converged):
        if self.run is not None:
            self._end(self.last_converged)

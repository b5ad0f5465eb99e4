"""What the estimator and the Dask engine share: scikit-learn's exceptions (or equivalent
fallbacks when it is absent), its base classes, and its ``random_state`` and input conventions."""

from __future__ import annotations

import inspect
import numbers

import numpy as np

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

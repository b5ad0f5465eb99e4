from typing import Any, Optional, Union

import numpy as np
import numpy.typing as npt

from . import image as image
from ._einmix import EinmixError as EinmixError
from .image import component_distances as component_distances
import os

def read_data(
    path: Union[str, "os.PathLike[str]"],
    *,
    columns: Optional[Union[str, int, list[Union[str, int]]]] = ...,
    weight_column: Optional[Union[str, int]] = ...,
) -> tuple[npt.NDArray[np.float64], Optional[npt.NDArray[np.float64]]]: ...

__version__: str

class ConvergenceWarning(UserWarning): ...
class NotFittedError(ValueError, AttributeError): ...

_RandomState = Union[int, np.random.RandomState, np.random.Generator, None]

class GaussianMixture:
    n_components: int
    covariance_type: str
    tol: float
    reg_covar: float
    max_iter: int
    n_init: int
    init_params: str
    weights_init: Optional[npt.ArrayLike]
    means_init: Optional[npt.ArrayLike]
    precisions_init: Optional[npt.ArrayLike]
    random_state: _RandomState
    warm_start: bool
    verbose: int
    verbose_interval: int
    n_threads: Optional[int]
    compute_dtype: Any
    learning_decay: float
    learning_offset: float
    background: Any
    background_weight_: float
    background_lower_: npt.NDArray[np.float64]
    background_upper_: npt.NDArray[np.float64]
    weights_: npt.NDArray[np.float64]
    means_: npt.NDArray[np.float64]
    covariances_: npt.NDArray[np.float64]
    precisions_: npt.NDArray[np.float64]
    precisions_cholesky_: npt.NDArray[np.float64]
    converged_: bool
    n_iter_: int
    lower_bound_: float
    lower_bounds_: list[float]
    n_features_in_: int
    def __init__(
        self,
        n_components: int = ...,
        *,
        covariance_type: str = ...,
        tol: float = ...,
        reg_covar: float = ...,
        max_iter: int = ...,
        n_init: int = ...,
        init_params: str = ...,
        weights_init: Optional[npt.ArrayLike] = ...,
        means_init: Optional[npt.ArrayLike] = ...,
        precisions_init: Optional[npt.ArrayLike] = ...,
        random_state: _RandomState = ...,
        warm_start: bool = ...,
        verbose: int = ...,
        verbose_interval: int = ...,
        n_threads: Optional[int] = ...,
        compute_dtype: Any = ...,
        learning_decay: float = ...,
        learning_offset: float = ...,
        background: Any = ...,
    ) -> None: ...
    def fit(self, X: npt.ArrayLike, y: Any = ..., sample_weight: Optional[npt.ArrayLike] = ...) -> "GaussianMixture": ...
    def partial_fit(self, X: npt.ArrayLike, y: Any = ..., sample_weight: Optional[npt.ArrayLike] = ...) -> "GaussianMixture": ...
    def fit_predict(self, X: npt.ArrayLike, y: Any = ..., sample_weight: Optional[npt.ArrayLike] = ...) -> npt.NDArray[np.int64]: ...
    def predict(self, X: npt.ArrayLike) -> npt.NDArray[np.int64]: ...
    def predict_proba(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def score_samples(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def score(self, X: npt.ArrayLike, y: Any = ..., sample_weight: Optional[npt.ArrayLike] = ...) -> float: ...
    def sample(self, n_samples: int = ...) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
    def bic(self, X: npt.ArrayLike) -> float: ...
    def aic(self, X: npt.ArrayLike) -> float: ...
    def get_params(self, deep: bool = ...) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> "GaussianMixture": ...

class BayesianGaussianMixture:
    n_components: int
    covariance_type: str
    tol: float
    reg_covar: float
    max_iter: int
    n_init: int
    init_params: str
    weight_concentration_prior_type: str
    weight_concentration_prior: Optional[float]
    mean_precision_prior: Optional[float]
    mean_prior: Optional[npt.ArrayLike]
    degrees_of_freedom_prior: Optional[float]
    covariance_prior: Union[float, npt.ArrayLike, None]
    random_state: _RandomState
    warm_start: bool
    verbose: int
    verbose_interval: int
    n_threads: Optional[int]
    compute_dtype: Any
    background: Any
    background_weight_: float
    background_lower_: npt.NDArray[np.float64]
    background_upper_: npt.NDArray[np.float64]
    weights_: npt.NDArray[np.float64]
    means_: npt.NDArray[np.float64]
    covariances_: npt.NDArray[np.float64]
    precisions_: npt.NDArray[np.float64]
    precisions_cholesky_: npt.NDArray[np.float64]
    weight_concentration_prior_: float
    weight_concentration_: Union[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]], npt.NDArray[np.float64]]
    mean_precision_prior_: float
    mean_precision_: npt.NDArray[np.float64]
    mean_prior_: npt.NDArray[np.float64]
    degrees_of_freedom_prior_: float
    degrees_of_freedom_: Union[float, npt.NDArray[np.float64]]
    covariance_prior_: Union[float, npt.NDArray[np.float64]]
    converged_: bool
    n_iter_: int
    lower_bound_: float
    lower_bounds_: list[float]
    n_features_in_: int
    def __init__(
        self,
        *,
        n_components: int = ...,
        covariance_type: str = ...,
        tol: float = ...,
        reg_covar: float = ...,
        max_iter: int = ...,
        n_init: int = ...,
        init_params: str = ...,
        weight_concentration_prior_type: str = ...,
        weight_concentration_prior: Optional[float] = ...,
        mean_precision_prior: Optional[float] = ...,
        mean_prior: Optional[npt.ArrayLike] = ...,
        degrees_of_freedom_prior: Optional[float] = ...,
        covariance_prior: Union[float, npt.ArrayLike, None] = ...,
        random_state: _RandomState = ...,
        warm_start: bool = ...,
        verbose: int = ...,
        verbose_interval: int = ...,
        n_threads: Optional[int] = ...,
        compute_dtype: Any = ...,
        background: Any = ...,
    ) -> None: ...
    def fit(self, X: npt.ArrayLike, y: Any = ..., sample_weight: Optional[npt.ArrayLike] = ...) -> "BayesianGaussianMixture": ...
    def fit_predict(self, X: npt.ArrayLike, y: Any = ..., sample_weight: Optional[npt.ArrayLike] = ...) -> npt.NDArray[np.int64]: ...
    def predict(self, X: npt.ArrayLike) -> npt.NDArray[np.int64]: ...
    def predict_proba(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def score_samples(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
    def score(self, X: npt.ArrayLike, y: Any = ..., sample_weight: Optional[npt.ArrayLike] = ...) -> float: ...
    def sample(self, n_samples: int = ...) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
    def get_params(self, deep: bool = ...) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> "BayesianGaussianMixture": ...

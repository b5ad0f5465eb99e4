from typing import Any, Callable, Optional

import numpy as np
import numpy.typing as npt

instruction_set: str

class EinmixError(ValueError): ...

def fit(
    x: npt.NDArray[np.float64],
    sample_weight: Optional[npt.NDArray[np.float64]],
    *,
    n_components: int,
    covariance_type: str,
    tol: float,
    reg_covar: float,
    max_iter: int,
    n_init: int,
    init_params: str,
    random_state: Optional[int],
    n_threads: Optional[int],
    weights_init: Optional[npt.NDArray[np.float64]] = ...,
    means_init: Optional[npt.NDArray[np.float64]] = ...,
    precisions_init: Optional[npt.NDArray[np.float64]] = ...,
    warm_start: Optional[tuple] = ...,
    progress: Optional[Callable[[int, int, float, float], Any]] = ...,
) -> dict[str, Any]: ...
def score_samples(x: npt.NDArray[np.float64], covariance_type: str, weights: npt.NDArray[np.float64], means: npt.NDArray[np.float64], covariances: npt.NDArray[np.float64], precisions_cholesky: npt.NDArray[np.float64], n_threads: Optional[int] = ...) -> npt.NDArray[np.float64]: ...
def predict_proba(x: npt.NDArray[np.float64], covariance_type: str, weights: npt.NDArray[np.float64], means: npt.NDArray[np.float64], covariances: npt.NDArray[np.float64], precisions_cholesky: npt.NDArray[np.float64], n_threads: Optional[int] = ...) -> npt.NDArray[np.float64]: ...
def predict(x: npt.NDArray[np.float64], covariance_type: str, weights: npt.NDArray[np.float64], means: npt.NDArray[np.float64], covariances: npt.NDArray[np.float64], precisions_cholesky: npt.NDArray[np.float64], n_threads: Optional[int] = ...) -> npt.NDArray[np.int64]: ...
def sample(n: int, seed: int, covariance_type: str, weights: npt.NDArray[np.float64], means: npt.NDArray[np.float64], covariances: npt.NDArray[np.float64], precisions_cholesky: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def seed_workload(n_samples: int, n_components: int, seed: int) -> tuple[npt.NDArray[np.float64], dict[str, npt.NDArray[np.float64]]]: ...

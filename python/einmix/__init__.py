"""einmix: Gaussian mixture models by EM, a drop-in for scikit-learn's ``GaussianMixture``.

>>> from einmix import GaussianMixture
>>> GaussianMixture(n_components=3).n_components
3
"""

from importlib.metadata import PackageNotFoundError, version

from ._einmix import EinmixError
from ._bayesian_mixture import BayesianGaussianMixture
from ._gaussian_mixture import ConvergenceWarning, GaussianMixture, NotFittedError
from ._files import read_data
from . import image
from .image import component_distances

try:
    __version__ = version("einmix")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["GaussianMixture", "BayesianGaussianMixture", "EinmixError", "ConvergenceWarning", "NotFittedError", "read_data", "component_distances", "image", "__version__"]

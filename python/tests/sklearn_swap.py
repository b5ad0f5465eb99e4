"""A pytest plugin: scikit-learn's own mixture tests, run against einmix's classes.

``python -m pytest -p sklearn_swap <sklearn>/mixture/tests/test_bayesian_mixture.py`` (from this
folder) swaps ``sklearn.mixture.BayesianGaussianMixture`` and ``GaussianMixture`` for einmix's
before the test modules import them; see ``test_sklearn_suite.py``."""

import sklearn.mixture

import einmix


def pytest_configure(config):
    sklearn.mixture.BayesianGaussianMixture = einmix.BayesianGaussianMixture
    sklearn.mixture.GaussianMixture = einmix.GaussianMixture

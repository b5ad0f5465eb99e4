"""Story: scikit-learn's own tests of ``BayesianGaussianMixture`` and ``GaussianMixture`` pass
on einmix's classes. The installed files are run as they are, with ``sklearn.mixture``'s classes
swapped for einmix's at import time (``sklearn_swap.py``); nothing is copied.

Skipped, because they exercise scikit-learn's private helpers rather than the public API:
- ``test_compare_covar_type`` (Bayesian): calls ``_check_parameters(X)`` and
  ``_initialize_parameters``;
- ``test_gaussian_mixture_precisions_init`` (4 cases): calls ``_set_parameters``;
- ``test_gaussian_mixture_all_init_does_not_estimate_gaussian_parameters``: mocks the private
  ``_estimate_gaussian_parameters`` and counts its calls.
Tests that call scikit-learn's private functions directly on scikit-learn's data (the
``_estimate_gaussian_*``, ``_log_*_norm`` and ``_compute_*`` helpers) run and pass as they are:
they do not involve the estimator.
"""

import os
import pathlib
import subprocess
import sys

import pytest

sklearn = pytest.importorskip("sklearn")

PRIVATE = {
    "test_bayesian_mixture.py": ["test_compare_covar_type"],
    "test_gaussian_mixture.py": [
        "test_gaussian_mixture_precisions_init",
        "test_gaussian_mixture_all_init_does_not_estimate_gaussian_parameters",
    ],
}


@pytest.mark.parametrize("name, least", [("test_bayesian_mixture.py", 16), ("test_gaussian_mixture.py", 50)])
def test_scikit_learns_own_mixture_tests_pass_on_einmix(name, least):
    tests = pathlib.Path(sklearn.__file__).parent / "mixture" / "tests" / name
    here = pathlib.Path(__file__).parent
    deselect = ["-k", " and ".join(f"not {test}" for test in PRIVATE[name])]
    env = dict(os.environ, PYTHONPATH=str(here) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "sklearn_swap", "-p", "no:cacheprovider", str(tests), *deselect],
        capture_output=True, text=True, env=env, cwd=here,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    passed = int(run.stdout.rsplit(" passed", 1)[0].split()[-1])
    assert passed >= least, run.stdout[-500:]

#!/usr/bin/env python3
"""einmix's BayesianGaussianMixture against scikit-learn's, on the seed workload.

Run from the repository root (with the project's venv, einmix installed in it)::

    .venv/bin/python bench/bayesian_bench.py

The seed workload (130,000 points, 2-D, 50 full components, ``init_params="random_from_data"``,
the default Dirichlet-process prior), each library with its own initialisation at the same
``random_state``. Per-iteration time is measured by differencing two iteration counts in the
same run: ``(t(max_iter=m2) - t(max_iter=m1)) / (m2 - m1)`` with ``tol=0`` so nothing stops
early (this removes set-up, initialisation and the final E-step), the median of a few
repetitions; scikit-learn's BLAS/OpenMP pools and einmix's ``n_threads`` are capped at 1 and 2
threads. The table goes to ``bench/results/bayesian-<date>.md``.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    # Older OpenBLAS builds need these on some CPUs; they slow a current numpy (see compare_sklearn.py).
    os.environ.pop(name, None)

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.mixture import BayesianGaussianMixture as SkBGM  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import einmix  # noqa: E402
from einmix import _einmix  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def timed_fit(make, X, max_iter):
    model = make(max_iter)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    return time.perf_counter() - t0, model


def per_iteration(make, X, m1, m2, reps):
    times, bounds = [], []
    for _ in range(reps):
        t1, _ = timed_fit(make, X, m1)
        t2, model = timed_fit(make, X, m2)
        times.append((t2 - t1) / (m2 - m1))
        bounds.append(model.lower_bound_)
    return statistics.median(times), bounds[-1]


def main():
    x, _ = _einmix.seed_workload(130_000, 50, 0)
    X = np.ascontiguousarray(x)
    common = dict(n_components=50, covariance_type="full", init_params="random_from_data", tol=0.0, random_state=0)
    rows = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            sk_it, sk_lb = per_iteration(lambda m: SkBGM(max_iter=m, **common), X, 1, 3, 3)
        make = lambda m: einmix.BayesianGaussianMixture(max_iter=m, n_threads=threads, **common)  # noqa: E731
        em_it, em_lb = per_iteration(make, X, 2, 12, 5)
        # Later iterations: the components have tightened and culling skips more (scikit-learn
        # does the same work every iteration, so its figure holds for any window).
        late_it, _ = per_iteration(make, X, 12, 60, 3)
        rows.append((threads, sk_it * 1e3, em_it * 1e3, sk_it / em_it, late_it * 1e3, sk_it / late_it, sk_lb, em_lb))
        print(
            f"threads={threads}: scikit-learn {sk_it * 1e3:.1f} ms/it, einmix {em_it * 1e3:.2f} ms/it "
            f"({sk_it / em_it:.0f}x), iterations 12-60 {late_it * 1e3:.2f} ms/it ({sk_it / late_it:.0f}x)",
            file=sys.stderr,
        )
    today = datetime.date.today().isoformat()
    lines = [
        f"# einmix vs scikit-learn BayesianGaussianMixture ({today})",
        "",
        "Command: `.venv/bin/python bench/bayesian_bench.py`",
        "",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores; einmix kernels: {_einmix.instruction_set}",
        f"- versions: Python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}",
        f"- load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        "- workload: the seed's, 130,000 x 2, K=50 full, init_params=random_from_data, Dirichlet process, tol=0",
        "- ms per iteration: (t(max_iter=m2) - t(max_iter=m1)) / (m2 - m1), median of repetitions; scikit-learn",
        "  m1=1, m2=3, 3 repetitions (its fits take seconds; its work per iteration does not depend on the",
        "  iteration); einmix m1=2, m2=12, 5 repetitions (the first iterations, where the components are",
        "  broad and culling skips little), and m1=12, m2=60, 3 repetitions (the fit runs ~200 to converge)",
        "",
        "| threads | scikit-learn ms/it | einmix ms/it, it. 2-12 | ratio | einmix ms/it, it. 12-60 | ratio | lower bound (scikit-learn after 3 it / einmix after 12, own inits) |",
        "|---|---|---|---|---|---|---|",
    ]
    for threads, sk, em, ratio, late, late_ratio, sk_lb, em_lb in rows:
        lines.append(f"| {threads} | {sk:,.0f} | {em:.2f} | {ratio:.0f}x | {late:.2f} | {late_ratio:.0f}x | {sk_lb:.1f} / {em_lb:.1f} |")
    out = REPO / "bench" / "results" / f"bayesian-{today}.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {out.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()

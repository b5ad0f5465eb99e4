#!/usr/bin/env python3
"""einmix against scikit-learn at the shapes most GMM users have, with the machine's dgemm rate.

Run from the repository root (with the project's venv, einmix installed in it)::

    .venv/bin/python bench/high_dim_bench.py            # the five workloads, ~6 minutes on 2 cores
    .venv/bin/python bench/high_dim_bench.py --quick    # smaller N, ~2 minutes

What it measures, in one run, for every workload (2 threads for everyone: einmix's
``n_threads=2``, scikit-learn's BLAS and OpenMP pools capped at 2 by ``threadpoolctl``, numpy's
dgemm likewise):

* **ms per EM iteration**, by differencing: ``(t(max_iter=m2) - t(max_iter=m1)) / (m2 - m1)``
  with ``tol=0``, median over repetitions (5 for einmix; for scikit-learn ``--sklearn-reps``,
  default 1, since one of its iterations takes seconds here: its figures vary by up to 2x
  between runs on this shared machine); set-up and initialisation cancel. Both libraries start
  from the same parameters (``weights_init``, ``means_init``, ``precisions_init``: k-means++ seeds
  and one hard-assignment M-step, ``compare_sklearn.starting_point``), so neither library's own
  initialiser is involved (their ``random_from_data`` draw different rows).
* **the same lower bound**: both libraries' ``lower_bound_`` after ``m2`` iterations from that
  start, and their relative difference.
* **single precision**: the same with ``compute_dtype=np.float32``: its ms per iteration, its
  speed-up over float64, and its lower bound's relative gap to the float64 fit's.
* **share of dgemm's rate**: numpy's ``a @ b`` on 4096 x 4096 doubles, median of 3, in GFLOP/s;
  a workload's rate counts ``2 N K D^2`` flops per iteration for full covariances (the E-step's
  triangular product and the M-step's triangular scatter) and ``4 N K D`` for diagonal ones.

If ``OPENBLAS_CORETYPE`` or ``OPENBLAS_L2_SIZE`` is set, the script re-executes itself once with
both removed so numpy and scikit-learn run the kernel OpenBLAS picks for the machine. The table is
printed and written to ``bench/results/high_dim-<YYYY-MM-DD>.md``.
"""

from __future__ import annotations

import os
import sys

_BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(v in os.environ for v in _BLAS_OVERRIDES):
    env = {k: v for k, v in os.environ.items() if k not in _BLAS_OVERRIDES}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402
import datetime  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.mixture import GaussianMixture as SkGaussianMixture  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import per_iteration, timed  # noqa: E402
from compare_sklearn import starting_point  # noqa: E402

import einmix  # noqa: E402

THREADS = 2

# (name, N, D, K, covariance type): the table.
WORKLOADS = [
    ("speech (GMM-UBM)", 200_000, 39, 512, "diag"),
    ("speech features", 200_000, 60, 256, "diag"),
    ("embeddings", 100_000, 64, 20, "full"),
    ("embeddings", 100_000, 64, 64, "full"),
    ("flow cytometry", 100_000, 16, 50, "full"),
]


def clustered_data(n, d, k, seed):
    """``n`` points in ``d`` dimensions around ``k`` centres with random correlated shapes."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(k, d))
    labels = rng.integers(0, k, size=n)
    x = np.empty((n, d))
    for c in range(k):
        rows = labels == c
        a = rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
        x[rows] = centres[c] + rng.normal(size=(rows.sum(), d)) @ a.T
    return x


def dgemm_rate():
    """numpy's dgemm on 4096 x 4096 doubles at ``THREADS`` threads, GFLOP/s (median of 3)."""
    n = 4096
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n)), rng.random((n, n))
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        _ = a @ b
        rates.append(2 * n**3 / (time.perf_counter() - t0) / 1e9)
    return statistics.median(rates)


def flops(n, d, k, kind):
    return 2 * n * k * d * d if kind == "full" else 4 * n * k * d


def fits(x, k, kind, m, start, dtype=np.float64):
    common = dict(n_components=k, covariance_type=kind, tol=0.0, max_iter=m, **start)
    ours = einmix.GaussianMixture(n_threads=THREADS, compute_dtype=dtype, **common)
    return (ours, SkGaussianMixture(**common))


def measure(x, k, kind, m1, m2, reps_einmix, reps_sklearn):
    start = starting_point(x, k, kind)

    def einmix_fit(m):
        return timed(fits(x, k, kind, m, start)[0], x)

    def sklearn_fit(m):
        return timed(fits(x, k, kind, m, start)[1], x)

    def single_fit(m):
        return timed(fits(x, k, kind, m, start, np.float32)[0], x)

    ours = per_iteration(einmix_fit, m1, m2, reps_einmix)
    single = per_iteration(single_fit, m1, m2, reps_einmix)
    theirs = per_iteration(sklearn_fit, m1, m2, reps_sklearn)
    mine, peer = fits(x, k, kind, m2, start)
    mine_single = fits(x, k, kind, m2, start, np.float32)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine.fit(x)
        peer.fit(x)
        mine_single.fit(x)
    gap = abs(mine.lower_bound_ - peer.lower_bound_) / abs(peer.lower_bound_)
    single_gap = abs(mine_single.lower_bound_ - mine.lower_bound_) / abs(mine.lower_bound_)
    return ours, theirs, gap, single, single_gap


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the points")
    parser.add_argument("--only", type=int, action="append", help="workload rows to run (0-based)")
    parser.add_argument("--sklearn-reps", type=int, default=1, help="repetitions of scikit-learn's timing")
    args = parser.parse_args()
    blas = [(i.get("internal_api"), i.get("architecture")) for i in threadpool_info() if i.get("user_api") == "blas"]
    print(f"einmix {einmix.__version__}, numpy {np.__version__}, BLAS {blas}, {THREADS} threads")
    rows = []
    with threadpool_limits(THREADS):
        rate = dgemm_rate()
        print(f"numpy dgemm (4096^2): {rate:.1f} GFLOP/s")
        for index, (name, n, d, k, kind) in enumerate(WORKLOADS):
            if args.only and index not in args.only:
                continue
            if args.quick:
                n //= 4
            x = clustered_data(n, d, k, seed=index)
            ours, theirs, gap, single, single_gap = measure(x, k, kind, 2, 5, 5, args.sklearn_reps)
            share = flops(n, d, k, kind) / ours / 1e9 / rate
            row = (f"| {name}: {n // 1000}k x {d}, K={k}, {kind} | {ours * 1e3:,.0f} | {theirs * 1e3:,.0f} "
                   f"| {theirs / ours:.1f}x | {share:.0%} | {gap:.1e} "
                   f"| {single * 1e3:,.0f} | {ours / single:.2f}x | {single_gap:.1e} |")
            print(row, flush=True)
            rows.append(row)
    header = [
        f"numpy dgemm at {THREADS} threads: {rate:.1f} GFLOP/s; ms per EM iteration (median), same start",
        "",
        "| workload | einmix ms/iter | scikit-learn ms/iter | ratio | share of dgemm's rate | lower bounds' relative gap "
        "| einmix float32 ms/iter | float32 speed-up | float32's lower-bound gap to float64 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    table = "\n".join(header + rows) + "\n"
    print()
    print(table)
    if not args.only:
        suffix = "-quick" if args.quick else ""
        path = os.path.join("bench", "results", f"high_dim-{datetime.date.today()}{suffix}.md")
        with open(path, "w") as f:
            f.write(f"# {' '.join(sys.argv)}\n\n{table}")
        print(f"written to {path}")


if __name__ == "__main__":
    main()

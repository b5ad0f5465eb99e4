"""Milliseconds per EM iteration: in memory vs Dask (LocalCluster, 2 worker processes), the
per-iteration overhead of Dask on a tiny data set, and `einmix fit --stream` from a .npy
file vs the in-memory CLI fit. D = 2, K = 50, full covariances.

Method: every fit starts from the same given parameters with tol = 0 and runs 1 + M
iterations; the time of one iteration is the median gap between consecutive iteration ends
(in-memory: the core's per-iteration progress callback; Dask: the M-step calls on the client;
CLI: the `--verbose` per-iteration lines on stderr), so set-up (copies into the kernels'
layout, spatial sorts, persisting blocks, the streamed fit's sampling pass) is excluded.
Best of `--repeat` runs. Data: 50 Gaussian blobs in a
512 x 512 box, generated block by block from fixed seeds (on the workers for Dask).

    .venv/bin/python bench/dask_and_stream.py --sizes 2000000 20000000 --out bench/results/distributed.md
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import tempfile
import time

import numpy as np

import einmix

K, D = 50, 2
BLOCK = 1_000_000


def truth():
    rng = np.random.default_rng(12345)
    return rng.uniform(0, 512, (K, D)), rng.uniform(2.0, 12.0, K)


def make_block(i, rows):
    centers, scales = truth()
    rng = np.random.default_rng([7, i])
    label = rng.integers(0, K, rows)
    return centers[label] + rng.normal(size=(rows, D)) * scales[label, None]


def blocks_of(n):
    return [min(BLOCK, n - s) for s in range(0, n, BLOCK)]


def start_params():
    centers, scales = truth()
    rng = np.random.default_rng(99)
    means = centers + rng.normal(size=centers.shape) * 3.0
    prec = np.stack([np.eye(D) / (s * 1.3) ** 2 for s in scales])
    return dict(weights_init=np.full(K, 1.0 / K), means_init=means, precisions_init=prec)


def median_gap(stamps):
    return float(np.median(np.diff(stamps))) * 1e3


def local_ms(X, m, repeat):
    p = start_params()
    best = np.inf
    for _ in range(repeat):
        stamps = []
        w = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in p.items()}
        einmix._einmix.fit(
            np.ascontiguousarray(X), None, n_components=K, covariance_type="full", tol=0.0, reg_covar=1e-6,
            max_iter=1 + m, n_init=1, init_params="kmeans", random_state=0, n_threads=None,
            progress=lambda *a: stamps.append(time.perf_counter()), **w,
        )
        best = min(best, median_gap(stamps))
    return best


def dask_ms(Xd, m, repeat):
    import einmix.dask as edask

    p = start_params()
    best = np.inf
    original = einmix._einmix.m_step_from_statistics
    for _ in range(repeat):
        stamps = []

        def timed(*a):
            stamps.append(time.perf_counter())
            return original(*a)

        einmix._einmix.m_step_from_statistics = timed
        try:
            edask.fit(Xd, n_components=K, tol=0.0, max_iter=1 + m, **p)
        finally:
            einmix._einmix.m_step_from_statistics = original
        best = min(best, median_gap(stamps))
    return best


def stream_ms(path, m, repeat):
    exe = os.path.join(os.path.dirname(__file__), "..", "target", "release", "einmix")
    args = [exe, "fit", path, "-k", str(K), "--random-state", "0", "--tol", "0", "--max-iter", str(1 + m), "-v",
            "-o", os.path.join(os.path.dirname(path), "m.json"), "--force", "--stream"]
    best = np.inf
    for _ in range(repeat):
        stamps = []
        with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
            for line in proc.stderr:
                if " iteration " in line:
                    stamps.append(time.perf_counter())
        best = min(best, median_gap(stamps))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[2_000_000, 20_000_000])
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    import dask
    import dask.array as da
    import distributed

    rows = []
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster, distributed.Client(cluster):
        # Tiny data: what Dask adds per iteration (scheduling, parameters out, vectors back).
        tiny = make_block(0, 1000)
        dask_ms(da.from_array(tiny, chunks=250), 2, 1)  # warm the workers up
        rows.append(("tiny: 1,000 points, 4 chunks", local_ms(tiny, 20, 3), dask_ms(da.from_array(tiny, chunks=250), 20, 3)))
        for n in a.sizes:
            parts = [dask.delayed(make_block)(i, r) for i, r in enumerate(blocks_of(n))]
            Xd = da.concatenate([da.from_delayed(p, (r, D), np.float64) for p, r in zip(parts, blocks_of(n))])
            Xd = Xd.persist()
            d_ms = dask_ms(Xd, a.iters, a.repeat)
            del Xd
            X = np.concatenate([make_block(i, r) for i, r in enumerate(blocks_of(n))])
            l_ms = local_ms(X, a.iters, a.repeat)
            rows.append((f"{n:,} points", l_ms, d_ms))
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "x.npy")
                np.save(path, X)
                del X
                s_str = stream_ms(path, a.iters, a.repeat)
            rows.append((f"{n:,} points, `einmix fit --stream` from .npy", l_ms, s_str))

    lines = [
        "| data | in memory (ms/iter) | distributed or streamed (ms/iter) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, left, right in rows:
        ratio = f"{right / left:.2f}" if left > 0.5 else "-"
        lines.append(f"| {name} | {left:.2f} | {right:.1f} | {ratio} |")
    head = (
        f"einmix {einmix.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"instruction set {einmix._einmix.instruction_set}; D = {D}, K = {K}, full covariances; "
        f"median of {a.iters} iteration times, best of {a.repeat} runs. Rows 1-2 per size: in-memory `einmix.GaussianMixture` "
        "(all cores) vs `einmix.dask.fit` on LocalCluster(n_workers=2, threads_per_worker=1, processes=True); "
        "`--stream` rows: the in-memory iteration vs `einmix fit x.npy --stream` (262,144 rows per block, "
        "re-sorted in Morton order every pass; the file sits in the page cache)."
    )
    text = head + "\n\n" + "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()

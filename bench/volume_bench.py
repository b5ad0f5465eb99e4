#!/usr/bin/env python3
"""3-D stacks: the image pipeline on z-stacks fitted in (z, row, col), per time point and per
EM iteration, with and without the learned floor, and scikit-learn on the same weighted points
where it can be run the original way (voxels repeated by intensity).

Run from the repository root (with the project's venv, einmix installed in it)::

    .venv/bin/python bench/volume_bench.py [--nellie path/to/yeast_3d_mitochondria.ome.tif]

1. A synthetic time-lapse of 4 stacks of 32 x 512 x 512 voxels (0.3 x 0.1 x 0.1 um, a Z step
   three times the pixel), 50 elongated, randomly oriented Gaussian structures (0.6 um long
   axis, an axial blur of 0.25 um) on a Poisson floor of 10 photons, drifting between time
   points. With ``--nellie``, also the real 3-D time-lapse behind the demo (nellie 1.0.4's
   sample data: 30 x 17 x 192 x 279 voxels of 0.25 x 0.0655 x 0.0655 um, live yeast
   mitochondria), its first 8 time points, voxel size from its OME metadata.
2. Per time point, the pipeline (``einmix.image.track(z_project="volume")``, warm-started
   from the previous time point, ``-k auto`` peaks found in 3-D on the first): the learned
   floor (every voxel, weighted by intensity) against a subtracted level (the voxels above
   the 99th percentile, weighted by the excess): median ``time_ms`` of the time points after
   the first.
3. Per EM iteration, on the first time point's points, from the pipeline's fitted mixture:
   ``(t(max_iter=m2) - t(max_iter=m1)) / (m2 - m1)`` with ``tol=0``, median of repetitions,
   2 threads: einmix with the background component and without it on every voxel, and on the
   voxels above the level einmix against scikit-learn's ``GaussianMixture`` on those voxels
   repeated by their (integer) excess. scikit-learn is not run on every voxel: repeated by
   intensity they are ~10^8 rows, ~2.4 GB of coordinates and ~50 GB of responsibilities.

The table goes to ``bench/results/volume-<date>.md``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
from pathlib import Path

for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(name, None)

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.mixture import GaussianMixture as SkGM  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import einmix  # noqa: E402
from einmix import _einmix, image  # noqa: E402
from _timing import per_iteration, timed  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
THREADS = 2
VOXEL = (0.3, 0.1, 0.1)


def synthetic_stack(t_points=4, shape=(32, 512, 512), k=50, floor=10.0, seed=0):
    rng = np.random.default_rng(seed)
    z, h, w = shape
    extent = np.array(shape) * np.array(VOXEL)
    means = np.column_stack([rng.uniform(1.5, extent[0] - 1.5, k), rng.uniform(3, extent[1] - 3, k),
                             rng.uniform(3, extent[2] - 3, k)])
    covs = []
    for _ in range(k):
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        c = q @ np.diag([0.6**2, 0.15**2, 0.12**2]) @ q.T
        c[0, 0] += 0.25**2
        covs.append(c)
    photons = rng.uniform(2e4, 6e4, k)
    grid = np.stack(np.meshgrid(*(np.arange(n) * s for n, s in zip(shape, VOXEL)), indexing="ij"), -1).reshape(-1, 3)
    out = np.empty((t_points, *shape), np.float32)
    for t in range(t_points):
        lam = np.full(len(grid), floor)
        for m, c, p in zip(means, covs, photons):
            m = m + np.array([0.0, 0.05 * t, 0.03 * t])
            near = np.all(np.abs(grid - m) < 4 * np.sqrt(np.diag(c)), axis=1)
            d = grid[near] - m
            quad = np.einsum("ni,ij,nj->n", d, np.linalg.inv(c), d)
            lam[near] += p * np.prod(VOXEL) * np.exp(-0.5 * quad) / np.sqrt((2 * np.pi) ** 3 * np.linalg.det(c))
        out[t] = rng.poisson(lam).reshape(shape)
    return out


def voxel_points(volume, voxel, level):
    z, r, c = np.nonzero(volume > level)
    x = np.column_stack([z * voxel[0], r * voxel[1], c * voxel[2]])
    return x, (volume[z, r, c] - level).astype(float)


def measure(name, stack, voxel, options):
    """The rows of one data set: pipeline per time point, then per iteration."""
    level = float(np.percentile(stack[0], 99))
    pipeline = []
    fits = {}
    for label, extra in (("learned floor (default)", {}), ("subtracted p99", {"background": "p99"})):
        r = image.track(stack, z_project="volume", voxel_size=voxel, n_threads=THREADS, progress=False, **options, **extra)
        fits[label] = r
        pipeline.append((name, label, r["means"].shape[1], int(np.median(r["n_points"])), statistics.median(r["time_ms"][1:])))
        print(f"{name}, {label}: K={r['means'].shape[1]}, {statistics.median(r['time_ms'][1:]):.0f} ms per time point", file=sys.stderr)
    shape = stack.shape[1:]
    region = ([-0.5 * s for s in voxel], [(n - 0.5) * s for n, s in zip(shape, voxel)])
    rows = []
    for label, lvl, background in (("every voxel", 0.0, region), ("voxels above p99", level, None)):
        start = fits["learned floor (default)" if background else "subtracted p99"]
        k = start["means"].shape[1]
        x, w = voxel_points(stack[0], voxel, lvl)
        weights = start["weights"][0] / start["weights"][0].sum()
        common = dict(n_components=k, covariance_type="full", tol=0.0, reg_covar=min(voxel) ** 2 / 12,
                      weights_init=weights, means_init=start["means"][0], precisions_init=start["precs"][0])

        def einmix_fit(bg):
            return lambda m: timed(einmix.GaussianMixture(max_iter=m, n_threads=THREADS, background=bg, **common), x, w)

        with_bg = per_iteration(einmix_fit(region), 2, 6, 3) if background else float("nan")
        without = per_iteration(einmix_fit(None), 2, 6, 3)
        sk = float("nan")
        repeated = 0
        if background is None:
            reps = np.rint(w).astype(np.int64)
            xr = np.repeat(x, reps, axis=0)
            repeated = len(xr)
            with threadpool_limits(limits=THREADS):
                sk = per_iteration(lambda m: timed(SkGM(max_iter=m, init_params="random", random_state=0, **common), xr), 1, 2, 3)
        rows.append((name, label, k, len(x), repeated, with_bg * 1e3, without * 1e3, sk * 1e3))
        print(f"{name}, {label}: {len(x):,} points, einmix {with_bg * 1e3:.1f} / {without * 1e3:.1f} ms/it, scikit-learn {sk * 1e3:.0f}", file=sys.stderr)
    return pipeline, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nellie", help="nellie's yeast_3d_mitochondria.ome.tif (the demo's 3-D source)")
    args = parser.parse_args()
    sets = [("synthetic 4 x 32 x 512 x 512", synthetic_stack(), VOXEL, {})]
    if args.nellie:
        pixels, voxel = image.read(args.nellie, z_project="volume", frames="0:8", with_voxel_size=True)
        sets.append(("nellie yeast 8 x 17 x 192 x 279 (real)", pixels, tuple(voxel), {"min_distance": 6, "smooth": 1.5}))
    pipeline, rows = [], []
    for name, stack, voxel, options in sets:
        p, r = measure(name, stack, voxel, options)
        pipeline += p
        rows += r
    today = datetime.date.today().isoformat()
    lines = [
        f"# 3-D stacks: the pipeline per time point, EM per iteration ({today})",
        "",
        "Command: `.venv/bin/python bench/volume_bench.py --nellie yeast_3d_mitochondria.ome.tif`",
        "",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores; einmix kernels: {_einmix.instruction_set}",
        f"- versions: Python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}",
        f"- load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        f"- {THREADS} threads everywhere; full covariances in (z, row, col) times the voxel's sides",
        "",
        "Per time point, `einmix.image.track(z_project=\"volume\")`, warm-started (median over the time points after the first):",
        "",
        "| stack | floor | K (-k auto, 3-D peaks) | voxels fitted per time point | ms per time point |",
        "|---|---|---|---|---|",
    ]
    for name, label, k, n, ms in pipeline:
        lines.append(f"| {name} | {label} | {k} | {n:,} | {ms:,.0f} |")
    lines += [
        "",
        "Per EM iteration on the first time point (tol=0, the pipeline's mixture as the start; "
        "(t(m2) - t(m1)) / (m2 - m1), median of 3; einmix m1=2, m2=6; scikit-learn m1=1, m2=2, on the voxels repeated by their excess):",
        "",
        "| stack | points | K | voxels | repeated points | einmix with floor ms/it | einmix without ms/it | scikit-learn ms/it | scikit-learn / einmix |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, label, k, n, rep, wb, wo, sk in rows:
        ratio = f"{sk / wo:,.0f}x" if np.isfinite(sk) else "not run (see above)"
        fmt = lambda v: f"{v:,.1f}" if np.isfinite(v) else "-"  # noqa: E731
        lines.append(f"| {name} | {label} | {k} | {n:,} | {rep:,} | {fmt(wb)} | {fmt(wo)} | {fmt(sk)} | {ratio} |")
    out = REPO / "bench" / "results" / f"volume-{today}.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {out.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The learned floor (a uniform background component) on microscopy frames: its cost, and
scikit-learn on the same data, the original way (pixels repeated by intensity, no weights).

Run from the repository root (with the project's venv, einmix installed in it)::

    .venv/bin/python bench/floor_bench.py

Two 2-D frames: the embedded demo's first frame (a real live-yeast mitochondrial network,
192 x 279, camera floor ~108 counts) and a synthetic 256 x 256 frame of 20 Gaussian spots on a
Poisson floor of 20 photons. For each, K is what ``-k auto`` finds with the learned floor, and
every fit starts from the same mixture (that fit's).

1. Per EM iteration, all pixels weighted by intensity: einmix with the background component,
   einmix without it, and scikit-learn's ``GaussianMixture`` on the pixels repeated by their
   (integer) intensity, which is the same data unweighted (it has no sample weights and no
   background component). ``(t(max_iter=m2) - t(max_iter=m1)) / (m2 - m1)`` with ``tol=0``,
   the median of repetitions; both at 2 threads.
2. Per frame, the pipeline (``einmix.image.track``, warm-started frame to frame) over the demo's
   30 frames: the learned floor against a subtracted level (the old hand-tuned p98): median
   ``time_ms`` per frame after the first.

The table goes to ``bench/results/floor-<date>.md``. 3-D stacks: ``bench/volume_bench.py``.
"""

from __future__ import annotations

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


def synthetic_frame(seed=0, size=256, spots=20, floor=20.0):
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[0:size, 0:size].astype(float)
    expected = np.full((size, size), floor)
    for _ in range(spots):
        mu = rng.uniform(20, size - 20, 2)
        a = rng.normal(size=(2, 2))
        cov = a @ a.T + 4 * np.eye(2)
        inv, det = np.linalg.inv(cov), np.linalg.det(cov)
        d0, d1 = rr - mu[0], cc - mu[1]
        q = inv[0, 0] * d0 * d0 + 2 * inv[0, 1] * d0 * d1 + inv[1, 1] * d1 * d1
        expected += rng.uniform(5e3, 3e4) * np.exp(-0.5 * q) / (2 * np.pi * np.sqrt(det))
    return rng.poisson(expected).astype(np.float32)


def frame_rows(name, frame):
    h, w = frame.shape
    rr, cc = np.mgrid[0:h, 0:w]
    pts = np.column_stack([rr.ravel(), cc.ravel()]).astype(float)
    weights = frame.ravel().astype(float)
    keep = weights > 0
    pts, weights = pts[keep], weights[keep]
    start = image.fit_image(frame, n_threads=THREADS)
    k = start["means"].shape[0]
    region = ([-0.5, -0.5], [h - 0.5, w - 0.5])
    init = dict(weights_init=start["weights"] / start["weights"].sum(), means_init=start["means"],
                precisions_init=np.linalg.inv(start["covars"]))
    common = dict(n_components=k, covariance_type="full", tol=0.0, reg_covar=1 / 12, **init)

    def einmix_fit(background):
        return lambda m: timed(einmix.GaussianMixture(max_iter=m, n_threads=THREADS, background=background, **common), pts, weights)

    with_bg = per_iteration(einmix_fit(region), 2, 12, 5)
    without = per_iteration(einmix_fit(None), 2, 12, 5)
    repeated = np.repeat(pts, np.rint(weights).astype(np.int64), axis=0)
    with threadpool_limits(limits=THREADS):
        sk = per_iteration(lambda m: timed(SkGM(max_iter=m, init_params="random", random_state=0, **common), repeated), 1, 3, 3)
    print(f"{name}: K={k}, {len(pts):,} pixels, {len(repeated):,} repeated points; einmix {with_bg * 1e3:.2f} ms/it with the floor, "
          f"{without * 1e3:.2f} without; scikit-learn {sk * 1e3:.0f} ms/it", file=sys.stderr)
    return (name, k, len(pts), len(repeated), with_bg * 1e3, without * 1e3, sk * 1e3, sk / with_bg)


def pipeline_rows():
    stack = image.demo_stack()
    rows = []
    for label, options in (("learned floor (default)", {}), ("subtracted p98 (the old demo's hand-tuned level)", {"background": "p98"})):
        result = image.track(stack, min_distance=6, smooth=1.5, n_threads=THREADS, **options)
        rows.append((label, result["means"].shape[1], statistics.median(result["time_ms"][1:]), int(np.median(result["n_points"]))))
    return rows


def main():
    frames = [("demo frame 0 (real, 192 x 279)", image.demo_stack()[0]), ("synthetic 256 x 256, 20 spots", synthetic_frame())]
    rows = [frame_rows(name, f) for name, f in frames]
    pipeline = pipeline_rows()
    today = datetime.date.today().isoformat()
    lines = [
        f"# The learned floor: cost per iteration and per frame ({today})",
        "",
        "Command: `.venv/bin/python bench/floor_bench.py`",
        "",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores; einmix kernels: {_einmix.instruction_set}",
        f"- versions: Python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}",
        f"- load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        f"- {THREADS} threads everywhere; full covariances, tol=0, the same starting mixture for every fit",
        "- ms per iteration: (t(max_iter=m2) - t(max_iter=m1)) / (m2 - m1), median; einmix m1=2, m2=12, 5 repetitions;",
        "  scikit-learn m1=1, m2=3, 3 repetitions, on the pixels repeated by intensity (its only way to weight them)",
        "",
        "| frame | K | pixels | repeated points | einmix with floor ms/it | einmix without ms/it | scikit-learn ms/it | scikit-learn / einmix with floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, k, n, rep, wb, wo, sk, ratio in rows:
        lines.append(f"| {name} | {k} | {n:,} | {rep:,} | {wb:.2f} | {wo:.2f} | {sk:,.0f} | {ratio:,.0f}x |")
    lines += [
        "",
        "Per frame, the pipeline over the demo's 30 frames (`einmix.image.track`, warm-started; median of frames 1-29):",
        "",
        "| floor | K (-k auto) | pixels fitted per frame | ms per frame |",
        "|---|---|---|---|",
    ]
    for label, k, ms, n in pipeline:
        lines.append(f"| {label} | {k} | {n:,} | {ms:.1f} |")
    out = REPO / "bench" / "results" / f"floor-{today}.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {out.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()

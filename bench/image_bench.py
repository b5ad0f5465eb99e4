"""Benchmark: tracking a 512x512 time-lapse with K = 50, warm-started frame to frame.

einmix.image.track (unique pixels weighted by intensity, warm start from the previous frame)
against scikit-learn fitted the original OrNet way (every pixel's coordinate repeated by its
integer intensity, GaussianMixture(50, covariance_type="full", warm_start=True)), on the same
frames, in the same run. Frames are synthetic cells: 50 elongated mitochondria-like blobs that
drift, over a dim cytoplasm disc that sets the number of nonzero pixels.

    .venv/bin/python bench/image_bench.py [--frames 12] [--sklearn-frames 4] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def make_frames(radius: float, n_frames: int, k: int = 50, size: int = 512, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[:size, :size].astype(np.float64)
    centre = size / 2
    disc = ((rr - centre) ** 2 + (cc - centre) ** 2) <= radius**2
    ang = rng.uniform(0, 2 * np.pi, k)
    rad = radius * np.sqrt(rng.uniform(0, 0.8, k))
    pos = np.column_stack([centre + rad * np.sin(ang), centre + rad * np.cos(ang)])
    vel = rng.normal(0, 0.4, (k, 2))
    sd_long, sd_short = rng.uniform(3, 7, k), rng.uniform(1.2, 2.2, k)
    theta = rng.uniform(0, np.pi, k)
    amp = rng.uniform(12, 30, k)
    frames = np.zeros((n_frames, size, size), np.float32)
    for t in range(n_frames):
        img = np.where(disc, 1.0 + rng.integers(0, 3, (size, size)), 0.0)
        p = pos + t * vel
        for j in range(k):
            c, s = np.cos(theta[j]), np.sin(theta[j])
            r0, c0 = int(p[j, 0]), int(p[j, 1])
            h = int(4 * sd_long[j]) + 2
            sl = (slice(max(r0 - h, 0), r0 + h), slice(max(c0 - h, 0), c0 + h))
            dr, dc = rr[sl] - p[j, 0], cc[sl] - p[j, 1]
            u, v = c * dr + s * dc, -s * dr + c * dc
            img[sl] += amp[j] * np.exp(-0.5 * ((u / sd_long[j]) ** 2 + (v / sd_short[j]) ** 2))
        frames[t] = np.round(img * disc)
    return frames


def einmix_run(frames: np.ndarray, threads: int) -> dict:
    from einmix import image

    t0 = time.perf_counter()
    r = image.track(frames, k=50, background=0, random_state=0, n_threads=threads, laplacian=True)
    wall = time.perf_counter() - t0
    warm = r["time_ms"][1:]
    return {
        "warm_ms": warm,
        "first_ms": r["time_ms"][0],
        "n_iter": r["n_iter"][1:],
        "lower_bound": r["lower_bound"],
        "reseeds": len(r["reseed_frame"]),
        "wall_s": wall,
    }


def sklearn_run(frames: np.ndarray, n: int) -> dict:
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(50, covariance_type="full", warm_start=True, random_state=0)
    times, iters, lbs, npts = [], [], [], []
    for t in range(n + 1):
        f = frames[t]
        rows, cols = np.nonzero(f)
        x = np.repeat(np.column_stack([rows, cols]).astype(np.float64), f[rows, cols].astype(int), axis=0)
        t0 = time.perf_counter()
        gm.fit(x)
        times.append((time.perf_counter() - t0) * 1e3)
        iters.append(gm.n_iter_)
        lbs.append(gm.lower_bound_)
        npts.append(len(x))
    return {"warm_ms": np.array(times[1:]), "first_ms": times[0], "n_iter": np.array(iters[1:]), "lower_bound": np.array(lbs), "n_repeated": np.array(npts)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--sklearn-frames", type=int, default=3, help="warm frames timed for scikit-learn")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    import einmix
    import sklearn

    print(f"# machine: {platform.machine()}, {os.cpu_count()} logical cores; einmix {einmix.__version__} "
          f"({einmix._einmix.instruction_set}), scikit-learn {sklearn.__version__}, numpy {np.__version__}")
    print("| frames (512x512) | nonzero pixels | repeated points | einmix warm ms/frame (median, p90, max) | einmix EM iters | "
          "scikit-learn warm ms/frame (median) | sklearn EM iters | speed-up | lower bound einmix / sklearn (frame 1) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for radius in (80, 140, 200):
        frames = make_frames(radius, a.frames)
        nz = int((frames[0] > 0).sum())
        e = einmix_run(frames, a.threads)
        s = sklearn_run(frames, a.sklearn_frames)
        em, sm = float(np.median(e["warm_ms"])), float(np.median(s["warm_ms"]))
        print(
            f"| {a.frames} (radius {radius}) | {nz:,} | {int(s['n_repeated'][0]):,} | "
            f"{em:.1f}, {np.percentile(e['warm_ms'], 90):.1f}, {e['warm_ms'].max():.1f} | {np.mean(e['n_iter']):.1f} | "
            f"{sm:.0f} | {np.mean(s['n_iter']):.1f} | {sm / em:.0f}x | "
            f"{e['lower_bound'][1]:.4f} / {s['lower_bound'][1]:.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

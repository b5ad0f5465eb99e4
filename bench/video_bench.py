"""Benchmark: a video of the seed's length tracked in the memory of one frame.

Writes a 20,000-frame 512x512 uint8 video (`.npy`, frame by frame), made reproducibly from the
embedded demo (nellie's yeast mitochondria, 30 frames of 192x279): each frame is a 3x2
mirrored tiling of a demo frame cut to 512x512, the demo played forwards and backwards, with
seeded shot noise; then tracks it with the release binary (`einmix image track`) and prints
peak resident memory (the child's `ru_maxrss`, from `os.wait4`), ms per frame and total time.
The same frames' first 30 and first 2,000 give the memory ratio the streaming promises
(2,000 within 1.2x of 30), and so do volumes (T, 8, 128, 128).

    cargo build --release -p einmix-cli
    .venv/bin/python bench/video_bench.py [--frames 20000] [--threads 2] [--dir /tmp/einmix-video]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "einmix"


def demo_frames() -> np.ndarray:
    return np.load(ROOT / "crates" / "image" / "data" / "yeast_mito_mip.npy").astype(np.float32)


def video_frame(demo: np.ndarray, t: int, size: int = 512) -> np.ndarray:
    """Frame t: the demo played forwards and backwards, tiled and mirrored, with shot noise."""
    n = demo.shape[0]
    cycle = 2 * n - 2
    p = t % cycle
    src = demo[p if p < n else cycle - p]
    row = np.concatenate([src, src[:, ::-1]], axis=1)
    tiled = np.concatenate([row, row[::-1], row], axis=0)[:size, :size]
    rng = np.random.default_rng(t)
    noisy = tiled + rng.normal(0.0, 2.0, tiled.shape)
    return np.clip(np.round((noisy - 90.0) * 0.6), 0, 255).astype(np.uint8)


def write_video(path: Path, frames: int) -> float:
    demo = demo_frames()
    t0 = time.perf_counter()
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(frames, 512, 512))
    for t in range(frames):
        out[t] = video_frame(demo, t)
    out.flush()
    del out
    return time.perf_counter() - t0


def write_volumes(path: Path, frames: int) -> None:
    demo = demo_frames()
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(frames, 8, 128, 128))
    for t in range(frames):
        plane = video_frame(demo, t)[:128, :128].astype(np.float32)
        # Eight slices: the plane, dimmer away from the middle slice.
        out[t] = np.stack([np.round(plane * (1.0 - abs(z - 3.5) / 5.0)) for z in range(8)]).astype(np.uint8)
    out.flush()
    del out


def track(video: Path, frames: int, out: Path, threads: int, extra: list[str]) -> dict:
    if out.exists():
        shutil.rmtree(out)
    args = [str(BINARY), "image", "track", str(video), "--frames", f"0:{frames}", "-o", str(out), "-q"]
    args += ["--threads", str(threads), "--pictures", "0"] + extra
    t0 = time.perf_counter()
    proc = subprocess.Popen(args)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed with status {status}")
    summary = np.genfromtxt(out / "summary.csv", delimiter=",", names=True)
    return {
        "frames": frames,
        "rss_mb": usage.ru_maxrss / 1024.0,
        "wall_s": wall,
        "ms_per_frame": float(np.median(summary["time_ms"])),
        "wall_ms_per_frame": 1e3 * wall / frames,
        "k": int(np.load(out / "track.npz")["means"].shape[1]),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dir", default="/tmp/einmix-video")
    ap.add_argument("--skip-long", action="store_true", help="only the 30 / 2,000-frame memory checks")
    args = ap.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    if not BINARY.exists():
        raise SystemExit("build the binary first: cargo build --release -p einmix-cli")
    video = work / f"video-{args.frames}.npy"
    if not video.exists():
        seconds = write_video(video, args.frames)
        print(f"wrote {video} ({video.stat().st_size / 1e9:.2f} GB) in {seconds:.0f} s")
    volumes = work / "volumes-2000.npy"
    if not volumes.exists():
        write_volumes(volumes, 2000)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; threads {args.threads}")
    rows = []
    for label, path, n, extra in [
        ("2-D 512x512", video, 30, []),
        ("2-D 512x512", video, 2000, []),
        ("volume 8x128x128", volumes, 30, ["--z", "volume"]),
        ("volume 8x128x128", volumes, 2000, ["--z", "volume"]),
    ] + ([] if args.skip_long else [("2-D 512x512", video, args.frames, [])]):
        r = track(path, n, work / f"out-{label.split()[0]}-{n}", args.threads, extra)
        r["what"] = label
        rows.append(r)
        print(
            f"{label:18s} {n:6d} frames: K={r['k']}, peak RSS {r['rss_mb']:.1f} MB, "
            f"{r['ms_per_frame']:.1f} ms per frame (median fit), {r['wall_s']:.1f} s total"
        )
    print()
    print("| video | frames | K | peak RSS | median ms per frame | wall time | RSS vs 30 frames |")
    print("|---|---|---|---|---|---|---|")
    base = {}
    for r in rows:
        key = r["what"]
        base.setdefault(key, r["rss_mb"])
        print(
            f"| {key} | {r['frames']:,} | {r['k']} | {r['rss_mb']:.1f} MB | {r['ms_per_frame']:.1f} | "
            f"{r['wall_s']:.1f} s | {r['rss_mb'] / base[key]:.2f}x |"
        )


if __name__ == "__main__":
    main()

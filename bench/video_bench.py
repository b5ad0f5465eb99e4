"""Benchmark: a video of the seed's length tracked in the memory of one frame.

Writes a 20,000-frame 512x512 uint8 video (`.npy`, frame by frame), made reproducibly from the
embedded demo (nellie's yeast mitochondria, 30 frames of 192x279): each frame is a 3x2
mirrored tiling of a demo frame cut to 512x512, the demo played forwards and backwards, with
seeded shot noise; then tracks it with the release binary (`einmix image track`) and prints
peak resident memory (GNU time's maximum resident set size of the process), ms per frame and total time.
The same frames' first 30 and first 2,000 give the memory ratio the streaming promises
(2,000 within 1.2x of 30), and so do volumes (T, 16, 128, 128). Peak memory is GNU time's `%M`.

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
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(frames, 16, 128, 128))
    profile = np.exp(-0.5 * ((np.arange(16) - 7.5) / 3.0) ** 2)
    for t in range(frames):
        plane = video_frame(demo, t)[:128, :128].astype(np.float32)
        # Sixteen slices: the plane, dimmer away from the middle (a structure of some depth).
        out[t] = np.round(plane[None] * profile[:, None, None]).astype(np.uint8)
    out.flush()
    del out


def track(binary: str, video: Path, frames: int, out: Path, threads: int, extra: list[str]) -> dict:
    if out.exists():
        shutil.rmtree(out)
    args = [binary, "image", "track", str(video), "--frames", f"0:{frames}", "-o", str(out), "-q"]
    args += ["--threads", str(threads), "--pictures", "0"] + extra
    # GNU time reports the child's own peak: a child forked straight from this process would
    # inherit this process's high-water mark (the video it wrote through a memory map).
    report = out.parent / f".{out.name}.rss"
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(report)] + args)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed with status {proc.returncode}")
    rss_kb = float(report.read_text().split()[-1])
    summary = np.genfromtxt(out / "summary.csv", delimiter=",", names=True)
    return {
        "frames": frames,
        "rss_mb": rss_kb / 1024.0,
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
    ap.add_argument("--binary", default=str(BINARY), help="the einmix binary to run (a copy keeps rebuilds out)")
    ap.add_argument("--skip-long", action="store_true", help="only the 30 / 2,000-frame memory checks")
    ap.add_argument("--only-long", action="store_true", help="only the long run")
    args = ap.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    if not Path(args.binary).exists():
        raise SystemExit("build the binary first: cargo build --release -p einmix-cli")
    video = work / f"video-{args.frames}.npy"
    if not video.exists():
        seconds = write_video(video, args.frames)
        print(f"wrote {video} ({video.stat().st_size / 1e9:.2f} GB) in {seconds:.0f} s")
    volumes = work / "volumes16-2000.npy"
    if not volumes.exists():
        write_volumes(volumes, 2000)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; threads {args.threads}")
    rows = []
    runs = [
        ("2-D 512x512", video, 30, []),
        ("2-D 512x512", video, 2000, []),
        ("volume 16x128x128", volumes, 30, ["--z", "volume", "-k", "12"]),
        ("volume 16x128x128", volumes, 2000, ["--z", "volume", "-k", "12"]),
    ] + ([] if args.skip_long else [("2-D 512x512", video, args.frames, [])])
    if args.only_long:
        runs = runs[-1:]
    for label, path, n, extra in runs:
        r = track(args.binary, path, n, work / f"out-{label.split()[0]}-{n}", args.threads, extra)
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

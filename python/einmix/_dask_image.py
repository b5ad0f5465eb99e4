"""The image pipeline over a Dask cluster: cells (or whole videos) as independent tasks.

A cell's track depends only on its own pixels (and not on the threads that fit it), so the
cells of a field are mapped one task each: a task runs :func:`einmix.image.track_cells` with
every label but its own blanked, into a scratch folder, and moves ``cell_<label>/`` into the
output; the client writes ``cells.csv`` from the tasks' rows. The files equal a local run's
(the ``time`` columns aside). Workers read the inputs themselves: give paths or arrays that
pickle (numpy arrays, memmaps, zarr arrays).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Optional, Sequence

import numpy as np


class _OneLabel:
    """A label array-like with every label but ``label`` set to 0, read frame by frame."""

    def __init__(self, labels: Any, label: int):
        self.labels, self.label = labels, label
        self.shape = tuple(int(n) for n in labels.shape)

    def __getitem__(self, index):
        frame = np.asarray(self.labels[index])
        return np.where(frame == self.label, frame, 0)

    def __array__(self, dtype=None, copy=None):
        whole = np.asarray(self.labels)
        out = np.where(whole == self.label, whole, 0)
        return out if dtype is None else out.astype(dtype)


def _open(x: Any) -> Any:
    """A path is read lazily (``.npy`` as a memmap); anything else is used as it is."""
    if isinstance(x, (str, os.PathLike)):
        return np.load(os.fspath(x), mmap_mode="r")
    return x


def labels_in(labels: Any, fixed_ndim: int) -> list[int]:
    """The labels present anywhere in ``labels`` (read a frame at a time)."""
    labels = _open(labels)
    if len(labels.shape) == fixed_ndim:
        frames = [labels]
    else:
        frames = (labels[t] for t in range(labels.shape[0]))
    seen: set[int] = set()
    for frame in frames:
        values = np.unique(np.asarray(frame))
        if not np.all(np.isfinite(values) & (values == np.round(values))):
            from ._einmix import EinmixError

            bad = values[~(np.isfinite(values) & (values == np.round(values)))][0]
            raise EinmixError(f"labels must be integers, but they hold {bad}")
        seen.update(int(v) for v in values if v != 0)
    return sorted(seen)


def _track_cell(stack: Any, labels: Any, label: int, output: str, options: dict) -> str:
    from . import image

    os.makedirs(output, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=f".einmix-cell-{label}-", dir=output)
    try:
        image.track_cells(_open(stack), _OneLabel(_open(labels), label), output=scratch, **options)
        target = os.path.join(output, f"cell_{label}")
        if os.path.exists(target):
            shutil.rmtree(target)
        shutil.move(os.path.join(scratch, f"cell_{label}"), target)
        with open(os.path.join(scratch, "cells.csv"), encoding="utf-8") as f:
            return f.read().splitlines()[1]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def track_cells(
    stack: Any,
    labels: Any,
    output: str | os.PathLike,
    *,
    z_project: str = "none",
    client: Optional[Any] = None,
    **options: Any,
) -> list[int]:
    """Track every labelled cell of ``stack`` on a Dask cluster, one task per cell, into
    ``output/cell_<label>/`` and ``output/cells.csv``, as :func:`einmix.image.track_cells`
    writes them locally. ``stack`` and ``labels`` are paths (``.npy``, read as memmaps on the
    workers) or array-likes that pickle; ``client`` a ``distributed.Client`` (default: the
    current one, else Dask's default scheduler). Returns the labels tracked.
    """
    import dask

    output = os.fspath(output)
    os.makedirs(output, exist_ok=True)
    fixed_ndim = 3 if z_project == "volume" else 2
    found = labels_in(labels, fixed_ndim)
    if not found:
        from ._einmix import EinmixError

        raise EinmixError("the labels hold no cell (every pixel is 0)")
    options = dict(options, z_project=z_project, n_threads=options.get("n_threads") or 1, progress=False)
    tasks = [dask.delayed(_track_cell, pure=False)(stack, labels, label, output, options) for label in found]
    rows = client.gather(client.compute(tasks)) if client is not None else dask.compute(*tasks)
    header = "label,first_frame,last_frame,n_frames,k,median_floor_share,time_s,vanished_at,failed\n"
    text = header + "".join(row + "\n" for row in rows)
    tmp = os.path.join(output, ".cells.csv.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, os.path.join(output, "cells.csv"))
    return found


def _track_video(stack: Any, output: str, options: dict) -> str:
    from . import image

    image.track(_open(stack), output=output, **options)
    return output


def track_videos(
    stacks: Sequence[Any], outputs: Sequence[str | os.PathLike], *, client: Optional[Any] = None, **options: Any
) -> list[str]:
    """Track many videos on a Dask cluster, one task each: ``stacks[i]`` into the folder
    ``outputs[i]``, as :func:`einmix.image.track` with ``output=`` writes it locally."""
    import dask

    if len(stacks) != len(outputs):
        raise ValueError(f"{len(stacks)} stacks but {len(outputs)} outputs")
    options = dict(options, n_threads=options.get("n_threads") or 1, progress=False)
    tasks = [dask.delayed(_track_video, pure=False)(s, os.fspath(o), options) for s, o in zip(stacks, outputs)]
    done = client.gather(client.compute(tasks)) if client is not None else dask.compute(*tasks)
    return list(done)

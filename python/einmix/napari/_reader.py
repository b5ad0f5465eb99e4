"""napari's reader for einmix outputs: ``track.npz``, ``fit.npz``, their folders, a per-cell
folder ``cell_<label>/`` and a folder of cells (``cells.csv``), as the dock widget's layers.

``viewer.open("out/track.npz", plugin="einmix")`` gives the layers of
:func:`einmix.napari._layers.track_layers`; a folder of cells gives them for every cell at once
(a ``cell`` feature tells them apart). A ``.npz`` that is not einmix's is refused with a
message naming what it lacks.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional, Union

import numpy as np

from .._einmix import EinmixError
from ._layers import track_layers

__all__ = ["get_reader", "read", "load_track"]

#: The members every einmix ``track.npz``/``fit.npz`` holds that the layers need.
REQUIRED = ("means", "covars", "weights", "distances", "frames", "voxel_size")
#: The files a folder is opened by, in this order.
FOLDER_FILES = ("track.npz", "fit.npz")

PathOrPaths = Union[str, os.PathLike, list]


def get_reader(path: PathOrPaths) -> Optional[Callable[[PathOrPaths], list]]:
    """npe2's ``get_reader``: :func:`read` for a ``.npz`` (an einmix one or a clear refusal)
    or a folder holding ``track.npz``, ``fit.npz`` or ``cells.csv``; None for anything else, so
    napari tries its other readers (an OME-Zarr folder, say)."""
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    path = os.fspath(path)
    if os.path.isdir(path):
        names = FOLDER_FILES + ("cells.csv",)
        return read if any(os.path.exists(os.path.join(path, n)) for n in names) else None
    return read if path.lower().endswith(".npz") else None


def load_track(path: Union[str, os.PathLike]) -> dict[str, Any]:
    """The arrays of an einmix ``.npz`` (``metric`` as a str); an ``EinmixError`` naming what
    is missing when the file is not einmix's."""
    path = os.fspath(path)
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise EinmixError(f"{path} is not an einmix output: it cannot be read as a .npz ({e})") from e
    with npz:
        missing = [name for name in REQUIRED if name not in npz.files]
        if missing:
            raise EinmixError(
                f"{path} is not an einmix output (track.npz or fit.npz): it lacks {', '.join(missing)}; "
                f"it holds {', '.join(npz.files) or 'nothing'}"
            )
        out = {name: npz[name] for name in npz.files}
    out["metric"] = str(np.asarray(out.get("metric", ["hellinger"])).ravel()[0])
    means = np.asarray(out["means"])
    if means.ndim != 3 or means.shape[2] != np.asarray(out["voxel_size"]).size:
        raise EinmixError(
            f"{path} is not an einmix output: means has shape {means.shape}, "
            f"expected (frames, K, {np.asarray(out['voxel_size']).size})"
        )
    return out


def _cells(folder: str) -> dict[Optional[int], dict[str, Any]]:
    """Every cell listed in ``folder/cells.csv``, by label."""
    table = np.genfromtxt(
        os.path.join(folder, "cells.csv"), delimiter=",", names=True, dtype=None, encoding="utf-8", ndmin=1
    )
    if table.size == 0 or "label" not in (table.dtype.names or ()):
        raise EinmixError(f"{folder}/cells.csv lists no cell")
    return {int(label): load_track(os.path.join(folder, f"cell_{int(label)}", "track.npz")) for label in table["label"]}


def read(path: PathOrPaths) -> list:
    """The layers of an einmix output at ``path`` (see the module's docstring)."""
    if isinstance(path, list):
        path = path[0]
    path = os.fspath(path)
    if os.path.isdir(path):
        folder = os.path.basename(os.path.normpath(path))
        for name in FOLDER_FILES:
            file = os.path.join(path, name)
            if os.path.exists(file):
                return track_layers({None: load_track(file)}, name=folder, source=file)
        if os.path.exists(os.path.join(path, "cells.csv")):
            return track_layers(_cells(path), name=folder, source=path)
        raise EinmixError(f"{path} holds no einmix output (track.npz, fit.npz or cells.csv)")
    parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
    stem = os.path.splitext(os.path.basename(path))[0]
    return track_layers({None: load_track(path)}, name=f"{parent} {stem}" if parent else stem, source=path)

"""A track (``einmix.image.track``'s dict, a ``track.npz``/``fit.npz``) as napari layer data.

The one home of the layers both the dock widget and the reader give: plain
``(data, kwargs, layer_type)`` tuples (napari's ``LayerData``), built with numpy (napari is
imported only for the Tracks layer's colormap, when one is built; Qt never).

The track's coordinates are physical, ``index x voxel_size`` along (row, col) or
(z, row, col); the layers hold index coordinates with ``scale = (1, *voxel_size)``, so they
lie over the image layer the track came from (given the same scale) and the world's units are
the track's. Time is the ``frames`` array (the frames of the source a run covered), so the
shapes follow the time slider of the source, a cell that appears late included.

- **Ellipses** (Shapes): each component's 2-sigma ellipse, ``(x - m)^T S^-1 (x - m) = 4``,
  per frame, as the pictures of ``einmix image`` draw it. For volumes: the ellipsoid's
  sections by the z slices it crosses. The section at z of the ellipsoid with covariance S
  (z first, r = (row, col)) is the ellipse centred at ``m_r + S_rz / S_zz (z - m_z)`` with
  shape matrix ``(S_rr - S_rz S_zr / S_zz) (4 - (z - m_z)^2 / S_zz)``: sections show where the
  component is on each slice, where sized points would be spheres the fit never claims.
- **Means** (Points) with features ``component``, ``weight``, ``frame`` (and ``cell``).
- **Tracks**: track id = component (cells: one id per cell and component, with features).
- **Edges** (Shapes lines): each component joined to its 2 nearest by the track's metric,
  pairs once, wider the closer: ``render::nearest_edges``, the graph the pictures draw.

Every layer's ``metadata["einmix"]`` holds, per frame, ``frames``, ``k`` (the components
fitted), ``effective_k`` (those above 1 % of the frame's Gaussians' weight) and
``floor_share`` (the learned floor's share of the intensity; NaN where a level was
subtracted), with the track's ``metric`` and ``voxel_size``; for cells, one such dict per
label under ``cells``.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

__all__ = ["track_layers", "nearest_edges", "summary", "colour", "EFFECTIVE_WEIGHT", "NEIGHBOURS", "N_SIGMA"]

LayerData = tuple  # (data, kwargs, layer_type), napari's LayerDataTuple

#: A component counts in ``effective_k`` above this share of its frame's Gaussians' weight
#: (``einmix_image::EFFECTIVE_WEIGHT``); fainter ones are drawn faint.
EFFECTIVE_WEIGHT = 0.01
#: Each component is joined to this many nearest (``RenderOptions::neighbours``' default).
NEIGHBOURS = 2
#: The ellipses' radius in standard deviations (``RenderOptions::n_sigma``' default).
N_SIGMA = 2.0
#: The edges' pale yellow (``render::EDGE_COLOUR``).
EDGE_COLOUR = (255 / 255, 236 / 255, 150 / 255, 1.0)


def colour(k: int) -> tuple[float, float, float, float]:
    """Component ``k``'s RGBA: hues spaced by the golden ratio, ``render::colour`` exactly, so a
    component has the colour of the ``einmix image`` pictures and keeps it across frames."""
    h = ((k * 0.618_033_988_749_895) % 1.0) * 6.0
    s, v = 0.85, 1.0
    i, f = int(np.floor(h)) % 6, h - np.floor(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    # The pictures truncate to bytes; the same bytes here.
    return (int(r * 255) / 255, int(g * 255) / 255, int(b * 255) / 255, 1.0)


def summary(track: Mapping[str, Any]) -> dict[str, Any]:
    """The per-frame numbers of a track for a layer's metadata (see the module's docstring)."""
    weights = np.asarray(track["weights"], dtype=np.float64)
    n_frames, k = weights.shape
    return {
        "frames": np.asarray(track["frames"], dtype=np.int64),
        "k": np.full(n_frames, k, dtype=np.int64),
        "effective_k": (_shares(weights) > EFFECTIVE_WEIGHT).sum(axis=1).astype(np.int64),
        "floor_share": np.asarray(track.get("floor_share", np.full(n_frames, np.nan)), dtype=np.float64),
        "metric": str(track.get("metric", "hellinger")),
        "voxel_size": tuple(float(v) for v in np.asarray(track["voxel_size"]).ravel()),
    }


def _shares(weights: np.ndarray) -> np.ndarray:
    """Each component's share of its frame's Gaussians' weight."""
    total = weights.sum(axis=1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def _ellipse(centre: np.ndarray, cov: np.ndarray, level: float) -> np.ndarray:
    """The 4 corners, in order around it, of the box of ``{x: (x-c)^T cov^-1 (x-c) <= level}``
    (2-D): napari draws the ellipse inscribed in them, rotated with the box."""
    values, vectors = np.linalg.eigh(cov)
    a, b = np.sqrt(np.maximum(values, 0.0) * level)
    u, v = vectors[:, 0] * a, vectors[:, 1] * b
    return np.stack([centre + u + v, centre + u - v, centre - u - v, centre - u + v])


def _sections(mean: np.ndarray, cov: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``(z, corners)`` for each integer z slice the 2-sigma ellipsoid (index coordinates,
    z first) crosses: the section's ellipse, as in the module's docstring."""
    szz = cov[0, 0]
    reach = N_SIGMA * np.sqrt(szz)
    out = []
    for z in range(max(0, int(np.ceil(mean[0] - reach))), int(np.floor(mean[0] + reach)) + 1):
        dz = z - mean[0]
        level = N_SIGMA**2 - dz * dz / szz
        if level <= 0:
            continue
        centre = mean[1:] + cov[1:, 0] / szz * dz
        conditional = cov[1:, 1:] - np.outer(cov[1:, 0], cov[0, 1:]) / szz
        out.append((z, _ellipse(centre, conditional, level)))
    return out


def nearest_edges(distances: np.ndarray, neighbours: int = NEIGHBOURS) -> list[tuple[int, int, float]]:
    """``(i, j, closeness)``: each component joined to its ``neighbours`` nearest by
    ``distances``, pairs once with ``i < j``, closeness 1 for the closest pair falling linearly
    to 0.25 for the farthest (``einmix_image::render::nearest_edges``)."""
    k = distances.shape[0]
    pairs: list[tuple[int, int]] = []
    for i in range(k):
        others = [j for j in range(k) if j != i and np.isfinite(distances[i, j])]
        # A stable sort, as Rust's sort_by: ties keep the index order.
        others.sort(key=lambda j: distances[i, j])
        for j in others[:neighbours]:
            pair = (min(i, j), max(i, j))
            if pair not in pairs:
                pairs.append(pair)
    if not pairs:
        return []
    d = np.array([distances[i, j] for i, j in pairs])
    lo, hi = d.min(), d.max()
    closeness = 1.0 - 0.75 * (d - lo) / (hi - lo) if hi > lo else np.ones_like(d)
    return [(i, j, float(c)) for (i, j), c in zip(pairs, closeness)]


def track_layers(
    tracks: Mapping[Optional[int], Mapping[str, Any]],
    *,
    name: str = "einmix",
    source: Optional[str] = None,
) -> list[LayerData]:
    """The four layers of one track (``tracks = {None: track}``) or of a field's cells
    (``{label: track}``, one layer each for all cells, with a ``cell`` feature): ellipses
    (Shapes), means (Points), Tracks, edges (Shapes lines), named ``"{name} ellipses"`` etc.
    ``source`` (a path) goes in the metadata."""
    if not tracks:
        raise ValueError("no track to show")
    first = next(iter(tracks.values()))
    voxel = np.asarray(first["voxel_size"], dtype=np.float64).ravel()
    dims = voxel.size
    ellipses, ellipse_rows = [], []
    points, point_rows = [], []
    track_data, track_rows = [], []
    lines, line_rows = [], []
    summaries: dict[Optional[int], dict[str, Any]] = {}
    next_id = 0
    for cell, track in tracks.items():
        means = np.asarray(track["means"], dtype=np.float64) / voxel
        covars = np.asarray(track["covars"], dtype=np.float64) / np.outer(voxel, voxel)
        weights = np.asarray(track["weights"], dtype=np.float64)
        shares = _shares(weights)
        distances = np.asarray(track["distances"], dtype=np.float64)
        frames = np.asarray(track["frames"], dtype=np.int64)
        if means.ndim != 3 or means.shape[2] != dims:
            raise ValueError(f"means must be (frames, K, {dims}), got {means.shape}")
        summaries[cell] = summary(track)
        n_frames, k = weights.shape
        for f in range(n_frames):
            t = float(frames[f])
            row = dict(frame=int(frames[f]), cell=-1 if cell is None else int(cell))
            for c in range(k):
                rows = dict(row, component=c, weight=float(weights[f, c]), share=float(shares[f, c]))
                if dims == 2:
                    corners = _ellipse(means[f, c], covars[f, c], N_SIGMA**2)
                    ellipses.append(np.column_stack([np.full(4, t), corners]))
                    ellipse_rows.append(rows)
                else:
                    for z, corners in _sections(means[f, c], covars[f, c]):
                        ellipses.append(np.column_stack([np.full(4, t), np.full(4, float(z)), corners]))
                        ellipse_rows.append(dict(rows, z=z))
                points.append(np.concatenate([[t], means[f, c]]))
                point_rows.append(rows)
                track_data.append(np.concatenate([[next_id + c, t], means[f, c]]))
                track_rows.append(rows)
            for i, j, closeness in nearest_edges(distances[f]):
                lines.append(np.array([np.concatenate([[t], means[f, i]]), np.concatenate([[t], means[f, j]])]))
                line_rows.append(dict(row, i=i, j=j, distance=float(distances[f, i, j]), closeness=closeness))
        next_id += k
    metadata = {"einmix": _metadata(summaries, source)}
    scale = (1.0, *voxel)
    common = dict(scale=scale, metadata=metadata)
    # Said, not inferred: an empty layer (a frame of one component has no edge) has no shape to infer from.
    ndim = dict(ndim=dims + 1)
    cells = [label for label in tracks if label is not None]
    keys = ["component", "weight", "frame"] + (["cell"] if cells else [])

    def faint(rows: list[dict]) -> list[tuple]:
        # A component under 1 % of its frame (a variational fit's emptied one) is drawn faint,
        # not left out: the counts stay frames x K and the component keeps its place.
        return [colour(r["component"])[:3] + (1.0 if r["share"] > EFFECTIVE_WEIGHT else 0.3,) for r in rows]

    def features(rows: list[dict], extra: tuple = ()) -> dict[str, list]:
        return {key: [r[key] for r in rows] for key in keys + list(extra)}

    shape_kwargs = dict(
        common,
        **ndim,
        name=f"{name} ellipses",
        shape_type="ellipse",
        edge_color=faint(ellipse_rows) or "white",
        face_color="transparent",
        edge_width=0.6,
        features=features(ellipse_rows, ("z",) if dims == 3 else ()),
    )
    point_kwargs = dict(
        common,
        **ndim,
        name=f"{name} means",
        features=features(point_rows),
        face_color=faint(point_rows) or "white",
        border_color="black",
        border_width=0.1,
        size=3.0,
        # A volume's mean is shown on the slices near it, smaller the farther.
        out_of_slice_display=dims == 3,
    )
    order = np.lexsort((np.array([r[1] for r in track_data]), np.array([r[0] for r in track_data])))
    track_array = np.array(track_data)[order] if track_data else np.zeros((0, dims + 2))
    track_features = {key: np.asarray(values)[order] for key, values in features(track_rows).items()}
    track_kwargs = dict(
        common,
        name=f"{name} tracks",
        features=track_features,
        color_by="component",
        colormaps_dict={"component": _palette(max(r["component"] for r in track_rows) + 1)},
        tail_length=10,
        tail_width=1.5,
    )
    line_kwargs = dict(
        common,
        **ndim,
        name=f"{name} edges",
        shape_type="line",
        edge_color=[EDGE_COLOUR] * len(lines) or "white",
        edge_width=[0.3 + 0.9 * r["closeness"] for r in line_rows],
        features={key: [r[key] for r in line_rows] for key in ("frame", "i", "j", "distance", "closeness")},
    )
    return [
        (_stack_or_empty(ellipses, 4, dims + 1), shape_kwargs, "shapes"),
        (np.array(points) if points else np.zeros((0, dims + 1)), point_kwargs, "points"),
        (track_array, track_kwargs, "tracks"),
        (_stack_or_empty(lines, 2, dims + 1), line_kwargs, "shapes"),
    ]


def _stack_or_empty(shapes: list[np.ndarray], vertices: int, ndim: int) -> Any:
    """Shapes data: the list, or an empty ``ndim`` layer's (napari wants a list of arrays)."""
    return shapes if shapes else np.zeros((0, vertices, ndim))


def _palette(k: int) -> Any:
    """A colormap giving component c (a feature normalised by napari to ``c / (k - 1)``) its
    :func:`colour`: k bins of ``[0, 1]`` with no interpolation; ``c / (k - 1)`` lies in bin c."""
    from napari.utils.colormaps import Colormap  # the Tracks layer needs napari anyway

    colours = [colour(c) for c in range(max(k, 1))]
    return Colormap(colors=colours, controls=np.linspace(0.0, 1.0, len(colours) + 1), interpolation="zero")


def _metadata(summaries: Mapping[Optional[int], dict[str, Any]], source: Optional[str]) -> dict[str, Any]:
    """One track's summary, or ``{"cells": {label: summary}}``, and the source path."""
    if list(summaries) == [None]:
        out = dict(summaries[None])
    else:
        out = {"cells": {int(label): s for label, s in summaries.items()}}
    if source is not None:
        out["source"] = source
    return out

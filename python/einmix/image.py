"""Microscopy images and time-lapses -> per-frame Gaussian mixtures, component graphs.

The pipeline of the ``einmix-image`` crate (the ``einmix image`` command line): the pixels
become weighted points (weight = intensity, each coordinate once) and a uniform background
component learns the floor, with no level to choose (or, with ``background=``, a level is
subtracted and the pixels above it become the points);
the local intensity maxima of the first frame give K and the starting means; every later frame
is warm-started from the previous one with K fixed, so component k stays the same region;
components that empty or collapse are re-seeded where the model explains the image worst, and
reported. Coordinates are (row, col) in pixels, times ``pixel_size``; a z-stack fitted in 3-D
(``z_project="volume"``) has coordinates (z, row, col) times ``voxel_size``.

>>> import numpy as np
>>> from einmix import image
>>> rr, cc = np.mgrid[:40, :60]
>>> frames = np.stack([80 * np.exp(-((rr - 20) ** 2 + (cc - 20 - 2 * t) ** 2) / 8) for t in range(3)])
>>> result = image.track(frames.round(), background=0.5)
>>> result["means"].shape, result["covars"].shape, result["distances"].shape
((3, 1, 2), (3, 1, 2, 2), (3, 1, 1))
>>> bool(abs(result["means"][2, 0, 1] - 24.0) < 0.1)
True

Distances (``component_distances`` and the per-frame ``distances``): ``"hellinger"``
(sqrt(1 - BC), a true metric in [0, 1]), ``"bhattacharyya"`` (-ln BC, symmetric, not a
metric), ``"kl"`` (KL(i || j), not symmetric) and ``"symmetric_kl"`` (KL(i||j) + KL(j||i)).
All are dissimilarities: 0 for identical components, larger = farther apart. The Bhattacharyya
coefficient BC itself is the matching similarity.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any, Optional, Union

import numpy as np

from . import _einmix
from ._common import _COVARIANCE_TYPES

__all__ = ["track", "track_cells", "analyse", "fit_image", "component_distances", "read", "read_mask", "demo_stack"]

Background = Union[float, int, str]


def _background(background: Optional[Background]) -> Optional[str]:
    if background is None or isinstance(background, str):
        return background
    return repr(float(background))


def _mask(mask: Optional[np.ndarray], label: Optional[int]) -> Optional[np.ndarray]:
    if mask is None:
        return None
    m = np.asarray(mask)
    inside = (m == label) if label is not None else (m != 0)
    if label is not None and not inside.any():
        raise _einmix.EinmixError(f"label {label} does not occur in the mask")
    return np.ascontiguousarray(inside, dtype=bool)


def _arrays(result: dict) -> dict[str, Any]:
    out: dict[str, Any] = dict(result)
    for name in ("frames", "n_iter", "n_points", "reseed_frame", "reseed_component", "effective_k"):
        out[name] = np.asarray(result[name], dtype=np.int64)
    for name in ("lower_bound", "background", "time_ms", "floor_share"):
        out[name] = np.asarray(result[name], dtype=np.float64)
    out["converged"] = np.asarray(result["converged"], dtype=bool)
    out["reseed_reason"] = np.asarray(result["reseed_reason"], dtype=str)
    dims = len(result["voxel_size"])
    out["voxel_size"] = np.asarray(result["voxel_size"], dtype=np.float64)
    out["reseed_position"] = np.asarray(result["reseed_position"], dtype=np.float64).reshape(-1, dims)
    return out


class _Frames:
    """An array-like read one frame at a time (a numpy array or memmap, a zarr array, a Dask
    array: anything with ``shape`` and ``stack[t]``): frame ``t`` as C-contiguous float32
    ``(Z, H, W)`` after the Z projection, the only frame in memory."""

    def __init__(self, stack: Any, z_project: str):
        if not hasattr(stack, "shape") or not hasattr(stack, "__getitem__"):
            stack = np.asarray(stack)
        shape = tuple(int(n) for n in stack.shape)
        self.stack, self.z_project, self.single = stack, z_project, False
        if z_project == "none":
            if len(shape) == 2:
                self.single, shape = True, (1,) + shape
            if len(shape) != 3:
                raise _einmix.EinmixError(
                    f"stack must have shape (F, H, W) or (H, W), got {shape}; z-stacks (T, Z, H, W) "
                    "take z_project='max' or 'volume'"
                )
            self.frame_shape = (1, shape[1], shape[2])
        else:
            if len(shape) == 3:
                self.single, shape = True, (1,) + shape
            if len(shape) != 4:
                raise _einmix.EinmixError(
                    f"with z_project={z_project!r} the stack must have shape (T, Z, H, W) or (Z, H, W), got {shape}"
                )
            if z_project == "volume" and shape[1] < 2:
                raise _einmix.EinmixError(
                    f"z_project='volume' needs Z slices, but the stack {shape} has 1 per time point"
                )
            self.frame_shape = (shape[1] if z_project == "volume" else 1, shape[2], shape[3])
        self.n_frames = shape[0]
        self.volume = z_project == "volume"

    def read(self, t: int) -> np.ndarray:
        frame = np.asarray(self.stack if self.single else self.stack[t], dtype=np.float32)
        if self.z_project == "max":
            frame = frame.max(axis=0)
        if frame.ndim == 2:
            frame = frame[None]
        if frame.shape != self.frame_shape:
            raise _einmix.EinmixError(f"frame {t} has shape {frame.shape}, expected {self.frame_shape}")
        return np.ascontiguousarray(frame)


def _load_track(folder: str, name: str = "track") -> dict[str, Any]:
    """A track written to ``folder`` as :func:`track` returns it."""
    with np.load(os.path.join(folder, f"{name}.npz")) as npz:
        out: dict[str, Any] = {key: npz[key] for key in npz.files}
    out["metric"] = str(out["metric"][0])
    out["pixel_size"] = float(out["pixel_size"])
    summary = np.genfromtxt(
        os.path.join(folder, "summary.csv"), delimiter=",", names=True, dtype=None, encoding="utf-8", ndmin=1
    )
    out["converged"] = np.asarray([str(v).lower() == "true" for v in summary["converged"]], dtype=bool)
    out["time_ms"] = np.asarray(summary["time_ms"], dtype=np.float64)
    out["effective_k"] = np.asarray(summary["effective_k"], dtype=np.int64)
    out["reseed_reason"] = np.asarray(out["reseed_reason"], dtype=str)
    return out


def track(
    stack: Any,
    mask: Optional[np.ndarray] = None,
    *,
    output: Optional[Union[str, os.PathLike]] = None,
    resume: bool = False,
    force: bool = False,
    mask_label: Optional[int] = None,
    k: Union[str, int] = "auto",
    background: Optional[Background] = None,
    pixel_size: float = 1.0,
    z_project: str = "none",
    voxel_size: Optional[tuple[float, float, float]] = None,
    min_distance: int = 5,
    threshold_abs: Optional[float] = None,
    smooth: float = 1.0,
    exclude_border: bool = True,
    num_peaks: Optional[int] = None,
    init_size: float = 2.0,
    covariance_type: str = "full",
    random_state: int = 0,
    tol: float = 1e-3,
    max_iter: int = 100,
    reg_covar: Optional[float] = None,
    weight_floor: Optional[float] = None,
    eigen_floor: float = 0.1,
    metric: str = "hellinger",
    reseed: bool = True,
    laplacian: bool = True,
    n_threads: Optional[int] = None,
    online: bool = False,
    bayesian: bool = False,
    weight_concentration_prior: Optional[float] = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Track a time-lapse ``(F, H, W)`` (or one image ``(H, W)``), or a time-lapse of z-stacks
    ``(T, Z, H, W)``: ``z_project="max"`` fits their maximum-intensity projections along Z,
    ``z_project="volume"`` fits each time point in 3-D, coordinates (z, row, col) times
    ``voxel_size`` (the voxel's sides (z, row, col); default cubes of ``pixel_size``), peaks
    found in 3-D; one volume ``(Z, H, W)`` is a time-lapse of one. ``min_distance`` and
    ``smooth`` are in pixels along the rows and the same length along z; ``init_size`` is in
    cells along each axis; ``eigen_floor`` and the default ``reg_covar`` use the finest side.
    ``covariance_type`` is the shape of the components' covariances, as
    ``GaussianMixture`` takes it: ``"full"`` (each its own ellipse, the default), ``"tied"``
    (one ellipse shared by all), ``"diag"`` (axis-aligned ellipses) or ``"spherical"``
    (circles); every fit of the track is of that kind, and ``covars``/``precs`` hold full
    ``(D, D)`` matrices whatever it is (diagonal for ``"diag"``, isotropic for ``"spherical"``).

    ``k="auto"`` takes one component per local maximum of the first frame (``min_distance``,
    ``threshold_abs``, after Gaussian smoothing of ``smooth`` pixels, as
    ``skimage.feature.peak_local_max``); ``threshold_abs`` defaults to 5 robust standard
    deviations above the frame's floor (median + 5 x 1.4826 x MAD of the smoothed frame), so
    noise maxima are not taken for structures. An integer K starts from weighted k-means++.
    By default no level is subtracted: every pixel goes in with its intensity and a uniform
    background component, learned per frame, explains the floor (``floor_share``: its share of
    each frame's intensity). ``background`` (a number, or ``"pQ"`` for the Q-th percentile of
    each frame inside the mask) subtracts a level instead and leaves out the pixels at or below
    it.
    ``mask`` is a label image (nonzero = inside) or booleans; ``mask_label`` keeps one label.
    ``reg_covar`` defaults to ``pixel_size**2 / 12`` (a pixel's own variance; for volumes the
    finest voxel side's).
    ``online=True`` updates one model across the frames by online EM (one E-step and a step of
    running statistics per frame, see ``GaussianMixture.partial_fit``) instead of a
    warm-started fit to convergence per frame. ``bayesian=True`` fits each frame with the
    variational mixture (Dirichlet-process prior, ``weight_concentration_prior``): K is an upper
    bound, and ``effective_k`` counts each frame's components above 1 % of its weight (of the
    Gaussians' weight, with the learned floor, whose share the fit estimates beside the
    posterior).

    ``stack`` is any array-like indexed by frame: a numpy array or memmap, a zarr array, a
    Dask array. It is read one frame at a time (``stack[t]``), so a video larger than memory
    is tracked in the memory of one frame. ``output`` (a folder) writes the track there as the
    frames finish (``track.npz``, ``summary.csv``, ``reseeds.csv``) with a checkpoint every few
    seconds; ``resume=True`` continues a run stopped at any point (killed, interrupted, a bad
    frame) from its last checkpoint, giving the arrays an uninterrupted run gives; ``force=True``
    starts over an earlier run's files. The result is then read back from the folder.

    ``progress`` shows a long run move: a callable ``progress(frames_done, n_frames)`` called
    after each frame, or an object with tqdm's ``update(n)`` (a ``tqdm`` bar, updated by one per
    frame); by default (``None``) a tqdm bar when standard error is a terminal and tqdm is
    installed, else nothing; ``False`` for nothing. An exception the callback raises (a
    ``KeyboardInterrupt``) stops the run after that frame and propagates.

    Returns a dict of numpy arrays: ``means`` (F, K, D), ``covars`` (F, K, D, D), ``weights``
    (F, K), ``precs`` (F, K, D, D) (OrNet's layout; D = 2, or 3 for volumes), ``voxel_size``
    (D: the cell's side along each coordinate), ``distances`` (F, K, K), ``laplacian``
    (F, K) (normalised Laplacian eigenvalues of the heat-kernel affinity), per frame
    ``frames``, ``lower_bound``, ``n_iter``, ``converged``, ``n_points``, ``background``,
    ``floor_share`` (NaN where a level was subtracted), ``time_ms``, and the re-seed report ``reseed_frame``, ``reseed_component``,
    ``reseed_reason`` (``"emptied"``, ``"collapsed"`` or ``"left_data"``), ``reseed_position``.
    """
    if z_project not in ("none", "max", "volume"):
        raise ValueError(f"z_project must be 'none', 'max' or 'volume', got {z_project!r}")
    if voxel_size is not None and z_project != "volume":
        raise ValueError("voxel_size is for volumes: pass z_project='volume' (2-D frames take pixel_size)")
    if resume and force:
        raise ValueError("resume=True continues a run and force=True starts over: choose one")
    if (resume or force) and output is None:
        raise ValueError("resume and force are about the files of a run: give output")
    frames = _Frames(stack, z_project)
    if voxel_size is not None:
        voxel_size = tuple(float(v) for v in voxel_size)
        if len(voxel_size) != 3:
            raise ValueError(f"voxel_size is (z, row, col): three lengths, got {len(voxel_size)}")
    settings = {name: value for name, value in locals().items() if name in (track.__kwdefaults__ or {})}
    options = _binding_options(settings)
    callback, bar = _progress(progress, frames.n_frames)
    try:
        result = _einmix.image_track(
            frames,
            _mask(mask, mask_label),
            output=None if output is None else os.fspath(output),
            resume=bool(resume),
            force=bool(force),
            progress=callback,
            **options,
        )
    finally:
        if bar is not None:
            bar.close()
    if output is not None:
        return _load_track(os.fspath(output))
    return _arrays(result)


def _binding_options(o: dict[str, Any]) -> dict[str, Any]:
    """:func:`track`'s settings ``o`` as ``_einmix.image_track`` takes them (one place for
    :func:`track` and :func:`track_cells`)."""
    k = o["k"]
    if k == "auto":
        k_arg = None
    elif isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 1:
        k_arg = int(k)
    else:
        raise _einmix.EinmixError(f"k must be 'auto' or an integer >= 1, got {k!r}")
    covariance_type = o["covariance_type"]
    if covariance_type not in _COVARIANCE_TYPES:
        allowed = ", ".join(repr(kind) for kind in _COVARIANCE_TYPES)
        raise ValueError(f"covariance_type must be one of {allowed}, got {covariance_type!r}")
    voxel_size = o["voxel_size"]
    return dict(
        k=k_arg,
        background=_background(o["background"]),
        pixel_size=float(o["pixel_size"]),
        voxel_size=None if voxel_size is None else tuple(float(v) for v in voxel_size),
        min_distance=int(o["min_distance"]),
        threshold=o["threshold_abs"],
        smooth=float(o["smooth"]),
        exclude_border=bool(o["exclude_border"]),
        num_peaks=o["num_peaks"],
        init_size=float(o["init_size"]),
        covariance_type=covariance_type,
        random_state=int(o["random_state"]),
        tol=float(o["tol"]),
        max_iter=int(o["max_iter"]),
        reg_covar=o["reg_covar"],
        weight_floor=o["weight_floor"],
        eigen_floor=float(o["eigen_floor"]),
        metric=o["metric"],
        reseed=bool(o["reseed"]),
        online=bool(o["online"]),
        bayesian=bool(o["bayesian"]),
        weight_concentration_prior=o["weight_concentration_prior"],
        laplacian=bool(o["laplacian"]),
        n_threads=o["n_threads"],
    )


def track_cells(
    stack: Any,
    labels: Any,
    *,
    output: Optional[Union[str, os.PathLike]] = None,
    resume: bool = False,
    force: bool = False,
    z_project: str = "none",
    progress: Any = None,
    **options: Any,
) -> dict[int, dict[str, Any]]:
    """Track every labelled cell of ``stack`` as its own time-lapse, in one run (the video read
    once, the cells of a frame fitted in parallel); the options are :func:`track`'s.

    ``labels`` is a label image ``(H, W)`` for every frame (as Cellpose, StarDist or ITK-SNAP
    write them), or an array-like ``(T, H, W)`` whose labels move with the cells (label = cell
    identity across frames); for volumes (``z_project="volume"``) ``(Z, Y, X)`` or
    ``(T, Z, Y, X)``. A cell may appear after the first frame or vanish before the last: its
    track covers the frames where its label is present (its ``frames`` array) and a vanishing
    is reported (``vanished_at``), not an error. Each cell's fit sees only its own pixels.

    Writes ``output/cell_<label>/`` (``track.npz``, ``summary.csv``, ``reseeds.csv``) and
    ``output/cells.csv`` (a temporary folder when ``output`` is None); ``resume=True``
    continues a stopped run. Returns ``{label: result}``, each result :func:`track`'s dict
    plus the cell's ``first_frame``, ``last_frame``, ``vanished_at`` (or None) and ``failed``
    (why its track stopped early, or None).
    """
    if z_project not in ("none", "max", "volume"):
        raise ValueError(f"z_project must be 'none', 'max' or 'volume', got {z_project!r}")
    if resume and force:
        raise ValueError("resume=True continues a run and force=True starts over: choose one")
    if resume and output is None:
        raise ValueError("resume continues the run in a folder: give output")
    unknown = set(options) - set(track.__kwdefaults__ or {})
    if unknown or {"output", "resume", "force", "mask", "mask_label"} & set(options):
        raise TypeError(f"track_cells() got unexpected keyword argument(s): {sorted(unknown or set(options))}")
    frames = _Frames(stack, z_project)
    if not hasattr(labels, "shape"):
        labels = np.asarray(labels)
    label_shape = tuple(int(n) for n in labels.shape)
    fixed_ndim = 3 if frames.volume else 2
    label_reader, label_image = None, None
    if len(label_shape) == fixed_ndim:
        image = np.asarray(labels, dtype=np.float32)
        label_image = np.ascontiguousarray(image if frames.volume else image[None])
    elif len(label_shape) == fixed_ndim + 1:
        label_reader = _Frames(labels, "volume" if frames.volume else "none")
    else:
        raise _einmix.EinmixError(
            f"labels must have shape {'(Z, Y, X) or (T, Z, Y, X)' if frames.volume else '(H, W) or (T, H, W)'}, "
            f"got {label_shape}"
        )
    settings = dict(track.__kwdefaults__ or {})
    settings.update(options)
    with tempfile.TemporaryDirectory(prefix="einmix-cells-") as scratch:
        folder = scratch if output is None else os.fspath(output)
        options = _binding_options(settings)
        callback, bar = _progress(progress, frames.n_frames)
        try:
            cells = _einmix.image_track(
                frames,
                None,
                output=folder,
                resume=bool(resume),
                force=bool(force),
                labels=label_reader,
                label_image=label_image,
                progress=callback,
                **options,
            )
        finally:
            if bar is not None:
                bar.close()
        results: dict[int, dict[str, Any]] = {}
        for cell in cells:
            label = int(cell["label"])
            result = _load_track(os.path.join(folder, f"cell_{label}"))
            for key in ("first_frame", "last_frame", "vanished_at", "failed"):
                result[key] = cell[key]
            results[label] = result
        return results


def _progress(progress: Any, n_frames: int):
    """``(callback, bar_to_close)`` for ``track``'s ``progress`` argument."""
    if progress is False:
        return None, None
    if progress is None:
        if not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
            return None, None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None, None
        bar = tqdm(total=n_frames, unit="frame", desc="einmix.image.track")
        return (lambda done, total: bar.update(1)), bar
    if hasattr(progress, "update") and not callable(progress):
        return (lambda done, total: progress.update(1)), None
    if callable(progress):
        return progress, None
    raise TypeError(f"progress must be None, False, a callable or a tqdm-like bar, got {type(progress).__name__}")


def fit_image(image: np.ndarray, mask: Optional[np.ndarray] = None, **options: Any) -> dict[str, Any]:
    """Fit one image ``(H, W)``, or one volume ``(Z, H, W)`` with ``z_project="volume"``; the
    options are :func:`track`'s.

    Returns :func:`track`'s dict with the frame axis removed: ``means`` (K, D), ``covars``
    (K, D, D), ``weights`` (K,), ``precs`` (K, D, D), ``distances`` (K, K), ``laplacian`` (K,),
    scalars ``lower_bound``, ``n_iter``, ``converged``, ``n_points``, ``background``,
    ``floor_share``, and the re-seed report.
    """
    a = np.asarray(image)
    want = 3 if options.get("z_project", "none") != "none" else 2
    if a.ndim != want:
        shape = "(Z, H, W)" if want == 3 else "(H, W)"
        raise _einmix.EinmixError(f"image must have shape {shape}, got {a.shape}")
    out = track(a, mask, **options)
    for name in ("means", "covars", "weights", "precs", "distances", "laplacian"):
        out[name] = out[name][0]
    for name in ("lower_bound", "n_iter", "converged", "n_points", "background", "floor_share", "time_ms"):
        out[name] = out[name][0].item()
    del out["frames"]
    return out


def component_distances(means: np.ndarray, covariances: np.ndarray, metric: str = "hellinger") -> np.ndarray:
    """The ``(K, K)`` matrix of ``metric`` between Gaussians ``means`` (K, D), ``covariances`` (K, D, D).

    ``"hellinger"``: H = sqrt(1 - BC) with the Bhattacharyya coefficient
    BC = (det S1 det S2)^(1/4) / det(S)^(1/2) exp(-1/8 d^T S^-1 d), S = (S1 + S2) / 2, a metric
    in [0, 1]; ``"bhattacharyya"``: -ln BC; ``"kl"``: KL(i || j) (row i, column j; not
    symmetric); ``"symmetric_kl"``: KL(i || j) + KL(j || i). All are 0 on the diagonal.

    >>> import numpy as np
    >>> d = component_distances(np.array([[0.0, 0.0], [3.0, 0.0]]), np.array([np.eye(2), np.eye(2)]))
    >>> bool(np.isclose(d[0, 1], np.sqrt(1 - np.exp(-9 / 8))))
    True
    """
    m = np.ascontiguousarray(means, dtype=np.float64)
    c = np.ascontiguousarray(covariances, dtype=np.float64)
    if m.ndim != 2 or c.ndim != 3:
        raise _einmix.EinmixError(
            f"means must be (K, D) and covariances (K, D, D), got {m.shape} and {c.shape}"
        )
    return _einmix.image_component_distances(m, c, metric)


def read(
    path: str,
    *,
    z_project: str = "none",
    z_slices: Optional[int] = None,
    frames: str = "::",
    channel: Optional[int] = None,
    with_voxel_size: bool = False,
) -> Any:
    """Read ``.tif``/``.tiff`` (OME-TIFF too), ``.png`` or ``.npy`` as ``(F, H, W)`` float32.

    ``z_project="max"`` projects the Z slices of a (T, Z, Y, X) stack, ``"volume"`` keeps them:
    ``(T, Z, H, W)``, for :func:`track` with the same ``z_project``; ``with_voxel_size=True``
    returns ``(pixels, voxel_size)``, the voxel's sides (z, row, col) the file states (OME-TIFF
    ``PhysicalSize``) or None; ``frames`` is
    ``"START:STOP:STEP"``; ``channel`` (from 0) picks one channel of a multichannel file (an RGB
    PNG or TIFF, an OME-TIFF with several channels), which is required for those: an error
    lists the channels rather than averaging them.
    """
    pixels, _, voxel_size = _einmix.image_read(str(path), z_project, z_slices, frames, channel)
    return (pixels, voxel_size) if with_voxel_size else pixels


def read_mask(path: str, label: Optional[int] = None) -> np.ndarray:
    """Read a label image as a boolean mask: nonzero pixels, or those equal to ``label``."""
    return _einmix.image_read_mask(str(path), label)


def demo_stack() -> np.ndarray:
    """The embedded demo time-lapse, ``(30, 192, 279)`` float32: a live yeast mitochondrial
    network (maximum projection over 17 Z slices; nellie 1.0.4 sample data, (c) 2024
    A. E. Y. T. Lefebvre, CC BY 4.0)."""
    return _einmix.image_demo_stack()


# The arrays a track's .npz holds that the analysis reads (``metric`` and the re-seed report
# are not needed).
_TRACK_MEMBERS = ("means", "covars", "weights", "precs", "distances", "laplacian", "frames", "voxel_size", "n_points")


def analyse(
    result_or_path: Any,
    *,
    statistic: str = "algebraic_connectivity",
    window: int = 20,
    threshold: float = 2.0,
    top_k: int = 5,
    frame_shape: Optional[tuple[int, ...]] = None,
    output: Optional[Union[str, os.PathLike]] = None,
) -> Any:
    """OrNet's analysis after the graphs, on a track: :func:`track`'s result, a ``track.npz``,
    its folder, or a folder of cells (``cells.csv``, from :func:`track_cells`), analysed cell by
    cell into ``{label: analysis}``.

    Per frame the normalised Laplacian's spectrum and named statistics (``series``):
    ``algebraic_connectivity`` (the default one scored: it moves when the network's structure
    changes, where OrNet's ``mean_eigenvalue`` is pinned by the Laplacian's trace),
    ``spectral_gap``, ``largest_eigenvalue``, ``mean_eigenvalue``, ``mean_distance``,
    ``mean_nearest_distance``. Temporal anomalies: the ``statistic``'s z-score against the
    ``window`` frames before (``z``, NaN for the first ``window`` frames) and ``anomalous``
    where ``|z| > threshold``. Spatial anomalies (``spatial``): the ``top_k`` components whose
    Laplacian eigenvector rows move most, ``(component, score, frame_of_largest_move,
    largest_move)``. Node features (``features`` ``(F, K, C)``, ``feature_names``): position,
    variances, covariance eigenvalues, weight, degree, eigenvector centrality, and pixels (with
    ``frame_shape``) or expected pixels. With ``output`` (a folder), writes ``anomalies.csv``,
    ``spectra.csv``/``.npz``, ``spatial.csv``, ``features.csv``/``.npz`` there (the CLI's
    ``einmix image analyse`` also draws ``anomalies.png``). See ``docs/analysis.md``.
    """
    import io

    options = dict(statistic=str(statistic), window=int(window), threshold=float(threshold), top_k=int(top_k))
    if frame_shape is not None:
        options["frame_shape"] = [int(n) for n in frame_shape]
    if isinstance(result_or_path, dict):
        buffer = io.BytesIO()
        arrays = {
            name: np.asarray(result_or_path[name]) for name in _TRACK_MEMBERS if name in result_or_path
        }
        np.savez(buffer, **arrays)
        name, npz = "<track>", buffer.getvalue()
    else:
        path = os.fspath(result_or_path)
        if os.path.isdir(path) and os.path.exists(os.path.join(path, "cells.csv")):
            labels = np.genfromtxt(
                os.path.join(path, "cells.csv"), delimiter=",", names=True, dtype=None, encoding="utf-8", ndmin=1
            )["label"]
            return {
                int(label): analyse(
                    os.path.join(path, f"cell_{int(label)}"),
                    statistic=statistic,
                    window=window,
                    threshold=threshold,
                    top_k=top_k,
                    frame_shape=frame_shape,
                    output=None if output is None else os.path.join(os.fspath(output), f"cell_{int(label)}"),
                )
                for label in labels
            }
        if os.path.isdir(path):
            path = os.path.join(path, "track.npz")
        with open(path, "rb") as f:
            name, npz = path, f.read()
    result = _einmix.image_analyse(npz, name, **options)
    files = result.pop("files")
    if output is not None:
        folder = os.fspath(output)
        os.makedirs(folder, exist_ok=True)
        for file, data in files.items():
            # Whole or not at all: a temporary file renamed over the target.
            tmp = os.path.join(folder, f".{file}.tmp")
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, os.path.join(folder, file))
    for key in ("values", "z"):
        result[key] = np.asarray(result[key], dtype=np.float64)
    result["frames"] = np.asarray(result["frames"], dtype=np.int64)
    result["anomalous"] = np.asarray(result["anomalous"], dtype=bool)
    result["series"] = {k: np.asarray(v, dtype=np.float64) for k, v in result["series"].items()}
    return result

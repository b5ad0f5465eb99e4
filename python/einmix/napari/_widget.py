"""The dock widget: track an image layer (a time-lapse, a time-lapse of z-stacks, one channel of
either) with :func:`einmix.image.track`, or every cell of a Labels layer with
:func:`einmix.image.track_cells`, in a worker thread, and show the result as layers.

The run is one call into the extension, which releases the GIL and reports each finished frame
through ``progress(frames_done, n_frames)``; the callback moves the progress bar (a Qt signal,
queued to the GUI thread) and raises when Cancel was pressed, which stops the run after the
frame in progress: Cancel takes effect within a frame and the viewer never waits on the fit.

Options are :func:`einmix.image.track`'s: K (``auto``: one per local maximum of the first
frame), the background (``learned``: a uniform floor learned per frame; a number or ``pQ``: a
level subtracted), the covariance type (``full`` ellipses, one ellipse ``tied`` to every
component, axis-aligned ``diag`` ellipses or ``spherical`` circles; the ellipse layer draws
whichever was fitted), the variational fit (K an upper bound), online EM, the distance metric of
the graph, and the voxel size (blank: the image layer's scale).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, Label, LineEdit, ProgressBar, PushButton, SpinBox
from qtpy.QtCore import QObject, Signal

from .. import image
from .._einmix import EinmixError
from ._layers import track_layers

if TYPE_CHECKING:
    import napari

__all__ = ["TrackWidget"]

METRICS = ("hellinger", "bhattacharyya", "kl", "symmetric_kl")
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
Z_CHOICES = ("volume", "max projection")
LABELS_AS = ("mask", "cells")


class Cancelled(Exception):
    """Raised by the progress callback once Cancel is pressed: the run stops after the frame."""

    def __init__(self, done: int, total: int):
        super().__init__(f"cancelled after {done} of {total} frames")
        self.done, self.total = done, total


class _Relay(QObject):
    """Carries the worker thread's progress to the GUI thread (a queued Qt signal)."""

    progressed = Signal(int, int)


class TrackWidget(Container):
    """Track an image layer with einmix and add the ellipses, means, tracks and edges as layers
    (see the module's docstring); ``run()`` is the Run button, ``cancel()`` the Cancel one."""

    def __init__(self, viewer: "napari.viewer.Viewer"):
        super().__init__(labels=True)
        self._viewer = viewer
        self._image = ComboBox(label="image", choices=self._image_choices, tooltip="an Image layer: (T, Y, X) or (T, Z, Y, X)")
        self._channel = SpinBox(label="channel", min=0, max=1023, value=0, tooltip="which channel of an RGB or (T, C, Z, Y, X) layer")
        self._z = ComboBox(label="z-stacks", choices=Z_CHOICES, value="volume", tooltip="(T, Z, Y, X): fit in 3-D or the max projection")
        self._labels = ComboBox(label="labels", choices=self._labels_choices, tooltip="optional Labels layer")
        self._labels_as = ComboBox(
            label="labels are", choices=LABELS_AS, value="mask",
            tooltip="mask: fit inside the nonzero pixels; cells: one track per label",
        )
        self._k = LineEdit(label="K", value="auto", tooltip="'auto' (one per local maximum of the first frame) or a number")
        self._background = LineEdit(
            label="background", value="learned",
            tooltip="'learned' (a floor learned per frame), a level to subtract, or 'pQ' (the Q-th percentile)",
        )
        self._covariance_type = ComboBox(
            label="covariance type", choices=COVARIANCE_TYPES, value="full",
            tooltip="full: each component its own ellipse; tied: one ellipse for all; diag: axis-aligned; spherical: circles",
        )
        self._bayesian = CheckBox(text="bayesian (K is an upper bound)")
        self._online = CheckBox(text="online EM")
        self._metric = ComboBox(label="distance", choices=METRICS, value="hellinger")
        self._voxel = LineEdit(label="voxel size", value="", tooltip="(z,) y, x or one number; blank: the layer's scale")
        self._run = PushButton(text="Run")
        self._cancel = PushButton(text="Cancel", enabled=False)
        self._progress = ProgressBar(label="frames", min=0, max=1, value=0)
        self._status = Label(value="")
        self.extend([
            self._image, self._channel, self._z, self._labels, self._labels_as, self._k, self._background,
            self._covariance_type, self._bayesian, self._online, self._metric, self._voxel, self._run, self._cancel, self._progress,
            self._status,
        ])
        self._run.changed.connect(lambda: self.run())
        self._cancel.changed.connect(self.cancel)
        self._relay = _Relay()
        self._relay.progressed.connect(self._on_progress)
        self._stop = threading.Event()
        self.worker: Any = None
        for event in (viewer.layers.events.inserted, viewer.layers.events.removed):
            event.connect(self.reset_choices)

    # -- the layers offered
    def _image_choices(self, _widget: Any) -> list[tuple[str, Any]]:
        from napari.layers import Image

        return [(layer.name, layer) for layer in self._viewer.layers if isinstance(layer, Image)]

    def _labels_choices(self, _widget: Any) -> list[tuple[str, Any]]:
        from napari.layers import Labels

        return [("(none)", None)] + [(layer.name, layer) for layer in self._viewer.layers if isinstance(layer, Labels)]

    # -- state
    @property
    def running(self) -> bool:
        """Whether a run is under way."""
        return self.worker is not None

    @property
    def status(self) -> str:
        """The last message shown under the buttons."""
        return str(self._status.value)

    def _say(self, message: str, error: bool = False) -> None:
        from napari.utils.notifications import show_error, show_info

        self._status.value = message
        (show_error if error else show_info)(message)

    # -- Run and Cancel
    def run(self, image_layer: Any = None, labels_layer: Any = ...) -> Optional[Any]:
        """Start tracking ``image_layer`` (default: the chosen one) with ``labels_layer``
        (default: the chosen one, or None) in a worker thread; returns the worker, or None
        when the inputs were refused (the reason is notified)."""
        if self.running:
            self._say("einmix is already tracking: cancel the run first", error=True)
            return None
        try:
            job, n_frames, place = self._job(
                self._image.value if image_layer is None else image_layer,
                self._labels.value if labels_layer is ... else labels_layer,
            )
        except (EinmixError, ValueError, TypeError) as e:
            self._say(f"einmix: {e}", error=True)
            return None
        from napari.qt.threading import create_worker

        self._stop.clear()
        self._progress.max, self._progress.value = max(n_frames, 1), 0
        self._status.value = f"tracking {n_frames} frame(s)..."
        # Errors are handled here (a notification); napari would otherwise re-raise them.
        connect = {
            "returned": lambda tracks: self._show(tracks, **place),
            "errored": self._on_error,
            "finished": self._on_finished,
        }
        self.worker = create_worker(job, _start_thread=False, _connect=connect)
        self._run.enabled, self._cancel.enabled = False, True
        self.worker.start()
        return self.worker

    def cancel(self) -> None:
        """Stop the run after the frame in progress; no layers are added."""
        if self.running:
            self._stop.set()
            self._status.value = "cancelling after this frame..."

    def _on_progress(self, done: int, total: int) -> None:
        self._progress.max, self._progress.value = max(total, 1), done

    def _on_error(self, error: BaseException) -> None:
        if isinstance(error, Cancelled):
            self._say(f"einmix: {error}; no layers added")
        else:
            self._say(f"einmix: {error}", error=True)

    def _on_finished(self) -> None:
        self.worker = None
        self._run.enabled, self._cancel.enabled = True, False

    # -- the inputs
    def _job(self, layer: Any, labels: Any) -> tuple[Callable[[], dict], int, dict]:
        """The run to do in the worker, its frame count, and where its layers go; raises with
        a message for inputs einmix cannot track."""
        from napari.layers import Image, Labels

        if layer is None:
            raise ValueError("no image layer to track: open a time-lapse (or File > Open Sample > einmix)")
        if not isinstance(layer, Image):
            raise ValueError(
                f"einmix tracks an Image layer, and '{layer.name}' is a {type(layer).__name__} layer: "
                "choose a time-lapse (T, Y, X) or (T, Z, Y, X)"
            )
        stack = layer.data[0] if layer.multiscale else layer.data
        shape = tuple(int(n) for n in stack.shape)
        channel = int(self._channel.value)
        if layer.rgb or len(shape) == 5:
            axis = len(shape) - 1 if layer.rgb else 1
            if channel >= shape[axis]:
                raise ValueError(f"'{layer.name}' has {shape[axis]} channels (0 to {shape[axis] - 1}), not channel {channel}")
            stack = stack[..., channel] if layer.rgb else stack[:, channel]
            shape = shape[:axis] + shape[axis + 1:]
        if len(shape) not in (2, 3, 4):
            raise ValueError(
                f"'{layer.name}' has shape {shape}: einmix tracks (T, Y, X), (T, Z, Y, X) or one image (Y, X)"
            )
        z_project = "none" if len(shape) < 4 else ("volume" if self._z.value == "volume" else "max")
        dims = 3 if z_project == "volume" else 2
        spatial = shape[-3:] if dims == 3 else shape[-2:]
        voxel = self._voxel_size(layer, dims)
        options = self._options()
        options.update(z_project=z_project)
        if dims == 3:
            options["voxel_size"] = voxel
        else:
            options["pixel_size"] = voxel[0]
        n_frames = shape[0] if len(shape) > 2 else 1
        mask, cells = None, None
        if labels is not None:
            if not isinstance(labels, Labels):
                raise ValueError(f"'{labels.name}' is a {type(labels).__name__} layer, not a Labels layer")
            data = labels.data[0] if labels.multiscale else labels.data
            if not np.any(np.asarray(data) != 0):
                raise ValueError(f"the Labels layer '{labels.name}' is empty (every pixel is 0): paint or load the cells first")
            lshape = tuple(int(n) for n in data.shape)
            if self._labels_as.value == "cells":
                if lshape not in (spatial, (n_frames,) + spatial):
                    raise ValueError(f"the Labels layer '{labels.name}' has shape {lshape}; the frames are {spatial}")
                cells = data
            else:
                if lshape != spatial:
                    raise ValueError(
                        f"a mask is one {'(Z, Y, X)' if dims == 3 else '(Y, X)'} image for every frame, {spatial}; "
                        f"'{labels.name}' has shape {lshape} (choose 'cells' for labels that move)"
                    )
                mask = np.asarray(data) != 0

        def progress(done: int, total: int) -> None:
            self._relay.progressed.emit(done, total)
            if self._stop.is_set():
                raise Cancelled(done, total)

        def job() -> dict:
            if self._stop.is_set():
                raise Cancelled(0, n_frames)
            if cells is not None:
                return dict(image.track_cells(stack, cells, progress=progress, **options))
            return {None: image.track(stack, mask, progress=progress, **options)}

        place = dict(name=layer.name, voxel=voxel, layer=layer, dims=dims)
        return job, n_frames, place

    def _voxel_size(self, layer: Any, dims: int) -> tuple[float, ...]:
        """The voxel's sides (z, y, x), or the square pixel's side twice, from the field or the
        layer's scale."""
        text = str(self._voxel.value).strip()
        if text:
            try:
                sides = tuple(float(v) for v in text.replace(",", " ").split())
            except ValueError:
                raise ValueError(f"voxel size must be numbers, like '0.3, 0.1, 0.1' or '0.1', got {text!r}") from None
            if len(sides) == 1:
                sides = sides * dims
        else:
            sides = tuple(float(v) for v in layer.scale[-dims:])
        if len(sides) != dims or not all(s > 0 and np.isfinite(s) for s in sides):
            raise ValueError(f"voxel size must be {dims} positive lengths ({'z, y, x' if dims == 3 else 'y, x'}), got {sides}")
        if dims == 2 and sides[0] != sides[1]:
            raise ValueError(f"2-D frames are fitted with square pixels, but the pixel size is {sides[0]} by {sides[1]}")
        return sides

    def _options(self) -> dict[str, Any]:
        """The fit's options from the fields."""
        k_text = str(self._k.value).strip().lower()
        if k_text == "auto":
            k: Any = "auto"
        elif k_text.isdigit() and int(k_text) >= 1:
            k = int(k_text)
        else:
            raise ValueError(f"K must be 'auto' or a whole number >= 1, got {self._k.value!r}")
        background = str(self._background.value).strip().lower()
        if background in ("", "learned"):
            level: Any = None
        elif background.startswith("p"):
            level = background
        else:
            try:
                level = float(background)
            except ValueError:
                raise ValueError(
                    f"background must be 'learned', a level or 'pQ' (a percentile), got {self._background.value!r}"
                ) from None
        return dict(
            k=k,
            background=level,
            covariance_type=str(self._covariance_type.value),
            bayesian=bool(self._bayesian.value),
            online=bool(self._online.value),
            metric=str(self._metric.value),
        )

    # -- the results
    def _show(self, tracks: dict, *, name: str, voxel: tuple, layer: Any, dims: int) -> None:
        """Add (or replace) the result layers, over ``layer``."""
        from napari.layers import Layer

        if not tracks:
            self._say("einmix: the labels held no cell to track", error=True)
            return
        time_scale = float(layer.scale[0]) if layer.ndim > dims else 1.0
        # Time and the spatial axes of the layer (a channel axis between them is not the track's).
        translate = (float(layer.translate[0]), *(float(v) for v in layer.translate[-dims:])) if layer.ndim > dims else None
        note = ""
        if tuple(float(v) for v in layer.scale[-dims:]) != tuple(voxel):
            # The track is in the units of the voxel size given: the image follows, so the
            # layers lie over it.
            layer.scale = tuple(layer.scale[: layer.ndim - dims]) + tuple(voxel)
            note = f"; the image's scale set to the voxel size {voxel}"
        for data, kwargs, kind in track_layers(tracks, name=name):
            kwargs = dict(kwargs, scale=(time_scale, *voxel))
            if translate is not None:
                kwargs["translate"] = translate
            if kwargs["name"] in self._viewer.layers:
                self._viewer.layers.remove(kwargs["name"])
            self._viewer.add_layer(Layer.create(data, kwargs, kind))
        first = next(iter(tracks.values()))
        n_frames, k = np.asarray(first["weights"]).shape
        what = f"{len(tracks)} cells" if None not in tracks else f"{n_frames} frame(s), K = {k}"
        self._status.value = f"tracked {what}: ellipses, means, tracks and edges added{note}"


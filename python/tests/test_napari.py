"""The napari plugin (issue 23): the dock widget on the demo, Cancel, the reader's round trip
(track.npz, fit.npz, a cell's folder, a folder of cells), a 3-D stack, and bad inputs.

Headless: napari's canvas needs an OpenGL context, which ``QT_QPA_PLATFORM=offscreen`` lacks
(vispy fails in ``glGetParameter``), so these run under an X server, ``xvfb-run -a``
(``scripts/test``); without a display they are skipped. With ``EINMIX_SCREENSHOTS=docs/images``
the demo test writes the screenshots of ``docs/napari.md`` there.
"""

import importlib.metadata
import os
import subprocess
import sys
import time

import numpy as np
import pytest

napari = pytest.importorskip("napari")
pytest.importorskip("pytestqt")
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    pytest.skip("napari's canvas needs an X server: run under xvfb-run -a (scripts/test does)", allow_module_level=True)

from einmix import image  # noqa: E402
from einmix.napari._layers import nearest_edges  # noqa: E402
from einmix.napari._widget import TrackWidget  # noqa: E402


def _run(widget, qtbot, **kwargs):
    """Run the widget and wait for its worker to finish."""
    assert widget.run(**kwargs) is not None, widget.status
    qtbot.waitUntil(lambda: not widget.running, timeout=120_000)


def _notes():
    """The notifications napari shows from now on (their messages)."""
    from napari.utils.notifications import notification_manager

    seen = []
    notification_manager.notification_ready.connect(lambda n: seen.append(str(n.message)))
    return seen


def _check_layers(layers, track, voxel):
    """The four layers hold the track's arrays: counts and coordinates."""
    means = np.asarray(track["means"])
    n_frames, k, dims = means.shape
    by_name = {layer.name.rsplit(" ", 1)[-1]: layer for layer in layers}
    ellipses, points, tracks, edges = (by_name[n] for n in ("ellipses", "means", "tracks", "edges"))
    if dims == 2:
        assert len(ellipses.data) == n_frames * k
    assert len(points.data) == n_frames * k
    assert len(np.unique(tracks.data[:, 0])) == k
    np.testing.assert_array_equal(np.unique(tracks.data[:, 0]), np.arange(k))  # track id = component
    # Index coordinates times the scale are the track's physical ones; time is `frames`.
    np.testing.assert_allclose(points.data[:, 1:] * voxel, means.reshape(-1, dims), rtol=1e-12)
    np.testing.assert_array_equal(points.data[:, 0], np.repeat(track["frames"], k))
    np.testing.assert_array_equal(points.features["component"], np.tile(np.arange(k), n_frames))
    np.testing.assert_allclose(points.features["weight"], np.asarray(track["weights"]).ravel())
    assert tuple(points.scale[1:]) == tuple(voxel)
    expected_edges = sum(len(nearest_edges(np.asarray(track["distances"])[f])) for f in range(n_frames))
    assert len(edges.data) == expected_edges
    meta = points.metadata["einmix"]
    np.testing.assert_array_equal(meta["floor_share"], track["floor_share"])
    np.testing.assert_array_equal(meta["k"], np.full(n_frames, k))
    return by_name


def test_the_plugin_is_found_and_importing_einmix_imports_no_qt():
    import npe2

    manifest = npe2.PluginManifest.from_distribution("einmix")
    assert manifest.name == "einmix"
    assert {w.display_name for w in manifest.contributions.widgets} == {"Track (einmix)"}
    # importing einmix, and the plugin's reader and layers, loads neither Qt nor napari
    code = (
        "import sys, einmix, einmix.napari, einmix.napari._reader, einmix.napari._sample; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('napari', 'qtpy', 'PyQt5', 'PySide2', 'PyQt6', 'PySide6', 'vispy')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert importlib.metadata.version("einmix")


def test_widget_on_the_demo_adds_ellipses_means_tracks_and_edges(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1300, 760)
    stack = image.demo_stack()[:6]
    layer = viewer.add_image(stack, name="demo", colormap="gray")
    widget = TrackWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Track (einmix)")
    assert widget._image.value is layer
    _run(widget, qtbot)
    track = image.track(stack, progress=False)
    assert "tracked 6 frame(s), K = 11" in widget.status
    assert widget._progress.value == 6
    added = [l for l in viewer.layers if l is not layer]
    by_name = _check_layers(added, track, (1.0, 1.0))
    assert [type(l).__name__ for l in added] == ["Shapes", "Points", "Tracks", "Shapes"]
    np.testing.assert_array_equal(by_name["means"].metadata["einmix"]["effective_k"], track["effective_k"])
    # each component keeps its colour across frames
    colours = by_name["ellipses"].edge_color.reshape(6, 11, 4)
    assert np.allclose(colours, colours[:1]) and len({tuple(c) for c in colours[0]}) == 11
    # a second run replaces the layers rather than adding more
    _run(widget, qtbot)
    assert len(viewer.layers) == 5

    viewer.dims.set_current_step(0, 5)
    viewer.layers.selection.active = layer
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera  # napari >= 0.9 : before
    camera.center = (0, 100, 135)
    camera.zoom = 2.6
    qtbot.wait(50)
    folder = os.environ.get("EINMIX_SCREENSHOTS")
    shot = viewer.screenshot(canvas_only=True, flash=False, size=(420, 640))
    assert shot.ndim == 3 and shot[..., :3].max() > 0  # the canvas drew something
    if folder:
        from napari.utils.io import imsave

        os.makedirs(folder, exist_ok=True)
        imsave(os.path.join(folder, "napari-demo.png"), shot)
        widget.native.grab().save(os.path.join(folder, "napari-widget.png"))


def test_cancel_stops_the_run_within_a_frame(make_napari_viewer, qtbot):
    da = pytest.importorskip("dask.array")
    frame_time = 0.25

    def slow(block):
        time.sleep(frame_time)
        return block

    stack = image.demo_stack()[:3, 60:140, 60:200]  # the network's part of the field
    frames = np.concatenate([stack] * 8)  # 24 frames: 6 s were it not cancelled
    lazy = da.from_array(frames, chunks=(1,) + stack.shape[1:]).map_blocks(slow, dtype=frames.dtype)
    viewer = make_napari_viewer()
    layer = viewer.add_image(lazy, name="slow", contrast_limits=(0, 1000))
    widget = TrackWidget(viewer)
    widget._relay.progressed.connect(lambda done, total: widget.cancel())
    start = time.perf_counter()
    _run(widget, qtbot, image_layer=layer)
    elapsed = time.perf_counter() - start
    assert "cancelled after" in widget.status and "of 24 frames; no layers added" in widget.status
    done = int(widget.status.split("cancelled after ")[1].split()[0])
    assert 1 <= done <= 3, widget.status
    assert elapsed < 12 * frame_time, elapsed
    assert [l.name for l in viewer.layers] == ["slow"]
    assert widget._run.enabled and not widget._cancel.enabled


def test_reader_round_trip(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    stack = image.demo_stack()[:4]
    track = image.track(stack, output=tmp_path / "out", progress=False)
    layers = viewer.open(str(tmp_path / "out" / "track.npz"), plugin="einmix")
    _check_layers(layers, track, (1.0, 1.0))
    with np.load(tmp_path / "out" / "track.npz") as npz:
        np.testing.assert_array_equal(layers[1].data[:, 1:], npz["means"].reshape(-1, 2))
        np.testing.assert_array_equal(layers[2].data[:, 2:], npz["means"].transpose(1, 0, 2).reshape(-1, 2))
    # the folder opens the same way
    again = viewer.open(str(tmp_path / "out"), plugin="einmix")
    for a, b in zip(layers, again):
        assert type(a) is type(b)
        np.testing.assert_array_equal(np.asarray(a.data[0] if isinstance(a.data, list) else a.data), np.asarray(b.data[0] if isinstance(b.data, list) else b.data))

    # fit.npz, as `einmix image fit` writes it
    from einmix import _einmix

    np.save(tmp_path / "frame.npy", stack[:1])
    assert _einmix.cli_main(["einmix", "image", "fit", str(tmp_path / "frame.npy"), "-q", "-o", str(tmp_path / "fit")]) == 0
    fit = viewer.open(str(tmp_path / "fit"), plugin="einmix")
    with np.load(tmp_path / "fit" / "fit.npz") as npz:
        assert len(fit[0].data) == npz["means"].shape[1]
        np.testing.assert_array_equal(fit[1].data[:, 1:], npz["means"][0])

    # cells: a cell's folder alone, and the folder of cells with a `cell` feature
    labels = np.zeros(stack.shape[1:], dtype=np.int32)
    labels[:, :140], labels[:, 140:] = 1, 2
    cells = image.track_cells(stack, labels, output=tmp_path / "cells", progress=False)
    one = viewer.open(str(tmp_path / "cells" / "cell_2"), plugin="einmix")
    _check_layers(one, cells[2], (1.0, 1.0))
    both = viewer.open(str(tmp_path / "cells"), plugin="einmix")
    points = both[1]
    assert sorted(set(points.features["cell"])) == [1, 2]
    assert len(points.data) == sum(c["means"].shape[0] * c["means"].shape[1] for c in cells.values())
    assert set(points.metadata["einmix"]["cells"]) == {1, 2}


def test_a_3d_stack_gives_ellipsoid_sections(make_napari_viewer, qtbot):
    zz, rr, cc = np.mgrid[:10, :32, :40]
    frames = []
    for t in range(3):
        a = 200 * np.exp(-(((zz - 4) * 2.0) ** 2 / 6 + (rr - 10) ** 2 / 6 + (cc - 10 - t) ** 2 / 10))
        b = 150 * np.exp(-(((zz - 6) * 2.0) ** 2 / 8 + (rr - 22) ** 2 / 5 + (cc - 28) ** 2 / 5))
        frames.append(a + b + 5)
    stack = np.asarray(frames, dtype=np.float32)
    viewer = make_napari_viewer()
    layer = viewer.add_image(stack, name="volume", scale=(1, 2, 1, 1))
    widget = TrackWidget(viewer)
    widget._k.value = "2"
    assert widget._z.value == "volume"
    _run(widget, qtbot, image_layer=layer)
    assert "K = 2" in widget.status, widget.status
    track = image.track(stack, z_project="volume", voxel_size=(2, 1, 1), k=2, progress=False)
    by_name = _check_layers([l for l in viewer.layers if l is not layer], track, (2.0, 1.0, 1.0))
    ellipses = by_name["ellipses"]
    assert ellipses.ndim == 4 and tuple(ellipses.scale) == (1, 2, 1, 1)
    # every component has a section in every frame, on the slice nearest its mean among them
    f = np.asarray(ellipses.features["frame"])
    c = np.asarray(ellipses.features["component"])
    z = np.asarray(ellipses.features["z"])
    for frame in range(3):
        for k in range(2):
            mz = track["means"][frame, k, 0] / 2.0
            slices = z[(f == frame) & (c == k)]
            assert len(slices) >= 1 and round(mz) in slices
    # a section is drawn on its own slice: its vertices' z is the slice's
    for shape, zi in zip(ellipses.data, z):
        assert np.all(shape[:, 1] == zi)


def test_the_covariance_type_chosen_is_fitted_and_drawn(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    stack = image.demo_stack()[:3]
    layer = viewer.add_image(stack, name="demo")
    widget = TrackWidget(viewer)
    assert widget._covariance_type.value == "full"
    assert list(widget._covariance_type.choices) == ["full", "tied", "diag", "spherical"]
    widget._covariance_type.value = "diag"
    _run(widget, qtbot, image_layer=layer)
    assert "tracked 3 frame(s)" in widget.status, widget.status
    track = image.track(stack, covariance_type="diag", progress=False)
    assert (track["covars"][..., 0, 1] == 0).all()
    by_name = _check_layers([l for l in viewer.layers if l is not layer], track, (1.0, 1.0))
    # Axis-aligned ellipses: each box's corners sit on two rows and two columns.
    for box in by_name["ellipses"].data:
        for axis in (1, 2):
            assert len(np.unique(np.round(box[:, axis], 9))) <= 2, box


def test_widget_with_a_labels_layer_as_mask_and_as_cells(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    stack = image.demo_stack()[:3]
    layer = viewer.add_image(stack, name="demo")
    labels = np.zeros(stack.shape[1:], dtype=np.int32)
    labels[:, :140], labels[:, 140:230] = 1, 2  # the columns past 230 are outside the mask
    cells = viewer.add_labels(labels, name="cells")
    widget = TrackWidget(viewer)
    widget._labels_as.value = "cells"
    _run(widget, qtbot, image_layer=layer, labels_layer=cells)
    assert widget.status.startswith("tracked 2 cells"), widget.status
    expected = image.track_cells(stack, labels, progress=False)
    points = viewer.layers["demo means"]
    assert sorted(set(points.features["cell"])) == [1, 2]
    assert len(points.data) == sum(c["means"].shape[0] * c["means"].shape[1] for c in expected.values())
    # one track per cell and component
    assert len(np.unique(viewer.layers["demo tracks"].data[:, 0])) == sum(c["means"].shape[1] for c in expected.values())

    widget._labels_as.value = "mask"
    _run(widget, qtbot, image_layer=layer, labels_layer=cells)
    masked = image.track(stack, labels != 0, progress=False)
    assert np.all(masked["means"][..., 1] < 230)
    _check_layers([viewer.layers[f"demo {n}"] for n in ("ellipses", "means", "tracks", "edges")], masked, (1.0, 1.0))


def test_bad_inputs_are_notified_with_what_is_wrong(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    notes = _notes()
    widget = TrackWidget(viewer)
    points = viewer.add_points(np.zeros((3, 3)), name="spots")
    assert widget.run(image_layer=points) is None
    expected = "einmix tracks an Image layer, and 'spots' is a Points layer"
    assert expected in widget.status and any(expected in n for n in notes)

    layer = viewer.add_image(image.demo_stack()[:2], name="demo")
    empty = viewer.add_labels(np.zeros(layer.data.shape[1:], dtype=np.int32), name="cells")
    assert widget.run(image_layer=layer, labels_layer=empty) is None
    expected = "the Labels layer 'cells' is empty (every pixel is 0)"
    assert expected in widget.status and any(expected in n for n in notes)

    widget._k.value = "many"
    assert widget.run(image_layer=layer, labels_layer=None) is None
    assert "K must be 'auto' or a whole number >= 1, got 'many'" in widget.status

    np.savez(tmp_path / "other.npz", x=np.arange(3), y=np.ones(2))
    from einmix.napari._reader import read

    message = "other.npz is not an einmix output (track.npz or fit.npz): it lacks means, covars, weights"
    with pytest.raises(ValueError, match="is not an einmix output") as raised:
        read(str(tmp_path / "other.npz"))
    assert message in str(raised.value) and "it holds x, y" in str(raised.value)
    # through napari, the same words reach the user
    with pytest.raises(Exception) as raised:
        viewer.open(str(tmp_path / "other.npz"), plugin="einmix")
    assert message in str(raised.value) or message in str(raised.value.__cause__)
    assert len(viewer.layers) == 3


def test_sample_data_is_the_demo(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("einmix", "demo")
    assert viewer.layers[0].data.shape == (30, 192, 279)

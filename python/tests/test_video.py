"""einmix.image on videos: any array-like read one frame at a time, outputs written as frames
finish, resume to the uninterrupted arrays, every cell of a label image, and the same cells
mapped over a local Dask cluster."""

import numpy as np
import pytest

from einmix import _einmix, image


def blobs(h, w, specs):
    rr, cc = np.mgrid[:h, :w]
    out = np.zeros((h, w))
    for (r0, c0), (sr, sc), a in specs:
        out += a * np.exp(-0.5 * (((rr - r0) / sr) ** 2 + ((cc - c0) / sc) ** 2))
    return out.round()


def video(n=10):
    """Blob A moving right on the left, blob B still in the middle, blob C at the top right;
    a floor of 20 counts."""
    frames = [
        blobs(80, 120, [((20, 20 + 1.5 * t), (2.5, 3.5), 120), ((55, 60), (3, 3), 100), ((25, 95), (3, 2), 90)])
        for t in range(n)
    ]
    return np.stack(frames) + 20.0


OPTIONS = dict(min_distance=5, n_threads=2, progress=False)
ARRAYS = ["means", "covars", "weights", "precs", "distances", "laplacian", "frames", "lower_bound", "n_iter"]


def same(a, b):
    for name in ARRAYS + ["floor_share", "reseed_frame", "reseed_position"]:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


class Lazy:
    """An array-like that records which frames were read (and never hands out more than one)."""

    def __init__(self, frames):
        self.frames, self.shape, self.reads = frames, frames.shape, []

    def __getitem__(self, index):
        assert isinstance(index, (int, np.integer)), f"read {index!r}: more than one frame at a time"
        self.reads.append(int(index))
        return self.frames[index]


def test_any_array_like_is_read_one_frame_at_a_time(tmp_path):
    frames = video()
    in_memory = image.track(frames, **OPTIONS)
    lazy = Lazy(frames.astype(np.uint16))
    same(image.track(lazy, **OPTIONS), in_memory)
    assert lazy.reads == list(range(10)), lazy.reads
    # A memmap of a .npy on disk.
    path = tmp_path / "video.npy"
    np.save(path, frames.astype(np.uint16))
    same(image.track(np.load(path, mmap_mode="r"), **OPTIONS), in_memory)


def test_dask_and_zarr_arrays_are_read_frame_by_frame():
    frames = video(6)
    in_memory = image.track(frames, **OPTIONS)
    da = pytest.importorskip("dask.array")
    same(image.track(da.from_array(frames, chunks=(1, 40, 120)), **OPTIONS), in_memory)
    zarr = pytest.importorskip("zarr")
    z = zarr.zeros(frames.shape, chunks=(1, 80, 60), dtype="u2")
    z[:] = frames.astype(np.uint16)
    same(image.track(z, **OPTIONS), in_memory)


def test_output_writes_the_track_and_resume_continues_a_stopped_run(tmp_path):
    frames = video(12)
    in_memory = image.track(frames, **OPTIONS)
    written = image.track(frames, output=tmp_path / "whole", **OPTIONS)
    same(written, in_memory)
    np.testing.assert_array_equal(written["converged"], in_memory["converged"])
    assert (tmp_path / "whole" / "track.npz").exists() and (tmp_path / "whole" / "summary.csv").exists()

    def stop_at_five(done, total):
        if done == 5:
            raise KeyboardInterrupt

    options = dict(OPTIONS)
    del options["progress"]
    with pytest.raises(KeyboardInterrupt):
        image.track(frames, output=tmp_path / "stopped", progress=stop_at_five, **options)
    partial = np.load(tmp_path / "stopped" / "track.npz")
    assert partial["means"].shape[0] == 5
    with pytest.raises(_einmix.EinmixError, match="holds an unfinished run"):
        image.track(frames, output=tmp_path / "stopped", **OPTIONS)
    same(image.track(frames, output=tmp_path / "stopped", resume=True, **OPTIONS), in_memory)
    assert (tmp_path / "stopped" / "track.npz").read_bytes() == (tmp_path / "whole" / "track.npz").read_bytes()
    with pytest.raises(KeyboardInterrupt):
        image.track(frames, output=tmp_path / "again", progress=stop_at_five, **options)
    with pytest.raises(_einmix.EinmixError, match="option tol: 0.001 in the checkpoint, 0.0001 now"):
        image.track(frames, output=tmp_path / "again", resume=True, tol=1e-4, **OPTIONS)
    with pytest.raises(ValueError, match="choose one"):
        image.track(frames, output=tmp_path / "x", resume=True, force=True)


def halves():
    labels = np.zeros((80, 120), np.int32)
    labels[:45, :55] = 3
    labels[:45, 70:] = 7
    return labels


def test_track_cells_tracks_each_cell_as_its_masked_track(tmp_path):
    frames = video(8)
    cells = image.track_cells(frames, halves(), output=tmp_path / "cells", **OPTIONS)
    assert sorted(cells) == [3, 7]
    for label, result in cells.items():
        alone = image.track(frames, halves(), mask_label=label, **OPTIONS)
        same(result, alone)
        assert (result["first_frame"], result["last_frame"], result["vanished_at"]) == (0, 7, None)
    text = (tmp_path / "cells" / "cells.csv").read_text()
    assert text.splitlines()[0].startswith("label,first_frame,last_frame,n_frames,k")
    # Labels that move: a cell present in frames 2..5 only.
    moving = np.zeros((8, 80, 120), np.int32)
    moving[:, :45, :55] = 3
    moving[2:6, :45, 70:] = 9
    cells = image.track_cells(frames, moving, **OPTIONS)
    assert (cells[9]["first_frame"], cells[9]["last_frame"], cells[9]["vanished_at"]) == (2, 5, 6)
    np.testing.assert_array_equal(cells[9]["frames"], [2, 3, 4, 5])


def test_bad_labels_are_clear_errors(tmp_path):
    frames = video(3)
    with pytest.raises(_einmix.EinmixError, match="do not fit frames of shape"):
        image.track_cells(frames, np.ones((10, 10), np.int32), **OPTIONS)
    with pytest.raises(_einmix.EinmixError, match="labels must be integers"):
        image.track_cells(frames, halves() + 0.5, **OPTIONS)
    with pytest.raises(_einmix.EinmixError, match="no labels"):
        image.track_cells(frames, np.zeros((80, 120)), **OPTIONS)
    with pytest.raises(_einmix.EinmixError, match="labels must have shape"):
        image.track_cells(frames, np.zeros((2, 2, 80, 120)), **OPTIONS)


def test_dask_track_cells_writes_what_a_local_run_writes(tmp_path):
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    from einmix import dask as edask

    frames = video(6)
    np.save(tmp_path / "video.npy", frames.astype(np.uint16))
    np.save(tmp_path / "labels.npy", halves())
    local = tmp_path / "local"
    image.track_cells(frames, halves(), output=local, **OPTIONS)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            found = edask.track_cells(
                str(tmp_path / "video.npy"), str(tmp_path / "labels.npy"), tmp_path / "dist", client=client,
                min_distance=5,
            )
            assert found == [3, 7]
            edask.track_videos([str(tmp_path / "video.npy")], [tmp_path / "one"], client=client, min_distance=5)
    for label in (3, 7):
        a = (local / f"cell_{label}" / "track.npz").read_bytes()
        b = (tmp_path / "dist" / f"cell_{label}" / "track.npz").read_bytes()
        assert a == b, label
    drop_time = lambda text: [",".join(l.split(",")[:6] + l.split(",")[7:]) for l in text.splitlines()]  # noqa: E731
    assert drop_time((local / "cells.csv").read_text()) == drop_time((tmp_path / "dist" / "cells.csv").read_text())
    one = image.track(frames, **OPTIONS)
    same(image._load_track(str(tmp_path / "one")), one)

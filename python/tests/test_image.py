"""einmix.image: the bioimaging pipeline from Python (tracking, distances, readers, errors)."""

import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

import einmix
from einmix import image


def blobs(h, w, specs):
    rr, cc = np.mgrid[:h, :w]
    out = np.zeros((h, w))
    for (r0, c0), (sr, sc), a in specs:
        out += a * np.exp(-0.5 * (((rr - r0) / sr) ** 2 + ((cc - c0) / sc) ** 2))
    return out.round()


def timelapse(n=12, vanish=8):
    frames = []
    for t in range(n):
        specs = [((20, 20 + 1.5 * t), (2.5, 3.5), 120), ((55, 60), (3, 3), 100)]
        if t < vanish:
            specs.append(((25, 95), (3, 2), 110 * (1 - t / vanish) + 10))
        frames.append(blobs(80, 120, specs))
    return np.stack(frames)


def test_track_returns_ornet_layout_and_keeps_identity():
    stack = timelapse()
    r = image.track(stack, background=0.5, n_threads=2)
    f, k = stack.shape[0], r["weights"].shape[1]
    assert k == 3
    assert r["means"].shape == (f, k, 2)
    assert r["covars"].shape == (f, k, 2, 2)
    assert r["precs"].shape == (f, k, 2, 2)
    assert r["distances"].shape == (f, k, k)
    assert r["laplacian"].shape == (f, k)
    np.testing.assert_allclose(np.einsum("fkij,fkjl->fkil", r["covars"], r["precs"]), np.broadcast_to(np.eye(2), (f, k, 2, 2)), atol=1e-9)
    np.testing.assert_allclose(r["weights"].sum(axis=1), 1.0)
    # The moving blob keeps its component: nearest component to the true centre never changes.
    truth = np.array([[20, 20 + 1.5 * t] for t in range(f)])
    nearest = np.argmin(((r["means"] - truth[:, None, :]) ** 2).sum(-1), axis=1)
    assert (nearest == nearest[0]).all()
    # (From frame 8 the re-seeded component shares a blob, so the means shift a little.)
    np.testing.assert_allclose(r["means"][np.arange(8), nearest[:8]], truth[:8], atol=0.3)
    # The fading blob is gone at frame 8: reported and re-seeded.
    assert 8 in r["reseed_frame"]
    i = list(r["reseed_frame"]).index(8)
    assert r["reseed_reason"][i] in ("emptied", "left_data")
    assert r["reseed_position"].shape == (len(r["reseed_frame"]), 2)
    assert np.isfinite(r["means"]).all() and np.isfinite(r["distances"]).all()


def test_fit_image_matches_repeated_coordinates_in_scikit_learn():
    """The weighted fixed point on unique pixels is the fixed point on coordinates repeated by
    integer intensity: scikit-learn started there on the repeated data does not move."""
    from sklearn.mixture import GaussianMixture as SkGM

    frame = blobs(40, 50, [((12, 15), (2, 3), 30), ((26, 33), (3, 2), 25), ((20, 24), (4, 4), 8)])
    r = image.fit_image(frame, background=0, tol=1e-12, max_iter=1000, min_distance=3)
    rows, cols = np.nonzero(frame > 0)
    reps = frame[rows, cols].astype(int)
    x = np.repeat(np.column_stack([rows, cols]).astype(float), reps, axis=0)
    assert len(x) > 5 * len(rows)
    k = r["weights"].shape[0]
    sk = SkGM(k, covariance_type="full", reg_covar=1 / 12, tol=1e-12, max_iter=5,
              weights_init=r["weights"], means_init=r["means"], precisions_init=r["precs"]).fit(x)
    np.testing.assert_allclose(sk.means_, r["means"], atol=1e-5)
    np.testing.assert_allclose(sk.covariances_, r["covars"], atol=1e-5)
    np.testing.assert_allclose(sk.weights_, r["weights"], atol=1e-7)


def test_component_distances_against_numerical_integration():
    rng = np.random.default_rng(0)
    k = 3
    means = rng.uniform(-2, 2, (k, 2))
    a = rng.normal(size=(k, 2, 2))
    covs = a @ a.transpose(0, 2, 1) + 0.3 * np.eye(2)
    h = einmix.component_distances(means, covs)
    g = np.linspace(-14, 14, 1401)
    xx, yy = np.meshgrid(g, g, indexing="ij")
    pts = np.stack([xx, yy], -1)
    step = g[1] - g[0]

    def pdf(m, c):
        d = pts - m
        q = np.einsum("...i,ij,...j->...", d, np.linalg.inv(c), d)  # the correct Mahalanobis form
        return np.exp(-0.5 * q) / (2 * np.pi * np.sqrt(np.linalg.det(c)))

    for i in range(k):
        for j in range(k):
            bc = np.sqrt(pdf(means[i], covs[i]) * pdf(means[j], covs[j])).sum() * step * step
            # Compare BC = 1 - H^2: the square root amplifies quadrature error near H = 0.
            assert abs((1 - h[i, j] ** 2) - bc) < 1e-6
    np.testing.assert_array_equal(h, h.T)
    assert np.all(np.diag(h) == 0)
    b = einmix.component_distances(means, covs, metric="bhattacharyya")
    np.testing.assert_allclose(h, np.sqrt(1 - np.exp(-b)), atol=1e-12)
    kl = einmix.component_distances(means, covs, metric="kl")
    skl = einmix.component_distances(means, covs, metric="symmetric_kl")
    np.testing.assert_allclose(skl, kl + kl.T, atol=1e-12)
    with pytest.raises(einmix.EinmixError, match="metric"):
        einmix.component_distances(means, covs, metric="euclid")


def test_readers_and_errors(tmp_path):
    stack = timelapse(3)
    np.save(tmp_path / "s.npy", stack.astype(np.uint16))
    back = image.read(tmp_path / "s.npy")
    np.testing.assert_array_equal(back, stack.astype(np.float32))
    assert image.read(tmp_path / "s.npy", frames="1:").shape == (2, 80, 120)
    np.save(tmp_path / "m.npy", np.zeros((5, 5), np.uint8))
    with pytest.raises(einmix.EinmixError, match="mask is"):
        image.track(stack, np.ones((5, 5), bool), background=0.5)
    with pytest.raises(OSError):
        image.read(tmp_path / "missing.tif")
    (tmp_path / "bad.tif").write_bytes(b"II*\x00\x08\x00\x00\x00\x05")
    with pytest.raises(einmix.EinmixError, match="not a valid TIFF"):
        image.read(tmp_path / "bad.tif")
    with pytest.raises(einmix.EinmixError, match="no pixel"):
        image.track(np.zeros((2, 10, 10)))
    with pytest.raises(einmix.EinmixError, match="choose online or bayesian"):
        image.track(stack, online=True, bayesian=True)
    labels = np.zeros((80, 120), np.int32)
    labels[:, 60:] = 2
    r = image.track(stack, labels, mask_label=2, background=0.5)
    assert (r["means"][..., 1] >= 59).all()


def test_demo_stack():
    s = image.demo_stack()
    assert s.shape == (30, 192, 279) and s.dtype == np.float32
    r = image.track(s[:5], background="p98", min_distance=6, smooth=1.5)
    assert r["means"].shape[0] == 5 and r["weights"].shape[1] >= 5


CLI = pathlib.Path(__file__).resolve().parents[2] / "target" / "release" / "einmix"


@pytest.mark.skipif(not CLI.exists(), reason="the CLI is not built (cargo build --release)")
def test_cli_npz_is_what_numpy_reads(tmp_path):
    stack = timelapse(4)
    np.save(tmp_path / "s.npy", stack.astype(np.uint16))
    subprocess.run([str(CLI), "image", "track", str(tmp_path / "s.npy"), "--background", "0.5", "-q",
                    "-o", str(tmp_path / "out")], check=True)
    z = np.load(tmp_path / "out" / "track.npz")
    r = image.track(stack, background=0.5)
    for name in ("means", "covars", "weights", "precs", "distances"):
        np.testing.assert_allclose(z[name], r[name], rtol=1e-10, atol=1e-12)
    assert str(z["metric"][0]) == "hellinger"
    assert (tmp_path / "out" / "frame_0000.png").exists() and (tmp_path / "out" / "graph.png").exists()


def test_progress_is_called_per_frame_and_an_exception_stops_the_run():
    stack = image.demo_stack()[:4]
    calls = []
    image.track(stack, min_distance=6, smooth=1.5, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]

    class Bar:  # tqdm's interface
        n = 0

        def update(self, k):
            self.n += k

    bar = Bar()
    image.track(stack, min_distance=6, smooth=1.5, progress=bar)
    assert bar.n == 4

    def interrupt(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        image.track(stack, min_distance=6, smooth=1.5, progress=interrupt)
    with pytest.raises(TypeError, match="progress must be"):
        image.track(stack, progress=3)


def test_the_floor_is_learned_by_default_and_reported_per_frame():
    stack = image.demo_stack()[:3]
    learned = image.track(stack, min_distance=6, smooth=1.5)
    k = learned["means"].shape[1]
    naive = image.fit_image(stack[0], background=0, threshold_abs=0, min_distance=6, smooth=1.5)["means"].shape[0]
    # The network's ~10 bright stretches, against a component per camera-noise maximum.
    assert 5 <= k <= 20 and naive > 10 * k, (k, naive)
    assert np.all((learned["floor_share"] > 0.98) & (learned["floor_share"] < 1.0))
    assert np.all(learned["background"] == 0)
    subtracted = image.track(stack, min_distance=6, smooth=1.5, background="p98")
    assert np.all(np.isnan(subtracted["floor_share"]))
    assert np.all(subtracted["n_points"] < learned["n_points"] / 10)


def test_a_bayesian_track_learns_the_floor_too():
    """The real demo frames with the variational fit and no level: the floor is learned (its
    share as EM finds it), the structures are kept, and the effective K is counted among them."""
    stack = image.demo_stack()[:2]
    em = image.track(stack, min_distance=6, smooth=1.5)
    vb = image.track(stack, min_distance=6, smooth=1.5, bayesian=True)
    assert np.all(np.abs(vb["floor_share"] - em["floor_share"]) < 0.002), (vb["floor_share"], em["floor_share"])
    k = vb["means"].shape[1]
    # The structures EM keeps are kept: the evidence is each structure's pixels, not diluted by
    # the floor's.
    assert np.all(vb["effective_k"] >= 0.8 * k), (vb["effective_k"], k)
    kept = vb["weights"] / vb["weights"].sum(axis=1, keepdims=True)
    assert np.array_equal(vb["effective_k"], (kept > 0.01).sum(axis=1))


def volume_blobs(shape, specs):
    """A (Z, H, W) volume of axis-aligned blobs: ((z, r, c) centre, (sz, sr, sc) in voxels, height)."""
    zz, rr, cc = np.mgrid[: shape[0], : shape[1], : shape[2]]
    out = np.zeros(shape)
    for (z0, r0, c0), (sz, sr, sc), a in specs:
        out += a * np.exp(-0.5 * (((zz - z0) / sz) ** 2 + ((rr - r0) / sr) ** 2 + ((cc - c0) / sc) ** 2))
    return out.round()


def test_a_volume_is_fitted_in_3d_as_scikit_learn_fits_its_repeated_voxels():
    """3-D with anisotropic voxels: the weighted fixed point on unique voxels, in (z, row, col)
    times the voxel's sides, is scikit-learn's on the coordinates repeated by intensity."""
    from sklearn.mixture import GaussianMixture as SkGM

    voxel = (2.0, 0.5, 0.5)
    # Two blobs one above the other (same row and column) and a third beside them.
    vol = volume_blobs((12, 30, 36), [((3, 12, 14), (1.2, 3, 2.5), 30), ((8, 12, 14), (1.5, 2.5, 3), 25),
                                      ((6, 22, 26), (1.3, 3, 3), 20)])
    r = image.fit_image(vol, z_project="volume", voxel_size=voxel, background=0, tol=1e-12, max_iter=1000,
                        min_distance=3, reg_covar=1 / 48)
    assert r["means"].shape == (3, 3) and r["covars"].shape == (3, 3, 3)
    np.testing.assert_array_equal(r["voxel_size"], voxel)
    z, rows, cols = np.nonzero(vol > 0)
    reps = vol[z, rows, cols].astype(int)
    x = np.repeat(np.column_stack([z * voxel[0], rows * voxel[1], cols * voxel[2]]), reps, axis=0)
    sk = SkGM(3, covariance_type="full", reg_covar=1 / 48, tol=1e-12, max_iter=5,
              weights_init=r["weights"], means_init=r["means"], precisions_init=r["precs"]).fit(x)
    np.testing.assert_allclose(sk.means_, r["means"], atol=1e-5)
    np.testing.assert_allclose(sk.covariances_, r["covars"], atol=1e-5)
    np.testing.assert_allclose(sk.weights_, r["weights"], atol=1e-7)
    # The stacked pair is two components in 3-D, one in the maximum projection.
    assert sorted(np.round(r["means"][:, 0] / voxel[0]).astype(int)) == [3, 6, 8]
    projected = image.fit_image(vol.max(axis=0), background=0, min_distance=3, pixel_size=0.5)
    assert projected["means"].shape[0] == 2


def test_a_time_lapse_of_volumes_with_the_learned_floor(tmp_path):
    rng = np.random.default_rng(0)
    frames = [volume_blobs((10, 28, 32), [((4, 10, 10 + t), (1.5, 2.5, 2.5), 200), ((5, 18, 22), (1.5, 2, 3), 150)])
              for t in range(3)]
    stack = rng.poisson(np.stack(frames) + 10).astype(np.float32)
    r = image.track(stack, z_project="volume", voxel_size=(1.0, 0.5, 0.5), min_distance=3, n_threads=2)
    assert r["means"].shape == (3, 2, 3)
    assert np.all((r["floor_share"] > 0.3) & (r["floor_share"] < 1))
    moving = np.argmin(r["means"][0, :, 2])
    np.testing.assert_allclose(np.diff(r["means"][:, moving, 2]), 0.5, atol=0.05)  # one column = 0.5
    # The same stack projected: 2-D means; the .npy read back as volumes gives the same fit.
    flat = image.track(stack, z_project="max", min_distance=3, pixel_size=0.5, n_threads=2)
    assert flat["means"].shape == (3, 2, 2)
    np.save(tmp_path / "v.npy", stack)
    pixels, voxel = image.read(tmp_path / "v.npy", z_project="volume", with_voxel_size=True)
    assert pixels.shape == stack.shape and voxel is None
    again = image.track(pixels, z_project="volume", voxel_size=(1.0, 0.5, 0.5), min_distance=3, n_threads=2)
    np.testing.assert_array_equal(again["means"], r["means"])


def test_volume_options_are_checked():
    vol = np.ones((4, 8, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="voxel_size is for volumes"):
        image.track(vol[None], voxel_size=(1, 1, 1))
    with pytest.raises(einmix.EinmixError, match="voxel_size is Z,Y,X: three positive, finite lengths"):
        image.track(vol[None], z_project="volume", voxel_size=(0, 1, 1))
    with pytest.raises(einmix.EinmixError, match="take z_project='max' or 'volume'"):
        image.track(vol[None])
    with pytest.raises(einmix.EinmixError, match="needs Z slices"):
        image.track(vol[:, None], z_project="volume")
    with pytest.raises(ValueError, match="z_project must be"):
        image.track(vol, z_project="stack")


def test_covariance_type_gives_that_shape_in_the_dense_layout(tmp_path):
    stack = timelapse(n=4)
    full = image.track(stack, background=0.5, n_threads=2)
    assert (full["covars"][..., 0, 1] != 0).any(), "full ellipses have off-diagonal terms"
    explicit = image.track(stack, background=0.5, n_threads=2, covariance_type="full")
    np.testing.assert_array_equal(explicit["covars"], full["covars"])
    diag = image.track(stack, background=0.5, n_threads=2, covariance_type="diag")
    assert diag["covars"].shape == full["covars"].shape
    assert (diag["covars"][..., 0, 1] == 0).all() and (diag["covars"][..., 1, 0] == 0).all()
    assert (diag["covars"][..., 0, 0] != diag["covars"][..., 1, 1]).any(), "axis-aligned, not circles"
    np.testing.assert_allclose(np.einsum("fkij,fkjl->fkil", diag["covars"], diag["precs"]), np.broadcast_to(np.eye(2), diag["covars"].shape), atol=1e-9)
    assert np.isfinite(diag["lower_bound"]).all()
    spherical = image.track(stack, background=0.5, n_threads=2, covariance_type="spherical")
    np.testing.assert_array_equal(spherical["covars"][..., 0, 0], spherical["covars"][..., 1, 1])
    # track_cells takes it too (the options are track's).
    labels = np.ones(stack.shape[1:], dtype=np.int32)
    cells = image.track_cells(stack, labels, output=tmp_path / "cells", background=0.5, covariance_type="diag", progress=False)
    assert (cells[1]["covars"][..., 0, 1] == 0).all()
    with pytest.raises(ValueError, match=r"covariance_type must be one of 'full', 'tied', 'diag', 'spherical', got 'diagonal'"):
        image.track(stack, background=0.5, covariance_type="diagonal")
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        image.track_cells(stack, labels, background=0.5, covariance_type="ful")

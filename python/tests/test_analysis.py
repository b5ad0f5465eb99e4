"""einmix.image.analyse: the statistics and z-scores against a plain numpy twin on a tracked
video's spectra, the files, bad input with its messages, and docs/analysis.md's classifier."""

import pathlib
import re

import numpy as np
import pytest

from einmix import _einmix, image

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "analysis.md"


@pytest.fixture(scope="module")
def demo_track():
    return image.track(image.demo_stack(), min_distance=6, smooth=1.5, progress=False)


def twin_series(spectra, distances):
    """Every statistic the plain way, from the spectra and distances."""
    f, k = spectra.shape
    off = ~np.eye(k, dtype=bool)
    gaps = np.diff(spectra, axis=1)[:, : max(1, k // 2)]
    nearest = np.where(off, distances, np.inf).min(axis=2)
    return {
        "algebraic_connectivity": spectra[:, 1],
        "spectral_gap": gaps.max(axis=1),
        "largest_eigenvalue": spectra[:, -1],
        "mean_eigenvalue": spectra.mean(axis=1),
        "mean_distance": distances[:, off].mean(axis=1),
        "mean_nearest_distance": nearest.mean(axis=1),
    }


def twin_z(x, window):
    z = np.full(len(x), np.nan)
    for t in range(window, len(x)):
        past = x[t - window : t]
        if np.ptp(past) == 0:
            z[t] = 0.0 if x[t] == past[0] else np.copysign(np.inf, x[t] - past[0])
        else:
            z[t] = (x[t] - past.mean()) / past.std()
    return z


def test_statistics_and_z_scores_match_a_numpy_twin(demo_track, tmp_path):
    r = demo_track
    np.testing.assert_allclose(
        image.analyse(r, window=10)["spectra"], r["laplacian"], rtol=0, atol=0, err_msg="spectra"
    )
    twin = twin_series(r["laplacian"], r["distances"])
    for statistic in twin:
        for window, threshold in [(5, 2.0), (10, 1.5)]:
            a = image.analyse(r, statistic=statistic, window=window, threshold=threshold)
            np.testing.assert_allclose(a["series"][statistic], twin[statistic], rtol=1e-12, err_msg=statistic)
            np.testing.assert_allclose(a["values"], twin[statistic], rtol=1e-12)
            if statistic == "mean_eigenvalue":
                # The trace of the normalised Laplacian is K: the mean eigenvalue is 1 to the
                # last bits, and its z-scores score rounding (why it is not the default).
                assert np.ptp(twin[statistic]) < 1e-12
                continue
            z = twin_z(twin[statistic], window)
            np.testing.assert_allclose(a["z"], z, rtol=1e-9, atol=1e-12, err_msg=f"{statistic} z")
            np.testing.assert_array_equal(a["anomalous"], np.nan_to_num(np.abs(z)) > threshold)
    # The files, through the folder a track was written to.
    image.track(image.demo_stack()[:12], min_distance=6, smooth=1.5, output=tmp_path / "t", progress=False)
    a = image.analyse(tmp_path / "t", window=5, output=tmp_path / "a")
    for name in ["anomalies.csv", "spectra.csv", "spectra.npz", "spatial.csv", "features.csv", "features.npz"]:
        assert (tmp_path / "a" / name).stat().st_size > 0, name
    rows = (tmp_path / "a" / "anomalies.csv").read_text().splitlines()
    assert rows[0] == "frame,statistic,value,z,anomalous" and len(rows) == 13
    assert rows[1].endswith(",,false") and rows[1].startswith("0,algebraic_connectivity,")
    with np.load(tmp_path / "a" / "features.npz") as npz:
        assert npz["features"].shape == a["features"].shape
        assert list(npz["feature_names"]) == a["feature_names"]


def test_bad_input_is_a_clear_error(demo_track, tmp_path):
    with pytest.raises(_einmix.EinmixError, match="window 40 is not shorter than the track's 30 frames"):
        image.analyse(demo_track, window=40)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(_einmix.EinmixError, match="other.npz.*means"):
        image.analyse(tmp_path / "other.npz")
    one = image.track(image.demo_stack()[:4], k=1, progress=False)
    with pytest.raises(_einmix.EinmixError, match="1 component"):
        image.analyse(one, window=2)


def test_the_documented_classifier_separates_the_conditions():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    classifier = [b for b in blocks if "cross_val_score" in b]
    assert classifier, "docs/analysis.md shows the classifier"
    exec(compile(classifier[0], str(DOC), "exec"), {})

"""Story: ``einmix.read_data`` reads what NumPy writes, as NumPy reads it (issue 15)."""

import numpy as np
import pytest

import einmix


@pytest.mark.parametrize("dtype", ["<f8", ">f8", "<f4", "<f2", "<i8", ">i4", "|u1", "|b1", ">u2"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_npy_of_any_numeric_dtype_reads_as_its_float64_conversion(tmp_path, dtype, order):
    a = np.asarray(np.arange(24).reshape(8, 3) % 5, dtype=np.dtype(dtype), order=order)
    np.save(tmp_path / "a.npy", a)
    X, w = einmix.read_data(tmp_path / "a.npy")
    assert w is None
    np.testing.assert_array_equal(X, a.astype(np.float64))


def test_npz_stored_and_compressed_with_weights_by_name(tmp_path):
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(30, 4)), rng.uniform(0.5, 2, 30)
    np.savez(tmp_path / "s.npz", x=x, w=w)
    np.savez_compressed(tmp_path / "c.npz", points=x, w=w)
    for name in ["s.npz", "c.npz"]:
        X, W = einmix.read_data(tmp_path / name, weight_column="w")
        np.testing.assert_array_equal(X, x)
        np.testing.assert_array_equal(W, w)
    X, W = einmix.read_data(tmp_path / "s.npz", columns=[2, 1])
    np.testing.assert_array_equal(X, x[:, [1, 0]])
    assert W is None


def test_csv_and_tsv_round_trip_numpy_text(tmp_path):
    x = np.random.default_rng(2).normal(size=(25, 3))
    np.savetxt(tmp_path / "a.csv", x, delimiter=",", header="a,b,c")  # header as a '#' comment
    np.savetxt(tmp_path / "a.tsv", x, delimiter="\t")
    for name in ["a.csv", "a.tsv"]:
        X, _ = einmix.read_data(tmp_path / name)
        np.testing.assert_array_equal(X, np.loadtxt(tmp_path / name, delimiter="," if name.endswith("csv") else "\t"))
    (tmp_path / "h.csv").write_text("a,b,w\n1,2,0.5\n3,4,1.5\n")
    X, w = einmix.read_data(tmp_path / "h.csv", columns="b", weight_column=3)
    assert X.tolist() == [[2.0], [4.0]] and w.tolist() == [0.5, 1.5]


def test_the_fit_from_a_file_equals_the_fit_from_the_array(tmp_path):
    x = np.random.default_rng(3).normal(size=(200, 2))
    np.save(tmp_path / "x.npy", x)
    X, _ = einmix.read_data(str(tmp_path / "x.npy"))
    a = einmix.GaussianMixture(3, random_state=0).fit(X)
    b = einmix.GaussianMixture(3, random_state=0).fit(x)
    np.testing.assert_array_equal(a.means_, b.means_)


def test_bad_arguments_are_type_errors(tmp_path):
    with pytest.raises(TypeError, match="expected str, bytes or os.PathLike object, not int"):
        einmix.read_data(3)
    with pytest.raises(TypeError, match="columns must name columns by str or 1-based int, got float"):
        einmix.read_data(tmp_path / "a.csv", columns=[1.5])
    with pytest.raises(TypeError, match="weight_column must name columns by str or 1-based int, got bool"):
        einmix.read_data(tmp_path / "a.csv", weight_column=True)

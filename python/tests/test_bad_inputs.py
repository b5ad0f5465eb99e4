"""Story: the CLI and the Python API accept the same inputs and refuse bad ones with the same
errors (issue 15). Each case runs on both: ``einmix fit FILE -k K -o model.json`` and
``einmix.read_data(FILE)`` followed by ``GaussianMixture(...).fit``.

- A file the reader refuses gives the same message on both, word for word (one reader).
- Data the fit refuses gives the same message on both; the CLI adds the file's name in front.
- A bad parameter is refused by both, each in its own idiom (the CLI's names the flag, Python's
  is scikit-learn's own wording, which names the parameter).

The table in ``docs/reliability.md`` is generated from these runs; to refresh it after a change
of wording: ``EINMIX_UPDATE_DOCS=1 pytest python/tests/test_bad_inputs.py``.
"""

import io
import os
import pathlib
import re
import struct
import subprocess
import zipfile

import numpy as np
import pytest

import einmix

REPO = pathlib.Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "reliability.md"
BEGIN, END = "<!-- bad-inputs:begin -->", "<!-- bad-inputs:end -->"


def cli_binary():
    path = pathlib.Path(os.environ.get("EINMIX_CLI", REPO / "target" / "release" / "einmix"))
    if not path.exists():
        pytest.fail(f"the einmix binary is not at {path}: build it (cargo build --release) or set EINMIX_CLI")
    return path


# --- file builders ---------------------------------------------------------------------------

def npy(descr="<f8", shape=(3, 2), payload=None, fortran=False, version=(1, 0), header=None):
    if header is None:
        header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape!r}, }}"
    pad = 64 - (10 + len(header) + 1) % 64
    h = (header + " " * pad + "\n").encode("latin1")
    if payload is None:
        payload = np.arange(int(np.prod(shape)), dtype=np.dtype(descr)).tobytes()
    return b"\x93NUMPY" + bytes(version) + struct.pack("<H", len(h)) + h + payload


def npy_of(a):
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def npz(**arrays):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, value in arrays.items():
            z.writestr(name + ".npy", value if isinstance(value, bytes) else npy_of(value))
    return buf.getvalue()


def good_rows(n=40):
    rng = np.random.default_rng(0)
    return np.vstack([rng.normal(0, 1, (n // 2, 2)), rng.normal(6, 1, (n - n // 2, 2))])


def csv_of(x, header="x,y"):
    return (header + "\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in x)).encode()


GOOD = csv_of(good_rows())
MODEL = b'{"format": "einmix-mixture", "covariance_type": "full", "weights": [1.0]}\n'


class Case:
    def __init__(self, what, name, content, k=2, columns=None, weight_column=None, cli=(), params=None, flag=None):
        self.what, self.name, self.content, self.k = what, name, content, k
        self.columns, self.weight_column = columns, weight_column
        self.cli, self.params, self.flag = list(cli), params or {}, flag


def with_weights(w_value):
    return b"x,y,w\n" + b"".join(f"{float(a)!r},{float(b)!r},{w_value}\n".encode() for a, b in good_rows())


CASES = [
    # Text tables.
    Case("empty file", "empty.csv", b""),
    Case("header line only", "header.csv", b"x,y\n"),
    Case("blank lines only", "blank.csv", b"\n\n\n"),
    Case("comments only", "comments.csv", b"# nothing\n# here\n"),
    Case("a short line", "ragged.csv", b"x,y\n1,2\n3\n"),
    Case("a long line", "ragged_long.tsv", b"1\t2\n3\t4\t5\n"),
    Case("a word among numbers", "word.csv", b"x,y\n1,2\n3,abc\n"),
    Case("an empty field", "hole.csv", b"x,y\n1,2\n3,\n"),
    Case("NaN in a field", "nan.csv", b"1,2\nnan,2\n"),
    Case("infinity in a field", "inf.csv", b"1,2\n2,inf\n"),
    Case("minus infinity", "ninf.csv", b"x,y\n1,-inf\n"),
    Case("a control character", "control.csv", b"a,b\n1,\x01x\n"),
    Case("an accented word", "accent.csv", "a,b\n1,café\n".encode()),
    Case("a 50-character field", "long.csv", b"a,b\n1," + b"y" * 50 + b"\n"),
    Case("binary bytes after a line", "raw.csv", b"1,2\n\xff\xfe\x00\x01\x02\x03\x04\x05"),
    Case("Latin-1 text", "latin1.csv", b"a,b\n1,caf\xe9\n"),
    Case("a decimal comma", "comma.tsv", b"x\ty\n1,5\t2\n"),
    Case("one row, two components", "one.csv", b"x,y\n1,2\n"),
    # Other things given as a table.
    Case("a model (JSON)", "model.json", MODEL),
    Case("a model named .csv", "model.csv", MODEL),
    Case("a PNG named .csv", "image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    Case("a TIFF named .tsv", "stack.tsv", b"II*\x00\x08\x00\x00\x00"),
    Case("gzip data named .csv", "data.csv", b"\x1f\x8b\x08\x00\x00\x00"),
    Case("a PDF", "paper.pdf", b"%PDF-1.7\n%\xe2\xe3"),
    Case("a .npy named .csv", "array.csv", npy_of(good_rows())),
    Case("a zip named .csv", "archive.csv", npz(x=good_rows())),
    Case("a missing file", "missing.csv", None),
    Case("a directory", "folder.csv", "dir"),
    # Columns and weights.
    Case("an unknown column", "good.csv", GOOD, columns=["z"]),
    Case("a column beyond the table", "good.csv", GOOD, columns=[5]),
    Case("a column by name, no header", "plain.csv", b"1,2\n3,4\n5,6\n", columns=["x"]),
    Case("an unknown weight column", "good.csv", GOOD, weight_column="w"),
    Case("NaN weight", "w_nan.csv", with_weights("nan"), weight_column="w"),
    Case("negative weights", "w_neg.csv", with_weights("-1"), weight_column="w"),
    Case("all-zero weights", "w_zero.csv", with_weights("0"), weight_column="w"),
    Case("weight column that is every column", "w_only.csv", b"w\n1\n2\n3\n", weight_column="w"),
    # .npy files.
    Case("text named .npy", "text.npy", b"1,2\n3,4\n"),
    Case("a zip named .npy", "archive.npy", npz(x=good_rows())),
    Case("a cut header", "cut.npy", b"\x93NUMPY\x01\x00"),
    Case("format version 9.0", "v9.npy", npy(version=(9, 0))),
    Case("a header that is not a dict", "list.npy", npy(header="[1, 2, 3]")),
    Case("a header missing 'shape'", "noshape.npy", npy(header="{'descr': '<f8', 'fortran_order': False, }")),
    Case("complex numbers", "complex.npy", npy("<c16", (2, 2))),
    Case("strings", "strings.npy", npy("<U3", (2, 2), payload=b"\x00" * 48)),
    Case("Python objects", "objects.npy", npy("|O", (2, 2), payload=b"\x00" * 32)),
    Case("datetimes", "dates.npy", npy("<M8[ns]", (2, 2), payload=b"\x00" * 32)),
    Case("a record dtype", "records.npy", npy(header="{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", payload=b"\x00" * 16)),
    Case("data cut short", "short.npy", npy_of(good_rows())[:-5]),
    Case("bytes after the data", "long.npy", npy_of(good_rows()) + b"\x00" * 3),
    Case("a shape claiming 10^12 rows", "huge.npy", npy(shape=(10**12, 2), payload=b"\x00" * 16)),
    Case("a 1-d array", "vector.npy", npy_of(np.arange(5.0))),
    Case("a 3-d array", "cube.npy", npy_of(np.zeros((2, 2, 2)))),
    Case("zero rows", "norows.npy", npy_of(np.zeros((0, 2)))),
    Case("NaN in the array", "nan.npy", npy_of(np.array([[1.0, np.nan]] * 5))),
    Case("infinity in the array", "inf.npy", npy_of(np.array([[1.0, np.inf]] * 5))),
    Case("fewer rows than components", "few.npy", npy_of(good_rows()[:3]), k=4),
    # .npz archives.
    Case("an empty archive", "empty.npz", npz()),
    Case("two arrays, none named x", "two.npz", npz(a=good_rows(), b=good_rows())),
    Case("a member that is not .npy", "junk.npz", npz(x=b"junk")),
    Case("an archive cut in half", "cut.npz", npz(x=good_rows())[:200]),
    Case("x is 1-d", "flat.npz", npz(x=np.arange(4.0))),
    Case("weights of the wrong length", "wlen.npz", npz(x=good_rows(), w=np.ones(3)), weight_column="w"),
    Case("a .npy named .npz", "array.npz", npy_of(good_rows())),
    Case("text named .npz", "text.npz", b"1,2\n"),
    # Parameters, on good data.
    Case("zero components", "good.csv", GOOD, k=0, params={"n_components": 0}, flag="--n-components"),
    Case("negative components", "good.csv", GOOD, k=-1, params={"n_components": -1}, flag="--n-components"),
    Case("fractional components", "good.csv", GOOD, k=2.5, params={"n_components": 2.5}, flag="--n-components"),
    Case("unknown covariance type", "good.csv", GOOD, cli=["--covariance-type", "round"], params={"covariance_type": "round"}, flag="--covariance-type"),
    Case("unknown init", "good.csv", GOOD, cli=["--init-params", "best"], params={"init_params": "best"}, flag="--init-params"),
    Case("negative tolerance", "good.csv", GOOD, cli=["--tol", "-1"], params={"tol": -1.0}, flag="--tol"),
    Case("NaN tolerance", "good.csv", GOOD, cli=["--tol", "nan"], params={"tol": float("nan")}, flag="--tol"),
    Case("negative reg_covar", "good.csv", GOOD, cli=["--reg-covar", "-1"], params={"reg_covar": -1.0}, flag="--reg-covar"),
    Case("negative iterations", "good.csv", GOOD, cli=["--max-iter", "-1"], params={"max_iter": -1}, flag="--max-iter"),
    Case("a word for iterations", "good.csv", GOOD, cli=["--max-iter", "many"], params={"max_iter": "many"}, flag="--max-iter"),
    Case("zero initialisations", "good.csv", GOOD, cli=["--n-init", "0"], params={"n_init": 0}, flag="--n-init"),
    Case("negative seed", "good.csv", GOOD, cli=["--random-state", "-1"], params={"random_state": -1}, flag="--random-state"),
    Case("more components than rows", "good.csv", GOOD, k=100, params={"n_components": 100}),
]


def write_inputs(case, root):
    if case.content is None:
        return
    path = root / case.name
    if case.content == "dir":
        path.mkdir(exist_ok=True)
    else:
        path.write_bytes(case.content)


def run_cli(case, root):
    args = [str(cli_binary()), "fit", case.name, "-k", str(case.k), "-o", "out.json", "--quiet", "--random-state", "0"]
    if "--random-state" in case.cli:
        args = args[:-2]
    if case.columns:
        args += ["--columns", ",".join(str(c) for c in case.columns)]
    if case.weight_column:
        args += ["--weight-column", str(case.weight_column)]
    args += case.cli
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120)
    err = done.stderr.strip()
    assert "panicked" not in err and "RUST_BACKTRACE" not in err, err
    first = err.splitlines()[0] if err else ""
    for prefix in ("einmix: error: ", "error: "):
        if first.startswith(prefix):
            first = first[len(prefix):]
            break
    return done.returncode, first


def run_python(case, root, monkeypatch):
    monkeypatch.chdir(root)
    try:
        X, w = einmix.read_data(case.name, columns=case.columns, weight_column=case.weight_column)
        params = {"n_components": case.k, "random_state": 0, **case.params}
        einmix.GaussianMixture(**params).fit(X, sample_weight=w)
    except (ValueError, TypeError, OSError) as e:
        return type(e).__name__, str(e).splitlines()[0]
    return None, "accepted"


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Runs every case on both sides once; the tests below check them and the doc's table."""
    mp = pytest.MonkeyPatch()
    rows = []
    try:
        for i, case in enumerate(CASES):
            root = tmp_path_factory.mktemp(f"case{i}")
            write_inputs(case, root)
            code, cli = run_cli(case, root)
            kind, py = run_python(case, root, mp)
            rows.append((case, code, cli, kind, py))
    finally:
        mp.undo()
    return rows


def test_there_are_at_least_sixty_cases():
    assert len(CASES) >= 60


def test_every_case_is_refused_by_both_with_the_same_error(outcomes):
    failures = []
    for case, code, cli, kind, py in outcomes:
        if code != 2 or kind is None:
            failures.append(f"{case.what}: CLI exit {code} ({cli!r}), Python {kind} ({py!r})")
        elif case.flag:
            # Each in its own idiom: the flag on the command line, the parameter in Python.
            param = next(iter(case.params))
            if case.flag not in cli or param not in py:
                failures.append(f"{case.what}: CLI {cli!r} should name {case.flag}, Python {py!r} {param}")
        elif cli != py and cli != f"{case.name}: {py}":
            failures.append(f"{case.what}:\n  CLI    {cli}\n  Python {py}")
    assert not failures, "\n".join(failures)


def sorted_sets(text):
    """Python prints a set of strings in hash order, which changes from run to run; the table
    lists its members sorted so that it is the same every run."""
    return re.sub(r"\{('[^{}]*')\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", text)


def table(outcomes):
    def cell(text):
        return "`" + sorted_sets(text).replace("|", "\\|").replace("`", "'") + "`"

    lines = [
        "| # | input | `einmix fit FILE -k K` | Python: `read_data` + `GaussianMixture.fit` |",
        "|---|---|---|---|",
    ]
    for i, (case, _, cli, kind, py) in enumerate(outcomes, 1):
        extra = []
        if case.columns:
            extra.append(f"columns {','.join(map(str, case.columns))}")
        if case.weight_column:
            extra.append(f"weights '{case.weight_column}'")
        if case.cli:
            extra.append(" ".join(case.cli))
        elif case.params:
            extra.append(f"K={case.k}")
        what = f"{case.what} (`{case.name}`{'; ' + '; '.join(extra) if extra else ''})"
        same = "same" if cli in (py, f"{case.name}: {py}") else cell(py)
        lines.append(f"| {i} | {what} | {cell(cli)} | {kind}: {same} |")
    return "\n".join(lines)


def test_the_table_in_the_docs_is_these_runs(outcomes):
    generated = table(outcomes)
    doc = DOC.read_text()
    before, rest = doc.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    if os.environ.get("EINMIX_UPDATE_DOCS") == "1":
        DOC.write_text(f"{before}{BEGIN}\n{generated}\n{END}{after}")
    else:
        current = rest.split(END, 1)[0].strip()
        assert current == generated, (
            "docs/reliability.md's table differs from these runs; regenerate it with "
            "EINMIX_UPDATE_DOCS=1 pytest python/tests/test_bad_inputs.py"
        )

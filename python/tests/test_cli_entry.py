"""``pip install einmix`` puts the ``einmix`` command on PATH: the Rust command line run inside
the extension, writing what the cargo-built binary writes."""

import importlib.metadata
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = shutil.which("einmix", path=os.path.dirname(sys.executable))
BINARY = ROOT / "target" / "release" / "einmix"

pytestmark = pytest.mark.skipif(SCRIPT is None, reason="the einmix console script is not installed here")


def run(*args, cwd=None):
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, cwd=cwd)


def test_version_is_the_package_version():
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"einmix {importlib.metadata.version('einmix')}"


def test_usage_and_input_errors_exit_with_2_and_say_why(tmp_path):
    out = run("fit", "--n-components", "0", "x.csv")
    assert out.returncode == 2 and "n-components" in out.stderr
    out = run("image", "track", str(tmp_path / "missing.tif"), "-o", str(tmp_path / "o"))
    assert out.returncode == 2 and out.stderr.startswith("einmix: error: ") and "missing.tif" in out.stderr


@pytest.mark.skipif(not BINARY.exists(), reason="the cargo-built binary is not built (cargo build --release)")
def test_the_script_writes_what_the_cargo_binary_writes(tmp_path):
    assert run("image", "demo", "-q", "-o", "script", cwd=tmp_path).returncode == 0
    subprocess.run([str(BINARY), "image", "demo", "-q", "-o", "binary"], cwd=tmp_path, check=True)
    for name in ["track.npz", "reseeds.csv", "frame_0000.png", "frame_0029.png", "graph.png"]:
        assert (tmp_path / "script" / name).read_bytes() == (tmp_path / "binary" / name).read_bytes(), name
    data = tmp_path / "x.csv"
    data.write_text("\n".join(f"{i % 7},{(i * 3) % 11}" for i in range(200)))
    for who, command in [("script", [SCRIPT]), ("binary", [str(BINARY)])]:
        subprocess.run([*command, "fit", str(data), "-k", "2", "--random-state", "0", "-o", str(tmp_path / f"{who}.json")], check=True)
    assert (tmp_path / "script.json").read_bytes() == (tmp_path / "binary.json").read_bytes()

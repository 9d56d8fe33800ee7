"""The package itself: import without TensorFlow, version, the README example."""
import os
import pathlib
import re
import subprocess
import sys

import xbnn

ROOT = pathlib.Path(__file__).resolve().parents[2]


def package_env():
    env = dict(os.environ)
    parent = str(pathlib.Path(xbnn.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([parent] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def test_import_needs_no_tensorflow():
    code = ("import sys, xbnn; bad = [m for m in ('tensorflow', 'larq', 'larq_compute_engine', 'tqdm') "
            "if m in sys.modules]; assert not bad, bad; print(xbnn.__version__)")
    out = subprocess.run([sys.executable, "-c", code], env=package_env(), capture_output=True, text=True,
                         cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == xbnn.__version__


def test_version_is_the_project_version():
    m = re.search(r"project\(xbnn\s+VERSION\s+([0-9.]+)", (ROOT / "CMakeLists.txt").read_text())
    assert m and xbnn.__version__ == m.group(1)


def test_public_names():
    for name in xbnn.__all__:
        assert hasattr(xbnn, name), name


def test_example_runs():
    out = subprocess.run([sys.executable, str(ROOT / "python" / "example.py")], env=package_env(),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "predictions:" in out.stdout


def test_readme_python_block_runs_as_written():
    # The README's Python block must run when pasted into a Python started at the repo root.
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    block = next(b for b in blocks if "xbnn.Interpreter(" in b)
    code = block + "\nprint('shapes', probabilities.shape, len(bitpacked_model) > 0, len(int8_model) > 0, " \
                   "len(lce_model) > 0, signs.shape == x.shape)\n"
    out = subprocess.run([sys.executable, "-c", code], env=package_env(), cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "shapes (5, 10) True True True True" in out.stdout, out.stdout

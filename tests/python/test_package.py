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


def test_unconstructed_extension_interpreter_raises_instead_of_crashing():
    """_xbnn.Interpreter.__new__ without __init__ holds no C++ object: every method and property
    must raise (pybind11 used to call them on uninitialized memory). In a child process, so that
    a crash fails this test instead of ending the run."""
    child = """
from xbnn import _xbnn
it = _xbnn.Interpreter.__new__(_xbnn.Interpreter)
calls = {
    "num_inputs": lambda: it.num_inputs,
    "num_outputs": lambda: it.num_outputs,
    "num_threads": lambda: it.num_threads,
    "thread_stats": lambda: it.thread_stats(),
    "input_details": lambda: it.input_details(),
    "output_details": lambda: it.output_details(),
    "invoke": lambda: it.invoke([], []),
}
for name, call in calls.items():
    try:
        call()
        print(name, "returned")
    except TypeError as e:
        print(name, "TypeError" if "not initialized (its __init__ was not called)" in str(e) else e)
print("done")
"""
    p = subprocess.run([sys.executable, "-c", child], env=package_env(), capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, f"the child died (exit {p.returncode}):\n{p.stdout}\n{p.stderr[-2000:]}"
    lines = p.stdout.splitlines()
    assert lines[-1] == "done"
    assert lines[:-1] == [f"{name} TypeError" for name in ("num_inputs", "num_outputs", "num_threads", "thread_stats",
                                                         "input_details", "output_details", "invoke")]

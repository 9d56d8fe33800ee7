"""Interop with the real LCE (run by `make test-lce` in the reference venv, .cache/lce-venv):
models written by xbnn must run in LCE 0.16's own interpreter with the outputs LCE recorded.

- every fixture, read and written back by xbnn's format layer;
- every fixture stripped by `xbnn strip-dequantize` (vs LCE's own stripped model's outputs);
- every fixture made int8-IO by `xbnn set-io-type` (vs LCE's modify_integer_quantized_model_io_type);
- every fixture converted by `xbnn convert` from the stock-converter float model (vs LCE's
  converter's model outputs), when the build has the converter.
"""
import json
import os
import subprocess
import tempfile

import numpy as np
import pytest

lce_interp = pytest.importorskip("larq_compute_engine.tflite.python.interpreter",
                                 reason="LCE is not installed: run `make lce-venv` and use its python")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "models", "lce")
BUILD = os.environ.get("XBNN_BUILD_DIR", os.path.join(ROOT, "build"))
XBNN = os.path.join(BUILD, "tools", "xbnn")
ROUNDTRIP = os.path.join(BUILD, "tests", "format", "roundtrip_model")
KERNELS = [dict(use_reference_bconv=False, use_indirect_bgemm=False),
           dict(use_reference_bconv=False, use_indirect_bgemm=True),
           dict(use_reference_bconv=True)]


def fixtures():
    m = json.load(open(os.path.join(FIXTURES, "manifest.json")))["fixtures"]
    names = [e["name"] for e in m] if isinstance(m, list) else list(m)
    return sorted(names)


def load_npz(path):
    z = np.load(path)
    return [z[k] for k in sorted(z.files, key=lambda k: int(k.split("_")[-1]))]


def run_lce(path, xs):
    """LCE's interpreter, trying its kernels in the order the fixtures were recorded with."""
    buf = open(path, "rb").read()
    errors = []
    for kw in KERNELS:
        try:
            it = lce_interp.Interpreter(buf, num_threads=1, **kw)
            return [np.asarray(o) for o in it.interpreter.predict([np.ascontiguousarray(x) for x in xs])]
        except RuntimeError as e:
            errors.append(str(e))
    raise RuntimeError(" | ".join(errors))


def assert_close(got, want, what, int8_steps=0):
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want)):
        g = np.asarray(g).reshape(w.shape) if g.size == w.size else g
        assert g.dtype == w.dtype and g.shape == w.shape, f"{what} output {i}: {g.dtype}{g.shape} vs {w.dtype}{w.shape}"
        if w.dtype == np.float32:
            rng = max(float(w.max() - w.min()), 1e-6)
            assert np.max(np.abs(g - w)) <= 1e-4 * rng, f"{what} output {i}: max error {np.max(np.abs(g - w))}"
        elif int8_steps:
            assert np.max(np.abs(g.astype(np.int32) - w.astype(np.int32))) <= int8_steps, f"{what} output {i}"
        else:
            assert np.array_equal(g, w), f"{what} output {i} differs"


@pytest.fixture(scope="module")
def tmp():
    return tempfile.mkdtemp()


def xbnn_cmd(*args):
    if not os.path.exists(XBNN):
        pytest.fail(f"{XBNN} is missing: run `make build`")
    return subprocess.run([XBNN, *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", fixtures())
def test_roundtrip_runs_in_lce(name, tmp):
    out = os.path.join(tmp, name + ".rt.tflite")
    p = subprocess.run([ROUNDTRIP, os.path.join(FIXTURES, name + ".tflite"), out], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    xs = load_npz(os.path.join(FIXTURES, name + ".inputs.npz"))
    assert_close(run_lce(out, xs), load_npz(os.path.join(FIXTURES, name + ".outputs.npz")), name)


@pytest.mark.parametrize("name", [n for n in fixtures() if os.path.exists(os.path.join(FIXTURES, n + ".stripped.tflite"))])
def test_stripped_runs_in_lce(name, tmp):
    out = os.path.join(tmp, name + ".xs.tflite")
    p = xbnn_cmd("strip-dequantize", os.path.join(FIXTURES, name + ".tflite"), out, "--overwrite")
    assert p.returncode == 0, p.stderr
    xs = load_npz(os.path.join(FIXTURES, name + ".inputs.npz"))
    got = run_lce(out, xs)
    assert_close(got, load_npz(os.path.join(FIXTURES, name + ".stripped.outputs.npz")), name)


@pytest.mark.parametrize("name", [n for n in fixtures() if os.path.exists(os.path.join(FIXTURES, n + ".ioint8.tflite"))])
def test_int8_io_runs_in_lce(name, tmp):
    out = os.path.join(tmp, name + ".xio.tflite")
    p = xbnn_cmd("set-io-type", os.path.join(FIXTURES, name + ".tflite"), out, "--input", "int8", "--output", "int8",
                 "--overwrite")
    assert p.returncode == 0, p.stderr
    lce_model = os.path.join(FIXTURES, name + ".ioint8.tflite")
    # Seeded int8 inputs in the shapes the model takes (its input details from xbnn inspect).
    doc = json.loads(xbnn_cmd("inspect", "--json", lce_model).stdout)
    rng = np.random.default_rng(7)
    xs = [rng.integers(-128, 128, size=t["shape"], dtype=np.int8) for t in doc["subgraphs"][0]["inputs"]]
    want = run_lce(lce_model, xs)
    assert all(w.dtype == np.int8 for w in want)
    assert_close(run_lce(out, xs), want, name)


@pytest.mark.parametrize("name", fixtures())
def test_converted_runs_in_lce(name, tmp):
    if "convert" not in xbnn_cmd("help").stdout:
        pytest.skip("this build has no `xbnn convert`")
    out = os.path.join(tmp, name + ".xc.tflite")
    # Convert to the IO types LCE's model has (int8 for the fixtures converted with int8 IO).
    doc = json.loads(xbnn_cmd("inspect", "--json", os.path.join(FIXTURES, name + ".tflite")).stdout)
    io = ["--inference-input-type", doc["subgraphs"][0]["inputs"][0]["dtype"],
          "--inference-output-type", doc["subgraphs"][0]["outputs"][0]["dtype"]]
    if any(t not in ("float32", "int8") for t in io[1::2]):
        io = []
    p = xbnn_cmd("convert", os.path.join(FIXTURES, name + ".float.tflite"), out, "--overwrite", *io)
    assert p.returncode == 0, p.stderr
    # NAME.inputs.npz holds the inputs in the dtypes LCE's model takes, which is what we asked for.
    xs = load_npz(os.path.join(FIXTURES, name + ".inputs.npz"))
    want = load_npz(os.path.join(FIXTURES, name + ".outputs.npz"))
    got = run_lce(out, xs)
    if any(w.dtype != g.dtype for w, g in zip(want, got)):
        pytest.skip("converted model's IO types differ from LCE's (float model IO)")
    assert_close(got, want, name, int8_steps=1)

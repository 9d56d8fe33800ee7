"""ONNX-imported models in the real LCE (run by `make test-lce` in .cache/lce-venv): every ONNX
fixture converted by `xbnn convert` must run in LCE 0.16's own interpreter with onnxruntime's
recorded outputs (float within 1e-4 of the output range), where LCE's kernels support the ops:
grouped binary convolutions need LCE's reference kernel (use_reference_bconv)."""
import os
import subprocess
import tempfile

import numpy as np
import pytest

lce_interp = pytest.importorskip("larq_compute_engine.tflite.python.interpreter",
                                 reason="LCE is not installed: run `make lce-venv` and use its python")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ONNX = os.path.join(ROOT, "tests", "models", "onnx")
XBNN = os.path.join(os.environ.get("XBNN_BUILD_DIR", os.path.join(ROOT, "build")), "tools", "xbnn")
NAMES = sorted(f[:-5] for f in os.listdir(ONNX) if f.endswith(".onnx")) if os.path.isdir(ONNX) else []


@pytest.mark.parametrize("name", NAMES)
def test_onnx_fixture_runs_in_lce(name):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, name + ".tflite")
        r = subprocess.run([XBNN, "convert", os.path.join(ONNX, name + ".onnx"), out], capture_output=True,
                           text=True)
        if r.returncode != 0 and "without ONNX import" in r.stderr:
            pytest.skip("xbnn was built without ONNX import")
        assert r.returncode == 0, r.stderr
        model = open(out, "rb").read()
    x = np.load(os.path.join(ONNX, name + ".inputs.npz"))["input_0"].transpose(0, 2, 3, 1).copy()
    want = np.load(os.path.join(ONNX, name + ".outputs.npz"))["output_0"]
    it = lce_interp.Interpreter(model, num_threads=1, use_reference_bconv=name == "grouped_bconv")
    got = it.interpreter.predict([x])[0]
    assert np.abs(got - want).max() <= 1e-4 * max(float(want.max() - want.min()), 1e-6)

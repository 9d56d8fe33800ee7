"""xbnn's TFLite delegate inside TensorFlow 2.16's own tf.lite.Interpreter (run by `make test-lce`
in the reference venv): every LCE fixture, and the Larq Zoo models in .cache/zoo when `make zoo`
made them, give the outputs LCE's interpreter recorded, with claim=lce and claim=all."""
import os
import pathlib
import sys
import types

import pytest

tf = pytest.importorskip("tensorflow", reason="TensorFlow is not installed: use the reference venv")

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))
import conftest  # noqa: E402,F401  (finds the xbnn package under test)
from lce_fixtures import Case  # noqa: E402
from tflite_delegate_cases import CASES, run_case  # noqa: E402

TF = types.SimpleNamespace(Interpreter=tf.lite.Interpreter, load_delegate=tf.lite.experimental.load_delegate)
NO_DEFAULT_DELEGATES = tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
ZOO = pathlib.Path(os.environ.get("XBNN_ZOO_DIR", ROOT / ".cache" / "zoo"))


def zoo_cases():
    cases = []
    for model in sorted(ZOO.glob("*.tflite")):
        stem = model.name[: -len(".tflite")]
        inputs, outputs = ZOO / f"{stem}.inputs.npz", ZOO / f"{stem}.outputs.npz"
        if inputs.exists() and outputs.exists():
            cases.append(Case(model, inputs, outputs))
    return cases


@pytest.mark.parametrize("claim", ["all", "lce"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_fixture_in_tensorflow(case, claim):
    run_case(TF, case, claim, NO_DEFAULT_DELEGATES if claim == "lce" else None)


@pytest.mark.parametrize("claim", ["all", "lce"])
@pytest.mark.parametrize("case", zoo_cases() or [pytest.param(None, marks=pytest.mark.skip(reason="no Zoo models: make zoo"))], ids=str)
def test_zoo_in_tensorflow(case, claim):
    # With claim=lce the float ops run on TFLite's builtin kernels, LCE's own (its interpreter does
    # not apply the XNNPACK delegate). TFLite's default XNNPACK delegate sums depthwise
    # convolutions with fused multiply-adds, the builtin kernel rounds each product: on a CPU
    # without AVX-512 that flipped a binarized sign in QuickNetLarge (1.6% of the output range).
    run_case(TF, case, claim, NO_DEFAULT_DELEGATES if claim == "lce" else None)


def test_tensorflow_example_runs():
    import subprocess
    import xbnn
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(xbnn.__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "tflite_delegate" / "tensorflow_interpreter.py"),
                          str(ROOT / "tests" / "models" / "lce" / "toy_shortcut.tflite")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "output shape:" in out.stdout

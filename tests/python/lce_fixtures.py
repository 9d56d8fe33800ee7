"""The LCE fixtures in tests/models/lce: models converted by LCE with inputs and outputs recorded
from LCE's own interpreter (see tools/lce_reference/generate.py and manifest.json there)."""
import json
import pathlib
import re

import numpy as np
import pytest

import xbnn

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "tests" / "models" / "lce"

# The registry's refusal of an op kind that xbnn does not implement (yet).
_UNSUPPORTED = re.compile(r"operator \S+ (version \d+ )?is not supported|is not supported \(xbnn implements")


class Case:
    def __init__(self, model, inputs, outputs):
        self.model, self.inputs, self.outputs = model, inputs, outputs
        self.name = model.name[: -len(".tflite")]

    def __repr__(self):
        return self.name


def manifest():
    path = FIXTURES / "manifest.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text()).get("fixtures", {})


def find_cases():
    """NAME[.variant].tflite with NAME[.variant].inputs.npz (or NAME.inputs.npz) and
    NAME[.variant].outputs.npz, as the C++ golden test pairs them."""
    cases = []
    for model in sorted(FIXTURES.glob("*.tflite")):
        stem = model.name[: -len(".tflite")]
        base = stem.split(".")[0]
        inputs = FIXTURES / f"{stem}.inputs.npz"
        if not inputs.exists():
            inputs = FIXTURES / f"{base}.inputs.npz"
        outputs = FIXTURES / f"{stem}.outputs.npz"
        if inputs.exists() and outputs.exists():
            cases.append(Case(model, inputs, outputs))
    return cases


def load_npz(path, prefix):
    with np.load(path) as z:
        n = len([k for k in z.files if k.startswith(prefix + "_")])
        return [z[f"{prefix}_{i}"] for i in range(n)]


def model_bytes(name):
    return (FIXTURES / f"{name}.tflite").read_bytes()


def interpreter_or_skip(model, **kwargs):
    """xbnn.Interpreter(model), skipping the test while the model needs an op xbnn refuses as
    not supported; any other error fails."""
    if isinstance(model, str):
        model = model_bytes(model)
    try:
        return xbnn.Interpreter(model, **kwargs)
    except ValueError as e:
        if _UNSUPPORTED.search(str(e)):
            pytest.skip(f"not supported yet: {e}")
        raise


def assert_outputs_match(got, want, what=""):
    """int8/int32 exactly, float within 1e-4 of the recorded output's range."""
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} vs {want.dtype}"
    if np.issubdtype(want.dtype, np.floating):
        rng = max(float(want.max() - want.min()) if want.size else 0.0, 1e-6)
        err = np.abs(got.astype(np.float64) - want.astype(np.float64)) / rng
        worst = float(err.max()) if err.size else 0.0
        assert worst <= 1e-4, (f"{what}: worst error {worst:.3g} of the output range at "
                               f"{np.unravel_index(err.argmax(), err.shape)}")
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def as_list(outputs):
    return outputs if isinstance(outputs, list) else [outputs]


def random_inputs(interpreter, slices, seed=0):
    """Random inputs of `slices` times the model batch: float32 in [-1, 1), int8 over the full range."""
    rng = np.random.default_rng(seed)
    xs = []
    for dtype, shape in zip(interpreter.input_types, interpreter.input_shapes):
        shape = (slices * shape[0],) + tuple(shape[1:])
        if dtype == np.float32:
            xs.append(rng.uniform(-1, 1, size=shape).astype(np.float32))
        elif dtype == np.int8:
            xs.append(rng.integers(-128, 128, size=shape, dtype=np.int8))
        else:
            raise AssertionError(f"no random inputs for dtype {dtype}")
    return xs

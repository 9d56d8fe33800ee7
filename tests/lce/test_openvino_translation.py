"""bench/openvino_lce.py, the translation of LCE models to OpenVINO's native binary ops that
bench/compare.py times, against the outputs LCE recorded for the fixtures (run by
`make test-lce` in the reference venv, which pins OpenVINO): every fixture it accepts must agree
within 1e-4 of the output range and run its binary convolutions on OpenVINO's JIT kernel; the
fixtures it refuses must be refused with a TranslationError that says why."""
import os
import sys

import numpy as np
import pytest

ov = pytest.importorskip("openvino", reason="OpenVINO is not installed: run `make lce-venv`")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "models", "lce")
sys.path.insert(0, os.path.join(ROOT, "bench"))
import openvino_lce  # noqa: E402

CORE = ov.Core()


def load_npz(path):
    z = np.load(path)
    return [z[k] for k in sorted(z.files, key=lambda k: int(k.split("_")[-1]))]


def models():
    return sorted(f[:-len(".tflite")] for f in os.listdir(FIXTURES)
                  if f.endswith(".tflite") and f.count(".") == 1)


def run(name, directory=FIXTURES):
    """(outputs, recorded outputs, runtime layer summary, translation counters), or the
    TranslationError."""
    buf = open(os.path.join(directory, name + ".tflite"), "rb").read()
    model, stats = openvino_lce.translate(ov, buf)
    compiled = CORE.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32",
                                                 "INFERENCE_NUM_THREADS": 1})
    xs = load_npz(os.path.join(directory, name + ".inputs.npz"))
    xs = [x.transpose(0, 3, 1, 2).copy() if i in stats["nchw_inputs"] else x
          for i, x in enumerate(xs)]
    res = compiled(xs)
    got = [res[compiled.output(i)] for i in range(stats["outputs"])]
    want = load_npz(os.path.join(directory, name + ".outputs.npz"))
    return got, want, openvino_lce.runtime_summary(compiled), stats


def test_fixtures_agree_with_lce():
    checked, refused = [], []
    for name in models():
        try:
            got, want, layers, stats = run(name)
        except openvino_lce.TranslationError as e:
            refused.append((name, str(e)))
            continue
        assert len(got) == len(want), name
        for i, (g, w) in enumerate(zip(got, want)):
            assert g.shape == w.shape, f"{name} output {i}: {g.shape} vs {w.shape}"
            rng = float(w.max() - w.min()) or 1.0
            diff = float(np.abs(g.astype(np.float64) - w).max())
            assert diff <= 1e-4 * rng, f"{name} output {i}: max |diff| {diff:.3g}, range {rng:.3g}"
        bins = {impl for (lt, impl, _), _n in layers if lt == "BinaryConvolution"}
        n_bin = sum(n for (lt, _i, _p), n in layers if lt == "BinaryConvolution")
        assert n_bin == stats["binary_convolutions"], (name, layers)
        assert all(impl.startswith("jit_") for impl in bins), (name, bins)
        checked.append(name)
    # The grid covers one- and zero-padding, strides, dilations, bitpacked outputs and
    # LceBMaxPool2d; the refusals are channel counts OpenVINO's u1 path gets wrong, groups,
    # int8 models and ops the translation does not map.
    for must in ("bconv_k3_same_pad1_s1_c32_64", "bconv_k3_same_pad0_s1_c32_32",
                 "bconv_k3_valid_d2_c32_32", "bitpacked_same_pad1_c32_40_16",
                 "bmaxpool_bitpacked_3x2_s12_c32", "toy_shortcut"):
        assert must in checked, (must, dict(refused).get(must))
    for name, why in refused:
        assert why, name


def test_refusals_name_the_problem():
    with pytest.raises(openvino_lce.TranslationError, match="not a multiple of 8"):
        run("bconv_k3_valid_s1_c33_70")
    with pytest.raises(openvino_lce.TranslationError, match="grouped"):
        run("bconv_groups2_k3_same_pad1_c64_64")


ZOO = os.path.join(ROOT, ".cache", "zoo")
ZOO_MODELS = ["QuickNetSmall", "QuickNet", "QuickNetLarge", "BiRealNet", "BinaryResNetE18",
              "BinaryDenseNet28", "MeliusNet22", "RealToBinaryNet", "XNORNet"]


@pytest.mark.parametrize("name", ZOO_MODELS)
def test_zoo_model_translates_and_agrees(name):
    """Every Larq Zoo model of `make zoo` translates (SPLIT in MeliusNet22, [1, C] gates times
    [1, H, W, C] in RealToBinaryNet, XNORNet's filter computed from constants, folded with numpy)
    and agrees with LCE as bench/compare.py requires of OpenVINO f32 before timing it: the same
    argmax and max |diff| <= 0.1 of the output range (float sums in another order flip a few
    binarizations), with every binary convolution on the JIT kernel."""
    if not os.path.exists(os.path.join(ZOO, name + ".tflite")):
        pytest.skip(f"no .cache/zoo/{name}.tflite: run `make zoo`")
    got, want, layers, stats = run(name, ZOO)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape
        rng = float(w.max() - w.min()) or 1.0
        assert float(np.abs(g.astype(np.float64) - w).max()) <= 0.1 * rng, (name, i)
        assert int(g.argmax()) == int(w.argmax()), (name, i)
    n_bin = sum(n for (lt, _i, _p), n in layers if lt == "BinaryConvolution")
    assert n_bin == stats["binary_convolutions"] > 0, (name, layers)
    assert all(impl.startswith("jit_") for (lt, impl, _p), _n in layers
               if lt == "BinaryConvolution"), (name, layers)

"""Hostile models through the Python API and the command line: required inputs set to -1, the
activation memory budget (max_arena_bytes=, --max-memory), and structural mutants of the
fixtures loaded in a child process, so that a crash is caught and named instead of killing the
test run. The mutants come from the C++ structure-aware mutator (tests/fuzz/mutate_model)."""
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import xbnn
from lce_fixtures import FIXTURES

ROOT = pathlib.Path(__file__).resolve().parents[2]
XBNN = pathlib.Path(os.environ.get("XBNN", ROOT / "build" / "tools" / "xbnn"))
MUTATE = XBNN.parent.parent / "tests" / "fuzz" / "mutate_model"
# Fixtures whose ops cover LceQuantize, LceBconv2d (float, int8 and bitpacked output),
# LceBMaxPool2d, LceDequantize, QUANTIZE and DEQUANTIZE.
SEEDS = ["batch2_bitpacked_maxpool_c16_40_8", "bconv_int8_floatio_c32_33", "int8_sign_floatio"]

needs_tools = pytest.mark.skipif(not (XBNN.exists() and MUTATE.exists()),
                                 reason=f"needs the CMake build's {XBNN} and {MUTATE}")


def mutants(tmp_path, seed, *args):
    out = tmp_path / seed
    p = subprocess.run([str(MUTATE), *args, str(FIXTURES / f"{seed}.tflite"), str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return [line.split("\t") for line in p.stdout.splitlines()]


def cli(*args):
    return subprocess.run([str(XBNN), *map(str, args)], capture_output=True, text=True, timeout=60)


@needs_tools
@pytest.mark.parametrize("seed", SEEDS)
def test_absent_required_inputs(tmp_path, seed):
    cases = mutants(tmp_path, seed, "--absent-inputs")
    assert len(cases) >= 3
    for path, label in cases:
        data = pathlib.Path(path).read_bytes()
        for call in (lambda: xbnn.Interpreter(data), lambda: xbnn.strip_lcedequantize_ops(data),
                     lambda: xbnn.modify_integer_quantized_model_io_type(data, np.int8, np.int8)):
            with pytest.raises(ValueError, match=r"is absent \(-1\), but it is required"):
                call()
        for args in (["run", path], ["strip-dequantize", path, tmp_path / "out.tflite"],
                     ["set-io-type", path, tmp_path / "out.tflite", "--output", "int8"]):
            p = cli(*args)
            assert p.returncode == 1 and "is absent (-1), but it is required" in p.stderr, (label, args, p)


def test_max_arena_bytes():
    data = (FIXTURES / f"{SEEDS[0]}.tflite").read_bytes()
    with pytest.raises(ValueError, match=r"over the limit of 1024 bytes"):
        xbnn.Interpreter(data, max_arena_bytes=1024)
    assert xbnn.Interpreter(data, max_arena_bytes=None).input_shapes
    assert xbnn.Interpreter(data, max_arena_bytes=1 << 20).input_shapes
    with pytest.raises(TypeError):
        xbnn.Interpreter(data, max_arena_bytes="1G")
    with pytest.raises(ValueError):
        xbnn.Interpreter(data, max_arena_bytes=0)


@needs_tools
def test_max_memory_cli():
    model = FIXTURES / f"{SEEDS[0]}.tflite"
    for cmd in (["run", model], ["bench", model, "--runs", "1", "--warmup", "0", "--min-seconds", "0"]):
        p = cli(*cmd, "--max-memory", "1K")
        assert p.returncode == 1 and "over the limit of 1024 bytes" in p.stderr, p
        assert "planned arena" in p.stderr
        assert cli(*cmd, "--max-memory", "1G").returncode == 0
        assert cli(*cmd, "--max-memory", "0").returncode == 0
        p = cli(*cmd, "--max-memory", "12X")
        assert p.returncode == 1 and "--max-memory needs a size" in p.stderr, p


CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import xbnn
    for path in sys.argv[1:]:
        print("START", path, flush=True)
        data = open(path, "rb").read()
        try:
            it = xbnn.Interpreter(data, max_arena_bytes=64 << 20)
            inputs = [np.zeros(s, t) for s, t in zip(it.input_shapes, it.input_types)]
            it.predict(inputs)
        except Exception as e:  # a clean refusal
            print("REFUSED", type(e).__name__, str(e)[:200], flush=True)
        for fn in (xbnn.strip_lcedequantize_ops,
                   lambda d: xbnn.modify_integer_quantized_model_io_type(d, np.int8, np.int8)):
            try:
                fn(data)
            except Exception:
                pass
    print("DONE", flush=True)
""")


@needs_tools
@pytest.mark.parametrize("seed", SEEDS)
def test_structural_mutants_never_crash(tmp_path, seed):
    cases = mutants(tmp_path, seed, "--random", "150", "--seed", "7")
    assert len(cases) >= 100
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    p = subprocess.run([sys.executable, "-c", CHILD, *[c[0] for c in cases]], capture_output=True, text=True,
                       timeout=600, env=env)
    started = [line.split(" ", 1)[1] for line in p.stdout.splitlines() if line.startswith("START ")]
    if p.returncode != 0 or not p.stdout.rstrip().endswith("DONE"):
        last = started[-1] if started else "?"
        what = dict(cases).get(last, "?")
        pytest.fail(f"the child died (exit {p.returncode}) on {last} ({what}):\n{p.stderr[-2000:]}")
    assert len(started) == len(cases)
    refused = sum(line.startswith("REFUSED") for line in p.stdout.splitlines())
    assert 0 < refused < len(cases)  # the mutants reach both outcomes

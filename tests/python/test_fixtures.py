"""Every LCE fixture model gives LCE's recorded outputs through xbnn.Interpreter."""
import numpy as np
import pytest

from lce_fixtures import (FIXTURES, as_list, assert_outputs_match, find_cases, interpreter_or_skip, load_npz,
                          manifest)

CASES = find_cases()


def test_fixtures_present():
    assert CASES, "no fixtures found in tests/models/lce"
    missing = sorted(f for e in manifest().values() for f in e.get("files", [])
                     if not (FIXTURES / f).exists())
    assert not missing, f"manifest.json lists files that tests/models/lce lacks: {missing}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_matches_lce(case):
    interpreter = interpreter_or_skip(case.model.read_bytes())
    xs = load_npz(case.inputs, "input")
    want = load_npz(case.outputs, "output")
    assert interpreter.input_types == [x.dtype for x in xs]
    assert interpreter.input_shapes == [x.shape for x in xs]
    assert interpreter.output_types == [y.dtype for y in want]
    assert interpreter.output_shapes == [y.shape for y in want]

    got = interpreter.predict(xs if len(xs) > 1 else xs[0])
    # LCE's convention: a single output unwrapped, several in a list.
    assert isinstance(got, list) == (len(want) > 1)
    got = as_list(got)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_outputs_match(g, w, f"{case.name} output {i}")

    # More threads give identical results.
    two = interpreter_or_skip(case.model.read_bytes(), num_threads=2)
    for i, (a, b) in enumerate(zip(got, as_list(two.predict(xs)))):
        np.testing.assert_array_equal(a, b, err_msg=f"2 threads differ from 1 on output {i}")

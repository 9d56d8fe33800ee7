"""xbnn.pack_bits / xbnn.unpack_bits: the LCE bitpacked layout."""
import numpy as np
import pytest

import xbnn
from lce_fixtures import FIXTURES, interpreter_or_skip, load_npz

CHANNELS = [1, 3, 31, 32, 33, 63, 64, 65, 70, 100, 128]


def reference_pack(a):
    """Plain loops: bit c % 32 of word c // 32 is 1 where channel c is negative."""
    a = np.asarray(a)
    c = a.shape[-1]
    flat = a.reshape(-1, c)
    words = np.zeros((flat.shape[0], (c + 31) // 32), dtype=np.uint32)
    for r in range(flat.shape[0]):
        for ch in range(c):
            if flat[r, ch] < 0:
                words[r, ch // 32] |= np.uint32(1) << np.uint32(ch % 32)
    return words.view(np.int32).reshape(a.shape[:-1] + ((c + 31) // 32,))


def reference_unpack(words, c):
    flat = np.asarray(words).view(np.uint32).reshape(-1, words.shape[-1])
    out = np.empty((flat.shape[0], c), np.float32)
    for r in range(flat.shape[0]):
        for ch in range(c):
            out[r, ch] = -1.0 if (int(flat[r, ch // 32]) >> (ch % 32)) & 1 else 1.0
    return out.reshape(words.shape[:-1] + (c,))


@pytest.mark.parametrize("c", CHANNELS)
def test_pack_matches_reference_and_round_trips(c):
    rng = np.random.default_rng(c)
    x = rng.standard_normal((2, 3, c)).astype(np.float32)
    x[0, 0, 0] = 0.0   # zero packs as +1 (bit 0)
    words = xbnn.pack_bits(x)
    assert words.dtype == np.int32 and words.shape == (2, 3, (c + 31) // 32)
    np.testing.assert_array_equal(words, reference_pack(x))
    signs = np.where(x < 0, -1.0, 1.0).astype(np.float32)
    back = xbnn.unpack_bits(words, c)
    assert back.dtype == np.float32 and back.shape == x.shape
    np.testing.assert_array_equal(back, signs)
    np.testing.assert_array_equal(back, reference_unpack(words, c))


@pytest.mark.parametrize("c", [5, 32, 70])
def test_unpack_random_words_matches_reference(c):
    rng = np.random.default_rng(100 + c)
    words = rng.integers(-2**31, 2**31, size=(4, (c + 31) // 32), dtype=np.int64).astype(np.int32)
    np.testing.assert_array_equal(xbnn.unpack_bits(words, c), reference_unpack(words, c))
    # uint32 words read the same bits.
    np.testing.assert_array_equal(xbnn.unpack_bits(words.view(np.uint32), c), reference_unpack(words, c))


def test_bit_layout():
    x = np.ones(40, np.float32)
    x[[0, 31, 32, 39]] = -1
    np.testing.assert_array_equal(xbnn.pack_bits(x), np.array([1 | -2**31, 1 | 1 << 7], np.int32))
    assert xbnn.pack_bits(np.ones(5)).tolist() == [0]   # padding bits are 0


def test_pack_other_dtypes():
    rng = np.random.default_rng(7)
    f = rng.standard_normal((3, 45))
    want = reference_pack(f)
    np.testing.assert_array_equal(xbnn.pack_bits(f), want)                                 # float64
    np.testing.assert_array_equal(xbnn.pack_bits(np.where(f < 0, -5, 7).astype(np.int8)), want)
    np.testing.assert_array_equal(xbnn.pack_bits(f < 0), want)                             # bool: True = bit 1
    np.testing.assert_array_equal(xbnn.pack_bits(f.tolist()), want)                        # nested lists


def test_errors():
    with pytest.raises(ValueError, match="33 channels need 2 words in the last dimension, found 1"):
        xbnn.unpack_bits(np.zeros((2, 1), np.int32), 33)
    with pytest.raises(ValueError, match="expected int32 words, found dtype float32"):
        xbnn.unpack_bits(np.zeros((2, 1), np.float32), 3)
    with pytest.raises(ValueError, match="channels must be a positive integer"):
        xbnn.unpack_bits(np.zeros((2, 1), np.int32), 0)
    with pytest.raises(ValueError):
        xbnn.unpack_bits(np.int32(3), 3)
    with pytest.raises(ValueError):
        xbnn.pack_bits(np.float32(1))
    with pytest.raises(ValueError):
        xbnn.pack_bits(np.array(["a", "b"]))
    for bad in ("abc", None):
        with pytest.raises(ValueError, match="expected a float, integer or bool array, found"):
            xbnn.pack_bits(bad)
    for bad in (True, np.array([3]), 2.5):
        with pytest.raises(ValueError, match="channels must be a positive integer"):
            xbnn.unpack_bits(np.zeros((2, 1), np.int32), bad)
    # int32 in either byte order: the same integers, the same bits.
    words = np.array([[1 | -2**31], [5]], np.int32)
    np.testing.assert_array_equal(xbnn.unpack_bits(words.astype(">i4"), 32), xbnn.unpack_bits(words, 32))


def test_stripped_fixture_outputs_unpack_to_lce_signs():
    """LCE's own stripped models: their int32 outputs unpack to the +1/-1 floats that the
    unstripped model's LceDequantize gives, and pack back to the same words."""
    checked = 0
    for stripped in sorted(FIXTURES.glob("*.stripped.tflite")):
        base = stripped.name[: -len(".stripped.tflite")]
        words = load_npz(FIXTURES / f"{base}.stripped.outputs.npz", "output")
        floats = load_npz(FIXTURES / f"{base}.outputs.npz", "output")
        for w, f in zip(words, floats):
            if w.dtype != np.int32 or f.dtype != np.float32 or w.shape[:-1] != f.shape[:-1]:
                continue
            if not np.all(np.abs(f) == 1):
                continue
            c = f.shape[-1]
            np.testing.assert_array_equal(xbnn.unpack_bits(w, c), f, err_msg=base)
            np.testing.assert_array_equal(xbnn.pack_bits(f), w, err_msg=base)
            checked += 1
    if not checked:
        pytest.skip("no stripped fixture with LceDequantize (+1/-1 float) outputs")

"""Bitpacking in the LCE layout: bit i of int32 word w holds channel 32*w + i; bit 1 means -1."""
import numpy as np

__all__ = ["pack_bits", "unpack_bits"]


def unpack_bits(words, channels):
    """Unpacks bitpacked int32 words (e.g. the output of a model stripped with
    `strip_lcedequantize_ops`) into +1/-1 float32 values.

    # Arguments
        words: int32 (or uint32) array whose last dimension holds ceil(channels / 32) words.
        channels: the number of unpacked channels.

    # Returns
        float32 array of shape `words.shape[:-1] + (channels,)`, +1.0 where the bit is 0 and
        -1.0 where it is 1.
    """
    w = np.asarray(words)
    if w.dtype.kind not in "iu" or w.dtype.itemsize != 4:  # either byte order
        raise ValueError(f"unpack_bits: expected int32 words, found dtype {w.dtype}")
    if w.ndim < 1:
        raise ValueError("unpack_bits: expected an array of at least one dimension (the words), "
                         "found a scalar")
    channels = _channel_count(channels)
    n_words = w.shape[-1]
    if n_words != (channels + 31) // 32:
        raise ValueError(f"unpack_bits: {channels} channels need {(channels + 31) // 32} words in "
                         f"the last dimension, found {n_words} (shape {w.shape})")
    # Little-endian bytes of each word, then bits least significant first: bit i of word w lands
    # at position 32*w + i.
    le = np.ascontiguousarray(w, dtype=w.dtype.newbyteorder("<"))
    bits = np.unpackbits(le.view(np.uint8).reshape(w.shape[:-1] + (n_words * 4,)), axis=-1,
                         bitorder="little")[..., :channels]
    return (1.0 - 2.0 * bits).astype(np.float32)


def pack_bits(array):
    """Packs the last dimension of `array` into int32 words in the LCE layout.

    Bit 1 (meaning -1) where a float or signed integer value is < 0 (int8 models carry the sign
    the same way, with zero point 0), where a bool value is True; bit 0 otherwise. The unused
    bits of the last word are 0.

    # Returns
        int32 array of shape `array.shape[:-1] + (ceil(channels / 32),)`.
    """
    a = np.asarray(array)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"pack_bits: expected a float, integer or bool array, found {type(array).__name__}"
                         f" (dtype {a.dtype})")
    if a.ndim < 1:
        raise ValueError("pack_bits: expected an array of at least one dimension (the channels), "
                         "found a scalar")
    if a.dtype == np.bool_:
        bits = a
    elif np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer):
        bits = a < 0
    else:
        raise ValueError(f"pack_bits: expected a float, integer or bool array, found dtype {a.dtype}")
    channels = a.shape[-1]
    n_words = (channels + 31) // 32
    pad = n_words * 32 - channels
    if pad:
        bits = np.concatenate([bits, np.zeros(a.shape[:-1] + (pad,), dtype=bool)], axis=-1)
    packed = np.packbits(bits, axis=-1, bitorder="little")  # (..., 4 * n_words) bytes
    packed = np.ascontiguousarray(packed).view(np.dtype("<i4"))
    return packed.astype(np.int32, copy=False)


def _channel_count(channels):
    if isinstance(channels, (bool, np.bool_)) or not isinstance(channels, (int, np.integer)):
        raise ValueError(f"channels must be a positive integer, got {channels!r}")
    try:
        c = int(channels)
    except (TypeError, ValueError):
        raise ValueError(f"channels must be a positive integer, got {channels!r}") from None
    if c != channels or c < 1:
        raise ValueError(f"channels must be a positive integer, got {channels!r}")
    return c

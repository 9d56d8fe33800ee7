// Reference LceQuantize / LceDequantize: one bit per value, plain loops.
// Facts from LCE core/bitpacking/bitpack.h and tflite/kernels/quantization.cc.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/binary/binary_ops.h"

namespace xbnn::kernels::reference {
namespace {

// Packs each row; `is_minus_one(i)` tells whether value i of the flat input reads as -1.
template <typename IsMinusOne>
void PackRows(int64_t outer, int channels, int32_t* out, IsMinusOne is_minus_one) {
  const int words = PackedWords(channels);
  for (int64_t row = 0; row < outer; ++row) {
    for (int w = 0; w < words; ++w) {
      uint32_t word = 0;  // unused high bits stay 0
      for (int bit = 0; bit < 32 && w * 32 + bit < channels; ++bit) {
        if (is_minus_one(row * channels + w * 32 + bit)) word |= uint32_t{1} << bit;
      }
      out[row * words + w] = static_cast<int32_t>(word);
    }
  }
}

template <typename T>
void UnpackRows(const int32_t* in, int64_t outer, int channels, T plus_one, T minus_one, T* out) {
  const int words = PackedWords(channels);
  for (int64_t row = 0; row < outer; ++row) {
    for (int c = 0; c < channels; ++c) {
      const uint32_t word = static_cast<uint32_t>(in[row * words + c / 32]);
      out[row * channels + c] = ((word >> (c % 32)) & 1u) ? minus_one : plus_one;
    }
  }
}

}  // namespace

void PackFloat(const float* in, int64_t outer, int channels, int32_t* out) {
  // LCE's portable path tests `x < 0`, so -0.0 and NaN pack as +1. (Its aarch64 path reads the
  // sign bit instead, which packs -0.0 as -1; we follow the portable definition.)
  PackRows(outer, channels, out, [in](int64_t i) { return in[i] < 0.0f; });
}

void PackInt8(const int8_t* in, int64_t outer, int channels, int zero_point, int32_t* out) {
  // Compared in int, so zero points outside [-128, 127] give all +1 or all -1, as in LCE.
  PackRows(outer, channels, out,
           [in, zero_point](int64_t i) { return static_cast<int>(in[i]) < zero_point; });
}

void PackBool(const bool* in, int64_t outer, int channels, int32_t* out) {
  PackRows(outer, channels, out, [in](int64_t i) { return !in[i]; });
}

void UnpackFloat(const int32_t* in, int64_t outer, int channels, float* out) {
  UnpackRows(in, outer, channels, 1.0f, -1.0f, out);
}

void UnpackInt8(const int32_t* in, int64_t outer, int channels, float scale, int zero_point,
                int8_t* out) {
  // LCE: offset = round(1.0f / scale) in float (std::round: half away from zero); bit 0 gives
  // min(127, zp + offset), bit 1 gives max(-128, zp - offset). The clamps on offset and on both
  // results only matter outside CheckInt8Quantization's range, where they keep this defined.
  float offset = std::round(1.0f / scale);
  if (!(offset >= -512.0f)) offset = std::isnan(offset) ? 0.0f : -512.0f;
  offset = std::min(offset, 512.0f);
  const int64_t off = static_cast<int64_t>(offset);
  const auto to_int8 = [](int64_t v) {
    return static_cast<int8_t>(std::clamp<int64_t>(v, -128, 127));
  };
  UnpackRows(in, outer, channels, to_int8(zero_point + off), to_int8(zero_point - off), out);
}

void UnpackBool(const int32_t* in, int64_t outer, int channels, bool* out) {
  UnpackRows(in, outer, channels, true, false, out);
}

}  // namespace xbnn::kernels::reference

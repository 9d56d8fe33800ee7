// Hot float loops of the builtin ops that XNNPACK does not cover well, compiled for AVX-512, AVX2
// and baseline x86-64 and chosen at run time (a CPU check picks one function per target; the
// pooling rows use one vector width per target), so the library still runs on any x86-64 while
// using the wide registers where they exist. Plain loops elsewhere.
#pragma once

#include <cstdint>

namespace xbnn::kernels::builtin {

// kPrelu: x >= 0 ? x : x * alpha (TFLite's PRELU, alpha the second operand).
enum class FloatBinary : int8_t { kAdd, kSub, kMul, kDiv, kMax, kMin, kPrelu };

// out[r * n + i] = clamp(a[r * a_row + i * sa] op b[r * b_row + i * sb], lo, hi) for r < rows,
// i < n; sa and sb are 0 (broadcast) or 1, and a row stride of 0 broadcasts one row (e.g. a
// per-channel vector to every pixel). MAXIMUM/MINIMUM/PRELU ignore lo/hi. One call for many short
// rows (64 channels): a call per row cost more than its loop.
void BinaryRowsF32(FloatBinary op, const float* a, int64_t sa, int64_t a_row, const float* b,
                   int64_t sb, int64_t b_row, float* out, int64_t rows, int64_t n, float lo,
                   float hi);
// The same with output rows out_row floats apart (n of them written per row): a slice of the
// channels of each pixel.
void BinaryRowsStridedF32(FloatBinary op, const float* a, int64_t sa, int64_t a_row, const float* b,
                          int64_t sb, int64_t b_row, float* out, int64_t out_row, int64_t rows,
                          int64_t n, float lo, float hi);

// The most steps FloatRowsVector takes (longer chains keep the per-op passes).
inline constexpr int kMaxFloatSteps = 16;

// One op of a chain after its first (FloatChain, common.h): the chain value x and the operand
// k (k[r * row + i * s], s 0 or 1) give clamp(x op k, lo, hi), or clamp(k op x, lo, hi) with
// k_first; MAXIMUM/MINIMUM/PRELU ignore lo/hi, as in BinaryRowsF32.
struct FloatStep {
  FloatBinary op = FloatBinary::kAdd;
  const float* k = nullptr;
  int64_t s = 0, row = 0;
  bool k_first = false;
  float lo = 0, hi = 0;
};
// out[r * out_row + i] = the first op's clamp(a op b, lo, hi) (as BinaryRowsStridedF32) followed
// by steps[0, nsteps) in turn (their operand rows from row k_row0), for r < rows, i < n: each
// element goes through the whole chain in vector registers, with the same float operations as
// the separate ops. Where the CPU has AVX-512 (unless !allow_avx512: tests) or AVX2, n is a
// multiple of its vector width, sa is 1, and every other operand runs along the row (stride 1)
// or is one value for all rows (stride 0, row stride 0); else it returns false and writes
// nothing.
bool FloatRowsVector(FloatBinary op, const float* a, int64_t sa, int64_t a_row, const float* b,
                     int64_t sb, int64_t b_row, float lo, float hi, const FloatStep* steps,
                     int nsteps, int64_t k_row0, float* out, int64_t out_row, int64_t rows,
                     int64_t n, bool allow_avx512 = true);

struct MaxPoolGeometry {
  int in_h = 0, in_w = 0, channels = 0, out_h = 0, out_w = 0;
  int filter_h = 1, filter_w = 1, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
  bool clamp = false;
  float lo = 0, hi = 0;
};

// Output row `oy` of batch `b` of a float max pooling (padding left out of the window), written
// to out_row (out_w * channels floats: the row's place in the output, or a scratch row).
void MaxPoolRowF32(const MaxPoolGeometry& g, const float* in, float* out_row, int b, int oy);
// The same for average pooling: the window's sum in order from zero, divided by the number of
// pixels inside the input, clamped to [g.lo, g.hi] whatever g.clamp says (TFLite's float kernel).
void AvgPoolRowF32(const MaxPoolGeometry& g, const float* in, float* out_row, int b, int oy);
// The same for channels [c_begin, c_end) only (out_row still holds all channels of each pixel):
// the same values as the whole row's, each channel's sum in the same order.
void AvgPoolRowF32(const MaxPoolGeometry& g, const float* in, float* out_row, int b, int oy,
                   int c_begin, int c_end);

}  // namespace xbnn::kernels::builtin

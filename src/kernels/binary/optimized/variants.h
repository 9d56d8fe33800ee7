// Internal: the plans that the public kernels build at Create, and the per-ISA entry points that
// run them. Each ISA lives in its own translation unit, which sets its own target (#pragma GCC
// target) after including this header, <cstdint>/<cstring> and intrinsics: no inline std:: code
// is compiled for the wider ISA, whose COMDAT copies could leak into baseline code at link time.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/isa.h"

namespace xbnn::kernels::optimized {

// ---------------------------------------------------------------------------------------------
// BConv2D as an xor-popcount GEMM: rows are output pixels, columns output channels, K runs over
// kernel taps x input words of one group. The packed filter is split into tiles of
// `lanes * vectors` output channels; inside a tile it is laid out [tap][word][vector][lane] (or as
// nibble planes, BConvVariant::nibble_planes) so a micro-kernel loads whole vectors of output
// channels and broadcasts one input word per pixel.
// Channel-indexed epilogue arrays use the "padded" channel index
//   (group * tiles_per_group + tile) * tile_channels + lane_in_tile.
struct BConvPlan {
  // Geometry.
  int batch = 0, in_h = 0, in_w = 0;
  int in_words = 0;        // words per input pixel (all groups)
  int out_h = 0, out_w = 0;
  int kernel_h = 0, kernel_w = 0, taps = 0;
  int groups = 1;
  int group_words = 0;     // words per input pixel and group: K words per tap
  int out_channels = 0, out_channels_per_group = 0;
  int out_words = 0;       // PackedWords(out_channels), for bitpacked output
  BOutputType output_type = BOutputType::kFloat32;

  // Tiling.
  int lanes = 0, max_vectors = 0, rows = 0;
  int tile_channels = 0;   // lanes * max_vectors
  int tiles_per_group = 0;
  int total_tiles = 0;     // groups * tiles_per_group
  const int64_t* tile_offset = nullptr;   // [total_tiles] start of each tile in `filter`
  const int32_t* filter = nullptr;

  // Indirection: [out_h * out_w][taps] word offset of the tap's input pixel inside one image, or
  // -1 for a padding position (read from `zero_row`, i.e. +1).
  const int32_t* indirection = nullptr;
  const int32_t* zero_row = nullptr;      // group_words zero words

  // Epilogue (binary_ops.h): x = 2 * acc for one-padding/VALID; float/int8 output
  // value = float(clamp(x, clamp_min, clamp_max)) * multiplier + bias with LCE's folded
  // multiplier and bias; bitpacked output bit = acc > threshold.
  int32_t clamp_min = 0, clamp_max = 0;
  // False where the clamp cannot change x (no fused activation: x lies in [0, 2 * K] anyway); the
  // epilogue then skips it (QuickNet's 56x56 layers 1.13-1.16x faster on Zen 5).
  bool clamp_x = true;
  const float* multiplier = nullptr;       // folded, padded channel index
  // 2 * multiplier where float(acc) * (2 * m) is float(2 * acc) * m for every channel (no double
  // overflows: both are 2 * acc * m rounded once), else null.
  const float* multiplier2 = nullptr;
  const float* bias = nullptr;             // folded
  const int32_t* threshold = nullptr;      // INT32_MAX on padding lanes, so their bits are 0
  // The tile of every group starts at a word boundary of the bitpacked output.
  bool bitpacked_aligned = true;

  // SAME zero-padding. The GEMM reads padding as +1 (zero bits); for a pixel whose window sticks
  // out, s_out = sum over the outside taps of the tap's +1/-1 filter sum (channels - 2 popcount),
  // so that the zero-padded x = 2 * acc + s_out. Output rows and columns with the same in-bounds
  // taps share a class; `border` holds per class pair [padded channels] values from offset
  // border_row[oy] + border_col[ox] (BorderOffset), 0 for the pixels without outside taps.
  bool zero_padding = false;
  // LCE's border correction (float output, activation NONE): x stays one-padded and the output
  // gets + (-multiplier * float(s_out)) afterwards: `border_f` holds those, `border` is unused.
  bool lce_border = false;
  const int32_t* threshold_x2 = nullptr;   // 2 * threshold clamped to int32: compared with x
  const int32_t* border = nullptr;         // s_out
  const float* border_f = nullptr;         // lce_border: -multiplier * float(s_out)
  const int32_t* border_row = nullptr;     // [out_h]
  const int32_t* border_col = nullptr;     // [out_w]
  // The output rows [inner_y0, inner_y1) and columns [inner_x0, inner_x1) whose windows lie
  // inside the input (zero padding only): their pixels need no s_out, and the driver runs them
  // without that code.
  int inner_y0 = 0, inner_y1 = 0, inner_x0 = 0, inner_x1 = 0;
  int padded_channels = 0;
  // Pixel-lane layout (BConvVariant::pixel_lanes; one group of one input word, stride 1, no
  // dilation, no zero padding, not AMX): `run` gets the input as padded images of lane_rows x
  // lane_pitch words (the SAME padding as zero words, i.e. +1), so that the 16 output pixels
  // from (y, x) read the 16 consecutive words from (y + ky, x + kx) at each tap: one vector load
  // per tap for 16 pixels instead of an indirection load and a broadcast per pixel. The last
  // kernel_w - 1 words of each padded row are positions past the row's last output pixel. 0: the
  // indirection layout.
  int lane_pitch = 0, lane_rows = 0;
};

// Where output pixel (oy, ox)'s border values start in BConvPlan::border; 0: none of its taps lies
// in the zero padding (or the plan has none).
inline int BorderOffset(const BConvPlan& p, int oy, int ox) {
  return p.zero_padding ? p.border_row[oy] + p.border_col[ox] : 0;
}

// Float output followed by a residual ADD (with its fused activation) and an LceQuantize of the
// sum, computed in the epilogue: z = clamp(conv + residual) in the ADD's operand order, the same
// float operations the separate ops do, so the results are bit-identical. The float conv output
// itself is not stored.
// One float elementwise op after the convolution in its epilogue (BConvFused::chain): the value
// x and the operand k give clamp(x op k, lo, hi), or clamp(k op x, lo, hi) with k_first, as the
// separate op computes it (TFLite's expressions: the clamp as min(max(v, lo), hi); kPrelu is
// a >= 0 ? a : a * b; kMax / kMin are a > b ? a : b / a < b ? a : b; those three ignore lo, hi).
enum class EpilogueOp : int8_t { kAdd, kSub, kMul, kDiv, kMax, kMin, kPrelu };
struct BConvChainStep {
  EpilogueOp op = EpilogueOp::kAdd;
  const float* k = nullptr;  // the operand: k[channel] or k[pixel * out_channels + channel]
  enum Kind : int8_t { kChannel, kPixel } kind = kChannel;
  bool k_first = false;
  float lo = 0, hi = 0;
  float* store = nullptr;  // where the value after this step is read: [pixels][out_channels]
};

// Float output followed by a residual ADD (with its fused activation) and an LceQuantize of the
// sum, computed in the epilogue: z = clamp(conv + residual) in the ADD's operand order, the same
// float operations the separate ops do, so the results are bit-identical. The float conv output
// itself is not stored. With `chain` instead: the steps chain[0, chain_steps) in turn on the
// convolution's float output (each value stored where its step says), and `packed` the bits
// (value < 0) of the last value.
struct BConvFused {
  const float* residual = nullptr;  // [pixels][out_channels]
  bool residual_first = false;      // the ADD computes residual + conv (else conv + residual)
  bool clamp = false;               // the ADD's activation: z = min(max(z, min), max)
  float min = 0, max = 0;
  float* sum = nullptr;             // z, [pixels][out_channels]; null when nothing reads it
  int32_t* packed = nullptr;        // bit (z < 0) of every channel, [pixels][out_words]; or null
  const BConvChainStep* chain = nullptr;
  int chain_steps = 0;
};

// The value after `step` for x at output `channel` of `pixel` (scalar form of the epilogue op).
inline float ApplyChainStep(const BConvChainStep& st, float x, int64_t pixel, int out_channels,
                            int channel) {
  const float k =
      st.kind == BConvChainStep::kChannel ? st.k[channel] : st.k[pixel * out_channels + channel];
  const float a = st.k_first ? k : x, b = st.k_first ? x : k;
  float v = 0;
  switch (st.op) {
    case EpilogueOp::kMax:
      return a > b ? a : b;
    case EpilogueOp::kMin:
      return a < b ? a : b;
    case EpilogueOp::kPrelu:
      return a >= 0.0f ? a : a * b;
    case EpilogueOp::kAdd:
      v = a + b;
      break;
    case EpilogueOp::kSub:
      v = a - b;
      break;
    case EpilogueOp::kMul:
      v = a * b;
      break;
    case EpilogueOp::kDiv:
      v = a / b;
      break;
  }
  const float t = v < st.lo ? st.lo : v;
  return st.hi < t ? st.hi : t;
}

// The whole chain for one output value x: stores each step's value where asked; returns the last.
inline float ApplyChain(const BConvFused& f, float x, int64_t pixel, int out_channels,
                        int channel) {
  for (int s = 0; s < f.chain_steps; ++s) {
    x = ApplyChainStep(f.chain[s], x, pixel, out_channels, channel);
    if (f.chain[s].store != nullptr) f.chain[s].store[pixel * out_channels + channel] = x;
  }
  return x;
}

// The whole chain over pixels [pixel_begin, pixel_end) of z (values in place), step by step over
// the range (the same values as ApplyChain per value): for kernels that cannot run the chain in
// their epilogue.
inline void ApplyChainRange(const BConvFused& f, float* z, int64_t pixel_begin, int64_t pixel_end,
                            int out_channels) {
  for (int s = 0; s < f.chain_steps; ++s) {
    const BConvChainStep& st = f.chain[s];
    for (int64_t p = pixel_begin; p < pixel_end; ++p) {
      float* row = z + p * out_channels;
      for (int c = 0; c < out_channels; ++c)
        row[c] = ApplyChainStep(st, row[c], p, out_channels, c);
      if (st.store != nullptr) {
        std::copy(row, row + out_channels, st.store + p * out_channels);
      }
    }
  }
}

struct BConvVariant {
  int lanes;         // output channels per vector
  int max_vectors;   // vectors per output-channel tile
  int rows;          // output pixels per micro-kernel call
  // The tile's filter words are stored as two planes per vector, [vector][lo, hi][lane] with
  // lo = w & 0x0F0F0F0F and hi = (w >> 4) & 0x0F0F0F0F, and `run` gets the input split the same
  // way, each word w as the two words (lo, hi) (a vpshufb popcount kernel then needs no shift or
  // mask); plan offsets and indirection still count input words.
  bool nibble_planes;
  // Runs plans with BConvPlan::lane_pitch > 0 (the pixel-lane layout).
  bool pixel_lanes;
  // Computes output pixels [pixel_begin, pixel_end) (numbered over the whole batch) for the tiles
  // [tile_begin, tile_end). With !plan.bitpacked_aligned, bitpacked output is OR-ed into words
  // that the caller has zeroed. `fused` (float output, groups whose tiles start at output word
  // boundaries) replaces the float output by the fused ADD + LceQuantize outputs.
  void (*run)(const BConvPlan& plan, const int32_t* input, void* output, const BConvFused* fused,
              int pixel_begin, int pixel_end, int tile_begin, int tile_end);
};

// ---------------------------------------------------------------------------------------------
// BMaxPool2D: AND over the window; the in-bounds columns of one input row are contiguous.
struct BMaxPoolPlan {
  int batch = 0, in_h = 0, in_w = 0, words = 0;
  int out_h = 0, out_w = 0;
  int filter_h = 0, filter_w = 0, stride_h = 0, stride_w = 0, pad_top = 0, pad_left = 0;
};

struct BMaxPoolVariant {
  // Output rows [row_begin, row_end), numbered over the batch.
  void (*run)(const BMaxPoolPlan& plan, const int32_t* input, int32_t* output, int row_begin,
              int row_end);
};

// ---------------------------------------------------------------------------------------------
// Bitpacking of `outer` rows of `channels` values.
struct PackVariant {
  void (*pack_float)(const float* in, int64_t outer, int64_t channels, int32_t* out);
  void (*pack_int8)(const int8_t* in, int64_t outer, int64_t channels, int zero_point,
                    int32_t* out);
};

// Variant tables (isa_table.inc); null where the variant is not compiled into this build.
const BConvVariant* BConvVariantFor(Isa isa);
const BMaxPoolVariant* BMaxPoolVariantFor(Isa isa);
const PackVariant* PackVariantFor(Isa isa);
bool VariantCompiled(Isa isa);

// XBNN_ON_<arch>(code), for a table row's arch: `code` where that architecture's kernel files are
// built (each file's own #if says the same), nothing elsewhere.
#define XBNN_ON_ANY(...) __VA_ARGS__
#if defined(__x86_64__)
#define XBNN_ON_X86_64(...) __VA_ARGS__
#else
#define XBNN_ON_X86_64(...)
#endif
#if defined(__aarch64__) || defined(__arm__)
#define XBNN_ON_ARM(...) __VA_ARGS__
#else
#define XBNN_ON_ARM(...)
#endif

// The entry points of the kernel files (x86/, arm/, *_portable.cc), one per kernel and variant
// as the table names them; defined only where the row's architecture is built.
#define XBNN_ISA(e, name, arch, cpu, bconv, bmaxpool, pack) \
  const BConvVariant* bconv();                              \
  const BMaxPoolVariant* bmaxpool();                        \
  const PackVariant* pack();
#include "kernels/binary/optimized/isa_table.inc"
#undef XBNN_ISA

}  // namespace xbnn::kernels::optimized

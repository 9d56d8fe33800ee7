// LceBconv2d on AMX-INT8 tiles (Sapphire Rapids and later). With input bits a and filter bits w,
// popcount(a ^ w) = popcount(w) - sum(a' * w') where a' = -a (0 or -1, one byte per bit) and
// w' = 1 - 2w (+1 or -1): the byte products are what TDPBSSD sums, 1024 per cycle against the
// vpopcntd path's ~340 bit pairs, and the integer result is the same accumulator, so the shared
// epilogue (bconv_driver.inc) makes the outputs identical.
//
// Input: each task expands the bitpacked rows it reads into a zero-padded byte image (per thread,
// in phase planes for strides > 1), so an A tile is 16 consecutive output pixels' bytes at one tap.
// Outputs are computed over the plane width (the extra columns are discarded), so tiles run on
// across output rows. A job is 32 pixels x 32 channels: per K step two input tiles meet two weight
// tiles in four accumulators.
// Weights: per channel tile the filter bits sit in the order of TDPBSSD's B rows (16 channels x 4
// K bytes per row) and a task expands them to +-1 bytes once per tile (kept per thread while the
// expansions fit a small budget): 8x less memory traffic than stored byte weights.
#pragma once

#include <cstdint>

#include "kernels/binary/optimized/variants.h"

namespace xbnn::kernels::optimized {

inline constexpr int kAmxRows = 16;         // rows of a tile: output pixels
inline constexpr int kAmxTileBytes = 1024;  // one 16 x 64-byte tile
inline constexpr int kAmxJobRows = 32;      // output pixels of a job: 2 tiles of input rows

// Layers with fewer input bits per output (taps x channels) run on the vpopcntd kernel: 3x3x32
// (half of each 64-byte K step zeros) ran 1.4x faster there (QuickNetSmall in the interpreter,
// 2-vCPU Xeon); 3x3x64 ran 1.04x faster on the tiles (QuickNet, one thread), 3x3x128 and deeper
// 1.3-1.4x.
inline constexpr int kAmxMinKBits = 512;

// Runs with more threads take the vpopcntd kernel: on a 16-vCPU Sapphire Rapids guest the Zoo
// models ran 1.2-1.5x slower on the tiles than on vpopcntd at 4, 8 and 16 threads (a process per
// call, per-round ratio medians), as fast at two and 1.25x faster at one; the layers alone
// likewise (bench/device_check.cc: 3.9-5.0 T binary MAC/s at 16 threads on the tiles, 5.7-8.3 T on
// vpopcntd). Each task expands its own input rows, and with many tasks per layer that overhead
// grows while each task's tile work shrinks.
inline constexpr int kAmxMaxThreads = 2;

struct BConvAmxPlan {
  int kc = 0;      // bytes per pixel of the expanded image: input bits rounded up to 64
  int chunks = 0;  // kc / 64: K steps of one tap
  int wp = 0;      // padded image width (pixels)
  int rows = 0;    // padded image rows that valid outputs read
  int pad_top = 0, pad_left = 0;
  int stride_h = 1, stride_w = 1, dilation_h = 1;
  int kernel_h = 1;
  // The padded image is stored as stride_h * stride_w phase planes (row % stride_h, column %
  // stride_w), each plane_w wide: tap (ky, kx) of output (oy, ox) is then plane pixel
  // q + tap_offset[tap] with q = oy * plane_w + ox, so a job's kAmxJobRows rows are consecutive q.
  int plane_w = 0;
  int64_t plane_pixels = 0;
  int jobs_per_image = 0;
  int64_t image_pixels = 0;               // per-thread image buffer, slack included
  const int64_t* tap_offset = nullptr;    // [taps]
  const uint64_t* filter_bits = nullptr;  // per tile [taps][chunks][vectors][16 B rows]
  const int64_t* bits_offset = nullptr;   // [total_tiles] start of each tile in filter_bits
  const int32_t* popcount = nullptr;      // per padded channel: set filter bits, all taps
  int64_t tile_weight_bytes = 0;          // expanded weights of a full tile
  int weight_slots = 0;                   // expanded tiles a thread keeps
};

// One thread's scratch, reused across runs: the image in the runner's shared scratch where it was
// reserved (else the kernel's own), the rest the kernel's.
struct BConvAmxScratch {
  int8_t* image = nullptr;    // [image_pixels][kc]
  int8_t* weights = nullptr;  // [weight_slots][tile_weight_bytes]
  int32_t* acc = nullptr;     // [2 buffers][4 vectors][32 pixels][16] accumulators
  int8_t* ring = nullptr;     // [2 steps][2 vectors][1024] weights expanded per K step
  int* slot_tile = nullptr;   // the tile each weight slot holds, or -1
  // Padded rows [row_lo, row_hi] of image `image_n` hold run `run`'s input.
  int64_t run = -1;
  int image_n = -1, row_lo = 0, row_hi = -1;
};

// Whether this process may use the AMX tiles with CPUID.(7,0):EDX feature bit `feature` (22:
// AMX-BF16, 25: AMX-INT8): the CPU has AMX-TILE and that unit, and Linux grants the tile state,
// which a process requests once (process-wide; repeats are no-ops).
inline constexpr int kAmxBf16 = 22, kAmxInt8 = 25;
bool AmxUsable(int feature);

#if defined(__x86_64__)
// Palette 1, all eight tiles 16 rows x 64 bytes (every AMX kernel here). Inlined into its callers,
// which run only where AmxUsable said so.
__attribute__((always_inline)) inline void LoadAmxTileConfig() {
  alignas(64) uint8_t cfg[64] = {};
  cfg[0] = 1;
  for (int t = 0; t < 8; ++t) {
    cfg[16 + 2 * t] = 64;  // bytes per row (little-endian 16-bit field)
    cfg[48 + t] = 16;      // rows
  }
  // GCC 12's _tile_loadconfig names only the first 8 bytes as its memory operand; this one names
  // the whole configuration, so the stores above are not dropped.
  __asm__ volatile("ldtilecfg %0" ::"m"(cfg));
}
#endif

// Jobs [job_begin, job_end) (64 output positions each, numbered over the batch) of channel tiles
// [tile_begin, tile_end), groups == 1. `run` numbers the kernel's runs (a thread's expanded rows
// are reused within one run only).
void BConvAmxRun(const BConvPlan& plan, const BConvAmxPlan& amx, const int32_t* input, void* output,
                 const BConvFused* fused, int job_begin, int job_end, int tile_begin, int tile_end,
                 int64_t run, BConvAmxScratch& scratch);

}  // namespace xbnn::kernels::optimized

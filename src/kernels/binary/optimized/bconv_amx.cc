// The AMX BConv2D plan (bconv_amx.h), built once at Create, and the AMX permission check.
#include <algorithm>
#include <bit>

#include "kernels/binary/optimized/bconv_amx_plan.h"

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace xbnn::kernels::optimized {

bool AmxUsable(int feature) {
#if defined(__x86_64__) && defined(__linux__)
  // CPUID leaf 7: EDX bit 24 AMX-TILE plus the unit (GCC 12's __builtin_cpu_supports and Clang's
  // do not agree on the AMX names).
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  if ((edx & (1u << feature)) == 0 || (edx & (1u << 24)) == 0) return false;
  constexpr long kRequestPermission = 0x1023;  // ARCH_REQ_XCOMP_PERM
  constexpr long kTileData = 18;               // XFEATURE_XTILEDATA
  return syscall(SYS_arch_prctl, kRequestPermission, kTileData) == 0;
#else
  (void)feature;
  return false;
#endif
}

namespace {

// Per-thread limits: the expanded weights of one channel tile (3x3 taps x 1792 channels) and the
// expanded input image; larger layers (none in the Larq Zoo) take the vpopcntd path.
constexpr int64_t kMaxTileWeightBytes = int64_t{1} << 20;
constexpr int64_t kMaxImageBytes = int64_t{64} << 20;
// All of a layer's expanded tiles stay with a thread when they fit this; else one tile does.
constexpr int64_t kWeightCacheBytes = int64_t{256} << 10;

}  // namespace

bool BConvAmxStorage::Build(const BConv2DParams& p, const BConv2DGeometry& g, const BConvPlan& plan,
                            const int32_t* filter) {
  if (p.groups != 1 || plan.tile_channels != 64) return false;
  BConvAmxPlan& a = plan_;
  const int taps = p.kernel_h * p.kernel_w;
  const int cw = plan.group_words;
  a.kc = (cw * 32 + 63) / 64 * 64;
  a.chunks = a.kc / 64;
  a.kernel_h = p.kernel_h;
  a.stride_h = p.stride_h;
  a.stride_w = p.stride_w;
  a.dilation_h = p.dilation_h;
  a.pad_top = g.pad_top;
  a.pad_left = g.pad_left;
  a.wp = (g.out_w - 1) * p.stride_w + (p.kernel_w - 1) * p.dilation_w + 1;
  a.rows = (g.out_h - 1) * p.stride_h + (p.kernel_h - 1) * p.dilation_h + 1;
  a.plane_w = (a.wp + p.stride_w - 1) / p.stride_w;
  a.plane_pixels = int64_t{(a.rows + p.stride_h - 1) / p.stride_h} * a.plane_w;
  const int64_t jobs = (int64_t{g.out_h} * a.plane_w + kAmxJobRows - 1) / kAmxJobRows;
  int64_t tap_max = 0;
  tap_offset_ = AlignedBuffer<int64_t>(taps);
  for (int ky = 0; ky < p.kernel_h; ++ky) {
    for (int kx = 0; kx < p.kernel_w; ++kx) {
      const int y = ky * p.dilation_h, x = kx * p.dilation_w;
      const int plane = (y % p.stride_h) * p.stride_w + x % p.stride_w;
      const int64_t off =
          plane * a.plane_pixels + int64_t{y / p.stride_h} * a.plane_w + x / p.stride_w;
      tap_offset_[ky * p.kernel_w + kx] = off;
      tap_max = std::max(tap_max, off);
    }
  }
  a.image_pixels = std::max<int64_t>(int64_t{p.stride_h} * p.stride_w * a.plane_pixels,
                                     jobs * kAmxJobRows + tap_max);
  a.tile_weight_bytes = int64_t{taps} * a.chunks * 4 * kAmxTileBytes;
  if (jobs * p.batch > (int64_t{1} << 30) || a.image_pixels * a.kc > kMaxImageBytes ||
      a.tile_weight_bytes > kMaxTileWeightBytes) {
    return false;
  }
  a.jobs_per_image = static_cast<int>(jobs);
  a.weight_slots =
      plan.total_tiles * a.tile_weight_bytes <= kWeightCacheBytes ? plan.total_tiles : 1;

  // B rows: bit 4n + i of row r is filter bit 4r + i of the chunk, channel n of the vector.
  bits_offset_ = AlignedBuffer<int64_t>(plan.total_tiles);
  int64_t total = 0;
  for (int t = 0; t < plan.total_tiles; ++t) {
    const int real = std::min(64, p.out_channels - t * 64);
    bits_offset_[t] = total;
    total += int64_t{taps} * a.chunks * ((real + 15) / 16) * kAmxRows;
  }
  filter_bits_ = AlignedBuffer<uint64_t>(total);
  popcount_ = AlignedBuffer<int32_t>(plan.padded_channels);
  for (int t = 0; t < plan.total_tiles; ++t) {
    const int real = std::min(64, p.out_channels - t * 64);
    const int vectors = (real + 15) / 16;
    uint64_t* dst = filter_bits_.data() + bits_offset_[t];
    for (int tap = 0; tap < taps; ++tap) {
      for (int c = 0; c < a.chunks; ++c) {
        for (int j = 0; j < vectors; ++j) {
          for (int r = 0; r < kAmxRows; ++r, ++dst) {
            uint64_t row = 0;
            for (int n = 0; n < 16; ++n) {
              const int channel = t * 64 + j * 16 + n;
              if (channel >= p.out_channels) break;
              const int32_t* w = filter + (int64_t{channel} * taps + tap) * cw;
              const int k = c * 64 + 4 * r;  // 4 bits of one word (k is a multiple of 4)
              if (k >= cw * 32) break;
              const uint32_t word = static_cast<uint32_t>(w[k / 32]);
              row |= uint64_t{(word >> (k % 32)) & 0xFu} << (4 * n);
            }
            *dst = row;
          }
        }
      }
    }
    for (int l = 0; l < real; ++l) {
      const int32_t* w = filter + int64_t{t * 64 + l} * taps * cw;
      int ones = 0;
      for (int64_t i = 0; i < int64_t{taps} * cw; ++i) {
        ones += std::popcount(static_cast<uint32_t>(w[i]));
      }
      popcount_[t * 64 + l] = ones;
    }
  }
  a.tap_offset = tap_offset_.data();
  a.filter_bits = filter_bits_.data();
  a.bits_offset = bits_offset_.data();
  a.popcount = popcount_.data();
  return true;
}

int64_t BConvAmxStorage::bytes() const {
  return static_cast<int64_t>(tap_offset_.size() * 8 + bits_offset_.size() * 8 +
                              filter_bits_.size() * 8 + popcount_.size() * 4);
}

void BConvAmxStorage::ReserveThreads(int threads, TaskRunner* runner) const {
  const BConvAmxPlan& a = plan_;
  const bool shared = runner != nullptr &&
                      runner->scratch_bytes() >= static_cast<size_t>(image_bytes()) &&
                      runner->scratch_threads() >= threads;
  while (static_cast<int>(threads_.size()) < threads) {
    ThreadScratch t;
    t.weights = AlignedBuffer<int8_t>(static_cast<size_t>(a.weight_slots * a.tile_weight_bytes));
    t.acc = AlignedBuffer<int32_t>(2 * 4 * kAmxJobRows * 16);
    t.ring = AlignedBuffer<int8_t>(4 * kAmxTileBytes);
    t.slot_tile.assign(static_cast<size_t>(a.weight_slots), -1);
    threads_.push_back(std::move(t));
  }
  for (int i = 0; i < threads; ++i) {
    ThreadScratch& t = threads_[static_cast<size_t>(i)];
    if (!shared && t.image.size() == 0)
      t.image = AlignedBuffer<int8_t>(static_cast<size_t>(image_bytes()));
    t.view.image = shared ? runner->Scratch(i) : t.image.data();
    t.view.weights = t.weights.data();
    t.view.acc = t.acc.data();
    t.view.ring = t.ring.data();
    t.view.slot_tile = t.slot_tile.data();
  }
}

}  // namespace xbnn::kernels::optimized

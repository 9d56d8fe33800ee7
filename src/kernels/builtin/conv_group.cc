#include "kernels/builtin/conv_group.h"

#include <algorithm>
#include <cstring>

namespace xbnn::kernels::builtin {

void GroupedDirectConv::Init(const DirectConvGeometry& part, int groups, int threads,
                             bool allocate) {
  g_ = part;
  parts_.clear();
  parts_.resize(static_cast<size_t>(groups));
  // A chunk's input rows lie in one image.
  rows_ = std::min(g_.in_h, (kChunkRows - 1) * g_.stride_h + g_.k_h);
  scratch_.clear();
  if (allocate) {
    scratch_.assign(static_cast<size_t>(threads) * rows_ * g_.in_w * g_.in_c, 0.0f);
  }
}

void GroupedDirectConv::PreparePart(int k, const float* filter_ohwi, const float* bias, float lo,
                                    float hi) {
  parts_[static_cast<size_t>(k)].Prepare(g_, filter_ohwi, bias, lo, hi);
}

// In chunks of up to kChunkRows rows of one image: per part, the input rows the chunk reads are
// packed into the thread's scratch (the part's channels side by side, as the separate SPLIT wrote
// them), and the part's kernel writes its channels of the output pixels.
void GroupedDirectConv::RunRows(int thread, const float* in, float* out, int r0, int r1) const {
  const int h = g_.out_h, cin = g_.in_c;
  const int groups = static_cast<int>(parts_.size());
  const int64_t in_pixel = int64_t{cin} * groups, out_pixel = int64_t{g_.out_c} * groups;
  float* buf = scratch_.data() + static_cast<size_t>(thread) * rows_ * g_.in_w * cin;
  for (int r = r0; r < r1;) {
    const int b = r / h;
    const int e = std::min({r1, (b + 1) * h, r + kChunkRows});
    const int lo = std::max(0, (r % h) * g_.stride_h - g_.pad_top);
    const int hi = std::min(g_.in_h, ((e - 1) % h) * g_.stride_h - g_.pad_top + g_.k_h);
    const int64_t first = int64_t{b} * g_.in_h + lo;
    const int64_t pixels = int64_t{std::max(0, hi - lo)} * g_.in_w;
    for (int k = 0; k < groups; ++k) {
      const float* src = in + first * g_.in_w * in_pixel + int64_t{k} * cin;
      // (Fixed-size copies for MeliusNet's 8 and 4 channels: one vector move each.)
      if (cin == 8) {
        for (int64_t p = 0; p < pixels; ++p)
          std::memcpy(buf + p * 8, src + p * in_pixel, 8 * sizeof(float));
      } else if (cin == 4) {
        for (int64_t p = 0; p < pixels; ++p)
          std::memcpy(buf + p * 4, src + p * in_pixel, 4 * sizeof(float));
      } else {
        for (int64_t p = 0; p < pixels; ++p) std::copy_n(src + p * in_pixel, cin, buf + p * cin);
      }
      parts_[static_cast<size_t>(k)].RunRowsAt(buf, first, out + int64_t{k} * g_.out_c,
                                               static_cast<int>(out_pixel), r, e);
    }
    r = e;
  }
}

}  // namespace xbnn::kernels::builtin

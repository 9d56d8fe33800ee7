// Reference LceBMaxPool2d (LCE core/bmaxpool.h): max-pooling +1/-1 values is an AND of the
// packed words (bit 0 is +1, so a bit stays 1 only when every value in the window is -1).
// Padding positions are left out of the window; TFLite's SAME rules guarantee every window
// holds at least one input position.
#include <cstdint>

#include "kernels/binary/binary_ops.h"

namespace xbnn::kernels::reference {

void BMaxPool2D(const BMaxPool2DParams& p, const BMaxPool2DGeometry& g, const int32_t* input,
                int32_t* output) {
  const int words = p.packed_channels;
  for (int b = 0; b < p.batch; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      for (int ox = 0; ox < g.out_w; ++ox) {
        int32_t* out = output + ((int64_t{b} * g.out_h + oy) * g.out_w + ox) * words;
        for (int w = 0; w < words; ++w) {
          uint32_t all = ~uint32_t{0};
          for (int ky = 0; ky < p.filter_h; ++ky) {
            const int64_t iy = int64_t{oy} * p.stride_h - g.pad_top + ky;
            if (iy < 0 || iy >= p.in_h) continue;
            for (int kx = 0; kx < p.filter_w; ++kx) {
              const int64_t ix = int64_t{ox} * p.stride_w - g.pad_left + kx;
              if (ix < 0 || ix >= p.in_w) continue;
              all &= static_cast<uint32_t>(
                  input[((int64_t{b} * p.in_h + iy) * p.in_w + ix) * words + w]);
            }
          }
          out[w] = static_cast<int32_t>(all);
        }
      }
    }
  }
}

}  // namespace xbnn::kernels::reference

// Reference LceBMaxPool2d against a float max-pool of +1/-1 values, computed here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/binary/binary_ops.h"
#include "reference_test_util.h"

namespace xbnn::kernels {
namespace {

using testing::PackWith;
using testing::RandomPacked;
using testing::ToPlusMinusOne;

std::string Describe(const BMaxPool2DParams& p) {
  std::ostringstream s;
  s << "N" << p.batch << " in " << p.in_h << "x" << p.in_w << "x" << p.packed_channels
    << " words, filter " << p.filter_h << "x" << p.filter_w << " stride " << p.stride_h << ","
    << p.stride_w << (p.padding == Padding::kSame ? " SAME" : " VALID");
  return s.str();
}

bool RunCase(const BMaxPool2DParams& p, std::mt19937_64& rng) {
  const bool same = p.padding == Padding::kSame;
  const auto axis = [same](int in, int k, int s, int* out, int* pad) {
    *out = same ? (in + s - 1) / s : (in - k) / s + 1;
    *pad = std::max((*out - 1) * s + k - in, 0) / 2;
  };
  int oh, ow, pt, pl;
  axis(p.in_h, p.filter_h, p.stride_h, &oh, &pt);
  axis(p.in_w, p.filter_w, p.stride_w, &ow, &pl);
  auto g = ComputeBMaxPool2DGeometry(p);
  EXPECT_TRUE(g.ok()) << g.status().message();
  if (!g.ok()) return false;
  EXPECT_EQ(g->out_h, oh);
  EXPECT_EQ(g->out_w, ow);
  EXPECT_EQ(g->pad_top, pt);
  EXPECT_EQ(g->pad_left, pl);

  // Every bit of every word is a channel here (max-pooling works on whole words).
  const int channels = 32 * p.packed_channels;
  const int64_t rows = int64_t{p.batch} * p.in_h * p.in_w;
  // Mostly -1 so that windows of all -1 (output bit 1) are common.
  std::vector<int32_t> input = RandomPacked(rng, rows, channels);
  for (auto& w : input) w |= static_cast<int32_t>(rng()) | static_cast<int32_t>(rng());
  const std::vector<float> x = ToPlusMinusOne(input, rows, channels);

  std::vector<float> expected(int64_t{p.batch} * oh * ow * channels);
  for (int b = 0; b < p.batch; ++b) {
    for (int oy = 0; oy < oh; ++oy) {
      for (int ox = 0; ox < ow; ++ox) {
        for (int c = 0; c < channels; ++c) {
          float m = -2.0f;  // below every value; padding is left out of the window
          for (int ky = 0; ky < p.filter_h; ++ky) {
            for (int kx = 0; kx < p.filter_w; ++kx) {
              const int iy = oy * p.stride_h - pt + ky, ix = ox * p.stride_w - pl + kx;
              if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) continue;
              m = std::max(m, x[((int64_t{b} * p.in_h + iy) * p.in_w + ix) * channels + c]);
            }
          }
          EXPECT_NE(m, -2.0f) << "empty window";
          expected[((int64_t{b} * oh + oy) * ow + ox) * channels + c] = m;
        }
      }
    }
  }
  const int64_t out_rows = int64_t{p.batch} * oh * ow;
  const std::vector<int32_t> want =
      PackWith(expected, out_rows, channels, [](float v) { return v < 0; });
  std::vector<int32_t> got(want.size(), 0x1234);
  reference::BMaxPool2D(p, *g, input.data(), got.data());
  EXPECT_EQ(got, want);
  return !::testing::Test::HasFailure();
}

TEST(ReferenceBMaxPool2DGrid, RandomShapes) {
  std::mt19937_64 rng(0xb4a9);
  int cases = 0;
  while (cases < 1500) {
    BMaxPool2DParams p;
    p.batch = 1 + static_cast<int>(rng() % 3);
    p.in_h = 1 + static_cast<int>(rng() % 9);
    p.in_w = 1 + static_cast<int>(rng() % 9);
    p.packed_channels = 1 + static_cast<int>(rng() % 3);
    p.filter_h = 1 + static_cast<int>(rng() % 5);
    p.filter_w = 1 + static_cast<int>(rng() % 5);
    p.stride_h = 1 + static_cast<int>(rng() % 4);
    p.stride_w = 1 + static_cast<int>(rng() % 4);
    p.padding = rng() % 2 ? Padding::kSame : Padding::kValid;
    if (p.padding == Padding::kValid && (p.filter_h > p.in_h || p.filter_w > p.in_w)) continue;
    SCOPED_TRACE("case " + std::to_string(cases) + ": " + Describe(p));
    ASSERT_TRUE(RunCase(p, rng));
    ++cases;
  }
}

TEST(ReferenceBMaxPool2DGrid, FilterLargerThanInputWithSame) {
  std::mt19937_64 rng(5);
  for (int in = 1; in <= 3; ++in) {
    for (int f = in; f <= 7; ++f) {
      for (int s = 1; s <= 4; ++s) {
        BMaxPool2DParams p;
        p.in_h = in;
        p.in_w = in + 1;
        p.packed_channels = 2;
        p.filter_h = f;
        p.filter_w = f;
        p.stride_h = s;
        p.stride_w = s;
        p.padding = Padding::kSame;
        SCOPED_TRACE(Describe(p));
        ASSERT_TRUE(RunCase(p, rng));
      }
    }
  }
}

TEST(ReferenceBMaxPool2D, ByHand) {
  // 1x3 input, 1x2 filter, VALID, stride 1: AND of neighbouring words.
  BMaxPool2DParams p;
  p.in_h = 1;
  p.in_w = 3;
  p.packed_channels = 1;
  p.filter_h = 1;
  p.filter_w = 2;
  auto g = ComputeBMaxPool2DGeometry(p);
  ASSERT_TRUE(g.ok());
  const std::vector<int32_t> in{0b1110, 0b0111, -1};
  std::vector<int32_t> out(2);
  reference::BMaxPool2D(p, *g, in.data(), out.data());
  EXPECT_EQ(out, (std::vector<int32_t>{0b0110, 0b0111}));
}

}  // namespace
}  // namespace xbnn::kernels

// Optimized BMaxPool2D against the reference, bit for bit, for every variant.
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/bmaxpool2d.h"
#include "optimized_test_util.h"

namespace xbnn::kernels::optimized {
namespace {

using testing::AllVariants;
using testing::SameBytes;
using testing::SharedRunners;

class OptimizedBMaxPool2DTest : public ::testing::TestWithParam<Isa> {};

TEST_P(OptimizedBMaxPool2DTest, MatchesReference) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(5);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int cases = 0;
  for (int iter = 0; iter < 150; ++iter) {
    BMaxPool2DParams p;
    p.batch = pick(1, 2);
    p.in_h = pick(1, 12);
    p.in_w = pick(1, 12);
    p.packed_channels = pick(0, 2) == 0 ? pick(1, 20) : pick(1, 3);
    p.filter_h = pick(1, 4);
    p.filter_w = pick(1, 4);
    p.stride_h = pick(1, 4);
    p.stride_w = pick(1, 4);
    p.padding = pick(0, 1) == 0 ? Padding::kSame : Padding::kValid;
    if (iter == 0) {  // large enough to be split over threads
      p.in_h = p.in_w = 64;
      p.packed_channels = 8;
      p.filter_h = p.filter_w = 3;
      p.stride_h = p.stride_w = 2;
    }
    auto g = ComputeBMaxPool2DGeometry(p);
    if (!g.ok()) continue;
    std::vector<int32_t> in(int64_t{p.batch} * p.in_h * p.in_w * p.packed_channels);
    // Mostly-ones words so the AND keeps bits worth comparing.
    for (auto& w : in) w = static_cast<int32_t>(rng() | rng() | rng());
    std::vector<int32_t> expected(int64_t{p.batch} * g->out_h * g->out_w * p.packed_channels,
                                  0x5A5A5A5A);
    reference::BMaxPool2D(p, *g, in.data(), expected.data());
    auto kernel = BMaxPool2DKernel::Create(p, GetParam());
    ASSERT_TRUE(kernel.ok()) << kernel.status().message();
    for (auto& [name, runner] : SharedRunners().All()) {
      std::vector<int32_t> actual(expected.size(), 0x5A5A5A5A);
      (*kernel)->Run(in.data(), actual.data(), runner);
      ASSERT_TRUE(SameBytes(expected, actual))
          << "N" << p.batch << " " << p.in_h << "x" << p.in_w << "x" << p.packed_channels
          << " f" << p.filter_h << "x" << p.filter_w << " s" << p.stride_h << "," << p.stride_w
          << (p.padding == Padding::kSame ? " SAME" : " VALID") << " (" << name << ")";
    }
    ++cases;
  }
  EXPECT_GT(cases, 80);
}

TEST_P(OptimizedBMaxPool2DTest, RejectsBadParameters) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  BMaxPool2DParams p;
  p.in_h = p.in_w = 4;
  p.packed_channels = 1;
  p.filter_h = 0;
  EXPECT_FALSE(BMaxPool2DKernel::Create(p, GetParam()).ok());
}

INSTANTIATE_TEST_SUITE_P(Variants, OptimizedBMaxPool2DTest, ::testing::ValuesIn(AllVariants()),
                         testing::VariantName);

}  // namespace
}  // namespace xbnn::kernels::optimized

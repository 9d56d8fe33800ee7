// Optimized bitpacking (LceQuantize) against the reference, bit for bit, for every variant.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/bitpack.h"
#include "optimized_test_util.h"

namespace xbnn::kernels::optimized {
namespace {

using testing::AllVariants;
using testing::SameBytes;
using testing::SharedRunners;

class OptimizedPackTest : public ::testing::TestWithParam<Isa> {};

std::vector<float> RandomFloats(std::mt19937_64& rng, int64_t n) {
  std::vector<float> v(n);
  std::uniform_real_distribution<float> real(-2.0f, 2.0f);
  std::uniform_int_distribution<int> pick(0, 15);
  const float specials[] = {0.0f, -0.0f, std::numeric_limits<float>::quiet_NaN(),
                            -std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::denorm_min()};
  for (auto& x : v) {
    const int k = pick(rng);
    x = k < 8 ? specials[k] : real(rng);
  }
  return v;
}

TEST_P(OptimizedPackTest, FloatMatchesReference) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(11);
  for (int channels : {1, 5, 31, 32, 33, 64, 65, 96, 200, 512, 1000}) {
    for (int64_t outer : {int64_t{1}, int64_t{3}, int64_t{17}, int64_t{700}}) {
      const std::vector<float> in = RandomFloats(rng, outer * channels);
      std::vector<int32_t> expected(outer * PackedWords(channels), 0x5A5A5A5A);
      reference::PackFloat(in.data(), outer, channels, expected.data());
      PackParams params;
      params.outer = outer;
      params.channels = channels;
      auto kernel = PackKernel::Create(params, GetParam());
      ASSERT_TRUE(kernel.ok()) << kernel.status().message();
      for (auto& [name, runner] : SharedRunners().All()) {
        std::vector<int32_t> actual(expected.size(), 0x5A5A5A5A);
        (*kernel)->Run(in.data(), actual.data(), runner);
        ASSERT_TRUE(SameBytes(expected, actual))
            << "channels " << channels << " outer " << outer << " (" << name << ")";
      }
    }
  }
}

TEST_P(OptimizedPackTest, Int8MatchesReference) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(12);
  std::uniform_int_distribution<int> byte(-128, 127);
  for (int zero_point : {-128, -1, 0, 7, 127}) {
    for (int channels : {1, 31, 32, 33, 64, 65, 100, 512}) {
      for (int64_t outer : {int64_t{1}, int64_t{5}, int64_t{900}}) {
        std::vector<int8_t> in(outer * channels);
        for (auto& q : in) q = static_cast<int8_t>(byte(rng));
        std::vector<int32_t> expected(outer * PackedWords(channels), 0x5A5A5A5A);
        reference::PackInt8(in.data(), outer, channels, zero_point, expected.data());
        PackParams params;
        params.source = PackSource::kInt8;
        params.outer = outer;
        params.channels = channels;
        params.zero_point = zero_point;
        auto kernel = PackKernel::Create(params, GetParam());
        ASSERT_TRUE(kernel.ok()) << kernel.status().message();
        for (auto& [name, runner] : SharedRunners().All()) {
          std::vector<int32_t> actual(expected.size(), 0x5A5A5A5A);
          (*kernel)->Run(in.data(), actual.data(), runner);
          ASSERT_TRUE(SameBytes(expected, actual)) << "zp " << zero_point << " channels "
                                                   << channels << " outer " << outer << " ("
                                                   << name << ")";
        }
      }
    }
  }
}

TEST_P(OptimizedPackTest, RejectsBadParameters) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  PackParams params;
  params.outer = 4;
  params.channels = 0;
  auto no_channels = PackKernel::Create(params, GetParam());
  ASSERT_FALSE(no_channels.ok());
  EXPECT_NE(no_channels.status().message().find("channels"), std::string::npos);
  params.channels = 8;
  params.source = PackSource::kInt8;
  params.zero_point = 300;
  auto bad_zp = PackKernel::Create(params, GetParam());
  ASSERT_FALSE(bad_zp.ok());
  EXPECT_NE(bad_zp.status().message().find("zero point"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Variants, OptimizedPackTest, ::testing::ValuesIn(AllVariants()),
                         testing::VariantName);

}  // namespace
}  // namespace xbnn::kernels::optimized

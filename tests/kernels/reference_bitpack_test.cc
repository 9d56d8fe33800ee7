// Reference LceQuantize / LceDequantize: packing rules, round trips for every dtype and rank.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "kernels/binary/binary_ops.h"
#include "reference_test_util.h"

namespace xbnn::kernels {
namespace {

using testing::PackWith;
using testing::RandomPacked;
using testing::ToPlusMinusOne;
using testing::Words;

// Random shapes of rank 1..5, as (outer = product of leading dims, channels).
struct Shape {
  std::vector<int> dims;
  int64_t outer() const {
    int64_t o = 1;
    for (size_t i = 0; i + 1 < dims.size(); ++i) o *= dims[i];
    return o;
  }
  int channels() const { return dims.back(); }
};

std::vector<Shape> Shapes(std::mt19937_64& rng) {
  std::vector<Shape> shapes;
  for (int rank = 1; rank <= 5; ++rank) {
    for (int channels : {1, 2, 31, 32, 33, 63, 64, 65, 100, 200}) {
      Shape s;
      for (int i = 0; i + 1 < rank; ++i) s.dims.push_back(1 + static_cast<int>(rng() % 3));
      s.dims.push_back(channels);
      shapes.push_back(s);
    }
  }
  return shapes;
}

TEST(ReferenceBitpack, FloatRulesAndRoundTrip) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> uni(-2.0f, 2.0f);
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::quiet_NaN(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::denorm_min(),
                            1e-30f,
                            -1e-30f};
  for (const Shape& s : Shapes(rng)) {
    SCOPED_TRACE("rank " + std::to_string(s.dims.size()) + " channels " +
                 std::to_string(s.channels()));
    std::vector<float> values(s.outer() * s.channels());
    for (float& v : values) v = rng() % 4 == 0 ? specials[rng() % 8] : uni(rng);
    std::vector<int32_t> packed(s.outer() * Words(s.channels()), 0x77777777);
    reference::PackFloat(values.data(), s.outer(), s.channels(), packed.data());
    // Bit 1 exactly when x < 0: -0.0 and NaN are +1.
    EXPECT_EQ(packed, PackWith(values, s.outer(), s.channels(), [](float x) { return x < 0; }));

    std::vector<float> unpacked(values.size());
    reference::UnpackFloat(packed.data(), s.outer(), s.channels(), unpacked.data());
    for (size_t i = 0; i < values.size(); ++i) {
      ASSERT_EQ(unpacked[i], values[i] < 0 ? -1.0f : 1.0f) << i;
    }
    std::vector<int32_t> repacked(packed.size());
    reference::PackFloat(unpacked.data(), s.outer(), s.channels(), repacked.data());
    EXPECT_EQ(repacked, packed);
    EXPECT_EQ(unpacked, ToPlusMinusOne(packed, s.outer(), s.channels()));
  }
}

TEST(ReferenceBitpack, Int8ZeroPointRulesAndRoundTrip) {
  std::mt19937_64 rng(2);
  for (const Shape& s : Shapes(rng)) {
    for (int zp : {0, -128, 127, 5, -7, 200, -200}) {
      SCOPED_TRACE("rank " + std::to_string(s.dims.size()) + " channels " +
                   std::to_string(s.channels()) + " zero point " + std::to_string(zp));
      std::vector<int8_t> values(s.outer() * s.channels());
      for (int8_t& v : values) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
      if (!values.empty()) values[0] = static_cast<int8_t>(std::clamp(zp, -128, 127));
      std::vector<int32_t> packed(s.outer() * Words(s.channels()), -1);
      reference::PackInt8(values.data(), s.outer(), s.channels(), zp, packed.data());
      EXPECT_EQ(packed,
                PackWith(values, s.outer(), s.channels(), [zp](int8_t q) { return int{q} < zp; }));
      if (zp >= -128 && zp <= 127) {
        // Dequantize with scale 1 gives zp +- 1 (saturated), which packs back to the same bits.
        std::vector<int8_t> unpacked(values.size());
        reference::UnpackInt8(packed.data(), s.outer(), s.channels(), 1.0f, zp, unpacked.data());
        const int8_t plus = static_cast<int8_t>(std::min(127, zp + 1));
        const int8_t minus = static_cast<int8_t>(std::max(-128, zp - 1));
        const std::vector<float> pm = ToPlusMinusOne(packed, s.outer(), s.channels());
        for (size_t i = 0; i < values.size(); ++i) {
          ASSERT_EQ(unpacked[i], pm[i] > 0 ? plus : minus) << i;
        }
        if (zp > -128) {  // with zp = -128 the -1 value saturates onto the zero point
          std::vector<int32_t> repacked(packed.size());
          reference::PackInt8(unpacked.data(), s.outer(), s.channels(), zp, repacked.data());
          EXPECT_EQ(repacked, packed);
        }
      }
    }
  }
}

TEST(ReferenceBitpack, Int8ZeroPointsOutsideTheRangeGiveConstantBits) {
  std::vector<int8_t> values(33, 0);
  values[3] = -128;
  values[4] = 127;
  std::vector<int32_t> packed(2);
  reference::PackInt8(values.data(), 1, 33, 1000, packed.data());
  EXPECT_EQ(packed, (std::vector<int32_t>{-1, 1}));  // all -1, unused bits 0
  reference::PackInt8(values.data(), 1, 33, -1000, packed.data());
  EXPECT_EQ(packed, (std::vector<int32_t>{0, 0}));
}

TEST(ReferenceBitpack, BoolRoundTrip) {
  std::mt19937_64 rng(3);
  for (const Shape& s : Shapes(rng)) {
    std::vector<char> bytes(s.outer() * s.channels());
    for (char& b : bytes) b = static_cast<char>(rng() % 2);
    std::unique_ptr<bool[]> values(new bool[bytes.size() + 1]);
    for (size_t i = 0; i < bytes.size(); ++i) values[i] = bytes[i] != 0;
    std::vector<int32_t> packed(s.outer() * Words(s.channels()), 0x12345678);
    reference::PackBool(values.get(), s.outer(), s.channels(), packed.data());
    EXPECT_EQ(packed, PackWith(bytes, s.outer(), s.channels(), [](char b) { return b == 0; }));
    std::unique_ptr<bool[]> unpacked(new bool[bytes.size() + 1]);
    reference::UnpackBool(packed.data(), s.outer(), s.channels(), unpacked.get());
    for (size_t i = 0; i < bytes.size(); ++i) ASSERT_EQ(unpacked[i], bytes[i] != 0) << i;
  }
}

TEST(ReferenceBitpack, UnpackIgnoresUnusedBitsAndWritesOnlyChannels) {
  std::mt19937_64 rng(4);
  std::vector<int32_t> packed = RandomPacked(rng, 3, 64);  // read as 3 rows of 40 channels
  const std::vector<int32_t> clean = [&] {
    std::vector<int32_t> c = packed;
    for (int r = 0; r < 3; ++r) c[r * 2 + 1] &= 0xff;
    return c;
  }();
  std::vector<float> out(3 * 40 + 1, 7.0f), want(3 * 40 + 1, 7.0f);
  reference::UnpackFloat(packed.data(), 3, 40, out.data());
  reference::UnpackFloat(clean.data(), 3, 40, want.data());
  EXPECT_EQ(out, want);
  EXPECT_EQ(out.back(), 7.0f);
}

TEST(ReferenceBitpack, UnpackInt8Values) {
  // Bit 0 -> min(127, zp + round(1/scale)), bit 1 -> max(-128, zp - round(1/scale)).
  const std::vector<int32_t> packed{0x2};  // channel 0: +1, channel 1: -1
  std::vector<int8_t> out(2);
  reference::UnpackInt8(packed.data(), 1, 2, 0.5f, 0, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{2, -2}));
  // 1 / 0.4f is 2.5f in float, rounded half away from zero to 3 (not 2).
  reference::UnpackInt8(packed.data(), 1, 2, 0.4f, 10, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{13, 7}));
  reference::UnpackInt8(packed.data(), 1, 2, 1.0f / 128, 100, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{127, -28}));
  reference::UnpackInt8(packed.data(), 1, 2, 1.0f / 128, -100, out.data());
  EXPECT_EQ(out, (std::vector<int8_t>{28, -128}));
  reference::UnpackInt8(packed.data(), 1, 2, 1e-30f, 0, out.data());  // huge offset: saturates
  EXPECT_EQ(out, (std::vector<int8_t>{127, -128}));
  reference::UnpackInt8(packed.data(), 1, 2, 1000.0f, -3, out.data());  // offset 0
  EXPECT_EQ(out, (std::vector<int8_t>{-3, -3}));
}

TEST(ReferenceBitpack, Int8QuantizationCheck) {
  EXPECT_TRUE(CheckInt8Quantization(0.1f, 0).ok());
  EXPECT_TRUE(CheckInt8Quantization(1.0f, -128).ok());
  EXPECT_TRUE(CheckInt8Quantization(1.0f, 127).ok());
  for (float bad : {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity()}) {
    const Status s = CheckInt8Quantization(bad, 0);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(testing::Contains(s.message(), "scale")) << s.message();
  }
  for (int zp : {128, -129, 100000}) {
    const Status s = CheckInt8Quantization(1.0f, zp);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(testing::Contains(s.message(), "zero point")) << s.message();
    EXPECT_TRUE(testing::Contains(s.message(), std::to_string(zp))) << s.message();
  }
}

}  // namespace
}  // namespace xbnn::kernels

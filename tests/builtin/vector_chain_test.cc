// FloatRowsVector (kernels/builtin/vector_loops.h) called directly: every op kind first and as a
// step, operands along the row and splatted (one value, incl. -0.0), the operand first or second,
// rows with a stride wider than n, whole chunks of four vectors and single vectors: the AVX-512
// and the AVX2 code against TFLite's expressions element by element, with special values.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "builtin/op_test_util.h"
#include "kernels/builtin/vector_loops.h"

namespace xbnn::testing {
namespace {

using kernels::builtin::FloatBinary;
using kernels::builtin::FloatRowsVector;
using kernels::builtin::FloatStep;

float Ref(FloatBinary op, float x, float y, float lo, float hi) {
  float v = 0;
  switch (op) {
    case FloatBinary::kAdd:
      v = x + y;
      break;
    case FloatBinary::kSub:
      v = x - y;
      break;
    case FloatBinary::kMul:
      v = x * y;
      break;
    case FloatBinary::kDiv:
      v = x / y;
      break;
    case FloatBinary::kMax:
      return x > y ? x : y;
    case FloatBinary::kMin:
      return x < y ? x : y;
    case FloatBinary::kPrelu:
      return x >= 0 ? x : x * y;
  }
  return std::min(std::max(v, lo), hi);
}

bool SameFloat(float a, float b) {
  return std::memcmp(&a, &b, sizeof(float)) == 0 || (std::isnan(a) && std::isnan(b));
}

TEST(VectorChainTest, EveryOpAndOperandKindMatchesTheScalarExpressions) {
  const FloatBinary ops[] = {FloatBinary::kAdd,  FloatBinary::kSub, FloatBinary::kMul,
                             FloatBinary::kDiv,  FloatBinary::kMax, FloatBinary::kMin,
                             FloatBinary::kPrelu};
  const float specials[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, 1e-40f, 3e38f, -3e38f};
  const float lowest = std::numeric_limits<float>::lowest();
  const float highest = std::numeric_limits<float>::max();
  // 16: single vectors only on AVX-512; 80: a chunk of 4 and one; 64 (AVX-512) and 32 (AVX2):
  // rows of exactly one chunk (BinaryDenseNet's and RealToBinaryNet's 64-channel rows).
  for (int64_t n : {16, 32, 64, 80}) {
    const int64_t rows = 7, row = n + 16;  // output and operand rows wider than n
    auto with_specials = [&](std::vector<float> v, size_t first) {
      for (size_t i = first, k = 0; i < v.size(); i += 11, ++k) {
        v[i] = specials[k % std::size(specials)];
      }
      return v;
    };
    const auto a = with_specials(RandomFloats(rows * row, 701, -3, 3), 0);
    const auto full = with_specials(RandomFloats(rows * row, 702, -3, 3), 4);
    const auto per_channel = with_specials(RandomFloats(n, 703, -2, 2), 2);
    const std::vector<float> splat{-0.0f};
    for (FloatBinary first : ops) {
      // Steps: every op once, cycling through the operand kinds and orders.
      std::vector<FloatStep> steps;
      for (size_t k = 0; k < std::size(ops); ++k) {
        FloatStep st;
        st.op = ops[(k + static_cast<size_t>(first)) % std::size(ops)];
        const int kind = static_cast<int>(k % 3);
        st.k = kind == 0 ? full.data() : kind == 1 ? per_channel.data() : splat.data();
        st.s = kind == 2 ? 0 : 1;
        st.row = kind == 0 ? row : 0;
        st.k_first = k % 2 == 1;
        st.lo = k % 4 == 0 ? 0.0f : lowest;
        st.hi = k % 4 == 0 ? 6.0f : highest;
        steps.push_back(st);
      }
      // The first op's second operand per channel (first op even) or one value.
      const bool along = static_cast<int>(first) % 2 == 0;
      const float* b = along ? per_channel.data() : splat.data();
      // Five output rows; the steps' operand rows start at row 2 of `full` (k_row0).
      const int64_t out_rows = rows - 2;
      std::vector<float> want(static_cast<size_t>(rows * row), 42.0f);
      for (int64_t r = 0; r < out_rows; ++r) {
        for (int64_t i = 0; i < n; ++i) {
          float x = Ref(first, a[r * row + i], along ? b[i] : b[0], -1.0f, 1.0f);
          for (const FloatStep& st : steps) {
            const float k = st.k[(2 + r) * st.row + i * st.s];
            x = st.k_first ? Ref(st.op, k, x, st.lo, st.hi) : Ref(st.op, x, k, st.lo, st.hi);
          }
          want[r * row + i] = x;
        }
      }
      for (bool avx512 : {true, false}) {
        std::vector<float> got(want.size(), 42.0f);
        if (!FloatRowsVector(first, a.data(), 1, row, b, along ? 1 : 0, 0, -1.0f, 1.0f,
                             steps.data(), static_cast<int>(steps.size()), 2, got.data(), row,
                             out_rows, n, avx512)) {
          GTEST_SKIP() << "no AVX2 or AVX-512 on this CPU";
        }
        for (size_t i = 0; i < got.size(); ++i) {
          const bool written =
              static_cast<int64_t>(i) < out_rows * row && static_cast<int64_t>(i) % row < n;
          const float w = written ? want[i] : 42.0f;
          ASSERT_TRUE(SameFloat(got[i], w))
              << "first op " << static_cast<int>(first) << ", n " << n << ", avx512 " << avx512
              << ", element " << i << ": got " << got[i] << ", want " << w;
        }
      }
    }
  }
}

TEST(VectorChainTest, DeclinesWhatItDoesNotCover) {
  std::vector<float> a(64, 1.0f), out(64);
  FloatStep per_row_scalar{FloatBinary::kAdd, a.data(), 0, 16, false, -1, 1};
  // n not a multiple of the vector width, a scalar chain value, a value per row.
  EXPECT_FALSE(FloatRowsVector(FloatBinary::kAdd, a.data(), 1, 12, a.data(), 1, 12, -1, 1, nullptr,
                               0, 0, out.data(), 12, 2, 12));
  EXPECT_FALSE(FloatRowsVector(FloatBinary::kAdd, a.data(), 0, 16, a.data(), 1, 16, -1, 1, nullptr,
                               0, 0, out.data(), 16, 2, 16));
  EXPECT_FALSE(FloatRowsVector(FloatBinary::kAdd, a.data(), 1, 16, a.data(), 1, 16, -1, 1,
                               &per_row_scalar, 1, 0, out.data(), 16, 2, 16));
}

}  // namespace
}  // namespace xbnn::testing

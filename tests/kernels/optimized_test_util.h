// Helpers of the optimized-kernel tests: every variant this build and CPU run, thread runners, and
// random packed tensors.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/binary/optimized/isa.h"
#include "kernels/binary/optimized/task_runner.h"

namespace xbnn::kernels::optimized::testing {

// Every concrete variant; a test body calls SkipIfUnavailable first.
inline std::vector<Isa> AllVariants() { return {std::begin(kAllIsas), std::end(kAllIsas)}; }

inline std::string VariantName(const ::testing::TestParamInfo<Isa>& info) {
  return IsaName(info.param);
}

#define XBNN_SKIP_IF_UNAVAILABLE(isa)                                                      \
  do {                                                                                     \
    const std::string xbnn_reason_ = ::xbnn::kernels::optimized::IsaUnavailableReason(isa); \
    if (!xbnn_reason_.empty()) GTEST_SKIP() << IsaName(isa) << ": " << xbnn_reason_;        \
  } while (0)

// Runners for 1, 2 and 3 threads (null stands for "no runner": the calling thread).
struct Runners {
  SerialRunner serial;
  StdThreadRunner two{2};
  StdThreadRunner three{3};
  std::vector<std::pair<std::string, TaskRunner*>> All() {
    return {{"null", nullptr}, {"1 thread", &serial}, {"2 threads", &two}, {"3 threads", &three}};
  }
};

inline Runners& SharedRunners() {
  static Runners* runners = new Runners();
  return *runners;
}

// Random packed rows of `channels` bits; unused bits 0 unless `garbage`.
inline std::vector<int32_t> RandomPacked(std::mt19937_64& rng, int64_t rows, int channels,
                                         bool garbage = false) {
  const int words = (channels + 31) / 32;
  std::vector<int32_t> out(rows * words);
  for (int64_t r = 0; r < rows; ++r) {
    for (int w = 0; w < words; ++w) {
      uint32_t word = static_cast<uint32_t>(rng());
      const int used = channels - 32 * w;
      if (used < 32 && !garbage) word &= (uint32_t{1} << used) - 1;
      out[r * words + w] = static_cast<int32_t>(word);
    }
  }
  return out;
}

// Byte-wise equality with the first differing element reported.
template <typename T>
::testing::AssertionResult SameBytes(const std::vector<T>& expected, const std::vector<T>& actual) {
  if (expected.size() != actual.size()) {
    return ::testing::AssertionFailure() << "sizes differ: " << expected.size() << " vs "
                                         << actual.size();
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    if (std::memcmp(&expected[i], &actual[i], sizeof(T)) != 0) {
      return ::testing::AssertionFailure()
             << "element " << i << " of " << expected.size() << ": expected " << +expected[i]
             << ", got " << +actual[i];
    }
  }
  return ::testing::AssertionSuccess();
}

// Bit for bit, except that any NaN equals any NaN: where two NaNs meet (a NaN operand and a NaN
// value, or inf - inf), which one's payload and sign the result carries is the instruction's
// operand order, which neither C++ nor TFLite's kernels fix.
inline ::testing::AssertionResult SameValues(const std::vector<float>& want,
                                             const std::vector<float>& got) {
  if (want.size() != got.size()) return ::testing::AssertionFailure() << "sizes differ";
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i]) && std::isnan(got[i])) continue;
    if (std::memcmp(&want[i], &got[i], sizeof(float)) != 0) {
      return ::testing::AssertionFailure() << "element " << i << " of " << want.size()
                                           << ": expected " << want[i] << ", got " << got[i];
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace xbnn::kernels::optimized::testing

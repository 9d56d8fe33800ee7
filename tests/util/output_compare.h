// Comparing an interpreter output with recorded values, shared by the golden and converter tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "xbnn/tensor.h"

namespace xbnn::testing {

// "" when `got` matches `want`: float within 1e-4 of want's range, int8 within `int8_steps`,
// other types byte for byte; otherwise the first mismatch. `worst` gets the largest float error
// relative to the range (or int8 step difference).
inline std::string CompareOutput(const TensorView& got, const void* want_data, size_t want_bytes, int int8_steps,
                                 double* worst) {
  if (got.bytes() != want_bytes) {
    return "byte size " + std::to_string(got.bytes()) + " vs " + std::to_string(want_bytes);
  }
  const int64_t n = got.info().NumElements();
  if (got.type() == DataType::kFloat32) {
    const float* g = got.data<float>().data();
    const float* w = static_cast<const float*>(want_data);
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, w[i]);
      hi = std::max(hi, w[i]);
    }
    double range = std::max<double>(hi - lo, 1e-6);
    for (int64_t i = 0; i < n; ++i) {
      double rel = std::abs(static_cast<double>(g[i]) - w[i]) / range;
      *worst = std::max(*worst, rel);
      if (!(rel <= 1e-4)) {
        return "float element " + std::to_string(i) + ": " + std::to_string(g[i]) + " vs " + std::to_string(w[i]);
      }
    }
    return "";
  }
  if (got.type() == DataType::kInt8 && int8_steps > 0) {
    const int8_t* g = got.data<int8_t>().data();
    const int8_t* w = static_cast<const int8_t*>(want_data);
    for (int64_t i = 0; i < n; ++i) {
      *worst = std::max<double>(*worst, std::abs(g[i] - w[i]));
      if (std::abs(g[i] - w[i]) > int8_steps) {
        return "int8 element " + std::to_string(i) + ": " + std::to_string(g[i]) + " vs " + std::to_string(w[i]);
      }
    }
    return "";
  }
  const size_t item = n > 0 ? want_bytes / static_cast<size_t>(n) : 1;
  for (int64_t i = 0; i < n; ++i) {
    if (std::memcmp(static_cast<const uint8_t*>(got.raw()) + i * item,
                    static_cast<const uint8_t*>(want_data) + i * item, item) != 0) {
      return std::string(DataTypeName(got.type())) + " element " + std::to_string(i) + " differs";
    }
  }
  return "";
}

}  // namespace xbnn::testing

// NumPy .npy / .npz files for the command line tools and tests: little-endian, C order,
// dtypes float32, float64, int8, uint8, int16, int32, int64 and bool. .npz archives written by
// numpy.savez (stored, not compressed) are read; errors name the file and what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "xbnn/status.h"

namespace xbnn::util {

struct NpyArray {
  std::string dtype;  // numpy descr without byte order: "f4", "f8", "i1", "u1", "i2", "i4", "i8", "b1"
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // C order

  int64_t NumElements() const;
  size_t ItemSize() const;
  template <typename T>
  const T* as() const { return reinterpret_cast<const T*>(data.data()); }
};

Result<NpyArray> ParseNpy(std::span<const uint8_t> bytes, const std::string& what);
Result<NpyArray> ReadNpy(const std::string& path);
// Entries in archive order, keyed by name without ".npy".
Result<std::vector<std::pair<std::string, NpyArray>>> ReadNpz(const std::string& path);

std::vector<uint8_t> SerializeNpy(const NpyArray& a);
Status WriteNpy(const std::string& path, const NpyArray& a);

}  // namespace xbnn::util

// Typed views of interpreter tensors: shape, dtype, quantization and the data itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace xbnn {

// Values match the TFLite TensorType enum.
enum class DataType : int8_t {
  kFloat32 = 0,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kBool = 6,
  kInt16 = 7,
  kInt8 = 9,
  kOther = 127,
};

const char* DataTypeName(DataType t);
size_t DataTypeSize(DataType t);  // 0 for kOther

struct TensorInfo {
  std::string name;
  DataType type = DataType::kFloat32;
  std::vector<int32_t> shape;
  // Per-tensor affine quantization (int8 tensors); empty when absent.
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  // A bitpacked int32 tensor: its last dimension holds ceil(channels / 32) words. `channels` is the
  // unpacked count when known (from metadata or the op that consumes it), else 0.
  bool bitpacked = false;
  int32_t channels = 0;

  int64_t NumElements() const;
  size_t NumBytes() const { return static_cast<size_t>(NumElements()) * DataTypeSize(type); }
};

// A view of one tensor's memory inside an interpreter; valid as long as the interpreter.
class TensorView {
 public:
  TensorView(const TensorInfo* info, void* data) : info_(info), data_(data) {}
  const TensorInfo& info() const { return *info_; }
  DataType type() const { return info_->type; }
  const std::vector<int32_t>& shape() const { return info_->shape; }
  size_t bytes() const { return info_->NumBytes(); }
  void* raw() const { return data_; }

  // Typed access; returns an empty span when T does not match the tensor's type.
  template <typename T>
  std::span<T> data() const {
    if (!Matches<T>()) return {};
    return std::span<T>(static_cast<T*>(data_), static_cast<size_t>(info_->NumElements()));
  }

 private:
  template <typename T>
  bool Matches() const {
    using U = std::remove_const_t<T>;
    switch (info_->type) {
      case DataType::kFloat32: return std::is_same_v<U, float>;
      case DataType::kInt32: return std::is_same_v<U, int32_t>;
      case DataType::kInt8: return std::is_same_v<U, int8_t>;
      case DataType::kUInt8: return std::is_same_v<U, uint8_t>;
      case DataType::kInt16: return std::is_same_v<U, int16_t>;
      case DataType::kInt64: return std::is_same_v<U, int64_t>;
      case DataType::kBool: return std::is_same_v<U, bool>;
      default: return false;
    }
  }
  const TensorInfo* info_;
  void* data_;
};

}  // namespace xbnn

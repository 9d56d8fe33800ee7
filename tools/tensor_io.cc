#include "tensor_io.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace xbnn::tools {

const char* NpyDtypeOf(DataType t) {
  switch (t) {
    case DataType::kFloat32: return "f4";
    case DataType::kInt32: return "i4";
    case DataType::kInt8: return "i1";
    case DataType::kUInt8: return "u1";
    case DataType::kInt16: return "i2";
    case DataType::kInt64: return "i8";
    case DataType::kBool: return "b1";
    default: return nullptr;
  }
}

namespace {
std::string ShapeStr(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}
std::vector<int64_t> Shape64(const std::vector<int32_t>& s) { return std::vector<int64_t>(s.begin(), s.end()); }
}  // namespace

Status FillTensor(TensorView t, const util::NpyArray& a, const std::string& what) {
  const char* want = NpyDtypeOf(t.type());
  if (!want) return Status::Error(what + ": the model's tensor type is not supported for input files");
  if (a.dtype != want) {
    return Status::Error(what + ": dtype is " + a.dtype + ", the model wants " + DataTypeName(t.type()) + " (numpy '" +
                         want + "')");
  }
  if (a.shape != Shape64(t.shape())) {
    return Status::Error(what + ": shape is " + ShapeStr(a.shape) + ", the model wants " + ShapeStr(Shape64(t.shape())));
  }
  std::memcpy(t.raw(), a.data.data(), t.bytes());
  return Status::Ok();
}

Status FillTensorRows(TensorView t, const util::NpyArray& a, int64_t row, const std::string& what) {
  const char* want = NpyDtypeOf(t.type());
  if (!want || a.dtype != want) {
    return Status::Error(what + ": dtype is " + a.dtype + ", the model wants " + DataTypeName(t.type()));
  }
  std::vector<int64_t> s = Shape64(t.shape());
  if (s.empty() || a.shape.size() != s.size() || !std::equal(s.begin() + 1, s.end(), a.shape.begin() + 1)) {
    std::vector<int64_t> rest(s.begin() + (s.empty() ? 0 : 1), s.end());
    std::string want = rest.empty() ? "[N]" : "[N," + ShapeStr(rest).substr(1);
    return Status::Error(what + ": shape is " + ShapeStr(a.shape) + ", the model wants " + want);
  }
  if (row + s[0] > a.shape[0]) return Status::Error(what + ": not enough rows");
  size_t row_bytes = t.bytes() / static_cast<size_t>(std::max<int64_t>(s[0], 1));
  std::memcpy(t.raw(), a.data.data() + static_cast<size_t>(row) * row_bytes, t.bytes());
  return Status::Ok();
}

void FillRandom(TensorView t, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int64_t n = t.info().NumElements();
  switch (t.type()) {
    case DataType::kFloat32: {
      std::uniform_real_distribution<float> d(-1.0f, 1.0f);
      for (float& x : t.data<float>()) x = d(rng);
      break;
    }
    case DataType::kInt8:
      for (int8_t& x : t.data<int8_t>()) x = static_cast<int8_t>(rng());
      break;
    case DataType::kUInt8:
      for (uint8_t& x : t.data<uint8_t>()) x = static_cast<uint8_t>(rng());
      break;
    case DataType::kBool:
      for (bool& x : t.data<bool>()) x = (rng() & 1) != 0;
      break;
    case DataType::kInt32: {
      auto d = t.data<int32_t>();
      const TensorInfo& info = t.info();
      int words = info.shape.empty() ? 1 : info.shape.back();
      for (int64_t i = 0; i < n; ++i) {
        uint32_t w = static_cast<uint32_t>(rng());
        // Unused high bits of a bitpacked row's last word stay zero, as LCE requires.
        if (info.bitpacked && info.channels > 0 && i % words == words - 1 && info.channels % 32 != 0) {
          w &= (1u << (info.channels % 32)) - 1;
        }
        d[static_cast<size_t>(i)] = static_cast<int32_t>(w);
      }
      break;
    }
    default:
      std::memset(t.raw(), 0, t.bytes());
  }
}

util::NpyArray ToNpy(const TensorView& t) {
  util::NpyArray a;
  a.dtype = NpyDtypeOf(t.type()) ? NpyDtypeOf(t.type()) : "u1";
  a.shape = Shape64(t.shape());
  a.data.assign(static_cast<const uint8_t*>(t.raw()), static_cast<const uint8_t*>(t.raw()) + t.bytes());
  return a;
}

util::NpyArray UnpackToNpy(const TensorView& t, int channels) {
  util::NpyArray a;
  a.dtype = "f4";
  a.shape = Shape64(t.shape());
  int words = a.shape.empty() ? 0 : static_cast<int>(a.shape.back());
  if (!a.shape.empty()) a.shape.back() = channels;
  int64_t rows = words ? t.info().NumElements() / words : 0;
  a.data.resize(static_cast<size_t>(rows * channels) * 4);
  const int32_t* in = static_cast<const int32_t*>(t.raw());
  float* out = reinterpret_cast<float*>(a.data.data());
  for (int64_t r = 0; r < rows; ++r) {
    for (int c = 0; c < channels; ++c) {
      uint32_t w = static_cast<uint32_t>(in[r * words + c / 32]);
      out[r * channels + c] = ((w >> (c % 32)) & 1u) ? -1.0f : 1.0f;
    }
  }
  return a;
}

std::string Summary(const TensorView& t) {
  std::string s = std::string(DataTypeName(t.type())) + (t.info().bitpacked ? " (bitpacked)" : "") + " " +
                  ShapeStr(Shape64(t.shape()));
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  int64_t n = t.info().NumElements();
  auto acc = [&](double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  };
  switch (t.type()) {
    case DataType::kFloat32: for (float v : t.data<float>()) acc(v); break;
    case DataType::kInt8: for (int8_t v : t.data<int8_t>()) acc(v); break;
    case DataType::kUInt8: for (uint8_t v : t.data<uint8_t>()) acc(v); break;
    case DataType::kInt32:
      if (t.info().bitpacked) {
        int64_t ones = 0;
        for (int32_t v : t.data<int32_t>()) ones += __builtin_popcount(static_cast<uint32_t>(v));
        return s + " words, " + std::to_string(ones) + " bits set (-1)";
      }
      for (int32_t v : t.data<int32_t>()) acc(v);
      break;
    default: return s;
  }
  if (n == 0) return s;
  char buf[160];
  std::snprintf(buf, sizeof(buf), " min %.6g max %.6g mean %.6g", lo, hi, sum / static_cast<double>(n));
  return s + buf;
}

}  // namespace xbnn::tools

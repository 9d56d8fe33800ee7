#include <cstring>

#include "format/model_io.h"
#include "graph/graph.h"
#include "runtime/model_impl.h"
#include "xbnn/model.h"
#include "xbnn/tensor.h"

namespace xbnn {

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::span<const uint8_t> Model::bytes() const { return impl_->bytes; }

Result<std::shared_ptr<const Model>> Model::Build(std::span<const uint8_t> bytes,
                                                  std::shared_ptr<const std::vector<uint8_t>> owned) {
  auto g = format::ReadModel(bytes);
  if (!g.ok()) return g.status();
  auto impl = std::make_unique<Impl>(Impl{std::move(owned), bytes, std::move(*g)});
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

Result<std::shared_ptr<const Model>> Model::FromFile(const std::string& path) {
  auto data = format::ReadFileBytes(path);
  if (!data.ok()) return data.status();
  auto r = FromBuffer(std::move(*data));
  if (!r.ok()) return r.status().Prefixed(path + ": ");
  return r;
}

Result<std::shared_ptr<const Model>> Model::FromBytes(std::span<const uint8_t> bytes) {
  // Constant buffers are 16-byte aligned inside the flatbuffer; kernels rely on that.
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 16 != 0) {
    return FromBuffer(std::vector<uint8_t>(bytes.begin(), bytes.end()));
  }
  return Build(bytes, nullptr);
}

Result<std::shared_ptr<const Model>> Model::FromBuffer(std::vector<uint8_t> bytes) {
  auto owned = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  return Build(std::span<const uint8_t>(*owned), owned);
}

const char* DataTypeName(DataType t) { return graph::DTypeName(static_cast<graph::DType>(t)); }

size_t DataTypeSize(DataType t) {
  return t == DataType::kOther ? 0 : static_cast<size_t>(graph::DTypeSize(static_cast<graph::DType>(t)));
}

int64_t TensorInfo::NumElements() const {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

}  // namespace xbnn

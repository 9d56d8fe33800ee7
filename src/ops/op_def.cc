#include "ops/op_def.h"

namespace xbnn::ops {

const Shape* ShapeQuery::In(size_t i) const {
  if (i >= op.inputs.size() || op.inputs[i] < 0) return nullptr;
  return &shapes[static_cast<size_t>(op.inputs[i])];
}

const Values* ShapeQuery::Val(size_t i) const {
  if (i >= op.inputs.size() || op.inputs[i] < 0) return nullptr;
  const auto& v = values[static_cast<size_t>(op.inputs[i])];
  return v ? &*v : nullptr;
}

const Shape& ShapeQuery::FileShape(int32_t tensor) const {
  return subgraph.tensors[static_cast<size_t>(tensor)].shape;
}

std::string OpDef::Name() const {
  return is_custom() ? std::string(signature.custom_code) : graph::BuiltinOpName(signature.builtin);
}

}  // namespace xbnn::ops

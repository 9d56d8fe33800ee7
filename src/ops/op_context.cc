#include "ops/op_kernel.h"

namespace xbnn::runtime {

bool RuntimeTensor::PerTensorQuant(float* scale, int32_t* zero_point) const {
  const graph::Quantization* q = quant();
  if (!q || q->scale.empty()) return false;
  *scale = q->scale[0];
  *zero_point = q->zero_point.empty() ? 0 : static_cast<int32_t>(q->zero_point[0]);
  return true;
}

Status OpContext::Error(const std::string& message) const {
  return Status::Error("op " + std::to_string(op_index) + " (" + graph->OpName(*op) +
                       "): " + message);
}

Status OpContext::TakeInvokeError() {
  Status s = std::move(invoke_error);
  invoke_error = Status::Ok();
  return s;
}

std::string ShapeString(const std::vector<int32_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

Status ExpectType(const OpContext& ctx, const RuntimeTensor* t, graph::DType type,
                  const char* what) {
  if (!t) return ctx.Error(std::string(what) + " is missing");
  if (t->type() != type) {
    return ctx.Error(std::string(what) + " '" + t->desc->name + "' must be " +
                     graph::DTypeName(type) + ", found " + graph::DTypeName(t->type()));
  }
  return Status::Ok();
}

Status ExpectSameShape(const OpContext& ctx, const RuntimeTensor* a, const RuntimeTensor* b) {
  if (a->shape() != b->shape()) {
    return ctx.Error("shape mismatch: '" + a->desc->name + "' is " + ShapeString(a->shape()) +
                     " but '" + b->desc->name + "' is " + ShapeString(b->shape()));
  }
  return Status::Ok();
}

}  // namespace xbnn::runtime

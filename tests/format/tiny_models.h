// Small models built in code through the graph API, for format tests that need no fixture file.
#pragma once

#include <cstring>
#include <vector>

#include "graph/graph.h"
#include "graph/lce_options.h"

namespace xbnn::testing {

inline graph::Buffer BytesOf(const std::vector<int32_t>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return graph::Buffer::Owned(std::move(b));
}
inline graph::Buffer BytesOf(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return graph::Buffer::Owned(std::move(b));
}

// float[1,5,5,40] -> LceQuantize -> LceBconv2d 3x3 SAME(one-padded) 40->8 float -> LceBMaxPool2d
// is not legal on float, so: LceBconv2d -> float [1,5,5,8] -> ADD const -> output.
inline graph::Graph MakeTinyBconvModel() {
  graph::Graph g;
  g.buffers.push_back({});  // sentinel
  g.operator_codes = {{graph::op::kCustom, "LceQuantize", 1},
                      {graph::op::kCustom, "LceBconv2d", 1},
                      {graph::op::kAdd, "", 1}};
  graph::Subgraph sg;
  sg.name = "main";
  auto add_tensor = [&](const char* name, graph::DType t, std::vector<int32_t> shape, uint32_t buffer = 0) {
    graph::Tensor x;
    x.name = name;
    x.type = t;
    x.shape = std::move(shape);
    x.buffer = buffer;
    sg.tensors.push_back(x);
    return static_cast<int32_t>(sg.tensors.size() - 1);
  };
  auto add_buffer = [&](graph::Buffer b) {
    g.buffers.push_back(std::move(b));
    return static_cast<uint32_t>(g.buffers.size() - 1);
  };
  int32_t in = add_tensor("input", graph::DType::kFloat32, {1, 5, 5, 40});
  int32_t packed = add_tensor("packed", graph::DType::kInt32, {1, 5, 5, 2});
  std::vector<int32_t> filter(8 * 3 * 3 * 2);
  for (size_t i = 0; i < filter.size(); ++i) filter[i] = static_cast<int32_t>(i * 2654435761u);
  for (size_t i = 1; i < filter.size(); i += 2) filter[i] &= 0xff;  // channels 40..63 unused: 0
  int32_t w = add_tensor("filter", graph::DType::kInt32, {8, 3, 3, 2}, add_buffer(BytesOf(filter)));
  int32_t mul = add_tensor("multiplier", graph::DType::kFloat32, {8},
                           add_buffer(BytesOf(std::vector<float>{1, -1, 0.5f, 2, 1, 1, 1, 0.25f})));
  int32_t bias = add_tensor("bias", graph::DType::kFloat32, {8},
                            add_buffer(BytesOf(std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7})));
  int32_t conv = add_tensor("conv", graph::DType::kFloat32, {1, 5, 5, 8});
  int32_t addc = add_tensor("addend", graph::DType::kFloat32, {8},
                            add_buffer(BytesOf(std::vector<float>{1, 1, 1, 1, 1, 1, 1, 1})));
  int32_t out = add_tensor("output", graph::DType::kFloat32, {1, 5, 5, 8});
  sg.inputs = {in};
  sg.outputs = {out};
  graph::Operator q;
  q.opcode_index = 0;
  q.inputs = {in};
  q.outputs = {packed};
  graph::Operator c;
  c.opcode_index = 1;
  c.inputs = {packed, w, mul, bias, -1};
  c.outputs = {conv};
  graph::LceBconv2dOptions o;
  o.channels_in = 40;
  o.padding = 0;
  o.pad_values = 1;
  graph::SetLceOptions(c, o);
  graph::Operator a;
  a.opcode_index = 2;
  a.inputs = {conv, addc};
  a.outputs = {out};
  a.builtin_options.type = 11;  // AddOptions
  a.builtin_options.Set("fused_activation_function", int64_t{1});
  a.builtin_options.Set("pot_scale_int16", int64_t{1});
  sg.operators = {q, c, a};
  g.subgraphs.push_back(std::move(sg));
  g.signature_defs.push_back({{{"input", 0}}, {{"output", static_cast<uint32_t>(out)}}, "serving_default", 0});
  g.metadata.push_back({"min_runtime_version", add_buffer(graph::Buffer::Owned({'1', '.', '0', 0}))});
  return g;
}

}  // namespace xbnn::testing

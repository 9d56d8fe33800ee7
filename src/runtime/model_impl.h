// The library-side definition of xbnn::Model: the parsed graph behind the public handle.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "graph/graph.h"
#include "xbnn/model.h"

namespace xbnn {

struct Model::Impl {
  std::shared_ptr<const std::vector<uint8_t>> owned;  // null when the caller keeps the bytes
  std::span<const uint8_t> bytes;
  graph::Graph graph;
};

namespace runtime {
inline const graph::Graph& ModelGraph(const Model& m) { return m.impl().graph; }
}  // namespace runtime

}  // namespace xbnn

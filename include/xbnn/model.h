// A loaded, validated model. Immutable and shareable: several interpreters (in several threads)
// may run one Model at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "xbnn/status.h"

namespace xbnn {
namespace graph {
struct Graph;
}

class Model {
 public:
  // Reads and validates a .tflite file.
  static Result<std::shared_ptr<const Model>> FromFile(const std::string& path);
  // Uses `bytes` in place when they are 16-byte aligned (the caller keeps them alive for the
  // Model's lifetime); copies them otherwise.
  static Result<std::shared_ptr<const Model>> FromBytes(std::span<const uint8_t> bytes);
  // Copies `bytes`.
  static Result<std::shared_ptr<const Model>> FromBuffer(std::vector<uint8_t> bytes);

  ~Model();
  const graph::Graph& graph() const { return *graph_; }
  std::span<const uint8_t> bytes() const { return bytes_; }

 private:
  Model() = default;
  static Result<std::shared_ptr<const Model>> Build(std::span<const uint8_t> bytes,
                                                    std::shared_ptr<const std::vector<uint8_t>> owned);
  std::shared_ptr<const std::vector<uint8_t>> owned_;
  std::span<const uint8_t> bytes_;
  std::unique_ptr<graph::Graph> graph_;
};

}  // namespace xbnn

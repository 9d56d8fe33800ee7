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
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // The model file's bytes (valid for the Model's lifetime).
  std::span<const uint8_t> bytes() const;

  // The engine's view of the model; defined in the library only, so this header exposes no
  // internal type.
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  static Result<std::shared_ptr<const Model>> Build(std::span<const uint8_t> bytes,
                                                    std::shared_ptr<const std::vector<uint8_t>> owned);
  std::unique_ptr<Impl> impl_;
};

}  // namespace xbnn

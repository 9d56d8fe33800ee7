// A structure-aware mutator for .tflite models: it edits the fields that carry meaning (tensor
// shapes and types, buffer and tensor indices including -1, opcode indices and codes, builtin
// option fields and union types, quantization, LCE FlexBuffer option values, buffer sizes) of a
// model it can parse, instead of flipping bytes that the flatbuffer verifier would mostly refuse.
// Shared by the libFuzzer targets (LLVMFuzzerCustomMutator), the mutate_model tool and the tests.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace xbnn::fuzz {

// Applies 1..3 random edits to `g`; returns a short description of the last edit.
std::string MutateGraph(graph::Graph& g, std::mt19937& rng);

// Parses `bytes` without validating, edits it, writes it without validating. Empty when the bytes
// do not parse as a flatbuffer model or the edited graph cannot be written.
std::vector<uint8_t> MutateModelBytes(std::span<const uint8_t> bytes, uint32_t seed,
                                      std::string* what = nullptr);

// One mutant per (op, required input slot) with that input set to -1 (absent): the rewritten
// model bytes and a label "op 3 (LceBconv2d) input 1".
struct Mutant {
  std::string label;
  std::vector<uint8_t> bytes;
};
std::vector<Mutant> AbsentInputMutants(std::span<const uint8_t> bytes);

}  // namespace xbnn::fuzz

// The bodies of the fuzz targets, callable from the libFuzzer entry points and from the unit tests
// that replay tests/fuzz/regressions. Each returns normally for any input (a model or a clean
// error) and aborts with a message when an invariant breaks.
#pragma once

#include <cstdint>
#include <span>

namespace xbnn::fuzz {

// Read, cost, write, read back to an equal graph.
void ReaderCase(std::span<const uint8_t> bytes);
// Load, prepare within a small memory budget, fill the inputs, invoke (when the work is small).
void InvokeCase(std::span<const uint8_t> bytes);
// strip-dequantize, set-io-type and convert on the parsed (unvalidated) graph: each must refuse
// an invalid graph, and what they return must write and read back.
void PassesCase(std::span<const uint8_t> bytes);

// The activation memory budget of InvokeCase.
inline constexpr size_t kFuzzArenaBytes = size_t{4} << 20;

}  // namespace xbnn::fuzz

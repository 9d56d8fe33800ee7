// TFLite's parsed builtin parameters (TfLiteNode::builtin_data) back to xbnn's builtin options.
#pragma once

#include <cstdint>

#include "graph/graph.h"
#include "xbnn/status.h"

namespace xbnn::tflite_delegate {

// True for the builtin ops whose parameters the delegate can translate; the others stay with
// TFLite even when xbnn has a kernel for them.
bool CanTranslateOptions(int32_t builtin_code);

// Fills `out` (union type and fields) from `builtin_data`, which TFLite parsed for an op of
// `builtin_code`. Fails for parameter values the flatbuffer options cannot express.
Status TranslateOptions(int32_t builtin_code, const void* builtin_data, graph::BuiltinOptions* out);

}  // namespace xbnn::tflite_delegate

// Internal to the format layer: the validation that ReadModel shares with ValidateGraph.
#pragma once

#include "format/model_io.h"

namespace xbnn::format::internal {

// ValidateGraph. options_from_reader: ReadLceOptions has just parsed the LCE options from the
// graph's bytes, so only the ops it left without are parsed again (for the message).
Status ValidateGraph(const graph::Graph& g, const ReadLimits& limits, bool options_from_reader);

}  // namespace xbnn::format::internal

// Builtin operator options, read and written generically by field id.
// Each modeled option table is described once (field names, types, defaults in TFLite's field
// order); the reader, writer, inspector and kernels all use the names.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "graph/graph.h"

namespace xbnn::format {

enum class FieldKind : uint8_t { kBool, kInt8, kInt32, kUInt32, kInt64, kFloat32, kInt32Vector };

struct OptionField {
  const char* name;
  FieldKind kind;
  double default_value;
};

struct OptionTableSpec {
  uint8_t union_type;
  const char* table_name;
  std::span<const OptionField> fields;  // index = field id
};

// Spec for a BuiltinOptions union type, or null when xbnn does not model it.
const OptionTableSpec* FindOptionSpec(uint8_t union_type);

}  // namespace xbnn::format

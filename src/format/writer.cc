// Graph -> flatbuffer, in the layout TFLite and LCE read (buffers 16-byte aligned, buffer 0 the
// empty sentinel, builtin codes above 127 written through the extended field).
#include <flatbuffers/flatbuffers.h>

#include "format/builtin_options.h"
#include "format/model_io.h"
#include "tflite_subset_generated.h"

namespace xbnn::format {
namespace {

namespace t = ::xbnn::tfl;
namespace fb = ::flatbuffers;

Result<fb::Offset<void>> WriteOptions(fb::FlatBufferBuilder& fbb, const graph::BuiltinOptions& o) {
  if (o.type == 0) return fb::Offset<void>();
  const OptionTableSpec* spec = FindOptionSpec(o.type);
  if (!spec) {
    if (o.unmodeled) {
      return Status::Error("builtin options of union type " + std::to_string(o.type) +
                           " are not modeled by xbnn and cannot be written back");
    }
    return fb::Offset<void>(fbb.EndTable(fbb.StartTable()));  // an empty table, as it was
  }
  // Vectors first: a table under construction cannot contain nested creations.
  std::vector<fb::uoffset_t> vec_offsets(spec->fields.size(), 0);
  for (size_t i = 0; i < spec->fields.size(); ++i) {
    if (spec->fields[i].kind != FieldKind::kInt32Vector) continue;
    if (const std::vector<int32_t>* v = o.GetInts(spec->fields[i].name)) {
      vec_offsets[i] = fbb.CreateVector(*v).o;
    }
  }
  fb::uoffset_t start = fbb.StartTable();
  for (size_t i = 0; i < spec->fields.size(); ++i) {
    const OptionField& f = spec->fields[i];
    auto vo = static_cast<fb::voffset_t>(4 + 2 * i);
    switch (f.kind) {
      case FieldKind::kBool:
        fbb.AddElement<uint8_t>(vo, static_cast<uint8_t>(o.GetInt(f.name, static_cast<int64_t>(f.default_value)) != 0),
                                static_cast<uint8_t>(f.default_value));
        break;
      case FieldKind::kInt8:
        fbb.AddElement<int8_t>(vo, static_cast<int8_t>(o.GetInt(f.name, static_cast<int64_t>(f.default_value))),
                               static_cast<int8_t>(f.default_value));
        break;
      case FieldKind::kInt32:
        fbb.AddElement<int32_t>(vo, static_cast<int32_t>(o.GetInt(f.name, static_cast<int64_t>(f.default_value))),
                                static_cast<int32_t>(f.default_value));
        break;
      case FieldKind::kUInt32:
        fbb.AddElement<uint32_t>(vo, static_cast<uint32_t>(o.GetInt(f.name, static_cast<int64_t>(f.default_value))),
                                 static_cast<uint32_t>(f.default_value));
        break;
      case FieldKind::kInt64:
        fbb.AddElement<int64_t>(vo, o.GetInt(f.name, static_cast<int64_t>(f.default_value)),
                                static_cast<int64_t>(f.default_value));
        break;
      case FieldKind::kFloat32:
        fbb.AddElement<float>(vo, static_cast<float>(o.GetFloat(f.name, f.default_value)),
                              static_cast<float>(f.default_value));
        break;
      case FieldKind::kInt32Vector:
        if (vec_offsets[i]) fbb.AddOffset(vo, fb::Offset<void>(vec_offsets[i]));
        break;
    }
  }
  return fb::Offset<void>(fbb.EndTable(start));
}

template <typename T>
fb::Offset<fb::Vector<T>> VecOrNull(fb::FlatBufferBuilder& fbb, const std::vector<T>& v) {
  return v.empty() ? 0 : fbb.CreateVector(v);
}

}  // namespace

Result<std::vector<uint8_t>> WriteModel(const graph::Graph& g) {
  XBNN_RETURN_IF_ERROR(ValidateGraph(g));
  return WriteModelUnvalidated(g);
}

Result<std::vector<uint8_t>> WriteModelUnvalidated(const graph::Graph& g) {
  fb::FlatBufferBuilder fbb(1 << 16);

  std::vector<fb::Offset<t::Buffer>> buffers;
  for (const graph::Buffer& b : g.buffers) {
    auto bytes = b.bytes();
    fb::Offset<fb::Vector<uint8_t>> data = 0;
    if (!bytes.empty()) {
      fbb.ForceVectorAlignment(bytes.size(), sizeof(uint8_t), 16);
      data = fbb.CreateVector(bytes.data(), bytes.size());
    }
    buffers.push_back(t::CreateBuffer(fbb, data));
  }

  std::vector<fb::Offset<t::OperatorCode>> codes;
  for (const graph::OperatorCode& c : g.operator_codes) {
    auto custom = c.custom_code.empty() ? 0 : fbb.CreateString(c.custom_code);
    auto deprecated = static_cast<int8_t>(std::min<int32_t>(c.builtin, 127));
    codes.push_back(t::CreateOperatorCode(fbb, deprecated, custom, c.version, c.builtin));
  }

  std::vector<fb::Offset<t::SubGraph>> subgraphs;
  for (size_t si = 0; si < g.subgraphs.size(); ++si) {
    const graph::Subgraph& sg = g.subgraphs[si];
    std::vector<fb::Offset<t::Tensor>> tensors;
    for (const graph::Tensor& tensor : sg.tensors) {
      fb::Offset<t::QuantizationParameters> quant = 0;
      if (tensor.quantization) {
        const graph::Quantization& q = *tensor.quantization;
        quant = t::CreateQuantizationParameters(fbb, VecOrNull(fbb, q.min), VecOrNull(fbb, q.max),
                                                VecOrNull(fbb, q.scale), VecOrNull(fbb, q.zero_point),
                                                t::QuantizationDetails_NONE, 0, q.quantized_dimension);
      }
      auto shape = fbb.CreateVector(tensor.shape);
      auto name = fbb.CreateString(tensor.name);
      auto signature = VecOrNull(fbb, tensor.shape_signature);
      tensors.push_back(t::CreateTensor(fbb, shape, static_cast<t::TensorType>(tensor.type), tensor.buffer, name,
                                        quant, tensor.is_variable, 0, signature, tensor.has_rank));
    }
    std::vector<fb::Offset<t::Operator>> ops;
    for (size_t oi = 0; oi < sg.operators.size(); ++oi) {
      const graph::Operator& op = sg.operators[oi];
      auto options = WriteOptions(fbb, op.builtin_options);
      if (!options.ok()) {
        return options.status().Prefixed("op " + std::to_string(oi) + " (" + g.OpName(op) + "): ");
      }
      auto inputs = fbb.CreateVector(op.inputs);
      auto outputs = fbb.CreateVector(op.outputs);
      auto custom = op.custom_options.empty() ? 0 : fbb.CreateVector(op.custom_options);
      fb::Offset<fb::Vector<uint8_t>> mutating = 0;
      if (!op.mutating_variable_inputs.empty()) {
        std::vector<uint8_t> m(op.mutating_variable_inputs.begin(), op.mutating_variable_inputs.end());
        mutating = fbb.CreateVector(m);
      }
      auto intermediates = VecOrNull(fbb, op.intermediates);
      ops.push_back(t::CreateOperator(fbb, op.opcode_index, inputs, outputs,
                                      static_cast<t::BuiltinOptions>(op.builtin_options.type), *options, custom,
                                      t::CustomOptionsFormat_FLEXBUFFERS, mutating, intermediates));
    }
    auto tv = fbb.CreateVector(tensors);
    auto in = fbb.CreateVector(sg.inputs);
    auto out = fbb.CreateVector(sg.outputs);
    auto ov = fbb.CreateVector(ops);
    auto name = sg.name.empty() ? 0 : fbb.CreateString(sg.name);
    subgraphs.push_back(t::CreateSubGraph(fbb, tv, in, out, ov, name));
  }

  std::vector<fb::Offset<t::Metadata>> metadata;
  for (const graph::Metadata& m : g.metadata) {
    metadata.push_back(t::CreateMetadata(fbb, fbb.CreateString(m.name), m.buffer));
  }
  std::vector<fb::Offset<t::SignatureDef>> sigs;
  for (const graph::SignatureDef& s : g.signature_defs) {
    auto maps = [&](const std::vector<graph::TensorMap>& list) {
      std::vector<fb::Offset<t::TensorMap>> v;
      for (const graph::TensorMap& m : list) v.push_back(t::CreateTensorMap(fbb, fbb.CreateString(m.name), m.tensor_index));
      return fbb.CreateVector(v);
    };
    auto in = maps(s.inputs);
    auto out = maps(s.outputs);
    auto key = fbb.CreateString(s.signature_key);
    sigs.push_back(t::CreateSignatureDef(fbb, in, out, key, s.subgraph_index));
  }

  auto description = g.description.empty() ? 0 : fbb.CreateString(g.description);
  auto model = t::CreateModel(fbb, g.version, fbb.CreateVector(codes), fbb.CreateVector(subgraphs), description,
                              fbb.CreateVector(buffers), VecOrNull(fbb, g.metadata_buffer),
                              metadata.empty() ? 0 : fbb.CreateVector(metadata),
                              sigs.empty() ? 0 : fbb.CreateVector(sigs));
  t::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace xbnn::format

// Flatbuffer -> graph. Nothing here trusts the file: the flatbuffers verifier runs first, option
// tables are verified field by field, and ValidateGraph checks meaning before anyone allocates.
#include <fcntl.h>
#include <flatbuffers/flatbuffers.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "format/builtin_options.h"
#include "format/model_io.h"
#include "format/read_internal.h"
#include "tflite_subset_generated.h"

namespace xbnn::format {
namespace {

namespace t = ::xbnn::tfl;
using graph::Graph;

template <typename T>
std::vector<T> ToVector(const flatbuffers::Vector<T>* v) {
  if (!v) return {};
  return std::vector<T>(v->begin(), v->end());
}

// 8-byte vector elements are only 4-byte aligned in some (hostile) files: copy them bytewise.
std::vector<int64_t> ToVector64(const flatbuffers::Vector<int64_t>* v) {
  if (!v) return {};
  std::vector<int64_t> out(v->size());
  if (!out.empty()) std::memcpy(out.data(), v->Data(), out.size() * sizeof(int64_t));
  return out;
}

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

// Reads one option table generically. Fields are verified against the buffer before reading.
Status ReadBuiltinOptions(flatbuffers::Verifier& verifier, uint8_t type,
                          const flatbuffers::Table* table, graph::BuiltinOptions* out) {
  out->type = type;
  if (type == 0) return Status::Ok();
  const OptionTableSpec* spec = FindOptionSpec(type);
  if (!table) {
    // A union type without its table reads as the defaults, which is what TFLite assumes too.
    if (spec) {
      for (const OptionField& f : spec->fields) {
        if (f.kind == FieldKind::kInt32Vector) continue;
        if (f.kind == FieldKind::kFloat32) {
          out->fields.emplace_back(f.name, f.default_value);
        } else {
          out->fields.emplace_back(f.name, static_cast<int64_t>(f.default_value));
        }
      }
    }
    return Status::Ok();
  }
  if (!spec) {
    // The generated verifier skips union types it does not know, so check the table header and
    // vtable before looking at them.
    if (!verifier.VerifyTableStart(reinterpret_cast<const uint8_t*>(table)) || !verifier.EndTable()) {
      return Status::Error("builtin options table of union type " + std::to_string(type) + " is malformed");
    }
    // Unknown table: remember whether it carries any field, since writing it back would lose it.
    const uint8_t* vtable = table->GetVTable();
    auto vsize = flatbuffers::ReadScalar<flatbuffers::voffset_t>(vtable);
    for (flatbuffers::voffset_t vo = 4; vo < vsize; vo += 2) {
      if (table->GetOptionalFieldOffset(vo)) out->unmodeled = true;
    }
    return Status::Ok();
  }
  for (size_t i = 0; i < spec->fields.size(); ++i) {
    const OptionField& f = spec->fields[i];
    auto vo = static_cast<flatbuffers::voffset_t>(4 + 2 * i);
    bool present = table->GetOptionalFieldOffset(vo) != 0;
    auto bad = [&]() {
      return Status::Error(std::string(spec->table_name) + "." + f.name + " is malformed");
    };
    graph::OptionValue value;
    switch (f.kind) {
      case FieldKind::kBool:
      case FieldKind::kInt8:
        if (!table->VerifyField<int8_t>(verifier, vo, 1)) return bad();
        // Bools are normalized to 0/1 (any non-zero byte is true), so they write back equal.
        value = f.kind == FieldKind::kBool
                    ? static_cast<int64_t>(table->GetField<uint8_t>(vo, static_cast<uint8_t>(f.default_value)) != 0)
                    : static_cast<int64_t>(table->GetField<int8_t>(vo, static_cast<int8_t>(f.default_value)));
        break;
      case FieldKind::kInt32:
        if (!table->VerifyField<int32_t>(verifier, vo, 4)) return bad();
        value = static_cast<int64_t>(table->GetField<int32_t>(vo, static_cast<int32_t>(f.default_value)));
        break;
      case FieldKind::kUInt32:
        if (!table->VerifyField<uint32_t>(verifier, vo, 4)) return bad();
        value = static_cast<int64_t>(table->GetField<uint32_t>(vo, static_cast<uint32_t>(f.default_value)));
        break;
      case FieldKind::kInt64:
        if (!table->VerifyField<int64_t>(verifier, vo, 8)) return bad();
        value = table->GetField<int64_t>(vo, static_cast<int64_t>(f.default_value));
        break;
      case FieldKind::kFloat32:
        if (!table->VerifyField<float>(verifier, vo, 4)) return bad();
        value = static_cast<double>(table->GetField<float>(vo, static_cast<float>(f.default_value)));
        break;
      case FieldKind::kInt32Vector: {
        if (!table->VerifyOffset(verifier, vo)) return bad();
        auto* vec = table->GetPointer<const flatbuffers::Vector<int32_t>*>(vo);
        if (!verifier.VerifyVector(vec)) return bad();
        if (!present) continue;  // absent vectors stay absent (they have no default)
        value = ToVector(vec);
        break;
      }
    }
    // Keep every modeled scalar (with its default when absent) so kernels and passes see values.
    out->fields.emplace_back(f.name, std::move(value));
  }
  return Status::Ok();
}

Result<graph::Quantization> ReadQuantization(const t::QuantizationParameters* q) {
  graph::Quantization out;
  out.min = ToVector(q->min());
  out.max = ToVector(q->max());
  out.scale = ToVector(q->scale());
  out.zero_point = ToVector64(q->zero_point());
  out.quantized_dimension = q->quantized_dimension();
  if (q->details_type() != t::QuantizationDetails_NONE) {
    return Status::Error("custom quantization details are not supported");
  }
  return out;
}

Result<graph::Tensor> ReadTensor(const t::Tensor* tt, const std::string& where, size_t ti) {
  graph::Tensor tensor;
  tensor.name = Str(tt->name());
  int8_t type = tt->type();
  if (type < 0 || type > static_cast<int8_t>(graph::DType::kInt4)) {
    return Status::Error(where + "tensor " + std::to_string(ti) + " '" + tensor.name +
                         "' has unknown type " + std::to_string(type));
  }
  tensor.type = static_cast<graph::DType>(type);
  tensor.shape = ToVector(tt->shape());
  tensor.shape_signature = ToVector(tt->shape_signature());
  tensor.buffer = tt->buffer();
  tensor.is_variable = tt->is_variable();
  tensor.has_rank = tt->has_rank();
  if (tt->sparsity()) {
    return Status::Error(where + "tensor " + std::to_string(ti) + " '" + tensor.name +
                         "' is sparse; sparse tensors are not supported");
  }
  if (tt->variant_tensors() && tt->variant_tensors()->size() > 0) {
    return Status::Error(where + "tensor " + std::to_string(ti) + " '" + tensor.name +
                         "' has variant subtypes, which are not supported");
  }
  if (const t::QuantizationParameters* q = tt->quantization()) {
    auto quant = ReadQuantization(q);
    if (!quant.ok()) {
      return quant.status().Prefixed(where + "tensor " + std::to_string(ti) + " '" + tensor.name +
                                     "': ");
    }
    tensor.quantization = std::move(*quant);
  }
  return tensor;
}

Result<graph::Operator> ReadOperator(flatbuffers::Verifier& verifier, const t::Operator* o,
                                     const std::string& where, size_t oi) {
  graph::Operator op;
  op.opcode_index = o->opcode_index();
  op.inputs = ToVector(o->inputs());
  op.outputs = ToVector(o->outputs());
  op.intermediates = ToVector(o->intermediates());
  if (auto* m = o->mutating_variable_inputs()) {
    for (auto v : *m) op.mutating_variable_inputs.push_back(v != 0);
  }
  if (o->custom_options()) op.custom_options = ToVector(o->custom_options());
  if (o->large_custom_options_offset() > 1 || o->large_custom_options_size() > 0) {
    return Status::Error(where + "op " + std::to_string(oi) +
                         " stores custom options outside the flatbuffer (not supported)");
  }
  // builtin_options_2 (type at field id 11, voffset 26) carries StableHLO options xbnn
  // never runs; remember it so the writer refuses instead of dropping it.
  auto* tbl = reinterpret_cast<const flatbuffers::Table*>(o);
  if (!tbl->VerifyField<uint8_t>(verifier, 26, 1)) {
    return Status::Error(where + "op " + std::to_string(oi) + ": malformed builtin_options_2");
  }
  if (tbl->GetField<uint8_t>(26, 0) != 0) {
    op.builtin_options.unmodeled = true;
  }
  Status s = ReadBuiltinOptions(verifier, o->builtin_options_type(),
                                static_cast<const flatbuffers::Table*>(o->builtin_options()),
                                &op.builtin_options);
  if (!s.ok()) return s.Prefixed(where + "op " + std::to_string(oi) + ": ");
  return op;
}

Result<graph::Subgraph> ReadSubgraph(flatbuffers::Verifier& verifier, const t::SubGraph* sg,
                                     size_t si) {
  graph::Subgraph out;
  out.name = Str(sg->name());
  out.inputs = ToVector(sg->inputs());
  out.outputs = ToVector(sg->outputs());
  std::string where = "subgraph " + std::to_string(si) + ": ";
  if (auto* tensors = sg->tensors()) {
    for (size_t ti = 0; ti < tensors->size(); ++ti) {
      auto tensor = ReadTensor(tensors->Get(ti), where, ti);
      if (!tensor.ok()) return tensor.status();
      out.tensors.push_back(std::move(*tensor));
    }
  }
  if (auto* ops = sg->operators()) {
    for (size_t oi = 0; oi < ops->size(); ++oi) {
      auto op = ReadOperator(verifier, ops->Get(oi), where, oi);
      if (!op.ok()) return op.status();
      out.operators.push_back(std::move(*op));
    }
  }
  return out;
}

// Everything but the subgraphs: operator codes, buffers, metadata, signatures.
Status ReadModelTables(const t::Model* model, Graph& g) {
  g.version = model->version();
  g.description = Str(model->description());
  g.metadata_buffer = ToVector(model->metadata_buffer());

  if (auto* codes = model->operator_codes()) {
    for (const t::OperatorCode* c : *codes) {
      graph::OperatorCode oc;
      oc.builtin = std::max<int32_t>(c->deprecated_builtin_code(), c->builtin_code());
      oc.custom_code = Str(c->custom_code());
      oc.version = c->version();
      g.operator_codes.push_back(std::move(oc));
    }
  }

  if (auto* buffers = model->buffers()) {
    for (size_t i = 0; i < buffers->size(); ++i) {
      const t::Buffer* b = buffers->Get(i);
      if (b->offset() > 1 || b->size() > 0) {
        return Status::Error("buffer " + std::to_string(i) +
                             " is stored outside the flatbuffer (models over 2 GiB are not supported)");
      }
      graph::Buffer gb;
      if (b->data()) gb.view = std::span<const uint8_t>(b->data()->data(), b->data()->size());
      g.buffers.push_back(std::move(gb));
    }
  }

  if (auto* md = model->metadata()) {
    for (const t::Metadata* m : *md) g.metadata.push_back({Str(m->name()), m->buffer()});
  }
  if (auto* sigs = model->signature_defs()) {
    for (const t::SignatureDef* s : *sigs) {
      graph::SignatureDef sd;
      sd.signature_key = Str(s->signature_key());
      sd.subgraph_index = s->subgraph_index();
      if (s->inputs()) {
        for (const t::TensorMap* m : *s->inputs()) sd.inputs.push_back({Str(m->name()), m->tensor_index()});
      }
      if (s->outputs()) {
        for (const t::TensorMap* m : *s->outputs()) sd.outputs.push_back({Str(m->name()), m->tensor_index()});
      }
      g.signature_defs.push_back(std::move(sd));
    }
  }
  return Status::Ok();
}

}  // namespace

void ReadLceOptions(Graph& g, const ReadLimits& limits) {
  if (!limits.op_signatures) return;
  for (graph::Subgraph& sg : g.subgraphs) {
    for (graph::Operator& op : sg.operators) {
      if (op.opcode_index >= g.operator_codes.size()) continue;
      const graph::OpSignature* sig = limits.op_signatures(g.CodeOf(op));
      if (!sig || sig->lce_options == graph::LceOptionsKind::kNone) continue;
      auto parsed = graph::ParseLceOptions(sig->lce_options, op.custom_options);
      op.lce_options = parsed.ok() ? std::move(*parsed) : graph::LceOptions();
    }
  }
}

Result<graph::Graph> ReadModelUnvalidated(std::span<const uint8_t> bytes,
                                          const ReadLimits& limits) {
  if (bytes.empty()) return Status::Error("model is empty (0 bytes)");
  if (static_cast<int64_t>(bytes.size()) > limits.max_file_bytes) {
    return Status::Error("model is too large: " + std::to_string(bytes.size()) + " bytes");
  }
  if (bytes.size() < 8) {
    return Status::Error("model is too small to be a TFLite flatbuffer (" +
                         std::to_string(bytes.size()) + " bytes)");
  }
  if (!flatbuffers::BufferHasIdentifier(bytes.data(), t::ModelIdentifier())) {
    std::string id(reinterpret_cast<const char*>(bytes.data()) + 4, 4);
    for (char& c : id) {
      if (c < 32 || c > 126) c = '?';
    }
    return Status::Error("not a TFLite model: file identifier is '" + id + "', expected 'TFL3'");
  }
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), /*max_depth=*/64,
                                 /*max_tables=*/10'000'000);
  if (!t::VerifyModelBuffer(verifier)) {
    return Status::Error("model flatbuffer failed verification (truncated or corrupted file)");
  }
  const t::Model* model = t::GetModel(bytes.data());

  Graph g;
  XBNN_RETURN_IF_ERROR(ReadModelTables(model, g));
  if (auto* subgraphs = model->subgraphs()) {
    for (size_t si = 0; si < subgraphs->size(); ++si) {
      auto sg = ReadSubgraph(verifier, subgraphs->Get(si), si);
      if (!sg.ok()) return sg.status();
      g.subgraphs.push_back(std::move(*sg));
    }
  }
  // Once, here: every later stage reads the parsed options.
  ReadLceOptions(g, limits);
  return g;
}

Result<graph::Graph> ReadModel(std::span<const uint8_t> bytes, const ReadLimits& limits) {
  auto g = ReadModelUnvalidated(bytes, limits);
  if (!g.ok()) return g.status();
  XBNN_RETURN_IF_ERROR(internal::ValidateGraph(*g, limits, /*options_from_reader=*/true));
  return g;
}

Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path, int64_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Error("cannot open '" + path + "': " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return Status::Error("'" + path + "' is a directory, not a file");
  if (!S_ISREG(st.st_mode)) return Status::Error("'" + path + "' is not a regular file");
  if (st.st_size > max_bytes) {
    return Status::Error("'" + path + "' is too large (" + std::to_string(st.st_size) + " bytes)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("cannot open '" + path + "': " + std::strerror(errno));
  std::vector<uint8_t> data(static_cast<size_t>(st.st_size));
  if (!data.empty() && !in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()))) {
    return Status::Error("cannot read '" + path + "'");
  }
  return data;
}

Status WriteFileBytes(const std::string& path, std::span<const uint8_t> bytes) {
  // Written beside `path` under a new name, then renamed over it, so that a failed write leaves
  // any earlier file whole. O_EXCL: the temporary never replaces a file that exists (another
  // tool's, or this one's input), and the umask applies as to any new file.
  std::random_device rd;
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    char suffix[40];
    std::snprintf(suffix, sizeof suffix, ".tmp-xbnn-%ld-%08x", static_cast<long>(::getpid()), rd());
    tmp = path + suffix;
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return Status::Error("cannot write '" + path + "': " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::Error("cannot write '" + path + "': " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Status::Error("cannot write '" + path + "': " + std::strerror(err));
  }
  return Status::Ok();
}

Result<ModelFile> LoadModelFile(const std::string& path, const ReadLimits& limits) {
  auto data = ReadFileBytes(path, limits.max_file_bytes);
  if (!data.ok()) return data.status();
  auto bytes = std::make_shared<const std::vector<uint8_t>>(std::move(*data));
  auto g = ReadModel(*bytes, limits);
  if (!g.ok()) return g.status().Prefixed(path + ": ");
  return ModelFile{std::move(bytes), std::move(*g)};
}

}  // namespace xbnn::format

// `xbnn inspect MODEL [--json]`: what a model holds and what it costs.
#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "format/model_io.h"
#include "graph/cost.h"
#include "graph/lce_options.h"
#include "json.h"
#include "ops/registry.h"
#include "runtime/shape_inference.h"

namespace xbnn::tools {
namespace {

using graph::Graph;
using graph::Operator;
using graph::Subgraph;
using graph::Tensor;

constexpr const char* kHelp =
    "usage: xbnn inspect MODEL.tflite [--json] [--input-shape S]...\n\n"
    "Shows the model's subgraphs, inputs and outputs (name, dtype, shape, quantization), an op\n"
    "table with shapes and key options, binary and float/int8 MACs per op and in total,\n"
    "parameter bytes and the activation memory of a naive lifetime plan.\n\n"
    "options:\n"
    "  --json            print the same information as one JSON document\n"
    "  --input-shape S   shapes, MACs and memory with input 0 at shape S, e.g. 1x320x320x3, as\n"
    "                    run --input-shape would run it; repeat for the next input\n"
    "  -h, --help        show this help\n";

std::string ShapeStr(const std::vector<int32_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

const char* PaddingName(int64_t p) { return p == 0 ? "SAME" : p == 1 ? "VALID" : "INVALID"; }
const char* ActivationName(int64_t a) {
  switch (a) {
    case 0: return "NONE";
    case 1: return "RELU";
    case 2: return "RELU_N1_TO_1";
    case 3: return "RELU6";
    case 4: return "TANH";
    case 5: return "SIGN_BIT";
  }
  return "INVALID";
}

struct OptionItem {
  std::string key;
  std::string text;            // for the table
  bool is_int = false;
  int64_t value = 0;
  std::vector<int64_t> pair;   // [height, width] items: an array in --json
};

// "2 words of 64 channels": the word count and the most channels they hold.
std::string BitpackedKind(int32_t words) {
  return "int32 bitpacked (" + std::to_string(words) + (words == 1 ? " word" : " words") + ", up to " +
         std::to_string(32 * static_cast<int64_t>(words)) + " channels)";
}

std::vector<OptionItem> KeyOptions(const Graph& g, const Subgraph& sg, const Operator& op) {
  std::vector<OptionItem> items;
  auto add_int = [&](const std::string& k, int64_t v) { items.push_back({k, std::to_string(v), true, v, {}}); };
  auto add_text = [&](const std::string& k, const std::string& v) { items.push_back({k, v, false, 0, {}}); };
  auto add_pair = [&](const std::string& k, int64_t h, int64_t w) {
    items.push_back({k, std::to_string(h) + "x" + std::to_string(w), false, 0, {h, w}});
  };
  if (g.IsCustom(op, graph::kLceBconv2d)) {
    const auto* o = std::get_if<graph::LceBconv2dOptions>(&op.lce_options);
    if (!o) return items;
    add_int("channels_in", o->channels_in);
    add_pair("stride", o->stride_height, o->stride_width);
    add_text("padding", PaddingName(o->padding));
    add_int("pad_values", o->pad_values);
    add_pair("dilation", o->dilation_height_factor, o->dilation_width_factor);
    add_text("activation", ActivationName(o->fused_activation_function));
    if (op.inputs.size() > 1 && op.inputs[0] >= 0 && op.inputs[1] >= 0) {
      const Tensor& in = sg.tensors[op.inputs[0]];
      const Tensor& f = sg.tensors[op.inputs[1]];
      if (in.shape.size() == 4 && f.shape.size() == 4 && f.shape[3] > 0) {
        add_int("groups", in.shape[3] / f.shape[3]);
        add_pair("kernel", f.shape[1], f.shape[2]);
      }
    }
    if (!op.outputs.empty()) {
      graph::DType t = sg.tensors[op.outputs[0]].type;
      add_text("output", t == graph::DType::kInt32 ? "bitpacked" : graph::DTypeName(t));
    }
    return items;
  }
  if (g.IsCustom(op, graph::kLceBMaxPool2d)) {
    const auto* o = std::get_if<graph::LceBMaxPool2dOptions>(&op.lce_options);
    if (!o) return items;
    add_pair("filter", o->filter_height, o->filter_width);
    add_pair("stride", o->stride_height, o->stride_width);
    add_text("padding", PaddingName(o->padding));
    return items;
  }
  const graph::BuiltinOptions& b = op.builtin_options;
  for (const auto& [name, value] : b.fields) {
    if (name.starts_with("_")) continue;
    if (const int64_t* v = std::get_if<int64_t>(&value)) {
      if (name == "padding") {
        add_text(name, PaddingName(*v));
      } else if (name == "fused_activation_function") {
        add_text("activation", ActivationName(*v));
      } else {
        add_int(name, *v);
      }
    } else if (const double* d = std::get_if<double>(&value)) {
      std::ostringstream s;
      s << *d;
      add_text(name, s.str());
    } else if (const auto* vec = std::get_if<std::vector<int32_t>>(&value)) {
      add_text(name, ShapeStr(*vec));
    }
  }
  return items;
}

std::string QuantStr(const Tensor& t) {
  if (!t.quantization || t.quantization->scale.empty()) return "";
  const graph::Quantization& q = *t.quantization;
  std::ostringstream s;
  if (q.scale.size() == 1) {
    s << "scale=" << q.scale[0] << " zero_point=" << (q.zero_point.empty() ? 0 : q.zero_point[0]);
  } else {
    s << "per-channel(" << q.scale.size() << ", dim " << q.quantized_dimension << ")";
  }
  return s.str();
}

void TensorJson(JsonWriter& j, const Graph& g, const Subgraph& sg, int32_t idx) {
  j.BeginObject().Key("index").Int(idx);
  if (idx < 0) {
    j.EndObject();
    return;
  }
  const Tensor& t = sg.tensors[idx];
  j.Key("name").String(t.name).Key("dtype").String(graph::DTypeName(t.type)).Key("shape").IntArray(t.shape);
  if (graph::IsBitpackedTensor(g, sg, idx)) j.Key("bitpacked").Bool(true);
  if (t.quantization && !t.quantization->scale.empty()) {
    j.Key("quantization").BeginObject().Key("scale").BeginArray();
    for (float s : t.quantization->scale) j.Double(s);
    j.EndArray().Key("zero_point").IntArray(t.quantization->zero_point);
    j.Key("quantized_dimension").Int(t.quantization->quantized_dimension).EndObject();
  }
  j.Key("constant").Bool(graph::IsConstantTensor(g, sg, idx)).EndObject();
}

std::string TensorBrief(const Graph& g, const Subgraph& sg, int32_t idx) {
  if (idx < 0) return "-";
  const Tensor& t = sg.tensors[idx];
  std::string s = "t" + std::to_string(idx) + ":" + (graph::IsBitpackedTensor(g, sg, idx) ? "bitpacked" : graph::DTypeName(t.type)) +
                  ShapeStr(t.shape);
  if (graph::IsConstantTensor(g, sg, idx)) s += "(const)";
  return s;
}

std::string Human(int64_t v) {
  char buf[32];
  if (v >= 1000000000) {
    std::snprintf(buf, sizeof(buf), "%.3gG", v / 1e9);
  } else if (v >= 1000000) {
    std::snprintf(buf, sizeof(buf), "%.3gM", v / 1e6);
  } else if (v >= 1000) {
    std::snprintf(buf, sizeof(buf), "%.3gk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
  }
  return buf;
}

}  // namespace

int InspectMain(const std::vector<std::string>& args) {
  if (WantsHelp(args)) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  std::string path;
  bool json = false;
  std::vector<std::vector<int32_t>> input_shapes;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--input-shape") {
      std::vector<int32_t> shape;
      if (i + 1 >= args.size() || !ParseShape(args[++i], &shape)) {
        return Fail("inspect", kInputShapeError);
      }
      input_shapes.push_back(std::move(shape));
    } else if (a.starts_with("-")) {
      return Fail("inspect", "unknown option '" + a + "' (see --help)");
    } else if (path.empty()) {
      path = a;
    } else {
      return Fail("inspect", "more than one model given ('" + path + "', '" + a + "')");
    }
  }
  if (path.empty()) return Fail("inspect", "no model given (usage: xbnn inspect MODEL.tflite [--json])");
  auto model = format::LoadModelFile(path);
  if (!model.ok()) return Fail("inspect", model.status().message());
  if (!input_shapes.empty()) {
    // The shapes an interpreter would run at: inferred op by op from the given input shapes.
    Graph& mg = model->graph;
    if (mg.subgraphs.empty()) return Fail("inspect", "the model has no subgraph");
    runtime::InferredShapes inferred;
    const Status s = runtime::InferShapes(mg, mg.subgraphs[0], &inferred, &input_shapes);
    if (!s.ok()) return Fail("inspect", s.message());
    for (size_t t = 0; t < mg.subgraphs[0].tensors.size(); ++t)
      mg.subgraphs[0].tensors[t].shape = inferred.shapes[t];
  }
  const Graph& g = model->graph;

  JsonWriter j;
  j.BeginObject().Key("model").String(path).Key("file_bytes").Int(static_cast<int64_t>(model->bytes->size()));
  j.Key("schema_version").Int(g.version).Key("description").String(g.description);
  j.Key("subgraphs").BeginArray();
  std::string text;
  char line[512];
  std::snprintf(line, sizeof(line), "model: %s (%zu bytes, schema v%u%s%s)\n", path.c_str(), model->bytes->size(),
                g.version, g.description.empty() ? "" : ", ", g.description.c_str());
  text += line;

  int64_t total_b = 0, total_f = 0, total_i8 = 0;
  for (size_t si = 0; si < g.subgraphs.size(); ++si) {
    const Subgraph& sg = g.subgraphs[si];
    graph::ActivationStats act = graph::NaiveActivationStats(g, sg);
    int64_t params = graph::ParameterBytes(g, sg);
    std::snprintf(line, sizeof(line), "\nsubgraph %zu '%s': %zu tensors, %zu ops\n", si, sg.name.c_str(),
                  sg.tensors.size(), sg.operators.size());
    text += line;
    j.BeginObject().Key("index").Int(static_cast<int64_t>(si)).Key("name").String(sg.name);
    j.Key("num_tensors").Int(static_cast<int64_t>(sg.tensors.size()));
    // The name column is as wide as the longest input/output name, so long names keep it aligned.
    int name_width = 4;
    for (const auto* list : {&sg.inputs, &sg.outputs}) {
      for (int32_t t : *list) name_width = std::max(name_width, static_cast<int>(sg.tensors[t].name.size()));
    }
    for (int io = 0; io < 2; ++io) {
      const auto& list = io == 0 ? sg.inputs : sg.outputs;
      text += io == 0 ? "inputs:\n" : "outputs:\n";
      j.Key(io == 0 ? "inputs" : "outputs").BeginArray();
      for (int32_t t : list) {
        const Tensor& tensor = sg.tensors[t];
        std::string kind = graph::IsBitpackedTensor(g, sg, t)
                               ? BitpackedKind(tensor.shape.empty() ? 0 : tensor.shape.back())
                               : graph::DTypeName(tensor.type);
        std::snprintf(line, sizeof(line), "  t%-4d ", t);
        text += line;
        text += tensor.name + std::string(static_cast<size_t>(name_width) - tensor.name.size() + 1, ' ');
        std::snprintf(line, sizeof(line), "%-10s %-18s %s\n", kind.c_str(), ShapeStr(tensor.shape).c_str(),
                      QuantStr(tensor).c_str());
        text += line;
        TensorJson(j, g, sg, t);
      }
      j.EndArray();
    }
    text += "ops:\n";
    std::snprintf(line, sizeof(line), "  %-4s %-22s %-10s %-10s %-10s %s\n", "#", "op", "bin MACs", "float MACs",
                  "int8 MACs", "inputs -> outputs; options");
    text += line;
    j.Key("ops").BeginArray();
    std::map<std::string, int> counts;
    std::vector<std::pair<size_t, std::string>> unsupported_ops;  // op index, why `run` refuses it
    int64_t sb = 0, sf = 0, si8 = 0;
    for (size_t oi = 0; oi < sg.operators.size(); ++oi) {
      const Operator& op = sg.operators[oi];
      std::string name = g.OpName(op);
      counts[name]++;
      std::string unsupported;
      if (!ops::FindKernel(g.CodeOf(op), &unsupported))
        unsupported_ops.push_back({oi, unsupported});
      ops::OpCost c = ops::EstimateOpCost(g, sg, op);
      sb += c.binary_macs;
      sf += c.float_macs;
      si8 += c.int8_macs;
      std::string io;
      for (size_t k = 0; k < op.inputs.size(); ++k) io += (k ? ", " : "") + TensorBrief(g, sg, op.inputs[k]);
      io += " -> ";
      for (size_t k = 0; k < op.outputs.size(); ++k) io += (k ? ", " : "") + TensorBrief(g, sg, op.outputs[k]);
      std::vector<OptionItem> opts = KeyOptions(g, sg, op);
      std::string ot;
      for (const OptionItem& it : opts) ot += " " + it.key + "=" + it.text;
      std::snprintf(line, sizeof(line), "  %-4zu %-22s %-10s %-10s %-10s ", oi, name.c_str(),
                    c.binary_macs ? Human(c.binary_macs).c_str() : "-", c.float_macs ? Human(c.float_macs).c_str() : "-",
                    c.int8_macs ? Human(c.int8_macs).c_str() : "-");
      text += line + io + (ot.empty() ? "" : ";" + ot) + (unsupported.empty() ? "" : "  [NOT SUPPORTED]") + "\n";

      j.BeginObject().Key("index").Int(static_cast<int64_t>(oi)).Key("op").String(name);
      j.Key("version").Int(g.CodeOf(op).version).Key("supported").Bool(unsupported.empty());
      if (!unsupported.empty()) j.Key("unsupported_reason").String(unsupported);
      j.Key("inputs").BeginArray();
      for (int32_t t : op.inputs) TensorJson(j, g, sg, t);
      j.EndArray().Key("outputs").BeginArray();
      for (int32_t t : op.outputs) TensorJson(j, g, sg, t);
      j.EndArray().Key("options").BeginObject();
      for (const OptionItem& it : opts) {
        j.Key(it.key);
        if (it.is_int) {
          j.Int(it.value);
        } else if (!it.pair.empty()) {
          j.IntArray(it.pair);
        } else {
          j.String(it.text);
        }
      }
      j.EndObject().Key("binary_macs").Int(c.binary_macs).Key("float_macs").Int(c.float_macs);
      j.Key("int8_macs").Int(c.int8_macs).EndObject();
    }
    j.EndArray();
    total_b += sb;
    total_f += sf;
    total_i8 += si8;
    j.Key("op_counts").BeginObject();
    text += "op counts:";
    for (const auto& [n, k] : counts) {
      j.Key(n).Int(k);
      text += " " + n + "=" + std::to_string(k);
    }
    j.EndObject();
    text += "\n";
    for (const auto& [index, why] : unsupported_ops) {
      text += "not supported: op " + std::to_string(index) + ": " + why + " (xbnn run refuses this model)\n";
    }
    j.Key("binary_macs").Int(sb).Key("float_macs").Int(sf).Key("int8_macs").Int(si8);
    j.Key("parameter_bytes").Int(params);
    j.Key("activation_bytes_total").Int(act.total_bytes).Key("activation_bytes_peak_naive").Int(act.peak_bytes);
    j.EndObject();
    std::snprintf(line, sizeof(line),
                  "MACs: %lld binary, %lld float, %lld int8\nparameters: %lld bytes\n"
                  "activations: %lld bytes peak (naive lifetime plan), %lld bytes if none shared\n",
                  static_cast<long long>(sb), static_cast<long long>(sf), static_cast<long long>(si8),
                  static_cast<long long>(params), static_cast<long long>(act.peak_bytes),
                  static_cast<long long>(act.total_bytes));
    text += line;
  }
  j.EndArray();
  j.Key("binary_macs").Int(total_b).Key("float_macs").Int(total_f).Key("int8_macs").Int(total_i8);
  j.Key("signature_defs").BeginArray();
  for (const graph::SignatureDef& s : g.signature_defs) j.String(s.signature_key);
  j.EndArray().Key("metadata").BeginArray();
  for (const graph::Metadata& m : g.metadata) j.String(m.name);
  j.EndArray().EndObject();
  if (json) {
    std::printf("%s\n", j.str().c_str());
  } else {
    std::fputs(text.c_str(), stdout);
  }
  return 0;
}

}  // namespace xbnn::tools

#include "fuzz_cases.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "format/model_io.h"
#include "graph/cost.h"
#include "ops/registry.h"
#include "passes/convert.h"
#include "passes/io_passes.h"
#include "xbnn/interpreter.h"
#include "xbnn/model.h"

namespace xbnn::fuzz {
namespace {

[[noreturn]] void Die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz invariant broken: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Inputs with both signs and zeros; bools only 0 or 1 (other bytes are not valid bools).
void FillInputs(Interpreter& it) {
  uint32_t state = 12345;
  for (size_t i = 0; i < it.num_inputs(); ++i) {
    TensorView v = it.input(i);
    auto* p = static_cast<uint8_t*>(v.raw());
    if (v.type() == DataType::kFloat32) {
      for (float& x : v.data<float>()) {
        state = state * 1664525u + 1013904223u;
        x = static_cast<float>(static_cast<int32_t>(state >> 8) % 2001 - 1000) / 100.0f;
      }
    } else if (v.type() == DataType::kBool) {
      for (size_t k = 0; k < v.bytes(); ++k) p[k] = static_cast<uint8_t>((k * 7 + 3) % 5 < 2);
    } else {
      for (size_t k = 0; k < v.bytes(); ++k) {
        state = state * 1664525u + 1013904223u;
        p[k] = static_cast<uint8_t>(state >> 24);
      }
    }
  }
}

// A bound on the work of one invoke, so that the fuzzer spends its time on many small models
// rather than on one legal but long computation.
double InvokeWork(const Interpreter& it) {
  double work = 0;
  for (const OpProfile& p : it.op_profile()) {
    double out = 1;
    for (int32_t d : p.output_shape) out *= d;
    work += out + static_cast<double>(p.binary_macs) / 64 + static_cast<double>(p.float_macs) +
            static_cast<double>(p.int8_macs);
  }
  return work;
}

bool HasUnmodeledOptions(const graph::Graph& g) {
  for (const graph::Subgraph& sg : g.subgraphs) {
    for (const graph::Operator& op : sg.operators) {
      if (op.builtin_options.unmodeled) return true;
    }
  }
  return false;
}

// A pass's result must be a model xbnn writes and reads back.
void MustReload(const graph::Graph& g, const char* pass) {
  auto w = format::WriteModel(g);
  if (!w.ok()) Die(pass, "the result does not write: " + w.status().message());
  auto again = format::ReadModel(*w);
  if (!again.ok()) Die(pass, "the result does not read back: " + again.status().message());
}

}  // namespace

void ReaderCase(std::span<const uint8_t> data) {
  std::vector<uint8_t> bytes(data.begin(), data.end());  // aligned, as the file loader's
  auto g = format::ReadModel(bytes);
  if (!g.ok()) return;
  for (const auto& sg : g->subgraphs) {
    for (const auto& op : sg.operators) (void)ops::EstimateOpCost(*g, sg, op);
    (void)graph::NaiveActivationStats(*g, sg);
    (void)graph::ParameterBytes(*g, sg);
  }
  auto written = format::WriteModel(*g);
  if (!written.ok()) return;  // e.g. unmodeled options: refused, not lost
  auto again = format::ReadModel(*written);
  std::string diff;
  if (!again.ok()) Die("round trip", again.status().message());
  if (!graph::GraphsEqual(*g, *again, &diff)) Die("round trip", "graphs differ in " + diff);
}

void InvokeCase(std::span<const uint8_t> data) {
  auto model = Model::FromBuffer(std::vector<uint8_t>(data.begin(), data.end()));
  if (!model.ok()) return;
  InterpreterOptions options;
  options.max_arena_bytes = kFuzzArenaBytes;
  options.profile = true;  // so that op_profile() has the costs
  options.use_reference_kernels = !data.empty() && (data.back() & 1) != 0;
  // The opt-in float precisions too (their kernels: bf16 products, Winograd stems).
  const int precision = data.empty() ? 0 : (data.back() >> 1) & 3;
  if (precision == 1) options.float_precision = FloatPrecision::kBFloat16;
  if (precision == 2) options.float_precision = FloatPrecision::kFloat32Winograd;
  auto it = Interpreter::Create(*model, options);
  if (!it.ok()) return;
  if ((*it)->memory().arena_bytes > kFuzzArenaBytes)
    Die("budget", "arena over the limit was allocated");
  if (InvokeWork(**it) > 2e7) return;
  FillInputs(**it);
  // Invoke fails only where input values are invalid (GATHER's indices out of range); with the
  // integer inputs zeroed (index 0) the same model runs its copy path too.
  auto value_error = [](const Status& st) {
    return st.message().find("is outside [0, ") != std::string::npos;
  };
  Status s = (*it)->Invoke();
  if (!s.ok()) {
    if (!value_error(s)) Die("invoke", s.message());
    for (size_t i = 0; i < (*it)->num_inputs(); ++i) {
      TensorView v = (*it)->input(i);
      if (v.type() != DataType::kFloat32) std::memset(v.raw(), 0, v.bytes());
    }
    s = (*it)->Invoke();
    if (!s.ok() && !value_error(s)) Die("invoke", s.message());
  }
}

void PassesCase(std::span<const uint8_t> data) {
  auto g = format::ReadModelUnvalidated(data);
  if (!g.ok()) return;
  const bool valid = format::ValidateGraph(*g).ok();
  const bool writable = valid && !HasUnmodeledOptions(*g);
  auto check = [&](const Status& s, const graph::Graph& result, const char* pass) {
    if (!s.ok()) return;
    if (!valid) Die(pass, "accepted a graph that does not validate");
    if (writable) MustReload(result, pass);
  };
  {
    graph::Graph c = *g;
    check(passes::StripLceDequantize(c), c, "strip-dequantize");
  }
  for (auto [in, out] : {std::pair{graph::DType::kInt8, graph::DType::kFloat32},
                         std::pair{graph::DType::kFloat32, graph::DType::kInt8},
                         std::pair{graph::DType::kInt8, graph::DType::kInt8}}) {
    graph::Graph c = *g;
    check(passes::SetIoTypes(c, in, out), c, "set-io-type");
  }
  {
    graph::Graph c = *g;
    check(passes::ConvertToLce(c), c, "convert");
  }
  // The byte-level entry points (those of the CLI and Python) read and write themselves.
  auto stripped = passes::StripLceDequantizeOps(data);
  if (stripped.ok() && !format::ReadModel(*stripped).ok())
    Die("strip bytes", "result does not read back");
  auto io =
      passes::ModifyIntegerQuantizedModelIoType(data, graph::DType::kInt8, graph::DType::kInt8);
  if (io.ok() && !format::ReadModel(*io).ok())
    Die("set-io-type bytes", "result does not read back");
}

}  // namespace xbnn::fuzz

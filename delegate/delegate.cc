// The TfLiteDelegate: picks the nodes xbnn runs (Prepare), and the delegate kernel that runs one
// partition of them on an xbnn Interpreter (init / prepare / invoke / free).
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "partition.h"
#include "tensorflow/lite/builtin_ops.h"
#include "tensorflow/lite/core/c/common.h"
#include "xbnn/interpreter.h"
#include "xbnn_tflite_delegate.h"

namespace xbnn::tflite_delegate {
namespace {

constexpr int kMaxThreads = 1024;

// The xbnn graph of a set of nodes, with the interpreter that runs it.
struct Built {
  std::vector<int> nodes;
  PartitionIo io;
  std::shared_ptr<const Model> model;  // built once; a resize only makes a new interpreter
  std::unique_ptr<Interpreter> interpreter;
};

struct Delegate {
  TfLiteDelegate base{};  // TFLite hands this address back; data_ points at the Delegate
  tflite::DelegateOptions options;
  int claimed_nodes = 0;
  int partitions = 0;
  // The model Prepare built to check the claimed nodes; the kernel of the same nodes takes it
  // instead of building it again.
  std::unique_ptr<Built> pending;
};

TfLiteStatus DelegatePrepare(TfLiteContext* ctx, TfLiteDelegate* base);

// Our Delegate, or null for another library's delegate (its Prepare is not ours).
Delegate* FromBase(const TfLiteDelegate* d) {
  return d && d->Prepare == DelegatePrepare ? static_cast<Delegate*>(d->data_) : nullptr;
}

void Report(TfLiteContext* ctx, const std::string& message) {
  ctx->ReportError(ctx, "xbnn delegate: %s", message.c_str());
}

std::vector<int> ToVector(const TfLiteIntArray* a) {
  return a && a->size > 0 ? std::vector<int>(a->data, a->data + a->size) : std::vector<int>();
}

// A TfLiteIntArray over caller-owned storage ({size, data...}), for arguments TFLite copies.
struct IntArray {
  explicit IntArray(const std::vector<int>& v) : storage(v.size() + 1) {
    storage[0] = static_cast<int>(v.size());
    std::copy(v.begin(), v.end(), storage.begin() + 1);
  }
  TfLiteIntArray* get() { return reinterpret_cast<TfLiteIntArray*>(storage.data()); }
  std::vector<int> storage;
};

int ThreadsFor(const Delegate& d, const TfLiteContext* ctx) {
  if (d.options.num_threads > 0) return d.options.num_threads;
  return ctx->recommended_num_threads > 0 ? std::min(ctx->recommended_num_threads, kMaxThreads) : 1;
}

std::vector<int> Dims(const TfLiteTensor& t) { return ToVector(t.dims); }

std::vector<std::vector<int>> InputDims(TfLiteContext* ctx, const PartitionIo& io) {
  std::vector<std::vector<int>> dims;
  for (int ti : io.inputs) dims.push_back(Dims(ctx->tensors[ti]));
  return dims;
}

// An interpreter for `model` at the TFLite inputs' current shapes.
Result<std::unique_ptr<Interpreter>> NewInterpreter(TfLiteContext* ctx, const Delegate& d,
                                                    std::shared_ptr<const Model> model,
                                                    const PartitionIo& io) {
  InterpreterOptions options;
  options.num_threads = ThreadsFor(d, ctx);
  options.use_reference_kernels = d.options.use_reference_kernels;
  for (const std::vector<int>& dims : InputDims(ctx, io)) {
    options.input_shapes.emplace_back(dims.begin(), dims.end());
  }
  return Interpreter::Create(std::move(model), options);
}

Result<std::unique_ptr<Built>> Build(TfLiteContext* ctx, const Delegate& d, std::vector<int> nodes,
                                     PartitionIo io) {
  auto g = BuildGraph(ctx, nodes, io);
  if (!g.ok()) return g.status();
  auto model = ModelOf(*g, InputDims(ctx, io));
  if (!model.ok()) return model.status();
  auto interpreter = NewInterpreter(ctx, d, *model, io);
  if (!interpreter.ok()) return interpreter.status();
  auto built = std::make_unique<Built>();
  built->nodes = std::move(nodes);
  built->io = std::move(io);
  built->model = std::move(*model);
  built->interpreter = std::move(*interpreter);
  return built;
}

bool IsLceNode(TfLiteContext* ctx, int node_index) {
  TfLiteNode* node = nullptr;
  TfLiteRegistration* reg = nullptr;
  if (ctx->GetNodeAndRegistration(ctx, node_index, &node, &reg) != kTfLiteOk || !reg) return false;
  return reg->builtin_code == kTfLiteBuiltinCustom && reg->custom_name &&
         std::strncmp(reg->custom_name, "Lce", 3) == 0;
}

// ---- the delegate kernel: one partition on one xbnn Interpreter ----

struct Kernel {
  Delegate* delegate = nullptr;
  std::unique_ptr<Built> built;
  std::vector<std::vector<int>> built_input_dims;  // TFLite's input shapes it was built for
  std::string error;                               // why init could not build it
};

bool SameSet(std::vector<int> a, std::vector<int> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

// Node information is only available here (and in the delegate's Prepare), so the graph is built
// now; KernelPrepare rebuilds only the interpreter when the app resizes an input.
void* KernelInit(TfLiteContext* ctx, const char* buffer, size_t) {
  const auto* params = reinterpret_cast<const TfLiteDelegateParams*>(buffer);
  auto* k = new (std::nothrow) Kernel();
  if (!k) return nullptr;
  k->delegate = FromBase(params->delegate);
  if (!k->delegate) return k;
  std::vector<int> nodes = ToVector(params->nodes_to_replace);
  PartitionIo io;
  for (int ti : ToVector(params->input_tensors)) {
    const TfLiteTensor& t = ctx->tensors[ti];
    if (!(t.allocation_type == kTfLiteMmapRo && t.data.raw)) io.inputs.push_back(ti);
  }
  io.outputs = ToVector(params->output_tensors);
  k->delegate->partitions++;
  std::unique_ptr<Built>& pending = k->delegate->pending;
  if (pending && pending->nodes == nodes && SameSet(pending->io.inputs, io.inputs) &&
      SameSet(pending->io.outputs, io.outputs)) {
    k->built = std::move(pending);
  } else {
    auto built = Build(ctx, *k->delegate, nodes, io);
    if (built.ok()) {
      k->built = std::move(*built);
    } else {
      k->error = "cannot run the partition of " +
                 NodeName(ctx, nodes.empty() ? -1 : nodes.front()) + ": " +
                 built.status().message();
    }
  }
  if (k->built) k->built_input_dims = InputDims(ctx, k->built->io);
  return k;
}

void KernelFree(TfLiteContext*, void* buffer) { delete static_cast<Kernel*>(buffer); }

// Gives a TFLite tensor the shape xbnn computed (TFLite takes ownership of the array).
TfLiteStatus SetShape(TfLiteContext* ctx, TfLiteTensor* t, const std::vector<int32_t>& shape) {
  if (Dims(*t) == std::vector<int>(shape.begin(), shape.end())) return kTfLiteOk;
  auto* a = static_cast<TfLiteIntArray*>(std::malloc(sizeof(int) * (shape.size() + 1)));
  if (!a) return kTfLiteError;
  a->size = static_cast<int>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) a->data[i] = shape[i];
  return ctx->ResizeTensor(ctx, t, a);
}

TfLiteStatus KernelPrepare(TfLiteContext* ctx, TfLiteNode* node) {
  auto* k = static_cast<Kernel*>(node->user_data);
  if (!k || !k->built) {
    Report(ctx, k && !k->error.empty() ? k->error : "kernel was not initialized");
    return kTfLiteError;
  }
  Built& b = *k->built;
  std::vector<std::vector<int>> dims = InputDims(ctx, b.io);
  if (dims != k->built_input_dims) {  // the app resized an input
    auto interpreter = NewInterpreter(ctx, *k->delegate, b.model, b.io);
    if (!interpreter.ok()) {
      Report(ctx,
             "cannot run the partition at the new input shapes: " + interpreter.status().message());
      return kTfLiteError;
    }
    b.interpreter = std::move(*interpreter);
    k->built_input_dims = std::move(dims);
  }
  for (size_t i = 0; i < b.io.outputs.size(); ++i) {
    TfLiteTensor* t = &ctx->tensors[b.io.outputs[i]];
    if (SetShape(ctx, t, b.interpreter->output_info(i).shape) != kTfLiteOk) {
      Report(ctx, "cannot resize output tensor " + std::to_string(b.io.outputs[i]));
      return kTfLiteError;
    }
  }
  return kTfLiteOk;
}

TfLiteStatus KernelInvoke(TfLiteContext* ctx, TfLiteNode* node) {
  auto* k = static_cast<Kernel*>(node->user_data);
  if (!k || !k->built) return kTfLiteError;  // Prepare failed and said why
  Interpreter& interp = *k->built->interpreter;
  const PartitionIo& io = k->built->io;
  for (size_t i = 0; i < io.inputs.size(); ++i) {
    const TfLiteTensor& t = ctx->tensors[io.inputs[i]];
    TensorView v = interp.input(i);
    // (TFLite gives a tensor of zero elements no memory.)
    if ((t.bytes != 0 && !t.data.raw) || t.bytes != v.bytes()) {
      Report(ctx, "input tensor " + std::to_string(io.inputs[i]) + " has " +
                      std::to_string(t.bytes) + " bytes, xbnn expects " +
                      std::to_string(v.bytes()));
      return kTfLiteError;
    }
    if (v.bytes() != 0) std::memcpy(v.raw(), t.data.raw, v.bytes());
  }
  Status s = interp.Invoke();
  if (!s.ok()) {
    Report(ctx, s.message());
    return kTfLiteError;
  }
  for (size_t i = 0; i < io.outputs.size(); ++i) {
    TfLiteTensor& t = ctx->tensors[io.outputs[i]];
    TensorView v = interp.output(i);
    if ((t.bytes != 0 && !t.data.raw) || t.bytes != v.bytes()) {
      Report(ctx, "output tensor " + std::to_string(io.outputs[i]) + " has " +
                      std::to_string(t.bytes) + " bytes, xbnn produced " +
                      std::to_string(v.bytes()));
      return kTfLiteError;
    }
    if (v.bytes() != 0) std::memcpy(t.data.raw, v.raw(), v.bytes());
  }
  return kTfLiteOk;
}

// ---- choosing the nodes ----

// The candidates that pass xbnn's static checks; an Lce* node that fails is an error.
Result<std::vector<int>> Candidates(TfLiteContext* ctx, const Delegate& d,
                                    const std::vector<int>& plan) {
  std::vector<int> out;
  for (int n : plan) {
    bool lce = IsLceNode(ctx, n);
    if (!lce && !d.options.claim_all) continue;
    std::string why = WhyNotSupported(ctx, n);
    if (why.empty()) {
      out.push_back(n);
    } else if (lce) {
      return Status::Error(NodeName(ctx, n) + " is not supported: " + why);
    }
  }
  return out;
}

// Builds the model of all candidates; where that fails, drops the non-LCE nodes that xbnn cannot
// run on their own (an Lce* node that fails is an error) and builds the rest.
Result<std::unique_ptr<Built>> BuildClaimed(TfLiteContext* ctx, const Delegate& d,
                                            const std::vector<int>& plan, std::vector<int> nodes) {
  auto all = Build(ctx, d, nodes, SubsetIo(ctx, plan, nodes));
  if (all.ok()) return all;
  std::vector<int> kept;
  for (int n : nodes) {
    std::vector<int> one = {n};
    auto single = Build(ctx, d, one, SubsetIo(ctx, plan, one));
    if (single.ok()) {
      kept.push_back(n);
    } else if (IsLceNode(ctx, n)) {
      return Status::Error(NodeName(ctx, n) + " is not supported: " + single.status().message());
    }
  }
  if (kept.empty()) return std::unique_ptr<Built>();
  auto rest = Build(ctx, d, kept, SubsetIo(ctx, plan, kept));
  if (!rest.ok()) return rest.status().Prefixed("cannot run the supported nodes together: ");
  return rest;
}

TfLiteStatus DelegatePrepare(TfLiteContext* ctx, TfLiteDelegate* base) {
  Delegate* d = FromBase(base);
  if (!d) return kTfLiteError;
  d->claimed_nodes = 0;
  d->partitions = 0;
  d->pending.reset();
  TfLiteIntArray* plan_array = nullptr;
  if (ctx->GetExecutionPlan(ctx, &plan_array) != kTfLiteOk) return kTfLiteError;
  std::vector<int> plan = ToVector(plan_array);
  auto candidates = Candidates(ctx, *d, plan);
  if (!candidates.ok()) {
    Report(ctx, candidates.status().message());
    return kTfLiteError;
  }
  if (candidates->empty()) return kTfLiteOk;
  auto built = BuildClaimed(ctx, *d, plan, std::move(*candidates));
  if (!built.ok()) {
    Report(ctx, built.status().message());
    return kTfLiteError;
  }
  if (!*built) return kTfLiteOk;
  std::vector<int> claimed = (*built)->nodes;
  d->claimed_nodes = static_cast<int>(claimed.size());
  d->pending = std::move(*built);

  TfLiteRegistration reg{};
  reg.init = KernelInit;
  reg.free = KernelFree;
  reg.prepare = KernelPrepare;
  reg.invoke = KernelInvoke;
  reg.builtin_code = kTfLiteBuiltinDelegate;
  reg.custom_name = "XbnnDelegate";
  reg.version = 1;
  IntArray nodes(claimed);
  TfLiteStatus status = ctx->ReplaceNodeSubsetsWithDelegateKernels(ctx, reg, nodes.get(), base);
  d->pending.reset();  // a partition that did not take it builds its own
  return status;
}

// ---- options and creation ----

Result<bool> ParseBool(const std::string& key, const std::string& v) {
  if (v == "1" || v == "true" || v == "True") return true;
  if (v == "0" || v == "false" || v == "False") return false;
  return Status::Error("option " + key + "='" + v + "': expected true or false (1 or 0)");
}

Result<tflite::DelegateOptions> ParseOptions(char** keys, char** values, size_t n) {
  tflite::DelegateOptions o;
  for (size_t i = 0; i < n; ++i) {
    std::string key = keys && keys[i] ? keys[i] : "";
    std::string v = values && values[i] ? values[i] : "";
    if (key == "claim") {
      if (v != "all" && v != "lce")
        return Status::Error("option claim='" + v + "': expected 'all' or 'lce'");
      o.claim_all = v == "all";
    } else if (key == "num_threads") {
      char* end = nullptr;
      errno = 0;
      long t = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno != 0 || t < 1 || t > kMaxThreads) {
        return Status::Error("option num_threads='" + v + "': expected an integer from 1 to " +
                             std::to_string(kMaxThreads));
      }
      o.num_threads = static_cast<int>(t);
    } else if (key == "use_reference_kernels") {
      auto b = ParseBool(key, v);
      if (!b.ok()) return b.status();
      o.use_reference_kernels = *b;
    } else {
      return Status::Error("unknown option '" + key +
                           "' (known: claim, num_threads, use_reference_kernels)");
    }
  }
  return o;
}

TfLiteDelegate* NewDelegate(const tflite::DelegateOptions& options) {
  auto* d = new (std::nothrow) Delegate();
  if (!d) return nullptr;
  d->options = options;
  d->base.data_ = d;
  d->base.Prepare = DelegatePrepare;
  // TF 2.16 and LiteRT give up on a model with unresolved custom ops (the Lce* ops, before this
  // delegate takes them) unless the delegate allows dynamic tensors.
  d->base.flags = kTfLiteDelegateFlagsAllowDynamicTensors;
  return &d->base;
}

void DeleteDelegate(TfLiteDelegate* base) { delete FromBase(base); }

}  // namespace
}  // namespace xbnn::tflite_delegate

namespace td = xbnn::tflite_delegate;

extern "C" TfLiteDelegate* tflite_plugin_create_delegate(char** keys, char** values, size_t num,
                                                         void (*report_error)(const char*)) {
  // TF's and LiteRT's Python load_delegate pass the count as a C int: use its 32 bits only.
  num &= 0xffffffffu;
  auto options = td::ParseOptions(keys, values, num);
  if (!options.ok()) {
    std::string message = "xbnn delegate: " + options.status().message();
    if (report_error) {
      report_error(message.c_str());
    } else {
      std::fprintf(stderr, "%s\n", message.c_str());
    }
    return nullptr;
  }
  return td::NewDelegate(*options);
}

extern "C" void tflite_plugin_destroy_delegate(TfLiteDelegate* delegate) {
  td::DeleteDelegate(delegate);
}

extern "C" int xbnn_tflite_delegate_claimed_nodes(const TfLiteDelegate* delegate) {
  const td::Delegate* d = td::FromBase(delegate);
  return d ? d->claimed_nodes : -1;
}

extern "C" int xbnn_tflite_delegate_partitions(const TfLiteDelegate* delegate) {
  const td::Delegate* d = td::FromBase(delegate);
  return d ? d->partitions : -1;
}

namespace xbnn::tflite {

DelegatePtr CreateDelegate(const DelegateOptions& options, std::string* error) {
  std::string problem;
  if (options.num_threads < 0 || options.num_threads > td::kMaxThreads) {
    problem = "num_threads=" + std::to_string(options.num_threads) +
              ": expected 0 (the interpreter's) to " + std::to_string(td::kMaxThreads);
  }
  TfLiteDelegate* d = problem.empty() ? td::NewDelegate(options) : nullptr;
  if (!d && problem.empty()) problem = "out of memory";
  if (!problem.empty() && error) *error = "xbnn delegate: " + problem;
  return DelegatePtr(d, td::DeleteDelegate);
}

}  // namespace xbnn::tflite

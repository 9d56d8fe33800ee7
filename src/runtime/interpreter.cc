#include "xbnn/interpreter.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>

#include "graph/cost.h"
#include "graph/graph.h"
#include "graph/lce_options.h"
#include "ops/op_kernel.h"
#include "ops/registry.h"
#include "runtime/arena_plan.h"
#include "runtime/fusion.h"
#include "runtime/model_impl.h"
#include "runtime/shape_inference.h"
#include "runtime/tensor_info.h"
#include "runtime/thread_pool.h"

namespace xbnn {
namespace {

using runtime::RuntimeTensor;

struct AlignedFree {
  void operator()(uint8_t* p) const { std::free(p); }
};

}  // namespace

// What the load steps of Interpreter::Impl::Init hand on to each other.
struct LoadState {
  std::vector<const ops::OpDef*> regs;  // per op
  runtime::InferredShapes inferred;
  std::vector<int> first, last;          // per tensor: lifetime in op steps (-2: no memory)
  std::vector<bool> produced, is_input;  // per tensor
  std::vector<bool> elided;              // per tensor: no memory, its readers run in its writer
  std::string oversize;                  // the first tensor too large to allocate, as an error
};

struct Interpreter::Impl {
  std::shared_ptr<const Model> model;
  InterpreterOptions options;
  const graph::Subgraph* sg = nullptr;
  std::vector<RuntimeTensor> tensors;
  // Values of tensors computed at load time (shape arithmetic, ops on constants only).
  std::vector<std::unique_ptr<uint8_t, AlignedFree>> folded_data;
  std::unique_ptr<uint8_t, AlignedFree> arena;
  std::unique_ptr<runtime::ThreadPool> pool;
  std::vector<std::unique_ptr<runtime::OpKernel>> kernels;
  std::vector<runtime::OpContext> contexts;
  runtime::FusionPlan fusion;
  // One per fusion.fusions entry, then one per fusion.bconv_chains entry.
  std::vector<runtime::FusedResidualAdd> fused;
  std::vector<size_t> order;  // op indices in the order they run (fusion.run_at)
  std::vector<TensorInfo> input_infos, output_infos;
  MemoryStats memory;
  std::vector<OpProfile> profile;

  std::vector<size_t> folded_sizes;
  size_t folded_bytes = 0;
  // Where an empty constant without file bytes points: kernels may pass any tensor's data to
  // memcpy, which must not get a null pointer even for zero bytes.
  alignas(64) uint8_t no_bytes[64] = {};

  Status Init();
  // The steps of Init, in order.
  Status FindKernels(LoadState& s);
  Status CreateTensors(LoadState& s);
  Status FoldConstantOps(LoadState& s);
  Status ComputeLifetimes(LoadState& s);
  Status AllocateActivations(LoadState& s);
  Status PrepareKernels(LoadState& s);
  void FillContext(runtime::OpContext& ctx, int i, size_t* prepared_bytes);
  Status CheckShapesWithoutMemory(const std::vector<const ops::OpDef*>& regs,
                                  const std::vector<bool>& folded);
  Status AllocateArena(uint64_t bytes, const std::vector<const ops::OpDef*>& regs,
                       const std::vector<bool>& folded);
  uint8_t* AllocateFolded(size_t bytes);
  void ReleaseFolded(int32_t t);
  Status FoldOp(int i, const ops::OpDef& reg);
};

uint8_t* Interpreter::Impl::AllocateFolded(size_t bytes) {
  const size_t size = std::max<size_t>(64, (bytes + 63) / 64 * 64);
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, size));
  if (!p) return nullptr;
  std::memset(p, 0, size);
  folded_data.emplace_back(p);
  folded_sizes.push_back(size);
  folded_bytes += size;
  return p;
}

// Frees the load-time memory of tensor `t` (when it has any).
void Interpreter::Impl::ReleaseFolded(int32_t t) {
  for (size_t k = 0; k < folded_data.size(); ++k) {
    if (folded_data[k].get() != tensors[t].data) continue;
    folded_bytes -= folded_sizes[k];
    folded_data.erase(folded_data.begin() + static_cast<std::ptrdiff_t>(k));
    folded_sizes.erase(folded_sizes.begin() + static_cast<std::ptrdiff_t>(k));
    tensors[t].data = nullptr;
    return;
  }
}

void Interpreter::Impl::FillContext(runtime::OpContext& ctx, int i, size_t* prepared_bytes) {
  const graph::Operator& op = sg->operators[i];
  ctx.graph = &runtime::ModelGraph(*model);
  ctx.op = &op;
  ctx.op_index = i;
  for (int32_t t : op.inputs) ctx.inputs.push_back(t < 0 ? nullptr : &tensors[t]);
  for (int32_t t : op.outputs) ctx.outputs.push_back(&tensors[t]);
  ctx.runner = pool.get();
  ctx.num_threads = pool->num_threads();
  ctx.prepared_bytes = prepared_bytes;
  ctx.use_reference_kernels = options.use_reference_kernels;
  ctx.bfloat16_float = options.float_precision == FloatPrecision::kBFloat16;
  ctx.winograd_float = options.float_precision == FloatPrecision::kFloat32Winograd;
  ctx.memory_limit = options.max_arena_bytes;
}

// Prepares every op on kernels that are then dropped, before the arena exists (activation data
// pointers are null; Prepare reads only shapes and constants). Used only when the arena cannot be
// had, so that a model whose huge arena comes from an inconsistent shape gets the shape error.
Status Interpreter::Impl::CheckShapesWithoutMemory(const std::vector<const ops::OpDef*>& regs,
                                                   const std::vector<bool>& folded) {
  for (int i = 0; i < static_cast<int>(sg->operators.size()); ++i) {
    if (folded[i]) continue;
    runtime::OpContext ctx;
    FillContext(ctx, i, nullptr);
    ctx.use_reference_kernels = true;  // shapes only: the optimized LCE kernels would pack (GBs)
    ctx.shapes_only = true;
    std::unique_ptr<runtime::OpKernel> kernel = regs[i]->create();
    XBNN_RETURN_IF_ERROR(kernel->Prepare(ctx));
  }
  return Status::Ok();
}

Status Interpreter::Impl::AllocateArena(uint64_t bytes, const std::vector<const ops::OpDef*>& regs,
                                        const std::vector<bool>& folded) {
  const uint64_t needed = bytes + folded_bytes;
  if (options.max_arena_bytes != 0 && needed > options.max_arena_bytes) {
    XBNN_RETURN_IF_ERROR(CheckShapesWithoutMemory(regs, folded));
    return Status::Error("the model needs " + runtime::ByteCount(needed) + " of activation memory (planned arena " +
                         runtime::ByteCount(bytes) + "), over the limit of " + runtime::ByteCount(options.max_arena_bytes) +
                         " (InterpreterOptions::max_arena_bytes; --max-memory in xbnn, max_arena_bytes= in Python)");
  }
  if (bytes <= runtime::kMaxAllocation) {
    arena.reset(static_cast<uint8_t*>(std::aligned_alloc(64, std::max<size_t>(64, (size_t(bytes) + 63) / 64 * 64))));
  }
  if (!arena) {
    XBNN_RETURN_IF_ERROR(CheckShapesWithoutMemory(regs, folded));
    return Status::Error("cannot allocate the activation arena (" + runtime::ByteCount(bytes) + ")");
  }
  return Status::Ok();
}

// Runs op `i`, whose inputs are all constant, once: its outputs get memory of their own and
// become constants. The kernel is dropped afterwards.
Status Interpreter::Impl::FoldOp(int i, const ops::OpDef& reg) {
  const graph::Graph& g = runtime::ModelGraph(*model);
  const graph::Operator& op = sg->operators[i];
  for (int32_t t : op.outputs) {
    RuntimeTensor& rt = tensors[t];
    if (rt.bytes == 0 && rt.elements() > 0) {  // CreateTensors: too large for one allocation
      return Status::Error("op " + std::to_string(i) + " (" + g.OpName(op) + "): output tensor '" + rt.desc->name +
                           "' is too large to allocate on this platform");
    }
    const uint64_t needed = uint64_t{folded_bytes} + rt.bytes;
    if (options.max_arena_bytes != 0 && needed > options.max_arena_bytes) {
      return Status::Error("op " + std::to_string(i) + " (" + g.OpName(op) + "): computing it at load time needs " +
                           runtime::ByteCount(needed) + ", over the limit of " +
                           runtime::ByteCount(options.max_arena_bytes) + " (InterpreterOptions::max_arena_bytes)");
    }
    rt.data = AllocateFolded(rt.bytes);
    if (!rt.data) {
      return Status::Error("op " + std::to_string(i) + " (" + g.OpName(op) + "): cannot allocate " +
                           std::to_string(rt.bytes) + " bytes to fold it");
    }
  }
  runtime::OpContext ctx;
  size_t ignored = 0;
  FillContext(ctx, i, &ignored);
  std::unique_ptr<runtime::OpKernel> kernel = reg.create();
  XBNN_RETURN_IF_ERROR(kernel->Prepare(ctx));
  kernel->Invoke(ctx);
  XBNN_RETURN_IF_ERROR(ctx.TakeInvokeError());
  for (int32_t t : op.outputs) tensors[t].constant = true;
  return Status::Ok();
}

Status Interpreter::Impl::FindKernels(LoadState& s) {
  const graph::Graph& g = runtime::ModelGraph(*model);
  for (int i = 0; i < static_cast<int>(sg->operators.size()); ++i) {
    std::string why;
    const auto* r = ops::FindKernel(g.CodeOf(sg->operators[i]), &why);
    if (!r) return Status::Error("op " + std::to_string(i) + " (" + g.OpName(sg->operators[i]) + "): " + why);
    s.regs.push_back(r);
  }
  return Status::Ok();
}

Status Interpreter::Impl::CreateTensors(LoadState& s) {
  const graph::Graph& g = runtime::ModelGraph(*model);
  const int n_ops = static_cast<int>(sg->operators.size());
  const size_t n = sg->tensors.size();
  tensors.resize(n);
  s.first.assign(n, INT32_MAX);
  s.last.assign(n, -2);
  s.produced.assign(n, false);
  s.is_input.assign(n, false);
  runtime::InferredShapes& inferred = s.inferred;
  std::vector<bool>& produced = s.produced;
  for (size_t i = 0; i < n; ++i) {
    RuntimeTensor& t = tensors[i];
    t.index = static_cast<int32_t>(i);
    t.desc = &sg->tensors[i];
    t.dims = inferred.shapes[i];
    // At most 2^31 elements of at most 8 bytes: exact in 64 bits, but past a 32-bit size_t.
    const uint64_t bytes =
        static_cast<uint64_t>(t.elements()) * static_cast<uint64_t>(std::max(graph::DTypeSize(t.type()), 1));
    if (bytes > runtime::kMaxAllocation && s.oversize.empty()) {  // reported after any shape error
      s.oversize = "tensor " + std::to_string(i) + " '" + sg->tensors[i].name + "' needs " +
                   runtime::ByteCount(bytes) + ", more than one allocation can hold on this platform";
    }
    t.bytes = bytes > runtime::kMaxAllocation ? 0 : static_cast<size_t>(bytes);
    if (inferred.constant[i]) {
      t.constant = true;
      t.bytes = static_cast<size_t>(graph::TensorBytes(sg->tensors[i]));
      // (An empty constant may have no buffer: graph::IsConstantTensor.)
      const uint32_t buffer = sg->tensors[i].buffer;
      t.data = buffer < g.buffers.size() ? const_cast<uint8_t*>(g.buffers[buffer].bytes().data())
                                         : nullptr;
      if (t.data == nullptr) t.data = no_bytes;
      // Kernels read constants in place; a writer that aligns buffers to 4 bytes only leaves an
      // int64 constant misaligned: such a constant gets an aligned copy.
      const auto align = static_cast<uintptr_t>(std::max(graph::DTypeSize(t.type()), 1));
      if (t.bytes > 0 && reinterpret_cast<uintptr_t>(t.data) % align != 0) {
        uint8_t* copy = AllocateFolded(t.bytes);
        if (!copy)
          return Status::Error("cannot allocate " + std::to_string(t.bytes) +
                               " bytes for a constant");
        std::memcpy(copy, t.data, t.bytes);
        t.data = copy;
      }
    }
  }
  for (int i = 0; i < n_ops; ++i) {
    if (!inferred.folded[i]) continue;
    for (int32_t o : sg->operators[i].outputs) {
      RuntimeTensor& t = tensors[o];
      const std::vector<int64_t>& v = *inferred.values[o];
      // The values must fill the tensor exactly, in an integer type wide enough for them.
      const bool int32 = t.type() == graph::DType::kInt32, int64 = t.type() == graph::DType::kInt64;
      if ((!int32 && !int64) || static_cast<int64_t>(v.size()) != t.elements()) {
        return Status::Error("op " + std::to_string(i) + " (" + g.OpName(sg->operators[i]) + "): output tensor " +
                             std::to_string(o) + " '" + sg->tensors[o].name + "' is " +
                             graph::DTypeName(t.type()) + " with " + std::to_string(t.elements()) +
                             " elements, but the op computes " + std::to_string(v.size()) + " integers");
      }
      uint8_t* bytes = AllocateFolded(t.bytes);
      if (!bytes) return Status::Error("cannot allocate " + std::to_string(t.bytes) + " bytes for a folded tensor");
      for (size_t k = 0; k < v.size(); ++k) {
        if (int32) {
          const int32_t x = static_cast<int32_t>(v[k]);
          std::memcpy(bytes + 4 * k, &x, 4);
        } else {
          std::memcpy(bytes + 8 * k, &v[k], 8);
        }
      }
      t.data = bytes;
      t.constant = true;
      produced[o] = true;
    }
  }
  return Status::Ok();
}

// Ops whose inputs are all constant (XNORNet scales and transposes a weight tensor in the
// graph) run once now, on their kernels, and their outputs become constants: Invoke never
// repeats them, and kernels that need constant weights get them. A folded tensor's memory goes as
// soon as no op that still runs reads it.
Status Interpreter::Impl::FoldConstantOps(LoadState& s) {
  const int n_ops = static_cast<int>(sg->operators.size());
  const size_t n = sg->tensors.size();
  runtime::InferredShapes& inferred = s.inferred;
  std::vector<int> last_reader(n, -1);
  for (int i = 0; i < n_ops; ++i) {
    for (int32_t t : sg->operators[i].inputs) {
      if (t >= 0) last_reader[t] = i;
    }
  }
  for (int32_t t : sg->outputs) last_reader[t] = n_ops;
  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& op = sg->operators[i];
    if (inferred.folded[i] || op.outputs.empty()) continue;
    bool all_constant = false;
    for (int32_t t : op.inputs) {
      if (t < 0) continue;
      all_constant = tensors[t].constant;
      if (!all_constant) break;
    }
    for (int32_t t : op.outputs) {
      if (tensors[t].constant || std::find(sg->inputs.begin(), sg->inputs.end(), t) != sg->inputs.end()) {
        all_constant = false;  // malformed; the checks below report it
      }
    }
    if (!all_constant) continue;
    XBNN_RETURN_IF_ERROR(FoldOp(i, *s.regs[i]));
    inferred.folded[i] = true;
    for (int32_t o : op.outputs) s.produced[o] = true;
    for (int32_t t : op.inputs) {
      if (t >= 0 && last_reader[t] == i) ReleaseFolded(t);
    }
    for (int32_t o : op.outputs) {
      if (last_reader[o] < 0) ReleaseFolded(o);
    }
  }
  memory.prepared_bytes += folded_bytes;
  return Status::Ok();
}

// Lifetimes of the activations in op steps (an op fused into another lives at its host's step);
// the checks that every read tensor was written before and every tensor written once.
Status Interpreter::Impl::ComputeLifetimes(LoadState& s) {
  const graph::Graph& g = runtime::ModelGraph(*model);
  const int n_ops = static_cast<int>(sg->operators.size());
  const size_t n = sg->tensors.size();
  const runtime::InferredShapes& inferred = s.inferred;
  std::vector<int>& first = s.first;
  std::vector<int>& last = s.last;
  std::vector<bool>& produced = s.produced;
  std::vector<bool>& is_input = s.is_input;
  for (int32_t t : sg->inputs) {
    if (tensors[t].constant) continue;
    is_input[t] = true;
    first[t] = -1;
    last[t] = std::max(last[t], -1);
  }
  // Fusion: an op that runs inside another op's kernel reads and writes its tensors when that op
  // runs; the tensors it makes unnecessary get no memory.
  std::vector<bool>& elided = s.elided;
  elided.assign(n, false);
  if (options.fuse_ops && !options.use_reference_kernels) {
    std::vector<bool> skip(inferred.folded.begin(), inferred.folded.end());
    fusion = runtime::PlanFusions(g, *sg, tensors, skip);
    elided = runtime::ElidedTensors(fusion, *sg, n);
  } else {
    fusion.host.assign(static_cast<size_t>(n_ops), -1);
  }
  // A value computed at load time (constant since) is still written by its op: an op before that
  // one must not read it (its value would be released once the ops folded after it are done).
  std::vector<int> writer(n, -1);
  for (int i = n_ops - 1; i >= 0; --i) {
    for (int32_t t : sg->operators[i].outputs) {
      if (t >= 0) writer[t] = i;
    }
  }
  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& op = sg->operators[i];
    // A model input that an op writes (one computed at load time too, which left the input a
    // constant without memory to fill).
    for (int32_t t : op.outputs) {
      if (t >= 0 && std::find(sg->inputs.begin(), sg->inputs.end(), t) != sg->inputs.end()) {
        return Status::Error("op " + std::to_string(i) + " (" + g.OpName(op) + ") writes tensor " +
                             std::to_string(t) + " '" + sg->tensors[t].name +
                             "', which is a model input");
      }
    }
    if (inferred.folded[i]) continue;
    // When the op's work happens: its host's step.
    const int at = runtime::RunStep(fusion, fusion.host[i] >= 0 ? fusion.host[i] : i);
    for (int32_t t : op.inputs) {
      if (t < 0 || (tensors[t].constant && writer[t] < i)) continue;
      if ((!produced[t] || writer[t] > i) && !is_input[t]) {
        return Status::Error("op " + std::to_string(i) + " (" + g.OpName(op) + ") reads tensor " + std::to_string(t) +
                             " '" + sg->tensors[t].name + "', which no earlier op writes and is not a model input");
      }
      last[t] = std::max(last[t], at);
    }
    for (int32_t t : op.outputs) {
      if (tensors[t].constant) {
        return Status::Error("op " + std::to_string(i) + " (" + g.OpName(op) + ") writes constant tensor " +
                             std::to_string(t) + " '" + sg->tensors[t].name + "'");
      }
      if (produced[t]) {  // (model inputs refused above)
        return Status::Error("op " + std::to_string(i) + " (" + g.OpName(op) + ") writes tensor " + std::to_string(t) +
                             " '" + sg->tensors[t].name + "', which is already written earlier");
      }
      produced[t] = true;
      first[t] = std::min(first[t], at);
      last[t] = std::max(last[t], at);
    }
  }
  runtime::ExtendFusedLifetimes(fusion, first, last);
  for (size_t t = 0; t < n; ++t) {
    if (elided[t]) last[t] = -2;
  }
  // Inputs stay intact for the whole invoke, so callers may invoke again without refilling them.
  for (int32_t t : sg->inputs) {
    if (!tensors[t].constant) last[t] = n_ops;
  }
  for (int32_t t : sg->outputs) {
    if (tensors[t].constant) continue;
    if (!produced[t] && !is_input[t]) {
      return Status::Error("model output tensor " + std::to_string(t) + " '" + sg->tensors[t].name +
                           "' is not computed by any op");
    }
    last[t] = n_ops;
  }
  return Status::Ok();
}

Status Interpreter::Impl::AllocateActivations(LoadState& s) {
  if (!s.oversize.empty()) {
    XBNN_RETURN_IF_ERROR(CheckShapesWithoutMemory(s.regs, s.inferred.folded));
    return Status::Error(s.oversize);
  }
  const size_t n = sg->tensors.size();
  const std::vector<int32_t> home = runtime::PlanInPlaceSums(fusion, tensors, s.last);
  std::vector<runtime::TensorLifetime> lifetimes;
  std::vector<size_t> which;
  for (size_t i = 0; i < n; ++i) {
    if (tensors[i].constant || s.last[i] == -2) continue;
    memory.activation_bytes_sum += tensors[i].bytes;
    if (home[i] >= 0) continue;
    lifetimes.push_back({tensors[i].bytes, s.first[i], s.last[i]});
    which.push_back(i);
  }
  runtime::ArenaPlan plan = runtime::PlanArena(lifetimes, 64);
  memory.arena_bytes = plan.total_bytes;
  XBNN_RETURN_IF_ERROR(AllocateArena(plan.total_bytes, s.regs, s.inferred.folded));
  for (size_t k = 0; k < which.size(); ++k) tensors[which[k]].data = arena.get() + plan.offsets[k];
  for (size_t i = 0; i < n; ++i) {
    if (home[i] >= 0) tensors[i].data = tensors[static_cast<size_t>(home[i])].data;
  }
  return Status::Ok();
}

// Kernels; prepare every op once (folded ops have nothing left to do). Fused ops are prepared
// too, for their checks, and then dropped: their host's kernel does their work.
Status Interpreter::Impl::PrepareKernels(LoadState& s) {
  const graph::Graph& g = runtime::ModelGraph(*model);
  const int n_ops = static_cast<int>(sg->operators.size());
  contexts.resize(static_cast<size_t>(n_ops));
  std::vector<int> fusion_of(static_cast<size_t>(n_ops), -1);
  fused = runtime::EpilogueChains(g, *sg, fusion, tensors, s.elided);
  fused.insert(fused.begin(), fusion.fusions.size(), runtime::FusedResidualAdd{});
  for (size_t k = 0; k < fusion.bconv_chains.size(); ++k) {
    fusion_of[fusion.bconv_chains[k].bconv] = static_cast<int>(fusion.fusions.size() + k);
  }
  for (size_t k = 0; k < fusion.fusions.size(); ++k) {
    const runtime::BconvFusion& f = fusion.fusions[k];
    fusion_of[f.bconv] = static_cast<int>(k);
    fused[k].residual = &tensors[f.residual];
    fused[k].residual_first = f.residual_first;
    fused[k].min = f.min;
    fused[k].max = f.max;
    fused[k].sum = f.sum_read ? &tensors[f.sum] : nullptr;
    fused[k].packed = f.packed >= 0 ? &tensors[f.packed] : nullptr;
  }
  for (int i = 0; i < n_ops; ++i) FillContext(contexts[i], i, &memory.prepared_bytes);
  runtime::AttachConvFusions(fusion, contexts, tensors);
  for (int i = 0; i < n_ops; ++i) {
    const graph::Operator& op = sg->operators[i];
    OpProfile p;
    p.index = i;
    p.op = g.OpName(op);
    if (!op.outputs.empty()) p.output_shape = tensors[op.outputs[0]].dims;
    if (s.inferred.folded[i]) {
      kernels.push_back(nullptr);
      profile.push_back(std::move(p));
      continue;
    }
    runtime::OpContext& ctx = contexts[i];
    if (fusion_of[i] >= 0) ctx.fused = &fused[static_cast<size_t>(fusion_of[i])];
    kernels.push_back(s.regs[i]->create());
    XBNN_RETURN_IF_ERROR(kernels.back()->Prepare(ctx));
    if (fusion.host[i] >= 0) {
      kernels.back().reset();
      p.fused_into = fusion.host[i];
    }

    ops::OpCost c = ops::EstimateOpCost(g, *sg, op, &s.inferred.shapes);
    p.binary_macs = c.binary_macs;
    p.float_macs = c.float_macs;
    p.int8_macs = c.int8_macs;
    profile.push_back(std::move(p));
  }
  // A fused op's MACs count at its host, whose time includes them; a grouped convolution's host
  // writes the concatenation.
  for (OpProfile& p : profile) {
    if (p.fused_into < 0) continue;
    OpProfile& h = profile[static_cast<size_t>(p.fused_into)];
    h.binary_macs += std::exchange(p.binary_macs, 0);
    h.float_macs += std::exchange(p.float_macs, 0);
    h.int8_macs += std::exchange(p.int8_macs, 0);
  }
  for (const runtime::GroupConvFusion& f : fusion.groups) {
    profile[static_cast<size_t>(f.host())].output_shape = tensors[f.out].dims;
  }
  return Status::Ok();
}

Status Interpreter::Impl::Init() {
  const graph::Graph& g = runtime::ModelGraph(*model);
  // Only the first subgraph runs: the others need control-flow ops, which the registry refuses.
  sg = &g.subgraphs[0];
  LoadState s;
  // 1. Every op must have a kernel, reported at load time with its name and index.
  XBNN_RETURN_IF_ERROR(FindKernels(s));
  // 2. Shapes: inferred from the input shapes op by op (the file's may be wrong); small integer
  // tensors that follow from shapes alone are computed now and their ops folded away.
  XBNN_RETURN_IF_ERROR(runtime::InferShapes(g, *sg, &s.inferred, &options.input_shapes));
  XBNN_RETURN_IF_ERROR(runtime::CheckPackedChannels(g, *sg, s.inferred));
  // 3. Tensors: constants point into the model, ops on constants run now; activation lifetimes.
  XBNN_RETURN_IF_ERROR(CreateTensors(s));
  pool = std::make_unique<runtime::ThreadPool>(options.num_threads);
  XBNN_RETURN_IF_ERROR(FoldConstantOps(s));
  XBNN_RETURN_IF_ERROR(ComputeLifetimes(s));
  // 4. Plan the arena (fused residual sums in place).
  XBNN_RETURN_IF_ERROR(AllocateActivations(s));
  // 5. Kernels.
  XBNN_RETURN_IF_ERROR(PrepareKernels(s));
  order = runtime::RunOrder(fusion, kernels.size());
  for (int32_t t : sg->inputs)
    input_infos.push_back(runtime::MakeTensorInfo(g, *sg, t, tensors[t].dims));
  for (int32_t t : sg->outputs)
    output_infos.push_back(runtime::MakeTensorInfo(g, *sg, t, tensors[t].dims));
  return Status::Ok();
}

Interpreter::Interpreter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Interpreter::~Interpreter() = default;

Result<std::unique_ptr<Interpreter>> Interpreter::Create(std::shared_ptr<const Model> model,
                                                         const InterpreterOptions& options) {
  if (!model) return Status::Error("no model given");
  if (options.num_threads < 1 || options.num_threads > 1024) {
    return Status::Error("num_threads must be in [1, 1024], got " + std::to_string(options.num_threads));
  }
  auto impl = std::make_unique<Impl>();
  impl->model = std::move(model);
  impl->options = options;
  XBNN_RETURN_IF_ERROR(runtime::CatchOutOfMemory("preparing", [&] { return impl->Init(); }));
  return std::unique_ptr<Interpreter>(new Interpreter(std::move(impl)));
}

size_t Interpreter::num_inputs() const { return impl_->sg->inputs.size(); }
size_t Interpreter::num_outputs() const { return impl_->sg->outputs.size(); }
const TensorInfo& Interpreter::input_info(size_t i) const { return impl_->input_infos.at(i); }
const TensorInfo& Interpreter::output_info(size_t i) const { return impl_->output_infos.at(i); }

TensorView Interpreter::input(size_t i) {
  return TensorView(&impl_->input_infos.at(i), impl_->tensors[impl_->sg->inputs[i]].data);
}

TensorView Interpreter::output(size_t i) {
  return TensorView(&impl_->output_infos.at(i), impl_->tensors[impl_->sg->outputs[i]].data);
}

Status Interpreter::Invoke() {
  Impl& m = *impl_;
  using Clock = std::chrono::steady_clock;
  for (size_t i : m.order) {
    if (!m.kernels[i]) continue;
    runtime::OpContext& ctx = m.contexts[i];
    if (!m.options.profile) {
      m.kernels[i]->Invoke(ctx);
    } else {
      auto t0 = Clock::now();
      m.kernels[i]->Invoke(ctx);
      m.profile[i].total_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
      m.profile[i].invokes++;
    }
    if (!ctx.invoke_error.ok()) return ctx.TakeInvokeError();  // bad input values (GATHER)
  }
  return Status::Ok();
}

const MemoryStats& Interpreter::memory() const { return impl_->memory; }
const std::vector<OpProfile>& Interpreter::op_profile() const { return impl_->profile; }
ThreadStats Interpreter::thread_stats() const {
  const runtime::ThreadPool::Stats s = impl_->pool->stats();
  return {s.parallel_jobs, s.serial_jobs, s.stalls,   s.absent_windows,
          s.tasks,         s.own_tasks,   s.worker_moves};
}
void Interpreter::ResetProfile() {
  for (OpProfile& p : impl_->profile) {
    p.total_seconds = 0;
    p.invokes = 0;
  }
}
int Interpreter::num_threads() const { return impl_->pool->num_threads(); }

}  // namespace xbnn

// The interface every operator implements (TFLite Micro style): Prepare validates shapes and
// options and does all one-time work (weight repacking, operator creation); Invoke computes and
// never allocates or validates. Tensors already have their final data pointers and shapes at
// Prepare time (activations in the arena, constants in the model or computed at load time), so
// kernels may keep pointers.
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "xbnn/status.h"

namespace xbnn::kernels {
class TaskRunner;
}

namespace xbnn::runtime {

struct RuntimeTensor {
  int32_t index = -1;
  const graph::Tensor* desc = nullptr;  // name, type, quantization from the model (not the shape)
  // The shape the interpreter computed from the model's inputs (runtime/shape_inference.h); it
  // differs from desc->shape where the file's shape is wrong (e.g. the batch of a dilated
  // convolution's SPACE_TO_BATCH_ND output).
  std::vector<int32_t> dims;
  uint8_t* data = nullptr;  // arena or (for constants) model memory: never write those
  size_t bytes = 0;
  bool constant = false;  // model data, or values computed once at load time

  graph::DType type() const { return desc->type; }
  const std::vector<int32_t>& shape() const { return dims; }
  int rank() const { return static_cast<int>(dims.size()); }
  int32_t dim(int i) const { return dims[static_cast<size_t>(i)]; }
  int64_t elements() const {
    int64_t n = 1;
    for (int32_t d : dims) n *= d;
    return n;
  }
  template <typename T>
  T* as() const {
    return reinterpret_cast<T*>(data);
  }
  // Per-tensor quantization (first scale / zero point); false when the tensor has none.
  bool PerTensorQuant(float* scale, int32_t* zero_point) const;
  const graph::Quantization* quant() const {
    return desc->quantization ? &*desc->quantization : nullptr;
  }
};

// Ops whose estimated single-thread time is below this run on the calling thread: handing work
// to a pool thread costs ~1 us. Small ops are split anyway: run on one thread after a split op,
// they read half their input from the other core's cache and took up to 2x their one-thread time
// (QuickNetSmall's pools and 1x1 convolutions at 2 threads); split, each thread reads the rows its
// own core wrote. 4 us: QuickNetSmall 1.028x, Bi-Real Net 1.020x faster at 2 threads than 20 us
// (interleaved A/B on the 2-vCPU Xeon); 8 us was no better. Shared by the builtin and the LCE ops.
inline constexpr double kMinParallelSeconds = 4e-6;

// A residual ADD, and an LceQuantize of its sum, that the interpreter fused into an LceBconv2d
// (runtime/fusion.h): the convolution writes `sum` (null when nothing reads it) and `packed` (null
// without a fused LceQuantize) instead of its own float output, which stays unallocated.
// With `chain` instead of a residual ADD: float elementwise ops after the convolution, in order
// (runtime/fusion.h, BconvChainFusion), each clamp(x op operand, lo, hi) or, with k_first,
// clamp(operand op x, lo, hi), as the separate op computes it (MAXIMUM, MINIMUM and PRELU without
// the clamp); a step's value is written to `store` where other ops read it, and `packed` is an
// LceQuantize of the last value.
struct FusedEpilogueStep {
  enum Op : int8_t { kAdd, kSub, kMul, kDiv, kMax, kMin, kPrelu } op = kAdd;
  const RuntimeTensor* operand = nullptr;  // one value, one per channel, or the output's shape
  bool k_first = false;
  float lo = 0, hi = 0;
  RuntimeTensor* store = nullptr;
};
struct FusedResidualAdd {
  RuntimeTensor* residual = nullptr;
  bool residual_first = false;  // the ADD computes residual + conv
  float min = 0, max = 0;       // the ADD's activation range
  RuntimeTensor* sum = nullptr;
  RuntimeTensor* packed = nullptr;
  std::vector<FusedEpilogueStep> chain;
};

class OpContext;

// Bits of an elementwise chain's fused LceQuantize that another chain's first op computes
// (runtime/fusion.h, ChainBits): those of the channels [offset, offset + part's channels) of
// `chain`'s input, from `part`, which holds them.
struct ChainBitsJob {
  const RuntimeTensor* part = nullptr;
  int64_t offset = 0;
  const OpContext* chain = nullptr;  // the chain's first op: its fused_chain and fused_packed
};

class OpContext {
 public:
  const graph::Graph* graph = nullptr;
  const graph::Operator* op = nullptr;
  int op_index = 0;
  std::vector<RuntimeTensor*> inputs;  // null where the optional input is absent (-1)
  std::vector<RuntimeTensor*> outputs;
  kernels::TaskRunner* runner = nullptr;  // the interpreter's thread pool (runtime/thread_pool.h)
  int num_threads = 1;
  size_t* prepared_bytes = nullptr;         // kernels add the memory they keep (repacked weights)
  bool use_reference_kernels = false;       // InterpreterOptions::use_reference_kernels
  bool bfloat16_float = false;              // InterpreterOptions::float_precision is kBFloat16
  bool winograd_float = false;  // InterpreterOptions::float_precision is kFloat32Winograd
  size_t memory_limit = 0;  // InterpreterOptions::max_arena_bytes (0: none): setup memory cap
  // Prepare only checks shapes (the arena could not be had; no Invoke follows): tensor shapes may
  // then be far larger than any memory, so a kernel allocates no buffer sized by them.
  bool shapes_only = false;
  const FusedResidualAdd* fused = nullptr;  // ops fused into this one (LceBconv2d only)
  // An LceQuantize of this op's float output fused into it (CONV_2D, or the first op of an
  // elementwise chain; runtime/fusion.h): the kernel also writes the packed bits there.
  RuntimeTensor* fused_packed = nullptr;
  // A MAX_POOL_2D of this op's output fused into it (CONV_2D, or the first op of an elementwise
  // chain whose last value it pools): the pool's own context. For a CONV_2D, then
  // fused_after_pool lists float ADD/SUB/MUL ops with a constant per-channel or scalar operand,
  // or PRELUs with such a slope, applied to each pooled row in turn (a batch norm after the
  // pooling), and fused_packed is an LceQuantize of the last of those outputs (of the pooled
  // output without them). fused_before_pool lists such ops between the convolution and the
  // pooling: the kernel applies them in place to each band of its output rows before pooling.
  const OpContext* fused_pool = nullptr;
  std::vector<const OpContext*> fused_after_pool;
  std::vector<const OpContext*> fused_before_pool;
  // A grouped convolution this CONV_2D runs (runtime/fusion.h, GroupConvFusion): the
  // convolution of every part in order (this one among them), the SPLIT that cuts their input
  // from its own and the CONCATENATION of their outputs. The kernel reads the SPLIT's input and
  // writes the CONCATENATION's output, which a fused pooling or LceQuantize then reads.
  std::vector<const OpContext*> fused_group;
  const OpContext* fused_split = nullptr;
  const OpContext* fused_group_concat = nullptr;
  // Elementwise ops run by this one (runtime/fusion.h, ChainFusion; a float ADD, SUB, MUL, DIV,
  // MAXIMUM, MINIMUM or PRELU hosts them), in order; fused_packed is then an LceQuantize of the
  // last one's output (of this op's output without them).
  std::vector<const OpContext*> fused_chain;
  // This chain's value is not written: its LceQuantize's bits come from ChainBits jobs
  // (runtime/fusion.h), those in fused_chain_bits run by this op among them.
  bool chain_bits_only = false;
  std::vector<ChainBitsJob> fused_chain_bits;
  // A float MAX_POOL_2D whose output is this op's input 0 and has no memory (a float
  // DEPTHWISE_CONV_2D; runtime/fusion.h, DepthwisePoolFusion): the pool's own context; the kernel
  // pools the rows it reads from the pool's input.
  const OpContext* fused_input_pool = nullptr;
  // A PAD of one of this op's inputs (a float ADD; runtime/fusion.h, PadAddFusion): the ADD reads
  // the PAD's input and adds +0.0 in the padded channels; the PAD's output has no memory.
  const OpContext* fused_pad = nullptr;
  // A CONCATENATION along the last axis among this op's inputs that has no memory (a float
  // elementwise op; runtime/fusion.h, ConcatFusion): the op reads that input from these parts,
  // side by side.
  const RuntimeTensor* fused_concat = nullptr;
  std::vector<const RuntimeTensor*> fused_concat_parts;
  // Set by Invoke when the op's input values make it fail (GATHER's indices out of range, when
  // they are not constant and so could not be checked in Prepare). The interpreter returns it from
  // Interpreter::Invoke (TakeInvokeError). Only this failure path builds a message (allocates).
  Status invoke_error;

  size_t num_inputs() const { return inputs.size(); }
  RuntimeTensor* input(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
  RuntimeTensor* output(size_t i) const { return i < outputs.size() ? outputs[i] : nullptr; }
  const graph::BuiltinOptions& options() const { return op->builtin_options; }
  // The op's LCE options as the model reader parsed them; null when it holds none of type T.
  template <typename T>
  const T* lce_options() const {
    return std::get_if<T>(&op->lce_options);
  }
  // "op 3 (CONV_2D): " + message
  Status Error(const std::string& message) const;
  // invoke_error, which is cleared so that the next run starts clean.
  Status TakeInvokeError();
};

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  virtual Status Prepare(OpContext& ctx) = 0;
  // Cannot fail, except where the op's input values can be invalid: then it sets
  // ctx.invoke_error and returns early.
  virtual void Invoke(OpContext& ctx) = 0;
};

using KernelFactory = std::unique_ptr<OpKernel> (*)();

// Helpers shared by kernels.
Status ExpectType(const OpContext& ctx, const RuntimeTensor* t, graph::DType type,
                  const char* what);
Status ExpectSameShape(const OpContext& ctx, const RuntimeTensor* a, const RuntimeTensor* b);
std::string ShapeString(const std::vector<int32_t>& shape);

// fn() (a Status), with std::bad_alloc turned into an error "out of memory while <what>": a
// kernel's packed weights and tables are allocated in Prepare and may not fit where the arena did.
template <typename F>
Status CatchOutOfMemory(const char* what, F&& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status::Error(std::string("out of memory while ") + what);
  }
}

}  // namespace xbnn::runtime

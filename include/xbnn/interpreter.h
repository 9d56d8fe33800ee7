// Runs a Model: plans one arena, prepares every op once, then Invoke() runs without allocating.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xbnn/model.h"
#include "xbnn/status.h"
#include "xbnn/tensor.h"

namespace xbnn {

// The arithmetic of float convolutions.
enum class FloatPrecision {
  kFloat32,   // float32 products and sums, as LCE and TFLite (the default)
  kBFloat16,  // opt-in, on CPUs with AVX512-BF16: the 7x7 stems and 1x1 convolutions multiply
              // bfloat16-rounded inputs and weights (8 significant bits) and sum in float32 (on
              // the AMX tile unit where the CPU has AMX-BF16);
              // other ops, and CPUs without AVX512-BF16, stay float32. Outputs differ from LCE's
              // (see docs/performance.md for the effect on the Larq Zoo models).
  kFloat32Winograd,  // opt-in, on CPUs with AVX2 or AVX-512: float32, but the 7x7 stride-2 stems
                     // multiply in the Winograd domain (4x fewer products, other rounding);
                     // outputs differ slightly from LCE's (see docs/performance.md). Other
                     // ops and CPUs stay on the plain sums.
};

struct InterpreterOptions {
  int num_threads = 1;
  // Record the time of every op in Invoke (see op_profile()).
  bool profile = false;
  // Run the LCE ops with the plain reference kernels (the oracle) instead of the optimized
  // ones: slow, for checking and debugging (LCE's use_reference_bconv).
  bool use_reference_kernels = false;
  // The most memory the interpreter may take for activations: the planned arena plus tensors it
  // computes at load time. A model that needs more is refused before anything is allocated, with
  // the planned size in the message (a hostile model must not fill the machine). 0: no limit.
  // Default 4 GiB (2 GiB where size_t has 32 bits).
  size_t max_arena_bytes = size_t{1} << (sizeof(size_t) >= 8 ? 32 : 31);
  // Fuse ops at load time where the result is bit-identical (a residual ADD and the LceQuantize
  // of its sum into the preceding LceBconv2d). Off: every op runs on its own (for comparisons).
  bool fuse_ops = true;
  FloatPrecision float_precision = FloatPrecision::kFloat32;
  // The shapes to run the model's inputs at, one per input in order, instead of the file's (as
  // TFLite's ResizeInputTensor): another batch, or another height and width for a model whose
  // ops allow it (convolutions and pools do; a RESHAPE to a fixed size or a pool over the whole
  // file-sized map does not, and fails naming the op). Same rank as the file's, every dimension
  // positive. Inputs without a shape (an empty one, or past the end) keep the file's.
  std::vector<std::vector<int32_t>> input_shapes;
};

struct OpProfile {
  int index = 0;
  std::string op;  // "CONV_2D", "LceBconv2d", ...
  std::vector<int32_t> output_shape;
  // An op fused into another has none: they count at the op that runs it.
  int64_t binary_macs = 0, float_macs = 0, int8_macs = 0;
  double total_seconds = 0;  // summed over the invokes since the last reset
  int64_t invokes = 0;
  int fused_into = -1;  // the op whose kernel does this op's work (fuse_ops), or -1
};

struct MemoryStats {
  size_t arena_bytes = 0;           // the planned arena
  size_t activation_bytes_sum = 0;  // all activation tensors laid end to end
  size_t prepared_bytes = 0;        // repacked weights and other per-op state
};

// What the thread pool did since the interpreter was created (num_threads > 1). On a machine
// whose cores run other work the pool runs ops on the calling thread alone for a while (it backs
// off), so that extra threads never make an inference slower than one thread.
struct ThreadStats {
  int64_t parallel_jobs = 0;  // parallel op steps shared with the workers
  int64_t serial_jobs = 0;    // steps run on the calling thread alone while backing off
  int64_t stalls = 0;         // steps that waited for a worker the OS had preempted
  int64_t back_offs = 0;      // windows of steps in which the workers did not help
  int64_t tasks = 0;          // tasks of the parallel steps
  int64_t caller_tasks = 0;   // of which the calling thread ran
  int64_t worker_moves = 0;   // workers that woke on the calling thread's CPU and moved away
};

class Interpreter {
 public:
  static Result<std::unique_ptr<Interpreter>> Create(std::shared_ptr<const Model> model,
                                                     const InterpreterOptions& options = {});
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  size_t num_inputs() const;
  size_t num_outputs() const;
  // Write inputs through these views before Invoke(); read outputs after.
  TensorView input(size_t i);
  TensorView output(size_t i);
  const TensorInfo& input_info(size_t i) const;
  const TensorInfo& output_info(size_t i) const;

  // Fails only where input values are invalid for an op (a GATHER index outside the gathered
  // axis): the error names the op, and the outputs are then unspecified.
  Status Invoke();

  const MemoryStats& memory() const;
  const std::vector<OpProfile>& op_profile() const;
  void ResetProfile();
  int num_threads() const;
  ThreadStats thread_stats() const;

 private:
  struct Impl;
  explicit Interpreter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace xbnn

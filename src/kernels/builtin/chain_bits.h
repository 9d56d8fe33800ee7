// The jobs of runtime/fusion.h's ChainBits run by an elementwise chain's first op: per job, a part
// of a (later or its own) chain's input through that chain's ops and its LceQuantize, into the
// chain's packed output at the part's words. The same FloatRowsVector (or per-op BinaryRowsF32)
// calls on the same values as the chain computing its whole input, and the same pack kernel on
// each value: the same bits.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "kernels/builtin/common.h"
#include "kernels/builtin/vector_loops.h"

namespace xbnn::kernels::builtin {

class ChainBitsRunner {
 public:
  ChainBitsRunner();
  ~ChainBitsRunner();
  // From ctx.fused_chain_bits; errors name the chain that cannot run as a job.
  Status Prepare(const OpContext& ctx);
  void Run(const OpContext& ctx) const;

 private:
  struct Job {
    const RuntimeTensor* part = nullptr;
    int64_t channels = 0;                // the part's
    FloatBinary op = FloatBinary::kAdd;  // the chain's first op: x op k (or k op x with k_first)
    bool k_first = false;
    const float* k = nullptr;  // its operand from the part's first channel; ks 0: one value
    int64_t ks = 0;
    float lo = 0, hi = 0;
    std::array<FloatStep, kMaxFloatSteps> steps{};
    int nsteps = 0;
    RuntimeTensor* packed = nullptr;
    int64_t words = 0, word0 = 0;                 // the packed rows' words, the part's first
    std::unique_ptr<optimized::PackKernel> pack;  // of the part's channels
    bool batch_norm = false;  // MUL then ADD of per-channel constants on AVX-512: one pass
  };
  Status PrepareJob(const runtime::ChainBitsJob& j, int64_t rows, Job* job) const;
  void RunBlock(const Job& job, int64_t q, int64_t m, float* buf, int32_t* words) const;

  std::vector<Job> jobs_;
  int64_t rows_ = 0, block_rows_ = 1, block_ = 0;  // block_: floats per scratch block
  double seconds_ = 0;
  // Per thread: two float blocks and their packed words.
  mutable std::vector<float> scratch_;
  mutable std::vector<int32_t> words_;
};

}  // namespace xbnn::kernels::builtin

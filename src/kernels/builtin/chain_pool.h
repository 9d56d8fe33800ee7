// A MAX_POOL_2D of an elementwise chain's last value run by the chain's first op
// (runtime/fusion.h, ChainPoolFusion; BinaryDenseNet's batch norm before each transition's
// pooling): per pooling row, the chain's values of the input rows its windows read go to the
// thread's scratch rows, and the pooling row is computed from them with the separate op's row
// loop on the same values. The chain's value never goes to memory.
#pragma once

#include <vector>

#include "kernels/builtin/common.h"
#include "kernels/builtin/pooling.h"

namespace xbnn::kernels::builtin {

class ChainPool {
 public:
  // ctx.fused_pool of the chain's first op; `value`: the chain's last value (the pool's input).
  Status Prepare(const OpContext& ctx, const RuntimeTensor* value);
  bool active() const { return pool_ctx_ != nullptr; }
  // The chain's inputs as FloatChain::Run takes them.
  void Run(const OpContext& ctx, const FloatChain& chain, const float* a, const float* b,
           FloatChain::FirstRows first = nullptr, const void* self = nullptr,
           FloatChain::FirstChain first_chain = nullptr) const;

 private:
  const OpContext* pool_ctx_ = nullptr;
  PoolGeometry pool_;
  double seconds_ = 0;
  int64_t rows_floats_ = 0;             // per thread: the input rows of one window
  mutable std::vector<float> scratch_;  // written by Run
};

}  // namespace xbnn::kernels::builtin

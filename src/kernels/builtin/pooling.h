// The options and checks of MAX_POOL_2D and AVERAGE_POOL_2D, shared by the pooling kernels and by
// CONV_2D, which runs a float max pooling fused into it (runtime/fusion.h).
#pragma once

#include "kernels/builtin/common.h"
#include "kernels/builtin/vector_loops.h"

namespace xbnn::kernels::builtin {

struct PoolGeometry {
  int batch = 0;
  AxisGeometry gh, gw;
  Activation act = Activation::kNone;
  MaxPoolGeometry rows;  // what the float row loops take (lo/hi: the activation's float range)
  double seconds = 0;    // estimated single-thread time
};

// Reads the pooling op `ctx`: one float32 or int8 NHWC input, an output of the same type and the
// shape the options give.
Status ReadPool(const OpContext& ctx, PoolGeometry* p);

}  // namespace xbnn::kernels::builtin

// DEPTHWISE_CONV_2D (versions 1-3): float32 in TFLite's arithmetic (depthwise_direct.h), int8 with
// per-tensor or per-channel weights in TFLite's integer arithmetic. Any depth multiplier, dilation,
// padding and stride.
#include "kernels/builtin/common.h"
#include "kernels/builtin/conv_common.h"
#include "kernels/builtin/depthwise_direct.h"
#include "kernels/builtin/pooling.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

constexpr int kQuantizeBlock = 8;

class DepthwiseConv2D final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, 3));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    filter_ = ctx.input(1);
    bias_ = ctx.input(2);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(ExpectRank(ctx, in_, 4, "input"));
    XBNN_RETURN_IF_ERROR(ExpectRank(ctx, filter_, 4, "filter"));
    XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, filter_, "filter"));
    if (bias_) XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, bias_, "bias"));
    if (filter_->dim(0) != 1) {
      return ctx.Error("filter " + TensorName(filter_) + " must have shape [1, KH, KW, C*M], found " +
                       ShapeString(filter_->shape()));
    }
    g_.batch = in_->dim(0);
    g_.in_h = in_->dim(1);
    g_.in_w = in_->dim(2);
    g_.in_c = in_->dim(3);
    g_.k_h = filter_->dim(1);
    g_.k_w = filter_->dim(2);
    g_.out_c = filter_->dim(3);
    if (g_.in_c < 1 || g_.out_c % g_.in_c != 0) {
      return ctx.Error("filter has " + std::to_string(g_.out_c) +
                       " output channels, not a multiple of the input's " +
                       std::to_string(g_.in_c));
    }
    // The multiplier follows from the shapes (as TFLite computes it); the option must agree when set.
    mult_ = g_.out_c / g_.in_c;
    const auto& o = ctx.options();
    const int64_t opt_mult = o.GetInt("depth_multiplier", 0);
    if (opt_mult != 0 && opt_mult != mult_ && g_.in_c != 1) {
      return ctx.Error("depth_multiplier " + std::to_string(opt_mult) +
                       " disagrees with the shapes: " + std::to_string(g_.in_c) + " input and " +
                       std::to_string(g_.out_c) + " output channels");
    }
    XBNN_RETURN_IF_ERROR(PrepareConvGeometry(ctx, out_, bias_, &g_));
    const double macs =
        static_cast<double>(g_.batch) * g_.gh.out * g_.gw.out * g_.out_c * g_.k_h * g_.k_w;
    seconds_ = macs / (in_->type() == DType::kFloat32 ? DepthwiseMacsPerSecond(g_.out_c)
                                                      : kInt8MacsPerSecond);
    if (in_->type() == DType::kFloat32) return PrepareFloat(ctx);
    if (in_->type() == DType::kInt8) {
      if (filter_->type() != DType::kInt8) {
        return ctx.Error(std::string("int8 input needs an int8 filter, found ") + graph::DTypeName(filter_->type()));
      }
      XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, DType::kInt8, "output"));
      XBNN_RETURN_IF_ERROR(
          PrepareChannelRequant(ctx, in_, filter_, bias_, out_, g_.out_c, 3, g_.act, &rq_));
      // TFLite's x86 depthwise conv (DepthwiseConvGeneral) requantizes through
      // optimized_ops::Quantize: NEON blocks of 8 channels round ties up, the last out_c % 8
      // channels take the scalar MultiplyByQuantizedMultiplier.
      rq_.round_up_channels = g_.out_c - g_.out_c % kQuantizeBlock;
      acc_.assign(static_cast<size_t>(NumThreads(ctx)) * g_.out_c, 0);
      return Status::Ok();
    }
    return ctx.Error("input " + TensorName(in_) + " has type " + graph::DTypeName(in_->type()) +
                     ", supported: float32, int8");
  }

  void Invoke(OpContext& ctx) override {
    if (pool_ctx_ != nullptr) {
      InvokePooled(ctx);
    } else if (direct_.prepared()) {
      const float* in = in_->as<float>();
      float* out = out_->as<float>();
      auto rows = [&](int, int row) { direct_.RunRows(in, out, row, row + 1); };
      ParallelFor(ctx, direct_.rows(), rows, seconds_);
    } else {
      InvokeInt8(ctx);
    }
  }

 private:
  Status PrepareFloat(OpContext& ctx) {
    XBNN_RETURN_IF_ERROR(PrepareFloatWeights(ctx, filter_, bias_, out_));
    const DepthwiseGeometry dg{
        g_.batch,  g_.in_h,     g_.in_w,     g_.in_c,          g_.gh.out,
        g_.gw.out, g_.stride_h, g_.stride_w, g_.gh.pad_before, g_.gw.pad_before,
        g_.k_h,    g_.k_w,      mult_,       g_.dil_h,         g_.dil_w};
    float lo, hi;
    FloatActivationRange(g_.act, &lo, &hi);
    direct_.Prepare(dg, filter_->as<float>(), bias_ ? bias_->as<float>() : nullptr, lo, hi);
    // Estimated low on purpose so that most are split: each thread then reads the rows its own
    // core wrote (the max pool before it is split too); QuickNet's 14x14x128 one ran 2.5x its
    // one-thread time on one thread of two, reading half its input from the other core.
    seconds_ = static_cast<double>(g_.batch) * g_.gh.out * g_.gw.out * g_.out_c * g_.k_h * g_.k_w /
               kDirectDepthwiseMacsPerSecond;
    if (ctx.prepared_bytes) *ctx.prepared_bytes += direct_.bytes();
    if (ctx.fused_input_pool) return PreparePool(ctx);
    return Status::Ok();
  }

  // A MAX_POOL_2D fused before it (runtime/fusion.h, DepthwisePoolFusion): the pooling's
  // geometry, and per thread three scratch rows for the pooled rows an output row reads; where
  // the direct kernel does not run, one scratch image for the whole pooled input.
  Status PreparePool(const OpContext& ctx) {
    const OpContext& pool = *ctx.fused_input_pool;
    XBNN_RETURN_IF_ERROR(ReadPool(pool, &pool_));
    if (pool.output(0) != in_ || pool.input(0)->type() != DType::kFloat32) {
      return pool.Error("a pooling fused into a depthwise convolution must give its float input");
    }
    pool_ctx_ = &pool;
    row_floats_ = int64_t{g_.in_w} * g_.in_c;
    const int threads = NumThreads(ctx);
    const int64_t floats = direct_.direct() ? int64_t{threads} * 3 * row_floats_
                                            : int64_t{g_.batch} * g_.in_h * row_floats_;
    if (!ctx.shapes_only) scratch_ = optimized::AlignedBuffer<float>(static_cast<size_t>(floats));
    rings_.assign(static_cast<size_t>(threads), Ring{});
    seconds_ += pool_.seconds;
    return Status::Ok();
  }

  // Output rows as tasks. Each thread pools the rows its output rows read from the pooling's
  // input into its three scratch rows (row r of batch * in_h in slot r % 3; the three rows an
  // output row reads are consecutive), keeps them for its next output rows (its tasks are
  // neighbours, task_runner.h) and convolves them while they are in L1: QuickNet's 55x55x64
  // pooling is never written. Each pooled row is the separate op's MaxPoolRowF32, so the
  // outputs are the separate ops' bits.
  void InvokePooled(OpContext& ctx) {
    const float* x = pool_ctx_->input(0)->as<float>();
    float* out = out_->as<float>();
    float* scratch = scratch_.data();
    const MaxPoolGeometry& pg = pool_.rows;
    const int in_h = g_.in_h;
    if (!direct_.direct()) {
      auto pool_row = [&](int, int r) {
        MaxPoolRowF32(pg, x, scratch + r * row_floats_, r / in_h, r % in_h);
      };
      ParallelFor(ctx, g_.batch * in_h, pool_row, pool_.seconds);
      auto conv_row = [&](int, int r) { direct_.RunRows(scratch, out, r, r + 1); };
      ParallelFor(ctx, direct_.rows(), conv_row, seconds_);
      return;
    }
    const int64_t run = ++runs_;
    auto row = [&](int thread, int r) {
      int needed[3];
      direct_.InputRows(r, needed);
      Ring& ring = rings_[static_cast<size_t>(thread)];
      if (ring.run != run) ring = Ring{run, {-1, -1, -1}};
      float* slots = scratch + int64_t{thread} * 3 * row_floats_;
      const float* rows[3];
      for (int ky = 0; ky < 3; ++ky) {
        const int q = needed[ky];
        rows[ky] = q < 0 ? nullptr : slots + q % 3 * row_floats_;
        if (q < 0 || ring.row[q % 3] == q) continue;
        MaxPoolRowF32(pg, x, slots + q % 3 * row_floats_, q / in_h, q % in_h);
        ring.row[q % 3] = q;
      }
      direct_.RunRowFrom(rows, out, r);
    };
    ParallelFor(ctx, direct_.rows(), row, seconds_);
  }

  void InvokeInt8(OpContext& ctx) {
    const int8_t* in = in_->as<int8_t>();
    const int8_t* w = filter_->as<int8_t>();
    const int32_t* bias = bias_ ? bias_->as<int32_t>() : nullptr;
    int8_t* out = out_->as<int8_t>();
    const int32_t in_off = rq_.input_offset;
    auto row = [&](int thread, int task) {
      int32_t* acc = acc_.data() + static_cast<size_t>(thread) * g_.out_c;
      Int8ConvRow(g_, rq_, in, bias, out, acc, task,
                  [&](int32_t* a, const int8_t* x, int ky, int kx) {
                    const int8_t* f = w + (static_cast<int64_t>(ky) * g_.k_w + kx) * g_.out_c;
                    if (mult_ == 1) {
                      for (int c = 0; c < g_.in_c; ++c)
                        a[c] += static_cast<int32_t>(f[c]) * (x[c] + in_off);
                    } else {
                      for (int c = 0; c < g_.in_c; ++c) {
                        const int32_t xv = x[c] + in_off;
                        for (int m = 0; m < mult_; ++m)
                          a[c * mult_ + m] += static_cast<int32_t>(f[c * mult_ + m]) * xv;
                      }
                    }
                  });
    };
    ParallelFor(ctx, g_.batch * g_.gh.out, row, seconds_);
  }

  RuntimeTensor *in_ = nullptr, *filter_ = nullptr, *bias_ = nullptr, *out_ = nullptr;
  ConvGeometry g_;
  int mult_ = 1;
  double seconds_ = 0;            // estimated single-thread time
  DirectDepthwiseF32 direct_;     // float32
  // A fused MAX_POOL_2D before it (PreparePool): its context and geometry, floats per input row,
  // per thread 3 scratch rows (or one pooled image) and which pooled rows they hold in which run.
  struct Ring {
    int64_t run = -1;
    int row[3] = {-1, -1, -1};
  };
  const OpContext* pool_ctx_ = nullptr;
  PoolGeometry pool_;
  int64_t row_floats_ = 0;
  optimized::AlignedBuffer<float> scratch_;
  std::vector<Ring> rings_;
  int64_t runs_ = 0;
  ChannelRequant rq_;
  std::vector<int32_t> acc_;
};

// Filter [1, KH, KW, Cout]: every output value takes KH * KW MACs.
ops::OpCost DepthwiseCost(const ops::CostQuery& q) {
  if (q.filter.shape.size() != 4 || q.out.shape.size() != 4) return {};
  return ops::DenseMacs(q.in,
                        ops::DimProduct(q.out.shape, 0, 4) * q.filter.shape[1] * q.filter.shape[2]);
}

std::optional<ops::Shape> DepthwiseShape(const ops::ShapeQuery& q) {
  return ops::ConvShape(q, true);
}

}  // namespace

// Versions: 2 dilation, 3 int8.
extern const ops::OpDef kDepthwiseConv2DOp{
    .signature =
        graph::BuiltinSignature(graph::op::kDepthwiseConv2D, 2, 3,
                                graph::options_type::kDepthwiseConv2D, graph::OptionalInput(2)),
    .max_version = 3,
    .shape = DepthwiseShape,
    .cost = DepthwiseCost,
    .create = ops::MakeKernel<DepthwiseConv2D>,
};

}  // namespace xbnn::kernels

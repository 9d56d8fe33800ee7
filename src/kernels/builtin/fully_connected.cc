// FULLY_CONNECTED (versions 1-6): float32 on XNNPACK (one row on AVX-512 CPUs: a GEMV of our
// own), int8 (per-tensor or per-channel weights) in TFLite's integer arithmetic. keep_num_dims
// and the optional bias are supported; shuffled weights and hybrid (float input, int8 weights)
// are not.
#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized on _mm512_undefined_* (GCC PR105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#endif

#include "kernels/builtin/common.h"
#include "kernels/builtin/conv_common.h"
#include "kernels/builtin/xnn_chunks.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

constexpr int kUnitsPerTask = 16;

// The one-row float GEMV: weights packed as [units / 16][depth][16] (zero units past the end),
// so that each input value, broadcast, multiplies 16 units' weights with one load; four blocks of
// 16 units per step keep four independent sums. Per unit: acc = bias, then fma(x[d], w[d], acc)
// for d in order, then the activation clamp (the same bits on any thread count). The weights
// (2 MB in the Larq Zoo models' classifiers) stream from L3: QuickNet's 512 -> 1000 layer took
// 27-31 us on XNNPACK and ~20 us here (Zen 5).
constexpr int kGemvLanes = 16;
constexpr int kGemvBlocksPerTask = 4;

#if defined(__x86_64__)
// The activation clamp of block b's sums and their store. std::min(std::max(v, lo), hi) lane by
// lane: vmaxps / vminps return their second operand for NaN, as std::max / std::min return their
// first argument.
__attribute__((target("avx512f"), always_inline)) inline void GemvStore(__m512 acc, __m512 vlo,
                                                                        __m512 vhi, int b,
                                                                        int units, float* y) {
  acc = _mm512_min_ps(vhi, _mm512_max_ps(vlo, acc));
  const int u0 = b * kGemvLanes;
  const int n = std::min(kGemvLanes, units - u0);
  _mm512_mask_storeu_ps(y + u0, static_cast<__mmask16>((1u << n) - 1), acc);
}

__attribute__((target("avx512f"))) void GemvBlocksAvx512(const float* x, const float* packed,
                                                         const float* bias, int depth, int b0,
                                                         int b1, float lo, float hi, int units,
                                                         float* y) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  int b = b0;
  for (; b + 4 <= b1; b += 4) {
    const float* w = packed + static_cast<int64_t>(b) * depth * kGemvLanes;
    const int64_t step = int64_t{depth} * kGemvLanes;
    __m512 a0 = _mm512_loadu_ps(bias + (b + 0) * kGemvLanes);
    __m512 a1 = _mm512_loadu_ps(bias + (b + 1) * kGemvLanes);
    __m512 a2 = _mm512_loadu_ps(bias + (b + 2) * kGemvLanes);
    __m512 a3 = _mm512_loadu_ps(bias + (b + 3) * kGemvLanes);
    for (int d = 0; d < depth; ++d) {
      const __m512 v = _mm512_set1_ps(x[d]);
      const float* wd = w + d * kGemvLanes;
      a0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(wd), a0);
      a1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(wd + step), a1);
      a2 = _mm512_fmadd_ps(v, _mm512_loadu_ps(wd + 2 * step), a2);
      a3 = _mm512_fmadd_ps(v, _mm512_loadu_ps(wd + 3 * step), a3);
    }
    GemvStore(a0, vlo, vhi, b, units, y);
    GemvStore(a1, vlo, vhi, b + 1, units, y);
    GemvStore(a2, vlo, vhi, b + 2, units, y);
    GemvStore(a3, vlo, vhi, b + 3, units, y);
  }
  for (; b < b1; ++b) {
    const float* w = packed + static_cast<int64_t>(b) * depth * kGemvLanes;
    __m512 a = _mm512_loadu_ps(bias + b * kGemvLanes);
    for (int d = 0; d < depth; ++d) {
      a = _mm512_fmadd_ps(_mm512_set1_ps(x[d]), _mm512_loadu_ps(w + d * kGemvLanes), a);
    }
    GemvStore(a, vlo, vhi, b, units, y);
  }
}
#endif

class FullyConnected final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, 3));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    filter_ = ctx.input(1);
    bias_ = ctx.input(2);
    out_ = ctx.output(0);
    const auto& o = ctx.options();
    XBNN_RETURN_IF_ERROR(ReadActivation(ctx, &act_));
    if (o.GetInt("weights_format", 0) != 0) {
      return ctx.Error("weights_format SHUFFLED4x16INT8 is not supported (only DEFAULT)");
    }
    XBNN_RETURN_IF_ERROR(ExpectRank(ctx, filter_, 2, "filter"));
    XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, filter_, "filter"));
    if (bias_) XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, bias_, "bias"));
    units_ = filter_->dim(0);
    depth_ = filter_->dim(1);
    if (units_ < 1 || depth_ < 1) return ctx.Error("filter has an empty shape " + ShapeString(filter_->shape()));
    if (in_->rank() < 1 || in_->elements() % depth_ != 0) {
      return ctx.Error("input " + TensorName(in_) + " of shape " + ShapeString(in_->shape()) +
                       " does not split into rows of the filter's " + std::to_string(depth_) + " values");
    }
    batch_ = static_cast<int>(in_->elements() / depth_);
    std::vector<int32_t> expected;
    if (o.GetInt("keep_num_dims", 0) != 0) {
      if (in_->shape().back() != depth_) {
        return ctx.Error("keep_num_dims needs the input's last dimension (" + std::to_string(in_->shape().back()) +
                         ") to equal the filter depth " + std::to_string(depth_));
      }
      expected = in_->shape();
      expected.back() = units_;
    } else {
      expected = {batch_, units_};
    }
    XBNN_RETURN_IF_ERROR(ExpectShape(ctx, out_, expected, "output"));
    XBNN_RETURN_IF_ERROR(ExpectBiasLength(ctx, bias_, units_));
    const double macs = static_cast<double>(batch_) * units_ * depth_;
    seconds_ = macs / (in_->type() != DType::kFloat32 ? kInt8MacsPerSecond
                       : batch_ == 1                  ? kGemvMacsPerSecond
                                                      : kConvMacsPerSecond);
    if (in_->type() == DType::kFloat32) return PrepareFloat(ctx);
    if (in_->type() == DType::kInt8) return PrepareInt8(ctx);
    return ctx.Error("input " + TensorName(in_) + " has type " + graph::DTypeName(in_->type()) +
                     ", supported: float32, int8");
  }

  void Invoke(OpContext& ctx) override {
    if (!gemv_.empty()) {
      InvokeGemv(ctx);
    } else if (!xnn_.empty()) {
      xnn_.Run(ctx);
    } else {
      InvokeInt8(ctx);
    }
  }

 private:
  Status PrepareFloat(OpContext& ctx) {
    XBNN_RETURN_IF_ERROR(PrepareFloatWeights(ctx, filter_, bias_, out_));
    float lo, hi;
    FloatActivationRange(act_, &lo, &hi);
#if defined(__x86_64__)
    if (batch_ == 1 && __builtin_cpu_supports("avx512f")) {
      lo_ = lo;
      hi_ = hi;
      const int blocks = (units_ + kGemvLanes - 1) / kGemvLanes;
      const size_t padded = static_cast<size_t>(blocks) * kGemvLanes;
      if (ctx.shapes_only) return Status::Ok();
      gemv_.assign(padded * static_cast<size_t>(depth_), 0.0f);
      gemv_bias_.assign(padded, 0.0f);
      const float* w = filter_->as<float>();
      for (int u = 0; u < units_; ++u) {
        float* dst = gemv_.data() + static_cast<size_t>(u / kGemvLanes) * depth_ * kGemvLanes +
                     u % kGemvLanes;
        const float* src = w + static_cast<size_t>(u) * depth_;
        for (int d = 0; d < depth_; ++d) dst[static_cast<size_t>(d) * kGemvLanes] = src[d];
        if (bias_) gemv_bias_[static_cast<size_t>(u)] = bias_->as<float>()[u];
      }
      if (ctx.prepared_bytes) *ctx.prepared_bytes += (gemv_.size() + gemv_bias_.size()) * 4;
      return Status::Ok();
    }
#endif
    XnnFcDesc d;
    d.batch = batch_;
    d.depth = depth_;
    d.units = units_;
    d.filter = filter_->as<float>();
    d.bias = bias_ ? bias_->as<float>() : nullptr;
    d.min = lo;
    d.max = hi;
    d.input = in_->as<float>();
    d.output = out_->as<float>();
    d.seconds = seconds_;
    return CreateXnnFullyConnected(ctx, d, &xnn_);
  }

  Status PrepareInt8(OpContext& ctx) {
    if (filter_->type() != DType::kInt8) {
      return ctx.Error(std::string("int8 input needs an int8 filter, found ") + graph::DTypeName(filter_->type()));
    }
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, DType::kInt8, "output"));
    const graph::Quantization* fq = filter_->quant();
    if (fq && fq->scale.size() > 1) {
      // Per-channel weights: TFLite multiplies the scales in double, as for convolutions.
      return PrepareChannelRequant(ctx, in_, filter_, bias_, out_, units_, 0, act_, &rq_);
    }
    // Per-tensor weights, which may carry a zero point. TFLite forms the product of the input and
    // filter scales in float before widening to double (GetQuantizedConvolutionMultipler).
    QuantParams in_q, f_q, out_q;
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, in_, "input", &in_q));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, filter_, "filter", &f_q));
    XBNN_RETURN_IF_ERROR(GetQuant(ctx, out_, "output", &out_q));
    const float product = in_q.scale * f_q.scale;
    if (bias_) {
      XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, bias_, DType::kInt32, "bias"));
      // TFLite refuses a bias whose scale is not (nearly) input_scale * filter_scale.
      const graph::Quantization* bq = bias_->quant();
      const double bias_scale = bq && !bq->scale.empty() ? bq->scale[0] : 0.0;
      const double input_product = static_cast<double>(in_q.scale) * static_cast<double>(f_q.scale);
      if (std::abs(input_product - bias_scale) / out_q.scale > 0.02) {
        return ctx.Error("bias " + TensorName(bias_) + " has scale " + std::to_string(bias_scale) +
                         ", but input_scale * filter_scale is " + std::to_string(input_product));
      }
    }
    const double real = static_cast<double>(product) / static_cast<double>(out_q.scale);
    rq_.multiplier.assign(units_, 0);
    rq_.shift.assign(units_, 0);
    QuantizeMultiplier(real, &rq_.multiplier[0], &rq_.shift[0]);
    if (rq_.shift[0] > 30) return ctx.Error("requantization multiplier " + std::to_string(real) + " is too large");
    for (int u = 1; u < units_; ++u) {
      rq_.multiplier[u] = rq_.multiplier[0];
      rq_.shift[u] = rq_.shift[0];
    }
    rq_.input_offset = -in_q.zero_point;
    rq_.output_offset = out_q.zero_point;
    filter_offset_ = -f_q.zero_point;
    return QuantizedActivationRange(ctx, act_, out_q.scale, out_q.zero_point, DType::kInt8, &rq_.act_min,
                                    &rq_.act_max);
  }

  void InvokeGemv(OpContext& ctx) {
#if defined(__x86_64__)
    const float* x = in_->as<float>();
    float* y = out_->as<float>();
    const int blocks = (units_ + kGemvLanes - 1) / kGemvLanes;
    const int tasks = (blocks + kGemvBlocksPerTask - 1) / kGemvBlocksPerTask;
    auto task = [&](int, int t) {
      const int b0 = t * kGemvBlocksPerTask;
      GemvBlocksAvx512(x, gemv_.data(), gemv_bias_.data(), depth_, b0,
                       std::min(blocks, b0 + kGemvBlocksPerTask), lo_, hi_, units_, y);
    };
    ParallelFor(ctx, tasks, task, seconds_);
#else
    (void)ctx;
#endif
  }

  void InvokeInt8(OpContext& ctx) {
    const int8_t* in = in_->as<int8_t>();
    const int8_t* w = filter_->as<int8_t>();
    const int32_t* bias = bias_ ? bias_->as<int32_t>() : nullptr;
    int8_t* out = out_->as<int8_t>();
    const int blocks = (units_ + kUnitsPerTask - 1) / kUnitsPerTask;
    const int32_t in_off = rq_.input_offset, f_off = filter_offset_;
    auto task = [&](int, int t) {
      const int b = t / blocks, u0 = (t % blocks) * kUnitsPerTask;
      const int u1 = std::min(units_, u0 + kUnitsPerTask);
      const int8_t* x = in + static_cast<int64_t>(b) * depth_;
      for (int u = u0; u < u1; ++u) {
        const int8_t* f = w + static_cast<int64_t>(u) * depth_;
        int32_t acc = 0;
        for (int k = 0; k < depth_; ++k) acc += (f[k] + f_off) * (x[k] + in_off);
        if (bias) acc += bias[u];
        out[static_cast<int64_t>(b) * units_ + u] = rq_.Apply(acc, u);
      }
    };
    ParallelFor(ctx, batch_ * blocks, task, seconds_);
  }

  RuntimeTensor *in_ = nullptr, *filter_ = nullptr, *bias_ = nullptr, *out_ = nullptr;
  int batch_ = 0, units_ = 0, depth_ = 0;
  int32_t filter_offset_ = 0;
  Activation act_ = Activation::kNone;
  double seconds_ = 0;            // estimated single-thread time
  XnnChunks xnn_;
  std::vector<float> gemv_, gemv_bias_;  // the GEMV's packed weights and padded bias
  float lo_ = 0, hi_ = 0;
  ChannelRequant rq_;
};

std::optional<ops::Shape> FullyConnectedShape(const ops::ShapeQuery& q) {
  const ops::Shape* in = q.In(0);
  const ops::Shape* f = q.In(1);
  if (!in || !f || f->size() != 2 || in->empty() || (*f)[1] < 1) return std::nullopt;
  if (q.options().GetInt("keep_num_dims", 0) != 0) {
    if (in->back() != (*f)[1]) return std::nullopt;
    ops::Shape s = *in;
    s.back() = (*f)[0];
    return s;
  }
  const int64_t n = ops::Elements(*in);
  if (n % (*f)[1] != 0) return std::nullopt;
  return ops::Shape{static_cast<int32_t>(n / (*f)[1]), (*f)[0]};
}

ops::OpCost FullyConnectedCost(const ops::CostQuery& q) {
  return ops::DenseMacs(q.in, q.out.NumElements() * q.filter.shape.back());
}

}  // namespace

// Versions: 4 int8, 5 keep_num_dims, 6 no bias.
extern const ops::OpDef kFullyConnectedOp{
    .signature =
        graph::BuiltinSignature(graph::op::kFullyConnected, 2, 3,
                                graph::options_type::kFullyConnected, graph::OptionalInput(2)),
    .max_version = 6,
    .shape = FullyConnectedShape,
    .cost = FullyConnectedCost,
    .create = ops::MakeKernel<FullyConnected>,
};

}  // namespace xbnn::kernels

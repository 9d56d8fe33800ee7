// LceQuantize, LceDequantize, LceBconv2d and LceBMaxPool2d: option and shape checks at Prepare,
// then the fastest binary kernel the CPU runs (src/kernels/binary/optimized), reference kernels
// for the rare types the optimized library does not cover (bool).

#include <algorithm>
#include <list>

#include "graph/lce_options.h"
#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/bconv2d.h"
#include "kernels/binary/optimized/bitpack.h"
#include "kernels/binary/optimized/bmaxpool2d.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using graph::DType;
using runtime::OpContext;
using runtime::RuntimeTensor;
using runtime::ShapeString;

// Options are parsed by the model reader (or set with graph::SetLceOptions); a graph built in code
// without either has none.
constexpr const char* kOptionsMissing =
    "custom options were not parsed (read the model with format::ReadModel, or set them with "
    "graph::SetLceOptions)";

// The thread pool only for ops worth splitting (runtime::kMinParallelSeconds). Rates measured on
// Zen 4, one thread: ~1e12 binary MACs/s for bconv, ~2e10 packed values/s for quantize and
// max-pool.
kernels::TaskRunner* RunnerFor(const OpContext& ctx, double work, double per_second) {
  return work / per_second >= runtime::kMinParallelSeconds ? ctx.runner : nullptr;
}

// Rows and channels of a tensor packed along its last dimension.
Status PackedShape(const OpContext& ctx, const RuntimeTensor* unpacked, const RuntimeTensor* packed,
                   int64_t* outer, int* channels) {
  // The validator refuses absent (-1) inputs here; a graph built in code may still have them.
  if (!unpacked || !packed) return ctx.Error("an input or output tensor is missing");
  if (unpacked->rank() < 1) return ctx.Error("tensor '" + unpacked->desc->name + "' must have rank >= 1");
  if (packed->rank() != unpacked->rank()) {
    return ctx.Error("packed tensor '" + packed->desc->name + "' has rank " + std::to_string(packed->rank()) +
                     ", expected " + std::to_string(unpacked->rank()));
  }
  *channels = unpacked->shape().back();
  *outer = unpacked->elements() / std::max(*channels, 1);
  std::vector<int32_t> expected = unpacked->shape();
  expected.back() = PackedWords(*channels);
  if (packed->shape() != expected) {
    return ctx.Error("packed tensor '" + packed->desc->name + "' has shape " + ShapeString(packed->shape()) +
                     ", expected " + ShapeString(expected) + " for " + std::to_string(*channels) + " channels");
  }
  return Status::Ok();
}

class LceQuantize final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, DType::kInt32, "output"));
    XBNN_RETURN_IF_ERROR(PackedShape(ctx, in_, out_, &outer_, &channels_));
    if (in_->type() == DType::kBool) return Status::Ok();
    if (in_->type() == DType::kInt8) {
      float scale;
      if (!in_->PerTensorQuant(&scale, &zero_point_)) zero_point_ = 0;
    } else if (in_->type() != DType::kFloat32) {
      return ctx.Error(std::string("input must be float32, int8 or bool, found ") + graph::DTypeName(in_->type()));
    }
    if (ctx.use_reference_kernels) return Status::Ok();
    optimized::PackParams p;
    p.outer = outer_;
    p.channels = channels_;
    p.source = in_->type() == DType::kInt8 ? optimized::PackSource::kInt8 : optimized::PackSource::kFloat32;
    p.zero_point = zero_point_;
    auto k = optimized::PackKernel::Create(p);
    if (!k.ok()) return ctx.Error(k.status().message());
    kernel_ = std::move(*k);
    runner_ = RunnerFor(ctx, static_cast<double>(in_->elements()), 2e10);
    return Status::Ok();
  }
  void Invoke(OpContext&) override {
    if (kernel_) {
      kernel_->Run(in_->data, out_->as<int32_t>(), runner_);
    } else if (in_->type() == DType::kFloat32) {
      reference::PackFloat(in_->as<float>(), outer_, channels_, out_->as<int32_t>());
    } else if (in_->type() == DType::kInt8) {
      reference::PackInt8(in_->as<int8_t>(), outer_, channels_, zero_point_, out_->as<int32_t>());
    } else {
      reference::PackBool(in_->as<bool>(), outer_, channels_, out_->as<int32_t>());
    }
  }

 private:
  RuntimeTensor* in_ = nullptr;
  RuntimeTensor* out_ = nullptr;
  int64_t outer_ = 0;
  int channels_ = 0;
  int32_t zero_point_ = 0;
  std::unique_ptr<optimized::PackKernel> kernel_;
  kernels::TaskRunner* runner_ = nullptr;
};

class LceDequantize final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, in_, DType::kInt32, "input"));
    XBNN_RETURN_IF_ERROR(PackedShape(ctx, out_, in_, &outer_, &channels_));
    if (out_->type() == DType::kInt8) {
      if (!out_->PerTensorQuant(&scale_, &zero_point_)) return ctx.Error("int8 output has no quantization");
      XBNN_RETURN_IF_ERROR(CheckInt8Quantization(scale_, zero_point_));
    } else if (out_->type() != DType::kFloat32 && out_->type() != DType::kBool) {
      return ctx.Error(std::string("output must be float32, int8 or bool, found ") + graph::DTypeName(out_->type()));
    }
    return Status::Ok();
  }
  void Invoke(OpContext&) override {
    switch (out_->type()) {
      case DType::kFloat32: reference::UnpackFloat(in_->as<int32_t>(), outer_, channels_, out_->as<float>()); break;
      case DType::kInt8:
        reference::UnpackInt8(in_->as<int32_t>(), outer_, channels_, scale_, zero_point_, out_->as<int8_t>());
        break;
      default: reference::UnpackBool(in_->as<int32_t>(), outer_, channels_, out_->as<bool>()); break;
    }
  }

 private:
  RuntimeTensor* in_ = nullptr;
  RuntimeTensor* out_ = nullptr;
  int64_t outer_ = 0;
  int channels_ = 0;
  float scale_ = 1;
  int32_t zero_point_ = 0;
};

class LceBconv2d final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    const auto* o = ctx.lce_options<graph::LceBconv2dOptions>();
    if (!o) return ctx.Error(kOptionsMissing);
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    const RuntimeTensor* filter = ctx.input(1);
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, in_, DType::kInt32, "input"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, filter, DType::kInt32, "filter"));
    if (in_->rank() != 4) return ctx.Error("input must have rank 4, found shape " + ShapeString(in_->shape()));
    if (filter->rank() != 4) return ctx.Error("filter must have rank 4, found shape " + ShapeString(filter->shape()));
    if (!filter->constant) return ctx.Error("filter must be a constant tensor");
    if (o->channels_in <= 0) return ctx.Error("channels_in must be positive, got " + std::to_string(o->channels_in));
    if (in_->dim(3) != PackedWords(o->channels_in)) {
      return ctx.Error("input has " + std::to_string(in_->dim(3)) + " packed words per pixel, but channels_in " +
                       std::to_string(o->channels_in) + " needs " + std::to_string(PackedWords(o->channels_in)));
    }
    if (filter->dim(3) <= 0 || in_->dim(3) % filter->dim(3) != 0) {
      return ctx.Error("filter depth " + std::to_string(filter->dim(3)) + " words does not divide the input's " +
                       std::to_string(in_->dim(3)) + " words into groups");
    }
    BConv2DParams p;
    p.batch = in_->dim(0);
    p.in_h = in_->dim(1);
    p.in_w = in_->dim(2);
    p.channels_in = o->channels_in;
    p.out_channels = filter->dim(0);
    p.kernel_h = filter->dim(1);
    p.kernel_w = filter->dim(2);
    p.groups = in_->dim(3) / filter->dim(3);
    p.stride_h = o->stride_height;
    p.stride_w = o->stride_width;
    p.dilation_h = o->dilation_height_factor;
    p.dilation_w = o->dilation_width_factor;
    if (o->padding != 0 && o->padding != 1) return ctx.Error("padding must be SAME (0) or VALID (1), got " + std::to_string(o->padding));
    p.padding = static_cast<Padding>(o->padding);
    p.pad_values = o->pad_values;
    p.activation = static_cast<Activation>(o->fused_activation_function);
    const RuntimeTensor* multiplier = ctx.input(2);
    const RuntimeTensor* bias = ctx.input(3);
    const RuntimeTensor* thresholds = ctx.input(4);
    switch (out_->type()) {
      case DType::kFloat32: p.output_type = BOutputType::kFloat32; break;
      case DType::kInt8: {
        p.output_type = BOutputType::kInt8;
        int32_t zp = 0;
        if (!out_->PerTensorQuant(&p.output_scale, &zp)) return ctx.Error("int8 output has no quantization");
        p.output_zero_point = zp;
        break;
      }
      case DType::kInt32: p.output_type = BOutputType::kBitpacked; break;
      default:
        return ctx.Error(std::string("output must be float32, int8 or int32 (bitpacked), found ") +
                         graph::DTypeName(out_->type()));
    }
    auto geometry = ComputeBConv2DGeometry(p);
    if (!geometry.ok()) return ctx.Error(geometry.status().message());
    auto check_vector = [&](const RuntimeTensor* t, DType type, const char* what) -> Status {
      XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, t, type, what));
      if (!t->constant) return ctx.Error(std::string(what) + " must be a constant tensor");
      if (t->elements() != p.out_channels) {
        return ctx.Error(std::string(what) + " has " + std::to_string(t->elements()) + " values, expected " +
                         std::to_string(p.out_channels) + " (one per output channel)");
      }
      return Status::Ok();
    };
    if (p.output_type == BOutputType::kBitpacked) {
      if (!thresholds) return ctx.Error("bitpacked output needs the output_threshold input (input 4)");
      XBNN_RETURN_IF_ERROR(check_vector(thresholds, DType::kInt32, "output_threshold"));
    } else {
      XBNN_RETURN_IF_ERROR(check_vector(multiplier, DType::kFloat32, "post_activation_multiplier"));
      XBNN_RETURN_IF_ERROR(check_vector(bias, DType::kFloat32, "post_activation_bias"));
    }
    int out_c = p.output_type == BOutputType::kBitpacked ? PackedWords(p.out_channels) : p.out_channels;
    std::vector<int32_t> expected = {p.batch, geometry->out_h, geometry->out_w, out_c};
    if (out_->shape() != expected) {
      return ctx.Error("output has shape " + ShapeString(out_->shape()) + ", expected " + ShapeString(expected));
    }
    if (ctx.fused && ctx.use_reference_kernels) return ctx.Error("fused ops need the optimized kernels");
    if (ctx.use_reference_kernels) {
      params_ = p;
      geometry_ = *geometry;
      args_.filter = filter->as<int32_t>();
      args_.multiplier = p.output_type == BOutputType::kBitpacked ? nullptr : multiplier->as<float>();
      args_.bias = p.output_type == BOutputType::kBitpacked ? nullptr : bias->as<float>();
      args_.thresholds = p.output_type == BOutputType::kBitpacked ? thresholds->as<int32_t>() : nullptr;
      args_.input = in_->as<int32_t>();
      args_.output = out_->data;
      return Status::Ok();
    }
    auto k = optimized::BConv2DKernel::Create(
        p, filter->as<int32_t>(), multiplier ? multiplier->as<float>() : nullptr, bias ? bias->as<float>() : nullptr,
        thresholds ? thresholds->as<int32_t>() : nullptr);
    if (!k.ok()) return ctx.Error(k.status().message());
    kernel_ = std::move(*k);
    if (ctx.prepared_bytes) *ctx.prepared_bytes += static_cast<size_t>(kernel_->packed_bytes());
    double macs = static_cast<double>(p.batch) * geometry->out_h * geometry->out_w * p.out_channels * p.kernel_h *
                  p.kernel_w * geometry->channels_per_group;
    runner_ = RunnerFor(ctx, macs, 1e12);
    // The AMX kernel's expanded input in scratch that all ops on this runner share.
    if (runner_) {
      runner_->ReserveScratch(static_cast<size_t>(kernel_->scratch_bytes()),
                              kernel_->scratch_threads(runner_->num_threads()));
    }
    if (ctx.fused) return PrepareFused(ctx, *ctx.fused);
    return Status::Ok();
  }
  void Invoke(OpContext&) override {
    if (!kernel_) {
      reference::BConv2D(params_, geometry_, args_);
    } else if (!ctx_fused_) {
      kernel_->Run(in_->as<int32_t>(), out_->data, runner_);
    } else if (!scratch_.empty()) {
      InvokeFusedSeparately();
    } else {
      kernel_->Run(in_->as<int32_t>(), nullptr, runner_, &fused_);
    }
  }

 private:
  RuntimeTensor* in_ = nullptr;
  RuntimeTensor* out_ = nullptr;
  // A residual ADD and LceQuantize fused into this op (runtime/fusion.h): in the kernel's epilogue,
  // or, where the kernel cannot (SupportsFused()), as the separate ops would run after it.
  Status PrepareFused(OpContext& ctx, const runtime::FusedResidualAdd& f) {
    if (out_->type() != DType::kFloat32) return ctx.Error("a fused residual ADD needs float output");
    ctx_fused_ = &f;
    if (!f.chain.empty()) return PrepareChain(ctx, f);
    fused_.residual = f.residual->as<float>();
    fused_.residual_first = f.residual_first;
    fused_.clamp = true;
    fused_.min = f.min;
    fused_.max = f.max;
    fused_.sum = f.sum ? f.sum->as<float>() : nullptr;
    fused_.packed = f.packed ? f.packed->as<int32_t>() : nullptr;
    if (!kernel_->SupportsFused()) scratch_.assign(static_cast<size_t>(out_->elements()), 0.0f);
    return Status::Ok();
  }
  // Elementwise ops after the convolution in its epilogue (FusedResidualAdd::chain).
  Status PrepareChain(OpContext& ctx, const runtime::FusedResidualAdd& f) {
    const int64_t n = out_->elements();
    const int64_t channels = out_->shape().back();
    chain_.clear();
    for (const runtime::FusedEpilogueStep& st : f.chain) {
      optimized::BConvChainStep s;
      s.op = static_cast<optimized::EpilogueOp>(st.op);
      const int64_t k = st.operand ? st.operand->elements() : 0;
      if (!st.operand || st.operand->type() != DType::kFloat32 ||
          (k != 1 && k != channels && k != n)) {
        return ctx.Error(
            "a fused elementwise op needs a float operand of one value, one per channel or the "
            "output's shape");
      }
      s.k = st.operand->as<float>();
      s.kind = k == n ? optimized::BConvChainStep::kPixel : optimized::BConvChainStep::kChannel;
      if (k != n && k != channels) {  // one value: one per channel (the kernels read vectors)
        splats_.emplace_back(static_cast<size_t>(channels), s.k[0]);
        s.k = splats_.back().data();
      }
      s.k_first = st.k_first;
      s.lo = st.lo;
      s.hi = st.hi;
      s.store = st.store ? st.store->as<float>() : nullptr;
      chain_.push_back(s);
    }
    fused_ = optimized::BConvFused{};
    fused_.chain = chain_.data();
    fused_.chain_steps = static_cast<int>(chain_.size());
    fused_.packed = f.packed ? f.packed->as<int32_t>() : nullptr;
    if (!kernel_->SupportsChain()) scratch_.assign(static_cast<size_t>(n), 0.0f);
    return Status::Ok();
  }
  void InvokeFusedSeparately() {
    if (fused_.chain != nullptr) {
      kernel_->Run(in_->as<int32_t>(), scratch_.data(), runner_);
      // The steps and the bits over the threads, in pixel ranges.
      struct Pass {
        const optimized::BConvFused* f;
        float* z;
        int64_t pixels;
        int channels, parts;
      } pass{&fused_, scratch_.data(), pixel_count(), static_cast<int>(out_->shape().back()),
             runner_ ? runner_->num_threads() : 1};
      void (*range)(void*, int, int) = [](void* ctx, int, int i) {
        const auto& a = *static_cast<const Pass*>(ctx);
        const int64_t begin = a.pixels * i / a.parts, end = a.pixels * (i + 1) / a.parts;
        optimized::ApplyChainRange(*a.f, a.z, begin, end, a.channels);
        if (a.f->packed != nullptr) {
          reference::PackFloat(a.z + begin * a.channels, end - begin, a.channels,
                               a.f->packed + begin * PackedWords(a.channels));
        }
      };
      kernels::RunParallel(runner_, pass.parts, range, &pass);
      return;
    }
    kernel_->Run(in_->as<int32_t>(), scratch_.data(), runner_);
    const float* r = fused_.residual;
    float* z = scratch_.data();
    for (size_t i = 0; i < scratch_.size(); ++i) {
      const float v = fused_.residual_first ? r[i] + z[i] : z[i] + r[i];
      z[i] = std::min(std::max(v, fused_.min), fused_.max);
    }
    if (fused_.sum) std::copy(scratch_.begin(), scratch_.end(), fused_.sum);
    if (fused_.packed) {
      const int channels = out_->shape().back();
      reference::PackFloat(z, out_->elements() / channels, channels, fused_.packed);
    }
  }

  std::unique_ptr<optimized::BConv2DKernel> kernel_;
  kernels::TaskRunner* runner_ = nullptr;
  const runtime::FusedResidualAdd* ctx_fused_ = nullptr;
  optimized::BConvFused fused_;
  std::vector<optimized::BConvChainStep> chain_;  // fused_.chain
  std::list<std::vector<float>> splats_;          // its one-value operands, per channel
  std::vector<float> scratch_;  // the conv output, where the fused ops run separately
  int64_t pixel_count() const { return out_->elements() / out_->shape().back(); }
  // The reference path (use_reference_kernels).
  BConv2DParams params_;
  BConv2DGeometry geometry_;
  BConv2DArgs args_;
};

class LceBMaxPool2d final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    const auto* o = ctx.lce_options<graph::LceBMaxPool2dOptions>();
    if (!o) return ctx.Error(kOptionsMissing);
    in_ = ctx.input(0);
    out_ = ctx.output(0);
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, in_, DType::kInt32, "input"));
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, DType::kInt32, "output"));
    if (in_->rank() != 4) return ctx.Error("input must have rank 4, found shape " + ShapeString(in_->shape()));
    if (o->padding != 0 && o->padding != 1) return ctx.Error("padding must be SAME (0) or VALID (1), got " + std::to_string(o->padding));
    BMaxPool2DParams p;
    p.batch = in_->dim(0);
    p.in_h = in_->dim(1);
    p.in_w = in_->dim(2);
    p.packed_channels = in_->dim(3);
    p.filter_h = o->filter_height;
    p.filter_w = o->filter_width;
    p.stride_h = o->stride_height;
    p.stride_w = o->stride_width;
    p.padding = static_cast<Padding>(o->padding);
    auto g = ComputeBMaxPool2DGeometry(p);
    if (!g.ok()) return ctx.Error(g.status().message());
    std::vector<int32_t> expected = {p.batch, g->out_h, g->out_w, p.packed_channels};
    if (out_->shape() != expected) {
      return ctx.Error("output has shape " + ShapeString(out_->shape()) + ", expected " + ShapeString(expected));
    }
    if (ctx.use_reference_kernels) {
      params_ = p;
      geometry_ = *g;
      return Status::Ok();
    }
    auto k = optimized::BMaxPool2DKernel::Create(p);
    if (!k.ok()) return ctx.Error(k.status().message());
    kernel_ = std::move(*k);
    runner_ = RunnerFor(ctx, static_cast<double>(out_->elements()) * p.filter_h * p.filter_w, 2e10);
    return Status::Ok();
  }
  void Invoke(OpContext&) override {
    if (kernel_) {
      kernel_->Run(in_->as<int32_t>(), out_->as<int32_t>(), runner_);
    } else {
      reference::BMaxPool2D(params_, geometry_, in_->as<int32_t>(), out_->as<int32_t>());
    }
  }

 private:
  RuntimeTensor* in_ = nullptr;
  RuntimeTensor* out_ = nullptr;
  std::unique_ptr<optimized::BMaxPool2DKernel> kernel_;
  kernels::TaskRunner* runner_ = nullptr;
  BMaxPool2DParams params_;
  BMaxPool2DGeometry geometry_;
};

// LceQuantize and LceDequantize keep every dimension of their input but the last: the packed
// words of its channels, or the unpacked channels (the file's, which must pack into the input's
// words). So a model resized at its input (TFLite's resize_tensor_input through the delegate)
// gets its new shapes here, batch or height and width.
std::optional<ops::Shape> PackedLast(const ops::ShapeQuery& q, bool quantize) {
  const ops::Shape* in = q.In(0);
  const ops::Shape& file_out = q.FileShape(q.op.outputs[q.output]);
  if (!in || in->empty() || file_out.size() != in->size()) return std::nullopt;
  ops::Shape s = *in;
  if (quantize) {
    s.back() = PackedWords(static_cast<int>(in->back()));
  } else if (PackedWords(static_cast<int>(file_out.back())) == in->back()) {
    s.back() = file_out.back();
  } else {
    return std::nullopt;  // the kernel names the mismatch
  }
  return s;
}
std::optional<ops::Shape> QuantizeShape(const ops::ShapeQuery& q) { return PackedLast(q, true); }
std::optional<ops::Shape> DequantizeShape(const ops::ShapeQuery& q) { return PackedLast(q, false); }

// LceBconv2d and LceBMaxPool2d: [N, OH, OW, C] with N from the input, OH and OW from the input's
// height and width by the op's options (and the filter's window), C as the file gives it (the
// packed or unpacked output channels, which the kernel checks against the filter). So a model
// resized at its input (batch, height or width) gets its new shapes here; inconsistent shapes are
// left to the kernel's message.
std::optional<ops::Shape> WindowedShape(const ops::ShapeQuery& q, int64_t kh, int64_t kw,
                                        int64_t stride_h, int64_t stride_w, int64_t dilation_h,
                                        int64_t dilation_w, int64_t padding) {
  const ops::Shape* in = q.In(0);
  const ops::Shape& file_out = q.FileShape(q.op.outputs[q.output]);
  if (!in || in->size() != 4 || file_out.size() != 4) return std::nullopt;
  const int64_t h = ops::SpatialOut((*in)[1], kh, stride_h, dilation_h, padding);
  const int64_t w = ops::SpatialOut((*in)[2], kw, stride_w, dilation_w, padding);
  if (h < 1 || w < 1) return std::nullopt;
  return ops::Shape{(*in)[0], static_cast<int32_t>(h), static_cast<int32_t>(w), file_out[3]};
}

std::optional<ops::Shape> Bconv2dShape(const ops::ShapeQuery& q) {
  const auto* o = std::get_if<graph::LceBconv2dOptions>(&q.op.lce_options);
  const ops::Shape* f = q.In(1);
  if (!o || !f || f->size() != 4) return std::nullopt;
  return WindowedShape(q, (*f)[1], (*f)[2], o->stride_height, o->stride_width,
                       o->dilation_height_factor, o->dilation_width_factor, o->padding);
}

std::optional<ops::Shape> BMaxPool2dShape(const ops::ShapeQuery& q) {
  const auto* o = std::get_if<graph::LceBMaxPool2dOptions>(&q.op.lce_options);
  if (!o) return std::nullopt;
  return WindowedShape(q, o->filter_height, o->filter_width, o->stride_height, o->stride_width, 1,
                       1, o->padding);
}

// Output [N, OH, OW, *]; filter [Cout, KH, KW, packed Cin/groups]. The packed filter rounds
// Cin/groups up to 32, so the unpacked channels come from the options.
ops::OpCost LceBconv2dCost(const ops::CostQuery& q) {
  const auto& f = q.filter.shape;
  if (f.size() != 4 || q.out.shape.size() != 4 || q.in.shape.size() != 4) return {};
  const auto* options = std::get_if<graph::LceBconv2dOptions>(&q.op.lce_options);
  if (!options || f[3] <= 0) return {};
  const int64_t groups = std::max<int64_t>(q.in.shape[3] / f[3], 1);
  const int64_t cin_per_group = options->channels_in / groups;
  // channels_in comes from the op's options, unchecked until prepare: one that the filter's
  // packed words cannot hold makes the op invalid (prepare says so), so it gets no cost. The
  // product of valid shapes can still pass int64 (each tensor may hold up to 2^31 elements).
  if (cin_per_group <= 0 || cin_per_group > int64_t{32} * f[3]) return {};
  int64_t macs = ops::DimProduct(q.out.shape, 0, 3);
  for (const int64_t factor : {int64_t{f[0]}, int64_t{f[1]}, int64_t{f[2]}, cin_per_group}) {
    if (__builtin_mul_overflow(macs, factor, &macs)) return {};
  }
  ops::OpCost c;
  c.binary_macs = macs;
  return c;
}

}  // namespace

extern const ops::OpDef kLceQuantizeOp{
    .signature = {graph::op::kCustom, graph::kLceQuantize, 1, 1, 1, 1, 0,
                  graph::options_type::kNone},
    .max_version = 1,
    .shape = QuantizeShape,
    .create = ops::MakeKernel<LceQuantize>,
    .shape_every_output = true,
};

extern const ops::OpDef kLceDequantizeOp{
    .signature = {graph::op::kCustom, graph::kLceDequantize, 1, 1, 1, 1, 0,
                  graph::options_type::kNone},
    .max_version = 1,
    .shape = DequantizeShape,
    .create = ops::MakeKernel<LceDequantize>,
    .shape_every_output = true,
};

// Always 5 inputs, as LCE's kernel requires; which of 2..4 are present depends on the output
// type (LCE_FORMAT.md), which the kernel checks.
extern const ops::OpDef kLceBconv2dOp{
    .signature = {graph::op::kCustom, graph::kLceBconv2d, 5, 5, 1, 1,
                  graph::OptionalInput(2) | graph::OptionalInput(3) | graph::OptionalInput(4),
                  graph::options_type::kNone, graph::LceOptionsKind::kBconv2d},
    .max_version = 1,
    .shape = Bconv2dShape,
    .cost = LceBconv2dCost,
    .create = ops::MakeKernel<LceBconv2d>,
    .shape_every_output = true,
};

extern const ops::OpDef kLceBMaxPool2dOp{
    .signature = {graph::op::kCustom, graph::kLceBMaxPool2d, 1, 1, 1, 1, 0,
                  graph::options_type::kNone, graph::LceOptionsKind::kBMaxPool2d},
    .max_version = 1,
    .shape = BMaxPool2dShape,
    .create = ops::MakeKernel<LceBMaxPool2d>,
    .shape_every_output = true,
};

}  // namespace xbnn::kernels

#include "kernels/builtin/conv_binary_valued.h"

#include <cmath>

#include "graph/lce_options.h"
#include "kernels/binary/binary_ops.h"

namespace xbnn::kernels::builtin {

bool WrittenByLceDequantize(const runtime::OpContext& ctx, int32_t t) {
  if (!ctx.graph || !ctx.op || t < 0) return false;
  for (const graph::Subgraph& sg : ctx.graph->subgraphs) {
    const auto& ops = sg.operators;
    if (ctx.op_index < 0 || ctx.op_index >= static_cast<int>(ops.size()) ||
        &ops[ctx.op_index] != ctx.op) {
      continue;
    }
    for (const graph::Operator& op : ops) {
      for (int32_t o : op.outputs) {
        if (o == t) return ctx.graph->IsCustom(op, graph::kLceDequantize);
      }
    }
    return false;
  }
  return false;
}

bool BinaryValuedConv::Prepare(const runtime::OpContext& ctx, const BinaryValuedConvShape& s,
                               const float* filter, const float* bias) {
  bconv_.reset();
  pack_.reset();
  if (ctx.shapes_only || !filter || s.batch < 1 || s.in_c < 1 || s.out_c < 1) return false;
  const int64_t per = int64_t{s.k_h} * s.k_w * s.in_c;
  const int words = PackedWords(s.in_c);
  const int64_t filter_words = int64_t{s.out_c} * s.k_h * s.k_w * words;
  // The sign bits of the filter, and s per output channel.
  std::vector<int32_t> bits(static_cast<size_t>(filter_words), 0);
  std::vector<float> scale(static_cast<size_t>(s.out_c));
  for (int o = 0; o < s.out_c; ++o) {
    const float* w = filter + per * o;
    const float a = std::fabs(w[0]);
    if (!(a > 0.0f) || !std::isfinite(a)) return false;
    for (int64_t e = 0; e < per; ++e) {
      if (std::fabs(w[e]) != a) return false;
      if (std::signbit(w[e])) {
        const int64_t tap = e / s.in_c;  // (ky, kx) of the OHWI filter
        const int c = static_cast<int>(e % s.in_c);
        bits[static_cast<size_t>((int64_t{o} * s.k_h * s.k_w + tap) * words + c / 32)] |=
            static_cast<int32_t>(1u << (c % 32));
      }
    }
    scale[static_cast<size_t>(o)] = a;
  }
  std::vector<float> b(static_cast<size_t>(s.out_c), 0.0f);
  if (bias) b.assign(bias, bias + s.out_c);
  BConv2DParams p;
  p.batch = s.batch;
  p.in_h = s.in_h;
  p.in_w = s.in_w;
  p.channels_in = s.in_c;
  p.out_channels = s.out_c;
  p.kernel_h = s.k_h;
  p.kernel_w = s.k_w;
  p.stride_h = s.stride_h;
  p.stride_w = s.stride_w;
  p.dilation_h = s.dilation_h;
  p.dilation_w = s.dilation_w;
  p.padding = Padding::kValid;
  p.output_type = BOutputType::kFloat32;
  auto k = optimized::BConv2DKernel::Create(p, bits.data(), scale.data(), b.data(), nullptr);
  if (!k.ok()) return false;
  optimized::PackParams pp;
  pp.outer = int64_t{s.batch} * s.in_h * s.in_w;
  pp.channels = s.in_c;
  auto pk = optimized::PackKernel::Create(pp);
  if (!pk.ok()) return false;
  bconv_ = std::move(*k);
  pack_ = std::move(*pk);
  bits_.assign(static_cast<size_t>(pp.outer * words), 0);
  const BConv2DGeometry& g = bconv_->geometry();
  seconds_ = static_cast<double>(s.batch) * g.out_h * g.out_w * s.out_c * per / 1e12;
  return true;
}

void BinaryValuedConv::Run(const runtime::OpContext& ctx, const float* in, float* out) const {
  kernels::TaskRunner* runner = seconds_ >= runtime::kMinParallelSeconds ? ctx.runner : nullptr;
  pack_->Run(in, bits_.data(), runner);
  bconv_->Run(bits_.data(), out, runner);
}

int64_t BinaryValuedConv::prepared_bytes() const {
  return bconv_ ? bconv_->packed_bytes() + static_cast<int64_t>(bits_.size() * sizeof(int32_t)) : 0;
}

}  // namespace xbnn::kernels::builtin

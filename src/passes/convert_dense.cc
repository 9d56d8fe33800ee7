// Binary dense layers. LCE has no binary FULLY_CONNECTED, but a dense layer on a binarized [N, K]
// input is a 1x1 binary convolution over an [N, 1, 1, K] image: RESHAPE of the bitpacked input
// [N, ceil(K/32)] to [N, 1, 1, ceil(K/32)], LceBconv2d with a [O, 1, 1, ceil(K/32)] filter, and
// RESHAPE of its [N, 1, 1, O] output back to [N, O]. LCE's own interpreter runs that too, and the
// float [O, K] weights shrink to one bit each.
#include <cmath>
#include <cstring>

#include "graph/lce_options.h"
#include "passes/convert_internal.h"

namespace xbnn::passes::convert_internal {
namespace {

namespace op = graph::op;
using graph::DType;
using graph::Operator;
using graph::Tensor;

constexpr uint8_t kReshapeOptions = 17;

int32_t AddReshape(Ctx& c, int32_t in, int32_t out, double key) {
  const std::vector<int32_t> shape = c.sg.tensors[out].shape;
  std::vector<uint8_t> bytes(shape.size() * 4);
  std::memcpy(bytes.data(), shape.data(), bytes.size());
  int32_t st = c.AddConstTensor(c.sg.tensors[out].name + "/shape", DType::kInt32,
                                {static_cast<int32_t>(shape.size())}, std::move(bytes));
  Operator r;
  r.opcode_index = c.Opcode(op::kReshape);
  r.inputs = {in, st};
  r.outputs = {out};
  r.builtin_options.type = kReshapeOptions;
  r.builtin_options.Set("new_shape", shape);
  return c.AddOp(std::move(r), key);
}

void TryDense(Ctx& c, int i) {
  const Operator fc = c.sg.operators[i];
  if (fc.inputs.size() < 2 || fc.outputs.size() != 1) return;
  const int32_t x = fc.inputs[0];
  const int p = c.Producer(x);
  if (!c.IsCustom(p, graph::kLceDequantize) || c.sg.operators[p].inputs.empty()) return;
  const int32_t packed = c.sg.operators[p].inputs[0];
  auto fail = [&](const std::string& why) {
    c.Skipped(c.Label(i) + ": binarized input, but stays FULLY_CONNECTED: " + why);
  };
  const Tensor& xt = c.sg.tensors[x];
  if (xt.type != DType::kFloat32 || xt.shape.size() != 2 || xt.shape[0] <= 0 || xt.shape[1] <= 0) {
    return fail("input is not a float32 [N, K] tensor of known shape");
  }
  const int N = xt.shape[0], K = xt.shape[1];
  if (fc.builtin_options.GetInt("fused_activation_function", 0) != 0)
    return fail("it has a fused activation");
  auto w = c.ConstFloats(fc.inputs[1]);
  const Tensor& wt = c.sg.tensors[fc.inputs[1]];
  if (!w || wt.shape.size() != 2 || wt.shape[1] != K || wt.shape[0] <= 0) {
    return fail("the weights are not a constant float32 [O, K] tensor");
  }
  const int O = wt.shape[0];
  const int32_t out = fc.outputs[0];
  const Tensor& ot = c.sg.tensors[out];
  if (ot.type != DType::kFloat32 || ot.shape != std::vector<int32_t>{N, O})
    return fail("output is not float32 [N, O]");
  const Tensor& pt = c.sg.tensors[packed];
  const int words = (K + 31) / 32;
  if (pt.type != DType::kInt32 || pt.shape != std::vector<int32_t>{N, words})
    return fail("unexpected bitpacked input shape");
  BconvInfo bi;
  bi.out_channels = O;
  bi.kernel_h = bi.kernel_w = 1;
  bi.in_per_group = bi.channels_in = K;
  bi.filter_name = wt.name;
  bi.padding = 1;  // VALID
  bi.negative.resize(static_cast<size_t>(O) * K);
  bi.multiplier.resize(O);
  bi.bias.assign(O, 0.0f);
  for (int o = 0; o < O; ++o) {
    const float* wo = w->data() + static_cast<size_t>(K) * o;
    const float s = std::fabs(wo[0]);
    if (!(s > 0.0f) || !std::isfinite(s))
      return fail("output " + std::to_string(o) + " has a zero or non-finite weight");
    for (int k = 0; k < K; ++k) {
      if (std::fabs(wo[k]) != s) {
        return fail("weights of output " + std::to_string(o) + " are not +-" + std::to_string(s) +
                    " (" + std::to_string(wo[k]) + " at input " + std::to_string(k) + ")");
      }
      bi.negative[static_cast<size_t>(K) * o + k] = std::signbit(wo[k]) ? 1 : 0;
    }
    bi.multiplier[o] = s;
  }
  if (fc.inputs.size() > 2 && fc.inputs[2] >= 0) {
    auto b = c.ConstFloats(fc.inputs[2]);
    if (!b || b->size() != static_cast<size_t>(O))
      return fail("the bias is not a constant float32 [O] tensor");
    bi.bias = *b;
  }
  const double key = c.key[i];
  Tensor r4 = pt;
  r4.name = pt.name + "/image";
  r4.shape = {N, 1, 1, words};
  r4.shape_signature.clear();
  r4.buffer = 0;
  int32_t image = c.AddTensor(std::move(r4));
  AddReshape(c, packed, image, key - 0.25);
  // The bconv first writes the [N, O] output itself so that FoldIntoBconv folds the MUL/ADD
  // (BatchNorm1d) and activations that follow; then its own [N, 1, 1, O] output is reshaped.
  Operator b;
  b.opcode_index = c.Opcode(op::kCustom, graph::kLceBconv2d);
  b.inputs = {image, -1, -1, -1, -1};
  b.outputs = {out};
  c.Kill(i);
  bi.op = c.AddOp(std::move(b), key);
  c.Applied(c.Label(i) + ": binary dense -> RESHAPE, 1x1 LceBconv2d, RESHAPE");
  while (FoldIntoBconv(c, bi)) {
  }
  const int32_t final_out = c.sg.operators[bi.op].outputs[0];
  Tensor m = c.sg.tensors[final_out];
  m.name = m.name + "/bconv";
  m.shape = {N, 1, 1, O};
  m.shape_signature.clear();
  m.buffer = 0;
  m.quantization.reset();
  int32_t mid = c.AddTensor(std::move(m));
  c.sg.operators[bi.op].outputs[0] = mid;
  AddReshape(c, mid, final_out, key + 0.25);
  c.report.new_bdense++;
  c.report.dense_float_weight_bytes += int64_t{4} * O * K;
  c.report.dense_binary_weight_bytes += int64_t{4} * O * words + int64_t{8} * O;
  c.bconvs.push_back(std::move(bi));
}

}  // namespace

void ConvertDense(Ctx& c) {
  const int n = c.NumOps();
  for (int i = 0; i < n; ++i) {
    if (c.IsBuiltin(i, op::kFullyConnected)) TryDense(c, i);
  }
  c.RemoveDeadOps();
}

}  // namespace xbnn::passes::convert_internal

#include "kernels/builtin/common.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>

#include "kernels/binary/optimized/bitpack.h"

namespace xbnn::kernels::builtin {

void QuantizeMultiplier(double m, int32_t* multiplier, int* shift) {
  if (m == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  const double q = std::frexp(m, shift);
  auto q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++*shift;
  }
  // Multipliers below 2^-31 flush to zero, as in TFLite.
  if (*shift < -31) {
    *shift = 0;
    q_fixed = 0;
  }
  *multiplier = static_cast<int32_t>(q_fixed);
}

Status ReadActivation(const OpContext& ctx, Activation* act) {
  const int64_t a = ctx.options().GetInt("fused_activation_function", 0);
  switch (a) {
    case 0: *act = Activation::kNone; return Status::Ok();
    case 1: *act = Activation::kRelu; return Status::Ok();
    case 2: *act = Activation::kReluN1To1; return Status::Ok();
    case 3: *act = Activation::kRelu6; return Status::Ok();
    case 4: return ctx.Error("fused activation TANH is not supported (only NONE, RELU, RELU_N1_TO_1, RELU6)");
    case 5: return ctx.Error("fused activation SIGN_BIT is not supported (only NONE, RELU, RELU_N1_TO_1, RELU6)");
    default: return ctx.Error("unknown fused activation " + std::to_string(a));
  }
}

const char* ActivationName(Activation a) {
  switch (a) {
    case Activation::kNone: return "NONE";
    case Activation::kRelu: return "RELU";
    case Activation::kReluN1To1: return "RELU_N1_TO_1";
    case Activation::kRelu6: return "RELU6";
  }
  return "?";
}

void FloatActivationRange(Activation a, float* lo, float* hi) {
  switch (a) {
    case Activation::kNone:
      *lo = std::numeric_limits<float>::lowest();
      *hi = std::numeric_limits<float>::max();
      break;
    case Activation::kRelu:
      *lo = 0;
      *hi = std::numeric_limits<float>::max();
      break;
    case Activation::kReluN1To1:
      *lo = -1;
      *hi = 1;
      break;
    case Activation::kRelu6:
      *lo = 0;
      *hi = 6;
      break;
  }
}

int32_t TypeMin(DType t) {
  switch (t) {
    case DType::kUInt8: return 0;
    case DType::kInt16: return std::numeric_limits<int16_t>::min();
    default: return std::numeric_limits<int8_t>::min();
  }
}

int32_t TypeMax(DType t) {
  switch (t) {
    case DType::kUInt8: return 255;
    case DType::kInt16: return std::numeric_limits<int16_t>::max();
    default: return std::numeric_limits<int8_t>::max();
  }
}

Status QuantizedActivationRange(const OpContext& ctx, Activation a, float scale, int32_t zero_point, DType type,
                                int32_t* lo, int32_t* hi) {
  // TFLite quantizes the activation bounds with a float division and round-half-away-from-zero.
  auto quantize = [&](float f, int32_t* q) -> Status {
    const float t = std::round(f / scale);
    if (!(t >= -2147483648.0f && t <= 2147483520.0f)) {
      return ctx.Error("activation bound " + std::to_string(f) + " overflows int32 at output scale " +
                       std::to_string(scale));
    }
    *q = zero_point + static_cast<int32_t>(t);
    return Status::Ok();
  };
  const int32_t qmin = TypeMin(type), qmax = TypeMax(type);
  int32_t q = 0;
  *lo = qmin;
  *hi = qmax;
  switch (a) {
    case Activation::kNone: break;
    case Activation::kRelu:
      XBNN_RETURN_IF_ERROR(quantize(0.0f, &q));
      *lo = std::max(qmin, q);
      break;
    case Activation::kRelu6:
      XBNN_RETURN_IF_ERROR(quantize(0.0f, &q));
      *lo = std::max(qmin, q);
      XBNN_RETURN_IF_ERROR(quantize(6.0f, &q));
      *hi = std::min(qmax, q);
      break;
    case Activation::kReluN1To1:
      XBNN_RETURN_IF_ERROR(quantize(-1.0f, &q));
      *lo = std::max(qmin, q);
      XBNN_RETURN_IF_ERROR(quantize(1.0f, &q));
      *hi = std::min(qmax, q);
      break;
  }
  return Status::Ok();
}

std::string TensorName(const RuntimeTensor* t) { return "'" + t->desc->name + "'"; }

Status GetQuant(const OpContext& ctx, const RuntimeTensor* t, const char* what, QuantParams* q) {
  const graph::Quantization* qz = t->quant();
  if (!qz || qz->scale.empty()) {
    return ctx.Error(std::string(what) + " " + TensorName(t) + " (" + graph::DTypeName(t->type()) +
                     ") has no quantization parameters");
  }
  if (qz->scale.size() != 1 && !std::all_of(qz->scale.begin(), qz->scale.end(),
                                            [&](float s) { return s == qz->scale[0]; })) {
    return ctx.Error(std::string(what) + " " + TensorName(t) + " must be quantized per tensor, found " +
                     std::to_string(qz->scale.size()) + " scales");
  }
  q->scale = qz->scale[0];
  const int64_t zp = qz->zero_point.empty() ? 0 : qz->zero_point[0];
  if (!(q->scale > 0) || !std::isfinite(q->scale)) {
    return ctx.Error(std::string(what) + " " + TensorName(t) + " has invalid scale " + std::to_string(q->scale));
  }
  const DType type = t->type();
  const int64_t lo = type == DType::kInt16 ? 0 : TypeMin(type), hi = type == DType::kInt16 ? 0 : TypeMax(type);
  if (zp < lo || zp > hi) {
    return ctx.Error(std::string(what) + " " + TensorName(t) + " has zero point " + std::to_string(zp) +
                     " outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "] for " +
                     graph::DTypeName(type));
  }
  q->zero_point = static_cast<int32_t>(zp);
  return Status::Ok();
}

Status ExpectInputCount(const OpContext& ctx, size_t min, size_t max) {
  const size_t n = ctx.num_inputs();
  if (n < min || n > max) {
    std::string want = min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
    return ctx.Error("expects " + want + " inputs, found " + std::to_string(n));
  }
  for (size_t i = 0; i < min; ++i) {
    if (!ctx.input(i)) return ctx.Error("input " + std::to_string(i) + " is missing");
  }
  return Status::Ok();
}

Status ExpectOutputCount(const OpContext& ctx, size_t n) {
  if (ctx.outputs.size() != n) {
    return ctx.Error("expects " + std::to_string(n) + " output(s), found " + std::to_string(ctx.outputs.size()));
  }
  return Status::Ok();
}

Status ExpectRank(const OpContext& ctx, const RuntimeTensor* t, int rank, const char* what) {
  if (t->rank() != rank) {
    return ctx.Error(std::string(what) + " " + TensorName(t) + " must have rank " + std::to_string(rank) +
                     ", found shape " + ShapeString(t->shape()));
  }
  return Status::Ok();
}

Status ExpectShape(const OpContext& ctx, const RuntimeTensor* t, const std::vector<int32_t>& shape, const char* what) {
  if (t->shape() != shape) {
    return ctx.Error(std::string(what) + " " + TensorName(t) + " has shape " + ShapeString(t->shape()) +
                     ", expected " + ShapeString(shape));
  }
  return Status::Ok();
}

Status ExpectConstant(const OpContext& ctx, const RuntimeTensor* t, const char* what) {
  if (!t->constant) return ctx.Error(std::string(what) + " " + TensorName(t) + " must be a constant tensor");
  return Status::Ok();
}

Status ExpectTypeIn(const OpContext& ctx, const RuntimeTensor* t, std::initializer_list<DType> types,
                    const char* what) {
  for (DType d : types) {
    if (t->type() == d) return Status::Ok();
  }
  std::string list;
  for (DType d : types) list += (list.empty() ? "" : ", ") + std::string(graph::DTypeName(d));
  return ctx.Error(std::string(what) + " " + TensorName(t) + " has type " + graph::DTypeName(t->type()) +
                   ", supported: " + list);
}

Status ReadConstInts(const OpContext& ctx, const RuntimeTensor* t, const char* what, std::vector<int64_t>* values) {
  if (!t) return ctx.Error(std::string(what) + " is missing");
  XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, t, what));
  values->clear();
  const int64_t n = t->elements();
  if (t->type() == DType::kInt32) {
    for (int64_t i = 0; i < n; ++i) {
      int32_t v;
      std::memcpy(&v, t->data + i * 4, 4);
      values->push_back(v);
    }
  } else if (t->type() == DType::kInt64) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t v;
      std::memcpy(&v, t->data + i * 8, 8);
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
        return ctx.Error(std::string(what) + " " + TensorName(t) + " holds " + std::to_string(v) +
                         ", which does not fit in int32");
      }
      values->push_back(v);
    }
  } else {
    return ctx.Error(std::string(what) + " " + TensorName(t) + " must be int32 or int64, found " +
                     graph::DTypeName(t->type()));
  }
  return Status::Ok();
}

Status ReadPadding(const OpContext& ctx, Padding* padding) {
  const int64_t p = ctx.options().GetInt("padding", 0);
  if (p != 0 && p != 1) return ctx.Error("padding must be SAME (0) or VALID (1), found " + std::to_string(p));
  *padding = static_cast<Padding>(p);
  return Status::Ok();
}

Status ComputeAxis(const OpContext& ctx, const char* axis, int in, int kernel, int stride, int dilation,
                   Padding padding, AxisGeometry* g) {
  if (stride < 1) return ctx.Error(std::string("stride_") + axis + " must be >= 1, found " + std::to_string(stride));
  if (dilation < 1) {
    return ctx.Error(std::string("dilation_") + axis + "_factor must be >= 1, found " + std::to_string(dilation));
  }
  if (kernel < 1) return ctx.Error(std::string("kernel ") + axis + " must be >= 1, found " + std::to_string(kernel));
  if (in < 1) return ctx.Error(std::string("input ") + axis + " must be >= 1, found " + std::to_string(in));
  const int64_t effective = static_cast<int64_t>(kernel - 1) * dilation + 1;
  int64_t out = padding == Padding::kSame ? (static_cast<int64_t>(in) + stride - 1) / stride
                                          : (static_cast<int64_t>(in) + stride - effective) / stride;
  if (padding == Padding::kValid && in < effective) out = 0;
  if (out < 1) {
    return ctx.Error(std::string("VALID padding leaves no output along ") + axis + ": input " + std::to_string(in) +
                     " is smaller than the effective kernel " + std::to_string(effective));
  }
  const int64_t total = std::max<int64_t>((out - 1) * stride + effective - in, 0);
  g->out = static_cast<int>(out);
  g->pad_before = static_cast<int>(total / 2);
  g->pad_after = static_cast<int>(total - total / 2);
  return Status::Ok();
}

void FloatBroadcastRows::Plan(const Broadcast& plan, const RuntimeTensor* out) {
  plan_ = &plan;
  rows_ = 0;
  const int64_t total = out->elements();
  if (total == 0) return;
  if (plan.same_shape) {
    n_ = out->rank() > 0 ? std::max<int64_t>(1, out->dim(out->rank() - 1)) : 1;
    rows_ = total / n_;
    sa_ = sb_ = 1;
    a_row_ = b_row_ = n_;
  } else {
    const int r = plan.rank;
    n_ = std::max<int64_t>(1, plan.dims[r - 1]);
    // Strides of an operand that covers the output, outermost first.
    std::array<int64_t, kMaxBroadcastRank> full{};
    int64_t stride = 1;
    for (int i = r - 1; i >= 0; --i) {
      full[i] = stride;
      stride *= plan.dims[i];
    }
    auto kind = [&](const std::array<int64_t, kMaxBroadcastRank>& st, int64_t* inner,
                    int64_t* row) {
      bool covers = true, one_row = st[r - 1] == 0 || st[r - 1] == 1;
      for (int i = 0; i < r; ++i) {
        if (plan.dims[i] == 1) continue;
        covers = covers && st[i] == full[i];
        if (i < r - 1) one_row = one_row && st[i] == 0;
      }
      *inner = covers ? 1 : st[r - 1];
      *row = covers ? n_ : 0;
      return covers || one_row;
    };
    if (!kind(plan.a_strides, &sa_, &a_row_) || !kind(plan.b_strides, &sb_, &b_row_)) return;
    rows_ = total / n_;
  }
  seconds_ = static_cast<double>(total) / kElementwiseFloatsPerSecond;
}

void FloatBroadcastRows::Run(const OpContext& ctx, FloatBinary op, const float* a, const float* b,
                             float* out, float lo, float hi) const {
  if (rows_ > 0) {
    ParallelForRows(ctx, rows_, seconds_, [&](int, int64_t r0, int64_t r1) {
      BinaryRowsF32(op, a + r0 * a_row_, sa_, a_row_, b + r0 * b_row_, sb_, b_row_, out + r0 * n_,
                    r1 - r0, n_, lo, hi);
    });
  } else if (!plan_->same_shape) {  // (same shapes always have rows unless the output is empty)
    ForEachBroadcastRow(*plan_,
                        [&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
                          BinaryRowsF32(op, a + ia, sa, 0, b + ib, sb, 0, out + o, 1, n, lo, hi);
                        });
  }
}

FloatChain::FloatChain() = default;
FloatChain::~FloatChain() = default;

Status FloatChain::Prepare(const OpContext& ctx, FloatBinary first, const FloatBroadcastRows& rows,
                           float lo, float hi) {
  first_ = first;
  rows_ = &rows;
  lo_ = lo;
  hi_ = hi;
  steps_.clear();
  pack_.reset();
  packed_ = ctx.fused_packed;
  if (ctx.fused_chain.empty() && !packed_) return Status::Ok();
  if (rows.rows_ <= 0) return ctx.Error("cannot run fused elementwise ops: no rows to split");
  const int64_t n = rows.n_;
  const RuntimeTensor* x = ctx.output(0);
  for (const OpContext* e : ctx.fused_chain) {
    const int32_t code = e->graph->CodeOf(*e->op).builtin;
    Step st;
    switch (code) {
      case graph::op::kAdd:
        st.op = FloatBinary::kAdd;
        break;
      case graph::op::kSub:
        st.op = FloatBinary::kSub;
        break;
      case graph::op::kMul:
        st.op = FloatBinary::kMul;
        break;
      case graph::op::kDiv:
        st.op = FloatBinary::kDiv;
        break;
      case graph::op::kMaximum:
        st.op = FloatBinary::kMax;
        break;
      case graph::op::kMinimum:
        st.op = FloatBinary::kMin;
        break;
      case graph::op::kPrelu:
        st.op = FloatBinary::kPrelu;
        break;
      default:
        return e->Error("cannot run fused into an elementwise chain");
    }
    if (e->num_inputs() != 2 || e->outputs.size() != 1) return e->Error("needs two inputs");
    st.operand_first = e->input(1) == x;
    st.operand = e->input(st.operand_first ? 0 : 1);
    st.out = e->output(0);
    const RuntimeTensor* k = st.operand;
    if (e->input(st.operand_first ? 1 : 0) != x || !k || k->type() != DType::kFloat32 || !st.out ||
        st.out->type() != DType::kFloat32 || st.out->shape() != x->shape()) {
      return e->Error("cannot run fused into an elementwise chain");
    }
    if (k->shape() == x->shape()) {
      st.s = 1;
      st.row = n;
    } else if (k->elements() == 1) {
      st.s = st.row = 0;
    } else if (k->elements() == n) {
      st.s = 1;
      st.row = 0;
    } else {
      return e->Error("operand " + TensorName(k) +
                      " is neither the chain's shape, one per channel nor one value");
    }
    Activation act = Activation::kNone;
    if (st.op == FloatBinary::kAdd || st.op == FloatBinary::kSub || st.op == FloatBinary::kMul ||
        st.op == FloatBinary::kDiv) {
      XBNN_RETURN_IF_ERROR(ReadActivation(*e, &act));
    }
    FloatActivationRange(act, &st.lo, &st.hi);
    steps_.push_back(st);
    x = st.out;
  }
  if (packed_) {
    optimized::PackParams pp;
    pp.outer = rows.rows_;
    pp.channels = static_cast<int>(n);
    auto k = optimized::PackKernel::Create(pp);
    if (!k.ok()) return ctx.Error(k.status().message());
    pack_ = std::move(*k);
  }
  // Blocks of about 8 KB per scratch buffer: the chain's rows stay in L1.
  block_rows_ = std::max<int64_t>(1, 2048 / n);
  if (!ctx.shapes_only && !steps_.empty()) {
    scratch_.assign(static_cast<size_t>(NumThreads(ctx)) * 2 * static_cast<size_t>(block_rows_ * n),
                    0.0f);
  }
  return Status::Ok();
}

void FloatChain::ValueRows(int thread, const float* a, const float* b, int64_t q, int64_t m,
                           float* dst, bool* vector, FirstRows first, const void* self,
                           FirstChain first_chain) const {
  const FloatBroadcastRows& r = *rows_;
  const int64_t n = r.n_;
  // The whole chain per element in vector registers where the CPU and the rows allow it
  // (FloatRowsVector), not a pass per op over each block: RealToBinaryNet's chains (its MUL
  // rows in the profile) 1.10x faster (Zen 5).
  std::array<FloatStep, kMaxFloatSteps> vsteps;
  const int nsteps = static_cast<int>(steps_.size());
  *vector = *vector && (!first || first_chain) && !steps_.empty() && steps_.size() <= vsteps.size();
  for (size_t j = 0; *vector && j < steps_.size(); ++j) {
    const Step& st = steps_[j];
    vsteps[j] = {st.op, st.operand->as<float>(), st.s, st.row, st.operand_first, st.lo, st.hi};
  }
  if (*vector &&
      (first ? first_chain(self, q, m, vsteps.data(), nsteps, dst)
             : FloatRowsVector(first_, a + q * r.a_row_, r.sa_, r.a_row_, b + q * r.b_row_, r.sb_,
                               r.b_row_, lo_, hi_, vsteps.data(), nsteps, q, dst, n, m, n))) {
    return;
  }
  // What declines depends on the shapes and the CPU only: the caller's other blocks would too.
  *vector = false;
  const int64_t block = block_rows_ * n;
  float* buf[2] = {nullptr, nullptr};
  if (!steps_.empty()) {
    buf[0] = scratch_.data() + static_cast<size_t>(thread) * 2 * static_cast<size_t>(block);
    buf[1] = buf[0] + block;
  }
  for (int64_t p = q, mm = 0; p < q + m; p += mm) {
    mm = std::min(block_rows_, q + m - p);
    float* out = dst + (p - q) * n;
    float* d = steps_.empty() ? out : buf[0];
    if (first) {
      first(self, p, mm, d);
    } else {
      BinaryRowsF32(first_, a + p * r.a_row_, r.sa_, r.a_row_, b + p * r.b_row_, r.sb_, r.b_row_, d,
                    mm, n, lo_, hi_);
    }
    const float* cur = d;
    for (size_t j = 0; j < steps_.size(); ++j) {
      const Step& st = steps_[j];
      d = j + 1 == steps_.size() ? out : (cur == buf[0] ? buf[1] : buf[0]);
      const float* k = st.operand->as<float>() + p * st.row;
      if (st.operand_first) {
        BinaryRowsF32(st.op, k, st.s, st.row, cur, 1, n, d, mm, n, st.lo, st.hi);
      } else {
        BinaryRowsF32(st.op, cur, 1, n, k, st.s, st.row, d, mm, n, st.lo, st.hi);
      }
      cur = d;
    }
  }
}

void FloatChain::Run(const OpContext& ctx, const float* a, const float* b, float* out,
                     FirstRows first, const void* self, FirstChain first_chain) const {
  const FloatBroadcastRows& r = *rows_;
  const int64_t n = r.n_;
  float* last = steps_.empty() ? out : steps_.back().out->as<float>();
  int32_t* packed = packed_ ? packed_->as<int32_t>() : nullptr;
  auto task = [&](int thread, int64_t r0, int64_t r1) {
    bool vector = true;  // per task: the tasks run on several threads
    for (int64_t q = r0, m = 0; q < r1; q += m) {
      // The vector path needs no scratch: blocks of ~256 KB, packed by the LceQuantize from L2.
      // Each part of a concatenation is read as one sequential run per block: with 8 KB blocks
      // BinaryDenseNet's chains ran 1.1x slower than one pass per op, and with 64 KB blocks
      // (9 KB per part of its widest chains) 1.1x slower than with these (Zen 5).
      m = std::min(vector ? std::max<int64_t>(block_rows_, 65536 / n) : block_rows_, r1 - q);
      ValueRows(thread, a, b, q, m, last + q * n, &vector, first, self, first_chain);
      if (pack_) pack_->RunRows(last, packed, q, q + m);
    }
  };
  ParallelForRows(ctx, r.rows_, r.seconds_ * static_cast<double>(steps_.size() + 1), task);
}

Status PlanBroadcast(const OpContext& ctx, const std::vector<int32_t>& a, const std::vector<int32_t>& b,
                     const RuntimeTensor* out, Broadcast* p) {
  const int ra = static_cast<int>(a.size()), rb = static_cast<int>(b.size());
  const int r = std::max({ra, rb, 1});
  if (r > kMaxBroadcastRank) {
    return ctx.Error("broadcasting supports up to rank " + std::to_string(kMaxBroadcastRank) + ", found shapes " +
                     ShapeString(a) + " and " + ShapeString(b));
  }
  p->same_shape = a == b;
  p->rank = r;
  p->out_shape.assign(static_cast<size_t>(std::max(ra, rb)), 1);
  std::array<int64_t, kMaxBroadcastRank> da{}, db{};
  for (int i = 0; i < r; ++i) {
    const int ia = i - (r - ra), ib = i - (r - rb);
    da[i] = ia >= 0 ? a[ia] : 1;
    db[i] = ib >= 0 ? b[ib] : 1;
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1) {
      return ctx.Error("shapes " + ShapeString(a) + " and " + ShapeString(b) + " do not broadcast (dimension " +
                       std::to_string(i) + ": " + std::to_string(da[i]) + " vs " + std::to_string(db[i]) + ")");
    }
    p->dims[i] = da[i] == 1 ? db[i] : da[i];
  }
  const int out_rank = std::max(ra, rb);
  for (int i = 0; i < out_rank; ++i) p->out_shape[i] = static_cast<int32_t>(p->dims[i + (r - out_rank)]);
  int64_t sa = 1, sb = 1;
  for (int i = r - 1; i >= 0; --i) {
    p->a_strides[i] = da[i] == 1 ? 0 : sa;
    p->b_strides[i] = db[i] == 1 ? 0 : sb;
    sa *= da[i];
    sb *= db[i];
  }
  if (out && out->shape() != p->out_shape) {
    return ctx.Error("output " + TensorName(out) + " has shape " + ShapeString(out->shape()) +
                     ", but inputs " + ShapeString(a) + " and " + ShapeString(b) + " broadcast to " +
                     ShapeString(p->out_shape));
  }
  return Status::Ok();
}

const char* XnnStatusName(xnn_status s) {
  switch (s) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid parameter";
    case xnn_status_invalid_state: return "invalid state";
    case xnn_status_unsupported_parameter: return "unsupported parameter";
    case xnn_status_unsupported_hardware: return "unsupported hardware";
    case xnn_status_out_of_memory: return "out of memory";
  }
  return "unknown status";
}

Status InitXnnpack(const OpContext& ctx) {
  static std::once_flag once;
  static xnn_status status = xnn_status_uninitialized;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  if (status != xnn_status_success) {
    return ctx.Error(std::string("XNNPACK initialization failed: ") + XnnStatusName(status));
  }
  return Status::Ok();
}

Status PrepareFloatWeights(const OpContext& ctx, const RuntimeTensor* filter, const RuntimeTensor* bias,
                           const RuntimeTensor* out) {
  if (filter->type() != DType::kFloat32) {
    return ctx.Error(std::string("float32 input with ") + graph::DTypeName(filter->type()) +
                     " filter (hybrid quantization) is not supported");
  }
  XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out, DType::kFloat32, "output"));
  if (bias) XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, bias, DType::kFloat32, "bias"));
  return InitXnnpack(ctx);
}

}  // namespace xbnn::kernels::builtin

// CONV_2D (versions 1-6): float32 on XNNPACK (grouped convolution included) or, for few input
// channels and a large kernel (7x7 stems), xbnn's direct AVX-512 kernel (conv_direct.h), split by
// output rows on the interpreter's threads; int8 with per-tensor or per-channel weights in
// TFLite's integer arithmetic. A float convolution can also run the LceQuantize or the max
// pooling of its output, and the other parts of a grouped convolution written as SPLIT, a
// CONV_2D per part and CONCATENATION (runtime/fusion.h).
#include "kernels/binary/optimized/bitpack.h"
#include "kernels/builtin/common.h"
#include "kernels/builtin/conv_binary_valued.h"
#include "kernels/builtin/conv_common.h"
#include "kernels/builtin/conv_direct.h"
#include "kernels/builtin/conv_direct_bf16.h"
#include "kernels/builtin/conv_group.h"
#include "kernels/builtin/conv_winograd.h"
#include "kernels/builtin/pooling.h"
#include "kernels/builtin/xnn_chunks.h"
#include "ops/op_def.h"
#include "ops/shape_rules.h"

namespace xbnn::kernels {
namespace {

using namespace builtin;  // NOLINT

class Conv2D final : public runtime::OpKernel {
 public:
  Status Prepare(OpContext& ctx) override {
    XBNN_RETURN_IF_ERROR(ExpectInputCount(ctx, 2, 3));
    XBNN_RETURN_IF_ERROR(ExpectOutputCount(ctx, 1));
    in_ = ctx.input(0);
    filter_ = ctx.input(1);
    bias_ = ctx.input(2);
    out_ = ctx.output(0);
    // A fused LceQuantize packs the convolution's output, or with a fused pooling the pooled rows.
    (ctx.fused_pool ? pool_packed_ : packed_) = ctx.fused_packed;
    XBNN_RETURN_IF_ERROR(ExpectRank(ctx, in_, 4, "input"));
    XBNN_RETURN_IF_ERROR(ExpectRank(ctx, filter_, 4, "filter"));
    XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, filter_, "filter"));
    if (bias_) XBNN_RETURN_IF_ERROR(ExpectConstant(ctx, bias_, "bias"));

    g_.batch = in_->dim(0);
    g_.in_h = in_->dim(1);
    g_.in_w = in_->dim(2);
    g_.in_c = in_->dim(3);
    g_.out_c = filter_->dim(0);
    g_.k_h = filter_->dim(1);
    g_.k_w = filter_->dim(2);
    filter_c_ = filter_->dim(3);
    if (filter_c_ < 1 || g_.in_c < 1 || g_.in_c % filter_c_ != 0) {
      return ctx.Error("filter depth " + std::to_string(filter_c_) +
                       " does not divide the input's " + std::to_string(g_.in_c) +
                       " channels into groups");
    }
    groups_ = g_.in_c / filter_c_;
    if (g_.out_c < 1 || g_.out_c % groups_ != 0) {
      return ctx.Error(std::to_string(g_.out_c) + " output channels do not split into " +
                       std::to_string(groups_) + " groups");
    }
    XBNN_RETURN_IF_ERROR(PrepareConvGeometry(ctx, out_, bias_, &g_));

    const double macs = static_cast<double>(g_.batch) * g_.gh.out * g_.gw.out * g_.out_c * g_.k_h *
                        g_.k_w * filter_c_;
    seconds_ = macs / (in_->type() == DType::kFloat32 ? kConvMacsPerSecond : kInt8MacsPerSecond);
    if (!ctx.fused_group.empty()) XBNN_RETURN_IF_ERROR(PrepareGroups(ctx));
    if (ctx.fused_pool) {
      const RuntimeTensor* x = out_;
      for (const OpContext* e : ctx.fused_before_pool) {
        RowOp b;
        XBNN_RETURN_IF_ERROR(ReadRowOp(*e, x, "before a pooling", &b));
        before_.push_back(b);
        x = b.out;
      }
      XBNN_RETURN_IF_ERROR(PreparePool(*ctx.fused_pool, x));
      XBNN_RETURN_IF_ERROR(PrepareAfterPool(ctx));
    }
    if (in_->type() == DType::kFloat32) return PrepareFloat(ctx);
    if (packed_ || pool_ctx_)
      return ctx.Error("a fused LceQuantize or pooling needs a float32 convolution");
    if (in_->type() == DType::kInt8) return PrepareInt8(ctx);
    return ctx.Error("input " + TensorName(in_) + " has type " + graph::DTypeName(in_->type()) +
                     ", supported: float32, int8");
  }

  void Invoke(OpContext& ctx) override {
    if (pool_ctx_ == nullptr) {
      InvokeConv(ctx);
    } else if (winograd_.prepared() || grouped_.prepared() ||
               (direct_.prepared() ? direct_.by_rows() : bf16_.prepared() && bf16_.by_rows())) {
      InvokePooled(ctx);
    } else {  // other kernels: the pooling after the whole convolution, as the separate op
      InvokeConv(ctx);
      if (!before_.empty()) {
        const int64_t rows = int64_t{g_.batch} * g_.gh.out;
        const double floats = static_cast<double>(rows) * g_.gw.out * g_.out_c;
        ParallelForRows(ctx, rows,
                        floats * static_cast<double>(before_.size()) / kElementwiseFloatsPerSecond,
                        [&](int, int64_t r0, int64_t r1) {
                          RunBefore(static_cast<int>(r0), static_cast<int>(r1));
                        });
      }
      const int n = pool_.batch * pool_.gh.out;
      const float* y = out_->as<float>();
      float* pooled = pool_ctx_->output(0)->as<float>();
      auto row = [&](int thread, int t) {
        PoolRow(thread, y, pooled, t / pool_.gh.out, t % pool_.gh.out);
      };
      ParallelFor(ctx, n, row, pool_.seconds);
    }
  }

 private:
  // A fused MAX_POOL_2D with a stem kernel (tasks of output rows): tasks of bands of rows; after
  // each few convolution rows, the pooling rows whose windows end there and start inside the band
  // (the rows were just computed on this core); then the pooling rows whose windows straddle two
  // bands.
  // Each pooling row is the separate op's MaxPoolRowF32 on the same values.
  void InvokePooled(OpContext& ctx) {
    const float* in = in_->as<float>();
    float* out = out_->as<float>();
    float* pooled = pool_ctx_->output(0)->as<float>();
    if (bf16_.prepared()) bf16_.ConvertInput(in);
    const int h = g_.gh.out, rows = g_.batch * h;
    const int threads = NumThreads(ctx);
    // Two bands per thread: few straddling pooling rows, some slack for a slower thread. Bands
    // of the Winograd kernel start at its tile rows (no tile computed twice).
    const int bands =
        threads <= 1 || seconds_ < kMinParallelSeconds ? 1 : std::min(rows, 2 * threads);
    // Band k: rows [bound(k), bound(k + 1)), computed where needed (Invoke does not allocate).
    auto bound = [&](int k) {
      const int r = static_cast<int>(int64_t{rows} * k / bands);
      return winograd_.prepared() && r < rows ? winograd_.TileRowStart(r) : r;
    };
    // Tile-row starts lie less than a tile below the plain bounds: from the plain band, step.
    auto band_of = [&](int r) {
      int k = static_cast<int>((static_cast<int64_t>(r + 1) * bands - 1) / rows);
      while (k + 1 < bands && bound(k + 1) <= r) ++k;
      while (k > 0 && bound(k) > r) --k;
      return k;
    };
    auto band = [&](int thread, int k) {
      const int r0 = bound(k), r1 = bound(k + 1);
      // A few rows per kernel call (the bf16 kernel configures the AMX tiles once per call).
      constexpr int kChunkRows = 8;
      for (int r = r0; r < r1; r += kChunkRows) {
        const int e = std::min(r1, r + kChunkRows);
        if (bf16_.prepared()) {
          bf16_.RunRows(out, r, e);
        } else if (winograd_.prepared()) {
          winograd_.RunRows(thread, in, out, r, e);
        } else if (grouped_.prepared()) {
          grouped_.RunRows(thread, in, out, r, e);
        } else {
          direct_.RunRows(in, out, r, e);
        }
        RunBefore(r, e);
        for (int q = r; q < e; ++q) {
          const int b = q / h;
          for (int py : pool_ends_at_[static_cast<size_t>(q % h)]) {
            if (b * h + pool_lo_[static_cast<size_t>(py)] >= r0)
              PoolRow(thread, out, pooled, b, py);
          }
        }
      }
    };
    ParallelFor(ctx, bands, band, seconds_);
    for (int b = 0; b < g_.batch; ++b) {
      for (int py = 0; py < pool_.gh.out; ++py) {
        const int lo = b * h + pool_lo_[static_cast<size_t>(py)];
        const int hi = b * h + pool_hi_[static_cast<size_t>(py)];
        if (lo >= hi || band_of(lo) != band_of(hi - 1)) PoolRow(0, out, pooled, b, py);
      }
    }
  }

  // Pooling row `py` of batch `b`, then the ops fused after the pooling and the LceQuantize on
  // that row (still in L1): the separate ops' loops (BinaryRowsF32, the pack kernel) on it. Only
  // the last op's output is written to its tensor; the pooled row and the rows between go to the
  // thread's scratch rows (nothing else reads them, fusion.h), which saves two passes of writes.
  void PoolRow(int thread, const float* y, float* pooled, int b, int py) const {
    const int64_t c = pool_.rows.channels, w = pool_.rows.out_w, n = w * c;
    const int64_t row = int64_t{b} * pool_.gh.out + py, off = row * n;
    float* scratch =
        after_.empty() ? nullptr
                       : scratch_.data() + static_cast<size_t>(thread) * 2 * static_cast<size_t>(n);
    float* x = after_.empty() ? pooled + off : scratch;
    MaxPoolRowF32(pool_.rows, y, x, b, py);
    for (size_t i = 0; i < after_.size(); ++i) {
      const RowOp& e = after_[i];
      float* dst = i + 1 == after_.size() ? e.out->as<float>() + off
                   : x == scratch         ? scratch + n
                                          : scratch;
      if (e.c_first) {
        BinaryRowsF32(e.op, e.c, e.sc, 0, x, 1, c, dst, w, c, e.lo, e.hi);
      } else {
        BinaryRowsF32(e.op, x, 1, c, e.c, e.sc, 0, dst, w, c, e.lo, e.hi);
      }
      x = dst;
    }
    if (pool_packed_) pack_->RunRows(x - off, pool_packed_->as<int32_t>(), row * w, (row + 1) * w);
  }

  struct RowOp {  // one op of ctx.fused_before_pool or ctx.fused_after_pool
    FloatBinary op = FloatBinary::kAdd;
    const float* c = nullptr;  // the constant operand: one value (sc 0) or one per channel (sc 1)
    int64_t sc = 0;
    bool c_first = false;  // constant op pooled (else pooled op constant)
    float lo = 0, hi = 0;  // the op's activation range
    RuntimeTensor* out = nullptr;
  };
  // One op of ctx.fused_before_pool or ctx.fused_after_pool (fusion.h) reading `x`: a float
  // ADD/SUB/MUL of x and a constant of one value or one per channel, or a PRELU of x with such a
  // slope.
  static Status ReadRowOp(const OpContext& e, const RuntimeTensor* x, const char* where, RowOp* a) {
    const int32_t code = e.graph->CodeOf(*e.op).builtin;
    a->op = code == graph::op::kAdd   ? FloatBinary::kAdd
            : code == graph::op::kSub ? FloatBinary::kSub
            : code == graph::op::kMul ? FloatBinary::kMul
                                      : FloatBinary::kPrelu;
    a->c_first = e.num_inputs() == 2 && e.input(1) == x;
    const RuntimeTensor* k = e.num_inputs() == 2 ? e.input(a->c_first ? 0 : 1) : nullptr;
    a->out = e.outputs.size() == 1 ? e.output(0) : nullptr;
    const bool ok = (code == graph::op::kAdd || code == graph::op::kSub ||
                     code == graph::op::kMul || (code == graph::op::kPrelu && !a->c_first)) &&
                    e.num_inputs() == 2 && e.input(a->c_first ? 1 : 0) == x && k && k->constant &&
                    k->type() == DType::kFloat32 && a->out && a->out->type() == DType::kFloat32 &&
                    a->out->shape() == x->shape() &&
                    (k->elements() == 1 || k->elements() == x->dim(3));
    if (!ok) return e.Error(std::string("cannot run ") + where + " fused into a convolution");
    a->c = k->as<float>();
    a->sc = k->elements() == 1 ? 0 : 1;
    builtin::Activation act = builtin::Activation::kNone;
    if (code != graph::op::kPrelu) XBNN_RETURN_IF_ERROR(ReadActivation(e, &act));
    FloatActivationRange(act, &a->lo, &a->hi);
    return Status::Ok();
  }

  // The ops of ctx.fused_before_pool on output rows [r0, r1) of the convolution, in place (the
  // separate ops' loops on the same values).
  void RunBefore(int r0, int r1) const {
    const int64_t c = g_.out_c, pixels = int64_t{r1 - r0} * g_.gw.out;
    float* x = out_->as<float>() + int64_t{r0} * g_.gw.out * c;
    for (const RowOp& e : before_) {
      if (e.c_first) {
        BinaryRowsF32(e.op, e.c, e.sc, 0, x, 1, c, x, pixels, c, e.lo, e.hi);
      } else {
        BinaryRowsF32(e.op, x, 1, c, e.c, e.sc, 0, x, pixels, c, e.lo, e.hi);
      }
    }
  }

  // The ops of ctx.fused_after_pool (fusion.h) and the fused LceQuantize after a fused pooling.
  Status PrepareAfterPool(const OpContext& ctx) {
    const RuntimeTensor* x = pool_ctx_->output(0);
    for (const OpContext* e : ctx.fused_after_pool) {
      RowOp a;
      XBNN_RETURN_IF_ERROR(ReadRowOp(*e, x, "after a pooling", &a));
      after_.push_back(a);
      x = a.out;
    }
    if (!after_.empty()) {
      scratch_.assign(
          static_cast<size_t>(NumThreads(ctx)) * 2 * pool_.rows.out_w * pool_.rows.channels, 0.0f);
    }
    if (pool_packed_) {
      optimized::PackParams p;
      p.outer = int64_t{pool_.batch} * pool_.gh.out * pool_.gw.out;
      p.channels = pool_.rows.channels;
      auto k = optimized::PackKernel::Create(p);
      if (!k.ok()) return ctx.Error(k.status().message());
      pack_ = std::move(*k);
    }
    return Status::Ok();
  }

  // A direct kernel's work items [0, items) in tasks of `per` items: run(thread, begin, end),
  // then the task's part of a fused LceQuantize (the regions region(item) its items wrote).
  template <class Region, class Run>
  void RunItems(OpContext& ctx, int items, int per, const float* out, int32_t* packed,
                Region region, Run run) {
    auto task = [&](int thread, int t) {
      const int begin = t * per, end = std::min(items, begin + per);
      run(thread, begin, end);
      for (int i = begin; packed && i < end; ++i) {
        direct_conv::PackSigns(out, g_.out_c, region(i), packed);
      }
    };
    ParallelFor(ctx, (items + per - 1) / per, task, seconds_);
  }

  void InvokeConv(OpContext& ctx) {
    // A fused LceQuantize packs each task's part of the output right after the task computed it.
    int32_t* packed = packed_ ? packed_->as<int32_t>() : nullptr;
    if (binary_.prepared()) {
      binary_.Run(ctx, in_->as<float>(), out_->as<float>());
    } else if (bf16_.prepared()) {
      bf16_.ConvertInput(in_->as<float>());
      float* out = out_->as<float>();
      // Each RunRows call configures the AMX tiles (~1 us): up to 32 tasks of whole items.
      RunItems(
          ctx, bf16_.rows(), std::max(1, bf16_.rows() / 32), out, packed,
          [&](int i) { return bf16_.ItemRegion(i); },
          [&](int, int begin, int end) { bf16_.RunRows(out, begin, end); });
    } else if (winograd_.prepared()) {
      const float* in = in_->as<float>();
      float* out = out_->as<float>();
      RunItems(
          ctx, winograd_.rows(), WinogradStemF32::kTileRows, out, packed,
          [&](int row) { return direct_conv::RowRegion(g_.gw.out, g_.out_c, row); },
          [&](int thread, int begin, int end) { winograd_.RunRows(thread, in, out, begin, end); });
    } else if (grouped_.prepared()) {
      const float* in = in_->as<float>();
      float* out = out_->as<float>();
      RunItems(
          ctx, g_.batch * g_.gh.out, GroupedDirectConv::kChunkRows, out, packed,
          [&](int row) { return direct_conv::RowRegion(g_.gw.out, g_.out_c, row); },
          [&](int thread, int begin, int end) { grouped_.RunRows(thread, in, out, begin, end); });
    } else if (direct_.prepared()) {
      const float* in = in_->as<float>();
      float* out = out_->as<float>();
      // Stems: tasks of a few rows (DirectConvF32::RunRows runs their edge columns together).
      RunItems(
          ctx, direct_.rows(), direct_.by_rows() ? direct_conv::kRowGroup : 1, out, packed,
          [&](int i) { return direct_.ItemRegion(i); },
          [&](int, int begin, int end) { direct_.RunRows(in, out, begin, end); });
    } else if (!xnn_.empty() && packed) {
      const float* out = out_->as<float>();
      xnn_.Run(ctx, [&](int64_t p0, int64_t p1) { pack_->RunRows(out, packed, p0, p1); });
    } else if (!xnn_.empty()) {
      xnn_.Run(ctx);
    } else {
      InvokeInt8(ctx);
    }
  }

  // The fused MAX_POOL_2D (ctx.fused_pool): its geometry, and per row of the convolution's
  // output the pooling rows whose windows end there.
  // `x`: the pooling's input, the convolution's output or the last op of ctx.fused_before_pool
  // (whose values the convolution's output then holds).
  Status PreparePool(const OpContext& pool, const RuntimeTensor* x) {
    XBNN_RETURN_IF_ERROR(ReadPool(pool, &pool_));
    if (pool.input(0) != x || pool.input(0)->type() != DType::kFloat32 ||
        x->shape() != out_->shape()) {
      return pool.Error("a pooling fused into a convolution needs its float output");
    }
    pool_ctx_ = &pool;
    const MaxPoolGeometry& pg = pool_.rows;
    pool_lo_.assign(static_cast<size_t>(pool_.gh.out), 0);
    pool_hi_.assign(static_cast<size_t>(pool_.gh.out), 0);
    pool_ends_at_.assign(static_cast<size_t>(pg.in_h), {});
    for (int py = 0; py < pool_.gh.out; ++py) {
      const int y0 = py * pg.stride_h - pg.pad_top;
      const int lo = std::max(0, y0), hi = std::min(pg.in_h, y0 + pg.filter_h);
      pool_lo_[static_cast<size_t>(py)] = lo;
      pool_hi_[static_cast<size_t>(py)] = hi;
      if (lo < hi) pool_ends_at_[static_cast<size_t>(hi - 1)].push_back(py);
    }
    return Status::Ok();
  }

  // A grouped convolution (ctx.fused_group, runtime/fusion.h): a DirectConvF32 per part, all of
  // this convolution's geometry; then in_ and out_ are the SPLIT's input and the CONCATENATION's
  // output, and g_ describes them (in_c and out_c their channels).
  Status PrepareGroups(OpContext& ctx) {
    const OpContext& split = *ctx.fused_split;
    const OpContext& concat = *ctx.fused_group_concat;
    const size_t n = ctx.fused_group.size();
    const int ni = static_cast<int>(n);
    RuntimeTensor* x = split.input(1);
    RuntimeTensor* y = concat.output(0);
    const bool ok =
        x && y && in_->type() == DType::kFloat32 && x->type() == DType::kFloat32 &&
        y->type() == DType::kFloat32 && split.outputs.size() == n && concat.num_inputs() == n &&
        groups_ == 1 &&
        x->shape() == std::vector<int32_t>{g_.batch, g_.in_h, g_.in_w, g_.in_c * ni} &&
        y->shape() == std::vector<int32_t>{g_.batch, g_.gh.out, g_.gw.out, g_.out_c * ni} &&
        DirectConvF32::RunsEightChannelRows(g_.in_c, g_.out_c, g_.k_h, g_.k_w, g_.stride_h,
                                            g_.stride_w, g_.dil_h, g_.dil_w);
    if (!ok) return ctx.Error("cannot run the grouped convolution fused into it");
    const DirectConvGeometry dg{
        g_.batch, g_.in_h, g_.in_w,     g_.in_c,     g_.gh.out,        g_.gw.out,       g_.out_c,
        g_.k_h,   g_.k_w,  g_.stride_h, g_.stride_w, g_.gh.pad_before, g_.gw.pad_before};
    grouped_.Init(dg, ni, NumThreads(ctx), !ctx.shapes_only);
    for (size_t k = 0; k < n; ++k) {
      const OpContext& c = *ctx.fused_group[k];
      const RuntimeTensor* f = c.input(1);
      const RuntimeTensor* b = c.input(2);
      // The same geometry as this convolution: filter shape, strides, dilations, padding.
      bool same =
          c.input(0) == split.output(k) && concat.input(k) == c.output(0) && f && f->constant &&
          f->type() == DType::kFloat32 && f->shape() == filter_->shape() &&
          (!b || (b->constant && b->type() == DType::kFloat32 && b->elements() == g_.out_c));
      for (const char* o :
           {"stride_h", "stride_w", "dilation_h_factor", "dilation_w_factor", "padding"}) {
        same = same && c.options().GetInt(o, 1) == ctx.options().GetInt(o, 1);
      }
      if (!same) return c.Error("cannot run as a part of the grouped convolution it belongs to");
      builtin::Activation act = builtin::Activation::kNone;
      XBNN_RETURN_IF_ERROR(ReadActivation(c, &act));
      float lo, hi;
      FloatActivationRange(act, &lo, &hi);
      grouped_.PreparePart(static_cast<int>(k), f->as<float>(), b ? b->as<float>() : nullptr, lo,
                           hi);
    }
    in_ = x;
    out_ = y;
    g_.in_c *= ni;
    g_.out_c *= ni;
    seconds_ *= ni;
    return Status::Ok();
  }

  Status PrepareFloat(OpContext& ctx) {
    XBNN_RETURN_IF_ERROR(PrepareFloatWeights(ctx, filter_, bias_, out_));
    if (grouped_.prepared()) {  // (the other parts' ops count their own weights)
      if (ctx.prepared_bytes) {
        *ctx.prepared_bytes += static_cast<size_t>(filter_->bytes + (bias_ ? bias_->bytes : 0));
      }
      return Status::Ok();
    }
    if (TryBinaryValued(ctx)) return Status::Ok();
    float lo, hi;
    FloatActivationRange(g_.act, &lo, &hi);
    const DirectConvGeometry g{g_.batch,    g_.in_h,          g_.in_w,         g_.in_c, g_.gh.out,
                               g_.gw.out,   g_.out_c,         g_.k_h,          g_.k_w,  g_.stride_h,
                               g_.stride_w, g_.gh.pad_before, g_.gw.pad_before};
    // The Winograd stem kernel (its rounding differs from LCE's): with kFloat32Winograd, and in
    // the bf16 mode where the bf16 kernel has no AMX tiles; never with the reference kernels
    // (they run the plain sum), nor when only shapes are checked (its scratch grows with them).
    bool winograd = !ctx.use_reference_kernels && !ctx.shapes_only &&
                    WinogradStemF32::Applies(g, groups_, g_.dil_h, g_.dil_w);
    if (ctx.bfloat16_float && DirectConvBf16::Applies(g, groups_, g_.dil_h, g_.dil_w)) {
      bf16_.Prepare(g, filter_->as<float>(), bias_ ? bias_->as<float>() : nullptr, lo, hi);
      if (!winograd || bf16_.uses_tiles()) {
        if (ctx.prepared_bytes) *ctx.prepared_bytes += bf16_.bytes();
        return Status::Ok();
      }
      // Without the AMX tiles, bf16 products run a 7x7 stem 1.35x faster than the direct float32
      // sum, the Winograd kernel ~2x, with less rounding (docs/performance.md): it takes them.
      bf16_ = DirectConvBf16();
    } else {
      winograd = winograd && ctx.winograd_float;
    }
    if (winograd) {
      winograd_.Prepare(g, filter_->as<float>(), bias_ ? bias_->as<float>() : nullptr, lo, hi,
                        NumThreads(ctx));
      if (ctx.prepared_bytes) *ctx.prepared_bytes += winograd_.bytes();
      return Status::Ok();
    }
    if (DirectConvF32::Applies(g, groups_, g_.dil_h, g_.dil_w)) {
      direct_.Prepare(g, filter_->as<float>(), bias_ ? bias_->as<float>() : nullptr, lo, hi);
      if (ctx.prepared_bytes) {
        *ctx.prepared_bytes += static_cast<size_t>(filter_->bytes + (bias_ ? bias_->bytes : 0));
      }
      return Status::Ok();
    }
    XnnConvDesc d = g_.Xnn(in_, filter_, bias_, out_, seconds_);
    d.groups = groups_;
    d.group_in = filter_c_;
    d.group_out = g_.out_c / groups_;
    if (packed_) {
      optimized::PackParams p;
      p.outer = int64_t{g_.batch} * g_.gh.out * g_.gw.out;
      p.channels = g_.out_c;
      auto k = optimized::PackKernel::Create(p);
      if (!k.ok()) return ctx.Error(k.status().message());
      pack_ = std::move(*k);
    }
    return CreateXnnConv2D(ctx, d, &xnn_);
  }

  // The input is +-1 (an LceDequantize's) and the filter +-s per output channel: a binary
  // convolution (conv_binary_valued.h). Not with the reference kernels (the oracle runs the float
  // arithmetic), fused ops, groups, padding or a fused activation.
  bool TryBinaryValued(const OpContext& ctx) {
    if (ctx.use_reference_kernels || packed_ || pool_ctx_ || groups_ != 1 ||
        g_.act != builtin::Activation::kNone || g_.gh.pad_before != 0 || g_.gh.pad_after != 0 ||
        g_.gw.pad_before != 0 || g_.gw.pad_after != 0 ||
        !WrittenByLceDequantize(ctx, ctx.op->inputs[0])) {
      return false;
    }
    const BinaryValuedConvShape s{g_.batch, g_.in_h,     g_.in_w,     g_.in_c,  g_.out_c, g_.k_h,
                                  g_.k_w,   g_.stride_h, g_.stride_w, g_.dil_h, g_.dil_w};
    if (!binary_.Prepare(ctx, s, filter_->as<float>(), bias_ ? bias_->as<float>() : nullptr)) {
      return false;
    }
    if (ctx.prepared_bytes) *ctx.prepared_bytes += static_cast<size_t>(binary_.prepared_bytes());
    return true;
  }

  Status PrepareInt8(OpContext& ctx) {
    if (filter_->type() != DType::kInt8) {
      return ctx.Error(std::string("int8 input needs an int8 filter, found ") +
                       graph::DTypeName(filter_->type()));
    }
    XBNN_RETURN_IF_ERROR(runtime::ExpectType(ctx, out_, DType::kInt8, "output"));
    XBNN_RETURN_IF_ERROR(
        PrepareChannelRequant(ctx, in_, filter_, bias_, out_, g_.out_c, 0, g_.act, &rq_));
    acc_.assign(static_cast<size_t>(NumThreads(ctx)) * g_.out_c, 0);
    return Status::Ok();
  }

  // One output row (batch b, output y) per task; the accumulators are per thread.
  void InvokeInt8(OpContext& ctx) {
    const int8_t* in = in_->as<int8_t>();
    const int8_t* w = filter_->as<int8_t>();
    const int32_t* bias = bias_ ? bias_->as<int32_t>() : nullptr;
    int8_t* out = out_->as<int8_t>();
    const int out_per_group = g_.out_c / groups_;
    const int32_t in_off = rq_.input_offset;
    auto row = [&](int thread, int task) {
      int32_t* acc = acc_.data() + static_cast<size_t>(thread) * g_.out_c;
      Int8ConvRow(g_, rq_, in, bias, out, acc, task,
                  [&](int32_t* a, const int8_t* px, int ky, int kx) {
                    for (int oc = 0; oc < g_.out_c; ++oc) {
                      const int8_t* x = px + (oc / out_per_group) * filter_c_;
                      const int8_t* f =
                          w + ((static_cast<int64_t>(oc) * g_.k_h + ky) * g_.k_w + kx) * filter_c_;
                      int32_t s = 0;
                      for (int ic = 0; ic < filter_c_; ++ic)
                        s += static_cast<int32_t>(f[ic]) * (x[ic] + in_off);
                      a[oc] += s;
                    }
                  });
    };
    ParallelFor(ctx, g_.batch * g_.gh.out, row, seconds_);
  }

  RuntimeTensor *in_ = nullptr, *filter_ = nullptr, *bias_ = nullptr, *out_ = nullptr;
  RuntimeTensor* packed_ = nullptr;      // a fused LceQuantize's output (ctx.fused_packed)
  RuntimeTensor* pool_packed_ = nullptr;  // the same of the pooled rows (after after_)
  const OpContext* pool_ctx_ = nullptr;  // a fused MAX_POOL_2D (ctx.fused_pool)
  std::vector<RowOp> before_, after_;
  mutable std::vector<float> scratch_;  // with after_: two pooled rows per thread (PoolRow)
  PoolGeometry pool_;
  std::vector<int> pool_lo_, pool_hi_;          // per pooling row: its window's input rows
  std::vector<std::vector<int>> pool_ends_at_;  // per output row: pooling rows ending there
  ConvGeometry g_;
  int filter_c_ = 0, groups_ = 1;
  double seconds_ = 0;  // estimated single-thread time
  XnnChunks xnn_;
  BinaryValuedConv binary_;  // +-1 input, +-s filter: a binary convolution
  DirectConvF32 direct_;     // used instead of XNNPACK where DirectConvF32::Applies
  WinogradStemF32 winograd_;  // instead of direct_ where WinogradStemF32::Applies
  DirectConvBf16 bf16_;   // instead of direct_ with InterpreterOptions::float_precision kBFloat16
  GroupedDirectConv grouped_;                    // a grouped convolution (ctx.fused_group)
  std::unique_ptr<optimized::PackKernel> pack_;  // the fused LceQuantize on the XNNPACK path
  ChannelRequant rq_;
  std::vector<int32_t> acc_;
};

// Filter [Cout, KH, KW, Cin/groups]: every output value takes KH * KW * Cin/groups MACs.
ops::OpCost Conv2DCost(const ops::CostQuery& q) {
  if (q.filter.shape.size() != 4 || q.out.shape.size() != 4) return {};
  return ops::DenseMacs(q.in, ops::DimProduct(q.out.shape, 0, 4) * q.filter.shape[1] *
                                  q.filter.shape[2] * q.filter.shape[3]);
}

std::optional<ops::Shape> Conv2DShape(const ops::ShapeQuery& q) { return ops::ConvShape(q, false); }

}  // namespace

// Versions: 3 int8, 6 grouped.
extern const ops::OpDef kConv2DOp{
    .signature = graph::BuiltinSignature(graph::op::kConv2D, 2, 3, graph::options_type::kConv2D,
                                         graph::OptionalInput(2)),
    .max_version = 6,
    .shape = Conv2DShape,
    .cost = Conv2DCost,
    .create = ops::MakeKernel<Conv2D>,
};

}  // namespace xbnn::kernels

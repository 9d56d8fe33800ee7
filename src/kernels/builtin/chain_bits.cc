#include "kernels/builtin/chain_bits.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/bitpack.h"

namespace xbnn::kernels::builtin {
namespace {

// The float op of an elementwise chain's op (those runtime/fusion.h lets ChainBits run).
bool ChainOp(const OpContext& e, FloatBinary* op) {
  switch (e.graph->CodeOf(*e.op).builtin) {
    case graph::op::kAdd:
      *op = FloatBinary::kAdd;
      return true;
    case graph::op::kSub:
      *op = FloatBinary::kSub;
      return true;
    case graph::op::kMul:
      *op = FloatBinary::kMul;
      return true;
    case graph::op::kDiv:
      *op = FloatBinary::kDiv;
      return true;
    default:
      return false;
  }
}

// Op `e` of a chain whose value is `x`: its float op, its constant operand (one value or one per
// channel of `channels`) from channel `offset` on, which side it is on, its activation range.
Status ReadStep(const OpContext& e, const RuntimeTensor* x, int64_t channels, int64_t offset,
                FloatStep* st) {
  FloatBinary op;
  const bool ok = ChainOp(e, &op) && e.num_inputs() == 2 && e.outputs.size() == 1 &&
                  (e.input(0) == x) != (e.input(1) == x);
  const RuntimeTensor* k = ok ? e.input(e.input(0) == x ? 1 : 0) : nullptr;
  if (!k || !k->constant || k->type() != DType::kFloat32 ||
      (k->elements() != 1 && k->elements() != channels)) {
    return e.Error("cannot run as a job of an earlier elementwise chain");
  }
  Activation act = Activation::kNone;
  XBNN_RETURN_IF_ERROR(ReadActivation(e, &act));
  st->op = op;
  st->k_first = e.input(0) == k;
  st->s = k->elements() == 1 ? 0 : 1;
  st->k = k->as<float>() + offset * st->s;
  st->row = 0;
  FloatActivationRange(act, &st->lo, &st->hi);
  return Status::Ok();
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) void SignsAvx512(const float* x, int64_t rows, int64_t n,
                                                    int32_t* words, int64_t words_row) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = x + r * n;
    auto* o = reinterpret_cast<uint8_t*>(words + r * words_row);
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = _mm512_cmp_ps_mask(_mm512_loadu_ps(p + i), zero, _CMP_LT_OQ);
      std::memcpy(o + i / 8, &m, sizeof(m));
    }
  }
}
__attribute__((target("avx2"))) void SignsAvx2(const float* x, int64_t rows, int64_t n,
                                               int32_t* words, int64_t words_row) {
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = x + r * n;
    auto* o = reinterpret_cast<uint8_t*>(words + r * words_row);
    for (int64_t i = 0; i < n; i += 8) {
      o[i / 8] = static_cast<uint8_t>(
          _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p + i), zero, _CMP_LT_OQ)));
    }
  }
}

// A batch norm's bits, per element clamp(clamp(x * k0, lo0, hi0) + k1, lo1, hi1) < 0 with k0, k1
// one value per channel: FloatRowsVector's expressions (its clamps as vmaxps(lo, v) and
// vminps(hi, t), the same for every value NaN included; the products and sums commute bit for
// bit, and a NaN's payload cannot change a sign test) in one pass, 16 channels per vector.
__attribute__((target("avx512f"))) void BatchNormSignsAvx512(const float* x, const float* k0,
                                                             float lo0, float hi0, const float* k1,
                                                             float lo1, float hi1, int64_t rows,
                                                             int64_t n, int32_t* words,
                                                             int64_t words_row) {
  // (Masked forms with a full mask: GCC 12 warns that the unmasked ones read an uninitialized
  // value.)
  const __mmask16 all = 0xFFFF;
  const __m512 zero = _mm512_setzero_ps();
  const __m512 vlo0 = _mm512_set1_ps(lo0), vhi0 = _mm512_set1_ps(hi0);
  const __m512 vlo1 = _mm512_set1_ps(lo1), vhi1 = _mm512_set1_ps(hi1);
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = x + r * n;
    auto* o = reinterpret_cast<uint8_t*>(words + r * words_row);
    for (int64_t i = 0; i < n; i += 16) {
      __m512 v = _mm512_mul_ps(_mm512_loadu_ps(p + i), _mm512_loadu_ps(k0 + i));
      v = _mm512_mask_min_ps(vhi0, all, vhi0, _mm512_mask_max_ps(vlo0, all, vlo0, v));
      v = _mm512_add_ps(v, _mm512_loadu_ps(k1 + i));
      v = _mm512_mask_min_ps(vhi1, all, vhi1, _mm512_mask_max_ps(vlo1, all, vlo1, v));
      const __mmask16 m = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
      std::memcpy(o + i / 8, &m, sizeof(m));
    }
  }
}

#endif  // __x86_64__

// The LceQuantize bits of `rows` rows of n floats (x < 0, as the pack kernels test: NaN and -0.0
// give 0) into words[r * words_row], bit i % 32 of word i / 32 (little-endian bytes); n a multiple
// of 32. False (nothing written) where the CPU or n does not allow it.
bool PackSignsRows(const float* x, int64_t rows, int64_t n, int32_t* words, int64_t words_row) {
  if (n % 32 != 0) return false;
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) {
    SignsAvx512(x, rows, n, words, words_row);
    return true;
  }
  if (__builtin_cpu_supports("avx2")) {
    SignsAvx2(x, rows, n, words, words_row);
    return true;
  }
#else
  (void)x, (void)rows, (void)words, (void)words_row;
#endif
  return false;
}

}  // namespace

ChainBitsRunner::ChainBitsRunner() = default;
ChainBitsRunner::~ChainBitsRunner() = default;

Status ChainBitsRunner::PrepareJob(const runtime::ChainBitsJob& j, int64_t rows, Job* job) const {
  const OpContext& c = *j.chain;
  const RuntimeTensor* x = nullptr;  // the chain's input: its first op's non-constant operand
  for (size_t i = 0; i < 2 && i < c.num_inputs(); ++i) {
    if (c.input(i) && !c.input(i)->constant) x = c.input(i);
  }
  const RuntimeTensor* out = c.output(0);
  const int64_t n = out && out->rank() > 0 ? out->dim(out->rank() - 1) : 0;
  const RuntimeTensor* part = j.part;
  const int64_t pc = part && part->rank() > 0 ? part->dim(part->rank() - 1) : 0;
  if (!x || x->shape() != out->shape() || !c.fused_packed || n <= 0 || pc <= 0 ||
      part->type() != DType::kFloat32 || part->elements() != rows * pc || j.offset % 32 != 0 ||
      j.offset + pc > n || out->elements() != rows * n) {
    return c.Error("cannot run as a job of an earlier elementwise chain");
  }
  FloatStep first;
  XBNN_RETURN_IF_ERROR(ReadStep(c, x, n, j.offset, &first));
  job->part = part;
  job->channels = pc;
  job->op = first.op;
  job->k_first = first.k_first;
  job->k = first.k;
  job->ks = first.s;
  job->lo = first.lo;
  job->hi = first.hi;
  job->nsteps = 0;
  const RuntimeTensor* v = out;
  for (const OpContext* e : c.fused_chain) {
    if (job->nsteps == kMaxFloatSteps) return e->Error("cannot run as a job: too long a chain");
    XBNN_RETURN_IF_ERROR(ReadStep(*e, v, n, j.offset, &job->steps[job->nsteps++]));
    v = e->output(0);
    if (!v || v->shape() != out->shape()) return e->Error("cannot run as a job of a chain");
  }
  job->packed = c.fused_packed;
  job->words = PackedWords(static_cast<int>(n));
  job->word0 = j.offset / 32;
  if (job->packed->type() != DType::kInt32 || job->packed->elements() != rows * job->words) {
    return c.Error("cannot run as a job: its LceQuantize's output is not the chain's bits");
  }
#if defined(__x86_64__)
  job->batch_norm = job->op == FloatBinary::kMul && job->ks == 1 && job->nsteps == 1 &&
                    job->steps[0].op == FloatBinary::kAdd && job->steps[0].s == 1 && pc % 32 == 0 &&
                    __builtin_cpu_supports("avx512f");
#endif
  if (job->batch_norm) return Status::Ok();
  optimized::PackParams pp;
  pp.outer = block_rows_;
  pp.channels = static_cast<int>(pc);
  auto k = optimized::PackKernel::Create(pp);
  if (!k.ok()) return c.Error(k.status().message());
  job->pack = std::move(*k);
  return Status::Ok();
}

Status ChainBitsRunner::Prepare(const OpContext& ctx) {
  jobs_.clear();
  const RuntimeTensor* out = ctx.output(0);
  const int64_t n = out && out->rank() > 0 ? out->dim(out->rank() - 1) : 0;
  rows_ = n > 0 ? out->elements() / n : 0;
  int64_t widest = 1;
  for (const runtime::ChainBitsJob& j : ctx.fused_chain_bits) {
    if (j.part && j.part->rank() > 0)
      widest = std::max<int64_t>(widest, j.part->dim(j.part->rank() - 1));
  }
  // Blocks of ~16 KB of one part: they stay in L1 through every job that reads them.
  block_rows_ = std::max<int64_t>(1, 4096 / widest);
  block_ = block_rows_ * widest;
  double floats = 0;
  for (const runtime::ChainBitsJob& j : ctx.fused_chain_bits) {
    Job job;
    XBNN_RETURN_IF_ERROR(PrepareJob(j, rows_, &job));
    floats += static_cast<double>(rows_ * job.channels) * (job.nsteps + 1);
    jobs_.push_back(std::move(job));
  }
  seconds_ = floats / kElementwiseFloatsPerSecond;
  // Scratch for the jobs that do not take the one-pass batch norm.
  const bool scratch =
      std::any_of(jobs_.begin(), jobs_.end(), [](const Job& j) { return !j.batch_norm; });
  if (!ctx.shapes_only && scratch) {
    scratch_.assign(static_cast<size_t>(NumThreads(ctx)) * 2 * static_cast<size_t>(block_), 0.0f);
    words_.assign(
        static_cast<size_t>(NumThreads(ctx)) * static_cast<size_t>(block_ / 32 + block_rows_), 0);
  }
  return Status::Ok();
}

// Rows [q, q + m) of the job's part through its chain, packed into its words.
void ChainBitsRunner::RunBlock(const Job& job, int64_t q, int64_t m, float* buf,
                               int32_t* words) const {
  const int64_t c = job.channels;
  const float* x = job.part->as<float>() + q * c;
  const float* a = job.k_first ? job.k : x;
  const float* b = job.k_first ? x : job.k;
  const int64_t sa = job.k_first ? job.ks : 1, a_row = job.k_first ? 0 : c;
  const int64_t sb = job.k_first ? 1 : job.ks, b_row = job.k_first ? c : 0;
  int32_t* dst = job.packed->as<int32_t>() + q * job.words + job.word0;
#if defined(__x86_64__)
  if (job.batch_norm) {  // (MUL then ADD of per-channel constants: BinaryDenseNet's chains)
    const FloatStep& add = job.steps[0];
    BatchNormSignsAvx512(x, job.k, job.lo, job.hi, add.k, add.lo, add.hi, m, c, dst, job.words);
    return;
  }
#endif
  float* last = buf;
  if (!FloatRowsVector(job.op, a, sa, a_row, b, sb, b_row, job.lo, job.hi, job.steps.data(),
                       job.nsteps, 0, buf, c, m, c)) {
    // One pass per op through the two blocks (as FloatChain's fallback).
    float* cur = buf;
    BinaryRowsF32(job.op, a, sa, a_row, b, sb, b_row, cur, m, c, job.lo, job.hi);
    for (int i = 0; i < job.nsteps; ++i) {
      const FloatStep& st = job.steps[static_cast<size_t>(i)];
      float* dst = cur == buf ? buf + block_ : buf;
      if (st.k_first) {
        BinaryRowsF32(st.op, st.k, st.s, 0, cur, 1, c, dst, m, c, st.lo, st.hi);
      } else {
        BinaryRowsF32(st.op, cur, 1, c, st.k, st.s, 0, dst, m, c, st.lo, st.hi);
      }
      cur = dst;
    }
    last = cur;
  }
  // The bits straight into the chain's packed rows (whole words), or through the pack kernel.
  if (PackSignsRows(last, m, c, dst, job.words)) return;
  job.pack->RunRows(last, words, 0, m);
  const int64_t w = PackedWords(static_cast<int>(c));
  for (int64_t r = 0; r < m; ++r) {
    std::memcpy(dst + r * job.words, words + r * w, static_cast<size_t>(w) * sizeof(int32_t));
  }
}

void ChainBitsRunner::Run(const OpContext& ctx) const {
  if (jobs_.empty()) return;
  auto task = [&](int thread, int64_t r0, int64_t r1) {
    // (No scratch where every job takes the one-pass batch norm.)
    float* buf = scratch_.empty() ? nullptr
                                  : scratch_.data() + static_cast<size_t>(thread) * 2 *
                                                          static_cast<size_t>(block_);
    int32_t* words = words_.empty()
                         ? nullptr
                         : words_.data() + static_cast<size_t>(thread) *
                                               static_cast<size_t>(block_ / 32 + block_rows_);
    for (int64_t q = r0; q < r1; q += block_rows_) {
      const int64_t m = std::min(block_rows_, r1 - q);
      for (const Job& job : jobs_) RunBlock(job, q, m, buf, words);
    }
  };
  ParallelForRows(ctx, rows_, seconds_, task);
}

}  // namespace xbnn::kernels::builtin

// FloatRowsVector: a float elementwise op and the chain of ops after it, element by element in
// vector registers (AVX-512 or AVX2). Each op loads its operand and applies the same float
// expression as BinaryRowsF32's scalar loop, lane by lane, so the bits are the separate ops';
// only the intermediate values never go to memory. RealToBinaryNet's chains after each binary
// convolution (gate, PReLU, residual; batch norm) had stored and reloaded every value per op.
#include "kernels/builtin/vector_ext.h"
#include "kernels/builtin/vector_loops.h"

namespace xbnn::kernels::builtin {
namespace {

// The values each op needs in every lane, splatted once per call (built inside the row loops,
// GCC 12 assembled them through the stack at every use): per op (0: the first, k + 1: step k)
// its clamp bounds and its operand where that is one value.
template <typename V>
struct Splats {
  V lo[kMaxFloatSteps + 1], hi[kMaxFloatSteps + 1], k[kMaxFloatSteps + 1];
};

// NV vectors of an operand along the row, or its splat.
template <typename V, int NV>
inline __attribute__((always_inline)) void Operand(const float* p, bool along, const V& splat,
                                                   V (&v)[NV]) {
  constexpr int L = sizeof(V) / sizeof(float);
#pragma GCC unroll 4
  for (int j = 0; j < NV; ++j) {
    if (along) {
      LoadV(v[j], p + j * L);
    } else {
      v[j] = splat;
    }
  }
}

// Channels [i, i + NV * L) of row r through the whole chain: the first op (kOp; its first
// operand along the row, its second too with kB, else one value) at compile time, the steps
// chosen per chunk.
template <typename V, int NV, FloatBinary kOp, bool kB>
inline __attribute__((always_inline)) void Chunk(const float* a, const float* b,
                                                 const Splats<V>& sp, const FloatStep* steps,
                                                 int nsteps, int64_t k_row0, int64_t r, int64_t i,
                                                 float* out) {
  constexpr int L = sizeof(V) / sizeof(float);
  V x[NV], y[NV], acc[NV];
  Operand<V, NV>(a + i, true, sp.k[0], x);
  Operand<V, NV>(b + i, kB, sp.k[0], y);
  ApplyOp<kOp, V, NV>(x, y, sp.lo[0], sp.hi[0], acc);
  for (int k = 0; k < nsteps; ++k) {
    const FloatStep& st = steps[k];
    Operand<V, NV>(st.k + (k_row0 + r) * st.row + i, st.s == 1, sp.k[k + 1], y);
    WithOp(
        st.op, [&](auto op) __attribute__((always_inline)) {
          if (st.k_first) {
            ApplyOp<decltype(op)::value, V, NV>(y, acc, sp.lo[k + 1], sp.hi[k + 1], acc);
          } else {
            ApplyOp<decltype(op)::value, V, NV>(acc, y, sp.lo[k + 1], sp.hi[k + 1], acc);
          }
        });
  }
#pragma GCC unroll 4
  for (int j = 0; j < NV; ++j) StoreV(out + i + j * L, acc[j]);
}

template <typename V, FloatBinary kOp, bool kB>
inline __attribute__((always_inline)) void Rows(const float* a, int64_t a_row, const float* b,
                                                int64_t b_row, const Splats<V>& sp,
                                                const FloatStep* steps, int nsteps, int64_t k_row0,
                                                float* out, int64_t out_row, int64_t rows,
                                                int64_t n) {
  constexpr int L = sizeof(V) / sizeof(float);
  for (int64_t r = 0; r < rows; ++r) {
    const float* pa = a + r * a_row;
    const float* pb = b + r * b_row;
    float* po = out + r * out_row;
    int64_t i = 0;
    // Four vectors at a time: enough independent operations per step to hide their latency.
    for (; i + 4 * L <= n; i += 4 * L) {
      Chunk<V, 4, kOp, kB>(pa, pb, sp, steps, nsteps, k_row0, r, i, po);
    }
    for (; i < n; i += L) Chunk<V, 1, kOp, kB>(pa, pb, sp, steps, nsteps, k_row0, r, i, po);
  }
}

// FloatRowsVector for sa = 1 in vectors V.
template <typename V>
inline __attribute__((always_inline)) void AllRows(FloatBinary op, const float* a, int64_t a_row,
                                                   const float* b, int64_t sb, int64_t b_row,
                                                   float lo, float hi, const FloatStep* steps,
                                                   int nsteps, int64_t k_row0, float* out,
                                                   int64_t out_row, int64_t rows, int64_t n) {
  Splats<V> sp;
  SplatV(sp.lo[0], lo);
  SplatV(sp.hi[0], hi);
  SplatV(sp.k[0], b[0]);
  for (int k = 0; k < nsteps; ++k) {
    SplatV(sp.lo[k + 1], steps[k].lo);
    SplatV(sp.hi[k + 1], steps[k].hi);
    SplatV(sp.k[k + 1], steps[k].k[0]);
  }
  WithOp(
      op, [&](auto k) __attribute__((always_inline)) {
        if (sb == 1) {
          Rows<V, decltype(k)::value, true>(a, a_row, b, b_row, sp, steps, nsteps, k_row0, out,
                                            out_row, rows, n);
        } else {
          Rows<V, decltype(k)::value, false>(a, a_row, b, b_row, sp, steps, nsteps, k_row0, out,
                                             out_row, rows, n);
        }
      });
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) void RowsAvx512(FloatBinary op, const float* a, int64_t a_row,
                                                   const float* b, int64_t sb, int64_t b_row,
                                                   float lo, float hi, const FloatStep* steps,
                                                   int nsteps, int64_t k_row0, float* out,
                                                   int64_t out_row, int64_t rows, int64_t n) {
  AllRows<V16>(op, a, a_row, b, sb, b_row, lo, hi, steps, nsteps, k_row0, out, out_row, rows, n);
}
__attribute__((target("avx2"))) void RowsAvx2(FloatBinary op, const float* a, int64_t a_row,
                                              const float* b, int64_t sb, int64_t b_row, float lo,
                                              float hi, const FloatStep* steps, int nsteps,
                                              int64_t k_row0, float* out, int64_t out_row,
                                              int64_t rows, int64_t n) {
  AllRows<V8>(op, a, a_row, b, sb, b_row, lo, hi, steps, nsteps, k_row0, out, out_row, rows, n);
}
#endif

}  // namespace

bool FloatRowsVector(FloatBinary op, const float* a, int64_t sa, int64_t a_row, const float* b,
                     int64_t sb, int64_t b_row, float lo, float hi, const FloatStep* steps,
                     int nsteps, int64_t k_row0, float* out, int64_t out_row, int64_t rows,
                     int64_t n, bool allow_avx512) {
  // The chain value along the row; other operands along the row or one value for all rows (a
  // scalar first operand, or one value per row, stays with BinaryRowsF32's loops).
  auto ok = [](int64_t s, int64_t row) { return s == 1 || (s == 0 && row == 0); };
  if (sa != 1 || !ok(sb, b_row) || nsteps > kMaxFloatSteps) return false;
  for (int k = 0; k < nsteps; ++k) {
    if (!ok(steps[k].s, steps[k].row)) return false;
  }
#if defined(__x86_64__)
  if (allow_avx512 && __builtin_cpu_supports("avx512f") && n % 16 == 0) {
    RowsAvx512(op, a, a_row, b, sb, b_row, lo, hi, steps, nsteps, k_row0, out, out_row, rows, n);
    return true;
  }
  if (__builtin_cpu_supports("avx2") && n % 8 == 0) {
    RowsAvx2(op, a, a_row, b, sb, b_row, lo, hi, steps, nsteps, k_row0, out, out_row, rows, n);
    return true;
  }
#else
  (void)op, (void)a, (void)a_row, (void)b, (void)b_row, (void)lo, (void)hi, (void)k_row0;
  (void)out, (void)allow_avx512;
  (void)out_row, (void)rows, (void)n;
#endif
  return false;
}

}  // namespace xbnn::kernels::builtin

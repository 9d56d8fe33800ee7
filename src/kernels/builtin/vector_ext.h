// GCC vector-extension types, unaligned loads and stores, and the float elementwise ops lane by
// lane, for the float loops compiled once per x86 target (vector_loops.cc, vector_chain.cc).
// Internal linkage: each file's functions compile them with their own target attribute.
#pragma once

#include <type_traits>

#include "kernels/builtin/vector_loops.h"

namespace xbnn::kernels::builtin {
namespace {

// One register of floats per target: 16 for AVX-512, 8 for AVX2, 4 for SSE2 and NEON. (A vector
// wider than the target's registers is not split but scalarized by GCC 12: the 16-float form ran
// 10x slower in the AVX2 build.) Only used inside functions: vector arguments and results would
// depend on the target's ABI.
typedef float V16 __attribute__((vector_size(64)));
typedef float V8 __attribute__((vector_size(32)));
typedef float V4 __attribute__((vector_size(16)));

// Unaligned vector load and store. (std::memcpy of a vector was expanded as 16-byte moves through
// the stack in the AVX2 and AVX-512 functions: GCC 12 sizes the copy for the file's baseline
// target, and the whole-vector reload of two 16-byte stores waited for each store to retire:
// QuickNet's 2x2 max pooling took ~80 cycles per 64-channel pixel on Zen 3, data in L1.)
// (By reference: a vector argument or result would depend on the target's ABI.)
template <typename V>
inline __attribute__((always_inline)) void LoadV(V& v, const float* p) {
  typedef V U __attribute__((aligned(4), may_alias));
  v = *reinterpret_cast<const U*>(p);
}
template <typename V>
inline __attribute__((always_inline)) void StoreV(float* p, const V& v) {
  typedef V U __attribute__((aligned(4), may_alias));
  *reinterpret_cast<U*>(p) = v;
}

// v in every lane. (As v - 0, an identity for every float that GCC folds into a broadcast;
// V{} + v would turn a -0.0 into +0.0 and costs an add. The empty asm keeps GCC 12's SLP
// vectorizer from building the splats of two neighbouring floats, an op's lo and hi, through
// eight 8-byte stack stores and a 64-byte reload, which cannot be forwarded.)
template <typename V>
inline __attribute__((always_inline)) void SplatV(V& out, float v) {
#if defined(__x86_64__)
  __asm__("" : "+x"(v));
#endif
  out = v - V{};
}

// x = std::min(std::max(x, lo), hi) lane by lane (a NaN stays NaN, as std::max returns its first
// argument). (In place: a vector result would depend on the target's ABI.)
template <typename V>
inline __attribute__((always_inline)) void ClampV(V& x, const V& lo, const V& hi) {
  const V t = x < lo ? lo : x;  // std::max(x, lo)
  x = hi < t ? hi : t;          // std::min(t, hi)
}

// r = op(x, y) lane by lane: BinaryRows's expressions (the clamp as std::min(std::max(v, lo),
// hi); PRELU picks x or x * y, as its bit blend does).
template <FloatBinary kOp, typename V, int NV>
inline __attribute__((always_inline)) void ApplyOp(const V (&x)[NV], const V (&y)[NV], const V& vlo,
                                                   const V& vhi, V (&r)[NV]) {
#pragma GCC unroll 4
  for (int j = 0; j < NV; ++j) {
    if constexpr (kOp == FloatBinary::kMax) {
      r[j] = x[j] > y[j] ? x[j] : y[j];
    } else if constexpr (kOp == FloatBinary::kMin) {
      r[j] = x[j] < y[j] ? x[j] : y[j];
    } else if constexpr (kOp == FloatBinary::kPrelu) {
      r[j] = x[j] >= V{} ? x[j] : x[j] * y[j];
    } else {
      V v;
      if constexpr (kOp == FloatBinary::kAdd) v = x[j] + y[j];
      if constexpr (kOp == FloatBinary::kSub) v = x[j] - y[j];
      if constexpr (kOp == FloatBinary::kMul) v = x[j] * y[j];
      if constexpr (kOp == FloatBinary::kDiv) v = x[j] / y[j];
      ClampV(v, vlo, vhi);
      r[j] = v;
    }
  }
}

// Calls f with op as a compile-time constant (std::integral_constant).
template <typename F>
inline __attribute__((always_inline)) void WithOp(FloatBinary op, F&& f) {
  using B = FloatBinary;
  switch (op) {
    case B::kAdd:
      return f(std::integral_constant<B, B::kAdd>{});
    case B::kSub:
      return f(std::integral_constant<B, B::kSub>{});
    case B::kMul:
      return f(std::integral_constant<B, B::kMul>{});
    case B::kDiv:
      return f(std::integral_constant<B, B::kDiv>{});
    case B::kMax:
      return f(std::integral_constant<B, B::kMax>{});
    case B::kMin:
      return f(std::integral_constant<B, B::kMin>{});
    case B::kPrelu:
      return f(std::integral_constant<B, B::kPrelu>{});
  }
}

}  // namespace
}  // namespace xbnn::kernels::builtin

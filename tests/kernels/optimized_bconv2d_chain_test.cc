// Elementwise chains in the LceBconv2d epilogue (BConvFused::chain) against the separate ops, bit
// for bit: reference BConv2D, then each op as TFLite's float kernels compute it (written out here,
// not through the library's ApplyChainStep), then the reference LceQuantize of the last value.
// Every variant where SupportsChain(), 1-3 threads; operands per channel and per pixel with signed
// zeros, infinities and NaN; values stored at any step, one of them over its own operand.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/binary/binary_ops.h"
#include "kernels/binary/optimized/bconv2d.h"
#include "optimized_test_util.h"

namespace xbnn::kernels::optimized {
namespace {

using testing::AllVariants;
using testing::RandomPacked;
using testing::SameBytes;
using testing::SameValues;
using testing::SharedRunners;

struct Step {
  EpilogueOp op = EpilogueOp::kAdd;
  bool per_pixel = false, k_first = false, store = false;
  bool in_place = false;  // the value is stored over this step's (per-pixel) operand
  float lo = 0, hi = 0;
  std::vector<float> k;
};

// TFLite's float ops: ADD/SUB/MUL/DIV clamp to the activation range with min(max(v, lo), hi);
// MAXIMUM, MINIMUM and PRELU have none.
float Reference(const Step& s, float x, int64_t pixel, int channels, int c) {
  const float k = s.k[static_cast<size_t>(s.per_pixel ? pixel * channels + c : c)];
  const float a = s.k_first ? k : x, b = s.k_first ? x : k;
  float v = 0;
  switch (s.op) {
    case EpilogueOp::kMax:
      return a > b ? a : b;
    case EpilogueOp::kMin:
      return a < b ? a : b;
    case EpilogueOp::kPrelu:
      return a >= 0.0f ? a : a * b;
    case EpilogueOp::kAdd:
      v = a + b;
      break;
    case EpilogueOp::kSub:
      v = a - b;
      break;
    case EpilogueOp::kMul:
      v = a * b;
      break;
    case EpilogueOp::kDiv:
      v = a / b;
      break;
  }
  return std::min(std::max(v, s.lo), s.hi);
}

float Special(std::mt19937_64& rng) {
  std::uniform_real_distribution<float> real(-3.0f, 3.0f);
  switch (std::uniform_int_distribution<int>(0, 23)(rng)) {
    case 0:
      return -0.0f;
    case 1:
      return 0.0f;
    case 2:
      return std::numeric_limits<float>::infinity();
    case 3:
      return -std::numeric_limits<float>::infinity();
    case 4:
      return std::numeric_limits<float>::quiet_NaN();
    case 5:
      return 3e38f;  // products and sums that overflow into the clamp
    default:
      return real(rng);
  }
}

// Adds 1 to *ran where the kernel ran the chain (SupportsChain()).
void CheckChain(Isa isa, const BConv2DParams& p, std::vector<Step> steps, std::mt19937_64& rng,
                const std::string& what, int* ran) {
  auto geometry = ComputeBConv2DGeometry(p);
  ASSERT_TRUE(geometry.ok()) << geometry.status().message();
  const BConv2DGeometry& g = *geometry;
  const std::vector<int32_t> input =
      RandomPacked(rng, int64_t{p.batch} * p.in_h * p.in_w, p.channels_in);
  const std::vector<int32_t> filter =
      RandomPacked(rng, int64_t{p.out_channels} * p.kernel_h * p.kernel_w, g.channels_per_group);
  std::uniform_real_distribution<float> real(-1.5f, 1.5f);
  std::vector<float> multiplier(p.out_channels), bias(p.out_channels);
  for (int ch = 0; ch < p.out_channels; ++ch) {
    multiplier[ch] = ch % 5 == 0 ? 0.0f : real(rng);
    bias[ch] = ch % 7 == 0 ? 0.0f : 4.0f * real(rng);
  }
  const int64_t count = int64_t{p.batch} * g.out_h * g.out_w * p.out_channels;
  const int64_t pixels = count / p.out_channels;
  std::vector<float> y(count);
  BConv2DArgs args;
  args.input = input.data();
  args.filter = filter.data();
  args.multiplier = multiplier.data();
  args.bias = bias.data();
  args.output = y.data();
  reference::BConv2D(p, g, args);
  for (Step& s : steps) {
    s.k.resize(static_cast<size_t>(s.per_pixel ? count : p.out_channels));
    for (float& v : s.k) v = Special(rng);
  }
  // The expected values of each stored step and the last value's bits.
  std::vector<std::vector<float>> want(steps.size());
  for (size_t s = 0; s < steps.size(); ++s) {
    if (steps[s].store) want[s].resize(static_cast<size_t>(count));
  }
  std::vector<float> last(y);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t pixel = i / p.out_channels;
    const int c = static_cast<int>(i % p.out_channels);
    for (size_t s = 0; s < steps.size(); ++s) {
      last[i] = Reference(steps[s], last[i], pixel, p.out_channels, c);
      if (steps[s].store) want[s][static_cast<size_t>(i)] = last[i];
    }
  }
  std::vector<int32_t> want_packed(pixels * PackedWords(p.out_channels));
  reference::PackFloat(last.data(), pixels, p.out_channels, want_packed.data());

  auto kernel =
      BConv2DKernel::Create(p, filter.data(), multiplier.data(), bias.data(), nullptr, isa,
                            /*amx_every_layer=*/true);
  ASSERT_TRUE(kernel.ok()) << kernel.status().message();
  if (!(*kernel)->SupportsChain()) return;  // (the LceBconv2d op then runs the steps itself)
  ++*ran;
  for (auto& [name, runner] : SharedRunners().All()) {
    std::vector<std::vector<float>> operands(steps.size()), stored(steps.size());
    std::vector<BConvChainStep> chain(steps.size());
    for (size_t s = 0; s < steps.size(); ++s) {
      operands[s] = steps[s].k;
      BConvChainStep& st = chain[s];
      st.op = steps[s].op;
      st.k = operands[s].data();
      st.kind = steps[s].per_pixel ? BConvChainStep::kPixel : BConvChainStep::kChannel;
      st.k_first = steps[s].k_first;
      st.lo = steps[s].lo;
      st.hi = steps[s].hi;
      if (steps[s].in_place) {
        st.store = operands[s].data();
      } else if (steps[s].store) {
        stored[s].assign(static_cast<size_t>(count), 12345.0f);
        st.store = stored[s].data();
      }
    }
    std::vector<int32_t> packed(want_packed.size(), 0x5A5A5A5A);
    BConvFused f;
    f.chain = chain.data();
    f.chain_steps = static_cast<int>(chain.size());
    f.packed = packed.data();
    (*kernel)->Run(input.data(), nullptr, runner, &f);
    for (size_t s = 0; s < steps.size(); ++s) {
      if (!steps[s].store) continue;
      EXPECT_TRUE(SameValues(want[s], steps[s].in_place ? operands[s] : stored[s]))
          << what << " step " << s << " (" << name << ")";
    }
    EXPECT_TRUE(SameBytes(want_packed, packed)) << what << " packed (" << name << ")";
    if (::testing::Test::HasFailure()) return;
  }
}

void Range(int act, float* lo, float* hi) {
  *lo = act == 0 ? std::numeric_limits<float>::lowest() : act == 2 ? -1.0f : 0.0f;
  *hi = act == 0 || act == 1 ? std::numeric_limits<float>::max() : act == 2 ? 1.0f : 6.0f;
}

class ChainBConv2DTest : public ::testing::TestWithParam<Isa> {};

// Random shapes (whole and partial channel tiles, strides, both paddings) and random chains.
TEST_P(ChainBConv2DTest, MatchesSeparateOps) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(9090);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int channel_choices[] = {1, 17, 32, 33, 64, 65, 100, 128, 192};
  int ran = 0;
  for (int iter = 0; iter < 40; ++iter) {
    BConv2DParams p;
    p.batch = pick(1, 2);
    p.in_h = pick(1, 10);
    p.in_w = pick(1, 10);
    p.channels_in = channel_choices[pick(2, 8)];  // not the one-word pixel-lane layout
    p.out_channels = channel_choices[pick(0, 8)];
    p.kernel_h = p.kernel_w = pick(1, 3);
    p.stride_h = p.stride_w = pick(1, 2);
    p.padding = pick(0, 1) == 0 ? Padding::kSame : Padding::kValid;
    p.pad_values = pick(0, 1);
    p.activation = static_cast<Activation>(pick(0, 3));
    p.output_type = BOutputType::kFloat32;
    if (!ComputeBConv2DGeometry(p).ok()) continue;
    std::vector<Step> steps(static_cast<size_t>(pick(1, 6)));
    for (Step& s : steps) {
      s.op = static_cast<EpilogueOp>(pick(0, 6));
      s.per_pixel = pick(0, 2) == 0;
      s.k_first = pick(0, 1) == 1;
      s.store = pick(0, 2) == 0;
      Range(pick(0, 3), &s.lo, &s.hi);
    }
    // A per-pixel operand with the value written over it (PlanInPlaceSums).
    if (iter % 3 == 0) {
      Step& s = steps[static_cast<size_t>(pick(0, static_cast<int>(steps.size()) - 1))];
      s.per_pixel = s.store = s.in_place = true;
    }
    CheckChain(GetParam(), p, steps, rng, "case " + std::to_string(iter), &ran);
    if (HasFailure()) return;
  }
  EXPECT_GT(ran, 25);
}

// RealToBinaryNet's block: zero padding, 64 and 128 channels; gate (MUL per channel), PReLU,
// residual ADD (per pixel, stored in place), batch norm (MUL, ADD per channel, stored),
// LceQuantize.
TEST_P(ChainBConv2DTest, RealToBinaryBlock) {
  XBNN_SKIP_IF_UNAVAILABLE(GetParam());
  std::mt19937_64 rng(12);
  int ran = 0;
  for (const auto& [hw, channels] : {std::pair{28, 64}, std::pair{14, 128}}) {
    BConv2DParams p;
    p.in_h = p.in_w = hw;
    p.channels_in = p.out_channels = channels;
    p.kernel_h = p.kernel_w = 3;
    p.padding = Padding::kSame;
    p.pad_values = 0;
    p.output_type = BOutputType::kFloat32;
    std::vector<Step> steps(5);
    steps[0].op = EpilogueOp::kMul;
    steps[1].op = EpilogueOp::kPrelu;
    steps[2].op = EpilogueOp::kAdd;
    steps[2].per_pixel = steps[2].store = steps[2].in_place = true;
    steps[3].op = EpilogueOp::kMul;
    steps[4].op = EpilogueOp::kAdd;
    steps[4].store = true;
    for (Step& s : steps) Range(0, &s.lo, &s.hi);
    CheckChain(GetParam(), p, steps, rng, std::to_string(hw) + "x" + std::to_string(hw), &ran);
    if (HasFailure()) return;
  }
  EXPECT_EQ(ran, 2);
}

INSTANTIATE_TEST_SUITE_P(Variants, ChainBConv2DTest, ::testing::ValuesIn(AllVariants()),
                         testing::VariantName);

}  // namespace
}  // namespace xbnn::kernels::optimized

// Reference LceBconv2d against a plain float convolution of +1/-1 values, computed here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/binary/binary_ops.h"
#include "reference_test_util.h"

namespace xbnn::kernels {
namespace {

using testing::FloatBits;
using testing::RandomPacked;
using testing::ToPlusMinusOne;

std::string Describe(const BConv2DParams& p) {
  std::ostringstream s;
  s << "N" << p.batch << " in " << p.in_h << "x" << p.in_w << "x" << p.channels_in << " k "
    << p.kernel_h << "x" << p.kernel_w << " out_c " << p.out_channels << " groups " << p.groups
    << " stride " << p.stride_h << "," << p.stride_w << " dilation " << p.dilation_h << ","
    << p.dilation_w << (p.padding == Padding::kSame ? " SAME" : " VALID") << " pad_values "
    << p.pad_values << " act " << static_cast<int>(p.activation) << " out_type "
    << static_cast<int>(p.output_type) << " scale " << p.output_scale << " zp "
    << p.output_zero_point;
  return s.str();
}

// TFLite output size and leading padding of one axis, written out here independently.
struct TestAxis {
  int out;
  int pad_before;
};
TestAxis AxisOf(int in, int kernel, int stride, int dilation, bool same) {
  const int effective = (kernel - 1) * dilation + 1;
  const int out = same ? (in + stride - 1) / stride : (in - effective) / stride + 1;
  const int total = std::max((out - 1) * stride + effective - in, 0);
  return {out, total / 2};
}

// The range the fused activation clamps y to.
void ActivationRange(Activation a, int* lo, int* hi) {
  *lo = std::numeric_limits<int>::lowest();
  *hi = std::numeric_limits<int>::max();
  if (a == Activation::kRelu) *lo = 0;
  if (a == Activation::kRelu6) {
    *lo = 0;
    *hi = 6;
  }
  if (a == Activation::kReluN1To1) {
    *lo = -1;
    *hi = 1;
  }
}

// Everything one case needs, with expected values derived from float sums.
struct ConvData {
  std::vector<int32_t> input, filter, thresholds;
  std::vector<float> multiplier, bias;
};

// Runs one configuration and compares every output value; returns false after a mismatch.
bool RunCase(const BConv2DParams& p, std::mt19937_64& rng) {
  const bool same = p.padding == Padding::kSame;
  const TestAxis ah = AxisOf(p.in_h, p.kernel_h, p.stride_h, p.dilation_h, same);
  const TestAxis aw = AxisOf(p.in_w, p.kernel_w, p.stride_w, p.dilation_w, same);
  const int cpg = p.channels_in / p.groups;
  const int opg = p.out_channels / p.groups;
  const int k_elems = p.kernel_h * p.kernel_w * cpg;

  auto geometry = ComputeBConv2DGeometry(p);
  EXPECT_TRUE(geometry.ok()) << geometry.status().message();
  if (!geometry.ok()) return false;
  EXPECT_EQ(geometry->out_h, ah.out);
  EXPECT_EQ(geometry->out_w, aw.out);
  EXPECT_EQ(geometry->pad_top, ah.pad_before);
  EXPECT_EQ(geometry->pad_left, aw.pad_before);
  EXPECT_EQ(geometry->kernel_elements, k_elems);
  if (::testing::Test::HasFailure()) return false;

  const int64_t in_rows = int64_t{p.batch} * p.in_h * p.in_w;
  const int64_t filter_rows = int64_t{p.out_channels} * p.kernel_h * p.kernel_w;
  ConvData d;
  d.input = RandomPacked(rng, in_rows, p.channels_in);
  // Each group's filter words are packed on their own (cpg is a multiple of 32 with groups).
  d.filter = RandomPacked(rng, filter_rows, cpg);
  const std::vector<float> in_pm = ToPlusMinusOne(d.input, in_rows, p.channels_in);
  const std::vector<float> f_pm = ToPlusMinusOne(d.filter, filter_rows, cpg);

  // Output-transform inputs: a mix of round values (ties in int8 rounding) and random ones.
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  double range = 0;
  for (int c = 0; c < p.out_channels; ++c) {
    const int kind = static_cast<int>(rng() % 5);
    float m = kind == 0 ? 1.0f : kind == 1 ? 0.5f : kind == 2 ? -0.25f : 2.0f * uni(rng);
    if (rng() % 40 == 0) m = 0.0f;
    const float b = rng() % 3 == 0 ? 0.5f * static_cast<float>(static_cast<int>(rng() % 9) - 4)
                                   : uni(rng) * static_cast<float>(k_elems);
    d.multiplier.push_back(m);
    d.bias.push_back(b);
    range = std::max(range, std::fabs(double{m}) * k_elems + std::fabs(double{b}));
    int32_t t = static_cast<int32_t>(rng() % (k_elems + 5)) - 2;
    if (rng() % 50 == 0) t = std::numeric_limits<int32_t>::max();
    if (rng() % 50 == 0) t = std::numeric_limits<int32_t>::lowest();
    d.thresholds.push_back(t);
  }

  BConv2DParams q = p;
  if (p.output_type == BOutputType::kInt8) {
    // Mostly spanning int8 with some saturation; sometimes 1 or 0.5 so that .5 ties occur.
    const int kind = static_cast<int>(rng() % 4);
    q.output_scale =
        kind == 0 ? 1.0f
        : kind == 1
            ? 0.5f
            : static_cast<float>(std::max(range, 1.0) / (40.0 + static_cast<double>(rng() % 200)));
    q.output_zero_point = static_cast<int>(rng() % 81) - 40;
  }

  const int oh = ah.out, ow = aw.out;
  const int64_t out_pixels = int64_t{p.batch} * oh * ow;
  const int out_words = testing::Words(p.out_channels);
  std::vector<float> out_f(out_pixels * p.out_channels, -12345.0f);
  std::vector<int8_t> out_q(out_pixels * p.out_channels, 99);
  std::vector<int32_t> out_b(out_pixels * out_words, 0x5a5a5a5a);
  BConv2DArgs args;
  args.input = d.input.data();
  args.filter = d.filter.data();
  if (p.output_type == BOutputType::kBitpacked) {
    args.thresholds = d.thresholds.data();
    args.output = out_b.data();
  } else {
    args.multiplier = d.multiplier.data();
    args.bias = d.bias.data();
    args.output = p.output_type == BOutputType::kFloat32 ? static_cast<void*>(out_f.data())
                                                         : static_cast<void*>(out_q.data());
  }
  reference::BConv2D(q, *geometry, args);

  int lo, hi;
  ActivationRange(p.activation, &lo, &hi);
  const bool zero_padding = same && p.pad_values == 0;
  const bool int8 = p.output_type == BOutputType::kInt8;
  const double scale = int8 ? static_cast<double>(q.output_scale) : 1.0;
  const double zp = int8 ? static_cast<double>(q.output_zero_point) : 0.0;

  std::vector<int32_t> expected_bits(out_pixels * out_words, 0);
  for (int b = 0; b < p.batch; ++b) {
    for (int oy = 0; oy < oh; ++oy) {
      for (int ox = 0; ox < ow; ++ox) {
        const int64_t pixel = (int64_t{b} * oh + oy) * ow + ox;
        for (int oc = 0; oc < p.out_channels; ++oc) {
          const int g = oc / opg;
          // y_inside: taps inside the input; y_pad: the filter's sum over the outside taps,
          // i.e. what +1 padding adds. Exact integers in float at these sizes.
          float y_inside = 0, y_pad = 0;
          bool sticks_out = false;
          for (int ky = 0; ky < p.kernel_h; ++ky) {
            for (int kx = 0; kx < p.kernel_w; ++kx) {
              const int iy = oy * p.stride_h - ah.pad_before + ky * p.dilation_h;
              const int ix = ox * p.stride_w - aw.pad_before + kx * p.dilation_w;
              const bool inside = iy >= 0 && iy < p.in_h && ix >= 0 && ix < p.in_w;
              sticks_out |= !inside;
              for (int ci = 0; ci < cpg; ++ci) {
                const float w =
                    f_pm[((int64_t{oc} * p.kernel_h + ky) * p.kernel_w + kx) * cpg + ci];
                if (inside) {
                  y_inside += w * in_pm[((int64_t{b} * p.in_h + iy) * p.in_w + ix) * p.channels_in +
                                        g * cpg + ci];
                } else {
                  y_pad += w;
                }
              }
            }
          }
          const int y_one = static_cast<int>(y_inside + y_pad);
          const int y = zero_padding ? static_cast<int>(y_inside) : y_one;

          if (p.output_type == BOutputType::kBitpacked) {
            // acc > threshold with acc = (K - y) / 2 (one-padded acc when pad_values is 1).
            const bool bit = int64_t{k_elems} - y > 2 * int64_t{d.thresholds[oc]};
            if (bit) {
              uint32_t word = static_cast<uint32_t>(expected_bits[pixel * out_words + oc / 32]);
              word |= uint32_t{1} << (oc % 32);
              expected_bits[pixel * out_words + oc / 32] = static_cast<int32_t>(word);
            }
            continue;
          }

          // LCE's folded transform on x = K - clamp(y), one rounded float op per statement.
          const double mul = d.multiplier[oc];
          const float m_fold = static_cast<float>(-1 * mul / scale);
          const double kmul = static_cast<double>(k_elems) * mul;
          const double bsum = static_cast<double>(d.bias[oc]) + kmul;
          const float b_fold = static_cast<float>(bsum / scale + zp);
          const bool border_correction =
              zero_padding && !int8 && p.activation == Activation::kNone && sticks_out;
          const int y_used = border_correction ? y_one : y;
          const int x = k_elems - std::clamp(y_used, lo, hi);
          const float prod = static_cast<float>(x) * m_fold;
          float value = prod + b_fold;
          if (border_correction) {
            // LCE's default kernels: one-padded value plus (-mul) * (y_one - y_zero).
            const float corr = (-1.0f * d.multiplier[oc]) * static_cast<float>(y_one - y);
            value = value + corr;
          }
          const int64_t idx = pixel * p.out_channels + oc;
          if (!int8) {
            // The folded arithmetic must agree with the spec formula up to float rounding.
            const double spec = std::clamp(y, lo, hi) * mul + d.bias[oc];
            EXPECT_NEAR(value, spec, 1e-5 * (range + 1.0)) << "spec formula, channel " << oc;
            if (FloatBits(out_f[idx]) != FloatBits(value)) {
              ADD_FAILURE() << "float output at pixel " << pixel << " channel " << oc << ": got "
                            << out_f[idx] << " expected " << value << " (y " << y << ")";
              return false;
            }
          } else {
            float r = std::round(value);
            r = std::min(127.0f, std::max(-128.0f, r));
            const int8_t want = static_cast<int8_t>(r);
            if (out_q[idx] != want) {
              ADD_FAILURE() << "int8 output at pixel " << pixel << " channel " << oc << ": got "
                            << int{out_q[idx]} << " expected " << int{want} << " (value " << value
                            << ", y " << y << ")";
              return false;
            }
          }
        }
      }
    }
  }
  if (p.output_type == BOutputType::kBitpacked) {
    for (size_t i = 0; i < expected_bits.size(); ++i) {
      if (out_b[i] != expected_bits[i]) {
        ADD_FAILURE() << "bitpacked word " << i << ": got " << std::hex << out_b[i] << " expected "
                      << expected_bits[i];
        return false;
      }
    }
  }
  return !::testing::Test::HasFailure();
}

int Pick(std::mt19937_64& rng, std::initializer_list<int> values) {
  return *(values.begin() + rng() % values.size());
}

// A random valid configuration whose float convolution stays cheap.
BConv2DParams RandomParams(std::mt19937_64& rng, BOutputType type) {
  for (;;) {
    BConv2DParams p;
    p.output_type = type;
    p.batch = Pick(rng, {1, 1, 1, 2, 3});
    p.groups = 1;
    if (rng() % 6 == 0) {
      p.groups = Pick(rng, {2, 3, 4});
      p.channels_in = p.groups * Pick(rng, {32, 32, 64});
    } else {
      p.channels_in = Pick(rng, {1, 2, 3, 7, 31, 32, 33, 64, 65, 96, 200});
    }
    p.out_channels = p.groups * Pick(rng, {1, 2, 3, 5, 16, 31, 32, 33, 64, 65});
    p.in_h = 1 + static_cast<int>(rng() % 9);
    p.in_w = 1 + static_cast<int>(rng() % 9);
    if (rng() % 8 == 0) p.in_h = p.in_w = 1;
    p.kernel_h = 1 + static_cast<int>(rng() % 5);
    p.kernel_w = 1 + static_cast<int>(rng() % 5);
    p.stride_h = 1 + static_cast<int>(rng() % 4);
    p.stride_w = 1 + static_cast<int>(rng() % 4);
    p.dilation_h = rng() % 3 == 0 ? 1 + static_cast<int>(rng() % 3) : 1;
    p.dilation_w = rng() % 3 == 0 ? 1 + static_cast<int>(rng() % 3) : 1;
    p.padding = rng() % 3 == 0 ? Padding::kValid : Padding::kSame;
    p.pad_values = static_cast<int>(rng() % 2);
    p.activation = static_cast<Activation>(rng() % 4);
    if (p.padding == Padding::kValid && ((p.kernel_h - 1) * p.dilation_h + 1 > p.in_h ||
                                         (p.kernel_w - 1) * p.dilation_w + 1 > p.in_w)) {
      continue;
    }
    const bool same = p.padding == Padding::kSame;
    const int64_t oh = AxisOf(p.in_h, p.kernel_h, p.stride_h, p.dilation_h, same).out;
    const int64_t ow = AxisOf(p.in_w, p.kernel_w, p.stride_w, p.dilation_w, same).out;
    const int64_t work =
        p.batch * oh * ow * p.out_channels * p.kernel_h * p.kernel_w * (p.channels_in / p.groups);
    if (work > 300000) continue;
    return p;
  }
}

void RunGrid(BOutputType type, uint64_t seed, int cases) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < cases; ++i) {
    const BConv2DParams p = RandomParams(rng, type);
    SCOPED_TRACE("case " + std::to_string(i) + ": " + Describe(p));
    if (!RunCase(p, rng)) return;  // one failing case is enough to read
  }
}

constexpr int kGridCases = 2500;

TEST(ReferenceBConv2DGrid, FloatOutput) { RunGrid(BOutputType::kFloat32, 0xb1c0f10a, kGridCases); }
TEST(ReferenceBConv2DGrid, Int8Output) { RunGrid(BOutputType::kInt8, 0xb1c01178, kGridCases); }
TEST(ReferenceBConv2DGrid, BitpackedOutput) {
  RunGrid(BOutputType::kBitpacked, 0xb1c0b175, kGridCases);
}

// Hand-picked shapes the random grid might visit rarely.
TEST(ReferenceBConv2DGrid, EdgeShapes) {
  std::mt19937_64 rng(7);
  int n = 0;
  for (BOutputType type : {BOutputType::kFloat32, BOutputType::kInt8, BOutputType::kBitpacked}) {
    for (int pad_values : {0, 1}) {
      for (Activation act :
           {Activation::kNone, Activation::kRelu, Activation::kReluN1To1, Activation::kRelu6}) {
        // 1x1 input with a kernel much larger than it (SAME), stride larger than the kernel,
        // channel counts around word boundaries.
        for (int cin : {1, 31, 32, 33, 64, 65, 200}) {
          BConv2DParams p;
          p.output_type = type;
          p.pad_values = pad_values;
          p.activation = act;
          p.padding = Padding::kSame;
          p.channels_in = cin;
          p.out_channels = 33;
          p.in_h = 1;
          p.in_w = 1;
          p.kernel_h = 7;
          p.kernel_w = 5;
          SCOPED_TRACE(Describe(p));
          ASSERT_TRUE(RunCase(p, rng));
          p.in_h = 5;
          p.in_w = 6;
          p.kernel_h = 2;
          p.kernel_w = 1;
          p.stride_h = 4;
          p.stride_w = 3;
          SCOPED_TRACE(Describe(p));
          ASSERT_TRUE(RunCase(p, rng));
          p.in_h = 4;
          p.in_w = 3;
          p.kernel_h = 3;
          p.kernel_w = 3;
          p.stride_h = 1;
          p.stride_w = 1;
          p.dilation_h = 3;
          p.dilation_w = 2;
          SCOPED_TRACE(Describe(p));
          ASSERT_TRUE(RunCase(p, rng));
          n += 3;
        }
      }
    }
  }
  EXPECT_EQ(n, 3 * 2 * 4 * 7 * 3);
}

// --- Hand-computed values: pin the LCE facts independently of the grid's formulas. ---

// 1x1 convolution of one channel: y = input * filter = +-1, K = 1.
struct TinyConv {
  BConv2DParams p;
  std::vector<int32_t> input{0, 1};  // two pixels: +1, -1
  std::vector<int32_t> filter{0};    // +1
  std::vector<float> multiplier{1.0f};
  std::vector<float> bias{0.5f};
  TinyConv() {
    p.in_h = 1;
    p.in_w = 2;
    p.channels_in = 1;
    p.out_channels = 1;
    p.kernel_h = 1;
    p.kernel_w = 1;
  }
  template <typename T>
  std::vector<T> Run() {
    auto g = ComputeBConv2DGeometry(p);
    EXPECT_TRUE(g.ok()) << g.status().message();
    std::vector<T> out(2);
    BConv2DArgs a;
    a.input = input.data();
    a.filter = filter.data();
    a.multiplier = multiplier.data();
    a.bias = bias.data();
    a.output = out.data();
    if (g.ok()) reference::BConv2D(p, *g, a);
    return out;
  }
};

TEST(ReferenceBConv2D, Int8RoundsHalfAwayFromZero) {
  TinyConv t;
  t.p.output_type = BOutputType::kInt8;
  // y = +1 -> 1.5 -> 2; y = -1 -> -0.5 -> -1 (ties to even would give 2 and 0).
  EXPECT_EQ(t.Run<int8_t>(), (std::vector<int8_t>{2, -1}));
  t.p.output_zero_point = 3;  // 4.5 -> 5 and 2.5 -> 3 (ties to even: 4 and 2)
  EXPECT_EQ(t.Run<int8_t>(), (std::vector<int8_t>{5, 3}));
  t.p.output_zero_point = 0;
  t.p.output_scale = 0.01f;  // 150 and -50
  EXPECT_EQ(t.Run<int8_t>(), (std::vector<int8_t>{127, -50}));
  t.bias[0] = -300.0f;
  t.p.output_scale = 1.0f;
  EXPECT_EQ(t.Run<int8_t>(), (std::vector<int8_t>{-128, -128}));
}

TEST(ReferenceBConv2D, ActivationClampsTheBinarySumBeforeMultiplier) {
  TinyConv t;
  t.multiplier[0] = 3.0f;
  t.bias[0] = 1.0f;
  t.p.activation = Activation::kRelu;
  // ReLU acts on y: y = -1 is clamped to 0, so the output is the bias, not relu(-3 + 1).
  EXPECT_EQ(t.Run<float>(), (std::vector<float>{4.0f, 1.0f}));
  t.multiplier[0] = -3.0f;
  // And the clamp is not applied after the multiplier: -3 * 1 + 1 = -2 stays negative.
  EXPECT_EQ(t.Run<float>(), (std::vector<float>{-2.0f, 1.0f}));
}

TEST(ReferenceBConv2D, FloatFoldingIsLceNotNaive) {
  // LCE computes float(x) * (-mul) + (bias + K * mul), not y * mul + bias: pick values where
  // the two roundings differ. x = K - y = 0 or 2 with K = 1.
  TinyConv t;
  t.multiplier[0] = 0.1f;
  t.bias[0] = 0.3f;
  const std::vector<float> out = t.Run<float>();
  const float m_fold = static_cast<float>(-1 * 0.1f / 1.0);
  const float b_fold = static_cast<float>((0.3f + 1.0 * 0.1f) / 1.0 + 0.0);
  const float want0 = 0.0f * m_fold + b_fold;
  const float prod = 2.0f * m_fold;
  const float want1 = prod + b_fold;
  EXPECT_EQ(FloatBits(out[0]), FloatBits(want0));
  EXPECT_EQ(FloatBits(out[1]), FloatBits(want1));
  EXPECT_NEAR(out[0], 0.4f, 1e-6);
  EXPECT_NEAR(out[1], 0.2f, 1e-6);
}

TEST(ReferenceBConv2D, ZeroAndOnePaddingByHand) {
  // 3x3 input of +1, 3x3 all-+1 filter, one channel, SAME: a corner sees 4 inside taps.
  BConv2DParams p;
  p.in_h = 3;
  p.in_w = 3;
  p.channels_in = 1;
  p.out_channels = 1;
  p.kernel_h = 3;
  p.kernel_w = 3;
  p.padding = Padding::kSame;
  std::vector<int32_t> input(9, 0), filter(9, 0), thresholds{4};
  std::vector<float> mul{1.0f}, bias{0.0f};
  std::vector<float> out(9);
  BConv2DArgs a{input.data(), filter.data(), mul.data(), bias.data(), nullptr, out.data()};
  for (Activation act : {Activation::kNone, Activation::kRelu}) {
    p.activation = act;
    p.pad_values = 0;
    auto g = ComputeBConv2DGeometry(p);
    ASSERT_TRUE(g.ok());
    reference::BConv2D(p, *g, a);
    EXPECT_EQ(out, (std::vector<float>{4, 6, 4, 6, 9, 6, 4, 6, 4}));
    p.pad_values = 1;
    reference::BConv2D(p, *g, a);
    EXPECT_EQ(out, std::vector<float>(9, 9.0f));
  }
  // Bitpacked, zero-padding: x = K - y = 9 - 4 = 5 at corners; 5 > 2*2 sets the bit, and
  // 5 > 2*3 does not. Thresholds compare against 2*threshold exactly.
  p.activation = Activation::kNone;
  p.pad_values = 0;
  p.output_type = BOutputType::kBitpacked;
  auto g = ComputeBConv2DGeometry(p);
  ASSERT_TRUE(g.ok());
  std::vector<int32_t> bits(9, -1);
  a = BConv2DArgs{input.data(), filter.data(), nullptr, nullptr, thresholds.data(), bits.data()};
  thresholds[0] = 2;
  reference::BConv2D(p, *g, a);
  EXPECT_EQ(bits, (std::vector<int32_t>{1, 0, 1, 0, 0, 0, 1, 0, 1}));
  thresholds[0] = 3;
  reference::BConv2D(p, *g, a);
  EXPECT_EQ(bits, std::vector<int32_t>(9, 0));
  // One-padded: acc = 0 everywhere, never above 0.
  p.pad_values = 1;
  thresholds[0] = 0;
  reference::BConv2D(p, *g, a);
  EXPECT_EQ(bits, std::vector<int32_t>(9, 0));
  thresholds[0] = -1;
  reference::BConv2D(p, *g, a);
  EXPECT_EQ(bits, std::vector<int32_t>(9, 1));
}

TEST(ReferenceBConv2D, UnusedInputBitsCountAsInLce) {
  // LCE xor-popcounts whole words; set bits above channels_in change acc. Well-formed tensors
  // never have them, but every variant must agree on what happens.
  TinyConv t;
  t.input = {0, static_cast<int32_t>(0x2)};  // pixel 1: value +1, plus one garbage bit
  t.bias[0] = 0.0f;
  const std::vector<float> out = t.Run<float>();
  EXPECT_EQ(out[0], 1.0f);   // y = 1
  EXPECT_EQ(out[1], -1.0f);  // acc = 1 -> y = K - 2 = -1
}

}  // namespace
}  // namespace xbnn::kernels

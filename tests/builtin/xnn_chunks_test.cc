// Float CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED large enough to be split into per-chunk
// XNNPACK operators on the interpreter's pool (bands of output rows, ranges of images or of
// output units): 2 and 3 threads give the same bits as 1 thread (one operator), and stay close
// to a plain loop.
#include <algorithm>
#include <cstring>
#include <functional>

#include "builtin/op_test_util.h"

namespace xbnn::testing {
namespace {

namespace op = graph::op;

std::vector<float> RunThreads(int threads, const std::function<void(OpModel&)>& build,
                              const std::vector<float>& x) {
  OpModel m;
  build(m);
  EXPECT_TRUE(m.Build(threads).ok());
  m.SetInput(0, x);
  EXPECT_TRUE(m.Invoke().ok());
  return m.GetOutput<float>(0);
}

void ExpectSameBits(const std::vector<float>& got, const std::vector<float>& want,
                    const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0) << what;
}

struct Conv {
  int n, h, w, cin, cout, k, stride;
  bool same;
  int act;
};

TEST(XnnChunksTest, ConvolutionsSplitByRowsAndImages) {
  // Big enough (> 20 us estimated) to be split; odd sizes so bands have different padding.
  const Conv cases[] = {
      {1, 41, 37, 16, 32, 3, 1, true, 1},   // rows, SAME
      {1, 45, 43, 8, 24, 3, 2, true, 0},    // rows, stride 2
      {1, 40, 40, 3, 32, 7, 2, true, 0},    // a 7x7 stem
      {1, 39, 39, 32, 64, 1, 1, false, 3},  // 1x1
      {1, 30, 31, 16, 16, 5, 1, false, 0},  // rows, VALID
      {3, 24, 24, 16, 32, 3, 1, true, 1},   // images
  };
  for (const Conv& c : cases) {
    auto x = RandomFloats(static_cast<size_t>(c.n) * c.h * c.w * c.cin, 31);
    auto w = RandomFloats(static_cast<size_t>(c.cout) * c.k * c.k * c.cin, 32);
    auto b = RandomFloats(c.cout, 33);
    const int oh = OutSize(c.h, c.k, c.stride, 1, c.same),
              ow = OutSize(c.w, c.k, c.stride, 1, c.same);
    auto build = [&](OpModel& m) {
      const int in = m.Input(DType::kFloat32, {c.n, c.h, c.w, c.cin});
      const int wt = m.Const(DType::kFloat32, {c.cout, c.k, c.k, c.cin}, w);
      const int bt = m.Const(DType::kFloat32, {c.cout}, b);
      const int out = m.Output(DType::kFloat32, {c.n, oh, ow, c.cout});
      m.Op(op::kConv2D, {in, wt, bt}, {out}, opt::kConv2D,
           {{"padding", int64_t{c.same ? 0 : 1}},
            {"stride_w", int64_t{c.stride}},
            {"stride_h", int64_t{c.stride}},
            {"fused_activation_function", int64_t{c.act}}});
    };
    const std::vector<float> one = RunThreads(1, build, x);
    // Against a plain loop (float tolerance), so that a wrong band offset cannot pass.
    const int pt = PadBefore(c.h, c.k, c.stride, 1, c.same),
              pl = PadBefore(c.w, c.k, c.stride, 1, c.same);
    float lo, hi;
    RefFloatActivation(c.act, &lo, &hi);
    std::vector<float> want(one.size());
    for (int n = 0; n < c.n; ++n)
      for (int y = 0; y < oh; ++y)
        for (int xo = 0; xo < ow; ++xo)
          for (int o = 0; o < c.cout; ++o) {
            double acc = b[o];
            for (int ky = 0; ky < c.k; ++ky)
              for (int kx = 0; kx < c.k; ++kx) {
                const int iy = y * c.stride - pt + ky, ix = xo * c.stride - pl + kx;
                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                for (int i = 0; i < c.cin; ++i) {
                  acc += double(x[((size_t(n) * c.h + iy) * c.w + ix) * c.cin + i]) *
                         w[((size_t(o) * c.k + ky) * c.k + kx) * c.cin + i];
                }
              }
            want[((size_t(n) * oh + y) * ow + xo) * c.cout + o] =
                std::min(std::max(static_cast<float>(acc), lo), hi);
          }
    ExpectClose(one, want, 1e-4);
    ExpectSameBits(RunThreads(2, build, x), one, "conv, 2 threads");
    ExpectSameBits(RunThreads(3, build, x), one, "conv, 3 threads");
  }
}

TEST(XnnChunksTest, DepthwiseSplitByRows) {
  for (int stride : {1, 2}) {
    const int h = 57, w = 55, c = 32, mult = 2;
    auto x = RandomFloats(size_t{h} * w * c, 41);
    auto f = RandomFloats(size_t{9} * c * mult, 42);
    const int oh = OutSize(h, 3, stride, 1, true), ow = OutSize(w, 3, stride, 1, true);
    auto build = [&](OpModel& m) {
      const int in = m.Input(DType::kFloat32, {1, h, w, c});
      const int wt = m.Const(DType::kFloat32, {1, 3, 3, c * mult}, f);
      const int out = m.Output(DType::kFloat32, {1, oh, ow, c * mult});
      m.Op(op::kDepthwiseConv2D, {in, wt}, {out}, opt::kDepthwiseConv2D,
           {{"padding", int64_t{0}},
            {"stride_w", int64_t{stride}},
            {"stride_h", int64_t{stride}},
            {"depth_multiplier", int64_t{mult}}});
    };
    const std::vector<float> one = RunThreads(1, build, x);
    ExpectSameBits(RunThreads(2, build, x), one, "depthwise, 2 threads");
    ExpectSameBits(RunThreads(3, build, x), one, "depthwise, 3 threads");
  }
}

TEST(XnnChunksTest, FullyConnectedSplitByUnits) {
  for (int batch : {1, 4}) {
    const int depth = 1024, units = 1000;
    auto x = RandomFloats(size_t(batch) * depth, 51);
    auto w = RandomFloats(size_t(units) * depth, 52);
    auto b = RandomFloats(units, 53);
    auto build = [&](OpModel& m) {
      const int in = m.Input(DType::kFloat32, {batch, depth});
      const int wt = m.Const(DType::kFloat32, {units, depth}, w);
      const int bt = m.Const(DType::kFloat32, {units}, b);
      const int out = m.Output(DType::kFloat32, {batch, units});
      m.Op(op::kFullyConnected, {in, wt, bt}, {out}, opt::kFullyConnected,
           {{"fused_activation_function", int64_t{0}}});
    };
    const std::vector<float> one = RunThreads(1, build, x);
    for (int r = 0; r < batch; ++r) {
      for (int u = 0; u < units; u += 97) {
        double acc = b[u];
        for (int k = 0; k < depth; ++k)
          acc += double(x[size_t(r) * depth + k]) * w[size_t(u) * depth + k];
        EXPECT_NEAR(one[size_t(r) * units + u], acc, 1e-3) << "row " << r << " unit " << u;
      }
    }
    ExpectSameBits(RunThreads(2, build, x), one, "fully connected, 2 threads");
    ExpectSameBits(RunThreads(3, build, x), one, "fully connected, 3 threads");
  }
}

}  // namespace
}  // namespace xbnn::testing

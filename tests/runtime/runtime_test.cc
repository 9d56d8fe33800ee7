#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>

#include "format/model_io.h"
#include "format/tiny_models.h"
#include "kernels/binary/binary_ops.h"
#include "runtime/arena_plan.h"
#include "runtime/fusion.h"
#include "runtime/model_impl.h"
#include "xbnn/interpreter.h"

namespace xbnn {
namespace {

std::shared_ptr<const Model> Load(const graph::Graph& g) {
  auto bytes = format::WriteModelUnvalidated(g);
  EXPECT_TRUE(bytes.ok());
  auto m = Model::FromBuffer(*bytes);
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? *m : nullptr;
}

TEST(ArenaPlan, DisjointLifetimesShareMemory) {
  // A chain: each tensor lives two steps; only neighbours overlap.
  std::vector<runtime::TensorLifetime> t = {{1000, -1, 0}, {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}};
  runtime::ArenaPlan p = runtime::PlanArena(t, 64);
  EXPECT_EQ(p.total_bytes, 2048u);  // two 1024-byte slots
  for (size_t i = 0; i + 1 < t.size(); ++i) EXPECT_NE(p.offsets[i], p.offsets[i + 1]);
  EXPECT_EQ(p.offsets[0], p.offsets[2]);
}

// Three residual blocks at ops 2, 5, 8 (residual, sum tensor): 0 -> 1 -> 2 -> 3 of one size, so
// each sum goes over the one residual buffer; a block whose residual is read later, one whose
// sum nothing reads, one with a constant residual and one of another size keep their memory.
TEST(Fusion, SumsGoInPlaceWhereTheResidualDies) {
  auto block = [](int op, int32_t residual, int32_t sum, bool sum_read = true) {
    runtime::BconvFusion f;
    f.bconv = op;
    f.residual = residual;
    f.sum = sum;
    f.sum_read = sum_read;
    return f;
  };
  runtime::FusionPlan plan;
  plan.fusions = {block(2, 0, 1),         block(5, 1, 2),  block(8, 2, 3),   block(9, 4, 5),
                  block(10, 6, 7, false), block(11, 8, 9), block(12, 10, 11)};
  std::vector<runtime::RuntimeTensor> t(12);
  for (auto& x : t) x.bytes = 4096;
  t[8].constant = true;
  t[11].bytes = 8192;
  //                       0  1  2  3   4   5   6   7   8   9  10  11
  std::vector<int> last = {2, 5, 8, 20, 15, 16, 10, -2, 11, 13, 12, 14};
  const std::vector<int32_t> home = runtime::PlanInPlaceSums(plan, t, last);
  const std::vector<int32_t> want = {-1, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1};
  EXPECT_EQ(home, want);
  EXPECT_EQ(last[0], 20);  // the shared buffer lives as long as the last sum of the chain
  EXPECT_EQ(last[4], 15);
}

TEST(ArenaPlan, NoOverlapInRandomPlans) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<runtime::TensorLifetime> t;
    for (int i = 0; i < 30; ++i) {
      int a = static_cast<int>(rng() % 20) - 1, b = a + static_cast<int>(rng() % 6);
      t.push_back({static_cast<size_t>(rng() % 5000), a, b});
    }
    runtime::ArenaPlan p = runtime::PlanArena(t, 64);
    for (size_t i = 0; i < t.size(); ++i) {
      EXPECT_EQ(p.offsets[i] % 64, 0u);
      EXPECT_LE(p.offsets[i] + t[i].bytes, p.total_bytes);
      for (size_t j = i + 1; j < t.size(); ++j) {
        bool time = t[i].first <= t[j].last && t[j].first <= t[i].last;
        bool space = p.offsets[i] < p.offsets[j] + std::max<size_t>(t[j].bytes, 1) &&
                     p.offsets[j] < p.offsets[i] + std::max<size_t>(t[i].bytes, 1);
        EXPECT_FALSE(time && space) << "tensors " << i << " and " << j << " collide";
      }
    }
  }
}

// The tiny model: quantize -> bconv (float) -> ADD. Checks the result against a direct
// computation, the arena against the activation sum, and thread counts against each other.
TEST(Interpreter, TinyModelComputesBconv) {
  graph::Graph g = testing::MakeTinyBconvModel();
  auto model = Load(g);
  ASSERT_TRUE(model);
  auto it = Interpreter::Create(model);
  ASSERT_TRUE(it.ok()) << it.status().message();
  Interpreter& in = **it;
  ASSERT_EQ(in.num_inputs(), 1u);
  auto x = in.input(0).data<float>();
  ASSERT_EQ(x.size(), 5u * 5 * 40);
  std::mt19937 rng(3);
  for (float& v : x) v = (rng() % 2) ? 0.5f : -0.25f;
  ASSERT_TRUE(in.Invoke().ok());
  auto y = in.output(0).data<float>();
  ASSERT_EQ(y.size(), 5u * 5 * 8);
  // Direct: one-padded SAME 3x3 binary conv on +1/-1, float output, then +1 and ReLU.
  const auto& sg = g.subgraphs[0];
  const int32_t* filter = reinterpret_cast<const int32_t*>(g.buffers[sg.tensors[2].buffer].bytes().data());
  const float* mul = reinterpret_cast<const float*>(g.buffers[sg.tensors[3].buffer].bytes().data());
  const float* bias = reinterpret_cast<const float*>(g.buffers[sg.tensors[4].buffer].bytes().data());
  for (int oy = 0; oy < 5; ++oy) {
    for (int ox = 0; ox < 5; ++ox) {
      for (int co = 0; co < 8; ++co) {
        int sum = 0;
        for (int ky = 0; ky < 3; ++ky) {
          for (int kx = 0; kx < 3; ++kx) {
            int iy = oy + ky - 1, ix = ox + kx - 1;
            for (int c = 0; c < 40; ++c) {
              int a = (iy < 0 || iy >= 5 || ix < 0 || ix >= 5) ? 1 : (x[(iy * 5 + ix) * 40 + c] < 0 ? -1 : 1);
              uint32_t word = static_cast<uint32_t>(filter[((co * 3 + ky) * 3 + kx) * 2 + c / 32]);
              int w = ((word >> (c % 32)) & 1) ? -1 : 1;
              sum += a * w;
            }
          }
        }
        float expect = std::max(0.0f, static_cast<float>(sum) * mul[co] + bias[co] + 1.0f);
        EXPECT_NEAR(y[(oy * 5 + ox) * 8 + co], expect, 1e-4) << oy << "," << ox << "," << co;
      }
    }
  }
  EXPECT_LT(in.memory().arena_bytes, in.memory().activation_bytes_sum);
  EXPECT_GT(in.memory().prepared_bytes, 0u);
}

TEST(Interpreter, FourInterpretersInFourThreadsAgree) {
  auto model = Load(testing::MakeTinyBconvModel());
  ASSERT_TRUE(model);
  std::vector<std::vector<float>> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      InterpreterOptions o;
      o.num_threads = 1 + t % 2;
      auto it = Interpreter::Create(model, o);
      if (!it.ok()) return;
      for (int rep = 0; rep < 20; ++rep) {
        auto x = (*it)->input(0).data<float>();
        for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int>(i * 7919 % 13) - 6);
        if (!(*it)->Invoke().ok()) return;
      }
      auto y = (*it)->output(0).data<float>();
      results[t].assign(y.begin(), y.end());
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_FALSE(results[0].empty());
  for (int t = 1; t < 4; ++t) EXPECT_EQ(results[t], results[0]) << "thread " << t;
}

// thread_stats() says how the pool ran the ops: nothing with one thread; with two, every task of
// a parallel step counted, and the steps the caller ran alone while backing off.
TEST(Interpreter, ThreadStatsCountThePoolsSteps) {
  // The tiny model at 128x128 pixels: a convolution big enough to be split (47 M binary MACs).
  graph::Graph g = testing::MakeTinyBconvModel();
  for (graph::Tensor& t : g.subgraphs[0].tensors) {
    if (t.buffer == 0 && t.shape.size() == 4) t.shape[1] = t.shape[2] = 128;
  }
  auto model = Load(g);
  ASSERT_TRUE(model);
  for (int threads : {1, 2}) {
    InterpreterOptions o;
    o.num_threads = threads;
    auto it = Interpreter::Create(model, o);
    ASSERT_TRUE(it.ok()) << it.status().message();
    for (int rep = 0; rep < 3; ++rep) ASSERT_TRUE((*it)->Invoke().ok());
    const ThreadStats s = (*it)->thread_stats();
    if (threads == 1) {
      EXPECT_EQ(s.parallel_jobs + s.serial_jobs + s.tasks, 0);
    } else {
      EXPECT_GE(s.parallel_jobs + s.serial_jobs, 3) << "at least one step per invoke";
      EXPECT_GE(s.tasks, 2 * s.parallel_jobs);
      EXPECT_LE(s.caller_tasks, s.tasks);
      EXPECT_LE(s.stalls + s.back_offs, s.parallel_jobs);
    }
  }
}

TEST(Interpreter, UnsupportedOpIsReportedAtLoad) {
  graph::Graph g = testing::MakeTinyBconvModel();
  g.operator_codes[2].builtin = 99;  // SQUARED_DIFFERENCE
  auto it = Interpreter::Create(Load(g));
  ASSERT_FALSE(it.ok());
  EXPECT_NE(it.status().message().find("op 2 (SQUARED_DIFFERENCE)"), std::string::npos) << it.status().message();
  EXPECT_NE(it.status().message().find("not supported"), std::string::npos);

  graph::Graph c = testing::MakeTinyBconvModel();
  c.operator_codes[0].custom_code = "MyCustomOp";
  auto it2 = Interpreter::Create(Load(c));
  ASSERT_FALSE(it2.ok());
  EXPECT_NE(it2.status().message().find("custom operator MyCustomOp"), std::string::npos) << it2.status().message();

  graph::Graph v = testing::MakeTinyBconvModel();
  v.operator_codes[1].version = 9;
  auto it3 = Interpreter::Create(Load(v));
  ASSERT_FALSE(it3.ok());
  EXPECT_NE(it3.status().message().find("version 9"), std::string::npos) << it3.status().message();
}

TEST(Interpreter, UncomputableOutputsAreReported) {
  graph::Graph g = testing::MakeTinyBconvModel();
  g.subgraphs[0].operators.pop_back();  // nothing writes the output any more
  auto it = Interpreter::Create(Load(g));
  ASSERT_FALSE(it.ok());
  EXPECT_NE(it.status().message().find("not computed by any op"), std::string::npos) << it.status().message();

  graph::Graph r = testing::MakeTinyBconvModel();
  std::swap(r.subgraphs[0].operators[0], r.subgraphs[0].operators[1]);  // reads before the write
  auto it2 = Interpreter::Create(Load(r));
  ASSERT_FALSE(it2.ok());
  EXPECT_NE(it2.status().message().find("no earlier op writes"), std::string::npos) << it2.status().message();
}

TEST(Interpreter, BadLceOptionsAreReported) {
  graph::Graph g = testing::MakeTinyBconvModel();
  graph::LceBconv2dOptions o;
  o.channels_in = 40;
  o.pad_values = 2;
  graph::SetLceOptions(g.subgraphs[0].operators[1], o);
  // Option values out of range are refused when the model loads.
  auto bytes = format::WriteModelUnvalidated(g);
  ASSERT_TRUE(bytes.ok());
  auto bad = Model::FromBuffer(*bytes);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("pad_values"), std::string::npos) << bad.status().message();

  o.pad_values = 1;
  o.channels_in = 70;  // needs 3 words, the input has 2
  graph::SetLceOptions(g.subgraphs[0].operators[1], o);
  auto it2 = Interpreter::Create(Load(g));
  ASSERT_FALSE(it2.ok());
  EXPECT_NE(it2.status().message().find("channels_in 70"), std::string::npos) << it2.status().message();

  graph::Graph s = testing::MakeTinyBconvModel();
  s.subgraphs[0].tensors[5].shape = {1, 4, 4, 8};  // the conv output shape is wrong
  s.subgraphs[0].tensors[7].shape = {1, 4, 4, 8};
  // As in TFLite and LCE, whose Prepare resizes the output: the shape follows from the input and
  // the options, the file's is not consulted.
  auto it3 = Interpreter::Create(Load(s));
  ASSERT_TRUE(it3.ok()) << it3.status().message();
  EXPECT_EQ((*it3)->output(0).shape(), (std::vector<int32_t>{1, 5, 5, 8}));
}

// The kernels, the cost rule and the interpreter's planning read the options the reader parsed:
// bytes spoiled after reading change nothing.
TEST(Interpreter, LceOpsUseTheOptionsParsedAtRead) {
  auto bytes = format::WriteModel(testing::MakeTinyBconvModel());
  ASSERT_TRUE(bytes.ok());
  auto run = [&](bool spoil, std::vector<float>* out, int64_t* binary_macs) {
    auto m = Model::FromBuffer(*bytes);
    ASSERT_TRUE(m.ok());
    if (spoil) {
      // Not const: Model::Impl owns its graph. Garbage the parser would refuse.
      auto& g = const_cast<graph::Graph&>(runtime::ModelGraph(**m));
      g.subgraphs[0].operators[1].custom_options = {9, 9, 9};
    }
    InterpreterOptions o;
    o.profile = true;
    auto it = Interpreter::Create(*m, o);
    ASSERT_TRUE(it.ok()) << it.status().message();
    auto x = (*it)->input(0).data<float>();
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) - 3.0f;
    ASSERT_TRUE((*it)->Invoke().ok());
    auto y = (*it)->output(0).data<float>();
    out->assign(y.begin(), y.end());
    *binary_macs = (*it)->op_profile()[1].binary_macs;
  };
  std::vector<float> want, got;
  int64_t want_macs = 0, got_macs = 0;
  run(false, &want, &want_macs);
  run(true, &got, &got_macs);
  EXPECT_EQ(got, want);
  EXPECT_EQ(want_macs, int64_t{5} * 5 * 8 * 3 * 3 * 40);
  EXPECT_EQ(got_macs, want_macs);
}

TEST(Interpreter, BadThreadCount) {
  InterpreterOptions o;
  o.num_threads = 0;
  auto it = Interpreter::Create(Load(testing::MakeTinyBconvModel()), o);
  ASSERT_FALSE(it.ok());
  EXPECT_NE(it.status().message().find("num_threads"), std::string::npos);
}

}  // namespace
}  // namespace xbnn

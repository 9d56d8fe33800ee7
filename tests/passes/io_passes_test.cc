// The model-boundary passes against what LCE's own Python utilities made from the same files
// (fixtures NAME.stripped.tflite / NAME.ioint8.tflite recorded by tools/lce_reference), plus
// every error case.
#include "passes/io_passes.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "format/model_io.h"
#include "format/tiny_models.h"
#include "util/npy.h"
#include "xbnn/interpreter.h"

namespace xbnn {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(XBNN_SOURCE_DIR) / "tests" / "models" / "lce";

std::vector<std::string> FixturesWith(const std::string& suffix) {
  std::vector<std::string> names;
  if (!fs::is_directory(kDir)) return names;
  for (const auto& e : fs::directory_iterator(kDir)) {
    std::string f = e.path().filename().string();
    if (f.ends_with(suffix)) names.push_back(f.substr(0, f.size() - suffix.size()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(StripLceDequantize, MatchesLceOnEveryFixture) {
  auto names = FixturesWith(".stripped.tflite");
  ASSERT_GE(names.size(), 4u) << "expected stripped fixtures in " << kDir;
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    auto model = format::LoadModelFile((kDir / (name + ".tflite")).string());
    ASSERT_TRUE(model.ok()) << model.status().message();
    auto lce = format::LoadModelFile((kDir / (name + ".stripped.tflite")).string());
    ASSERT_TRUE(lce.ok()) << lce.status().message();
    graph::Graph g = model->graph;
    passes::StripReport report;
    Status s = passes::StripLceDequantize(g, &report, /*add_metadata=*/false);
    ASSERT_TRUE(s.ok()) << s.message();
    std::string diff;
    EXPECT_TRUE(graph::GraphsEqual(g, lce->graph, &diff)) << "differs from LCE in " << diff;

    // With the metadata entry: one more metadata record and buffer, nothing else.
    graph::Graph with = model->graph;
    ASSERT_TRUE(passes::StripLceDequantize(with).ok());
    if (report.bitpacked_outputs.empty()) continue;  // only DEQUANTIZE removed: nothing to record
    ASSERT_EQ(with.metadata.size(), lce->graph.metadata.size() + 1);
    EXPECT_EQ(with.metadata.back().name, passes::kBitpackedChannelsMetadata);
    with.metadata.pop_back();
    with.buffers.pop_back();
    EXPECT_TRUE(graph::GraphsEqual(with, lce->graph, &diff)) << diff;
  }
}

// Runs `bytes` on the fixture's recorded inputs; returns the interpreter.
std::unique_ptr<Interpreter> RunOn(const std::vector<uint8_t>& bytes, const std::string& name) {
  auto m = Model::FromBuffer(bytes);
  EXPECT_TRUE(m.ok()) << m.status().message();
  if (!m.ok()) return nullptr;
  auto it = Interpreter::Create(*m);
  EXPECT_TRUE(it.ok()) << it.status().message();
  if (!it.ok()) return nullptr;
  auto in = util::ReadNpz((kDir / (name + ".inputs.npz")).string());
  EXPECT_TRUE(in.ok());
  if (!in.ok()) return nullptr;
  for (size_t i = 0; i < (*it)->num_inputs(); ++i) {
    std::memcpy((*it)->input(i).raw(), (*in)[i].second.data.data(), (*it)->input(i).bytes());
  }
  EXPECT_TRUE((*it)->Invoke().ok());
  return std::move(*it);
}

TEST(StripLceDequantize, UnpackedOutputsGiveTheSignsOfTheOriginal) {
  for (const std::string& name : FixturesWith(".stripped.tflite")) {
    SCOPED_TRACE(name);
    auto original = format::ReadFileBytes((kDir / (name + ".tflite")).string());
    ASSERT_TRUE(original.ok());
    auto stripped = passes::StripLceDequantizeOps(*original);
    ASSERT_TRUE(stripped.ok()) << stripped.status().message();
    auto a = RunOn(*original, name);
    auto b = RunOn(*stripped, name);
    if (!a || !b) continue;  // builtin ops missing: reported above
    ASSERT_EQ(a->num_outputs(), b->num_outputs());
    // Recorded LCE outputs of the stripped model, where present.
    fs::path rec = kDir / (name + ".stripped.outputs.npz");
    std::vector<std::pair<std::string, util::NpyArray>> recorded;
    if (fs::exists(rec)) {
      auto r = util::ReadNpz(rec.string());
      ASSERT_TRUE(r.ok());
      recorded = std::move(*r);
    }
    for (size_t o = 0; o < b->num_outputs(); ++o) {
      TensorView tb = b->output(o);
      if (o < recorded.size()) {
        ASSERT_EQ(recorded[o].second.data.size(), tb.bytes());
        EXPECT_EQ(std::memcmp(recorded[o].second.data.data(), tb.raw(), tb.bytes()), 0) << "output " << o;
      }
      if (!tb.info().bitpacked) continue;
      TensorView ta = a->output(o);
      int channels = ta.shape().back();
      ASSERT_EQ(tb.info().channels, channels);
      int words = tb.shape().back();
      int64_t rows = ta.info().NumElements() / channels;
      for (int64_t r = 0; r < rows; ++r) {
        for (int c = 0; c < channels; ++c) {
          bool bit = (static_cast<uint32_t>(tb.data<int32_t>()[r * words + c / 32]) >> (c % 32)) & 1;
          double v = ta.type() == DataType::kFloat32 ? ta.data<float>()[r * channels + c]
                                                      : ta.data<int8_t>()[r * channels + c] - ta.info().zero_point[0];
          ASSERT_EQ(bit, v < 0) << "output " << o << " row " << r << " channel " << c;
        }
      }
    }
  }
}

TEST(StripLceDequantize, Errors) {
  // No such op in the model.
  graph::Graph g = testing::MakeTinyBconvModel();
  Status s = passes::StripLceDequantize(g);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no LceDequantize or DEQUANTIZE"), std::string::npos) << s.message();

  // An output LceDequantize whose output is not float32/int8, or whose input is not int32.
  auto add_output_lce_dequantize = [](graph::Graph& m, graph::DType out_type) {
    graph::Subgraph& sg = m.subgraphs[0];
    m.operator_codes.push_back({graph::op::kCustom, "LceDequantize", 1});
    graph::Tensor t;
    t.name = "unpacked";
    t.type = out_type;
    t.shape = {1, 5, 5, 40};
    sg.tensors.push_back(t);
    graph::Operator op;
    op.opcode_index = static_cast<uint32_t>(m.operator_codes.size() - 1);
    op.inputs = {1};  // the packed tensor
    op.outputs = {static_cast<int32_t>(sg.tensors.size() - 1)};
    sg.operators.push_back(op);
    sg.outputs.push_back(op.outputs[0]);
  };
  graph::Graph bad_out = testing::MakeTinyBconvModel();
  add_output_lce_dequantize(bad_out, graph::DType::kInt32);
  s = passes::StripLceDequantize(bad_out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("expected float32 or int8"), std::string::npos) << s.message();

  graph::Graph bad_in = testing::MakeTinyBconvModel();
  add_output_lce_dequantize(bad_in, graph::DType::kFloat32);
  bad_in.subgraphs[0].tensors[1].type = graph::DType::kFloat32;
  s = passes::StripLceDequantize(bad_in);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("expected int32"), std::string::npos) << s.message();

  // An output DEQUANTIZE that is not int8 -> float32.
  graph::Graph dq = testing::MakeTinyBconvModel();
  dq.operator_codes[2] = {graph::op::kDequantize, "", 1};
  dq.subgraphs[0].operators[2].inputs = {5};  // float conv output -> "dequantize"
  dq.subgraphs[0].operators[2].builtin_options = {};
  s = passes::StripLceDequantize(dq);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("expected int8"), std::string::npos) << s.message();

  // Intermediate LceDequantize ops are never touched.
  graph::Graph mid = testing::MakeTinyBconvModel();
  add_output_lce_dequantize(mid, graph::DType::kFloat32);
  mid.subgraphs[0].outputs.pop_back();  // the LceDequantize result is no longer an output
  passes::StripReport report;
  ASSERT_TRUE(passes::StripLceDequantize(mid, &report).ok());
  EXPECT_EQ(report.removed_lce_dequantize, 0);
  EXPECT_EQ(mid.subgraphs[0].operators.size(), 4u);
}

TEST(SetIoTypes, MatchesLceOnEveryFixture) {
  auto names = FixturesWith(".ioint8.tflite");
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    auto model = format::LoadModelFile((kDir / (name + ".tflite")).string());
    ASSERT_TRUE(model.ok());
    auto lce = format::LoadModelFile((kDir / (name + ".ioint8.tflite")).string());
    ASSERT_TRUE(lce.ok());
    graph::Graph g = model->graph;
    Status s = passes::SetIoTypes(g, graph::DType::kInt8, graph::DType::kInt8);
    ASSERT_TRUE(s.ok()) << s.message();
    std::string diff;
    EXPECT_TRUE(graph::GraphsEqual(g, lce->graph, &diff)) << diff;
  }
  if (names.empty()) GTEST_SKIP() << "no NAME.ioint8.tflite fixtures recorded";
}

TEST(SetIoTypes, Errors) {
  graph::Graph g = testing::MakeTinyBconvModel();
  Status s = passes::SetIoTypes(g, graph::DType::kInt8, graph::DType::kFloat32);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no QUANTIZE"), std::string::npos) << s.message();
  s = passes::SetIoTypes(g, graph::DType::kFloat32, graph::DType::kInt8);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no DEQUANTIZE"), std::string::npos) << s.message();
  s = passes::SetIoTypes(g, graph::DType::kInt32, graph::DType::kFloat32);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("float32 or int8"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace xbnn

// `xbnn convert` (passes::ConvertToLce) against LCE's own converter: every fixture that has a
// stock-converter model NAME.float.tflite is converted; the result must have the LCE ops of LCE's
// NAME.tflite (same counts, same number of bitpacked-output LceBconv2d) and give LCE's recorded
// outputs NAME.outputs.npz on NAME.inputs.npz (float within 1e-4 of the output range, int8 within
// one step, anything else exactly). Then negative cases built from a fixture: what cannot be
// converted exactly stays float and the report says why.
#include "passes/convert.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "format/model_io.h"
#include "graph/lce_options.h"
#include "passes/io_passes.h"
#include "util/npy.h"
#include "util/output_compare.h"
#include "xbnn/interpreter.h"

namespace xbnn {
namespace {

namespace fs = std::filesystem;
using graph::DType;
const fs::path kDir = fs::path(XBNN_SOURCE_DIR) / "tests" / "models" / "lce";

std::vector<std::string> FloatFixtures() {
  std::vector<std::string> names;
  if (!fs::is_directory(kDir)) return names;
  const std::string suffix = ".float.tflite";
  for (const auto& e : fs::directory_iterator(kDir)) {
    std::string f = e.path().filename().string();
    if (!f.ends_with(suffix)) continue;
    std::string name = f.substr(0, f.size() - suffix.size());
    if (fs::exists(kDir / (name + ".tflite")) && fs::exists(kDir / (name + ".inputs.npz")) &&
        fs::exists(kDir / (name + ".outputs.npz"))) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct LceCounts {
  int bconv = 0, quantize = 0, dequantize = 0, bmaxpool = 0, bitpacked_bconv = 0;
  bool operator==(const LceCounts&) const = default;
};

std::ostream& operator<<(std::ostream& os, const LceCounts& c) {
  return os << "{LceBconv2d " << c.bconv << " (bitpacked output " << c.bitpacked_bconv << "), LceQuantize "
            << c.quantize << ", LceDequantize " << c.dequantize << ", LceBMaxPool2d " << c.bmaxpool << "}";
}

LceCounts Count(const graph::Graph& g) {
  LceCounts c;
  for (const graph::Subgraph& sg : g.subgraphs) {
    for (const graph::Operator& o : sg.operators) {
      if (g.IsCustom(o, graph::kLceQuantize)) c.quantize++;
      if (g.IsCustom(o, graph::kLceDequantize)) c.dequantize++;
      if (g.IsCustom(o, graph::kLceBMaxPool2d)) c.bmaxpool++;
      if (g.IsCustom(o, graph::kLceBconv2d)) {
        c.bconv++;
        if (sg.tensors[o.outputs[0]].type == DType::kInt32) c.bitpacked_bconv++;
      }
    }
  }
  return c;
}

std::vector<std::string> OpNames(const graph::Graph& g) {
  std::vector<std::string> names;
  for (const graph::Operator& o : g.subgraphs[0].operators) names.push_back(g.OpName(o));
  return names;
}

int CountOp(const graph::Graph& g, const std::string& name) {
  auto n = OpNames(g);
  return static_cast<int>(std::count(n.begin(), n.end(), name));
}

// The IO types of LCE's model tell which --inference-*-type the fixture was converted with.
passes::ConvertOptions OptionsLike(const graph::Graph& lce) {
  passes::ConvertOptions o;
  const graph::Subgraph& sg = lce.subgraphs[0];
  for (int32_t t : sg.inputs) {
    if (sg.tensors[t].type == DType::kInt8) o.inference_input_type = DType::kInt8;
  }
  for (int32_t t : sg.outputs) {
    if (sg.tensors[t].type == DType::kInt8) o.inference_output_type = DType::kInt8;
  }
  return o;
}

// Creates an interpreter; an op another engineer has not added yet skips the test.
#define CREATE_OR_SKIP(var, bytes)                                                      \
  auto var##_model = Model::FromBuffer(bytes);                                          \
  ASSERT_TRUE(var##_model.ok()) << var##_model.status().message();                      \
  auto var##_or = Interpreter::Create(*var##_model);                                    \
  if (!var##_or.ok() && var##_or.status().message().find("is not supported") != std::string::npos) { \
    GTEST_SKIP() << "needs an op xbnn does not run yet: " << var##_or.status().message(); \
  }                                                                                     \
  ASSERT_TRUE(var##_or.ok()) << var##_or.status().message();                            \
  Interpreter& var = **var##_or;

void Feed(Interpreter& it, const std::vector<std::pair<std::string, util::NpyArray>>& inputs) {
  ASSERT_EQ(inputs.size(), it.num_inputs());
  for (size_t i = 0; i < it.num_inputs(); ++i) {
    const util::NpyArray& a = inputs[i].second;
    ASSERT_EQ(a.data.size(), it.input(i).bytes()) << "input " << i;
    std::memcpy(it.input(i).raw(), a.data.data(), a.data.size());
  }
}

// Float within 1e-4 of the range, int8 within one step, other types exactly.
std::string Compare(const TensorView& got, const void* want_data, size_t want_bytes, double* worst) {
  return testing::CompareOutput(got, want_data, want_bytes, /*int8_steps=*/1, worst);
}

class ConvertFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ConvertFixture, HasLceOpsAndGivesLceOutputs) {
  const std::string name = GetParam();
  ASSERT_NE(name, "none_found") << "no NAME.float.tflite fixtures in " << kDir;
  auto floatm = format::LoadModelFile((kDir / (name + ".float.tflite")).string());
  ASSERT_TRUE(floatm.ok()) << floatm.status().message();
  auto lce = format::LoadModelFile((kDir / (name + ".tflite")).string());
  ASSERT_TRUE(lce.ok()) << lce.status().message();

  graph::Graph g = floatm->graph;
  passes::ConvertReport report;
  Status s = passes::ConvertToLce(g, OptionsLike(lce->graph), &report);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(report.AnythingBinary());
  std::string notes;
  for (const auto& l : report.skipped) notes += "\n  left float: " + l;

  // (a) The LCE ops LCE's converter made.
  EXPECT_EQ(Count(g), Count(lce->graph)) << name << notes;
  // Same boundary: input and output types and shapes.
  ASSERT_EQ(g.subgraphs[0].inputs.size(), lce->graph.subgraphs[0].inputs.size());
  ASSERT_EQ(g.subgraphs[0].outputs.size(), lce->graph.subgraphs[0].outputs.size());
  for (size_t i = 0; i < g.subgraphs[0].outputs.size(); ++i) {
    const graph::Tensor& a = g.subgraphs[0].tensors[g.subgraphs[0].outputs[i]];
    const graph::Tensor& b = lce->graph.subgraphs[0].tensors[lce->graph.subgraphs[0].outputs[i]];
    EXPECT_EQ(a.type, b.type) << "output " << i;
    EXPECT_EQ(a.shape, b.shape) << "output " << i;
  }

  // (b) LCE's outputs.
  auto bytes = format::WriteModel(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  CREATE_OR_SKIP(it, *bytes);
  auto inputs = util::ReadNpz((kDir / (name + ".inputs.npz")).string());
  ASSERT_TRUE(inputs.ok()) << inputs.status().message();
  auto outputs = util::ReadNpz((kDir / (name + ".outputs.npz")).string());
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  Feed(it, *inputs);
  ASSERT_TRUE(it.Invoke().ok());
  ASSERT_EQ(outputs->size(), it.num_outputs());
  double worst = 0;
  for (size_t i = 0; i < it.num_outputs(); ++i) {
    const util::NpyArray& want = (*outputs)[i].second;
    EXPECT_EQ(Compare(it.output(i), want.data.data(), want.data.size(), &worst), "")
        << name << " output " << i << " vs LCE's recorded outputs";
  }
  RecordProperty("worst_error", std::to_string(worst));

  // LCE's model in xbnn on the same inputs: isolates the converter from the runtime.
  auto lce_bytes = format::ReadFileBytes((kDir / (name + ".tflite")).string());
  ASSERT_TRUE(lce_bytes.ok());
  CREATE_OR_SKIP(ref, *lce_bytes);
  Feed(ref, *inputs);
  ASSERT_TRUE(ref.Invoke().ok());
  for (size_t i = 0; i < it.num_outputs(); ++i) {
    double w = 0;
    EXPECT_EQ(Compare(it.output(i), ref.output(i).raw(), ref.output(i).bytes(), &w), "")
        << name << " output " << i << " vs LCE's model run in xbnn";
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ConvertFixture,
                         ::testing::ValuesIn([] {
                           auto n = FloatFixtures();
                           if (n.empty()) n.push_back("none_found");
                           return n;
                         }()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

template <typename T>
std::vector<T> ConstOf(const graph::Graph& g, const graph::Subgraph& sg, int32_t t) {
  if (t < 0) return {};
  auto b = g.buffers[sg.tensors[t].buffer].bytes();
  std::vector<T> v(b.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(T));
  return v;
}

// The k-th LceBconv2d of the conversion against LCE's k-th: same options, same thresholds, and
// per output channel the same filter bits with the same multiplier, or (float/int8 output) all
// bits flipped with the multiplier negated, which is the same convolution: LCE's filter keeps the
// sign of the Keras kernel and its multiplier the sign of the batch norm scale, while the stock
// converter has folded both into the weights.
TEST(Convert, LceBconv2dConstantsMatchLce) {
  for (const std::string& name : FloatFixtures()) {
    SCOPED_TRACE(name);
    auto floatm = format::LoadModelFile((kDir / (name + ".float.tflite")).string());
    auto lce = format::LoadModelFile((kDir / (name + ".tflite")).string());
    ASSERT_TRUE(floatm.ok() && lce.ok());
    graph::Graph g = floatm->graph;
    ASSERT_TRUE(passes::ConvertToLce(g, OptionsLike(lce->graph)).ok());
    auto bconvs = [](const graph::Graph& m) {
      std::vector<const graph::Operator*> v;
      for (const graph::Operator& o : m.subgraphs[0].operators) {
        if (m.IsCustom(o, graph::kLceBconv2d)) v.push_back(&o);
      }
      return v;
    };
    auto ours = bconvs(g), theirs = bconvs(lce->graph);
    ASSERT_EQ(ours.size(), theirs.size());
    const graph::Subgraph &a = g.subgraphs[0], &b = lce->graph.subgraphs[0];
    for (size_t k = 0; k < ours.size(); ++k) {
      SCOPED_TRACE("LceBconv2d " + std::to_string(k));
      const graph::Operator &x = *ours[k], &y = *theirs[k];
      // Ours set by the pass, LCE's parsed by the reader.
      const auto* ox = std::get_if<graph::LceBconv2dOptions>(&x.lce_options);
      const auto* oy = std::get_if<graph::LceBconv2dOptions>(&y.lce_options);
      ASSERT_TRUE(ox && oy);
      EXPECT_EQ(*ox, *oy);
      ASSERT_EQ(a.tensors[x.inputs[1]].shape, b.tensors[y.inputs[1]].shape);
      EXPECT_EQ(ConstOf<int32_t>(g, a, x.inputs[4]), ConstOf<int32_t>(lce->graph, b, y.inputs[4]));
      auto fx = ConstOf<int32_t>(g, a, x.inputs[1]), fy = ConstOf<int32_t>(lce->graph, b, y.inputs[1]);
      auto mx = ConstOf<float>(g, a, x.inputs[2]), my = ConstOf<float>(lce->graph, b, y.inputs[2]);
      auto bx = ConstOf<float>(g, a, x.inputs[3]), by = ConstOf<float>(lce->graph, b, y.inputs[3]);
      EXPECT_EQ(bx, by);
      ASSERT_EQ(mx.size(), my.size());
      const auto& shape = a.tensors[x.inputs[1]].shape;
      const size_t channels = static_cast<size_t>(shape[0]), per = fx.size() / channels;
      // Used bits per word: the filter's last dimension packs the channels of one group.
      const int words = shape[3];
      const int groups = std::max((ox->channels_in + 31) / 32 / std::max(words, 1), 1);
      const int per_group = ox->channels_in / groups;
      for (size_t c = 0; c < channels; ++c) {
        bool same = std::equal(fx.begin() + c * per, fx.begin() + (c + 1) * per, fy.begin() + c * per);
        bool flipped = true;
        for (size_t e = 0; e < per; ++e) {
          int w = static_cast<int>(e % static_cast<size_t>(words));
          int bits = std::min(32, per_group - 32 * w);
          uint32_t mask = bits >= 32 ? 0xffffffffu : ((uint32_t{1} << bits) - 1);
          if ((static_cast<uint32_t>(fx[c * per + e]) ^ static_cast<uint32_t>(fy[c * per + e])) != mask) flipped = false;
        }
        if (mx.empty()) {
          EXPECT_TRUE(same) << "bitpacked-output filter of channel " << c;
        } else if (same) {
          EXPECT_EQ(mx[c], my[c]) << "channel " << c;
        } else {
          EXPECT_TRUE(flipped) << "filter of channel " << c;
          EXPECT_EQ(mx[c], -my[c]) << "channel " << c;
        }
      }
    }
  }
}

TEST(Convert, LceModelsAreLeftAsTheyAre) {
  for (const std::string& name : FloatFixtures()) {
    SCOPED_TRACE(name);
    auto lce = format::LoadModelFile((kDir / (name + ".tflite")).string());
    ASSERT_TRUE(lce.ok());
    graph::Graph g = lce->graph;
    passes::ConvertReport report;
    ASSERT_TRUE(passes::ConvertToLce(g, {}, &report).ok());
    EXPECT_FALSE(report.AnythingBinary());
    EXPECT_EQ(OpNames(g), OpNames(lce->graph));
  }
}

// The LCE ops a pass makes carry their parsed options, equal to what the reader parses from the
// bytes the writer writes for them.
TEST(Convert, PassAndReaderGiveEqualParsedOptions) {
  int bconvs = 0, bmaxpools = 0;
  for (const std::string& name : FloatFixtures()) {
    SCOPED_TRACE(name);
    auto floatm = format::LoadModelFile((kDir / (name + ".float.tflite")).string());
    ASSERT_TRUE(floatm.ok());
    graph::Graph g = floatm->graph;
    ASSERT_TRUE(passes::ConvertToLce(g).ok());
    auto bytes = format::WriteModel(g);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    auto read = format::ReadModel(*bytes);
    ASSERT_TRUE(read.ok()) << read.status().message();
    const auto& built = g.subgraphs[0].operators;
    const auto& back = read->subgraphs[0].operators;
    ASSERT_EQ(built.size(), back.size());
    for (size_t i = 0; i < built.size(); ++i) {
      SCOPED_TRACE("op " + std::to_string(i));
      if (g.IsCustom(built[i], graph::kLceBconv2d)) {
        ++bconvs;
        EXPECT_TRUE(std::holds_alternative<graph::LceBconv2dOptions>(built[i].lce_options));
      } else if (g.IsCustom(built[i], graph::kLceBMaxPool2d)) {
        ++bmaxpools;
        EXPECT_TRUE(std::holds_alternative<graph::LceBMaxPool2dOptions>(built[i].lce_options));
      } else {
        EXPECT_TRUE(std::holds_alternative<std::monostate>(built[i].lce_options));
      }
      EXPECT_EQ(built[i].lce_options, back[i].lce_options);
      EXPECT_EQ(built[i].custom_options, back[i].custom_options);
    }
  }
  EXPECT_GT(bconvs, 10);
  EXPECT_GT(bmaxpools, 0);
}

TEST(Convert, ConvertModelBytesAndOptionErrors) {
  auto bytes = format::ReadFileBytes((kDir / "sign_output_c32.float.tflite").string());
  ASSERT_TRUE(bytes.ok());
  passes::ConvertReport report;
  auto out = passes::ConvertModel(*bytes, {}, &report);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(report.bconv, 1);
  EXPECT_EQ(report.bconv_bitpacked, 1);
  EXPECT_EQ(report.lce_dequantize, 1);
  // int8 IO needs fake quantization at the boundary.
  passes::ConvertOptions o;
  o.inference_input_type = DType::kInt8;
  auto bad = passes::ConvertModel(*bytes, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("inference IO type"), std::string::npos) << bad.status().message();
  o.inference_input_type = DType::kInt16;
  EXPECT_FALSE(passes::ConvertModel(*bytes, o).ok());
  EXPECT_FALSE(passes::ConvertModel(std::vector<uint8_t>{1, 2, 3}).ok());
}

// ---------------------------------------------------------------------------------------------
// Negative cases, built from bconv_k3_same_pad1_s1_c32_64.float.tflite:
//   SIGN(t0) -> ADD 0.1 -> SIGN -> PADV2(+1) -> CONV_2D (+-s weights, folded BN) -> output.

struct Base {
  format::ModelFile file;
  graph::Graph& g() { return file.graph; }
  graph::Subgraph& sg() { return file.graph.subgraphs[0]; }
  int Find(const std::string& op, int nth = 0) {
    for (size_t i = 0; i < sg().operators.size(); ++i) {
      if (g().OpName(sg().operators[i]) == op && nth-- == 0) return static_cast<int>(i);
    }
    return -1;
  }
};

Base LoadBase() {
  auto m = format::LoadModelFile((kDir / "bconv_k3_same_pad1_s1_c32_64.float.tflite").string());
  EXPECT_TRUE(m.ok()) << m.status().message();
  return Base{std::move(*m)};
}

// Runs both models on the same random-ish input and expects the same outputs.
void ExpectSameOutputs(const graph::Graph& a, const graph::Graph& b) {
  auto ba = format::WriteModel(a);
  ASSERT_TRUE(ba.ok()) << ba.status().message();
  auto bb = format::WriteModel(b);
  ASSERT_TRUE(bb.ok()) << bb.status().message();
  CREATE_OR_SKIP(ia, *ba);
  CREATE_OR_SKIP(ib, *bb);
  ASSERT_EQ(ia.num_inputs(), ib.num_inputs());
  for (size_t i = 0; i < ia.num_inputs(); ++i) {
    auto fa = ia.input(i).data<float>();
    auto fb = ib.input(i).data<float>();
    ASSERT_EQ(fa.size(), fb.size());
    for (size_t k = 0; k < fa.size(); ++k) {
      // Includes exact zeros, which ste_sign maps to +1.
      fa[k] = fb[k] = k % 7 == 3 ? 0.0f : std::sin(0.37f * static_cast<float>(k)) * 2.0f;
    }
  }
  ASSERT_TRUE(ia.Invoke().ok());
  ASSERT_TRUE(ib.Invoke().ok());
  ASSERT_EQ(ia.num_outputs(), ib.num_outputs());
  for (size_t i = 0; i < ia.num_outputs(); ++i) {
    double worst = 0;
    EXPECT_EQ(Compare(ia.output(i), ib.output(i).raw(), ib.output(i).bytes(), &worst), "") << "output " << i;
  }
}

bool Mentions(const std::vector<std::string>& lines, const std::string& a, const std::string& b) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.find(a) != std::string::npos && l.find(b) != std::string::npos;
  });
}

TEST(Convert, SignThatAlsoFeedsAFloatOpKeepsItsFloatValues) {
  Base base = LoadBase();
  int sign2 = base.Find("SIGN", 1), add = base.Find("ADD");
  ASSERT_GE(sign2, 0);
  ASSERT_GE(add, 0);
  graph::Subgraph& sg = base.sg();
  const int32_t binarized = sg.operators[sign2].outputs[0];
  const int32_t input = sg.inputs[0];
  // extra = ADD(ste_sign(x), x): a float op that reads the +-1 values.
  graph::Tensor extra = sg.tensors[input];
  extra.name = "extra";
  extra.buffer = 0;
  sg.tensors.push_back(extra);
  graph::Operator op = sg.operators[add];
  op.inputs = {binarized, input};
  op.outputs = {static_cast<int32_t>(sg.tensors.size() - 1)};
  sg.operators.push_back(op);
  sg.outputs.push_back(op.outputs[0]);
  ASSERT_TRUE(format::ValidateGraph(base.g()).ok());

  graph::Graph g = base.g();
  passes::ConvertReport report;
  ASSERT_TRUE(passes::ConvertToLce(g, {}, &report).ok());
  LceCounts want;
  want.bconv = 1;
  want.quantize = 1;
  want.dequantize = 1;
  EXPECT_EQ(Count(g), want);
  EXPECT_EQ(CountOp(g, "ADD"), 1);
  EXPECT_EQ(CountOp(g, "SIGN"), 0);
  // The float ADD reads the LceDequantize output.
  const graph::Subgraph& out = g.subgraphs[0];
  for (const graph::Operator& o : out.operators) {
    if (g.OpName(o) != "ADD") continue;
    bool from_dequantize = false;
    for (const graph::Operator& p : out.operators) {
      if (g.IsCustom(p, graph::kLceDequantize) && p.outputs[0] == o.inputs[0]) from_dequantize = true;
    }
    EXPECT_TRUE(from_dequantize);
  }
  ExpectSameOutputs(g, base.g());
}

TEST(Convert, WeightsThatAreNotPlusMinusScaleStayConv2D) {
  for (float factor : {1.0001f, 0.5f, 0.0f}) {
    SCOPED_TRACE(factor);
    Base base = LoadBase();
    int conv = base.Find("CONV_2D");
    ASSERT_GE(conv, 0);
    graph::Subgraph& sg = base.sg();
    graph::Tensor& f = sg.tensors[sg.operators[conv].inputs[1]];
    auto view = base.g().buffers[f.buffer].bytes();
    std::vector<uint8_t> w(view.begin(), view.end());
    float* fw = reinterpret_cast<float*>(w.data());
    fw[3 * 3 * 32 * 5 + 17] *= factor;  // output channel 5, one weight
    base.g().buffers[f.buffer] = graph::Buffer::Owned(std::move(w));

    graph::Graph g = base.g();
    passes::ConvertReport report;
    ASSERT_TRUE(passes::ConvertToLce(g, {}, &report).ok());
    EXPECT_EQ(Count(g).bconv, 0);
    EXPECT_EQ(CountOp(g, "CONV_2D"), 1);
    EXPECT_TRUE(Mentions(report.skipped, "CONV_2D", "output channel 5")) << ::testing::PrintToString(report.skipped);
    ExpectSameOutputs(g, base.g());
  }
}

TEST(Convert, AddConstantOutsideZeroOneIsNotSteSign) {
  Base base = LoadBase();
  int add = base.Find("ADD");
  graph::Subgraph& sg = base.sg();
  int32_t c = sg.operators[add].inputs[1];
  if (sg.tensors[c].buffer == 0) c = sg.operators[add].inputs[0];
  float v = 1.5f;
  std::vector<uint8_t> b(4);
  std::memcpy(b.data(), &v, 4);
  base.g().buffers[sg.tensors[c].buffer] = graph::Buffer::Owned(b);
  graph::Graph g = base.g();
  passes::ConvertReport report;
  ASSERT_TRUE(passes::ConvertToLce(g, {}, &report).ok());
  EXPECT_FALSE(report.AnythingBinary());
  EXPECT_EQ(OpNames(g), OpNames(base.g()));
  EXPECT_TRUE(Mentions(report.skipped, "SIGN", "not ste_sign")) << ::testing::PrintToString(report.skipped);
  ExpectSameOutputs(g, base.g());
}

TEST(Convert, ModelWithNothingBinaryKeepsItsOps) {
  // Drop the ste_sign: PADV2 reads the model input directly.
  Base base = LoadBase();
  graph::Subgraph& sg = base.sg();
  int pad = base.Find("PADV2");
  ASSERT_GE(pad, 0);
  sg.operators[pad].inputs[0] = sg.inputs[0];
  sg.operators.erase(sg.operators.begin(), sg.operators.begin() + pad);
  passes::RemoveUnusedTensors(base.g(), sg, 0);
  ASSERT_TRUE(format::ValidateGraph(base.g()).ok());
  ASSERT_EQ(OpNames(base.g()), (std::vector<std::string>{"PADV2", "CONV_2D"}));

  graph::Graph g = base.g();
  passes::ConvertReport report;
  ASSERT_TRUE(passes::ConvertToLce(g, {}, &report).ok());
  EXPECT_FALSE(report.AnythingBinary());
  EXPECT_EQ(report.binarizations, 0);
  EXPECT_TRUE(report.skipped.empty()) << ::testing::PrintToString(report.skipped);
  EXPECT_EQ(OpNames(g), OpNames(base.g()));
  EXPECT_EQ(Count(g), LceCounts{});
  ExpectSameOutputs(g, base.g());
}

int32_t AddScalar(graph::Graph& g, graph::Subgraph& sg, const std::string& name, float v) {
  std::vector<uint8_t> b(4);
  std::memcpy(b.data(), &v, 4);
  g.buffers.push_back(graph::Buffer::Owned(b));
  graph::Tensor t;
  t.name = name;
  t.type = DType::kFloat32;
  t.buffer = static_cast<uint32_t>(g.buffers.size() - 1);
  sg.tensors.push_back(t);
  return static_cast<int32_t>(sg.tensors.size() - 1);
}

uint32_t AddCode(graph::Graph& g, int32_t builtin) {
  graph::OperatorCode c;
  c.builtin = builtin;
  g.operator_codes.push_back(c);
  return static_cast<uint32_t>(g.operator_codes.size() - 1);
}

TEST(Convert, SelectFormOfSteSign) {
  // SIGN, ADD, SIGN -> SELECT_V2(GREATER_EQUAL(x, 0), 1, -1), the tf.where form of ste_sign.
  Base base = LoadBase();
  graph::Graph& g0 = base.g();
  graph::Subgraph& sg = base.sg();
  int sign1 = base.Find("SIGN"), add = base.Find("ADD"), sign2 = base.Find("SIGN", 1);
  ASSERT_TRUE(sign1 == 0 && add == 1 && sign2 == 2);
  const int32_t x = sg.operators[sign1].inputs[0], binarized = sg.operators[sign2].outputs[0];
  graph::Tensor cond = sg.tensors[x];
  cond.name = "cond";
  cond.type = DType::kBool;
  cond.buffer = 0;
  sg.tensors.push_back(cond);
  const int32_t cond_t = static_cast<int32_t>(sg.tensors.size() - 1);
  const int32_t zero = AddScalar(g0, sg, "zero", 0.0f), one = AddScalar(g0, sg, "one", 1.0f),
                minus_one = AddScalar(g0, sg, "minus_one", -1.0f);
  graph::Operator ge, sel;
  ge.opcode_index = AddCode(g0, graph::op::kGreaterEqual);
  ge.inputs = {x, zero};
  ge.outputs = {cond_t};
  sel.opcode_index = AddCode(g0, graph::op::kSelectV2);
  sel.inputs = {cond_t, one, minus_one};
  sel.outputs = {binarized};
  sg.operators.erase(sg.operators.begin(), sg.operators.begin() + 3);
  sg.operators.insert(sg.operators.begin(), {ge, sel});
  passes::RemoveUnusedTensors(g0, sg, 0);
  ASSERT_TRUE(format::ValidateGraph(g0).ok());

  graph::Graph g = g0;
  passes::ConvertReport report;
  ASSERT_TRUE(passes::ConvertToLce(g, {}, &report).ok());
  EXPECT_EQ(report.binarizations, 1);
  EXPECT_EQ(OpNames(g), (std::vector<std::string>{"LceQuantize", "LceBconv2d"}));
  ExpectSameOutputs(g, g0);
}

TEST(Convert, ZeroPaddedBconvKeepsQuantizeForInt8) {
  // bconv_int8_floatio_c32_33 with the one-padding turned into zero-padding: LCE's optimized
  // kernels cannot write int8 from a zero-padded LceBconv2d, so the QUANTIZE stays.
  auto m = format::LoadModelFile((kDir / "bconv_int8_floatio_c32_33.float.tflite").string());
  ASSERT_TRUE(m.ok());
  graph::Graph& g0 = m->graph;
  graph::Subgraph& sg = g0.subgraphs[0];
  bool found = false;
  for (graph::Operator& o : sg.operators) {
    if (g0.OpName(o) != "PADV2") continue;
    float zero = 0.0f;
    std::vector<uint8_t> b(4);
    std::memcpy(b.data(), &zero, 4);
    g0.buffers.push_back(graph::Buffer::Owned(b));
    graph::Tensor t = sg.tensors[o.inputs[2]];
    t.buffer = static_cast<uint32_t>(g0.buffers.size() - 1);
    sg.tensors.push_back(t);
    o.inputs[2] = static_cast<int32_t>(sg.tensors.size() - 1);
    found = true;
  }
  ASSERT_TRUE(found);
  graph::Graph g = g0;
  passes::ConvertReport report;
  ASSERT_TRUE(passes::ConvertToLce(g, {}, &report).ok());
  EXPECT_EQ(report.bconv, 1);
  EXPECT_EQ(report.bconv_int8, 0);
  EXPECT_EQ(CountOp(g, "QUANTIZE"), 2);
  EXPECT_TRUE(Mentions(report.skipped, "QUANTIZE", "zero-padded")) << ::testing::PrintToString(report.skipped);
  for (const graph::Operator& o : g.subgraphs[0].operators) {
    if (!g.IsCustom(o, graph::kLceBconv2d)) continue;
    const auto* opt = std::get_if<graph::LceBconv2dOptions>(&o.lce_options);
    ASSERT_TRUE(opt);
    EXPECT_EQ(opt->padding, 0);
    EXPECT_EQ(opt->pad_values, 0);
    EXPECT_EQ(g.subgraphs[0].tensors[o.outputs[0]].type, DType::kFloat32);
  }
}

TEST(Convert, ZeroPaddedConvFeedingBinarizationKeepsFloatOutputAndSaysWhy) {
  auto m = format::LoadModelFile((kDir / "bitpacked_pad0_c16_32_16.float.tflite").string());
  ASSERT_TRUE(m.ok());
  passes::ConvertReport report;
  ASSERT_TRUE(passes::ConvertToLce(m->graph, {}, &report).ok());
  EXPECT_EQ(report.bconv, 2);
  EXPECT_EQ(report.bconv_bitpacked, 0);
  EXPECT_TRUE(Mentions(report.skipped, "LceBconv2d", "zero-padded")) << ::testing::PrintToString(report.skipped);
}

}  // namespace
}  // namespace xbnn

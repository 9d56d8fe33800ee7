// ONNX import (`xbnn convert MODEL.onnx`) against onnxruntime: every fixture of tests/models/onnx
// (PyTorch BNNs exported by torch.onnx.export, made by tools/onnx_reference/generate.py) converts,
// has the expected LCE ops (binary convs and dense layers as LceBconv2d, bitpacked links), and
// gives onnxruntime's recorded outputs on the recorded inputs (float within 1e-4 of the output
// range). Then what must stay float, and malformed files.
#include "passes/onnx/onnx_import.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "format/model_io.h"
#include "graph/lce_options.h"
#include "util/npy.h"
#include "util/output_compare.h"
#include "xbnn/interpreter.h"

namespace xbnn {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(XBNN_SOURCE_DIR) / "tests" / "models" / "onnx";

struct Expect {
  const char* name;
  int bconv, bitpacked, dense, bmaxpool;
};

// What each fixture must become (tools/onnx_reference/generate.py describes the models).
constexpr Expect kFixtures[] = {
    {"birealnet_blocks", 3, 0, 0, 0}, {"reactnet_blocks", 5, 0, 0, 0},
    {"xnornet_dense", 4, 1, 1, 0},    {"grouped_bconv", 3, 0, 0, 1},
    {"reactnet_dynamo", 2, 0, 0, 0},  {"neg_sign_also_float", 1, 0, 0, 0},
    {"neg_not_binary", 0, 0, 0, 0},
};

void PrintTo(const Expect& e, std::ostream* os) { *os << e.name; }

std::vector<uint8_t> ReadBytes(const fs::path& p) {
  auto b = format::ReadFileBytes(p.string());
  return b.ok() ? *b : std::vector<uint8_t>{};
}

int CountOps(const graph::Graph& g, const std::string& name) {
  int n = 0;
  for (const graph::Operator& o : g.subgraphs[0].operators) n += g.OpName(o) == name;
  return n;
}

// NCHW -> NHWC of a float array.
std::vector<float> ToNhwc(const util::NpyArray& a) {
  const int64_t N = a.shape[0], C = a.shape[1], H = a.shape[2], W = a.shape[3];
  const float* x = a.as<float>();
  std::vector<float> r(static_cast<size_t>(a.NumElements()));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          r[((n * H + h) * W + w) * C + c] = x[((n * C + c) * H + h) * W + w];
  return r;
}

// Runs `tflite` on the fixture's input and compares with onnxruntime's output. "" when it matches.
std::string RunAndCompare(const std::string& name, const std::vector<uint8_t>& tflite,
                          bool nchw_input, int threads = 1) {
  auto model = Model::FromBytes(tflite);
  if (!model.ok()) return model.status().message();
  InterpreterOptions opts;
  opts.num_threads = threads;
  auto interp = Interpreter::Create(*model, opts);
  if (!interp.ok()) return interp.status().message();
  auto in = util::ReadNpz((kDir / (name + ".inputs.npz")).string());
  auto out = util::ReadNpz((kDir / (name + ".outputs.npz")).string());
  auto margin = util::ReadNpy((kDir / (name + ".presign.npy")).string());
  if (!in.ok() || !out.ok() || !margin.ok()) return "fixture files missing";
  const util::NpyArray& x = (*in)[0].second;
  std::vector<float> data =
      nchw_input ? std::vector<float>(x.as<float>(), x.as<float>() + x.NumElements()) : ToNhwc(x);
  Interpreter& it = **interp;
  if (it.input(0).bytes() != data.size() * 4) return "input size differs";
  std::memcpy(it.input(0).raw(), data.data(), data.size() * 4);
  Status s = it.Invoke();
  if (!s.ok()) return s.message();
  const util::NpyArray& y = (*out)[0].second;
  double worst = 0;
  std::string diff = testing::CompareOutput(it.output(0), y.data.data(), y.data.size(), 0, &worst);
  const double presign = margin->as<double>()[0];
  if (!diff.empty() && presign < 1e-6) {
    return diff + " (a pre-sign value within " + std::to_string(presign) +
           " of zero: float reassociation may have flipped that sign)";
  }
  return diff;
}

class OnnxFixture : public ::testing::TestWithParam<Expect> {};

TEST_P(OnnxFixture, ConvertsAndMatchesOnnxruntime) {
  const Expect& e = GetParam();
  auto bytes = ReadBytes(kDir / (std::string(e.name) + ".onnx"));
  ASSERT_FALSE(bytes.empty());
  onnx_import::OnnxConvertReport report;
  auto tflite = onnx_import::ConvertOnnxModel(bytes, {}, &report);
  ASSERT_TRUE(tflite.ok()) << tflite.status().message();
  auto g = format::ReadModel(*tflite);
  ASSERT_TRUE(g.ok()) << g.status().message();
  int bitpacked = 0;
  for (const graph::Operator& o : g->subgraphs[0].operators) {
    if (g->IsCustom(o, graph::kLceBconv2d) &&
        g->subgraphs[0].tensors[o.outputs[0]].type == graph::DType::kInt32) {
      bitpacked++;
    }
  }
  EXPECT_EQ(CountOps(*g, "LceBconv2d"), e.bconv);
  EXPECT_EQ(bitpacked, e.bitpacked);
  EXPECT_EQ(report.convert.new_bdense, e.dense);
  EXPECT_EQ(CountOps(*g, "LceBMaxPool2d"), e.bmaxpool);
  // Every binary conv/dense became LceBconv2d: none of the remaining float convs reads +-1s.
  EXPECT_EQ(CountOps(*g, "LceDequantize"), 0);
  EXPECT_EQ(RunAndCompare(e.name, *tflite, false), "");
  EXPECT_EQ(RunAndCompare(e.name, *tflite, false, 2), "");
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OnnxFixture, ::testing::ValuesIn(kFixtures),
                         [](const ::testing::TestParamInfo<Expect>& info) {
                           return std::string(info.param.name);
                         });

TEST(OnnxImport, KeepNchwInput) {
  auto bytes = ReadBytes(kDir / "reactnet_blocks.onnx");
  onnx_import::ImportOptions o;
  o.keep_nchw_input = true;
  auto tflite = onnx_import::ConvertOnnxModel(bytes, o);
  ASSERT_TRUE(tflite.ok()) << tflite.status().message();
  auto g = format::ReadModel(*tflite);
  ASSERT_TRUE(g.ok());
  const auto& in = g->subgraphs[0].tensors[g->subgraphs[0].inputs[0]];
  EXPECT_EQ(in.shape, (std::vector<int32_t>{1, 3, 16, 16}));
  EXPECT_EQ(RunAndCompare("reactnet_blocks", *tflite, true), "");
}

TEST(OnnxImport, XnorDenseWeightsShrink) {
  auto bytes = ReadBytes(kDir / "xnornet_dense.onnx");
  onnx_import::OnnxConvertReport r;
  auto tflite = onnx_import::ConvertOnnxModel(bytes, {}, &r);
  ASSERT_TRUE(tflite.ok());
  ASSERT_EQ(r.convert.new_bdense, 1);
  EXPECT_EQ(r.convert.dense_float_weight_bytes, 64 * 256 * 4);
  EXPECT_GE(r.convert.dense_float_weight_bytes, 20 * r.convert.dense_binary_weight_bytes);
  auto g = format::ReadModel(*tflite);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(CountOps(*g, "FULLY_CONNECTED"), 1);  // the float head only
  EXPECT_EQ(CountOps(*g, "RESHAPE"), 3);  // the Flatten, and the two around the 1x1 LceBconv2d
  EXPECT_LT(tflite->size() * 5, bytes.size());
}

// A sign whose result also feeds a float op: that op keeps reading a float SIGN (ONNX's exact
// semantics, 0 at 0), while the binary conv reads the bitpacked binarization.
TEST(OnnxImport, SignAlsoFeedingFloatOpStaysFloatThere) {
  auto bytes = ReadBytes(kDir / "neg_sign_also_float.onnx");
  auto tflite = onnx_import::ConvertOnnxModel(bytes);
  ASSERT_TRUE(tflite.ok());
  auto g = format::ReadModel(*tflite);
  ASSERT_TRUE(g.ok());
  const graph::Subgraph& sg = g->subgraphs[0];
  int sign_to_mul = 0;
  for (const graph::Operator& o : sg.operators) {
    if (g->OpName(o) != "MUL") continue;
    for (int32_t t : o.inputs) {
      for (const graph::Operator& p : sg.operators) {
        if (g->OpName(p) == "SIGN" && p.outputs[0] == t) sign_to_mul++;
      }
    }
  }
  EXPECT_EQ(sign_to_mul, 1);
  EXPECT_EQ(CountOps(*g, "LceDequantize"), 0);
}

// Weights that are not +-alpha (one 1% off) are not binary: the conv stays CONV_2D and the
// import says why.
TEST(OnnxImport, NotBinaryWeightsStayFloat) {
  auto bytes = ReadBytes(kDir / "neg_not_binary.onnx");
  onnx_import::OnnxConvertReport r;
  auto tflite = onnx_import::ConvertOnnxModel(bytes, {}, &r);
  ASSERT_TRUE(tflite.ok());
  auto g = format::ReadModel(*tflite);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(CountOps(*g, "CONV_2D"), 2);
  EXPECT_EQ(CountOps(*g, "LceBconv2d"), 0);
  bool said = false;
  for (const std::string& n : r.import.notes)
    said |= n.find("weights stay float") != std::string::npos;
  EXPECT_TRUE(said);
}

// The full-size Bi-Real Net-18 that `make onnx-full` writes to .cache/onnx (skipped without it).
TEST(OnnxImport, FullSizeBiRealNet18FromCache) {
  const fs::path dir = fs::path(XBNN_SOURCE_DIR) / ".cache" / "onnx";
  if (!fs::exists(dir / "birealnet18.onnx"))
    GTEST_SKIP() << "no .cache/onnx/birealnet18.onnx (make onnx-full)";
  auto bytes = ReadBytes(dir / "birealnet18.onnx");
  onnx_import::OnnxConvertReport r;
  auto tflite = onnx_import::ConvertOnnxModel(bytes, {}, &r);
  ASSERT_TRUE(tflite.ok()) << tflite.status().message();
  EXPECT_EQ(r.convert.bconv, 16);
  auto model = Model::FromBytes(*tflite);
  ASSERT_TRUE(model.ok());
  auto it = Interpreter::Create(*model);
  ASSERT_TRUE(it.ok());
  auto in = util::ReadNpz((dir / "birealnet18.inputs.npz").string());
  auto out = util::ReadNpz((dir / "birealnet18.outputs.npz").string());
  ASSERT_TRUE(in.ok() && out.ok());
  std::vector<float> x = ToNhwc((*in)[0].second);
  std::memcpy((*it)->input(0).raw(), x.data(), x.size() * 4);
  ASSERT_TRUE((*it)->Invoke().ok());
  const util::NpyArray& y = (*out)[0].second;
  double worst = 0;
  EXPECT_EQ(testing::CompareOutput((*it)->output(0), y.data.data(), y.data.size(), 0, &worst), "");
  RecordProperty("worst_relative_error", std::to_string(worst));
}

// ---- malformed files -------------------------------------------------------------------------

onnx::ModelProto Proto(const std::string& name) {
  auto bytes = ReadBytes(kDir / name);
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  return m;
}

std::string ErrorOf(const onnx::ModelProto& m, const std::string& external_data_dir = "") {
  std::string s = m.SerializeAsString();
  onnx_import::ImportOptions o;
  o.external_data_dir = external_data_dir;
  auto r = onnx_import::ConvertOnnxModel(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()), o);
  return r.ok() ? "" : r.status().message();
}

TEST(OnnxMalformed, Truncated) {
  auto bytes = ReadBytes(kDir / "neg_not_binary.onnx");
  for (size_t cut : {size_t{1}, size_t{100}, bytes.size() / 2, bytes.size() - 3}) {
    auto r = onnx_import::ConvertOnnxModel(std::span<const uint8_t>(bytes.data(), cut));
    ASSERT_FALSE(r.ok()) << "cut at " << cut;
    EXPECT_FALSE(r.status().message().empty());
  }
  auto r = onnx_import::ConvertOnnxModel(std::span<const uint8_t>(bytes.data(), bytes.size() / 2));
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();
}

TEST(OnnxMalformed, WrongOpset) {
  onnx::ModelProto m = Proto("neg_not_binary.onnx");
  m.mutable_opset_import(0)->set_version(9);
  EXPECT_NE(ErrorOf(m).find("opset 9 is not supported"), std::string::npos) << ErrorOf(m);
  m.clear_opset_import();
  EXPECT_NE(ErrorOf(m).find("no ai.onnx opset"), std::string::npos) << ErrorOf(m);
}

TEST(OnnxMalformed, MissingInitializer) {
  onnx::ModelProto m = Proto("neg_not_binary.onnx");
  const std::string gone = m.graph().initializer(0).name();
  m.mutable_graph()->mutable_initializer()->DeleteSubrange(0, 1);
  std::string e = ErrorOf(m);
  EXPECT_NE(e.find("'" + gone + "'"), std::string::npos) << e;
  EXPECT_NE(e.find("missing initializer"), std::string::npos) << e;
}

TEST(OnnxMalformed, Cycle) {
  onnx::ModelProto m = Proto("neg_not_binary.onnx");
  auto* g = m.mutable_graph();
  ASSERT_GE(g->node_size(), 2);
  // The first node now reads what the last node writes, which depends on the first.
  *g->mutable_node(0)->mutable_input(0) = g->node(g->node_size() - 1).output(0);
  EXPECT_NE(ErrorOf(m).find("cycle"), std::string::npos) << ErrorOf(m);
}

TEST(OnnxMalformed, InitializerSizeMismatchAndBadDims) {
  onnx::ModelProto m = Proto("neg_not_binary.onnx");
  auto* t = m.mutable_graph()->mutable_initializer(0);
  t->set_dims(0, t->dims(0) + 1);
  EXPECT_NE(ErrorOf(m).find("truncated or corrupt initializer"), std::string::npos) << ErrorOf(m);
  t->set_dims(0, -5);
  EXPECT_NE(ErrorOf(m).find("negative or too large dimension"), std::string::npos) << ErrorOf(m);
}

TEST(OnnxMalformed, UnsupportedOpNamesTheNode) {
  onnx::ModelProto m = Proto("neg_not_binary.onnx");
  m.mutable_graph()->mutable_node(m.graph().node_size() - 1)->set_op_type("Einsum");
  std::string e = ErrorOf(m);
  EXPECT_NE(e.find("Einsum is not supported"), std::string::npos) << e;
}

TEST(OnnxMalformed, NotOnnxAtAll) {
  auto tfl =
      ReadBytes(fs::path(XBNN_SOURCE_DIR) / "tests" / "models" / "lce" / "toy_maxpool.tflite");
  ASSERT_FALSE(tfl.empty());
  EXPECT_FALSE(onnx_import::LooksLikeOnnx(tfl));
  EXPECT_TRUE(onnx_import::LooksLikeOnnx(ReadBytes(kDir / "neg_not_binary.onnx")));
  EXPECT_FALSE(onnx_import::ConvertOnnxModel({}).ok());
}

// Weights saved as external data (what torch.onnx.export writes beside the model by default)
// are read from the model's directory, and only from there.
TEST(OnnxImport, ExternalData) {
  onnx::ModelProto m = Proto("neg_not_binary.onnx");
  const fs::path dir = fs::temp_directory_path() / ("xbnn_onnx_ext_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string blob;
  for (int i = 0; i < m.graph().initializer_size(); ++i) {
    onnx::TensorProto* t = m.mutable_graph()->mutable_initializer(i);
    if (!t->has_raw_data()) continue;
    auto add = [&](const std::string& k, const std::string& v) {
      auto* e = t->add_external_data();
      e->set_key(k);
      e->set_value(v);
    };
    add("location", "model.onnx.data");
    add("offset", std::to_string(blob.size()));
    add("length", std::to_string(t->raw_data().size()));
    blob += t->raw_data();
    t->clear_raw_data();
    t->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  }
  {
    std::ofstream f(dir / "model.onnx.data", std::ios::binary);
    f.write(blob.data(), static_cast<std::streamsize>(blob.size()));
  }
  const std::string bytes = m.SerializeAsString();
  std::span<const uint8_t> view(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  auto no_dir = onnx_import::ConvertOnnxModel(view);
  ASSERT_FALSE(no_dir.ok());
  EXPECT_NE(no_dir.status().message().find("external file"), std::string::npos)
      << no_dir.status().message();
  onnx_import::ImportOptions o;
  o.external_data_dir = dir.string();
  auto with_dir = onnx_import::ConvertOnnxModel(view, o);
  ASSERT_TRUE(with_dir.ok()) << with_dir.status().message();
  auto inline_model = onnx_import::ConvertOnnxModel(ReadBytes(kDir / "neg_not_binary.onnx"));
  ASSERT_TRUE(inline_model.ok());
  EXPECT_EQ(*with_dir, *inline_model);
  // A location outside the directory, or a data file too short, is refused.
  onnx::ModelProto bad = m;
  bad.mutable_graph()->mutable_initializer(0)->mutable_external_data(0)->set_value(
      "../model.onnx.data");
  std::string e = ErrorOf(bad, dir.string());
  EXPECT_NE(e.find("not a plain relative path"), std::string::npos) << e;
  fs::resize_file(dir / "model.onnx.data", blob.size() / 2);
  e = ErrorOf(m, dir.string());
  EXPECT_NE(e.find("outside"), std::string::npos) << e;
  fs::remove_all(dir);
}

// Where(x > 0, 1, -1) binarizes like Where(x >= 0, 1, -1) (they differ only at exactly 0, and the
// fixture's input has no pre-sign value within 1e-5 of 0), so onnxruntime's recorded outputs hold.
TEST(OnnxImport, WhereGreaterIsABinarization) {
  onnx::ModelProto m = Proto("xnornet_dense.onnx");
  int changed = 0;
  for (auto& n : *m.mutable_graph()->mutable_node()) {
    if (n.op_type() == "GreaterOrEqual") {
      n.set_op_type("Greater");
      changed++;
    }
  }
  ASSERT_EQ(changed, 1);
  const std::string bytes = m.SerializeAsString();
  auto tflite = onnx_import::ConvertOnnxModel(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  ASSERT_TRUE(tflite.ok()) << tflite.status().message();
  auto g = format::ReadModel(*tflite);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(CountOps(*g, "LceBconv2d"), 4);
  EXPECT_EQ(RunAndCompare("xnornet_dense", *tflite, false), "");
}

// ---- small graphs built here: semantics that once converted to something else ---------------

// A graph of `nodes` over float input "x" of `shape`, output "y", with float or int64
// initializers (opset `opset`).
struct Init {
  std::string name;
  std::vector<int64_t> dims;
  std::vector<float> f;
  std::vector<int64_t> i;  // int64 when f is empty
};
onnx::ModelProto Small(const std::vector<onnx::NodeProto>& nodes, std::vector<int64_t> shape,
                       const std::vector<Init>& inits, int opset = 13) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(opset);
  auto* g = m.mutable_graph();
  g->set_name("small");
  for (const auto& n : nodes) *g->add_node() = n;
  auto* x = g->add_input();
  x->set_name("x");
  x->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape)
    x->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
  g->add_output()->set_name("y");
  for (const Init& in : inits) {
    auto* t = g->add_initializer();
    t->set_name(in.name);
    for (int64_t d : in.dims) t->add_dims(d);
    if (!in.f.empty()) {
      t->set_data_type(onnx::TensorProto::FLOAT);
      for (float v : in.f) t->add_float_data(v);
    } else {
      t->set_data_type(onnx::TensorProto::INT64);
      for (int64_t v : in.i) t->add_int64_data(v);
    }
  }
  return m;
}
onnx::NodeProto Node(const std::string& op, std::vector<std::string> in,
                     std::vector<std::string> out,
                     const std::vector<std::pair<std::string, std::vector<int64_t>>>& ints = {}) {
  onnx::NodeProto n;
  n.set_op_type(op);
  for (auto& s : in) n.add_input(s);
  for (auto& s : out) n.add_output(s);
  for (const auto& [name, v] : ints) {
    auto* a = n.add_attribute();
    a->set_name(name);
    if (v.size() == 1 && (name == "ceil_mode" || name == "training_mode" || name == "keepdims" ||
                          name == "transB" || name == "to")) {
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(v[0]);
    } else {
      a->set_type(onnx::AttributeProto::INTS);
      for (int64_t e : v) a->add_ints(e);
    }
  }
  return n;
}
// Converts (keeping the NCHW input) and runs on `x`; the output, or the error in `error`.
std::vector<float> ConvertAndRun(const onnx::ModelProto& m, const std::vector<float>& x,
                                 std::vector<int32_t>* shape, std::string* error) {
  const std::string bytes = m.SerializeAsString();
  onnx_import::ImportOptions o;
  o.keep_nchw_input = true;
  auto t = onnx_import::ConvertOnnxModel(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), o);
  if (!t.ok()) {
    *error = t.status().message();
    return {};
  }
  auto model = Model::FromBytes(*t);
  auto it = model.ok() ? Interpreter::Create(*model)
                       : Result<std::unique_ptr<Interpreter>>(model.status());
  if (!it.ok()) {
    *error = it.status().message();
    return {};
  }
  Interpreter& in = **it;
  EXPECT_EQ(in.input(0).bytes(), x.size() * 4);
  std::memcpy(in.input(0).raw(), x.data(), std::min(in.input(0).bytes(), x.size() * 4));
  EXPECT_TRUE(in.Invoke().ok());
  *shape = in.output(0).info().shape;
  const auto y = in.output(0).data<float>();
  return std::vector<float>(y.begin(), y.end());
}

// MaxPool with ceil_mode drops a last window that would start in the end padding (ONNX Runtime,
// PyTorch): 9 rows, kernel 2, stride 2, pads 1 -> 5 rows, not 6 (the sixth was all padding,
// -FLT_MAX, which made a following average -inf).
TEST(OnnxImport, MaxPoolCeilModeDropsAWindowInThePadding) {
  auto m = Small({Node("MaxPool", {"x"}, {"y"},
                       {{"kernel_shape", {2, 2}},
                        {"strides", {2, 2}},
                        {"pads", {1, 1, 1, 1}},
                        {"ceil_mode", {1}}})},
                 {1, 1, 9, 8}, {});
  std::vector<float> x(72);
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(k);
  std::vector<int32_t> shape;
  std::string error;
  auto y = ConvertAndRun(m, x, &shape, &error);
  ASSERT_EQ(error, "");
  EXPECT_EQ(shape, (std::vector<int32_t>{1, 1, 5, 5}));
  for (float v : y) EXPECT_GE(v, 0.0f);  // every window holds input values
}

TEST(OnnxImport, RefusesWhatWouldConvertToSomethingElse) {
  std::vector<int32_t> shape;
  std::string error;
  // BatchNormalization in training mode normalizes by the batch's statistics.
  auto bn = Small({Node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y", "rm", "rv"},
                        {{"training_mode", {1}}})},
                  {2, 2, 3, 3},
                  {{"s", {2}, {1, 1}, {}},
                   {"b", {2}, {0, 0}, {}},
                   {"m", {2}, {0, 0}, {}},
                   {"v", {2}, {1, 1}, {}}},
                  15);
  ConvertAndRun(bn, std::vector<float>(36), &shape, &error);
  EXPECT_NE(error.find("training_mode"), std::string::npos) << error;
  // Gemm's C of shape [M, 1] adds one value per row, even when M == N.
  error.clear();
  auto gemm =
      Small({Node("Gemm", {"x", "w", "c"}, {"y"}, {{"transB", {1}}})}, {3, 4},
            {{"w", {3, 4}, std::vector<float>(12, 0.5f), {}}, {"c", {3, 1}, {0, 1, 2}, {}}});
  ConvertAndRun(gemm, std::vector<float>(12), &shape, &error);
  EXPECT_NE(error.find("C is not a constant of N values along its last axis"), std::string::npos)
      << error;
  // A Reshape whose dimension product overflows int64.
  error.clear();
  auto reshape = Small({Node("Reshape", {"x", "s"}, {"y"})}, {1, 4},
                       {{"s", {2}, {}, {(int64_t{1} << 62) + 1, 4}}});
  ConvertAndRun(reshape, std::vector<float>(4), &shape, &error);
  EXPECT_NE(error.find("too large"), std::string::npos) << error;
}

// Constants folded as ONNX computes them: integer Div truncates, and a small Expand of a
// constant is materialized (a ReduceSum over it sums the expanded values).
TEST(OnnxImport, FoldsIntegerDivAndExpandAsOnnx) {
  std::vector<int32_t> shape;
  std::string error;
  auto div = Small({Node("Div", {"a", "b"}, {"q"}), Node("Cast", {"q"}, {"qf"}, {{"to", {1}}}),
                    Node("Add", {"x", "qf"}, {"y"})},
                   {1, 3}, {{"a", {3}, {}, {7, -7, 9}}, {"b", {3}, {}, {2, 2, 4}}});
  auto y = ConvertAndRun(div, std::vector<float>(3, 0.0f), &shape, &error);
  ASSERT_EQ(error, "");
  EXPECT_EQ(y, (std::vector<float>{3, -3, 2}));
  auto expand = Small(
      {Node("Expand", {"c", "shp"}, {"e"}),
       Node("ReduceSum", {"e", "ax"}, {"s"}, {{"keepdims", {0}}}), Node("Mul", {"x", "s"}, {"y"})},
      {1, 4}, {{"c", {1}, {2.0f}, {}}, {"shp", {1}, {}, {4}}, {"ax", {1}, {}, {0}}});
  y = ConvertAndRun(expand, std::vector<float>(4, 1.0f), &shape, &error);
  ASSERT_EQ(error, "");
  EXPECT_EQ(y, (std::vector<float>(4, 8.0f)));
}

// Folded constants are bounded in sum, not only one by one: two folds of 2^24 elements and one
// of 1 exceed the 2^25 budget, and that fold is refused, naming the node.
TEST(OnnxImport, FoldedConstantsAreBoundedInSum) {
  auto m = Small({Node("Add", {"c1", "c2"}, {"a1"}), Node("Add", {"a1", "c2"}, {"a2"}),
                  Node("Add", {"one", "one"}, {"two"}), Node("Add", {"a2", "two"}, {"a3"}),
                  Node("Add", {"x", "a3"}, {"y"})},
                 {1, 4},
                 {{"c1", {4096, 1}, std::vector<float>(4096, 0.0f), {}},
                  {"c2", {1, 4096}, std::vector<float>(4096, 0.0f), {}},
                  {"one", {1}, {1.0f}, {}}});
  std::vector<int32_t> shape;
  std::string error;
  ConvertAndRun(m, std::vector<float>(4), &shape, &error);
  EXPECT_NE(error.find("(Add): the constants folded so far exceed 2^25 elements"),
            std::string::npos)
      << error;
}

// Error messages name a node by its position in the file's graph, not in the importer's
// topological order (which differs where the file lists a reader before its writer).
TEST(OnnxMalformed, ErrorsNameNodesByTheirPositionInTheFile) {
  auto m = Small({Node("Einsum", {"a"}, {"y"}), Node("Relu", {"x"}, {"a"})}, {1, 4}, {});
  m.mutable_graph()->mutable_node(0)->set_name("late");
  const std::string e = ErrorOf(m);
  EXPECT_NE(e.find("node 0 'late' (Einsum)"), std::string::npos) << e;
}

// Bytes that are not ONNX say what they are: a TFLite flatbuffer (TFL3 at offset 4) by name,
// anything else as not an ONNX model.
TEST(OnnxMalformed, SaysWhatNonOnnxBytesAre) {
  auto tfl =
      ReadBytes(fs::path(XBNN_SOURCE_DIR) / "tests" / "models" / "lce" / "toy_maxpool.tflite");
  ASSERT_FALSE(tfl.empty());
  auto r = onnx_import::ConvertOnnxModel(tfl);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("this is a TFLite model, not ONNX"), std::string::npos)
      << r.status().message();
  for (const std::string& text :
       {std::string("this is plain text\n"), std::string("\x08\x07", 2)}) {
    r = onnx_import::ConvertOnnxModel(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message().find("not an ONNX model"), 0u) << r.status().message();
  }
}

// Conv's kernel_shape attribute must agree with the weights' spatial dims.
TEST(OnnxImport, RefusesConvKernelShapeUnlikeTheWeights) {
  auto m = Small({Node("Conv", {"x", "w"}, {"y"}, {{"kernel_shape", {3, 3}}})}, {1, 1, 4, 4},
                 {{"w", {2, 1, 2, 2}, std::vector<float>(8, 1.0f), {}}});
  std::vector<int32_t> shape;
  std::string error;
  ConvertAndRun(m, std::vector<float>(16), &shape, &error);
  EXPECT_NE(error.find("node 0 (Conv)"), std::string::npos) << error;
  EXPECT_NE(error.find("kernel_shape [3,3]"), std::string::npos) << error;
  EXPECT_NE(error.find("[2,2]"), std::string::npos) << error;
}

// Conv's bias is 1-D [M] in ONNX; [1, M] is refused, not read as [M].
TEST(OnnxImport, RefusesConvBiasThatIsNot1D) {
  auto m = Small({Node("Conv", {"x", "w", "b"}, {"y"})}, {1, 1, 4, 4},
                 {{"w", {2, 1, 1, 1}, {1.0f, 1.0f}, {}}, {"b", {1, 2}, {0.0f, 0.0f}, {}}});
  std::vector<int32_t> shape;
  std::string error;
  ConvertAndRun(m, std::vector<float>(16), &shape, &error);
  EXPECT_NE(error.find("node 0 (Conv)"), std::string::npos) << error;
  EXPECT_NE(error.find("bias 'b' has shape [1,2]"), std::string::npos) << error;
  EXPECT_NE(error.find("1-D [2]"), std::string::npos) << error;
}

// float16 bits of `f` (exact for the zeros and normal values with few mantissa bits used here).
uint16_t HalfBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  const uint32_t sign = (b >> 16) & 0x8000u;
  if ((b & 0x7fffffffu) == 0) return static_cast<uint16_t>(sign);
  const uint32_t exp = ((b >> 23) & 0xffu) - 127u + 15u;
  return static_cast<uint16_t>(sign | (exp << 10) | ((b >> 13) & 0x3ffu));
}

// Initializer `name` stored as `type` (DOUBLE or FLOAT16) with the same values.
void Retype(onnx::ModelProto& m, const std::string& name, onnx::TensorProto::DataType type) {
  for (auto& t : *m.mutable_graph()->mutable_initializer()) {
    if (t.name() != name) continue;
    const std::vector<float> v(t.float_data().begin(), t.float_data().end());
    t.clear_float_data();
    t.set_data_type(type);
    for (float f : v) {
      if (type == onnx::TensorProto::DOUBLE) {
        t.add_double_data(f);
      } else {
        t.add_int32_data(HalfBits(f));
      }
    }
  }
}

// ONNX's type constraints: weights read with a float32 input are float32 (ONNX Runtime refuses
// double or float16 ones). Valid uses of other float types still convert: a double constant
// cast to float, BatchNormalization's parameters from opset 15.
TEST(OnnxImport, RefusesWeightsOfAnotherFloatType) {
  std::vector<int32_t> shape;
  std::string error;
  auto conv = Small({Node("Conv", {"x", "w", "b"}, {"y"})}, {1, 1, 4, 4},
                    {{"w", {2, 1, 1, 1}, {2.0f, -1.0f}, {}}, {"b", {2}, {0.0f, 0.0f}, {}}});
  Retype(conv, "w", onnx::TensorProto::DOUBLE);
  ConvertAndRun(conv, std::vector<float>(16), &shape, &error);
  EXPECT_NE(error.find("node 0 (Conv)"), std::string::npos) << error;
  EXPECT_NE(error.find("'w' is double"), std::string::npos) << error;
  EXPECT_NE(error.find("float32"), std::string::npos) << error;
  error.clear();
  auto conv_b = Small({Node("Conv", {"x", "w", "b"}, {"y"})}, {1, 1, 4, 4},
                      {{"w", {2, 1, 1, 1}, {2.0f, -1.0f}, {}}, {"b", {2}, {0.0f, 0.0f}, {}}});
  Retype(conv_b, "b", onnx::TensorProto::FLOAT16);
  ConvertAndRun(conv_b, std::vector<float>(16), &shape, &error);
  EXPECT_NE(error.find("'b' is float16"), std::string::npos) << error;
  error.clear();
  auto gemm = Small({Node("Gemm", {"x", "w"}, {"y"}, {{"transB", {1}}})}, {1, 4},
                    {{"w", {3, 4}, std::vector<float>(12, 0.5f), {}}});
  Retype(gemm, "w", onnx::TensorProto::FLOAT16);
  ConvertAndRun(gemm, std::vector<float>(4), &shape, &error);
  EXPECT_NE(error.find("node 0 (Gemm)"), std::string::npos) << error;
  EXPECT_NE(error.find("'w' is float16"), std::string::npos) << error;
  error.clear();
  auto matmul = Small({Node("MatMul", {"x", "w"}, {"y"})}, {1, 4},
                      {{"w", {4, 3}, std::vector<float>(12, 0.5f), {}}});
  Retype(matmul, "w", onnx::TensorProto::DOUBLE);
  ConvertAndRun(matmul, std::vector<float>(4), &shape, &error);
  EXPECT_NE(error.find("node 0 (MatMul)"), std::string::npos) << error;
  EXPECT_NE(error.find("'w' is double"), std::string::npos) << error;
  error.clear();
  auto add = Small({Node("Add", {"x", "c"}, {"y"})}, {1, 4}, {{"c", {4}, {1, 2, 3, 4}, {}}});
  Retype(add, "c", onnx::TensorProto::DOUBLE);
  ConvertAndRun(add, std::vector<float>(4), &shape, &error);
  EXPECT_NE(error.find("node 0 (Add)"), std::string::npos) << error;
  EXPECT_NE(error.find("'c' is double"), std::string::npos) << error;
  // BatchNormalization before opset 14 has one type for all its inputs.
  error.clear();
  const std::vector<Init> bn_params = {{"s", {2}, {2, 3}, {}},
                                       {"b", {2}, {1, 1}, {}},
                                       {"m", {2}, {0, 0}, {}},
                                       {"v", {2}, {1, 1}, {}}};
  auto bn13 = Small({Node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"})}, {1, 2, 1, 1},
                    bn_params, 13);
  Retype(bn13, "v", onnx::TensorProto::DOUBLE);
  ConvertAndRun(bn13, std::vector<float>(2), &shape, &error);
  EXPECT_NE(error.find("node 0 (BatchNormalization)"), std::string::npos) << error;
  EXPECT_NE(error.find("'v' is double"), std::string::npos) << error;

  // Valid: a double constant cast to float32 for the weights.
  error.clear();
  auto cast = Small({Node("Cast", {"wd"}, {"w"}, {{"to", {1}}}), Node("Conv", {"x", "w"}, {"y"})},
                    {1, 1, 4, 4}, {{"wd", {2, 1, 1, 1}, {2.0f, -1.0f}, {}}});
  Retype(cast, "wd", onnx::TensorProto::DOUBLE);
  auto y = ConvertAndRun(cast, std::vector<float>(16, 1.0f), &shape, &error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(y.size(), 32u);
  EXPECT_EQ(y[0], 2.0f);
  EXPECT_EQ(y[16], -1.0f);
  // Valid: BatchNormalization-15's scale, bias, mean and variance may be of other float types.
  auto bn15 = Small({Node("BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"})}, {1, 2, 1, 1},
                    bn_params, 15);
  for (const char* p : {"s", "b", "m", "v"}) Retype(bn15, p, onnx::TensorProto::DOUBLE);
  y = ConvertAndRun(bn15, {1.0f, 1.0f}, &shape, &error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(y.size(), 2u);
  EXPECT_NEAR(y[0], 3.0f, 1e-4f);
  EXPECT_NEAR(y[1], 4.0f, 1e-4f);
}

}  // namespace
}  // namespace xbnn

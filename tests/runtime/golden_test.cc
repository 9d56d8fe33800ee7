// Golden tests: every LCE fixture model runs in xbnn on the inputs recorded with LCE's own
// interpreter and must give LCE's recorded outputs: int8 and int32 (bitpacked) exactly, float
// within 1e-4 of the output's range. XBNN_GOLDEN_DIR adds another directory (the Zoo cache).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "util/npy.h"
#include "util/output_compare.h"
#include "xbnn/interpreter.h"

namespace xbnn {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name;
  fs::path model, inputs, outputs;
};

std::vector<Case> FindCases() {
  std::vector<fs::path> dirs = {fs::path(XBNN_SOURCE_DIR) / "tests" / "models" / "lce"};
  if (const char* extra = std::getenv("XBNN_GOLDEN_DIR")) dirs.emplace_back(extra);
  std::vector<Case> cases;
  for (const fs::path& dir : dirs) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      std::string f = e.path().filename().string();
      if (!f.ends_with(".tflite")) continue;
      std::string stem = f.substr(0, f.size() - 7);
      // NAME.tflite pairs with NAME.inputs.npz; variants (NAME.stripped.tflite) reuse the base inputs.
      std::string base = stem.substr(0, stem.find('.'));
      fs::path in = dir / (stem + ".inputs.npz");
      if (!fs::exists(in)) in = dir / (base + ".inputs.npz");
      fs::path out = dir / (stem + ".outputs.npz");
      if (!fs::exists(in) || !fs::exists(out)) continue;
      cases.push_back({stem, e.path(), in, out});
    }
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

// Compares one output with LCE's recording: float within 1e-4 of the range, the rest exactly.
std::string Compare(const TensorView& got, const util::NpyArray& want, double* worst_rel) {
  if (got.type() == DataType::kFloat32 && want.dtype != "f4") return "dtype float32 vs " + want.dtype;
  return testing::CompareOutput(got, want.data.data(), want.data.size(), /*int8_steps=*/0, worst_rel);
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class Golden : public ::testing::TestWithParam<Case> {};

TEST_P(Golden, MatchesLce) {
  const Case& c = GetParam();
  auto model = Model::FromFile(c.model.string());
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto interp = Interpreter::Create(*model);
  ASSERT_TRUE(interp.ok()) << interp.status().message();
  auto inputs = util::ReadNpz(c.inputs.string());
  ASSERT_TRUE(inputs.ok()) << inputs.status().message();
  auto outputs = util::ReadNpz(c.outputs.string());
  ASSERT_TRUE(outputs.ok()) << outputs.status().message();
  Interpreter& it = **interp;
  ASSERT_EQ(inputs->size(), it.num_inputs());
  ASSERT_EQ(outputs->size(), it.num_outputs());
  for (size_t i = 0; i < it.num_inputs(); ++i) {
    const util::NpyArray& a = (*inputs)[i].second;
    TensorView t = it.input(i);
    ASSERT_EQ(a.data.size(), t.bytes()) << "input " << i;
    std::memcpy(t.raw(), a.data.data(), t.bytes());
  }
  ASSERT_TRUE(it.Invoke().ok());
  double worst = 0;
  for (size_t i = 0; i < it.num_outputs(); ++i) {
    std::string diff = Compare(it.output(i), (*outputs)[i].second, &worst);
    EXPECT_EQ(diff, "") << c.name << " output " << i;
  }
  RecordProperty("worst_relative_error", std::to_string(worst));
  // The reference kernels (the oracle of the optimized ones) give LCE's outputs too.
  InterpreterOptions ref;
  ref.use_reference_kernels = true;
  auto interp_ref = Interpreter::Create(*model, ref);
  ASSERT_TRUE(interp_ref.ok()) << interp_ref.status().message();
  for (size_t i = 0; i < it.num_inputs(); ++i) {
    std::memcpy((*interp_ref)->input(i).raw(), (*inputs)[i].second.data.data(), it.input(i).bytes());
  }
  ASSERT_TRUE((*interp_ref)->Invoke().ok());
  double worst_ref = 0;
  for (size_t i = 0; i < it.num_outputs(); ++i) {
    EXPECT_EQ(Compare((*interp_ref)->output(i), (*outputs)[i].second, &worst_ref), "")
        << c.name << " output " << i << " (reference kernels)";
  }
  // More threads, and every op run on its own (no load-time fusion), give identical results.
  InterpreterOptions two;
  two.num_threads = 2;
  InterpreterOptions unfused;
  unfused.fuse_ops = false;
  for (const auto& [what, options] : {std::pair{"2 threads", two}, std::pair{"unfused ops", unfused}}) {
    auto other = Interpreter::Create(*model, options);
    ASSERT_TRUE(other.ok());
    for (size_t i = 0; i < it.num_inputs(); ++i) {
      std::memcpy((*other)->input(i).raw(), (*inputs)[i].second.data.data(), it.input(i).bytes());
    }
    ASSERT_TRUE((*other)->Invoke().ok());
    for (size_t i = 0; i < it.num_outputs(); ++i) {
      EXPECT_EQ(std::memcmp((*other)->output(i).raw(), it.output(i).raw(), it.output(i).bytes()), 0)
          << what << " differ from the default on output " << i;
    }
  }
}

// The residual ADD and LceQuantize of toy_shortcut run inside the LceBconv2d that feeds them, the
// stem's LceQuantize inside the CONV_2D, a batch norm, residual ADD and LceQuantize in one chain
// (the golden test above checks that the results do not change); not with fuse_ops off or with
// the reference kernels.
TEST(Fusion, ResidualAddAndQuantizeRunInTheConvolution) {
  auto model = Model::FromFile((fs::path(XBNN_SOURCE_DIR) / "tests/models/lce/toy_shortcut.tflite").string());
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto fused_ops = [&](const InterpreterOptions& o, size_t* arena) {
    auto it = Interpreter::Create(*model, o);
    EXPECT_TRUE(it.ok());
    if (!it.ok()) return -1;
    *arena = (*it)->memory().arena_bytes;
    int n = 0;
    for (const OpProfile& p : (*it)->op_profile()) {
      if (p.fused_into < 0) continue;
      EXPECT_TRUE(p.op == "ADD" || p.op == "LceQuantize") << p.op;
      EXPECT_LT(p.fused_into, p.index);
      // The stem's LceQuantize runs in the CONV_2D, the blocks' ADD and LceQuantize in the
      // LceBconv2d before them, and the batch norm's ADD, the residual ADD and the LceQuantize
      // after the first block's RELU in the batch norm's MUL (an elementwise chain).
      const std::string& host = (*it)->op_profile()[static_cast<size_t>(p.fused_into)].op;
      EXPECT_TRUE(host == "LceBconv2d" || host == "MUL" ||
                  (host == "CONV_2D" && p.op == "LceQuantize"))
          << host;
      ++n;
    }
    return n;
  };
  InterpreterOptions unfused, reference;
  unfused.fuse_ops = false;
  reference.use_reference_kernels = true;
  size_t fused_arena = 0, unfused_arena = 0, reference_arena = 0;
  EXPECT_EQ(fused_ops(InterpreterOptions{}, &fused_arena), 7);  // 4 ADDs, 3 LceQuantize
  EXPECT_EQ(fused_ops(unfused, &unfused_arena), 0);
  EXPECT_EQ(fused_ops(reference, &reference_arena), 0);
  // An elementwise chain writes its last output and the LceQuantize's bits at the same step, so
  // the bits (1/32 of the floats) may add to the peak; fusion elides more than that elsewhere.
  EXPECT_LE(fused_arena, unfused_arena + unfused_arena / 32);
}

// InterpreterOptions::input_shapes. A fixture run at a larger height and width, its recorded
// input in the top-left corner of a random one: the outputs whose receptive field lies inside the
// recorded input (and away from its bottom and right borders, padded in the original) must be
// LCE's recorded ones, with the optimized and the reference kernels, at 1 and 2 threads.
struct Resize {
  const char* name;
  int32_t h, w;        // the new height and width
  int32_t rows, cols;  // output region that sees only the recorded input
};

TEST(InputShapes, LargerMapsGiveLcesOutputsWhereTheRecordedInputDecides) {
  const fs::path dir = fs::path(XBNN_SOURCE_DIR) / "tests/models/lce";
  for (const Resize& r : {Resize{"bconv_k3_same_pad1_s1_c32_64", 20, 13, 9, 9},
                          Resize{"bmaxpool_bitpacked_3x2_s12_c32", 16, 12, 4, 2},
                          Resize{"bmaxpool_float_3x3_s2_same_c64", 21, 15, 4, 4},
                          Resize{"toy_maxpool", 37, 35, 0, 0}}) {
    SCOPED_TRACE(r.name);
    auto model = Model::FromFile((dir / (std::string(r.name) + ".tflite")).string());
    auto in = util::ReadNpz((dir / (std::string(r.name) + ".inputs.npz")).string());
    auto out = util::ReadNpz((dir / (std::string(r.name) + ".outputs.npz")).string());
    ASSERT_TRUE(model.ok() && in.ok() && out.ok());
    const util::NpyArray& x = (*in)[0].second;
    const util::NpyArray& want = (*out)[0].second;
    ASSERT_EQ(x.shape.size(), 4u);
    ASSERT_EQ(x.dtype, "f4");
    const int64_t h = x.shape[1], w = x.shape[2], c = x.shape[3];
    std::vector<float> big(static_cast<size_t>(r.h * r.w * c));
    uint32_t seed = 7;
    for (float& v : big) {
      seed = seed * 1664525u + 1013904223u;
      v = static_cast<float>(seed >> 8) / 8388608.0f - 1.0f;
    }
    for (int64_t y = 0; y < h; ++y) {
      std::memcpy(&big[static_cast<size_t>((y * r.w) * c)], x.as<float>() + y * w * c,
                  static_cast<size_t>(w * c) * sizeof(float));
    }
    std::vector<float> first;
    for (const auto& [threads, reference] :
         {std::pair{1, false}, std::pair{2, false}, std::pair{1, true}}) {
      InterpreterOptions o;
      o.num_threads = threads;
      o.use_reference_kernels = reference;
      o.input_shapes = {{1, r.h, r.w, static_cast<int32_t>(c)}};
      auto it = Interpreter::Create(*model, o);
      ASSERT_TRUE(it.ok()) << it.status().message();
      EXPECT_EQ((*it)->input_info(0).shape, o.input_shapes[0]);
      std::memcpy((*it)->input(0).raw(), big.data(), big.size() * sizeof(float));
      ASSERT_TRUE((*it)->Invoke().ok());
      TensorView got = (*it)->output(0);
      auto y = got.data<float>();
      if (first.empty()) {
        first.assign(y.begin(), y.end());
      } else {  // every configuration computes the same
        EXPECT_TRUE(std::equal(y.begin(), y.end(), first.begin(), first.end()))
            << threads << " " << reference;
      }
      if (r.rows == 0) continue;  // a global pool at the end: no region to compare, shapes only
      ASSERT_EQ(got.shape().size(), 4u);
      ASSERT_NE(got.shape()[1], want.shape[1]);
      const int64_t oc = want.shape[3], ow = want.shape[2], gw = got.shape()[2];
      ASSERT_EQ(got.shape()[3], oc);
      int mismatches = 0;
      for (int64_t i = 0; i < r.rows; ++i) {
        for (int64_t j = 0; j < r.cols; ++j) {
          for (int64_t k = 0; k < oc; ++k) {
            mismatches += y[static_cast<size_t>((i * gw + j) * oc + k)] !=
                          want.as<float>()[(i * ow + j) * oc + k];
          }
        }
      }
      EXPECT_EQ(mismatches, 0);
    }
  }
}

// Another batch: every sample's output is its output alone.
TEST(InputShapes, ABatchOfThreeGivesEachSampleItsOwnOutput) {
  auto model = Model::FromFile(
      (fs::path(XBNN_SOURCE_DIR) / "tests/models/lce/toy_shortcut.tflite").string());
  ASSERT_TRUE(model.ok());
  auto one = Interpreter::Create(*model);
  ASSERT_TRUE(one.ok());
  std::vector<int32_t> shape = (*one)->input_info(0).shape;
  shape[0] = 3;
  InterpreterOptions o;
  o.num_threads = 2;
  o.input_shapes = {shape};
  auto three = Interpreter::Create(*model, o);
  ASSERT_TRUE(three.ok()) << three.status().message();
  auto x = (*three)->input(0).data<float>();
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i) * 0.37f);
  ASSERT_TRUE((*three)->Invoke().ok());
  const size_t in_n = (*one)->input(0).data<float>().size(),
               out_n = (*one)->output(0).data<float>().size();
  ASSERT_EQ(x.size(), 3 * in_n);
  ASSERT_EQ((*three)->output(0).data<float>().size(), 3 * out_n);
  EXPECT_EQ((*three)->output_info(0).shape[0], 3);
  for (size_t b = 0; b < 3; ++b) {
    std::memcpy((*one)->input(0).raw(), x.data() + b * in_n, in_n * sizeof(float));
    ASSERT_TRUE((*one)->Invoke().ok());
    EXPECT_EQ(
        std::memcmp((*one)->output(0).raw(), (*three)->output(0).data<float>().data() + b * out_n,
                    out_n * sizeof(float)),
        0)
        << "sample " << b;
  }
}

TEST(InputShapes, ShapesThatCannotBeAreRefusedNamingTheProblem) {
  const fs::path dir = fs::path(XBNN_SOURCE_DIR) / "tests/models/lce";
  auto model = Model::FromFile((dir / "qdense_128_40.tflite").string());
  ASSERT_TRUE(model.ok());
  auto refused = [&](std::vector<std::vector<int32_t>> shapes, const std::string& message) {
    InterpreterOptions o;
    o.input_shapes = std::move(shapes);
    auto it = Interpreter::Create(*model, o);
    ASSERT_FALSE(it.ok());
    EXPECT_NE(it.status().message().find(message), std::string::npos) << it.status().message();
  };
  refused({{1, 4, 4, 8}, {1, 4, 4, 8}}, "input_shapes gives 2 shapes, the model has 1 inputs");
  refused({{1, 16, 8}},
          "input 0 ('serving_default_input_1:0') [1,16,8] has rank 3, the model's input [1,4,4,8]");
  refused({{1, 4, 0, 8}}, "every dimension must be positive");
  refused({{1, 4, 4, -8}}, "every dimension must be positive");
  refused({{65536, 65536, 4, 8}}, "exceeds the limit of 2^31 elements");
  // Its RESHAPE goes to a fixed [1, 128]: 4x4x9 values do not fit, and the op says so.
  refused({{1, 4, 4, 9}}, "RESHAPE");
  // The file's own shape, given explicitly, changes nothing (below). Other channels into an
  // LceBconv2d are refused even where they pack into as many words (its kernel would read the
  // extra channels' bits as if the weights took them).
  auto bconv = Model::FromFile((dir / "bconv_k3_same_pad1_s1_c32_64.tflite").string());
  ASSERT_TRUE(bconv.ok());
  InterpreterOptions fewer;
  fewer.input_shapes = {{1, 10, 10, 20}};
  auto it = Interpreter::Create(*bconv, fewer);
  ASSERT_FALSE(it.ok());
  EXPECT_NE(it.status().message().find(
                "op 1 (LceBconv2d): its input packs 20 channels (op 0, LceQuantize of "
                "[1,10,10,20]), but its weights take channels_in 32"),
            std::string::npos)
      << it.status().message();
  InterpreterOptions same;
  same.input_shapes = {{1, 4, 4, 8}};
  EXPECT_TRUE(Interpreter::Create(*model, same).ok());
}

// A model input that the file also gives data (GATHER's indices here): the caller writes it, as
// in TFLite, so it is no constant. Its values were checked once at load time and then read out
// of bounds (fuzzing found it), and writing the input wrote into the shared model's bytes.
TEST(ModelInputs, AnInputWithDataInTheFileIsStillAnInput) {
  auto model = Model::FromFile((fs::path(XBNN_SOURCE_DIR) /
                                "tests/fuzz/regressions/gather_indices_input_with_file_data.tflite")
                                   .string());
  ASSERT_TRUE(model.ok()) << model.status().message();
  const std::vector<uint8_t> bytes((*model)->bytes().begin(), (*model)->bytes().end());
  auto it = Interpreter::Create(*model);
  ASSERT_TRUE(it.ok()) << it.status().message();
  ASSERT_EQ((*it)->num_inputs(), 2u);
  auto params = (*it)->input(0).data<float>();  // [2, 3, 4]; gathered along axis 2, batch_dims 1
  for (size_t i = 0; i < params.size(); ++i) params[i] = static_cast<float>(i);
  auto indices = (*it)->input(1).data<int32_t>();  // [2, 2]
  const int32_t bad[] = {0, 9, 1, 1};
  std::copy(std::begin(bad), std::end(bad), indices.begin());
  const Status s = (*it)->Invoke();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("index 9 (element 1 of indices 't1') is outside [0, 4)"),
            std::string::npos)
      << s.message();
  const int32_t good[] = {3, 0, 1, 2};
  std::copy(std::begin(good), std::end(good), indices.begin());
  ASSERT_TRUE((*it)->Invoke().ok());
  auto out = (*it)->output(0).data<float>();  // [2, 3, 2]: batch b uses indices[b]
  ASSERT_EQ(out.size(), 12u);
  for (int b = 0; b < 2; ++b) {
    for (int o = 0; o < 3; ++o) {
      for (int c = 0; c < 2; ++c) {
        EXPECT_EQ(out[static_cast<size_t>((b * 3 + o) * 2 + c)],
                  static_cast<float>((b * 3 + o) * 4 + good[b * 2 + c]));
      }
    }
  }
  EXPECT_TRUE(
      std::equal(bytes.begin(), bytes.end(), (*model)->bytes().begin(), (*model)->bytes().end()))
      << "writing an input changed the model";
}

std::vector<Case> AllCases() {
  std::vector<Case> c = FindCases();
  if (c.empty()) c.push_back({"none_found", "", "", ""});
  return c;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Golden, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string n = info.param.name;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace xbnn

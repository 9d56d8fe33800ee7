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
// stem's LceQuantize inside the CONV_2D
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
      // LceBconv2d before them.
      const std::string& host = (*it)->op_profile()[static_cast<size_t>(p.fused_into)].op;
      EXPECT_TRUE(host == "LceBconv2d" || (host == "CONV_2D" && p.op == "LceQuantize")) << host;
      ++n;
    }
    return n;
  };
  InterpreterOptions unfused, reference;
  unfused.fuse_ops = false;
  reference.use_reference_kernels = true;
  size_t fused_arena = 0, unfused_arena = 0, reference_arena = 0;
  EXPECT_EQ(fused_ops(InterpreterOptions{}, &fused_arena), 4);  // 2 ADDs, 2 LceQuantize
  EXPECT_EQ(fused_ops(unfused, &unfused_arena), 0);
  EXPECT_EQ(fused_ops(reference, &reference_arena), 0);
  EXPECT_LE(fused_arena, unfused_arena);
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

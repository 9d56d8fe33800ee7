// Hostile models: absent (-1) inputs in required slots, strict LCE and builtin options, the
// activation memory budget, and the fuzz regression inputs replayed through every fuzz target.
#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "format/model_io.h"
#include "format/tiny_models.h"
#include "fuzz_cases.h"
#include "graph/lce_options.h"
#include "model_mutator.h"
#include "passes/convert.h"
#include "passes/io_passes.h"
#include "xbnn/interpreter.h"
#include "xbnn/model.h"

namespace xbnn {
namespace {

namespace fs = std::filesystem;
using graph::DType;

std::vector<fs::path> Fixtures() {
  std::vector<fs::path> out;
  for (const auto& e :
       fs::directory_iterator(fs::path(XBNN_SOURCE_DIR) / "tests" / "models" / "lce")) {
    if (e.path().extension() == ".tflite") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint8_t> Bytes(const fs::path& p) {
  auto b = format::ReadFileBytes(p.string());
  EXPECT_TRUE(b.ok()) << p;
  return b.ok() ? *b : std::vector<uint8_t>{};
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every required input of every op of every fixture set to -1: the reader, the interpreter, each
// pass (on bytes and on the unvalidated graph, as the C++ API allows) refuse it by name.
TEST(Hostile, AbsentRequiredInputsAreRefusedEverywhere) {
  std::set<std::string> op_kinds;
  int mutants = 0;
  for (const fs::path& p : Fixtures()) {
    std::vector<uint8_t> bytes = Bytes(p);
    for (const fuzz::Mutant& m : fuzz::AbsentInputMutants(bytes)) {
      SCOPED_TRACE(p.filename().string() + ": " + m.label);
      ++mutants;
      op_kinds.insert(
          m.label.substr(m.label.find('(') + 1, m.label.find(')') - m.label.find('(') - 1));
      auto read = format::ReadModel(m.bytes);
      ASSERT_FALSE(read.ok());
      EXPECT_TRUE(Contains(read.status().message(), "is absent (-1), but it is required"))
          << read.status().message();
      EXPECT_FALSE(Model::FromBuffer(m.bytes).ok());
      EXPECT_FALSE(passes::StripLceDequantizeOps(m.bytes).ok());
      EXPECT_FALSE(
          passes::ModifyIntegerQuantizedModelIoType(m.bytes, DType::kInt8, DType::kInt8).ok());
      auto g = format::ReadModelUnvalidated(m.bytes);
      ASSERT_TRUE(g.ok());
      graph::Graph a = *g, b = *g, c = *g;
      EXPECT_FALSE(passes::StripLceDequantize(a).ok());
      EXPECT_FALSE(passes::SetIoTypes(b, DType::kFloat32, DType::kInt8).ok());
      EXPECT_FALSE(passes::ConvertToLce(c).ok());
    }
  }
  EXPECT_GT(mutants, 100);
  for (const char* kind :
       {"LceQuantize", "LceDequantize", "LceBconv2d", "LceBMaxPool2d", "DEQUANTIZE", "QUANTIZE"}) {
    EXPECT_TRUE(op_kinds.count(kind)) << kind << " never had a required input set to -1";
  }
}

// The optional inputs stay optional, and their consumers check for them.
TEST(Hostile, OptionalInputsAreCheckedByTheirConsumers) {
  graph::Graph g = testing::MakeTinyBconvModel();
  g.subgraphs[0].operators[1].inputs[2] = -1;  // the multiplier of a float-output LceBconv2d
  auto bytes = format::WriteModel(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto model = Model::FromBuffer(*bytes);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto it = Interpreter::Create(*model);
  ASSERT_FALSE(it.ok());
  EXPECT_TRUE(Contains(it.status().message(), "post_activation_multiplier is missing"))
      << it.status().message();
}

std::vector<uint8_t> Options(const std::map<std::string, int>& ints,
                             const std::string& string_key = "",
                             const std::string& string_value = "") {
  flexbuffers::Builder fbb;
  fbb.Map([&]() {
    for (const auto& [k, v] : ints) fbb.Int(k.c_str(), v);
    if (!string_key.empty()) fbb.String(string_key.c_str(), string_value);
  });
  fbb.Finish();
  return fbb.GetBuffer();
}

const std::map<std::string, int> kBconvKeys = {{"channels_in", 40},
                                               {"stride_height", 1},
                                               {"stride_width", 1},
                                               {"dilation_height_factor", 1},
                                               {"dilation_width_factor", 1},
                                               {"padding", 0},
                                               {"pad_values", 1},
                                               {"fused_activation_function", 0}};

std::string ReadError(const std::vector<uint8_t>& custom_options) {
  graph::Graph g = testing::MakeTinyBconvModel();
  g.subgraphs[0].operators[1].custom_options = custom_options;
  auto bytes = format::WriteModelUnvalidated(g);
  EXPECT_TRUE(bytes.ok());
  auto read = format::ReadModel(*bytes);
  return read.ok() ? "accepted" : read.status().message();
}

TEST(Hostile, LceOptionsAreStrict) {
  EXPECT_EQ(ReadError(Options(kBconvKeys)), "accepted");
  for (const auto& [key, value] : kBconvKeys) {
    SCOPED_TRACE(key);
    auto keys = kBconvKeys;
    keys.erase(key);
    EXPECT_EQ(ReadError(Options(keys)), "op 1 (LceBconv2d): missing option '" + key + "'");
    // "SAME"/"VALID" are no integers, for any key (LCE would read them as 0).
    EXPECT_EQ(
        ReadError(Options(keys, key, "VALID")),
        "op 1 (LceBconv2d): option '" + key + "' must be an integer, found the string 'VALID'");
  }
  auto with = [](const std::string& key, int v) {
    auto keys = kBconvKeys;
    keys[key] = v;
    return Options(keys);
  };
  EXPECT_EQ(ReadError(with("padding", 2)),
            "op 1 (LceBconv2d): option 'padding' has value 2, expected 0 (SAME) or 1 (VALID)");
  EXPECT_EQ(ReadError(with("pad_values", -1)),
            "op 1 (LceBconv2d): option 'pad_values' has value -1, expected 0 or 1");
  EXPECT_TRUE(Contains(ReadError(with("fused_activation_function", 4)),
                       "'fused_activation_function' has value 4"));
  EXPECT_EQ(ReadError(with("stride_height", 0)),
            "op 1 (LceBconv2d): option 'stride_height' has value 0, expected in [1, 65536]");
  EXPECT_TRUE(Contains(ReadError(with("channels_in", -40)), "'channels_in' has value -40"));
  EXPECT_TRUE(Contains(ReadError(with("dilation_width_factor", 1 << 20)),
                       "'dilation_width_factor' has value 1048576"));
  {
    flexbuffers::Builder fbb;
    fbb.Map([&]() {
      for (const auto& [k, v] : kBconvKeys) {
        if (k == "stride_width")
          fbb.Double(k.c_str(), 1.0);
        else
          fbb.Int(k.c_str(), v);
      }
    });
    fbb.Finish();
    EXPECT_EQ(ReadError(fbb.GetBuffer()),
              "op 1 (LceBconv2d): option 'stride_width' must be an integer, found the float 1.0");
  }
  // LceBMaxPool2d: every key too.
  auto pool = graph::ParseLceBMaxPool2dOptions(
      Options({{"padding", 1}, {"stride_height", 2}, {"stride_width", 2}, {"filter_height", 2}}));
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().message(), "missing option 'filter_width'");
  pool = graph::ParseLceBMaxPool2dOptions(
      Options({{"padding", 1}, {"stride_height", 2}, {"stride_width", 2}, {"filter_height", 2}},
              "filter_width", "SAME"));
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().message(),
            "option 'filter_width' must be an integer, found the string 'SAME'");
}

// A builtin options table of another op's type is refused (it would silently give defaults).
TEST(Hostile, BuiltinOptionsTypeMustMatchTheOpcode) {
  graph::Graph g = testing::MakeTinyBconvModel();
  g.subgraphs[0].operators[2].builtin_options.type = 9;  // SoftmaxOptions on an ADD
  g.subgraphs[0].operators[2].builtin_options.fields = {{"beta", 2.0}};
  auto bytes = format::WriteModelUnvalidated(g);
  ASSERT_TRUE(bytes.ok());
  auto read = format::ReadModel(*bytes);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().message(),
            "op 2 (ADD): builtin options are a SoftmaxOptions table, expected AddOptions");
  // Every fixture op that has options, given another table type: refused, naming both tables.
  int refused = 0;
  for (const fs::path& p : Fixtures()) {
    std::vector<uint8_t> b = Bytes(p);
    auto fixture = format::ReadModel(b);
    ASSERT_TRUE(fixture.ok()) << p;
    for (size_t oi = 0; oi < fixture->subgraphs[0].operators.size(); ++oi) {
      graph::Graph m = *fixture;
      graph::BuiltinOptions& o = m.subgraphs[0].operators[oi].builtin_options;
      if (o.type == 0) continue;
      o.type = o.type == 9 ? 1 : 9;  // SOFTMAX gets Conv2DOptions, others SoftmaxOptions
      o.fields.clear();
      auto w = format::WriteModelUnvalidated(m);
      ASSERT_TRUE(w.ok());
      auto r = format::ReadModel(*w);
      ASSERT_FALSE(r.ok()) << p << " op " << oi;
      EXPECT_TRUE(Contains(r.status().message(), "builtin options are a ")) << r.status().message();
      ++refused;
    }
  }
  EXPECT_GT(refused, 50);
}

// The tiny model with its input made [1, H, W, C]: consistent when C = 40 (same packed words).
std::vector<uint8_t> TinyWithInput(std::vector<int32_t> shape, bool consistent_rest) {
  graph::Graph g = testing::MakeTinyBconvModel();
  g.subgraphs[0].tensors[0].shape = shape;
  if (consistent_rest) {
    g.subgraphs[0].tensors[1].shape = {shape[0], shape[1], shape[2], 2};
    g.subgraphs[0].tensors[5].shape = {shape[0], shape[1], shape[2], 8};
    g.subgraphs[0].tensors[7].shape = {shape[0], shape[1], shape[2], 8};
  }
  auto bytes = format::WriteModel(g);
  EXPECT_TRUE(bytes.ok()) << bytes.status().message();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

TEST(Hostile, MemoryBudgetRefusesUpFrontWithThePlannedSize) {
  auto model = Model::FromBuffer(TinyWithInput({1, 5, 5, 40}, true));
  ASSERT_TRUE(model.ok());
  InterpreterOptions small;
  small.max_arena_bytes = 1024;
  auto refused = Interpreter::Create(*model, small);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.status().message(), "over the limit of 1024 bytes"))
      << refused.status().message();
  auto fine = Interpreter::Create(*model);
  ASSERT_TRUE(fine.ok()) << fine.status().message();
  const size_t arena = (*fine)->memory().arena_bytes;
  EXPECT_TRUE(
      Contains(refused.status().message(), "planned arena " + std::to_string(arena) + " bytes"))
      << refused.status().message();
  small.max_arena_bytes = arena;  // exactly enough
  EXPECT_TRUE(Interpreter::Create(*model, small).ok());

  // Consistent shapes that need ~4.2 GB: refused by the default budget (4 GiB; 2 GiB where size_t
  // has 32 bits), nothing allocated. Where size_t has 32 bits the 4e9-byte input alone is more than
  // one allocation can hold, said before its byte count could wrap to a small buffer; there a
  // ~2.2 GB model (each tensor under 2 GiB) meets the budget instead.
  const std::string default_limit =
      "over the limit of " + std::to_string(InterpreterOptions{}.max_arena_bytes) + " bytes";
  EXPECT_EQ(uint64_t{InterpreterOptions{}.max_arena_bytes},
            sizeof(size_t) >= 8 ? uint64_t{1} << 32 : uint64_t{1} << 31);
  auto huge = Model::FromBuffer(TinyWithInput({1, 5000, 5000, 40}, true));
  ASSERT_TRUE(huge.ok()) << huge.status().message();
  auto r = Interpreter::Create(*huge);
  ASSERT_FALSE(r.ok());
  if (sizeof(size_t) >= 8) {
    EXPECT_TRUE(Contains(r.status().message(), default_limit)) << r.status().message();
  } else {
    EXPECT_TRUE(
        Contains(r.status().message(), "tensor 0 'input' needs 4000000000 bytes (") &&
        Contains(r.status().message(), "more than one allocation can hold on this platform"))
        << r.status().message();
    InterpreterOptions unlimited;
    unlimited.max_arena_bytes = 0;
    r = Interpreter::Create(*huge, unlimited);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(Contains(r.status().message(), "more than one allocation can hold"))
        << r.status().message();
    auto large = Model::FromBuffer(TinyWithInput({1, 3600, 3600, 40}, true));
    ASSERT_TRUE(large.ok()) << large.status().message();
    r = Interpreter::Create(*large);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(Contains(r.status().message(), default_limit)) << r.status().message();
  }

  // A huge input that does not fit the rest of the model: the shape error, not the budget.
  auto inconsistent = Model::FromBuffer(TinyWithInput({1, 4000, 4000, 100}, false));
  ASSERT_TRUE(inconsistent.ok()) << inconsistent.status().message();
  r = Interpreter::Create(*inconsistent);
  ASSERT_FALSE(r.ok());
  // (LceQuantize packs the input's 100 channels; the LceBconv2d wants 40 channels.)
  EXPECT_TRUE(Contains(r.status().message(),
                       "op 1 (LceBconv2d): its input packs 100 channels (op 0, LceQuantize of "
                       "[1,4000,4000,100]), but its weights take channels_in 40") &&
              !Contains(r.status().message(), "over the limit"))
      << r.status().message();
}

// Every input the fuzzers ever found goes through every target's body again.
TEST(Hostile, FuzzRegressionsReplay) {
  int n = 0;
  for (const auto& e :
       fs::directory_iterator(fs::path(XBNN_SOURCE_DIR) / "tests" / "fuzz" / "regressions")) {
    SCOPED_TRACE(e.path().string());
    std::vector<uint8_t> b = Bytes(e.path());
    fuzz::ReaderCase(b);
    fuzz::InvokeCase(b);
    fuzz::PassesCase(b);
    ++n;
  }
  EXPECT_GT(n, 0);
}

// The seeds themselves, and a few hundred structural mutants of each, through every target.
TEST(Hostile, StructuralMutantsOfTheFixtures) {
  int mutants = 0;
  for (const fs::path& p : Fixtures()) {
    if (fs::file_size(p) > (1 << 16)) continue;
    std::vector<uint8_t> b = Bytes(p);
    fuzz::InvokeCase(b);
    fuzz::PassesCase(b);
    for (uint32_t seed = 0; seed < 40; ++seed) {
      std::vector<uint8_t> m = fuzz::MutateModelBytes(b, seed);
      if (m.empty()) continue;
      SCOPED_TRACE(p.filename().string() + " seed " + std::to_string(seed));
      fuzz::ReaderCase(m);
      fuzz::InvokeCase(m);
      fuzz::PassesCase(m);
      ++mutants;
    }
  }
  EXPECT_GT(mutants, 500);
}

}  // namespace
}  // namespace xbnn

// Hostile models: absent (-1) inputs in required slots.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include "format/model_io.h"
#include "format/tiny_models.h"
#include "graph/passes/convert.h"
#include "graph/passes/io_passes.h"
#include "model_mutator.h"
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

}  // namespace
}  // namespace xbnn

// Binary dense layers in the TFLite converter (ConvertOptions::binary_dense): LCE's qdense
// fixture (a Larq QuantDense on a binarized input, which LCE's converter leaves float) becomes
// RESHAPE -> 1x1 LceBconv2d -> RESHAPE and still gives the outputs recorded from LCE's interpreter.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "format/model_io.h"
#include "passes/convert.h"
#include "util/npy.h"
#include "util/output_compare.h"
#include "xbnn/interpreter.h"

namespace xbnn {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(XBNN_SOURCE_DIR) / "tests" / "models" / "lce";

int CountOps(const graph::Graph& g, const std::string& name) {
  int n = 0;
  for (const graph::Operator& o : g.subgraphs[0].operators) n += g.OpName(o) == name;
  return n;
}

TEST(ConvertDense, QuantDenseBecomesBconvAndMatchesLce) {
  const std::string name = "qdense_128_40";
  auto floatm = format::LoadModelFile((kDir / (name + ".float.tflite")).string());
  ASSERT_TRUE(floatm.ok()) << floatm.status().message();
  graph::Graph g = floatm->graph;
  passes::ConvertOptions o;
  o.binary_dense = true;
  passes::ConvertReport r;
  ASSERT_TRUE(passes::ConvertToLce(g, o, &r).ok());
  EXPECT_EQ(r.new_bdense, 1);
  EXPECT_EQ(CountOps(g, "LceBconv2d"), 1);
  EXPECT_EQ(CountOps(g, "FULLY_CONNECTED"), 0);
  EXPECT_EQ(CountOps(g, "LceDequantize"), 0);
  EXPECT_EQ(r.dense_float_weight_bytes, 40 * 128 * 4);
  EXPECT_GE(r.dense_float_weight_bytes, 20 * r.dense_binary_weight_bytes);
  auto bytes = format::WriteModel(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_LT(bytes->size() * 5, floatm->bytes->size());  // the float weights were most of the model

  auto model = Model::FromBytes(*bytes);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto it = Interpreter::Create(*model);
  ASSERT_TRUE(it.ok()) << it.status().message();
  auto in = util::ReadNpz((kDir / (name + ".inputs.npz")).string());
  auto out = util::ReadNpz((kDir / (name + ".outputs.npz")).string());
  ASSERT_TRUE(in.ok() && out.ok());
  const util::NpyArray& x = (*in)[0].second;
  ASSERT_EQ(x.data.size(), (*it)->input(0).bytes());
  std::memcpy((*it)->input(0).raw(), x.data.data(), x.data.size());
  ASSERT_TRUE((*it)->Invoke().ok());
  const util::NpyArray& y = (*out)[0].second;
  double worst = 0;
  EXPECT_EQ(testing::CompareOutput((*it)->output(0), y.data.data(), y.data.size(), 1, &worst), "");
}

}  // namespace
}  // namespace xbnn

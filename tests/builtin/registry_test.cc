// The op registry (src/ops/registry.h): one descriptor per op, each complete and findable, and
// the lookups the validator and the interpreter use agree with it.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "graph/op_signature.h"
#include "ops/registry.h"

namespace xbnn::testing {
namespace {

graph::OperatorCode CodeOf(const ops::OpDef& d, int32_t version = 1) {
  graph::OperatorCode c;
  c.builtin = d.builtin();
  c.custom_code = d.is_custom() ? d.signature.custom_code : "";
  c.version = version;
  return c;
}

TEST(OpRegistry, EveryOpIsDescribedOnceAndCompletely) {
  std::set<std::string> names;
  for (const ops::OpDef* d : ops::AllOps()) {
    SCOPED_TRACE(d->Name());
    EXPECT_TRUE(names.insert(d->Name()).second) << "registered twice";
    EXPECT_EQ(d->is_custom(), d->signature.custom_code != nullptr);
    EXPECT_GE(d->max_version, 1);
    EXPECT_GE(d->signature.min_inputs, 1);
    EXPECT_LE(d->signature.min_inputs, d->signature.max_inputs);
    EXPECT_LE(d->signature.min_outputs, d->signature.max_outputs);
    // SPLIT_V alone keeps the file's output shapes (its sizes come from a tensor).
    EXPECT_TRUE(d->shape != nullptr || d->Name() == "SPLIT_V") << "no shape rule";
    EXPECT_EQ(ops::FindOp(CodeOf(*d)), d);
    EXPECT_EQ(graph::FindOpSignature(CodeOf(*d)), &d->signature);
  }
  EXPECT_TRUE(names.count("LceBconv2d"));
  EXPECT_TRUE(names.count("CONV_2D"));
}

TEST(OpRegistry, FindKernelNamesWhatItRefuses) {
  std::string why;
  for (const ops::OpDef* d : ops::AllOps()) {
    SCOPED_TRACE(d->Name());
    const ops::OpDef* found = ops::FindKernel(CodeOf(*d, d->max_version), &why);
    EXPECT_EQ(found, d->create ? d : nullptr);
    if (!d->create) {
      EXPECT_EQ(why, "operator " + d->Name() + " is not supported");
      continue;
    }
    EXPECT_EQ(ops::FindKernel(CodeOf(*d, d->max_version + 1), &why), nullptr);
    EXPECT_EQ(why, "operator " + d->Name() + " version " + std::to_string(d->max_version + 1) +
                       " is not supported (xbnn implements up to version " +
                       std::to_string(d->max_version) + ")");
  }
  graph::OperatorCode unknown;
  unknown.builtin = graph::op::kCustom;
  unknown.custom_code = "MyOp";
  EXPECT_EQ(ops::FindKernel(unknown, &why), nullptr);
  EXPECT_EQ(why, "custom operator MyOp is not supported");
  EXPECT_EQ(graph::FindOpSignature(unknown), nullptr);
}

}  // namespace
}  // namespace xbnn::testing

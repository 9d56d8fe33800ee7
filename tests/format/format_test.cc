#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <random>

#include "format/model_io.h"
#include "graph/cost.h"
#include "graph/lce_options.h"
#include "ops/registry.h"
#include "tiny_models.h"

namespace xbnn {
namespace {

namespace fs = std::filesystem;
using testing::MakeTinyBconvModel;

std::vector<uint8_t> Write(const graph::Graph& g) {
  auto w = format::WriteModel(g);
  EXPECT_TRUE(w.ok()) << w.status().message();
  return w.ok() ? *w : std::vector<uint8_t>();
}

TEST(Format, TinyModelRoundTrip) {
  graph::Graph g = MakeTinyBconvModel();
  std::vector<uint8_t> bytes = Write(g);
  ASSERT_FALSE(bytes.empty());
  auto back = format::ReadModel(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  std::string diff;
  // Reading fills defaults for every modeled option field; normalize the original the same way.
  std::vector<uint8_t> again_bytes = Write(*back);  // the graph views these bytes: keep them
  auto again = format::ReadModel(again_bytes);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(graph::GraphsEqual(*back, *again, &diff)) << diff;
  EXPECT_EQ(back->subgraphs[0].operators.size(), 3u);
  EXPECT_EQ(back->OpName(back->subgraphs[0].operators[1]), "LceBconv2d");
  EXPECT_EQ(back->subgraphs[0].tensors[2].shape, (std::vector<int32_t>{8, 3, 3, 2}));
  EXPECT_EQ(back->subgraphs[0].operators[2].builtin_options.GetInt("fused_activation_function", -1), 1);
  EXPECT_EQ(back->signature_defs[0].signature_key, "serving_default");
  // Constant data survives byte for byte.
  EXPECT_TRUE(std::equal(back->buffers[1].bytes().begin(), back->buffers[1].bytes().end(),
                         g.buffers[1].bytes().begin(), g.buffers[1].bytes().end()));
}

TEST(Format, BuffersAreAligned) {
  std::vector<uint8_t> bytes = Write(MakeTinyBconvModel());
  auto g = format::ReadModel(bytes);
  ASSERT_TRUE(g.ok());
  // The writer aligns every buffer to 16 bytes within the file; the file itself is only as
  // aligned as the allocator makes it (8 bytes on 32-bit ARM).
  const auto base = reinterpret_cast<uintptr_t>(bytes.data());
  for (const graph::Buffer& b : g->buffers) {
    if (!b.empty()) {
      const auto p = reinterpret_cast<uintptr_t>(b.bytes().data());
      ASSERT_TRUE(p >= base && p < base + bytes.size()) << "buffer not read in place";
      EXPECT_EQ((p - base) % 16, 0u);
    }
  }
}

TEST(Format, LceOptionsRoundTrip) {
  graph::LceBconv2dOptions o{33, 2, 1, 2, 1, 1, 0, 3};
  auto back = graph::ParseLceBconv2dOptions(graph::SerializeLceBconv2dOptions(o));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, o);
  graph::LceBMaxPool2dOptions p{1, 2, 2, 3, 3};
  auto pb = graph::ParseLceBMaxPool2dOptions(graph::SerializeLceBMaxPool2dOptions(p));
  ASSERT_TRUE(pb.ok());
  EXPECT_EQ(*pb, p);
}

TEST(Format, LceOptionsErrors) {
  std::vector<uint8_t> garbage = {1, 2, 3, 4, 5, 6, 7};
  auto r = graph::ParseLceBconv2dOptions(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("FlexBuffer"), std::string::npos) << r.status().message();
  EXPECT_FALSE(graph::ParseLceBconv2dOptions({}).ok());
  // A map without channels_in.
  graph::LceBMaxPool2dOptions p;
  auto missing = graph::ParseLceBconv2dOptions(graph::SerializeLceBMaxPool2dOptions(p));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("channels_in"), std::string::npos);
}

// The reader parses the LCE options once, into Operator::lce_options; a graph whose parsed
// options and bytes disagree is refused before anything writes or runs it.
TEST(Format, LceOptionsAreParsedAtReadAndKeptWithTheBytes) {
  const graph::Graph g = MakeTinyBconvModel();
  const auto expected = std::get<graph::LceBconv2dOptions>(g.subgraphs[0].operators[1].lce_options);
  auto bytes = format::WriteModel(g);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto read = format::ReadModel(*bytes);
  ASSERT_TRUE(read.ok()) << read.status().message();
  const auto& ops = read->subgraphs[0].operators;
  ASSERT_TRUE(std::holds_alternative<graph::LceBconv2dOptions>(ops[1].lce_options));
  EXPECT_EQ(std::get<graph::LceBconv2dOptions>(ops[1].lce_options), expected);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(ops[0].lce_options));  // LceQuantize: none
  EXPECT_TRUE(graph::GraphsEqual(*read, g));

  // Bytes changed behind the parsed options.
  graph::Graph stale = *read;
  graph::LceBconv2dOptions other = expected;
  other.stride_height = 2;
  stale.subgraphs[0].operators[1].custom_options = graph::SerializeLceBconv2dOptions(other);
  EXPECT_EQ(format::ValidateGraph(stale).message(),
            "op 1 (LceBconv2d): the parsed options differ from the custom options bytes (set both "
            "with graph::SetLceOptions)");
  EXPECT_FALSE(format::WriteModel(stale).ok());
  graph::SetLceOptions(stale.subgraphs[0].operators[1], other);
  EXPECT_TRUE(format::ValidateGraph(stale).ok());

  // Bytes only, as a graph assembled from raw option bytes has them: ReadLceOptions parses them.
  graph::Graph raw = *read;
  raw.subgraphs[0].operators[1].lce_options = {};
  EXPECT_NE(format::ValidateGraph(raw).message().find("the options were not parsed from"),
            std::string::npos);
  format::ReadLceOptions(raw);
  EXPECT_TRUE(format::ValidateGraph(raw).ok());
  EXPECT_TRUE(graph::GraphsEqual(raw, *read));

  // Parsed options on an op that takes none.
  graph::Graph extra = *read;
  extra.subgraphs[0].operators[2].lce_options = expected;
  EXPECT_EQ(format::ValidateGraph(extra).message(),
            "op 2 (ADD): has parsed LCE options, but the op takes none");
}

// Each corruption must be refused with a message naming the problem.
struct Corruption {
  const char* name;
  void (*apply)(graph::Graph&);
  const char* expected;
};

const Corruption kCorruptions[] = {
    {"tensor index", [](graph::Graph& g) { g.subgraphs[0].operators[1].inputs[1] = 99; }, "out of range"},
    {"negative tensor index", [](graph::Graph& g) { g.subgraphs[0].operators[0].inputs[0] = -7; }, "out of range"},
    {"subgraph output", [](graph::Graph& g) { g.subgraphs[0].outputs[0] = 1000; }, "subgraph output"},
    {"opcode index", [](graph::Graph& g) { g.subgraphs[0].operators[2].opcode_index = 42; }, "opcode index 42"},
    {"buffer index", [](graph::Graph& g) { g.subgraphs[0].tensors[2].buffer = 500; }, "buffer index 500"},
    {"buffer size", [](graph::Graph& g) { g.subgraphs[0].tensors[2].shape = {8, 3, 3, 3}; }, "expected 864"},
    {"negative dim", [](graph::Graph& g) { g.subgraphs[0].tensors[0].shape = {1, -5, 5, 40}; }, "negative dimension"},
    {"absurd shape", [](graph::Graph& g) { g.subgraphs[0].tensors[5].shape = {1 << 30, 1 << 30, 8, 8}; },
     "elements"},
    {"rank", [](graph::Graph& g) { g.subgraphs[0].tensors[5].shape = std::vector<int32_t>(12, 1); }, "rank 12"},
    {"bconv options", [](graph::Graph& g) { g.subgraphs[0].operators[1].custom_options = {9, 9, 9}; },
     "LceBconv2d"},
    {"bconv arity", [](graph::Graph& g) { g.subgraphs[0].operators[1].inputs = {1}; }, "inputs, found 1"},
    {"add arity", [](graph::Graph& g) { g.subgraphs[0].operators[2].outputs = {}; }, "outputs, found 0"},
    {"signature", [](graph::Graph& g) { g.signature_defs[0].outputs[0].tensor_index = 77; }, "signature"},
    {"metadata", [](graph::Graph& g) { g.metadata[0].buffer = 77; }, "metadata"},
    {"version", [](graph::Graph& g) { g.version = 2; }, "schema version 2"},
    {"no subgraphs", [](graph::Graph& g) { g.subgraphs.clear(); g.signature_defs.clear(); }, "no subgraphs"},
    {"quantization", [](graph::Graph& g) {
       g.subgraphs[0].tensors[0].quantization = graph::Quantization{{}, {}, {0.1f, 0.2f}, {0}, 0};
     }, "zero points"},
};

TEST(Format, SemanticCorruptionsAreRefused) {
  for (const Corruption& c : kCorruptions) {
    graph::Graph g = MakeTinyBconvModel();
    c.apply(g);
    auto bytes = format::WriteModelUnvalidated(g);
    ASSERT_TRUE(bytes.ok()) << c.name;
    auto r = format::ReadModel(*bytes);
    ASSERT_FALSE(r.ok()) << c.name << ": accepted";
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << c.name << ": message was: " << r.status().message();
    // The writer refuses the same graph.
    EXPECT_FALSE(format::WriteModel(g).ok()) << c.name;
  }
}

TEST(Format, TruncationsAreRefused) {
  std::vector<uint8_t> bytes = Write(MakeTinyBconvModel());
  for (size_t n = 0; n < bytes.size(); n += (n < 64 ? 1 : 7)) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    auto r = format::ReadModel(cut);
    EXPECT_FALSE(r.ok()) << "truncated at " << n << " of " << bytes.size() << " was accepted";
    if (!r.ok()) {
      EXPECT_FALSE(r.status().message().empty());
    }
  }
}

TEST(Format, BitFlipsNeverCrash) {
  std::vector<uint8_t> bytes = Write(MakeTinyBconvModel());
  std::mt19937 rng(1234);
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> b = bytes;
    for (int k = 0; k < 1 + i % 4; ++k) b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    auto r = format::ReadModel(b);
    if (!r.ok()) {
      ++refused;
      EXPECT_FALSE(r.status().message().empty());
    } else {
      // Whatever reads must write back.
      auto w = format::WriteModel(*r);
      EXPECT_TRUE(w.ok() || !w.status().message().empty());
    }
  }
  EXPECT_GT(refused, 100);  // most flips hit offsets, sizes or indices
}

TEST(Format, NotAModel) {
  std::vector<uint8_t> text(100, 'x');
  auto r = format::ReadModel(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("TFL3"), std::string::npos);
  EXPECT_FALSE(format::ReadModel({}).ok());
  auto missing = format::LoadModelFile("/nonexistent/model.tflite");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("No such file"), std::string::npos);
  auto dir = format::LoadModelFile(XBNN_SOURCE_DIR);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("directory"), std::string::npos);
}

TEST(Format, CostOfTinyModel) {
  graph::Graph g = MakeTinyBconvModel();
  ops::OpCost c = ops::EstimateOpCost(g, g.subgraphs[0], g.subgraphs[0].operators[1]);
  EXPECT_EQ(c.binary_macs, int64_t{5} * 5 * 8 * 3 * 3 * 40);
  EXPECT_EQ(c.float_macs, 0);
  graph::ActivationStats a = graph::NaiveActivationStats(g, g.subgraphs[0]);
  // input 4000 B, packed 200 B, conv 800 B, output 800 B; peak while the quantize runs.
  EXPECT_EQ(a.total_bytes, 4000 + 200 + 800 + 800);
  EXPECT_EQ(a.peak_bytes, 4000 + 200);
}

// channels_in comes from the op's options: one the filter's packed words cannot hold (the tiny
// model's filter has 2 words per tap: at most 64 channels) makes the cost unknown instead of a
// product that overflows int64 (a fuzzer found 2^31 - 1).
TEST(Format, CostOfBconvWithImpossibleChannelsIsUnknown) {
  graph::Graph g = MakeTinyBconvModel();
  graph::Operator& op = g.subgraphs[0].operators[1];
  auto& o = std::get<graph::LceBconv2dOptions>(op.lce_options);
  o.channels_in = 64;
  EXPECT_EQ(ops::EstimateOpCost(g, g.subgraphs[0], op).binary_macs,
            int64_t{5} * 5 * 8 * 3 * 3 * 64);
  for (int32_t channels : {65, std::numeric_limits<int32_t>::max(), 0, -5}) {
    o.channels_in = channels;
    EXPECT_EQ(ops::EstimateOpCost(g, g.subgraphs[0], op).binary_macs, 0) << channels;
  }
}

// Every committed LCE fixture reads, writes and reads back to an equal graph.
TEST(Format, FixturesRoundTrip) {
  fs::path dir = fs::path(XBNN_SOURCE_DIR) / "tests" / "models" / "lce";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".tflite") continue;
    SCOPED_TRACE(e.path().string());
    auto m = format::LoadModelFile(e.path().string());
    ASSERT_TRUE(m.ok()) << m.status().message();
    std::vector<uint8_t> bytes = Write(m->graph);
    auto back = format::ReadModel(bytes);
    ASSERT_TRUE(back.ok()) << back.status().message();
    std::string diff;
    EXPECT_TRUE(graph::GraphsEqual(m->graph, *back, &diff)) << diff;
    ++n;
  }
  EXPECT_GT(n, 10);
}

// Inputs the fuzzer once found: each must read, write and read back to an equal graph.
TEST(Format, FuzzRegressionsRoundTrip) {
  fs::path dir = fs::path(XBNN_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    SCOPED_TRACE(e.path().string());
    auto bytes = format::ReadFileBytes(e.path().string());
    ASSERT_TRUE(bytes.ok());
    auto g = format::ReadModel(*bytes);
    if (!g.ok()) continue;  // refusing is fine; what reads must round-trip
    auto w = format::WriteModel(*g);
    if (!w.ok()) continue;
    auto again = format::ReadModel(*w);
    ASSERT_TRUE(again.ok()) << again.status().message();
    std::string diff;
    EXPECT_TRUE(graph::GraphsEqual(*g, *again, &diff)) << diff;
    ++n;
  }
  EXPECT_GT(n, 0);
}

// A union type without its options table reads as the defaults and writes back equal.
TEST(Format, OptionsTypeWithoutTable) {
  graph::Graph g = MakeTinyBconvModel();
  g.subgraphs[0].operators[2].builtin_options = {};
  g.subgraphs[0].operators[2].builtin_options.type = 11;
  auto bytes = format::WriteModelUnvalidated(g);
  ASSERT_TRUE(bytes.ok());
  auto back = format::ReadModel(*bytes);
  ASSERT_TRUE(back.ok());
  std::vector<uint8_t> again_bytes = Write(*back);  // the graph views these bytes: keep them
  auto again = format::ReadModel(again_bytes);
  ASSERT_TRUE(again.ok());
  std::string diff;
  EXPECT_TRUE(graph::GraphsEqual(*back, *again, &diff)) << diff;
}

}  // namespace
}  // namespace xbnn

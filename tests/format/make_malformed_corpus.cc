// Writes the committed corpus of malformed models (tests/models/malformed): every file must be
// refused by the reader with a message. Regenerate with
//   build/tests/format/make_malformed_corpus tests/models/malformed
#include <cstdio>
#include <random>
#include <string>

#include "format/model_io.h"
#include "tiny_models.h"

using xbnn::graph::Graph;

namespace {

int written = 0;

bool Save(const std::string& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  if (xbnn::format::ReadModel(bytes).ok()) return false;  // still a valid model: not a corpus case
  if (!xbnn::format::WriteFileBytes(dir + "/" + name, bytes).ok()) {
    std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
  ++written;
  return true;
}

void SaveGraph(const std::string& dir, const std::string& name, void (*corrupt)(Graph&)) {
  Graph g = xbnn::testing::MakeTinyBconvModel();
  corrupt(g);
  auto bytes = xbnn::format::WriteModelUnvalidated(g);
  if (!bytes.ok() || !Save(dir, name, *bytes)) {
    std::fprintf(stderr, "corruption %s was not refused\n", name.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR [UNSUPPORTED_OP_MODEL]\n", argv[0]);
    return 2;
  }
  if (argc == 3) {
    // A valid model with an op xbnn does not implement (SQUARED_DIFFERENCE): inspect works,
    // run must refuse it by name.
    Graph g = xbnn::testing::MakeTinyBconvModel();
    g.operator_codes[2].builtin = 99;
    g.subgraphs[0].operators[2].builtin_options = {};
    auto b = xbnn::format::WriteModel(g);
    if (!b.ok() || !xbnn::format::WriteFileBytes(argv[2], *b).ok()) return 1;
  }
  std::string dir = argv[1];
  auto good = xbnn::format::WriteModel(xbnn::testing::MakeTinyBconvModel());
  if (!good.ok()) return 1;
  const std::vector<uint8_t>& bytes = *good;
  Save(dir, "empty.tflite", {});
  Save(dir, "text.tflite", std::vector<uint8_t>(64, 'x'));
  for (size_t cut : {size_t{4}, size_t{8}, size_t{16}, size_t{40}, size_t{100}, bytes.size() / 3,
                     bytes.size() / 2, bytes.size() - 64}) {
    std::vector<uint8_t> t(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(cut));
    Save(dir, "truncated_" + std::to_string(cut) + ".tflite", t);
  }
  std::mt19937 rng(20261126);
  int flips = 0;
  for (int i = 0; flips < 12 && i < 10000; ++i) {
    std::vector<uint8_t> b = bytes;
    b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    if (Save(dir, "bitflip_" + std::to_string(flips) + ".tflite", b)) ++flips;
  }
  SaveGraph(dir, "tensor_index_out_of_range.tflite", [](Graph& g) { g.subgraphs[0].operators[1].inputs[1] = 99; });
  SaveGraph(dir, "opcode_index_out_of_range.tflite", [](Graph& g) { g.subgraphs[0].operators[2].opcode_index = 42; });
  SaveGraph(dir, "buffer_index_out_of_range.tflite", [](Graph& g) { g.subgraphs[0].tensors[2].buffer = 500; });
  SaveGraph(dir, "output_index_out_of_range.tflite", [](Graph& g) { g.subgraphs[0].outputs[0] = 1000; });
  SaveGraph(dir, "absurd_shape.tflite", [](Graph& g) { g.subgraphs[0].tensors[5].shape = {1 << 30, 1 << 30, 8, 8}; });
  SaveGraph(dir, "negative_dimension.tflite", [](Graph& g) { g.subgraphs[0].tensors[0].shape = {1, -5, 5, 40}; });
  SaveGraph(dir, "wrong_buffer_size.tflite", [](Graph& g) { g.subgraphs[0].tensors[2].shape = {8, 3, 3, 3}; });
  SaveGraph(dir, "garbage_custom_options.tflite", [](Graph& g) {
    g.subgraphs[0].operators[1].custom_options = {0xde, 0xad, 0xbe, 0xef, 0x01};
  });
  SaveGraph(dir, "missing_channels_in.tflite", [](Graph& g) {
    g.subgraphs[0].operators[1].custom_options = xbnn::graph::SerializeLceBMaxPool2dOptions({});
  });
  SaveGraph(dir, "wrong_op_arity.tflite", [](Graph& g) { g.subgraphs[0].operators[1].inputs = {1}; });
  SaveGraph(dir, "bad_schema_version.tflite", [](Graph& g) { g.version = 7; });
  std::printf("wrote %d malformed models to %s\n", written, dir.c_str());
  return 0;
}

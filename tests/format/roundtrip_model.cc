// Reads a model into the graph and writes it back (for interop tests: the written file must run
// in LCE's own interpreter with identical outputs). Usage: roundtrip_model IN.tflite OUT.tflite
#include <cstdio>

#include "format/model_io.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s IN.tflite OUT.tflite\n", argv[0]);
    return 2;
  }
  auto m = xbnn::format::LoadModelFile(argv[1]);
  if (!m.ok()) {
    std::fprintf(stderr, "error: %s\n", m.status().message().c_str());
    return 1;
  }
  auto bytes = xbnn::format::WriteModel(m->graph);
  if (!bytes.ok()) {
    std::fprintf(stderr, "error: %s\n", bytes.status().message().c_str());
    return 1;
  }
  xbnn::Status s = xbnn::format::WriteFileBytes(argv[2], *bytes);
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}

// A minimal user program for the installed C++ API: load a model, fill its inputs with a fixed
// pattern, run, and print a checksum of every output. The checks script runs it linked against
// the shared and the static library and compares the two prints.
#include <cstdio>
#include <cstring>
#include <memory>

#include "xbnn/interpreter.h"
#include "xbnn/model.h"
#include "xbnn/version.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL.tflite\n", argv[0]);
    return 2;
  }
  auto model = xbnn::Model::FromFile(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().message().c_str());
    return 1;
  }
  xbnn::InterpreterOptions options;
  options.num_threads = 2;
  auto interpreter = xbnn::Interpreter::Create(*model, options);
  if (!interpreter.ok()) {
    std::fprintf(stderr, "%s\n", interpreter.status().message().c_str());
    return 1;
  }
  xbnn::Interpreter& in = **interpreter;
  for (size_t i = 0; i < in.num_inputs(); ++i) {
    xbnn::TensorView t = in.input(i);
    auto* bytes = static_cast<unsigned char*>(t.raw());
    // Small values valid for every input type (float, int8, int32 words).
    for (size_t b = 0; b < t.bytes(); ++b) bytes[b] = static_cast<unsigned char>((b * 7) % 61);
  }
  if (xbnn::Status s = in.Invoke(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  std::printf("xbnn %s\n", XBNN_VERSION_STRING);
  for (size_t i = 0; i < in.num_outputs(); ++i) {
    xbnn::TensorView t = in.output(i);
    unsigned long long h = 1469598103934665603ull;  // FNV-1a of the output bytes
    const auto* bytes = static_cast<const unsigned char*>(t.raw());
    for (size_t b = 0; b < t.bytes(); ++b) h = (h ^ bytes[b]) * 1099511628211ull;
    std::printf("output %zu %s %s %zu bytes %016llx\n", i, t.info().name.c_str(),
                xbnn::DataTypeName(t.type()), t.bytes(), h);
  }
  return 0;
}

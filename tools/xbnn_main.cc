// `xbnn`: the command line front end. One subcommand per task; `xbnn help` lists them.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "cli.h"
#include "xbnn/version.h"

namespace xbnn::tools {

int Fail(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "xbnn %s: error: %s\n", command.c_str(), message.c_str());
  return 1;
}

bool ParseByteSize(const std::string& text, size_t* bytes) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 15) return false;
  unsigned long long value = std::stoull(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  int shift = 0;
  if (unit == "K" || unit == "KiB") shift = 10;
  else if (unit == "M" || unit == "MiB") shift = 20;
  else if (unit == "G" || unit == "GiB") shift = 30;
  else if (!unit.empty() && unit != "B") return false;
  if (value > (~0ull >> (shift + 1))) return false;
  *bytes = static_cast<size_t>(value << shift);
  return true;
}

bool ParseShape(const std::string& text, std::vector<int32_t>* shape) {
  std::vector<int32_t> dims;
  size_t start = 0;
  while (true) {
    const size_t end = std::min(text.find('x', start), text.size());
    const std::string d = text.substr(start, end - start);
    if (d.empty() || d.size() > 10 || d.find_first_not_of("0123456789") != std::string::npos)
      return false;
    const long long v = std::stoll(d);
    if (v < 1 || v > INT32_MAX) return false;
    dims.push_back(static_cast<int32_t>(v));
    if (end == text.size()) break;
    start = end + 1;
  }
  *shape = std::move(dims);
  return true;
}

bool ParseFloatPrecision(const std::string& text, FloatPrecision* precision) {
  if (text == "f32") {
    *precision = FloatPrecision::kFloat32;
  } else if (text == "bf16") {
    *precision = FloatPrecision::kBFloat16;
  } else if (text == "f32-winograd") {
    *precision = FloatPrecision::kFloat32Winograd;
  } else {
    return false;
  }
  return true;
}

bool WantsHelp(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

namespace {

const Command kCommands[] = {
    {"inspect", "show a model's inputs, outputs, ops, MACs and memory", InspectMain},
    {"run", "run a model on .npy inputs (or random ones) and write its outputs", RunMain},
    {"bench", "measure latency and memory, with a per-op profile", BenchMain},
    {"strip-dequantize", "make a model output bitpacked int32 words (LCE's strip_lcedequantize_ops)",
     StripDequantizeMain},
    {"set-io-type", "give an int8 model int8 inputs/outputs (modify_integer_quantized_model_io_type)",
     SetIoTypeMain},
    {"convert", "convert a stock-TFLite Larq model (float binarization) to LCE ops", ConvertMain},
    {"ops", "list the operators xbnn runs (with their highest supported version)", OpsMain},
};

void Usage(FILE* f) {
  std::fprintf(f, "usage: xbnn <command> [options]\n\nA fast inference engine for binarized neural networks "
                  "(Larq Compute Engine models).\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(f, "  %-18s %s\n", c.name, c.summary);
  std::fprintf(f, "\nRun `xbnn <command> --help` for a command's options.\n");
}

}  // namespace
}  // namespace xbnn::tools

namespace {

// A report on stdout that did not reach its file (a full disk, a closed pipe) fails the command.
int Flushed(int rc) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "xbnn: error: cannot write to standard output: %s\n",
                 std::strerror(errno));
    return rc == 0 ? 1 : rc;
  }
  return rc;
}

int Dispatch(int argc, char** argv) {
  using namespace xbnn::tools;  // NOLINT: a .cc file's main
  if (argc < 2) {
    Usage(stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    Usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("xbnn %s\n", XBNN_VERSION_STRING);
    return 0;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& c : kCommands) {
    if (cmd == c.name) return c.main(args);
  }
  std::fprintf(stderr, "xbnn: unknown command '%s'\n\n", cmd.c_str());
  Usage(stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) { return Flushed(Dispatch(argc, argv)); }

// Writes structural mutants of a model for the CLI and Python robustness tests.
//   mutate_model --absent-inputs MODEL OUT_DIR   one model per (op, required input) with it -1
//   mutate_model --random N --seed S MODEL OUT_DIR   N mutants from model_mutator.h
// Each file is OUT_DIR/<model stem>.<k>.tflite; a line per file on stdout says what changed.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "format/model_io.h"
#include "model_mutator.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: mutate_model --absent-inputs MODEL OUT_DIR\n"
               "       mutate_model --random N --seed S MODEL OUT_DIR\n");
  return 2;
}

bool Save(const std::string& dir, const std::string& stem, size_t k,
          const std::vector<uint8_t>& bytes, const std::string& what) {
  const std::string path = dir + "/" + stem + "." + std::to_string(k) + ".tflite";
  if (!xbnn::format::WriteFileBytes(path, bytes).ok()) {
    std::fprintf(stderr, "mutate_model: cannot write %s\n", path.c_str());
    return false;
  }
  std::printf("%s\t%s\n", path.c_str(), what.c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.empty() || a[0] == "-h" || a[0] == "--help") return Usage();
  const bool absent = a[0] == "--absent-inputs";
  if ((absent && a.size() != 3) ||
      (!absent && (a.size() != 6 || a[0] != "--random" || a[2] != "--seed"))) {
    return Usage();
  }
  const std::string model = a[a.size() - 2], dir = a.back();
  auto bytes = xbnn::format::ReadFileBytes(model);
  if (!bytes.ok()) {
    std::fprintf(stderr, "mutate_model: %s\n", bytes.status().message().c_str());
    return 1;
  }
  std::filesystem::create_directories(dir);
  const std::string stem = std::filesystem::path(model).stem().string();
  size_t written = 0;
  if (absent) {
    for (const auto& m : xbnn::fuzz::AbsentInputMutants(*bytes)) {
      if (!Save(dir, stem, written++, m.bytes, m.label)) return 1;
    }
  } else {
    const long n = std::strtol(a[1].c_str(), nullptr, 10);
    const unsigned long seed = std::strtoul(a[3].c_str(), nullptr, 10);
    std::vector<uint8_t> current = *bytes;
    for (long i = 0; i < n; ++i) {
      std::string what;
      // Mostly one to three edits of the original, sometimes an edit of the previous mutant.
      std::vector<uint8_t> out = xbnn::fuzz::MutateModelBytes(
          i % 4 == 3 ? current : *bytes, static_cast<uint32_t>(seed * 1000003 + i), &what);
      if (out.empty()) continue;
      current = out;
      if (!Save(dir, stem, written++, out, what)) return 1;
    }
  }
  return written > 0 ? 0 : 1;
}

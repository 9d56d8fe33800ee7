// `xbnn run`: run a model on .npy inputs (or seeded random ones) and write its outputs.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli.h"
#include "tensor_io.h"
#include "xbnn/interpreter.h"

namespace xbnn::tools {
namespace {

constexpr const char* kHelp =
    "usage: xbnn run MODEL.tflite [--input FILE.npy]... [--threads N] [--max-memory SIZE] [--seed "
    "S]\n"
    "                [--output DIR] [--unpack-bits [--channels C]...] [--dataset FILE.npz] "
    "[--overwrite]\n"
    "                [--float-precision f32|bf16|f32-winograd] [--input-shape S]...\n\n"
    "Runs the model once. Inputs come from .npy files in model-input order, or are seeded random\n"
    "data in the dtype and shape the model wants. Prints one summary line per output.\n\n"
    "options:\n"
    "  --input FILE.npy  an input array (repeat once per model input, in order)\n"
    "  --threads N       threads (default 1)\n"
    "  --max-memory SIZE refuse models whose activation memory exceeds SIZE (bytes, or with K, M,\n"
    "                    G; default 4G, 2G on 32-bit platforms; 0: no limit)\n"
    "  --seed S          seed for random inputs (default 0)\n"
    "  --output DIR      write DIR/output_<i>.npy in the model's output dtypes (float32, int8,\n"
    "                    or int32 words for bitpacked outputs); DIR is created if needed\n"
    "  --overwrite       replace output files that already exist (refused otherwise)\n"
    "  --unpack-bits     also write DIR/output_<i>.unpacked.npy, the +1/-1 float view of each\n"
    "                    bitpacked output (channel count from the model, or --channels)\n"
    "  --channels C      unpacked channel count of the bitpacked outputs (repeat per output)\n"
    "  --dataset F.npz   classification run over a labelled set: arrays 'x' (inputs, any number\n"
    "                    of rows) and 'y' (labels); prints accuracy and latency (median, p90);\n"
    "                    reads no --input and writes no --output\n"
    "%s%s"
    "  -h, --help        show this help\n";

struct Args {
  std::string model, output, dataset;
  std::vector<std::string> inputs;
  std::vector<int> channels;
  std::vector<std::vector<int32_t>> input_shapes;
  int threads = 1;
  size_t max_memory = InterpreterOptions{}.max_arena_bytes;
  FloatPrecision precision = FloatPrecision::kFloat32;
  uint64_t seed = 0;
  bool unpack = false, overwrite = false;
};

bool ParseInt(const std::string& s, long long lo, long long hi, long long* out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) return false;
  *out = v;
  return true;
}

int Dataset(Interpreter& interp, const Args& a) {
  auto npz = util::ReadNpz(a.dataset);
  if (!npz.ok()) return Fail("run", npz.status().message());
  const util::NpyArray *x = nullptr, *y = nullptr;
  for (const auto& [name, arr] : *npz) {
    if (name == "x") x = &arr;
    if (name == "y") y = &arr;
  }
  if (!x || !y) return Fail("run", a.dataset + ": needs arrays 'x' and 'y'");
  if (interp.num_inputs() != 1) return Fail("run", "--dataset needs a model with one input");
  TensorView in = interp.input(0);
  int64_t batch = in.shape().empty() ? 1 : in.shape()[0];
  if (batch < 1)
    return Fail("run", "--dataset needs a model whose input has a batch of at least 1");
  if (x->shape.empty() || x->shape[0] == 0) return Fail("run", a.dataset + ": 'x' has no rows");
  if (x->shape[0] % batch != 0) {
    return Fail("run", a.dataset + ": the number of rows in 'x' must be a multiple of the model's batch " +
                           std::to_string(batch));
  }
  int64_t rows = x->shape[0];
  if (y->NumElements() != rows) return Fail("run", a.dataset + ": 'y' must have one label per row of 'x'");
  std::vector<int64_t> labels(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    if (y->dtype == "i8") labels[i] = y->as<int64_t>()[i];
    else if (y->dtype == "i4") labels[i] = y->as<int32_t>()[i];
    else return Fail("run", a.dataset + ": 'y' must be int32 or int64");
  }
  std::vector<double> times;
  int64_t correct = 0;
  using Clock = std::chrono::steady_clock;
  for (int64_t r = 0; r < rows; r += batch) {
    Status s = FillTensorRows(in, *x, r, a.dataset + ":x");
    if (!s.ok()) return Fail("run", s.message());
    auto t0 = Clock::now();
    s = interp.Invoke();
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!s.ok()) return Fail("run", s.message());
    TensorView out = interp.output(0);
    int64_t classes = out.info().NumElements() / batch;
    for (int64_t b = 0; b < batch; ++b) {
      int64_t best = 0;
      double best_v = -1e300;
      for (int64_t c = 0; c < classes; ++c) {
        double v = out.type() == DataType::kFloat32 ? out.data<float>()[b * classes + c]
                   : out.type() == DataType::kInt8  ? out.data<int8_t>()[b * classes + c]
                                                    : 0.0;
        if (v > best_v) {
          best_v = v;
          best = c;
        }
      }
      correct += best == labels[r + b];
    }
  }
  std::sort(times.begin(), times.end());
  double median = times[times.size() / 2];
  double p90 = times[std::min(times.size() - 1, static_cast<size_t>(times.size() * 0.9))];
  std::printf("dataset: %s, %lld samples, batch %lld, %d thread(s)\n", a.dataset.c_str(), static_cast<long long>(rows),
              static_cast<long long>(batch), interp.num_threads());
  std::printf("accuracy: %.4f (%lld/%lld)\n", static_cast<double>(correct) / static_cast<double>(rows),
              static_cast<long long>(correct), static_cast<long long>(rows));
  std::printf("latency per invoke: median %.4f ms, p90 %.4f ms\n", median, p90);
  return 0;
}

}  // namespace

int RunMain(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) {
    std::printf(kHelp, kInputShapeHelp, kFloatPrecisionHelp);
    return 0;
  }
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argv.size()) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    long long n = 0;
    if (s == "--input") {
      if (!value(&v)) return Fail("run", "--input needs a file");
      a.inputs.push_back(v);
    } else if (s == "--threads") {
      if (!value(&v) || !ParseInt(v, 1, 1024, &n)) return Fail("run", "--threads needs a number in [1, 1024]");
      a.threads = static_cast<int>(n);
    } else if (s == "--max-memory") {
      if (!value(&v) || !ParseByteSize(v, &a.max_memory)) {
        return Fail("run", "--max-memory needs a size such as 512M or 4G (0: no limit)");
      }
    } else if (s == "--float-precision") {
      if (!value(&v) || !ParseFloatPrecision(v, &a.precision)) {
        return Fail("run", "--float-precision needs f32, bf16 or f32-winograd");
      }
    } else if (s == "--input-shape") {
      std::vector<int32_t> shape;
      if (!value(&v) || !ParseShape(v, &shape)) {
        return Fail("run", kInputShapeError);
      }
      a.input_shapes.push_back(std::move(shape));
    } else if (s == "--seed") {
      if (!value(&v) || !ParseInt(v, 0, INT64_MAX, &n)) return Fail("run", "--seed needs a non-negative number");
      a.seed = static_cast<uint64_t>(n);
    } else if (s == "--output") {
      if (!value(&a.output) || a.output.empty()) return Fail("run", "--output needs a directory");
    } else if (s == "--dataset") {
      if (!value(&a.dataset) || a.dataset.empty()) return Fail("run", "--dataset needs a file");
    } else if (s == "--channels") {
      if (!value(&v) || !ParseInt(v, 1, 1 << 24, &n)) return Fail("run", "--channels needs a positive number");
      a.channels.push_back(static_cast<int>(n));
    } else if (s == "--unpack-bits") {
      a.unpack = true;
    } else if (s == "--overwrite") {
      a.overwrite = true;
    } else if (s.starts_with("-")) {
      return Fail("run", "unknown option '" + s + "' (see --help)");
    } else if (a.model.empty()) {
      a.model = s;
    } else {
      return Fail("run", "more than one model given ('" + a.model + "', '" + s + "')");
    }
  }
  if (a.model.empty()) return Fail("run", "no model given (see --help)");
  if (a.unpack && a.output.empty()) return Fail("run", "--unpack-bits needs --output DIR");
  // A dataset run reads its inputs from the archive and reports accuracy, writing nothing.
  if (!a.dataset.empty() &&
      (!a.inputs.empty() || !a.output.empty() || a.unpack || !a.channels.empty() || a.overwrite)) {
    return Fail("run",
                "--dataset takes its inputs from the archive and writes no outputs: not with "
                "--input, --output, --unpack-bits, --channels or --overwrite");
  }

  auto model = Model::FromFile(a.model);
  if (!model.ok()) return Fail("run", model.status().message());
  InterpreterOptions opts;
  opts.num_threads = a.threads;
  opts.max_arena_bytes = a.max_memory;
  opts.float_precision = a.precision;
  opts.input_shapes = a.input_shapes;
  auto interp = Interpreter::Create(*model, opts);
  if (!interp.ok()) return Fail("run", a.model + ": " + interp.status().message());
  Interpreter& it = **interp;
  if (!a.dataset.empty()) return Dataset(it, a);

  if (!a.inputs.empty() && a.inputs.size() != it.num_inputs()) {
    return Fail("run", "the model has " + std::to_string(it.num_inputs()) + " input(s), " +
                           std::to_string(a.inputs.size()) + " --input file(s) given");
  }
  // Refuse existing output files before running, not after.
  if (!a.output.empty() && !a.overwrite) {
    for (size_t i = 0; i < it.num_outputs(); ++i) {
      for (const char* suffix : {".npy", ".unpacked.npy"}) {
        if (!a.unpack && std::string(suffix) == ".unpacked.npy") continue;  // not written
        std::string path = a.output + "/output_" + std::to_string(i) + suffix;
        if (std::filesystem::exists(path)) return Fail("run", path + " exists; pass --overwrite to replace it");
      }
    }
  }
  if (a.unpack) {
    bool any = false;
    for (size_t i = 0; i < it.num_outputs(); ++i) any = any || it.output(i).info().bitpacked;
    if (!any) std::fprintf(stderr, "run: --unpack-bits: no output of this model is bitpacked; nothing to unpack\n");
  }
  for (size_t i = 0; i < it.num_inputs(); ++i) {
    if (a.inputs.empty()) {
      FillRandom(it.input(i), a.seed + i);
      std::printf("input %zu '%s': no --input given, filled with random values (seed %llu)\n", i,
                  it.input(i).info().name.c_str(), static_cast<unsigned long long>(a.seed + i));
      continue;
    }
    auto arr = util::ReadNpy(a.inputs[i]);
    if (!arr.ok()) return Fail("run", arr.status().message());
    Status s = FillTensor(it.input(i), *arr, "input " + std::to_string(i) + " ('" + a.inputs[i] + "')");
    if (!s.ok()) return Fail("run", s.message());
  }
  auto t0 = std::chrono::steady_clock::now();
  Status s = it.Invoke();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!s.ok()) return Fail("run", s.message());

  if (!a.output.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.output, ec);
    if (ec) return Fail("run", "cannot create '" + a.output + "': " + ec.message());
  }
  std::vector<std::string> created;  // files this run made: removed if a later write fails
  auto fail_removing = [&](const std::string& message) {
    for (const std::string& f : created) std::remove(f.c_str());
    return Fail("run", message);
  };
  for (size_t i = 0; i < it.num_outputs(); ++i) {
    TensorView out = it.output(i);
    std::printf("output %zu '%s': %s\n", i, out.info().name.c_str(), Summary(out).c_str());
    if (a.output.empty()) continue;
    std::vector<std::pair<std::string, util::NpyArray>> files;
    files.emplace_back(a.output + "/output_" + std::to_string(i) + ".npy", ToNpy(out));
    if (a.unpack && out.info().bitpacked) {
      int channels = i < a.channels.size() ? a.channels[i] : out.info().channels;
      int words = out.shape().empty() ? 0 : out.shape().back();
      if (channels <= 0) {
        return fail_removing("output " + std::to_string(i) +
                             ": unknown channel count; pass --channels");
      }
      if ((channels + 31) / 32 != words) {
        return fail_removing("output " + std::to_string(i) + ": " + std::to_string(channels) +
                             " channels do not fit " + std::to_string(words) + " words");
      }
      files.emplace_back(a.output + "/output_" + std::to_string(i) + ".unpacked.npy", UnpackToNpy(out, channels));
    }
    for (const auto& [path, arr] : files) {
      const bool existed = std::filesystem::exists(path);
      if (!a.overwrite && existed)
        return fail_removing(path + " exists; pass --overwrite to replace it");
      Status w = util::WriteNpy(path, arr);
      if (!w.ok()) return fail_removing(w.message());
      if (!existed) created.push_back(path);
    }
  }
  std::printf("invoke: %.3f ms, %d thread(s); activation arena %zu bytes (all activations laid end to end: %zu)\n",
              ms, it.num_threads(), it.memory().arena_bytes, it.memory().activation_bytes_sum);
  return 0;
}

}  // namespace xbnn::tools

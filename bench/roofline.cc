// How far a model runs from its roofline on this core: the binary MACs at the measured
// xor+popcount ceiling plus the float MACs at the measured FMA ceiling, against the measured
// invoke time (median), overall and per op type. The ceilings are measured in the same process,
// before and after the model runs (the better of the two counts), so a noisy machine shows up as
// a spread between them rather than as a wrong ratio. The invokes run in rounds, each after a
// short measurement of both ceilings, and the per-round ratios' median is printed too: on a
// machine whose speed drifts (a shared vCPU), a model timed in a slow minute against ceilings from
// a fast one would otherwise read as far from its roofline.
//
//   build/bench/roofline MODEL.tflite [--threads N] [--runs N] [--min-seconds S] [--rounds R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "ceiling.h"
#include "kernels/binary/optimized/bconv_amx.h"
#include "xbnn/interpreter.h"
#include "xbnn/model.h"

namespace {

struct Args {
  std::string model;
  int threads = 1;
  int runs = 50;
  double min_seconds = 2;
  int rounds = 10;
};

void Usage(FILE* f) {
  std::fprintf(
      f,
      "usage: roofline MODEL.tflite [--threads N] [--runs N] [--min-seconds S] [--rounds R]\n\n"
      "Measures this core's xor+popcount and FMA ceilings, runs the model (zero inputs,\n"
      "5 warm-up invokes, then at least N invokes and S seconds), and prints the median\n"
      "invoke time against the roofline: binary MACs / xor+popcount ceiling + float MACs\n"
      "/ FMA ceiling (per core, times the thread count), overall and per op type.\n\n"
      "The invokes run in R rounds (default 10), each right after a short measurement\n"
      "of both ceilings; the median of the per-round ratios is printed as well, which\n"
      "a machine whose speed drifts between minutes does not skew.\n");
}

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto next = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "roofline: %s needs a value\n", what);
        std::exit(1);
      }
      return argv[++i];
    };
    if (s == "-h" || s == "--help") {
      Usage(stdout);
      std::exit(0);
    } else if (s == "--threads") {
      a->threads = std::atoi(next("--threads"));
    } else if (s == "--runs") {
      a->runs = std::atoi(next("--runs"));
    } else if (s == "--min-seconds") {
      a->min_seconds = std::atof(next("--min-seconds"));
    } else if (s == "--rounds") {
      a->rounds = std::atoi(next("--rounds"));
    } else if (!s.empty() && s[0] == '-') {
      std::fprintf(stderr, "roofline: unknown option %s\n", s.c_str());
      return false;
    } else if (a->model.empty()) {
      a->model = s;
    } else {
      std::fprintf(stderr, "roofline: more than one model given\n");
      return false;
    }
  }
  if (a->model.empty()) {
    std::fprintf(stderr, "roofline: no model given\n");
    return false;
  }
  if (a->threads < 1 || a->runs < 1 || a->rounds < 1 || a->min_seconds < 0) {
    std::fprintf(stderr,
                 "roofline: --threads, --runs and --rounds must be >= 1, --min-seconds >= 0\n");
    return false;
  }
  return true;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct TypeRow {
  int count = 0;
  double seconds = 0;
  int64_t binary_macs = 0, float_macs = 0;
};

// The best xor+popcount form this CPU runs, measured now (CeilingMacsPerSecond keeps its first
// measurement).
double BestPopcount(std::string* which, xbnn::bench::CeilingFn* fn = nullptr) {
  double best = 0;
  for (const xbnn::bench::CeilingVariant& v : xbnn::bench::CeilingVariants()) {
    const double r = xbnn::bench::MeasureMacsPerSecond(v.fn);
    if (r > best) {
      best = r;
      if (which != nullptr) *which = v.name;
      if (fn != nullptr) *fn = v.fn;
    }
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    Usage(stderr);
    return 1;
  }
  auto model = xbnn::Model::FromFile(args.model);
  if (!model.ok()) {
    std::fprintf(stderr, "roofline: %s\n", model.status().message().c_str());
    return 1;
  }
  xbnn::InterpreterOptions options;
  options.num_threads = args.threads;
  auto interp = xbnn::Interpreter::Create(*model, options);
  options.profile = true;
  auto profiled = xbnn::Interpreter::Create(*model, options);
  if (!interp.ok() || !profiled.ok()) {
    std::fprintf(stderr, "roofline: %s\n",
                 (interp.ok() ? profiled.status() : interp.status()).message().c_str());
    return 1;
  }
  for (auto* it : {&*interp, &*profiled}) {
    for (size_t i = 0; i < (*it)->num_inputs(); ++i) {
      xbnn::TensorView v = (*it)->input(i);
      std::memset(v.raw(), 0, v.bytes());
    }
  }

  std::string popcount_form, fma_form;
  xbnn::bench::CeilingFn popcount_fn = nullptr;
  double popcount = BestPopcount(&popcount_form, &popcount_fn);
  double fma = xbnn::bench::FmaMacsPerSecond(&fma_form);
  const double popcount_before = popcount, fma_before = fma;

  int64_t binary_macs = 0, float_macs = 0, int8_macs = 0;
  for (const xbnn::OpProfile& p : (*profiled)->op_profile()) {
    binary_macs += p.binary_macs;
    float_macs += p.float_macs;
    int8_macs += p.int8_macs;
  }
  // (Fused ops' MACs count at their host.)
  const double scale = static_cast<double>(args.threads);
  auto roof_at = [&](int64_t b, int64_t f, double pc, double fm) {
    return static_cast<double>(b) / (pc * scale) + static_cast<double>(f) / (fm * scale);
  };

  // Plain invokes for the median, in rounds that each start with a short measurement of both
  // ceilings (best of 5 runs, a few ms); then the profiled interpreter for the per-op shares.
  xbnn::Interpreter& run = **interp;
  for (int i = 0; i < 5; ++i) (void)run.Invoke();
  std::vector<double> times, round_ratios;
  const int round_runs = (args.runs + args.rounds - 1) / args.rounds;
  const double round_seconds = args.min_seconds / args.rounds;
  for (int r = 0; r < args.rounds; ++r) {
    const double pc = xbnn::bench::MeasureMacsPerSecond(popcount_fn, 5);
    const double fm = xbnn::bench::FmaMacsPerSecond(nullptr, 5);
    std::vector<double> round_times;
    const auto start = std::chrono::steady_clock::now();
    while (static_cast<int>(round_times.size()) < round_runs ||
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
               round_seconds) {
      const auto t0 = std::chrono::steady_clock::now();
      xbnn::Status st = run.Invoke();
      const auto t1 = std::chrono::steady_clock::now();
      if (!st.ok()) {
        std::fprintf(stderr, "roofline: invoke failed: %s\n", st.message().c_str());
        return 1;
      }
      round_times.push_back(std::chrono::duration<double>(t1 - t0).count());
    }
    round_ratios.push_back(Median(round_times) / roof_at(binary_macs, float_macs, pc, fm));
    times.insert(times.end(), round_times.begin(), round_times.end());
  }
  xbnn::Interpreter& prof = **profiled;
  for (int i = 0; i < 5; ++i) (void)prof.Invoke();
  prof.ResetProfile();
  for (size_t i = 0; i < times.size(); ++i) (void)prof.Invoke();

  // Measured again after the model: the better of the two counts.
  popcount = std::max(popcount, BestPopcount(nullptr));
  fma = std::max(fma, xbnn::bench::FmaMacsPerSecond());

  std::map<std::string, TypeRow> types;
  double profiled_total = 0;
  for (const xbnn::OpProfile& p : prof.op_profile()) {
    if (p.fused_into >= 0) continue;
    TypeRow& r = types[p.op];
    r.count += 1;
    const double s = p.invokes > 0 ? p.total_seconds / static_cast<double>(p.invokes) : 0;
    r.seconds += s;
    profiled_total += s;
    r.binary_macs += p.binary_macs;
    r.float_macs += p.float_macs;
  }
  auto roof = [&](int64_t b, int64_t f) { return roof_at(b, f, popcount, fma); };
  const double median = Median(times);
  const double roofline = roof(binary_macs, float_macs);

  std::printf("model: %s, threads: %d\n", args.model.c_str(), args.threads);
  std::printf("xor+popcount ceiling (%s): %.1f G binary MAC/s per core (before the model: %.1f)\n",
              popcount_form.c_str(), popcount * 1e-9, popcount_before * 1e-9);
  std::printf("FMA ceiling (%s): %.1f G float MAC/s per core (before the model: %.1f)\n",
              fma_form.c_str(), fma * 1e-9, fma_before * 1e-9);
  std::printf("MACs: %.3g binary, %.3g float, %.3g int8 (int8 not in the roofline)\n",
              static_cast<double>(binary_macs), static_cast<double>(float_macs),
              static_cast<double>(int8_macs));
  std::printf("invoke median over %zu runs: %.3f ms; roofline %.3f ms; ratio %.2fx\n", times.size(),
              median * 1e3, roofline * 1e3, median / roofline);
  std::printf(
      "per round (%d rounds, each after its own ceiling measurement): ratio median %.2fx, "
      "range %.2fx-%.2fx\n",
      args.rounds, Median(round_ratios),
      *std::min_element(round_ratios.begin(), round_ratios.end()),
      *std::max_element(round_ratios.begin(), round_ratios.end()));
#if defined(__x86_64__)
  if (xbnn::kernels::optimized::AmxUsable(xbnn::kernels::optimized::kAmxInt8)) {
    // The amx variant runs a binary MAC as one byte product: the roofline of that hardware.
    const double amx = xbnn::bench::AmxInt8MacsPerSecond();
    const double amx_roof = static_cast<double>(binary_macs) / (amx * scale) +
                            static_cast<double>(float_macs) / (fma * scale);
    std::printf(
        "AMX-INT8 ceiling (tdpbssd): %.1f G byte MAC/s per core; with the binary MACs at "
        "it: roofline %.3f ms, ratio %.2fx\n",
        amx * 1e-9, amx_roof * 1e3, median / amx_roof);
  }
#endif
  std::printf("\n");
  std::printf("%-20s %5s %12s %12s %8s %8s\n", "op type", "count", "ms/invoke", "roofline ms",
              "ratio", "share");
  std::vector<std::pair<std::string, TypeRow>> rows(types.begin(), types.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
  for (const auto& [name, r] : rows) {
    const double rl = roof(r.binary_macs, r.float_macs);
    char ratio[32] = "-";
    if (rl > 0) std::snprintf(ratio, sizeof(ratio), "%.2fx", r.seconds / rl);
    std::printf("%-20s %5d %12.4f %12.4f %8s %7.1f%%\n", name.c_str(), r.count, r.seconds * 1e3,
                rl * 1e3, ratio, profiled_total > 0 ? 100 * r.seconds / profiled_total : 0.0);
  }
  std::printf("(per-op times from a profiled interpreter: %.3f ms per invoke in all)\n",
              profiled_total * 1e3);
  return 0;
}

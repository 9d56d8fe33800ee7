// `xbnn bench`: load/prepare time, invoke latency statistics, memory, and a per-op profile.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cli.h"
#include "json.h"
#include "tensor_io.h"
#include "xbnn/interpreter.h"

namespace xbnn::tools {
namespace {

constexpr const char* kHelp =
    "usage: xbnn bench MODEL.tflite [--threads N[,N...]] [--warmup N] [--runs N]\n"
    "                  [--min-seconds S] [--idle-ms MS] [--settle N] [--max-memory SIZE]\n"
    "                  [--no-fuse] [--float-precision f32|bf16|f32-winograd] [--input-shape S]...\n"
    "                  [--profile] [--json]\n\n"
    "Measures model load and prepare time, invoke latency over the runs (mean, median, p90,\n"
    "min, max, std) on seeded random inputs, CPU time per invoke, the arena and peak resident\n"
    "memory.\n\n"
    "options:\n"
    "  --threads N       threads (default 1)\n"
    "  --threads A,B,... compare thread counts in one process: an interpreter per count, invoked\n"
    "                    in turn, one invoke each per round (the order rotating), so that all\n"
    "                    counts see the same moments of a busy machine; reports each count's\n"
    "                    latencies and the speedup over the first count as the median of the\n"
    "                    per-round ratios (--runs and --min-seconds count rounds and their time)\n"
    "  --settle N        with a list of thread counts: N untimed invokes of the same interpreter\n"
    "                    right before each timed one (default 0), so that it finds its worker\n"
    "                    threads awake and its data in cache as in back-to-back inference; 0\n"
    "                    times its first invoke after the other counts' turns (not with\n"
    "                    --idle-ms, which lets the workers fall asleep)\n"
    "  --max-memory SIZE refuse models whose activation memory exceeds SIZE (bytes, or with K, M,\n"
    "                    G; default 4G, 2G on 32-bit platforms; 0: no limit)\n"
    "  --warmup N        untimed invokes first (default 5)\n"
    "  --runs N          timed invokes, at least (default 50)\n"
    "  --min-seconds S   keep running until S seconds of timed invokes (default 1)\n"
    "  --idle-ms MS      sleep MS milliseconds before every invoke, as an application that\n"
    "                    invokes now and then (worker threads fall asleep in between); the\n"
    "                    sleeps are not timed (default 0: invokes back to back)\n"
    "  --no-fuse         run every op on its own (no load-time op fusion)\n"
    "  --profile         per-op table (time, share, MACs, GOPS) and a per-op-type summary;\n"
    "                    with a list of thread counts, each op's median time at every count\n"
    "                    and its speedup over the first count (median of per-round ratios)\n"
    "  --json            print everything as one JSON document\n"
    "%s%s"
    "  -h, --help        show this help\n";

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  double pos = q * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(pos);
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// Latency statistics of timed invokes, in ms.
struct Latency {
  double mean = 0, median = 0, p90 = 0, min = 0, max = 0, std = 0;
};

Latency Summarize(const std::vector<double>& ms) {
  Latency l;
  if (ms.empty()) return l;
  for (double x : ms) l.mean += x;
  l.mean /= static_cast<double>(ms.size());
  double var = 0;
  for (double x : ms) var += (x - l.mean) * (x - l.mean);
  l.std = std::sqrt(var / static_cast<double>(ms.size()));
  l.median = Percentile(ms, 0.5);
  l.p90 = Percentile(ms, 0.9);
  l.min = *std::min_element(ms.begin(), ms.end());
  l.max = *std::max_element(ms.begin(), ms.end());
  return l;
}

void WriteLatency(JsonWriter& j, const Latency& l) {
  j.Key("latency_ms").BeginObject().Key("mean").Double(l.mean).Key("median").Double(l.median);
  j.Key("p90").Double(l.p90).Key("min").Double(l.min).Key("max").Double(l.max);
  j.Key("std").Double(l.std).EndObject();
}

void WriteThreadPool(JsonWriter& j, const ThreadStats& ts) {
  j.Key("thread_pool").BeginObject().Key("parallel_steps").Int(ts.parallel_jobs);
  j.Key("serial_steps").Int(ts.serial_jobs).Key("stalls").Int(ts.stalls);
  j.Key("back_offs").Int(ts.back_offs).Key("tasks").Int(ts.tasks);
  j.Key("caller_tasks").Int(ts.caller_tasks).Key("worker_moves").Int(ts.worker_moves).EndObject();
}

// What the pool did over some invokes: the counters after them minus those before.
struct PoolCounts {
  ThreadStats sum;
  void Add(const ThreadStats& before, const ThreadStats& after) {
    sum.parallel_jobs += after.parallel_jobs - before.parallel_jobs;
    sum.serial_jobs += after.serial_jobs - before.serial_jobs;
    sum.stalls += after.stalls - before.stalls;
    sum.back_offs += after.back_offs - before.back_offs;
    sum.tasks += after.tasks - before.tasks;
    sum.caller_tasks += after.caller_tasks - before.caller_tasks;
    sum.worker_moves += after.worker_moves - before.worker_moves;
  }
};

// The "thread pool:" line of the text report (the timed invokes): why extra threads did or did
// not help.
void PrintThreadPool(const ThreadStats& ts) {
  const double worker_share =
      ts.tasks > 0
          ? 100.0 * static_cast<double>(ts.tasks - ts.caller_tasks) / static_cast<double>(ts.tasks)
          : 0;
  std::printf(
      "thread pool: %lld parallel steps (workers ran %.0f%% of their tasks), %lld steps on the "
      "calling thread alone (backing off after %lld stalls and %lld windows without help), %lld "
      "worker wake-ups moved off the calling thread's CPU\n",
      static_cast<long long>(ts.parallel_jobs), worker_share,
      static_cast<long long>(ts.serial_jobs), static_cast<long long>(ts.stalls),
      static_cast<long long>(ts.back_offs), static_cast<long long>(ts.worker_moves));
}

using Clock = std::chrono::steady_clock;

void IdleFor(double ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
}

// Parses "N" or "A,B,..." (each in [1, 1024]).
bool ParseThreadCounts(const std::string& text, std::vector<int>* counts) {
  counts->clear();
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string part = text.substr(pos, comma - pos);
    char* end = nullptr;
    const long v = part.empty() ? 0 : std::strtol(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || v < 1 || v > 1024) return false;
    counts->push_back(static_cast<int>(v));
    pos = comma + 1;
  }
  return !counts->empty();
}

// `--threads A,B,...`: an interpreter per thread count, invoked in turn (one invoke each per
// round, the first of a round rotating), so that every count meets the same moments of a busy
// machine; separate runs one after the other meet different ones, and on a shared machine that
// difference can exceed the one between the counts.
std::string Shape(const std::vector<int32_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

// Per-op times of every invoke, in ms, for the per-op table of `--threads A,B,... --profile`:
// ms[op][invoke] from the profile's running totals.
class OpTimes {
 public:
  explicit OpTimes(const Interpreter& it) {
    for (const OpProfile& p : it.op_profile()) last_.push_back(p.total_seconds);
    ms_.resize(last_.size());
  }
  void Record(const Interpreter& it) {
    const std::vector<OpProfile>& prof = it.op_profile();
    for (size_t o = 0; o < prof.size(); ++o) {
      ms_[o].push_back((prof[o].total_seconds - last_[o]) * 1e3);
      last_[o] = prof[o].total_seconds;
    }
  }
  // The invokes since the last Record or Skip are not counted (bench --settle's untimed ones).
  void Skip(const Interpreter& it) {
    const std::vector<OpProfile>& prof = it.op_profile();
    for (size_t o = 0; o < prof.size(); ++o) last_[o] = prof[o].total_seconds;
  }
  const std::vector<double>& op(size_t o) const { return ms_[o]; }

 private:
  std::vector<double> last_;
  std::vector<std::vector<double>> ms_;
};

// Median over rounds of first[r] / other[r] (rounds where either took no time left out).
double RatioMedian(const std::vector<double>& first, const std::vector<double>& other) {
  std::vector<double> r;
  for (size_t i = 0; i < first.size() && i < other.size(); ++i) {
    if (first[i] > 0 && other[i] > 0) r.push_back(first[i] / other[i]);
  }
  return r.empty() ? 0 : Percentile(r, 0.5);
}

// Median time per thread count and speedup over the first count (median of per-round ratios)
// of one op or op type, from its per-round times at each count.
struct CountStats {
  std::vector<double> median, speedup;
};

CountStats Compare(const std::vector<const std::vector<double>*>& per_count) {
  CountStats s;
  for (size_t i = 0; i < per_count.size(); ++i) {
    s.median.push_back(Percentile(*per_count[i], 0.5));
    s.speedup.push_back(i == 0 ? 1.0 : RatioMedian(*per_count[0], *per_count[i]));
  }
  return s;
}

void PrintCountColumns(const std::vector<int>& counts) {
  for (int c : counts) std::printf(" %9s", (std::to_string(c) + "T ms").c_str());
  for (size_t i = 1; i < counts.size(); ++i) {
    std::printf(" %8s", (std::to_string(counts[i]) + "T x").c_str());
  }
  std::printf("\n");
}

void PrintCountStats(const CountStats& s) {
  for (double m : s.median) std::printf(" %9.4f", m);
  for (size_t i = 1; i < s.speedup.size(); ++i) std::printf(" %7.2fx", s.speedup[i]);
  std::printf("\n");
}

// The per-op table of a thread-count comparison: each op's median time per count and its
// speedup over the first count, then the same per op type (the type's time summed per round).
void PrintOpComparison(JsonWriter& j, const Interpreter& first, const std::vector<int>& counts,
                       const std::vector<OpTimes>& times, bool json) {
  const std::vector<OpProfile>& prof = first.op_profile();
  const size_t k = counts.size();
  if (!json) {
    std::printf("\n%-4s %-20s %-18s", "#", "op", "output");
    PrintCountColumns(counts);
  }
  struct TypeTimes {
    int count = 0;
    std::vector<std::vector<double>> per_round;  // [count][round]
  };
  std::map<std::string, TypeTimes> by_type;
  j.Key("ops").BeginArray();
  for (size_t o = 0; o < prof.size(); ++o) {
    const OpProfile& p = prof[o];
    if (p.fused_into >= 0) {
      if (!json) std::printf("%-4d %-20s fused into op %d\n", p.index, p.op.c_str(), p.fused_into);
      j.BeginObject().Key("index").Int(p.index).Key("op").String(p.op);
      j.Key("fused_into").Int(p.fused_into).EndObject();
      continue;
    }
    TypeTimes& t = by_type[p.op];
    t.count++;
    t.per_round.resize(k);
    std::vector<const std::vector<double>*> per_count;
    for (size_t i = 0; i < k; ++i) {
      const std::vector<double>& ms = times[i].op(o);
      per_count.push_back(&ms);
      t.per_round[i].resize(ms.size());
      for (size_t r = 0; r < ms.size(); ++r) t.per_round[i][r] += ms[r];
    }
    const CountStats s = Compare(per_count);
    if (!json) {
      std::printf("%-4d %-20s %-18s", p.index, p.op.c_str(), Shape(p.output_shape).c_str());
      PrintCountStats(s);
    }
    j.BeginObject().Key("index").Int(p.index).Key("op").String(p.op);
    j.Key("output_shape").IntArray(p.output_shape).Key("median_ms").DoubleArray(s.median);
    j.Key("speedup").DoubleArray(s.speedup).EndObject();
  }
  j.EndArray().Key("op_types").BeginArray();
  struct TypeRow {
    std::string name;
    int count;
    CountStats stats;
  };
  std::vector<TypeRow> rows;
  for (const auto& [name, t] : by_type) {
    std::vector<const std::vector<double>*> per_count;
    for (const std::vector<double>& v : t.per_round) per_count.push_back(&v);
    rows.push_back({name, t.count, Compare(per_count)});
  }
  std::sort(rows.begin(), rows.end(), [](const TypeRow& a, const TypeRow& b) {
    return a.stats.median[0] > b.stats.median[0];
  });
  if (!json) {
    std::printf("\n%-20s %5s", "op type", "count");
    PrintCountColumns(counts);
  }
  for (const TypeRow& r : rows) {
    if (!json) {
      std::printf("%-20s %5d", r.name.c_str(), r.count);
      PrintCountStats(r.stats);
    }
    j.BeginObject().Key("op").String(r.name).Key("count").Int(r.count);
    j.Key("median_ms").DoubleArray(r.stats.median).Key("speedup").DoubleArray(r.stats.speedup);
    j.EndObject();
  }
  j.EndArray();
  if (!json) {
    std::printf(
        "(per op: the median of its per-invoke times; speedup: the median over rounds of the "
        "first count's time / this count's)\n");
  }
}

int BenchThreadCounts(const std::string& path, const std::shared_ptr<const Model>& model,
                      InterpreterOptions opts, const std::vector<int>& counts, long long warmup,
                      long long runs, double min_seconds, double idle_ms, long long settle,
                      double load_ms, bool json) {
  const size_t k = counts.size();
  std::vector<std::unique_ptr<Interpreter>> its;
  std::vector<double> prepare_ms;
  for (int t : counts) {
    opts.num_threads = t;
    const auto t0 = Clock::now();
    auto created = Interpreter::Create(model, opts);
    prepare_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!created.ok()) return Fail("bench", path + ": " + created.status().message());
    its.push_back(std::move(*created));
    Interpreter& it = *its.back();
    for (size_t i = 0; i < it.num_inputs(); ++i) FillRandom(it.input(i), 1234 + i);
  }
  for (long long w = 0; w < warmup; ++w) {
    for (auto& it : its) {
      IdleFor(idle_ms);
      Status s = it->Invoke();
      if (!s.ok()) return Fail("bench", s.message());
    }
  }
  const bool tty = isatty(STDERR_FILENO) && !json;
  std::vector<OpTimes> op_times;
  if (opts.profile) {
    for (auto& it : its) op_times.emplace_back(*it);
  }
  std::vector<std::vector<double>> ms(k);
  std::vector<PoolCounts> pool(k);  // over the timed invokes
  std::vector<long long> invokes(k, warmup);
  long long rounds = 0;
  double timed_seconds = 0;
  const auto start = Clock::now();
  auto last_report = start;
  bool reported = false;
  while (rounds < runs || timed_seconds < min_seconds) {
    for (size_t q = 0; q < k; ++q) {
      const size_t i = (static_cast<size_t>(rounds) + q) % k;
      for (long long w = 0; w < settle; ++w) {
        Status s = its[i]->Invoke();
        if (!s.ok()) return Fail("bench", s.message());
      }
      if (opts.profile && settle > 0) op_times[i].Skip(*its[i]);
      IdleFor(idle_ms);
      const ThreadStats before = its[i]->thread_stats();
      const auto a = Clock::now();
      Status s = its[i]->Invoke();
      const auto b = Clock::now();
      if (!s.ok()) return Fail("bench", s.message());
      pool[i].Add(before, its[i]->thread_stats());
      invokes[i] += settle + 1;
      ms[i].push_back(std::chrono::duration<double, std::milli>(b - a).count());
      timed_seconds += ms[i].back() / 1e3;
      if (opts.profile) op_times[i].Record(*its[i]);
    }
    ++rounds;
    const auto now = Clock::now();
    if (tty && std::chrono::duration<double>(now - last_report).count() > 0.25 &&
        std::chrono::duration<double>(now - start).count() > 1.0) {
      std::fprintf(stderr, "\rbench: %lld rounds ...", rounds);
      last_report = now;
      reported = true;
    }
  }
  if (reported) std::fprintf(stderr, "\r%40s\r", "");
  JsonWriter j;
  j.BeginObject().Key("model").String(path).Key("threads").IntArray(counts);
  j.Key("load_ms").Double(load_ms);
  j.Key("rounds").Int(rounds).Key("warmup").Int(warmup).Key("idle_ms").Double(idle_ms);
  j.Key("settle").Int(settle);
  j.Key("results").BeginArray();
  if (!json) {
    std::printf(
        "model: %s\nthread counts compared in one process, one invoke each per round: %lld "
        "rounds\n",
        path.c_str(), rounds);
    if (idle_ms > 0) std::printf("idle before each invoke: %g ms\n", idle_ms);
    if (settle > 0) std::printf("untimed invokes right before each timed one: %lld\n", settle);
    std::printf("%7s %10s %9s %9s %9s %9s %10s %9s %13s\n", "threads", "median ms", "mean", "p90",
                "min", "max", "p90/median", "speedup", "rounds slower");
  }
  for (size_t i = 0; i < k; ++i) {
    const Latency l = Summarize(ms[i]);
    // Against the first count, round by round.
    std::vector<double> ratio(ms[i].size());
    long long slower = 0;
    for (size_t r = 0; r < ratio.size(); ++r) {
      ratio[r] = ms[0][r] / ms[i][r];
      slower += ratio[r] < 1.0;
    }
    const double speedup = Percentile(ratio, 0.5);
    j.BeginObject().Key("threads").Int(counts[i]);
    WriteLatency(j, l);
    j.Key("speedup").Double(speedup).Key("slower_rounds").Int(slower);
    j.Key("invokes").Int(invokes[i]).Key("prepare_ms").Double(prepare_ms[i]);
    const MemoryStats& mem = its[i]->memory();
    j.Key("memory").BeginObject().Key("arena_bytes").Int(static_cast<int64_t>(mem.arena_bytes));
    j.Key("prepared_bytes").Int(static_cast<int64_t>(mem.prepared_bytes)).EndObject();
    if (counts[i] > 1) WriteThreadPool(j, pool[i].sum);
    j.EndObject();
    if (!json) {
      std::printf("%7d %10.4f %9.4f %9.4f %9.4f %9.4f %10.2f %8.3fx %13lld\n", counts[i], l.median,
                  l.mean, l.p90, l.min, l.max, l.median > 0 ? l.p90 / l.median : 0, speedup,
                  i == 0 ? 0 : slower);
    }
  }
  j.EndArray();
  if (!json) {
    std::printf("speedup: the median over rounds of (first count's time / this count's time)\n");
    std::printf("load: %.3f ms; prepare per count:", load_ms);
    for (size_t i = 0; i < k; ++i) std::printf(" %.3f", prepare_ms[i]);
    std::printf(" ms; arena %zu bytes, prepared weights %zu bytes (first count)\n",
                its[0]->memory().arena_bytes, its[0]->memory().prepared_bytes);
    for (size_t i = 0; i < k; ++i) {
      if (counts[i] <= 1) continue;
      std::printf("%d threads: ", counts[i]);
      PrintThreadPool(pool[i].sum);
    }
  }
  if (opts.profile) PrintOpComparison(j, *its[0], counts, op_times, json);
  j.EndObject();
  if (json) std::printf("%s\n", j.str().c_str());
  return 0;
}

}  // namespace

int BenchMain(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) {
    std::printf(kHelp, kInputShapeHelp, kFloatPrecisionHelp);
    return 0;
  }
  std::string path;
  std::vector<int> thread_counts{1};
  long long warmup = 5, runs = 50, settle = 0;
  double min_seconds = 1.0, idle_ms = 0;
  size_t max_memory = InterpreterOptions{}.max_arena_bytes;
  bool profile = false, json = false, fuse = true;
  FloatPrecision precision = FloatPrecision::kFloat32;
  std::vector<std::vector<int32_t>> input_shapes;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto number = [&](double lo, double hi, double* out) {
      if (i + 1 >= argv.size()) return false;
      // Plain decimal numbers only: strtod alone also takes "", " 2", "0x3" and "inf".
      const std::string& text = argv[++i];
      if (text.empty() || text.find_first_not_of("0123456789.eE+-") != std::string::npos)
        return false;
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (*end != '\0' || !(v >= lo && v <= hi)) return false;
      *out = v;
      return true;
    };
    double v = 0;
    if (a == "--threads") {
      if (i + 1 >= argv.size() || !ParseThreadCounts(argv[++i], &thread_counts)) {
        return Fail("bench",
                    "--threads needs an integer in [1, 1024], or a comma-separated list of them");
      }
    } else if (a == "--max-memory") {
      if (i + 1 >= argv.size() || !ParseByteSize(argv[++i], &max_memory)) {
        return Fail("bench", "--max-memory needs a size such as 512M or 4G (0: no limit)");
      }
    } else if (a == "--warmup") {
      if (!number(0, 1e9, &v) || v != std::floor(v)) return Fail("bench", "--warmup needs a non-negative integer");
      warmup = static_cast<long long>(v);
    } else if (a == "--runs") {
      if (!number(1, 1e9, &v) || v != std::floor(v)) return Fail("bench", "--runs needs a positive integer");
      runs = static_cast<long long>(v);
    } else if (a == "--min-seconds") {
      if (!number(0, 1e6, &v)) return Fail("bench", "--min-seconds needs a non-negative number");
      min_seconds = v;
    } else if (a == "--idle-ms") {
      if (!number(0, 60'000, &v))
        return Fail("bench", "--idle-ms needs a number of milliseconds in [0, 60000]");
      idle_ms = v;
    } else if (a == "--settle") {
      if (!number(0, 1000, &v) || v != std::floor(v))
        return Fail("bench", "--settle needs an integer in [0, 1000]");
      settle = static_cast<long long>(v);
    } else if (a == "--profile") {
      profile = true;
    } else if (a == "--no-fuse") {
      fuse = false;
    } else if (a == "--float-precision") {
      if (i + 1 >= argv.size() || !ParseFloatPrecision(argv[++i], &precision)) {
        return Fail("bench", "--float-precision needs f32, bf16 or f32-winograd");
      }
    } else if (a == "--input-shape") {
      std::vector<int32_t> shape;
      if (i + 1 >= argv.size() || !ParseShape(argv[++i], &shape)) {
        return Fail("bench", kInputShapeError);
      }
      input_shapes.push_back(std::move(shape));
    } else if (a == "--json") {
      json = true;
    } else if (a.starts_with("-")) {
      return Fail("bench", "unknown option '" + a + "' (see --help)");
    } else if (path.empty()) {
      path = a;
    } else {
      return Fail("bench", "more than one model given");
    }
  }
  if (path.empty()) return Fail("bench", "no model given (see --help)");
  if (settle > 0 && idle_ms > 0) {
    return Fail("bench",
                "--settle and --idle-ms contradict each other: --settle keeps the worker threads "
                "awake for the timed invoke, --idle-ms lets them fall asleep");
  }
  if (settle > 0 && thread_counts.size() < 2) {
    return Fail("bench", "--settle needs a list of thread counts (--threads A,B,...)");
  }

  auto t0 = Clock::now();
  auto model = Model::FromFile(path);
  if (!model.ok()) return Fail("bench", model.status().message());
  auto t1 = Clock::now();
  InterpreterOptions opts;
  opts.num_threads = thread_counts[0];
  opts.max_arena_bytes = max_memory;
  opts.profile = profile;
  opts.fuse_ops = fuse;
  opts.float_precision = precision;
  opts.input_shapes = input_shapes;
  if (thread_counts.size() > 1) {
    return BenchThreadCounts(path, *model, opts, thread_counts, warmup, runs, min_seconds, idle_ms,
                             settle, std::chrono::duration<double, std::milli>(t1 - t0).count(),
                             json);
  }
  auto created = Interpreter::Create(*model, opts);
  if (!created.ok()) return Fail("bench", path + ": " + created.status().message());
  auto t2 = Clock::now();
  Interpreter& it = **created;
  for (size_t i = 0; i < it.num_inputs(); ++i) FillRandom(it.input(i), 1234 + i);

  auto idle = [&] { IdleFor(idle_ms); };
  for (long long i = 0; i < warmup; ++i) {
    idle();
    Status s = it.Invoke();
    if (!s.ok()) return Fail("bench", s.message());
  }
  it.ResetProfile();
  const ThreadStats warm = it.thread_stats();
  const bool tty = isatty(STDERR_FILENO) && !json;
  std::vector<double> ms;
  // Process CPU time (all threads) over the timed invokes: what the work costs, which waiting for
  // a core on a busy machine does not inflate the way it inflates latency.
  auto cpu_seconds = [] {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  };
  const double cpu_start = cpu_seconds();
  auto start = Clock::now();
  auto last_report = start;
  bool reported = false;
  double timed_seconds = 0;
  while (static_cast<long long>(ms.size()) < runs || timed_seconds < min_seconds) {
    idle();
    auto a = Clock::now();
    Status s = it.Invoke();
    auto b = Clock::now();
    if (!s.ok()) return Fail("bench", s.message());
    ms.push_back(std::chrono::duration<double, std::milli>(b - a).count());
    timed_seconds += ms.back() / 1e3;
    if (tty && std::chrono::duration<double>(b - last_report).count() > 0.25 &&
        std::chrono::duration<double>(b - start).count() > 1.0) {
      std::fprintf(stderr, "\rbench: %zu runs, median %.3f ms ...", ms.size(), Percentile(ms, 0.5));
      last_report = b;
      reported = true;
    }
  }
  const double cpu_ms = (cpu_seconds() - cpu_start) * 1e3 / static_cast<double>(ms.size());
  if (reported) std::fprintf(stderr, "\r%60s\r", "");
  const Latency lat = Summarize(ms);
  // VmHWM is this process's own peak; ru_maxrss can report a larger parent's after exec.
  long peak_rss_kb = 0;
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof(line), f)) {
      if (std::sscanf(line, "VmHWM: %ld kB", &peak_rss_kb) == 1) break;
    }
    std::fclose(f);
  }
  if (peak_rss_kb == 0) {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    peak_rss_kb = ru.ru_maxrss;
  }
  double load_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  double prepare_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  const MemoryStats& mem = it.memory();

  JsonWriter j;
  j.BeginObject().Key("model").String(path).Key("threads").Int(it.num_threads());
  j.Key("float_precision")
      .String(precision == FloatPrecision::kBFloat16          ? "bf16"
              : precision == FloatPrecision::kFloat32Winograd ? "f32-winograd"
                                                              : "f32");
  j.Key("input_shapes").BeginArray();
  for (size_t i = 0; i < it.num_inputs(); ++i) j.IntArray(it.input_info(i).shape);
  j.EndArray();
  j.Key("load_ms").Double(load_ms).Key("prepare_ms").Double(prepare_ms);
  j.Key("runs")
      .Int(static_cast<int64_t>(ms.size()))
      .Key("warmup")
      .Int(warmup)
      .Key("idle_ms")
      .Double(idle_ms);
  WriteLatency(j, lat);
  j.Key("cpu_ms_per_invoke").Double(cpu_ms);
  j.Key("memory").BeginObject().Key("arena_bytes").Int(static_cast<int64_t>(mem.arena_bytes));
  j.Key("activation_bytes_sum").Int(static_cast<int64_t>(mem.activation_bytes_sum));
  j.Key("prepared_bytes").Int(static_cast<int64_t>(mem.prepared_bytes));
  j.Key("peak_rss_bytes").Int(static_cast<int64_t>(peak_rss_kb) * 1024).EndObject();
  PoolCounts pool;  // over the timed invokes
  pool.Add(warm, it.thread_stats());
  const ThreadStats& ts = pool.sum;
  if (it.num_threads() > 1) WriteThreadPool(j, ts);

  if (!json) {
    if (precision == FloatPrecision::kBFloat16) {
      std::printf("float precision: bf16 (on CPUs with AVX512-BF16; float32 elsewhere)\n");
    } else if (precision == FloatPrecision::kFloat32Winograd) {
      std::printf("float precision: f32-winograd (stride-2 stems on CPUs with AVX2 or AVX-512)\n");
    }
    std::printf("model: %s\nthreads: %d\nload: %.3f ms, prepare: %.3f ms\n", path.c_str(), it.num_threads(), load_ms,
                prepare_ms);
    if (idle_ms > 0) std::printf("idle before each invoke: %g ms\n", idle_ms);
    if (!opts.input_shapes.empty()) {
      for (size_t i = 0; i < it.num_inputs(); ++i) {
        std::printf("input %zu at shape %s (--input-shape)\n", i,
                    Shape(it.input_info(i).shape).c_str());
      }
    }
    std::printf(
        "invoke over %zu runs: median %.4f ms, mean %.4f, p90 %.4f, min %.4f, max %.4f, std %.4f\n",
        ms.size(), lat.median, lat.mean, lat.p90, lat.min, lat.max, lat.std);
    std::printf("CPU time per invoke (all threads): %.4f ms\n", cpu_ms);
    std::printf("memory: arena %zu bytes (activations laid end to end: %zu), prepared weights %zu bytes, peak RSS %.1f MiB\n",
                mem.arena_bytes, mem.activation_bytes_sum, mem.prepared_bytes, static_cast<double>(peak_rss_kb) / 1024.0);
    if (it.num_threads() > 1) PrintThreadPool(ts);
  }
  if (profile) {
    const auto& prof = it.op_profile();
    double total = 0;
    for (const OpProfile& p : prof) total += p.total_seconds;
    struct TypeSum {
      int count = 0;
      double seconds = 0;
      int64_t macs = 0;
    };
    std::map<std::string, TypeSum> by_type;
    j.Key("ops").BeginArray();
    if (!json) {
      std::printf("\n%-4s %-20s %-18s %10s %7s %12s %9s\n", "#", "op", "output", "ms/invoke", "share", "MACs", "GOPS");
    }
    for (const OpProfile& p : prof) {
      double per = p.invokes ? p.total_seconds / static_cast<double>(p.invokes) : 0;
      int64_t macs = p.binary_macs + p.float_macs + p.int8_macs;
      double gops = per > 0 ? 2.0 * static_cast<double>(macs) / per / 1e9 : 0;
      double share = total > 0 ? p.total_seconds / total : 0;
      if (p.fused_into >= 0) {
        // Its time is in the op it was fused into.
        if (!json) std::printf("%-4d %-20s fused into op %d\n", p.index, p.op.c_str(), p.fused_into);
        j.BeginObject().Key("index").Int(p.index).Key("op").String(p.op).Key("fused_into").Int(p.fused_into);
        j.EndObject();
        continue;
      }
      TypeSum& t = by_type[p.op];
      t.count++;
      t.seconds += per;
      t.macs += macs;
      if (!json) {
        std::printf("%-4d %-20s %-18s %10.4f %6.1f%% %12lld %9.1f\n", p.index, p.op.c_str(), Shape(p.output_shape).c_str(),
                    per * 1e3, share * 100, static_cast<long long>(macs), gops);
      }
      j.BeginObject().Key("index").Int(p.index).Key("op").String(p.op).Key("output_shape").IntArray(p.output_shape);
      j.Key("ms").Double(per * 1e3).Key("share").Double(share).Key("binary_macs").Int(p.binary_macs);
      j.Key("float_macs").Int(p.float_macs).Key("int8_macs").Int(p.int8_macs).Key("gops").Double(gops).EndObject();
    }
    j.EndArray().Key("op_types").BeginArray();
    std::vector<std::pair<std::string, TypeSum>> sorted(by_type.begin(), by_type.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    double per_total = 0;
    for (const auto& [name, t] : sorted) per_total += t.seconds;
    if (!json) std::printf("\n%-20s %5s %10s %7s %9s\n", "op type", "count", "ms/invoke", "share", "GOPS");
    for (const auto& [name, t] : sorted) {
      double gops = t.seconds > 0 ? 2.0 * static_cast<double>(t.macs) / t.seconds / 1e9 : 0;
      if (!json) {
        std::printf("%-20s %5d %10.4f %6.1f%% %9.1f\n", name.c_str(), t.count, t.seconds * 1e3,
                    per_total > 0 ? 100 * t.seconds / per_total : 0, gops);
      }
      j.BeginObject().Key("op").String(name).Key("count").Int(t.count).Key("ms").Double(t.seconds * 1e3);
      j.Key("share").Double(per_total > 0 ? t.seconds / per_total : 0).Key("gops").Double(gops).EndObject();
    }
    j.EndArray();
  }
  j.EndObject();
  if (json) std::printf("%s\n", j.str().c_str());
  return 0;
}

}  // namespace xbnn::tools

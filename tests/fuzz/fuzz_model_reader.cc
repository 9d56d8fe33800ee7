// libFuzzer target: any bytes must give a model or an error, never a crash or an OOB read.
// A model that reads must also write and read back to an equal graph.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "format/model_io.h"
#include "graph/cost.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copy into an aligned buffer, as the file loader does.
  std::vector<uint8_t> bytes(data, data + size);
  auto g = xbnn::format::ReadModel(bytes);
  if (!g.ok()) return 0;
  for (const auto& sg : g->subgraphs) {
    for (const auto& op : sg.operators) (void)xbnn::graph::EstimateOpCost(*g, sg, op);
    (void)xbnn::graph::NaiveActivationStats(*g, sg);
    (void)xbnn::graph::ParameterBytes(*g, sg);
  }
  auto written = xbnn::format::WriteModel(*g);
  if (!written.ok()) return 0;  // e.g. unmodeled options: refused, not lost
  auto again = xbnn::format::ReadModel(*written);
  std::string diff;
  if (!again.ok() || !xbnn::graph::GraphsEqual(*g, *again, &diff)) {
    std::fprintf(stderr, "round trip failed: %s\n", again.ok() ? ("graphs differ in " + diff).c_str() : again.status().message().c_str());
    std::abort();
  }
  return 0;
}

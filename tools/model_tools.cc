// `xbnn strip-dequantize` and `xbnn set-io-type`: model rewrites at the model boundary.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "cli.h"
#include "format/model_io.h"
#include "passes/io_passes.h"

namespace xbnn::tools {
namespace {

constexpr const char* kStripHelp =
    "usage: xbnn strip-dequantize IN.tflite OUT.tflite [--overwrite]\n\n"
    "Makes the model output bitpacked int32 words instead of +1/-1 floats (LCE's\n"
    "strip_lcedequantize_ops): in every subgraph, removes the DEQUANTIZE (int8 -> float32) ops\n"
    "that feed outputs, then the LceDequantize ops that feed outputs, and re-points the outputs and\n"
    "signatures to the int32 tensors. Bit i of word w is channel 32*w+i; bit 1 means -1. The\n"
    "unpacked channel counts are recorded in the metadata entry\n"
    "'xbnn_bitpacked_output_channels' (used by `xbnn run --unpack-bits`).\n\n"
    "options:\n"
    "  --overwrite  replace OUT if it exists (IN is never overwritten)\n"
    "  -h, --help   show this help\n";

constexpr const char* kIoHelp =
    "usage: xbnn set-io-type IN.tflite OUT.tflite [--input float32|int8] [--output float32|int8]\n"
    "                        [--overwrite]\n\n"
    "Lets an integer-quantized model take and/or give int8 directly (LCE's\n"
    "modify_integer_quantized_model_io_type): removes the QUANTIZE op after the float model input\n"
    "(--input int8) and/or the DEQUANTIZE op before the float model output (--output int8).\n"
    "float32 (the default) leaves that side as it is.\n\n"
    "options:\n"
    "  --input T    float32 or int8\n"
    "  --output T   float32 or int8\n"
    "  --overwrite  replace OUT if it exists (IN is never overwritten)\n"
    "  -h, --help   show this help\n";

struct Paths {
  std::string in, out;
  bool overwrite = false;
};

// Positional IN OUT plus --overwrite; the options in `valued` go to `rest` with their values.
int ParsePaths(const char* cmd, const std::vector<std::string>& args,
               std::initializer_list<std::string_view> valued, Paths* p,
               std::vector<std::string>* rest) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--overwrite") {
      p->overwrite = true;
    } else if (std::find(valued.begin(), valued.end(), std::string_view(a)) != valued.end()) {
      if (i + 1 >= args.size()) return Fail(cmd, a + " needs a value (see --help)");
      rest->push_back(a);
      rest->push_back(args[++i]);
    } else if (a.starts_with("-")) {
      return Fail(cmd, "unknown option '" + a + "' (see --help)");
    } else if (p->in.empty()) {
      p->in = a;
    } else if (p->out.empty()) {
      p->out = a;
    } else {
      return Fail(cmd, "unexpected argument '" + a + "' (see --help)");
    }
  }
  if (p->in.empty() || p->out.empty()) return Fail(cmd, "needs IN.tflite and OUT.tflite (see --help)");
  std::error_code ec;
  if (!std::filesystem::exists(p->in, ec))
    return Fail(cmd, "cannot open '" + p->in + "': no such file");
  if (std::filesystem::exists(p->out, ec)) {
    if (std::filesystem::equivalent(p->in, p->out, ec)) return Fail(cmd, "refusing to overwrite the input file '" + p->in + "'");
    if (!p->overwrite) return Fail(cmd, "'" + p->out + "' exists; pass --overwrite to replace it");
  }
  return 0;
}

int WriteGraph(const char* cmd, const graph::Graph& g, const std::string& out) {
  auto bytes = format::WriteModel(g);
  if (!bytes.ok()) return Fail(cmd, bytes.status().message());
  Status s = format::WriteFileBytes(out, *bytes);
  if (!s.ok()) return Fail(cmd, s.message());
  return 0;
}

Result<graph::DType> ParseIoType(const std::string& s) {
  if (s == "float32") return graph::DType::kFloat32;
  if (s == "int8") return graph::DType::kInt8;
  return Status::Error("type must be float32 or int8, got '" + s + "'");
}

}  // namespace

int StripDequantizeMain(const std::vector<std::string>& args) {
  const char* cmd = "strip-dequantize";
  if (WantsHelp(args)) {
    std::fputs(kStripHelp, stdout);
    return 0;
  }
  Paths p;
  std::vector<std::string> rest;
  if (int rc = ParsePaths(cmd, args, {}, &p, &rest)) return rc;
  auto model = format::LoadModelFile(p.in);
  if (!model.ok()) return Fail(cmd, model.status().message());
  passes::StripReport report;
  Status s = passes::StripLceDequantize(model->graph, &report);
  if (!s.ok()) return Fail(cmd, p.in + ": " + s.message());
  if (report.removed_dequantize + report.removed_lce_dequantize == 0) {
    return Fail(cmd, p.in + ": " + passes::kNothingToStrip);
  }
  if (int rc = WriteGraph(cmd, model->graph, p.out)) return rc;
  std::printf("removed %d DEQUANTIZE and %d LceDequantize op(s); wrote %s\n", report.removed_dequantize,
              report.removed_lce_dequantize, p.out.c_str());
  for (const auto& [name, channels] : report.bitpacked_outputs) {
    std::printf("  bitpacked output '%s': %d channels in %d int32 word(s)\n", name.c_str(), channels, (channels + 31) / 32);
  }
  return 0;
}

int SetIoTypeMain(const std::vector<std::string>& args) {
  const char* cmd = "set-io-type";
  if (WantsHelp(args)) {
    std::fputs(kIoHelp, stdout);
    return 0;
  }
  Paths p;
  std::vector<std::string> rest;
  if (int rc = ParsePaths(cmd, args, {"--input", "--output"}, &p, &rest)) return rc;
  graph::DType in = graph::DType::kFloat32, out = graph::DType::kFloat32;
  for (size_t i = 0; i + 1 < rest.size(); i += 2) {
    auto t = ParseIoType(rest[i + 1]);
    if (!t.ok()) return Fail(cmd, rest[i] + ": " + t.status().message());
    (rest[i] == "--input" ? in : out) = *t;
  }
  if (in == graph::DType::kFloat32 && out == graph::DType::kFloat32) {
    return Fail(cmd, "nothing to do: pass --input int8 and/or --output int8");
  }
  auto model = format::LoadModelFile(p.in);
  if (!model.ok()) return Fail(cmd, model.status().message());
  Status s = passes::SetIoTypes(model->graph, in, out);
  if (!s.ok()) return Fail(cmd, p.in + ": " + s.message());
  if (int rc = WriteGraph(cmd, model->graph, p.out)) return rc;
  std::printf("wrote %s (input %s, output %s)\n", p.out.c_str(), graph::DTypeName(in), graph::DTypeName(out));
  return 0;
}

}  // namespace xbnn::tools

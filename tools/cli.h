// Shared command line plumbing: every subcommand is `int Main(args)` with its own --help.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "xbnn/interpreter.h"

namespace xbnn::tools {

struct Command {
  const char* name;
  const char* summary;
  int (*main)(const std::vector<std::string>& args);
};

int InspectMain(const std::vector<std::string>& args);
int RunMain(const std::vector<std::string>& args);
int BenchMain(const std::vector<std::string>& args);
int StripDequantizeMain(const std::vector<std::string>& args);
int SetIoTypeMain(const std::vector<std::string>& args);
int ConvertMain(const std::vector<std::string>& args);
int OpsMain(const std::vector<std::string>& args);
// ONNX import for `xbnn convert` (convert_onnx.cc). A file is ONNX by its content, or by the
// .onnx extension where its content is not TFLite's.
bool IsTfliteFile(const std::string& path);
bool IsOnnxFile(const std::string& path);
int ConvertOnnx(const std::string& in, const std::string& out, bool keep_nchw_input, bool verbose);

// Prints "xbnn <cmd>: error: <message>" to stderr and returns the exit code 1.
int Fail(const std::string& command, const std::string& message);

bool WantsHelp(const std::vector<std::string>& args);

// A memory size for --max-memory: bytes, or a number with K, M or G (powers of 1024); 0 means no
// limit. False when the text is not such a size.
bool ParseByteSize(const std::string& text, size_t* bytes);

// --input-shape: dimensions joined by 'x' ("1x320x320x3"), each in [1, 2^31). False otherwise.
bool ParseShape(const std::string& text, std::vector<int32_t>* shape);
inline constexpr const char* kInputShapeError =
    "--input-shape needs positive dimensions joined by 'x', such as 1x224x224x3";
// The help line of --input-shape, shared by run and bench.
inline constexpr const char* kInputShapeHelp =
    "  --input-shape S   run the model at input shape S instead of the file's, e.g. 1x320x320x3\n"
    "                    (another batch, or another height and width where the model's ops\n"
    "                    allow it); repeat for the next model input, in order\n";

// --float-precision: "f32", "bf16" or "f32-winograd". False for anything else.
bool ParseFloatPrecision(const std::string& text, FloatPrecision* precision);
// The help line of --float-precision, shared by run and bench.
inline constexpr const char* kFloatPrecisionHelp =
    "  --float-precision P\n"
    "                    f32 (default: LCE's arithmetic) or bf16: on CPUs with AVX512-BF16 the\n"
    "                    7x7 stems and 1x1 convolutions multiply in bfloat16 (faster; outputs\n"
    "                    differ slightly from LCE's), or f32-winograd: on CPUs with AVX2 or AVX-512\n"
    "                    the 7x7 stride-2 stems run as Winograd convolutions in float32\n"
    "                    (faster; outputs differ slightly from LCE's)\n";

}  // namespace xbnn::tools

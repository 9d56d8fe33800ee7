// Shared command line plumbing: every subcommand is `int Main(args)` with its own --help.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

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

// Prints "xbnn <cmd>: error: <message>" to stderr and returns the exit code 1.
int Fail(const std::string& command, const std::string& message);

bool WantsHelp(const std::vector<std::string>& args);

// A memory size for --max-memory: bytes, or a number with K, M or G (powers of 1024); 0 means no
// limit. False when the text is not such a size.
bool ParseByteSize(const std::string& text, size_t* bytes);

}  // namespace xbnn::tools

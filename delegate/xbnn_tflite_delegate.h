// xbnn as a TensorFlow Lite delegate: runs Larq Compute Engine models (and the rest of the graph
// that xbnn supports) inside a stock TFLite or LiteRT interpreter.
//
// Two ways in:
//  - as an external delegate (no linking): TFLite's `load_delegate(path, options)` in Python,
//    `--external_delegate_path` in TFLite's tools, or dlopen + tflite_plugin_create_delegate;
//  - linked into a C/C++ app: xbnn::tflite::CreateDelegate below.
//
// Options (key=value strings):
//   claim=all|lce            all (default): every node xbnn supports; lce: only the Lce* ops
//   num_threads=N            xbnn's threads (N >= 1); default: the interpreter's thread count
//   use_reference_kernels=0|1  the plain reference kernels (slow; for checking)
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct TfLiteDelegate;

#define XBNN_TFLITE_EXPORT __attribute__((visibility("default")))

// The external-delegate entry points TFLite looks up. Returns null after passing a message to
// `report_error` (may be null: then stderr) when an option is unknown or has a bad value.
XBNN_TFLITE_EXPORT struct TfLiteDelegate* tflite_plugin_create_delegate(
    char** options_keys, char** options_values, size_t num_options,
    void (*report_error)(const char*));
XBNN_TFLITE_EXPORT void tflite_plugin_destroy_delegate(struct TfLiteDelegate* delegate);

// What the delegate took over in the interpreter it was last applied to: the number of TFLite
// nodes xbnn runs, and the number of xbnn partitions (kernels) they form. -1 for a delegate that
// is not an xbnn delegate.
XBNN_TFLITE_EXPORT int xbnn_tflite_delegate_claimed_nodes(const struct TfLiteDelegate* delegate);
XBNN_TFLITE_EXPORT int xbnn_tflite_delegate_partitions(const struct TfLiteDelegate* delegate);

#ifdef __cplusplus
}  // extern "C"

#include <memory>
#include <string>

namespace xbnn::tflite {

struct DelegateOptions {
  bool claim_all = true;  // false: only the Lce* ops
  int num_threads = 0;    // 0: the interpreter's thread count
  bool use_reference_kernels = false;
};

using DelegatePtr = std::unique_ptr<TfLiteDelegate, void (*)(TfLiteDelegate*)>;

// A delegate for TfLiteInterpreterOptionsAddDelegate / InterpreterBuilder::AddDelegate; it must
// outlive the interpreters it is added to. Null with `error` set for bad options.
XBNN_TFLITE_EXPORT DelegatePtr CreateDelegate(const DelegateOptions& options, std::string* error);

}  // namespace xbnn::tflite
#endif

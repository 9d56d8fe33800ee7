// An app on TensorFlow Lite's C API that runs an LCE model with xbnn as its delegate.
//
//   c_api_app model.tflite
//
// Build against TFLite's C library (libtensorflowlite_c, built from TensorFlow's sources) and
// xbnn's delegate library:
//   g++ -std=c++20 c_api_app.cc -I<tflite headers> -I<xbnn>/delegate \
//       -ltensorflowlite_c -L<xbnn build>/delegate -lxbnn_tflite_delegate
#include <cstdio>
#include <string>
#include <vector>

#include "tensorflow/lite/core/c/c_api.h"
#include "xbnn_tflite_delegate.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s model.tflite\n", argv[0]);
    return 2;
  }
  TfLiteModel* model = TfLiteModelCreateFromFile(argv[1]);
  if (!model) return 1;

  std::string error;
  xbnn::tflite::DelegateOptions options;  // claim_all = true: the whole LCE model on xbnn
  xbnn::tflite::DelegatePtr delegate = xbnn::tflite::CreateDelegate(options, &error);
  if (!delegate) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }

  TfLiteInterpreterOptions* interpreter_options = TfLiteInterpreterOptionsCreate();
  TfLiteInterpreterOptionsSetNumThreads(interpreter_options, 2);  // xbnn uses the same count
  TfLiteInterpreterOptionsAddDelegate(interpreter_options, delegate.get());
  TfLiteInterpreter* interpreter = TfLiteInterpreterCreate(model, interpreter_options);
  int status = 1;
  if (interpreter && TfLiteInterpreterAllocateTensors(interpreter) == kTfLiteOk) {
    TfLiteTensor* input = TfLiteInterpreterGetInputTensor(interpreter, 0);
    std::vector<float> x(TfLiteTensorByteSize(input) / sizeof(float), 0.5f);
    TfLiteTensorCopyFromBuffer(input, x.data(), x.size() * sizeof(float));
    if (TfLiteInterpreterInvoke(interpreter) == kTfLiteOk) {
      const TfLiteTensor* output = TfLiteInterpreterGetOutputTensor(interpreter, 0);
      std::vector<float> y(TfLiteTensorByteSize(output) / sizeof(float));
      TfLiteTensorCopyToBuffer(output, y.data(), y.size() * sizeof(float));
      size_t best = 0;
      for (size_t i = 1; i < y.size(); ++i) best = y[i] > y[best] ? i : best;
      std::printf("%zu outputs, argmax %zu\n", y.size(), best);
      status = 0;
    }
  }
  // The interpreter before the delegate it uses.
  TfLiteInterpreterDelete(interpreter);
  TfLiteInterpreterOptionsDelete(interpreter_options);
  TfLiteModelDelete(model);
  return status;
}

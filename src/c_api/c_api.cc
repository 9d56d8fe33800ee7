// The C API: thin wrappers that turn xbnn::Status into status codes + caller-owned messages and
// catch every C++ exception at the boundary.
#include "xbnn/c_api.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "xbnn/interpreter.h"
#include "xbnn/model.h"
#include "xbnn/status.h"
#include "xbnn/tensor.h"
#include "xbnn/version.h"

struct xbnn_model {
  std::shared_ptr<const xbnn::Model> model;
};

struct xbnn_interpreter_options {
  xbnn::InterpreterOptions options;
};

struct xbnn_tensor {
  xbnn::TensorView view;
  bool writable;
};

struct xbnn_interpreter {
  std::unique_ptr<xbnn::Interpreter> interpreter;
  std::vector<xbnn_tensor> inputs, outputs;
};

namespace {

// A malloc'ed message, a + b, so that C callers free it without knowing about C++ allocators;
// NULL when even that allocation fails. Nothing here throws.
char* CopyMessage(const char* a, const char* b = "") noexcept {
  const size_t na = std::strlen(a), nb = std::strlen(b);
  char* p = static_cast<char*>(std::malloc(na + nb + 1));
  if (p) {
    std::memcpy(p, a, na);
    std::memcpy(p + na, b, nb + 1);
  }
  return p;
}

xbnn_status Fail(char** error, const char* message) noexcept {
  if (error) *error = CopyMessage(message);
  return XBNN_ERROR;
}
// (Building `message` may throw std::bad_alloc: callers are inside Guard.)
xbnn_status Fail(char** error, const std::string& message) noexcept {
  return Fail(error, message.c_str());
}

xbnn_status Succeed(char** error) {
  if (error) *error = nullptr;
  return XBNN_OK;
}

xbnn_status FromStatus(const xbnn::Status& s, char** error) {
  return s.ok() ? Succeed(error) : Fail(error, s.message());
}

// Runs `f`, turning any escaping exception into an error status (the messages of the handlers
// allocate nothing that can throw). Every function that returns a status runs its body in here,
// since building an error message can throw std::bad_alloc too.
template <typename F>
xbnn_status Guard(char** error, F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return Fail(error, "out of memory");
  } catch (const std::exception& e) {
    if (error) *error = CopyMessage("internal error: ", e.what());
    return XBNN_ERROR;
  } catch (...) {
    return Fail(error, "internal error");
  }
}

xbnn_status TakeModel(xbnn::Result<std::shared_ptr<const xbnn::Model>> r, xbnn_model** model,
                      char** error) {
  if (!r.ok()) return Fail(error, r.status().message());
  *model = new xbnn_model{std::move(r).value()};
  return Succeed(error);
}

}  // namespace

extern "C" {

const char* xbnn_version(void) { return XBNN_VERSION_STRING; }

void xbnn_error_free(char* error) { std::free(error); }

const char* xbnn_dtype_name(xbnn_dtype type) {
  // Read as an integer: a C caller may pass any int, which in C++ need not be a valid value of
  // the enum type (loading it as the enum is undefined).
  std::underlying_type_t<xbnn_dtype> value;
  static_assert(sizeof value == sizeof type);
  std::memcpy(&value, &type, sizeof value);
  switch (value) {
    case XBNN_FLOAT32:
    case XBNN_INT32:
    case XBNN_UINT8:
    case XBNN_INT64:
    case XBNN_BOOL:
    case XBNN_INT16:
    case XBNN_INT8:
      return xbnn::DataTypeName(static_cast<xbnn::DataType>(type));
    default:
      return "unknown";
  }
}

xbnn_status xbnn_model_create_from_file(const char* path, xbnn_model** model, char** error) {
  if (!model) return Fail(error, "xbnn_model_create_from_file: model must not be NULL");
  *model = nullptr;
  if (!path) return Fail(error, "xbnn_model_create_from_file: path is NULL");
  return Guard(error, [&] { return TakeModel(xbnn::Model::FromFile(path), model, error); });
}

xbnn_status xbnn_model_create_from_bytes(const void* data, size_t size, xbnn_model** model,
                                         char** error) {
  if (!model) return Fail(error, "xbnn_model_create_from_bytes: model must not be NULL");
  *model = nullptr;
  if (!data && size) return Fail(error, "xbnn_model_create_from_bytes: data is NULL");
  return Guard(error, [&] {
    const auto* p = static_cast<const uint8_t*>(data);
    return TakeModel(xbnn::Model::FromBuffer(std::vector<uint8_t>(p, p + size)), model, error);
  });
}

void xbnn_model_delete(xbnn_model* model) { delete model; }

xbnn_interpreter_options* xbnn_interpreter_options_create(void) {
  return new (std::nothrow) xbnn_interpreter_options();
}

void xbnn_interpreter_options_delete(xbnn_interpreter_options* options) { delete options; }

xbnn_status xbnn_interpreter_options_set_num_threads(xbnn_interpreter_options* options,
                                                     int32_t num_threads, char** error) {
  if (!options) return Fail(error, "xbnn_interpreter_options_set_num_threads: options is NULL");
  return Guard(error, [&] {
    if (num_threads < 1 || num_threads > 1024) {
      return Fail(error, "num_threads must be in [1, 1024], got " + std::to_string(num_threads));
    }
    options->options.num_threads = num_threads;
    return Succeed(error);
  });
}

void xbnn_interpreter_options_set_use_reference_kernels(xbnn_interpreter_options* options,
                                                        int32_t enable) {
  if (options) options->options.use_reference_kernels = enable != 0;
}

void xbnn_interpreter_options_set_max_arena_bytes(xbnn_interpreter_options* options,
                                                  uint64_t bytes) {
  // Saturated where size_t has 32 bits: 4 GiB must not wrap around to 0 (no limit).
  if (options) {
    options->options.max_arena_bytes = bytes > SIZE_MAX ? SIZE_MAX : static_cast<size_t>(bytes);
  }
}

xbnn_status xbnn_interpreter_options_set_float_precision(xbnn_interpreter_options* options,
                                                         int32_t precision, char** error) {
  if (!options) return Fail(error, "xbnn_interpreter_options_set_float_precision: options is NULL");
  return Guard(error, [&] {
    if (precision == XBNN_PRECISION_F32) {
      options->options.float_precision = xbnn::FloatPrecision::kFloat32;
    } else if (precision == XBNN_PRECISION_BF16) {
      options->options.float_precision = xbnn::FloatPrecision::kBFloat16;
    } else if (precision == XBNN_PRECISION_F32_WINOGRAD) {
      options->options.float_precision = xbnn::FloatPrecision::kFloat32Winograd;
    } else {
      return Fail(error, "xbnn_interpreter_options_set_float_precision: unknown precision " +
                             std::to_string(precision) +
                             " (XBNN_PRECISION_F32, XBNN_PRECISION_BF16 or "
                             "XBNN_PRECISION_F32_WINOGRAD)");
    }
    return Succeed(error);
  });
}

xbnn_status xbnn_interpreter_options_set_input_shape(xbnn_interpreter_options* options,
                                                     int32_t input_index, const int32_t* dims,
                                                     int32_t num_dims, char** error) {
  constexpr const char* kWhere = "xbnn_interpreter_options_set_input_shape: ";
  if (!options) return Fail(error, std::string(kWhere) + "options is NULL");
  return Guard(error, [&] {
    if (input_index < 0 || input_index >= 1024) {
      return Fail(error, kWhere + std::string("input_index must be in [0, 1024), got ") +
                             std::to_string(input_index));
    }
    if (num_dims < 1 || num_dims > 8) {
      return Fail(error, kWhere + std::string("num_dims must be in [1, 8], got ") +
                             std::to_string(num_dims));
    }
    if (!dims) return Fail(error, std::string(kWhere) + "dims is NULL");
    for (int32_t i = 0; i < num_dims; ++i) {
      if (dims[i] < 1) {
        return Fail(error, kWhere + std::string("dimension ") + std::to_string(i) + " is " +
                               std::to_string(dims[i]) + ", every dimension must be positive");
      }
    }
    auto& shapes = options->options.input_shapes;
    if (shapes.size() <= static_cast<size_t>(input_index))
      shapes.resize(static_cast<size_t>(input_index) + 1);
    shapes[static_cast<size_t>(input_index)].assign(dims, dims + num_dims);
    return Succeed(error);
  });
}

xbnn_status xbnn_interpreter_create(const xbnn_model* model,
                                    const xbnn_interpreter_options* options,
                                    xbnn_interpreter** interpreter, char** error) {
  if (!interpreter) return Fail(error, "xbnn_interpreter_create: interpreter must not be NULL");
  *interpreter = nullptr;
  if (!model) return Fail(error, "xbnn_interpreter_create: model is NULL");
  return Guard(error, [&] {
    auto r = xbnn::Interpreter::Create(model->model,
                                       options ? options->options : xbnn::InterpreterOptions{});
    if (!r.ok()) return Fail(error, r.status().message());
    auto h = std::make_unique<xbnn_interpreter>();
    h->interpreter = std::move(r).value();
    xbnn::Interpreter& in = *h->interpreter;
    for (size_t i = 0; i < in.num_inputs(); ++i) h->inputs.push_back({in.input(i), true});
    for (size_t i = 0; i < in.num_outputs(); ++i) h->outputs.push_back({in.output(i), false});
    *interpreter = h.release();
    return Succeed(error);
  });
}

void xbnn_interpreter_delete(xbnn_interpreter* interpreter) { delete interpreter; }

int32_t xbnn_interpreter_input_count(const xbnn_interpreter* interpreter) {
  return interpreter ? static_cast<int32_t>(interpreter->inputs.size()) : 0;
}

int32_t xbnn_interpreter_output_count(const xbnn_interpreter* interpreter) {
  return interpreter ? static_cast<int32_t>(interpreter->outputs.size()) : 0;
}

xbnn_tensor* xbnn_interpreter_input(xbnn_interpreter* interpreter, int32_t index) {
  if (!interpreter || index < 0 || static_cast<size_t>(index) >= interpreter->inputs.size()) {
    return nullptr;
  }
  return &interpreter->inputs[static_cast<size_t>(index)];
}

const xbnn_tensor* xbnn_interpreter_output(const xbnn_interpreter* interpreter, int32_t index) {
  if (!interpreter || index < 0 || static_cast<size_t>(index) >= interpreter->outputs.size()) {
    return nullptr;
  }
  return &interpreter->outputs[static_cast<size_t>(index)];
}

xbnn_status xbnn_interpreter_invoke(xbnn_interpreter* interpreter, char** error) {
  if (!interpreter) return Fail(error, "xbnn_interpreter_invoke: interpreter is NULL");
  return Guard(error, [&] { return FromStatus(interpreter->interpreter->Invoke(), error); });
}

const char* xbnn_tensor_name(const xbnn_tensor* tensor) {
  return tensor ? tensor->view.info().name.c_str() : "";
}

xbnn_dtype xbnn_tensor_type(const xbnn_tensor* tensor) {
  return tensor ? static_cast<xbnn_dtype>(tensor->view.type()) : XBNN_OTHER;
}

int32_t xbnn_tensor_num_dims(const xbnn_tensor* tensor) {
  return tensor ? static_cast<int32_t>(tensor->view.shape().size()) : 0;
}

int32_t xbnn_tensor_dim(const xbnn_tensor* tensor, int32_t dim_index) {
  if (!tensor || dim_index < 0 || static_cast<size_t>(dim_index) >= tensor->view.shape().size()) {
    return -1;
  }
  return tensor->view.shape()[static_cast<size_t>(dim_index)];
}

size_t xbnn_tensor_byte_size(const xbnn_tensor* tensor) {
  return tensor ? tensor->view.bytes() : 0;
}

int32_t xbnn_tensor_quantization(const xbnn_tensor* tensor, float* scale, int64_t* zero_point) {
  if (!tensor || tensor->view.info().scale.empty()) return 0;
  const xbnn::TensorInfo& info = tensor->view.info();
  if (scale) *scale = info.scale[0];
  if (zero_point) *zero_point = info.zero_point.empty() ? 0 : info.zero_point[0];
  return 1;
}

int32_t xbnn_tensor_is_bitpacked(const xbnn_tensor* tensor) {
  return tensor && tensor->view.info().bitpacked ? 1 : 0;
}

int32_t xbnn_tensor_channels(const xbnn_tensor* tensor) {
  return tensor ? tensor->view.info().channels : 0;
}

xbnn_status xbnn_tensor_copy_from_buffer(xbnn_tensor* tensor, const void* data, size_t size,
                                         char** error) {
  if (!tensor) return Fail(error, "xbnn_tensor_copy_from_buffer: tensor is NULL");
  return Guard(error, [&] {
    if (!tensor->writable) {
      return Fail(error,
                  "tensor '" + tensor->view.info().name + "' is an output: it cannot be written");
    }
    if (size != tensor->view.bytes()) {
      return Fail(error, "tensor '" + tensor->view.info().name + "' holds " +
                             std::to_string(tensor->view.bytes()) + " bytes, got " +
                             std::to_string(size));
    }
    if (!data && size) return Fail(error, "xbnn_tensor_copy_from_buffer: data is NULL");
    if (size) std::memcpy(tensor->view.raw(), data, size);
    return Succeed(error);
  });
}

xbnn_status xbnn_tensor_copy_to_buffer(const xbnn_tensor* tensor, void* data, size_t size,
                                       char** error) {
  if (!tensor) return Fail(error, "xbnn_tensor_copy_to_buffer: tensor is NULL");
  return Guard(error, [&] {
    if (size != tensor->view.bytes()) {
      return Fail(error, "tensor '" + tensor->view.info().name + "' holds " +
                             std::to_string(tensor->view.bytes()) + " bytes, the buffer " +
                             std::to_string(size));
    }
    if (!data && size) return Fail(error, "xbnn_tensor_copy_to_buffer: data is NULL");
    if (size) std::memcpy(data, tensor->view.raw(), size);
    return Succeed(error);
  });
}

const void* xbnn_tensor_data(const xbnn_tensor* tensor) {
  return tensor ? tensor->view.raw() : nullptr;
}

}  // extern "C"

/* xbnn C API: a stable C surface over the C++ engine, for other languages and for apps that
 * cannot use C++ across a library boundary.
 *
 * Conventions:
 *  - Every object is an opaque handle created by an xbnn_*_create* call and released by the
 *    matching xbnn_*_delete call (which accepts NULL).
 *  - Calls that can fail return an xbnn_status. On failure, when `error` is not NULL, *error is
 *    set to a message naming the problem, which the caller releases with xbnn_error_free()
 *    (NULL only when the process is out of memory even for the message).
 *    On success *error is set to NULL. No C++ exception ever crosses this API.
 *  - A model may be deleted while interpreters created from it live: they keep what they need.
 *  - One interpreter must not be used from two threads at once; distinct interpreters (also on
 *    one model) may run in parallel.
 */
#ifndef XBNN_C_API_H_
#define XBNN_C_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum xbnn_status {
  XBNN_OK = 0,
  XBNN_ERROR = 1, /* bad model, bad argument, failed invoke: see the message */
} xbnn_status;

/* Values match TFLite's TensorType (and xbnn::DataType). */
typedef enum xbnn_dtype {
  XBNN_FLOAT32 = 0,
  XBNN_INT32 = 2,
  XBNN_UINT8 = 3,
  XBNN_INT64 = 4,
  XBNN_BOOL = 6,
  XBNN_INT16 = 7,
  XBNN_INT8 = 9,
  XBNN_OTHER = 127,
} xbnn_dtype;

typedef struct xbnn_model xbnn_model;
typedef struct xbnn_interpreter_options xbnn_interpreter_options;
typedef struct xbnn_interpreter xbnn_interpreter;
typedef struct xbnn_tensor xbnn_tensor;

/* The library version, e.g. "0.1.0". */
const char* xbnn_version(void);
void xbnn_error_free(char* error);
/* "float32", "int8", ...; "unknown" for values outside the enum. */
const char* xbnn_dtype_name(xbnn_dtype type);

/* ---- Models: read and validated once, immutable. ---- */
xbnn_status xbnn_model_create_from_file(const char* path, xbnn_model** model, char** error);
/* Copies `size` bytes from `data`: the caller may free them afterwards. */
xbnn_status xbnn_model_create_from_bytes(const void* data, size_t size, xbnn_model** model,
                                         char** error);
void xbnn_model_delete(xbnn_model* model);

/* ---- Interpreter options: defaults are 1 thread, optimized kernels. ---- */
xbnn_interpreter_options* xbnn_interpreter_options_create(void);
void xbnn_interpreter_options_delete(xbnn_interpreter_options* options);
/* num_threads in [1, 1024]. */
xbnn_status xbnn_interpreter_options_set_num_threads(xbnn_interpreter_options* options,
                                                     int32_t num_threads, char** error);
/* Nonzero: run the LCE ops with the slow reference kernels (for checking). */
void xbnn_interpreter_options_set_use_reference_kernels(xbnn_interpreter_options* options,
                                                        int32_t enable);

/* Refuse, at creation, a model whose activation arena (plus what it computes at load time)
 * would exceed `bytes`; 0 means no limit. Default 4 GiB (2 GiB on 32-bit platforms). */
void xbnn_interpreter_options_set_max_arena_bytes(xbnn_interpreter_options* options,
                                                  uint64_t bytes);

/* The arithmetic of float convolutions: XBNN_PRECISION_F32 (default, LCE's),
 * XBNN_PRECISION_BF16 (opt-in: on CPUs with AVX512-BF16 the stems and 1x1 convolutions multiply
 * in bfloat16, faster, outputs differ slightly; float32 elsewhere) or XBNN_PRECISION_F32_WINOGRAD
 * (opt-in: float32 with the 7x7 stride-2 stems in the Winograd domain on AVX2 and AVX-512
 * CPUs, faster, outputs differ slightly). */
enum { XBNN_PRECISION_F32 = 0, XBNN_PRECISION_BF16 = 1, XBNN_PRECISION_F32_WINOGRAD = 2 };
xbnn_status xbnn_interpreter_options_set_float_precision(xbnn_interpreter_options* options,
                                                         int32_t precision, char** error);

/* Run model input `input_index` at shape dims[0..num_dims) instead of the file's (TFLite's
 * ResizeInputTensor): another batch, or another height and width where the model's ops allow it.
 * Inputs without a shape keep the file's. Checked here: index in [0, 1024), 1..8 dimensions, each
 * positive; against the model (rank, count, what its ops accept) by xbnn_interpreter_create. */
xbnn_status xbnn_interpreter_options_set_input_shape(xbnn_interpreter_options* options,
                                                     int32_t input_index, const int32_t* dims,
                                                     int32_t num_dims, char** error);

/* ---- Interpreters: plan memory and prepare every op at creation; invoke does not allocate
 * (with the optimized kernels, the default). Inputs hold unspecified values until written. */
/* `options` may be NULL for the defaults. */
xbnn_status xbnn_interpreter_create(const xbnn_model* model,
                                    const xbnn_interpreter_options* options,
                                    xbnn_interpreter** interpreter, char** error);
void xbnn_interpreter_delete(xbnn_interpreter* interpreter);
int32_t xbnn_interpreter_input_count(const xbnn_interpreter* interpreter);
int32_t xbnn_interpreter_output_count(const xbnn_interpreter* interpreter);
/* NULL when the index is out of range. Tensors live as long as their interpreter. */
xbnn_tensor* xbnn_interpreter_input(xbnn_interpreter* interpreter, int32_t index);
const xbnn_tensor* xbnn_interpreter_output(const xbnn_interpreter* interpreter, int32_t index);
xbnn_status xbnn_interpreter_invoke(xbnn_interpreter* interpreter, char** error);

/* ---- Tensors ---- */
const char* xbnn_tensor_name(const xbnn_tensor* tensor);
xbnn_dtype xbnn_tensor_type(const xbnn_tensor* tensor);
int32_t xbnn_tensor_num_dims(const xbnn_tensor* tensor);
/* -1 when dim_index is out of range. */
int32_t xbnn_tensor_dim(const xbnn_tensor* tensor, int32_t dim_index);
size_t xbnn_tensor_byte_size(const xbnn_tensor* tensor);
/* Per-tensor affine quantization: returns 1 and sets *scale / *zero_point when the tensor has
 * it (int8 tensors), 0 otherwise (either pointer may be NULL). */
int32_t xbnn_tensor_quantization(const xbnn_tensor* tensor, float* scale, int64_t* zero_point);
/* Bitpacked int32 tensors hold ceil(channels / 32) words in their last dimension; channels is
 * the unpacked count when known, else 0. */
int32_t xbnn_tensor_is_bitpacked(const xbnn_tensor* tensor);
int32_t xbnn_tensor_channels(const xbnn_tensor* tensor);
/* `size` must equal xbnn_tensor_byte_size(). */
xbnn_status xbnn_tensor_copy_from_buffer(xbnn_tensor* tensor, const void* data, size_t size,
                                         char** error);
xbnn_status xbnn_tensor_copy_to_buffer(const xbnn_tensor* tensor, void* data, size_t size,
                                       char** error);
/* Direct access to the tensor's memory (valid until the interpreter is deleted). */
const void* xbnn_tensor_data(const xbnn_tensor* tensor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* XBNN_C_API_H_ */

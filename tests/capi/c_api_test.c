/* The C API, exercised from C: every entry point, its error paths, and a model run whose outputs
 * are compared with the outputs recorded from LCE's interpreter.
 *
 * usage: c_api_test MODEL.tflite DATA_DIR
 *   DATA_DIR holds input_K.npy and output_K.npy (tests/capi/extract_npz.py writes them).
 * Built in-tree (ctest, and the ASan build) and against the installed library (tests/consumer).
 */
#include "xbnn/c_api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xbnn/version.h"

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    ++g_checks;                                                                \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                            \
    }                                                                          \
  } while (0)

/* Checks that a call failed with a message containing `needle`, and frees the message. */
static void expect_error(xbnn_status st, char* error, const char* needle, int line) {
  ++g_checks;
  if (st != XBNN_ERROR || error == NULL || strstr(error, needle) == NULL) {
    fprintf(stderr, "line %d: expected an error containing '%s', got status %d, message '%s'\n",
            line, needle, (int)st, error ? error : "(null)");
    ++g_failures;
  }
  xbnn_error_free(error);
}
#define EXPECT_ERROR(call, needle)             \
  do {                                         \
    char* err_ = NULL;                         \
    xbnn_status st_ = (call);                  \
    expect_error(st_, err_, needle, __LINE__); \
  } while (0)
/* `call` must use `err_` as its error argument. */

static void* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void* p = malloc(n > 0 ? (size_t)n : 1);
  if (p && n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
    free(p);
    p = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return p;
}

/* A .npy file (version 1 or 2, little-endian, C order): the data bytes and the dtype code. */
typedef struct npy_array {
  void* file;
  const unsigned char* data;
  size_t bytes;
  char descr[8];
} npy_array;

static int read_npy(const char* path, npy_array* a) {
  size_t size = 0;
  unsigned char* p = read_file(path, &size);
  memset(a, 0, sizeof *a);
  if (!p || size < 12 || memcmp(p, "\x93NUMPY", 6) != 0) {
    free(p);
    return 0;
  }
  size_t start = p[6] == 1 ? 10 : 12;
  size_t header = start + (p[6] == 1 ? (size_t)(p[8] | (p[9] << 8))
                                     : (size_t)(p[8] | (p[9] << 8) | (p[10] << 16)));
  if (header > size) {
    free(p);
    return 0;
  }
  /* The header text as a C string, so that the search cannot run past it. */
  char text[512] = {0};
  memcpy(text, p + start, header - start < sizeof text - 1 ? header - start : sizeof text - 1);
  const char* d = strstr(text, "'descr': '");
  if (!d) {
    free(p);
    return 0;
  }
  d += strlen("'descr': '");
  size_t k = 0;
  while (k + 1 < sizeof a->descr && d[k] != '\'') a->descr[k] = d[k], ++k;
  a->file = p;
  a->data = p + header;
  a->bytes = size - header;
  return 1;
}

static int dtype_matches(xbnn_dtype t, const char* descr) {
  switch (t) {
    case XBNN_FLOAT32:
      return strcmp(descr, "<f4") == 0;
    case XBNN_INT32:
      return strcmp(descr, "<i4") == 0;
    case XBNN_INT8:
      return strcmp(descr, "|i1") == 0;
    case XBNN_UINT8:
      return strcmp(descr, "|u1") == 0;
    default:
      return 0;
  }
}

/* Floats within 1e-4 of the expected output's range; everything else exact. */
static int outputs_match(xbnn_dtype t, const void* got, const void* want, size_t bytes) {
  if (t != XBNN_FLOAT32) return memcmp(got, want, bytes) == 0;
  const float* g = got;
  const float* w = want;
  size_t n = bytes / sizeof(float);
  float lo = w[0], hi = w[0];
  for (size_t i = 0; i < n; ++i) lo = w[i] < lo ? w[i] : lo, hi = w[i] > hi ? w[i] : hi;
  float tol = 1e-4f * (hi - lo > 1.0f ? hi - lo : 1.0f);
  for (size_t i = 0; i < n; ++i) {
    if (!(fabsf(g[i] - w[i]) <= tol)) {
      fprintf(stderr, "output element %zu: got %g, want %g (tolerance %g)\n", i, g[i], w[i], tol);
      return 0;
    }
  }
  return 1;
}

static void test_errors(void) {
  xbnn_model* model = (xbnn_model*)1;
  EXPECT_ERROR(xbnn_model_create_from_file("no/such/model.tflite", &model, &err_),
               "no/such/model.tflite");
  CHECK(model == NULL);
  EXPECT_ERROR(xbnn_model_create_from_file(NULL, &model, &err_), "NULL");
  const char garbage[64] = "this is not a flatbuffer";
  EXPECT_ERROR(xbnn_model_create_from_bytes(garbage, sizeof garbage, &model, &err_), "");
  CHECK(model == NULL);
  EXPECT_ERROR(xbnn_model_create_from_bytes(NULL, 10, &model, &err_), "NULL");

  xbnn_interpreter_options* opts = xbnn_interpreter_options_create();
  CHECK(opts != NULL);
  EXPECT_ERROR(xbnn_interpreter_options_set_num_threads(opts, 0, &err_), "num_threads");
  EXPECT_ERROR(xbnn_interpreter_options_set_num_threads(NULL, 2, &err_), "NULL");
  EXPECT_ERROR(xbnn_interpreter_options_set_float_precision(opts, 7, &err_),
               "unknown precision 7");
  EXPECT_ERROR(xbnn_interpreter_options_set_float_precision(NULL, XBNN_PRECISION_BF16, &err_),
               "NULL");
  /* Success sets *error to NULL whatever it held (a caller may reuse one variable). */
  char* ok_err = (char*)&ok_err;
  CHECK(xbnn_interpreter_options_set_float_precision(opts, XBNN_PRECISION_BF16, &ok_err) == XBNN_OK &&
        ok_err == NULL);
  ok_err = (char*)&ok_err;
  CHECK(xbnn_interpreter_options_set_num_threads(opts, 2, &ok_err) == XBNN_OK && ok_err == NULL);
  EXPECT_ERROR(xbnn_interpreter_options_set_num_threads(opts, 1025, &err_), "[1, 1024]");
  xbnn_interpreter* interp = (xbnn_interpreter*)1;
  EXPECT_ERROR(xbnn_interpreter_create(NULL, opts, &interp, &err_), "model is NULL");
  CHECK(interp == NULL);
  EXPECT_ERROR(xbnn_interpreter_invoke(NULL, &err_), "NULL");
  xbnn_interpreter_options_delete(opts);
}

/* A memory budget smaller than the model's arena is refused at creation, naming the size. */
static void test_memory_budget(const xbnn_model* model) {
  xbnn_interpreter_options* opts = xbnn_interpreter_options_create();
  xbnn_interpreter_options_set_max_arena_bytes(opts, 64);
  xbnn_interpreter* interp = (xbnn_interpreter*)1;
  EXPECT_ERROR(xbnn_interpreter_create(model, opts, &interp, &err_), "bytes");
  CHECK(interp == NULL);
  xbnn_interpreter_options_set_max_arena_bytes(opts, 0); /* no limit */
  char* err = NULL;
  CHECK(xbnn_interpreter_create(model, opts, &interp, &err) == XBNN_OK && err == NULL);
  xbnn_interpreter_delete(interp);
  xbnn_interpreter_options_delete(opts);
}

/* The bf16 and Winograd options: the interpreter is created and runs (its outputs are checked in
 * C++). */
static void test_float_precision(const xbnn_model* model) {
  const int32_t precisions[] = {XBNN_PRECISION_BF16, XBNN_PRECISION_F32_WINOGRAD};
  for (int i = 0; i < 2; ++i) {
    xbnn_interpreter_options* opts = xbnn_interpreter_options_create();
    char* err = NULL;
    CHECK(xbnn_interpreter_options_set_float_precision(opts, precisions[i], &err) == XBNN_OK);
    xbnn_interpreter* interp = NULL;
    CHECK(xbnn_interpreter_create(model, opts, &interp, &err) == XBNN_OK && err == NULL);
    CHECK(interp != NULL && xbnn_interpreter_invoke(interp, &err) == XBNN_OK && err == NULL);
    xbnn_interpreter_delete(interp);
    xbnn_interpreter_options_delete(opts);
  }
}

/* Input shapes: the model at batch 2 (its input's other dimensions kept), and bad shapes. */
static void test_input_shape(const xbnn_model* model) {
  char* err = NULL;
  xbnn_interpreter* plain = NULL;
  CHECK(xbnn_interpreter_create(model, NULL, &plain, &err) == XBNN_OK);
  if (!plain) return;
  const xbnn_tensor* in = xbnn_interpreter_input(plain, 0);
  int32_t dims[8];
  const int32_t rank = xbnn_tensor_num_dims(in);
  CHECK(rank >= 1 && rank <= 8);
  for (int32_t i = 0; i < rank && i < 8; ++i) dims[i] = xbnn_tensor_dim(in, i);
  const size_t one_bytes = xbnn_tensor_byte_size(in);
  const int32_t one_out = xbnn_tensor_dim(xbnn_interpreter_output(plain, 0), 0);
  xbnn_interpreter_delete(plain);

  xbnn_interpreter_options* opts = xbnn_interpreter_options_create();
  dims[0] *= 2;
  CHECK(xbnn_interpreter_options_set_input_shape(opts, 0, dims, rank, &err) == XBNN_OK &&
        err == NULL);
  xbnn_interpreter* two = NULL;
  CHECK(xbnn_interpreter_create(model, opts, &two, &err) == XBNN_OK && err == NULL);
  if (two) {
    CHECK(xbnn_tensor_dim(xbnn_interpreter_input(two, 0), 0) == dims[0]);
    CHECK(xbnn_tensor_byte_size(xbnn_interpreter_input(two, 0)) == 2 * one_bytes);
    CHECK(xbnn_tensor_dim(xbnn_interpreter_output(two, 0), 0) == 2 * one_out);
    CHECK(xbnn_interpreter_invoke(two, &err) == XBNN_OK);
  }
  xbnn_interpreter_delete(two);

  EXPECT_ERROR(xbnn_interpreter_options_set_input_shape(opts, -1, dims, rank, &err_),
               "input_index");
  EXPECT_ERROR(xbnn_interpreter_options_set_input_shape(opts, 0, dims, 0, &err_), "num_dims");
  EXPECT_ERROR(xbnn_interpreter_options_set_input_shape(opts, 0, dims, 9, &err_), "num_dims");
  EXPECT_ERROR(xbnn_interpreter_options_set_input_shape(opts, 0, NULL, rank, &err_),
               "dims is NULL");
  EXPECT_ERROR(xbnn_interpreter_options_set_input_shape(NULL, 0, dims, rank, &err_), "NULL");
  dims[0] = 0;
  EXPECT_ERROR(xbnn_interpreter_options_set_input_shape(opts, 0, dims, rank, &err_),
               "must be positive");
  dims[0] = 1;
  /* Checked against the model when the interpreter is created. */
  CHECK(xbnn_interpreter_options_set_input_shape(opts, 0, dims, rank > 1 ? rank - 1 : 2, &err) ==
        XBNN_OK);
  xbnn_interpreter* bad = (xbnn_interpreter*)1;
  EXPECT_ERROR(xbnn_interpreter_create(model, opts, &bad, &err_), "has rank");
  CHECK(bad == NULL);
  CHECK(xbnn_interpreter_options_set_input_shape(opts, 0, dims, rank, &err) == XBNN_OK);
  CHECK(xbnn_interpreter_options_set_input_shape(opts, 40, dims, rank, &err) == XBNN_OK);
  EXPECT_ERROR(xbnn_interpreter_create(model, opts, &bad, &err_), "gives 41 shapes");
  xbnn_interpreter_options_delete(opts);
}

static void test_null_handles(void) {
  /* NULL handles are tolerated by the accessors and the deleters. */
  CHECK(xbnn_interpreter_input_count(NULL) == 0);
  CHECK(xbnn_interpreter_input(NULL, 0) == NULL);
  CHECK(xbnn_tensor_num_dims(NULL) == 0);
  CHECK(xbnn_tensor_dim(NULL, 0) == -1);
  CHECK(xbnn_tensor_data(NULL) == NULL);
  xbnn_model_delete(NULL);
  xbnn_interpreter_delete(NULL);
  xbnn_interpreter_options_delete(NULL);
  xbnn_error_free(NULL);

  CHECK(strcmp(xbnn_version(), XBNN_VERSION_STRING) == 0);
  CHECK(strcmp(xbnn_dtype_name(XBNN_INT8), "int8") == 0);
  CHECK(strcmp(xbnn_dtype_name((xbnn_dtype)55), "unknown") == 0);
  /* Any int a C caller passes, also beyond the enumerators' range (UBSan checks this one). */
  CHECK(strcmp(xbnn_dtype_name((xbnn_dtype)1000), "unknown") == 0);
  CHECK(strcmp(xbnn_dtype_name((xbnn_dtype)-1), "unknown") == 0);
}

/* Runs `model` on DATA_DIR's inputs and compares with its outputs. */
static void run_and_compare(const xbnn_model* model, int threads, const char* dir) {
  char* err = NULL;
  xbnn_interpreter_options* opts = xbnn_interpreter_options_create();
  CHECK(xbnn_interpreter_options_set_num_threads(opts, threads, &err) == XBNN_OK && err == NULL);
  xbnn_interpreter* interp = NULL;
  xbnn_status st = xbnn_interpreter_create(model, opts, &interp, &err);
  xbnn_interpreter_options_delete(opts); /* the interpreter keeps what it needs */
  if (st != XBNN_OK) {
    fprintf(stderr, "xbnn_interpreter_create: %s\n", err);
    xbnn_error_free(err);
    ++g_failures;
    return;
  }
  char path[4096];
  int n_in = xbnn_interpreter_input_count(interp);
  int n_out = xbnn_interpreter_output_count(interp);
  CHECK(n_in >= 1 && n_out >= 1);
  CHECK(xbnn_interpreter_input(interp, n_in) == NULL);
  CHECK(xbnn_interpreter_output(interp, -1) == NULL);
  for (int i = 0; i < n_in; ++i) {
    xbnn_tensor* t = xbnn_interpreter_input(interp, i);
    snprintf(path, sizeof path, "%s/input_%d.npy", dir, i);
    npy_array a;
    if (!read_npy(path, &a)) {
      fprintf(stderr, "cannot read %s\n", path);
      ++g_failures;
      continue;
    }
    CHECK(a.bytes == xbnn_tensor_byte_size(t));
    CHECK(dtype_matches(xbnn_tensor_type(t), a.descr));
    CHECK(xbnn_tensor_num_dims(t) >= 1 && xbnn_tensor_dim(t, 0) >= 1);
    CHECK(xbnn_tensor_dim(t, xbnn_tensor_num_dims(t)) == -1);
    CHECK(xbnn_tensor_name(t)[0] != '\0');
    float scale = 0;
    int64_t zp = -1;
    if (xbnn_tensor_type(t) == XBNN_INT8) {
      CHECK(xbnn_tensor_quantization(t, &scale, &zp) == 1 && scale > 0);
    } else {
      CHECK(xbnn_tensor_quantization(t, &scale, &zp) == 0);
    }
    EXPECT_ERROR(xbnn_tensor_copy_from_buffer(t, a.data, a.bytes + 1, &err_), "bytes");
    CHECK(xbnn_tensor_copy_from_buffer(t, a.data, a.bytes, &err) == XBNN_OK);
    free(a.file);
  }
  EXPECT_ERROR(xbnn_tensor_copy_from_buffer((xbnn_tensor*)xbnn_interpreter_output(interp, 0), path,
                                            1, &err_),
               "output");
  st = xbnn_interpreter_invoke(interp, &err);
  if (st != XBNN_OK) fprintf(stderr, "xbnn_interpreter_invoke: %s\n", err);
  CHECK(st == XBNN_OK && err == NULL);
  xbnn_error_free(err);
  for (int i = 0; i < n_out; ++i) {
    const xbnn_tensor* t = xbnn_interpreter_output(interp, i);
    snprintf(path, sizeof path, "%s/output_%d.npy", dir, i);
    npy_array a;
    if (!read_npy(path, &a) || a.bytes != xbnn_tensor_byte_size(t)) {
      fprintf(stderr, "cannot read %s, or its size differs from the output's\n", path);
      ++g_failures;
      free(a.file);
      continue;
    }
    CHECK(dtype_matches(xbnn_tensor_type(t), a.descr));
    void* got = malloc(a.bytes);
    EXPECT_ERROR(xbnn_tensor_copy_to_buffer(t, got, a.bytes - 1, &err_), "bytes");
    CHECK(xbnn_tensor_copy_to_buffer(t, got, a.bytes, &err) == XBNN_OK);
    CHECK(outputs_match(xbnn_tensor_type(t), got, a.data, a.bytes));
    CHECK(memcmp(got, xbnn_tensor_data(t), a.bytes) == 0);
    free(got);
    free(a.file);
  }
  xbnn_interpreter_delete(interp);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.tflite DATA_DIR\n", argv[0]);
    return 2;
  }
  test_errors();
  test_null_handles();

  char* err = NULL;
  xbnn_model* model = NULL;
  if (xbnn_model_create_from_file(argv[1], &model, &err) != XBNN_OK) {
    fprintf(stderr, "xbnn_model_create_from_file: %s\n", err);
    xbnn_error_free(err);
    return 1;
  }
  CHECK(err == NULL);
  test_memory_budget(model);
  test_float_precision(model);
  test_input_shape(model);
  run_and_compare(model, 1, argv[2]);
  run_and_compare(model, 2, argv[2]);
  xbnn_model_delete(model);

  /* The same model from bytes that the caller frees right after creation. */
  size_t size = 0;
  void* bytes = read_file(argv[1], &size);
  CHECK(bytes != NULL);
  CHECK(xbnn_model_create_from_bytes(bytes, size, &model, &err) == XBNN_OK);
  free(bytes);
  /* An interpreter outlives the model handle it was made from. */
  xbnn_interpreter* keep = NULL;
  CHECK(xbnn_interpreter_create(model, NULL, &keep, &err) == XBNN_OK);
  run_and_compare(model, 1, argv[2]);
  xbnn_model_delete(model);
  CHECK(xbnn_interpreter_invoke(keep, &err) == XBNN_OK);
  xbnn_interpreter_delete(keep);

  printf("c_api_test: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}

// The part of XNNPACK's C API that xbnn's float CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED
// call, in portable C++. Linked instead of Debian's libXNNPACK when XBNN_XNNPACK is OFF: static
// builds (Debian ships XNNPACK only as a shared library) and CPUs XNNPACK does not support.
// Results equal XNNPACK's up to float summation order; speed is that of plain loops the compiler
// vectorizes over output channels.
#include <xnnpack.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <vector>

struct xnn_operator {
  // A grouped 2-D convolution; a fully connected operator is the 1x1 case on a 1x1 image.
  uint32_t pad_top = 0, pad_left = 0;
  uint32_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  uint32_t groups = 1;
  size_t group_in = 0, group_out = 0, in_stride = 0, out_stride = 0;
  uint32_t pad_h = 0, pad_w = 0;  // total padding (top + bottom, left + right)
  // Weights as [group][ky][kx][group_in][group_out], so the inner loop runs over output channels.
  std::vector<float> weights;
  std::vector<float> bias;  // [groups * group_out], zeros when absent
  float out_min = 0.0f, out_max = 0.0f;
  bool fully_connected = false;
  // From setup.
  size_t batch = 0, in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  const float* input = nullptr;
  float* output = nullptr;
};

namespace {

// One output row (image n, row oy): every column and output channel.
void ConvRow(const xnn_operator& op, size_t row, std::vector<float>& acc) {
  const size_t n = row / op.out_h, oy = row % op.out_h;
  const size_t channels = op.groups * op.group_out;
  for (size_t ox = 0; ox < op.out_w; ++ox) {
    std::copy(op.bias.begin(), op.bias.end(), acc.begin());
    for (uint32_t ky = 0; ky < op.kernel_h; ++ky) {
      const int64_t iy = static_cast<int64_t>(oy * op.stride_h + ky * op.dilation_h) - op.pad_top;
      if (iy < 0 || iy >= static_cast<int64_t>(op.in_h)) continue;
      for (uint32_t kx = 0; kx < op.kernel_w; ++kx) {
        const int64_t ix =
            static_cast<int64_t>(ox * op.stride_w + kx * op.dilation_w) - op.pad_left;
        if (ix < 0 || ix >= static_cast<int64_t>(op.in_w)) continue;
        const float* in = op.input + ((n * op.in_h + static_cast<size_t>(iy)) * op.in_w +
                                      static_cast<size_t>(ix)) *
                                         op.in_stride;
        for (uint32_t g = 0; g < op.groups; ++g) {
          const float* w =
              op.weights.data() + ((static_cast<size_t>(g) * op.kernel_h + ky) * op.kernel_w + kx) *
                                      op.group_in * op.group_out;
          float* a = acc.data() + g * op.group_out;
          const float* x = in + g * op.group_in;
          for (size_t ic = 0; ic < op.group_in; ++ic, w += op.group_out) {
            const float v = x[ic];
            for (size_t oc = 0; oc < op.group_out; ++oc) a[oc] += v * w[oc];
          }
        }
      }
    }
    float* out = op.output + ((n * op.out_h + oy) * op.out_w + ox) * op.out_stride;
    for (size_t c = 0; c < channels; ++c)
      out[c] = std::min(std::max(acc[c], op.out_min), op.out_max);
  }
}

void ConvRowTask(void* context, size_t row) {
  const auto* op = static_cast<const xnn_operator*>(context);
  std::vector<float> acc(op->groups * op->group_out);
  ConvRow(*op, row, acc);
}

bool ValidRange(float lo, float hi) { return !(lo != lo) && !(hi != hi) && lo <= hi; }

}  // namespace

extern "C" {

enum xnn_status xnn_initialize(const struct xnn_allocator* /*allocator*/) {
  return xnn_status_success;
}

enum xnn_status xnn_deinitialize(void) { return xnn_status_success; }

enum xnn_status xnn_create_convolution2d_nhwc_f32(
    uint32_t input_padding_top, uint32_t input_padding_right, uint32_t input_padding_bottom,
    uint32_t input_padding_left, uint32_t kernel_height, uint32_t kernel_width,
    uint32_t subsampling_height, uint32_t subsampling_width, uint32_t dilation_height,
    uint32_t dilation_width, uint32_t groups, size_t group_input_channels,
    size_t group_output_channels, size_t input_channel_stride, size_t output_channel_stride,
    const float* kernel, const float* bias, float output_min, float output_max, uint32_t flags,
    xnn_operator_t* convolution_op_out) {
  if (convolution_op_out == nullptr) return xnn_status_invalid_parameter;
  *convolution_op_out = nullptr;
  if (kernel == nullptr || kernel_height == 0 || kernel_width == 0 || subsampling_height == 0 ||
      subsampling_width == 0 || dilation_height == 0 || dilation_width == 0 || groups == 0 ||
      group_input_channels == 0 || group_output_channels == 0 ||
      input_channel_stride < groups * group_input_channels ||
      output_channel_stride < groups * group_output_channels ||
      !ValidRange(output_min, output_max)) {
    return xnn_status_invalid_parameter;
  }
  const bool depthwise = (flags & XNN_FLAG_DEPTHWISE_CONVOLUTION) != 0;
  if ((flags & ~static_cast<uint32_t>(XNN_FLAG_DEPTHWISE_CONVOLUTION)) != 0 ||
      (depthwise && group_input_channels != 1)) {
    return xnn_status_unsupported_parameter;
  }
  auto* op = new (std::nothrow) xnn_operator;
  if (op == nullptr) return xnn_status_out_of_memory;
  op->pad_top = input_padding_top;
  op->pad_left = input_padding_left;
  op->pad_h = input_padding_top + input_padding_bottom;
  op->pad_w = input_padding_left + input_padding_right;
  op->kernel_h = kernel_height;
  op->kernel_w = kernel_width;
  op->stride_h = subsampling_height;
  op->stride_w = subsampling_width;
  op->dilation_h = dilation_height;
  op->dilation_w = dilation_width;
  op->groups = groups;
  op->group_in = group_input_channels;
  op->group_out = group_output_channels;
  op->in_stride = input_channel_stride;
  op->out_stride = output_channel_stride;
  op->out_min = output_min;
  op->out_max = output_max;
  const size_t taps = static_cast<size_t>(kernel_height) * kernel_width;
  const size_t channels = groups * group_output_channels;
  try {
    op->weights.resize(taps * groups * group_input_channels * group_output_channels);
    op->bias.assign(channels, 0.0f);
  } catch (const std::bad_alloc&) {
    delete op;
    return xnn_status_out_of_memory;
  }
  if (bias != nullptr) std::copy(bias, bias + channels, op->bias.begin());
  for (size_t g = 0; g < groups; ++g) {
    for (size_t t = 0; t < taps; ++t) {
      for (size_t ic = 0; ic < group_input_channels; ++ic) {
        for (size_t oc = 0; oc < group_output_channels; ++oc) {
          const size_t c = g * group_output_channels + oc;
          // Depthwise: [1][KH][KW][channels]; otherwise [channels][KH][KW][group_in].
          const float w = depthwise ? kernel[t * channels + c]
                                    : kernel[(c * taps + t) * group_input_channels + ic];
          op->weights[((g * taps + t) * group_input_channels + ic) * group_output_channels + oc] =
              w;
        }
      }
    }
  }
  *convolution_op_out = op;
  return xnn_status_success;
}

enum xnn_status xnn_setup_convolution2d_nhwc_f32(xnn_operator_t op, size_t batch_size,
                                                 size_t input_height, size_t input_width,
                                                 const float* input, float* output,
                                                 pthreadpool_t /*threadpool*/) {
  if (op == nullptr || op->fully_connected) return xnn_status_invalid_parameter;
  if (input_height == 0 || input_width == 0 || input == nullptr || output == nullptr) {
    return xnn_status_invalid_parameter;
  }
  const size_t eff_h = (op->kernel_h - 1) * op->dilation_h + 1;
  const size_t eff_w = (op->kernel_w - 1) * op->dilation_w + 1;
  const size_t padded_h = input_height + op->pad_h, padded_w = input_width + op->pad_w;
  if (padded_h < eff_h || padded_w < eff_w) return xnn_status_invalid_parameter;
  op->batch = batch_size;
  op->in_h = input_height;
  op->in_w = input_width;
  op->out_h = (padded_h - eff_h) / op->stride_h + 1;
  op->out_w = (padded_w - eff_w) / op->stride_w + 1;
  op->input = input;
  op->output = output;
  return xnn_status_success;
}

enum xnn_status xnn_create_fully_connected_nc_f32(size_t input_channels, size_t output_channels,
                                                  size_t input_stride, size_t output_stride,
                                                  const float* kernel, const float* bias,
                                                  float output_min, float output_max,
                                                  uint32_t flags,
                                                  xnn_operator_t* fully_connected_op_out) {
  if (fully_connected_op_out == nullptr) return xnn_status_invalid_parameter;
  *fully_connected_op_out = nullptr;
  // Weights [output_channels][input_channels], i.e. a 1x1 convolution's.
  if ((flags & XNN_FLAG_TRANSPOSE_WEIGHTS) != 0) return xnn_status_unsupported_parameter;
  xnn_operator_t op = nullptr;
  const xnn_status s = xnn_create_convolution2d_nhwc_f32(
      0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, input_channels, output_channels, input_stride, output_stride,
      kernel, bias, output_min, output_max, flags, &op);
  if (s != xnn_status_success) return s;
  op->fully_connected = true;
  *fully_connected_op_out = op;
  return xnn_status_success;
}

enum xnn_status xnn_setup_fully_connected_nc_f32(xnn_operator_t op, size_t batch_size,
                                                 const float* input, float* output,
                                                 pthreadpool_t /*threadpool*/) {
  if (op == nullptr || !op->fully_connected || input == nullptr || output == nullptr) {
    return xnn_status_invalid_parameter;
  }
  op->batch = batch_size;
  op->in_h = op->in_w = op->out_h = op->out_w = 1;
  op->input = input;
  op->output = output;
  return xnn_status_success;
}

enum xnn_status xnn_run_operator(xnn_operator_t op, pthreadpool_t threadpool) {
  if (op == nullptr || op->input == nullptr) return xnn_status_invalid_state;
  const size_t rows = op->batch * op->out_h;
  if (threadpool == nullptr || rows <= 1) {
    std::vector<float> acc(op->groups * op->group_out);
    for (size_t r = 0; r < rows; ++r) ConvRow(*op, r, acc);
  } else {
    pthreadpool_parallelize_1d(threadpool, ConvRowTask, op, rows, 0);
  }
  return xnn_status_success;
}

enum xnn_status xnn_delete_operator(xnn_operator_t op) {
  delete op;
  return xnn_status_success;
}

}  // extern "C"

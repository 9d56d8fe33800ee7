#include "builtin/op_test_util.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "format/model_io.h"

namespace xbnn::testing {

OpModel::OpModel() {
  g_.buffers.push_back({});  // the empty sentinel buffer
  graph::Subgraph sg;
  sg.name = "main";
  g_.subgraphs.push_back(std::move(sg));
}

int OpModel::AddTensor(DType t, std::vector<int32_t> shape, uint32_t buffer, std::optional<Quant> q) {
  graph::Subgraph& sg = g_.subgraphs[0];
  graph::Tensor x;
  x.name = "t" + std::to_string(sg.tensors.size());
  x.type = t;
  x.shape = std::move(shape);
  x.buffer = buffer;
  if (q) {
    graph::Quantization qq;
    qq.scale = q->scale;
    qq.zero_point = q->zero_point;
    qq.quantized_dimension = q->dim;
    x.quantization = qq;
  }
  sg.tensors.push_back(std::move(x));
  return static_cast<int>(sg.tensors.size() - 1);
}

int OpModel::Input(DType t, std::vector<int32_t> shape, std::optional<Quant> q) {
  const int i = AddTensor(t, std::move(shape), 0, std::move(q));
  g_.subgraphs[0].inputs.push_back(i);
  return i;
}

int OpModel::Output(DType t, std::vector<int32_t> shape, std::optional<Quant> q) {
  const int i = AddTensor(t, std::move(shape), 0, std::move(q));
  g_.subgraphs[0].outputs.push_back(i);
  return i;
}

int OpModel::Temp(DType t, std::vector<int32_t> shape, std::optional<Quant> q) {
  return AddTensor(t, std::move(shape), 0, std::move(q));
}

int OpModel::ConstBytes(DType t, std::vector<int32_t> shape, std::vector<uint8_t> bytes, std::optional<Quant> q) {
  g_.buffers.push_back(graph::Buffer::Owned(std::move(bytes)));
  return AddTensor(t, std::move(shape), static_cast<uint32_t>(g_.buffers.size() - 1), std::move(q));
}

void OpModel::Op(int32_t code, std::vector<int32_t> inputs, std::vector<int32_t> outputs, uint8_t options_type,
                 std::vector<Field> fields, int version) {
  uint32_t index = 0;
  for (; index < g_.operator_codes.size(); ++index) {
    const graph::OperatorCode& c = g_.operator_codes[index];
    if (c.builtin == code && c.version == version) break;
  }
  if (index == g_.operator_codes.size()) g_.operator_codes.push_back({code, "", version});
  graph::Operator op;
  op.opcode_index = index;
  op.inputs = std::move(inputs);
  op.outputs = std::move(outputs);
  op.builtin_options.type = options_type;
  for (auto& [name, value] : fields) op.builtin_options.Set(name, value);
  g_.subgraphs[0].operators.push_back(std::move(op));
}

Status OpModel::Build(int threads) {
  auto bytes = format::WriteModel(g_);
  if (!bytes.ok()) return bytes.status();
  bytes_ = *bytes;
  auto model = Model::FromBuffer(bytes_);
  if (!model.ok()) return model.status();
  InterpreterOptions o;
  o.num_threads = threads;
  auto interp = Interpreter::Create(*model, o);
  if (!interp.ok()) return interp.status();
  interp_ = std::move(*interp);
  return Status::Ok();
}

Status OpModel::Invoke() {
  XBNN_RETURN_IF_ERROR(interp_->Invoke());
  // With XBNN_BUILTIN_DUMP=dir, every invoked model is written with its inputs and outputs, so
  // tests/builtin/tflite_crosscheck.py can run the same models in TFLite and compare.
  if (const char* dir = std::getenv("XBNN_BUILTIN_DUMP")) {
    static int counter = 0;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string base = std::string(info->test_suite_name()) + "." + info->name() + "." + std::to_string(counter++);
    for (char& c : base) c = c == '/' ? '_' : c;
    const std::string name = std::string(dir) + "/" + base;
    std::ofstream(name + ".tflite", std::ios::binary).write(reinterpret_cast<const char*>(bytes_.data()),
                                                             static_cast<std::streamsize>(bytes_.size()));
    for (size_t i = 0; i < inputs_.size(); ++i) {
      std::ofstream(name + ".in" + std::to_string(i) + ".bin", std::ios::binary)
          .write(reinterpret_cast<const char*>(inputs_[i].data()), static_cast<std::streamsize>(inputs_[i].size()));
    }
    for (size_t i = 0; i < interp_->num_outputs(); ++i) {
      TensorView t = interp_->output(i);
      std::ofstream(name + ".out" + std::to_string(i) + ".bin", std::ios::binary)
          .write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.bytes()));
    }
  }
  return Status::Ok();
}

Status BuildStatus(OpModel& m) { return m.Build(); }

std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<int8_t> RandomInt8(size_t n, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

std::vector<int32_t> RandomInt32(size_t n, uint32_t seed, int lo, int hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = d(rng);
  return v;
}

int64_t Elements(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

void ExpectClose(const std::vector<float>& got, const std::vector<float>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  double max_abs = 1;
  for (float w : want) max_abs = std::max(max_abs, std::abs(static_cast<double>(w)));
  int bad = 0;
  for (size_t i = 0; i < got.size() && bad < 8; ++i) {
    const double d = std::abs(static_cast<double>(got[i]) - want[i]);
    if (!(d <= tol * max_abs)) {
      ADD_FAILURE() << "element " << i << ": got " << got[i] << ", want " << want[i] << " (tolerance "
                    << tol * max_abs << ")";
      ++bad;
    }
  }
}

int32_t RefSrdhm(int32_t a, int32_t b) {
  if (a == std::numeric_limits<int32_t>::min() && b == a) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * b;
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : 1 - (int64_t{1} << 30);
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

int32_t RefRoundingDivideByPOT(int32_t x, int exponent) {
  if (exponent == 0) return x;
  // Round half away from zero of x / 2^exponent.
  const int64_t d = int64_t{1} << exponent;
  const int64_t ax = x < 0 ? -static_cast<int64_t>(x) : x;
  const int64_t q = (ax + d / 2) / d;
  return static_cast<int32_t>(x < 0 ? -q : q);
}

int32_t RefMultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const int32_t shifted = static_cast<int32_t>(static_cast<int64_t>(x) * (int64_t{1} << left));
  return RefRoundingDivideByPOT(RefSrdhm(shifted, multiplier), right);
}

void RefQuantizeMultiplier(double m, int32_t* multiplier, int* shift) {
  if (m == 0) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  // m = q * 2^shift with q in [0.5, 1); the Q31 significand is round(q * 2^31).
  int s = 0;
  double q = m;
  while (q >= 1) q /= 2, ++s;
  while (q < 0.5) q *= 2, --s;
  int64_t qf = std::llround(q * 2147483648.0);
  if (qf == (int64_t{1} << 31)) qf /= 2, ++s;
  if (s < -31) s = 0, qf = 0;
  *multiplier = static_cast<int32_t>(qf);
  *shift = s;
}

void RefActivationRange(int act, float scale, int32_t zp, int32_t* lo, int32_t* hi) {
  auto q = [&](float f) { return zp + static_cast<int32_t>(std::round(f / scale)); };
  *lo = -128;
  *hi = 127;
  if (act == 1 || act == 3) *lo = std::max(*lo, q(0.0f));
  if (act == 3) *hi = std::min(*hi, q(6.0f));
  if (act == 2) {
    *lo = std::max(*lo, q(-1.0f));
    *hi = std::min(*hi, q(1.0f));
  }
}

void RefFloatActivation(int act, float* lo, float* hi) {
  *lo = -std::numeric_limits<float>::infinity();
  *hi = std::numeric_limits<float>::infinity();
  if (act == 1 || act == 3) *lo = 0;
  if (act == 3) *hi = 6;
  if (act == 2) *lo = -1, *hi = 1;
}

int OutSize(int in, int k, int stride, int dilation, bool same) {
  const int eff = (k - 1) * dilation + 1;
  return same ? (in + stride - 1) / stride : (in - eff) / stride + 1;
}

int PadBefore(int in, int k, int stride, int dilation, bool same) {
  if (!same) return 0;
  const int eff = (k - 1) * dilation + 1;
  const int out = OutSize(in, k, stride, dilation, true);
  return std::max(0, (out - 1) * stride + eff - in) / 2;
}

}  // namespace xbnn::testing

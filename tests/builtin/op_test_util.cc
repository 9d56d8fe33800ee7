#include "builtin/op_test_util.h"

#include <algorithm>
#include <array>
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

void OpModel::CustomOp(const std::string& name, std::vector<int32_t> inputs, std::vector<int32_t> outputs) {
  const graph::OperatorCode code{graph::op::kCustom, name, 1};
  uint32_t index = 0;
  while (index < g_.operator_codes.size() && !(g_.operator_codes[index] == code)) ++index;
  if (index == g_.operator_codes.size()) g_.operator_codes.push_back(code);
  graph::Operator op;
  op.opcode_index = index;
  op.inputs = std::move(inputs);
  op.outputs = std::move(outputs);
  g_.subgraphs[0].operators.push_back(std::move(op));
}

Status OpModel::Build(int threads, FloatPrecision precision, bool fuse_ops) {
  auto bytes = format::WriteModel(g_);
  if (!bytes.ok()) return bytes.status();
  bytes_ = *bytes;
  auto model = Model::FromBuffer(bytes_);
  if (!model.ok()) return model.status();
  InterpreterOptions o;
  o.num_threads = threads;
  o.float_precision = precision;
  o.fuse_ops = fuse_ops;
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

int32_t RefRoundingRightShiftUp(int32_t x, int exponent) {
  if (exponent == 0) return x;
  // floor(x / 2^e + 1/2), exactly, in double (|x| < 2^31 is exact).
  return static_cast<int32_t>(std::floor(static_cast<double>(x) / std::ldexp(1.0, exponent) + 0.5));
}

int32_t RefMultiplyByQuantizedMultiplierRoundUp(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const int32_t shifted = static_cast<int32_t>(static_cast<int64_t>(x) * (int64_t{1} << left));
  return RefRoundingRightShiftUp(RefSrdhm(shifted, multiplier), right);
}

namespace {

int32_t Shl(int32_t x, int s) {  // NEON vshl: wrapping left, truncating right
  return s >= 0 ? static_cast<int32_t>(static_cast<uint32_t>(x) << s) : x >> -s;
}

}  // namespace

std::vector<int8_t> RefAddInt8Optimized(const std::vector<int32_t>& a_shape, const std::vector<int8_t>& a,
                                        const std::vector<int32_t>& b_shape, const std::vector<int8_t>& b,
                                        const RefAddParams& p) {
  const int left_shift = 20;
  const double twice_max = 2 * std::max(p.s1, p.s2);
  int32_t m1, m2, mo;
  int sh1, sh2, sho;
  RefQuantizeMultiplier(p.s1 / twice_max, &m1, &sh1);
  RefQuantizeMultiplier(p.s2 / twice_max, &m2, &sh2);
  RefQuantizeMultiplier(twice_max / ((1 << left_shift) * p.so), &mo, &sho);
  auto clamp = [&](int32_t v) { return static_cast<int8_t>(std::min(std::max(v, p.lo), p.hi)); };
  // The scalar formula, with operand order (x from input 0, y from input 1).
  auto scalar = [&](int8_t x, int8_t y) {
    const int32_t qx = RefMultiplyByQuantizedMultiplier((x - p.z1) * (1 << left_shift), m1, sh1);
    const int32_t qy = RefMultiplyByQuantizedMultiplier((y - p.z2) * (1 << left_shift), m2, sh2);
    return clamp(RefMultiplyByQuantizedMultiplier(qx + qy, mo, sho) + p.zo);
  };
  auto narrow = [&](int32_t s) {  // vmovn to int16, add the offset in int16, saturate to int8
    const int16_t v = static_cast<int16_t>(static_cast<int16_t>(s) + p.zo);
    return clamp(std::min<int32_t>(std::max<int32_t>(v, -128), 127));
  };
  auto out_stage = [&](int32_t sum) { return narrow(RefRoundingDivideByPOT(RefSrdhm(sum, mo), -sho)); };
  // 16-wide blocks: each input's right shift folded into its left shift.
  auto block16 = [&](int8_t x, int8_t y) {
    const int32_t qx = RefSrdhm(Shl(x - p.z1, left_shift + sh1), m1);
    const int32_t qy = RefSrdhm(Shl(y - p.z2, left_shift + sh2), m2);
    return out_stage(static_cast<int32_t>(static_cast<uint32_t>(qx) + static_cast<uint32_t>(qy)));
  };
  // 8-wide blocks against a broadcast scalar: the input shifts truncate.
  auto block8 = [&](int8_t x, int8_t y) {
    const int32_t qx = Shl(RefSrdhm(Shl(x - p.z1, left_shift), m1), sh1);
    const int32_t qy = Shl(RefSrdhm(Shl(y - p.z2, left_shift), m2), sh2);
    return out_stage(static_cast<int32_t>(static_cast<uint32_t>(qx) + static_cast<uint32_t>(qy)));
  };
  const size_t rank = std::max(a_shape.size(), b_shape.size());
  std::vector<int64_t> ea(rank, 1), eb(rank, 1), eo(rank, 1);
  for (size_t i = 0; i < a_shape.size(); ++i) ea[rank - a_shape.size() + i] = a_shape[i];
  for (size_t i = 0; i < b_shape.size(); ++i) eb[rank - b_shape.size() + i] = b_shape[i];
  int64_t total = 1;
  for (size_t i = 0; i < rank; ++i) total *= eo[i] = std::max(ea[i], eb[i]);
  std::vector<int8_t> out(static_cast<size_t>(total));
  if (ea == eb) {  // one flat run
    for (int64_t i = 0; i < total; ++i) out[i] = i < total - total % 16 ? block16(a[i], b[i]) : scalar(a[i], b[i]);
    return out;
  }
  // Which input broadcasts at the innermost differing dimension ("fast"), then the five runs
  // y0..y4 of TFLite's fivefold loop, outermost first: equal, fast-side broadcast (y1 counts the
  // slow side's unit dims), equal, slow-side broadcast (y3), equal (y4, innermost).
  int first_diff = static_cast<int>(rank) - 1;
  while (ea[first_diff] == eb[first_diff]) --first_diff;
  const bool a_fast = ea[first_diff] == 1;
  const std::vector<int64_t>& f = a_fast ? ea : eb;  // broadcasts fast
  const std::vector<int64_t>& g = a_fast ? eb : ea;
  std::array<int64_t, 5> y{1, 1, 1, 1, 1};
  int i = static_cast<int>(rank) - 1;
  auto run = [&](int slot, auto cond) {
    while (i >= 0 && cond(i)) y[slot] *= std::max(f[i], g[i]), --i;
  };
  run(4, [&](int d) { return f[d] == g[d]; });
  run(3, [&](int d) { return f[d] == 1; });
  run(2, [&](int d) { return f[d] == g[d]; });
  run(1, [&](int d) { return g[d] == 1; });
  run(0, [&](int d) { return f[d] == g[d]; });
  const bool generic = i >= 0;
  // Output element o in row-major order of the broadcast shape; its operands by plain indexing.
  std::vector<int64_t> stride_a(rank, 0), stride_b(rank, 0);
  for (int64_t d = static_cast<int64_t>(rank) - 1, sa = 1, sb = 1; d >= 0; --d) {
    stride_a[d] = ea[d] == 1 ? 0 : sa;
    stride_b[d] = eb[d] == 1 ? 0 : sb;
    sa *= ea[d];
    sb *= eb[d];
  }
  for (int64_t o = 0; o < total; ++o) {
    int64_t rest = o, ia = 0, ib = 0;
    for (int64_t d = static_cast<int64_t>(rank) - 1; d >= 0; --d) {
      const int64_t idx = rest % eo[d];
      rest /= eo[d];
      ia += idx * stride_a[d];
      ib += idx * stride_b[d];
    }
    if (generic) {
      out[o] = scalar(a[ia], b[ib]);
      continue;
    }
    // Position inside the innermost run of the fivefold loop: y4 elements, or y3 when y4 == 1.
    const int64_t len = y[4] > 1 ? y[4] : y[3];
    const int64_t pos = o % len;
    const int blk = y[4] > 1 ? 16 : 8;
    const bool vector = pos < len - len % blk;
    // TFLite swaps the operands so that "input 1" is the fast-broadcasting one; the formulas are
    // per operand, so only which scale goes with which value matters.
    if (!vector) {
      out[o] = scalar(a[ia], b[ib]);
    } else {
      out[o] = y[4] > 1 ? block16(a[ia], b[ib]) : block8(a[ia], b[ib]);
    }
  }
  return out;
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

std::vector<Field> SquarePoolOptions(int filter, int stride, bool same, int activation) {
  return {{"padding", int64_t{same ? 0 : 1}}, {"stride_w", int64_t{stride}},
          {"stride_h", int64_t{stride}},      {"filter_width", int64_t{filter}},
          {"filter_height", int64_t{filter}}, {"fused_activation_function", int64_t{activation}}};
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

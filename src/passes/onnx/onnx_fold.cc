// Constant folding for the ONNX importer: nodes whose inputs are all constants (weights computed
// from initializers, e.g. sign(w) * mean|w| and the straight-through trick on weights, which the
// TorchScript exporter leaves in the graph) are evaluated here in float32, in the same order of
// operations as onnxruntime, so that the weights the importer sees are the ones ONNX computes.
#include "passes/onnx/onnx_fold.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "passes/onnx/onnx_builder.h"

namespace xbnn::onnx_import::internal {
namespace {

constexpr int kBool = 9;  // onnx::TensorProto::BOOL

// Folded constants are weights: far smaller than this (a hostile Expand could ask for more).
constexpr int64_t kMaxFolded = int64_t{1} << 24;

std::vector<int64_t> Strides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

// Index into a (broadcast) operand of `out` dims for flat output index `k`.
size_t BroadcastIndex(int64_t k, const std::vector<int64_t>& out, const std::vector<int64_t>& in) {
  const size_t off = out.size() - in.size();
  size_t idx = 0, stride = 1;
  for (size_t d = out.size(); d-- > off;) {
    const int64_t od = out[d], id = in[d - off];
    int64_t pos = k % od;
    k /= od;
    if (id != 1) idx += static_cast<size_t>(pos) * stride;
    stride *= static_cast<size_t>(id);
  }
  return idx;
}

// `elem_type` is the ONNX type of the result (the data is float or int64 as `float_out` says).
Result<Constant> Elementwise(const std::vector<const Constant*>& in, const std::string& what,
                             const std::function<double(const std::vector<double>&)>& f,
                             bool float_out, int elem_type) {
  std::vector<int64_t> dims = in[0]->dims;
  for (size_t i = 1; i < in.size(); ++i) {
    auto b = Broadcast(dims, in[i]->dims);
    if (!b)
      return Status::Error(what + ": constant shapes " + ShapeText(dims) + " and " +
                           ShapeText(in[i]->dims) + " do not broadcast");
    dims = *b;
  }
  Constant r;
  r.dims = dims;
  r.elem_type = elem_type;
  r.is_float = float_out;
  const int64_t n = r.NumElements();
  if (n > kMaxFolded) return Status::Error(what + ": folded constant too large");
  std::vector<double> args(in.size());
  for (int64_t k = 0; k < n; ++k) {
    for (size_t i = 0; i < in.size(); ++i)
      args[i] = in[i]->at(BroadcastIndex(k, dims, in[i]->dims));
    double v = f(args);
    if (float_out) {
      r.f.push_back(static_cast<float>(v));
    } else {
      r.i.push_back(static_cast<int64_t>(v));
    }
  }
  return r;
}

// Float32 arithmetic, as onnxruntime does it (not double then rounded).
float F(double x) { return static_cast<float>(x); }

Result<Constant> Reduce(const Constant& c, std::vector<int64_t> axes, bool keep, bool mean,
                        const std::string& what) {
  const int64_t rank = static_cast<int64_t>(c.dims.size());
  if (axes.empty()) {
    for (int64_t a = 0; a < rank; ++a) axes.push_back(a);
  }
  std::vector<bool> red(c.dims.size(), false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      return Status::Error(what + ": axis " + std::to_string(a) + " out of range");
    red[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
  }
  std::vector<int64_t> out_dims;
  for (size_t d = 0; d < c.dims.size(); ++d) out_dims.push_back(red[d] ? 1 : c.dims[d]);
  Constant r;
  r.dims = out_dims;
  r.elem_type = c.is_float ? c.elem_type : 1;  // integers are summed as float here
  const int64_t n_out = r.NumElements();
  const int64_t n_in = c.NumElements();
  const int64_t count = n_out > 0 ? n_in / n_out : 0;
  std::vector<float> acc(static_cast<size_t>(n_out), 0.0f);
  const auto in_strides = Strides(c.dims), out_strides = Strides(out_dims);
  for (int64_t k = 0; k < n_in; ++k) {
    int64_t o = 0, rem = k;
    for (size_t d = 0; d < c.dims.size(); ++d) {
      int64_t pos = rem / in_strides[d];
      rem %= in_strides[d];
      if (!red[d]) o += pos * out_strides[d];
    }
    acc[static_cast<size_t>(o)] += static_cast<float>(c.at(static_cast<size_t>(k)));
  }
  if (mean && count > 0) {
    for (float& a : acc) a /= static_cast<float>(count);
  }
  r.f = std::move(acc);
  if (!keep) {
    r.dims.clear();
    for (size_t d = 0; d < out_dims.size(); ++d) {
      if (!red[d]) r.dims.push_back(out_dims[d]);
    }
  }
  return r;
}

Result<Constant> TransposeConst(const Constant& c, std::vector<int64_t> perm,
                                const std::string& what) {
  const size_t rank = c.dims.size();
  if (perm.empty()) {
    for (size_t d = rank; d-- > 0;) perm.push_back(static_cast<int64_t>(d));
  }
  if (perm.size() != rank) return Status::Error(what + ": perm does not match the rank");
  std::vector<int64_t> out_dims;
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(p)]) {
      return Status::Error(what + ": perm is not a permutation");
    }
    seen[static_cast<size_t>(p)] = true;
    out_dims.push_back(c.dims[static_cast<size_t>(p)]);
  }
  Constant r;
  r.dims = out_dims;
  r.elem_type = c.elem_type;
  r.is_float = c.is_float;
  const auto in_strides = Strides(c.dims), out_strides = Strides(out_dims);
  const int64_t n = c.NumElements();
  r.f.resize(c.is_float ? static_cast<size_t>(n) : 0);
  r.i.resize(c.is_float ? 0 : static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0, rem = k;
    for (size_t d = 0; d < rank; ++d) {
      int64_t pos = rem / out_strides[d];
      rem %= out_strides[d];
      src += pos * in_strides[static_cast<size_t>(perm[d])];
    }
    if (c.is_float) {
      r.f[static_cast<size_t>(k)] = c.f[static_cast<size_t>(src)];
    } else {
      r.i[static_cast<size_t>(k)] = c.i[static_cast<size_t>(src)];
    }
  }
  return r;
}

std::vector<int64_t> Ints(const Constant* c) { return c ? c->Ints() : std::vector<int64_t>{}; }

// Transpose, Reshape, Unsqueeze, Squeeze and Expand of a constant.
std::optional<Result<Constant>> FoldShapeOp(const Node& n, const std::vector<const Constant*>& in,
                                            int64_t opset, const std::string& what) {
  const std::string& op = n.op_type;
  auto arg = [&](size_t k) -> const Constant* { return k < in.size() ? in[k] : nullptr; };
  if (op == "Transpose") return TransposeConst(*in[0], n.Ints("perm"), what);
  if (op == "Reshape" && arg(1)) {
    auto d = ReshapeDims(in[0]->dims, Ints(arg(1)), n.Int("allowzero", 0) != 0, what);
    if (!d.ok()) return Result<Constant>(d.status());
    Constant r = *in[0];
    r.dims = *d;
    return Result<Constant>(std::move(r));
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    std::vector<int64_t> axes = opset >= 13 ? Ints(arg(1)) : n.Ints("axes");
    Constant r = *in[0];
    if (op == "Unsqueeze") {
      const int64_t rank = static_cast<int64_t>(r.dims.size() + axes.size());
      std::vector<int64_t> norm;
      for (int64_t a : axes) norm.push_back(a < 0 ? a + rank : a);
      std::sort(norm.begin(), norm.end());
      for (int64_t a : norm) {
        if (a < 0 || a > static_cast<int64_t>(r.dims.size()))
          return Result<Constant>(Status::Error(what + ": bad axis"));
        r.dims.insert(r.dims.begin() + a, 1);
      }
    } else {
      std::vector<int64_t> dims;
      const int64_t rank = static_cast<int64_t>(r.dims.size());
      for (int64_t d = 0; d < rank; ++d) {
        bool drop =
            axes.empty() ? r.dims[d] == 1 : std::any_of(axes.begin(), axes.end(), [&](int64_t a) {
              return (a < 0 ? a + rank : a) == d;
            });
        if (!drop) dims.push_back(r.dims[d]);
      }
      r.dims = dims;
    }
    return Result<Constant>(std::move(r));
  }
  if (op == "Expand" && arg(1)) {
    auto dims = Broadcast(in[0]->dims, Ints(arg(1)));
    if (!dims) return Result<Constant>(Status::Error(what + ": shapes do not broadcast"));
    Constant r;
    r.dims = *dims;
    r.elem_type = in[0]->elem_type;
    r.is_float = in[0]->is_float;
    const int64_t total = r.NumElements();
    if (total > kMaxFolded)
      return Result<Constant>(Status::Error(what + ": folded constant too large"));
    for (int64_t k = 0; k < total; ++k) {
      size_t src = BroadcastIndex(k, r.dims, in[0]->dims);
      if (r.is_float) {
        r.f.push_back(in[0]->f[src]);
      } else {
        r.i.push_back(in[0]->i[src]);
      }
    }
    return Result<Constant>(std::move(r));
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<int64_t>> ReshapeDims(const std::vector<int64_t>& in,
                                         const std::vector<int64_t>& target, bool allowzero,
                                         const std::string& what) {
  int64_t total = 1;
  for (int64_t d : in) {
    total = TimesDim(total, d);
    if (total < 0) return Status::Error(what + ": input shape " + ShapeText(in) + " too large");
  }
  std::vector<int64_t> out;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0 && !allowzero) {
      if (i >= in.size()) return Status::Error(what + ": 0 in the shape beyond the input rank");
      d = in[i];
    }
    if (d == -1) {
      if (infer >= 0) return Status::Error(what + ": more than one -1 in the shape");
      infer = static_cast<int>(i);
      out.push_back(1);
      continue;
    }
    if (d < 0) return Status::Error(what + ": negative dimension in the shape");
    known = TimesDim(known, d);
    if (known < 0) return Status::Error(what + ": shape " + ShapeText(target) + " too large");
    out.push_back(d);
  }
  if (infer >= 0) {
    if (known == 0 || total % known != 0)
      return Status::Error(what + ": cannot infer the -1 dimension");
    out[static_cast<size_t>(infer)] = total / known;
    known *= out[static_cast<size_t>(infer)];
  }
  if (known != total) {
    return Status::Error(what + ": cannot reshape " + ShapeText(in) + " to " + ShapeText(target));
  }
  return out;
}

std::optional<Result<Constant>> FoldConstant(const Node& n, const std::vector<const Constant*>& in,
                                             int64_t opset, const std::string& what) {
  const std::string& op = n.op_type;
  auto arg = [&](size_t k) -> const Constant* { return k < in.size() ? in[k] : nullptr; };
  if (in.empty() || !in[0]) return std::nullopt;
  using V = const std::vector<double>&;
  // Result types as ONNX has them: an op's inputs share a type (the first float one where an
  // invalid model mixes float and integer inputs).
  const int t0 = in[0]->is_float ? in[0]->elem_type : 1;
  if (op == "Identity") return Result<Constant>(*in[0]);
  if (op == "Sign")
    return Elementwise(
        {in[0]}, what, [](V a) { return a[0] > 0   ? 1.0
                                        : a[0] < 0 ? -1.0
                                                   : 0.0; }, in[0]->is_float,
        in[0]->elem_type);
  if (op == "Abs")
    return Elementwise(
        {in[0]}, what, [](V a) { return std::fabs(a[0]); }, in[0]->is_float, in[0]->elem_type);
  if (op == "Neg")
    return Elementwise(
        {in[0]}, what, [](V a) { return -a[0]; }, in[0]->is_float, in[0]->elem_type);
  if (op == "Sqrt")
    return Elementwise(
        {in[0]}, what, [](V a) { return std::sqrt(F(a[0])); }, true, t0);
  if (op == "Reciprocal")
    return Elementwise(
        {in[0]}, what, [](V a) { return 1.0f / F(a[0]); }, true, t0);
  const bool two = in.size() == 2 && in[1];
  const bool fl = two && (in[0]->is_float || in[1]->is_float);
  const int t2 = !two || in[0]->is_float || !in[1]->is_float ? in[0]->elem_type : in[1]->elem_type;
  if (two && op == "Add")
    return Elementwise(
        in, what, [](V a) { return F(a[0]) + F(a[1]); }, fl, t2);
  if (two && op == "Sub")
    return Elementwise(
        in, what, [](V a) { return F(a[0]) - F(a[1]); }, fl, t2);
  if (two && op == "Mul")
    return Elementwise(
        in, what, [](V a) { return F(a[0]) * F(a[1]); }, fl, t2);
  if (two && op == "Div" && fl)
    return Elementwise(
        in, what, [](V a) { return F(a[0]) / F(a[1]); }, true, t2);
  if (two && op == "Div") {  // integers: C's division, truncating toward zero (as ONNX Runtime)
    for (size_t k = 0; k < in[1]->size(); ++k) {
      if (in[1]->at(k) == 0)
        return Result<Constant>(Status::Error(what + ": integer division by zero"));
    }
    return Elementwise(
        in, what, [](V a) { return std::trunc(a[0] / a[1]); }, false, t2);
  }
  if (two && op == "Pow")
    return Elementwise(
        in, what, [](V a) { return std::pow(F(a[0]), F(a[1])); }, true, t0);
  if (two && op == "Less")
    return Elementwise(
        in, what, [](V a) { return a[0] < a[1] ? 1.0 : 0.0; }, false, kBool);
  if (two && op == "Greater")
    return Elementwise(
        in, what, [](V a) { return a[0] > a[1] ? 1.0 : 0.0; }, false, kBool);
  if (two && op == "GreaterOrEqual")
    return Elementwise(
        in, what, [](V a) { return a[0] >= a[1] ? 1.0 : 0.0; }, false, kBool);
  if (two && op == "LessOrEqual")
    return Elementwise(
        in, what, [](V a) { return a[0] <= a[1] ? 1.0 : 0.0; }, false, kBool);
  if (op == "Where" && in.size() == 3 && in[1] && in[2]) {
    return Elementwise(
        in, what, [](V a) { return a[0] != 0 ? a[1] : a[2]; }, in[1]->is_float || in[2]->is_float,
        in[1]->is_float || !in[2]->is_float ? in[1]->elem_type : in[2]->elem_type);
  }
  if (op == "Clip") {
    const float lo = arg(1) && arg(1)->size() == 1 ? static_cast<float>(arg(1)->at(0)) : -INFINITY;
    const float hi = arg(2) && arg(2)->size() == 1 ? static_cast<float>(arg(2)->at(0)) : INFINITY;
    return Elementwise(
        {in[0]}, what, [lo, hi](V a) { return std::min(std::max(F(a[0]), lo), hi); }, true, t0);
  }
  if (op == "Cast") {
    const int64_t to = n.Int("to", 1);
    const bool to_float = to == 1 || to == 10 || to == 11;
    return Elementwise(
        {in[0]}, what,
        [to_float, to](V a) { return to_float  ? a[0]
                                     : to == 9 ? (a[0] != 0)
                                               : std::trunc(a[0]); },
        to_float, static_cast<int>(to));
  }
  if (op == "ReduceMean" || op == "ReduceSum") {
    std::vector<int64_t> axes =
        (opset >= 18 || op == "ReduceSum") && arg(1) ? Ints(arg(1)) : n.Ints("axes");
    if (op == "ReduceSum" && axes.empty() && n.Int("noop_with_empty_axes", 0))
      return Result<Constant>(*in[0]);
    return Reduce(*in[0], axes, n.Int("keepdims", 1) != 0, op == "ReduceMean", what);
  }
  return FoldShapeOp(n, in, opset, what);
}

}  // namespace xbnn::onnx_import::internal

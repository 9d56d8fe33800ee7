// Builder: TFLite tensors, constants and ops for the ONNX importer, and the layout and
// binarization forms values take when a consumer asks for them.
#include "passes/onnx/onnx_builder.h"

#include <cstring>

namespace xbnn::onnx_import::internal {

using graph::DType;

std::vector<int32_t> ToI32(const std::vector<int64_t>& v) {
  std::vector<int32_t> r;
  r.reserve(v.size());
  for (int64_t x : v) r.push_back(static_cast<int32_t>(x));
  return r;
}

std::string ShapeText(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

std::optional<std::vector<int64_t>> Broadcast(const std::vector<int64_t>& a,
                                              const std::vector<int64_t>& b) {
  const size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> r(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i + a.size() >= n ? a[i + a.size() - n] : 1;
    int64_t y = i + b.size() >= n ? b[i + b.size() - n] : 1;
    if (x != y && x != 1 && y != 1) return std::nullopt;
    r[i] = x == 1 ? y : x;
  }
  return r;
}

Builder::Builder(const Model& model, const ImportOptions& options, ImportReport& report)
    : model_(model), options_(options), report_(report) {
  g_.version = 3;
  g_.description = "xbnn ONNX import" +
                   (model.producer.empty() ? std::string() : " (from " + model.producer + ")");
  g_.buffers.emplace_back();  // buffer 0: no data
  g_.subgraphs.emplace_back();
  sg().name = "main";
}

const Value* Builder::Find(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

Status RequireFloat32(const Builder& b, const std::string& who, const std::string& role,
                      const std::string& name) {
  const Value* v = name.empty() ? nullptr : b.Find(name);
  if (!v || !v->konst || v->konst->elem_type == 1) return Status::Ok();
  return Status::Error(who + ": " + role + " '" + name + "' is " +
                       ElemTypeName(v->konst->elem_type) +
                       " but the input it is used with is float32: ONNX requires the same type "
                       "(ONNX Runtime refuses such a model); export it as float32");
}

Result<const Value*> Builder::Get(const std::string& name, const std::string& who) const {
  const Value* v = Find(name);
  if (!v) return Status::Error(who + ": input '" + name + "' has no value");
  if (!v->error.empty()) return Status::Error(v->error);
  return v;
}

void Builder::Reshape(int32_t in, int32_t out) {
  const std::vector<int32_t> shape = sg().tensors[out].shape;
  int32_t st =
      AddConstI32(sg().tensors[out].name + "/shape", {static_cast<int32_t>(shape.size())}, shape);
  AddOp(graph::op::kReshape, {in, st}, {out}, opt::kReshape, {{"new_shape", shape}});
}

std::vector<int32_t> Builder::StoredShape(const Value& v) const {
  if (v.nhwc)
    return {static_cast<int32_t>(v.shape[0]), static_cast<int32_t>(v.shape[2]),
            static_cast<int32_t>(v.shape[3]), static_cast<int32_t>(v.shape[1])};
  return ToI32(v.shape);
}

int32_t Builder::AddTensor(const std::string& name, std::vector<int32_t> shape, DType type) {
  graph::Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  t.has_rank = true;
  sg().tensors.push_back(std::move(t));
  return static_cast<int32_t>(sg().tensors.size() - 1);
}

int32_t Builder::AddConst(const std::string& name, std::vector<int32_t> shape,
                          const std::vector<float>& data) {
  std::vector<uint8_t> bytes(data.size() * 4);
  if (!data.empty()) std::memcpy(bytes.data(), data.data(), bytes.size());
  g_.buffers.push_back(graph::Buffer::Owned(std::move(bytes)));
  int32_t t = AddTensor(name, std::move(shape));
  sg().tensors[t].buffer = static_cast<uint32_t>(g_.buffers.size() - 1);
  return t;
}

int32_t Builder::AddConstI32(const std::string& name, std::vector<int32_t> shape,
                             const std::vector<int32_t>& data) {
  std::vector<uint8_t> bytes(data.size() * 4);
  if (!data.empty()) std::memcpy(bytes.data(), data.data(), bytes.size());
  g_.buffers.push_back(graph::Buffer::Owned(std::move(bytes)));
  int32_t t = AddTensor(name, std::move(shape), DType::kInt32);
  sg().tensors[t].buffer = static_cast<uint32_t>(g_.buffers.size() - 1);
  return t;
}

void Builder::AddOp(int32_t builtin, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                    uint8_t options_type,
                    std::vector<std::pair<std::string, graph::OptionValue>> fields) {
  uint32_t code = 0;
  for (; code < g_.operator_codes.size(); ++code) {
    if (g_.operator_codes[code].builtin == builtin && g_.operator_codes[code].custom_code.empty())
      break;
  }
  if (code == g_.operator_codes.size()) {
    graph::OperatorCode c;
    c.builtin = builtin;
    g_.operator_codes.push_back(c);
  }
  graph::Operator o;
  o.opcode_index = code;
  o.inputs = std::move(inputs);
  o.outputs = std::move(outputs);
  o.builtin_options.type = options_type;
  for (auto& [k, v] : fields) o.builtin_options.Set(k, v);
  sg().operators.push_back(std::move(o));
}

int32_t Builder::NewActivation(const std::string& name, const std::vector<int64_t>& logical,
                               bool nhwc) {
  Value v;
  v.shape = logical;
  v.nhwc = nhwc && logical.size() == 4;
  v.tensor = AddTensor(name, StoredShape(v));
  int32_t t = v.tensor;
  values[name] = std::move(v);
  return t;
}

int32_t Builder::Transpose(int32_t in, const std::vector<int32_t>& perm, const std::string& name) {
  const std::vector<int32_t> s = sg().tensors[in].shape;
  std::vector<int32_t> out_shape;
  for (int32_t p : perm) out_shape.push_back(s[p]);
  int32_t pt = AddConstI32(name + "/perm", {static_cast<int32_t>(perm.size())}, perm);
  int32_t out = AddTensor(name, out_shape);
  AddOp(graph::op::kTranspose, {in, pt}, {out}, opt::kTranspose);
  return out;
}

namespace {

// A [1, C, H, W] constant whose values do not vary over H and W (the exporter expanded a
// per-channel parameter) becomes [1, C, 1, 1]: same result under broadcasting, a fraction of the
// bytes, and the per-channel form the conversion pass folds.
void ShrinkBroadcastConstant(std::vector<int64_t>& dims, std::vector<float>& data) {
  if (dims.size() != 4 || dims[0] != 1 || dims[2] * dims[3] <= 1) return;
  const int64_t C = dims[1], HW = dims[2] * dims[3];
  std::vector<float> per(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const float v = data[static_cast<size_t>(c * HW)];
    for (int64_t k = 1; k < HW; ++k) {
      if (std::memcmp(&data[static_cast<size_t>(c * HW + k)], &v, 4) != 0) return;
    }
    per[static_cast<size_t>(c)] = v;
  }
  dims = {1, C, 1, 1};
  data = std::move(per);
}

}  // namespace

Result<int32_t> Builder::Float(const std::string& name, bool like_nhwc, size_t like_rank) {
  const Value* v = Find(name);
  if (!v) return Status::Error("value '" + name + "' was not converted");
  if (!v->error.empty()) return Status::Error(v->error);
  if (v->tensor >= 0) return v->tensor;
  if (v->bin != Bin::kNone) {
    const std::string key = "float:" + name;
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    auto src = Float(v->bin_src);
    if (!src.ok()) return src.status();
    const Value& sv = *Find(v->bin_src);
    int32_t out;
    if (v->bin == Bin::kSign) {
      out = AddTensor(name, StoredShape(sv));
      AddOp(graph::op::kSign, {*src}, {out});
    } else if (v->bin == Bin::kGt) {
      // x > 0 ? 1 : -1 == (-x >= 0) ? -1 : 1, with the ops xbnn has.
      const std::vector<int32_t> shape = StoredShape(sv);
      int32_t neg = AddTensor(name + "/negated", shape);
      AddOp(graph::op::kMul, {*src, AddConst(name + "/minus_one_f", {1}, {-1.0f})}, {neg},
            opt::kMul, {{"fused_activation_function", int64_t{0}}});
      int32_t cond = AddTensor(name + "/nonpositive", shape, DType::kBool);
      AddOp(graph::op::kGreaterEqual, {neg, AddConst(name + "/zero_f", {1}, {0.0f})}, {cond},
            opt::kGreaterEqual);
      out = AddTensor(name, shape);
      AddOp(graph::op::kSelectV2,
            {cond, AddConst(name + "/neg_one", {1}, {-1.0f}),
             AddConst(name + "/pos_one", {1}, {1.0f})},
            {out}, opt::kSelectV2);
    } else {
      auto b = Binary(name);
      if (!b.ok()) return b.status();
      out = *b;
    }
    cache_[key] = out;
    return out;
  }
  if (!v->konst) return Status::Error("value '" + name + "' has no data");
  const Constant& c = *v->konst;
  const bool permute = like_nhwc && like_rank == 4 && c.dims.size() <= 4;
  const std::string key = "const:" + name + (permute ? ":nhwc" : "");
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  std::vector<float> data(c.size());
  for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<float>(c.at(k));
  std::vector<int64_t> dims = c.dims;
  if (permute) {
    while (dims.size() < 4) dims.insert(dims.begin(), 1);
    ShrinkBroadcastConstant(dims, data);
    const int64_t N = dims[0], C = dims[1], H = dims[2], W = dims[3];
    std::vector<float> p(data.size());
    for (int64_t n = 0; n < N; ++n)
      for (int64_t ch = 0; ch < C; ++ch)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w)
            p[((n * H + h) * W + w) * C + ch] = data[((n * C + ch) * H + h) * W + w];
    data = std::move(p);
    dims = {N, H, W, C};
    // A per-channel constant [1,1,1,C] is written as [C], the form the conversion pass folds.
    if (N == 1 && H == 1 && W == 1) dims = {C};
  }
  int32_t t = AddConst(name, ToI32(dims), data);
  cache_[key] = t;
  return t;
}

Result<int32_t> Builder::Binary(const std::string& name, int ext_h, int ext_w) {
  const Value* v = Find(name);
  if (!v || v->bin == Bin::kNone)
    return Status::Error("value '" + name + "' is not a binarization");
  const std::string key = "bin:" + name + ":" + std::to_string(ext_h) + ":" + std::to_string(ext_w);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  const std::string src_name = v->bin_src;
  auto src = Float(src_name);
  if (!src.ok()) return src.status();
  std::vector<int32_t> shape = sg().tensors[*src].shape;
  int32_t zero = AddConst(name + "/zero", {1}, {0.0f});
  int32_t one = AddConst(name + "/one", {1}, {1.0f});
  int32_t minus = AddConst(name + "/minus_one", {1}, {-1.0f});
  int32_t cond = AddTensor(name + "/nonnegative", shape, DType::kBool);
  AddOp(graph::op::kGreaterEqual, {*src, zero}, {cond}, opt::kGreaterEqual);
  int32_t out = AddTensor(name + "/binary", shape);
  AddOp(graph::op::kSelectV2, {cond, one, minus}, {out}, opt::kSelectV2);
  if (ext_h || ext_w) {
    // Rows/columns only the cropped-away outputs read: +1, a binary value, so that the
    // conversion pass pads the bitpacked tensor instead.
    std::vector<int32_t> pads = {0, 0, 0, ext_h, 0, ext_w, 0, 0};
    int32_t pt = AddConstI32(name + "/extend/paddings", {4, 2}, pads);
    int32_t pv = AddConst(name + "/extend/value", {}, {1.0f});
    shape[1] += ext_h;
    shape[2] += ext_w;
    int32_t ext = AddTensor(name + "/binary/extended", shape);
    AddOp(graph::op::kPadV2, {out, pt, pv}, {ext}, opt::kPadV2);
    out = ext;
  }
  cache_[key] = out;
  return out;
}

Result<int32_t> Builder::Logical(const std::string& name) {
  auto t = Float(name);
  if (!t.ok()) return t;
  const Value* v = Find(name);
  if (!v->nhwc) return t;
  const std::string key = "nchw:" + name;
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  int32_t out = Transpose(*t, {0, 3, 1, 2}, name + "/nchw");
  cache_[key] = out;
  return out;
}

}  // namespace xbnn::onnx_import::internal

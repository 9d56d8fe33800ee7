// xbnn._xbnn: the C++ side of the Python package. Deliberately thin: the Python layer
// (python/xbnn/) does the NumPy work (dtype and shape checks with readable messages, batch
// slicing, output allocation); this module moves bytes between Python buffers and the
// interpreter and runs Invoke without the GIL.
//
// Errors: xbnn::Status messages become ValueError for bad models and bad inputs, RuntimeError
// for failures while running.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "xbnn/interpreter.h"
#include "xbnn/model.h"
#include "xbnn/status.h"
#include "xbnn/tensor.h"
#include "xbnn/version.h"

#ifdef XBNN_HAVE_PASSES
#include "passes/convert.h"
#ifdef XBNN_HAVE_ONNX
#include "passes/onnx/onnx_import.h"
#endif
#include "passes/io_passes.h"
#endif

namespace py = pybind11;

namespace {

// The bytes of a Python bytes object, valid while the object lives.
std::span<const uint8_t> BytesView(const py::bytes& b) {
  char* data = nullptr;
  Py_ssize_t n = 0;
  if (PyBytes_AsStringAndSize(b.ptr(), &data, &n) != 0) throw py::error_already_set();
  return {reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(n)};
}

py::tuple ShapeTuple(const std::vector<int32_t>& shape) {
  py::tuple t(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) t[i] = py::int_(shape[i]);
  return t;
}

py::dict InfoDict(const xbnn::TensorInfo& t) {
  py::dict d;
  d["name"] = t.name;
  d["type"] = static_cast<int>(t.type);
  d["type_name"] = std::string(xbnn::DataTypeName(t.type));
  d["shape"] = ShapeTuple(t.shape);
  d["bytes"] = t.NumBytes();
  d["scale"] = t.scale;
  d["zero_point"] = t.zero_point;
  d["bitpacked"] = t.bitpacked;
  d["channels"] = t.channels;
  return d;
}

bool IsCContiguous(const py::buffer_info& b) {
  py::ssize_t expect = b.itemsize;
  for (py::ssize_t i = b.ndim - 1; i >= 0; --i) {
    if (b.shape[i] != 1 && b.strides[i] != expect) return false;
    expect *= b.shape[i];
  }
  return true;
}

// Requests a C-contiguous buffer of exactly `bytes` bytes from `obj`.
py::buffer_info RequestBuffer(const py::handle& obj, bool writable, size_t bytes, const char* what,
                              size_t index, const std::string& name) {
  auto where = [&] {
    return std::string(what) + " " + std::to_string(index) + " ('" + name + "')";
  };
  if (!PyObject_CheckBuffer(obj.ptr())) {
    throw py::type_error(where() +
                         ": expected an object with the buffer protocol (a NumPy array), got " +
                         std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
  }
  py::buffer buf = py::reinterpret_borrow<py::buffer>(obj);
  py::buffer_info info = buf.request(writable);
  if (!IsCContiguous(info)) throw py::value_error(where() + ": the buffer is not C-contiguous");
  const size_t got = static_cast<size_t>(info.size) * static_cast<size_t>(info.itemsize);
  if (got != bytes) {
    throw py::value_error(where() + ": expected " + std::to_string(bytes) + " bytes, found " +
                          std::to_string(got));
  }
  return info;
}

class PyInterpreter {
 public:
  PyInterpreter(const py::bytes& model, int num_threads, size_t max_arena_bytes, int precision,
                std::vector<std::vector<int32_t>> input_shapes) {
    std::span<const uint8_t> view = BytesView(model);
    std::vector<uint8_t> bytes(view.begin(), view.end());
    std::string error;
    {
      py::gil_scoped_release release;  // preparing (weight repacking) can take a while
      auto m = xbnn::Model::FromBuffer(std::move(bytes));
      if (!m.ok()) {
        error = m.status().message();
      } else {
        xbnn::InterpreterOptions options;
        options.num_threads = num_threads;
        options.max_arena_bytes = max_arena_bytes;
        // 0 f32, 1 bf16, 2 f32-winograd (_interpreter.py)
        if (precision == 1) options.float_precision = xbnn::FloatPrecision::kBFloat16;
        if (precision == 2) options.float_precision = xbnn::FloatPrecision::kFloat32Winograd;
        options.input_shapes = std::move(input_shapes);
        auto it = xbnn::Interpreter::Create(*m, options);
        if (!it.ok()) {
          error = it.status().message();
        } else {
          interp_ = std::move(*it);
        }
      }
    }
    if (!error.empty()) throw py::value_error(error);
  }

  size_t num_inputs() const { return interp_->num_inputs(); }
  size_t num_outputs() const { return interp_->num_outputs(); }
  int num_threads() const { return interp_->num_threads(); }
  py::dict thread_stats() const {
    const xbnn::ThreadStats t = interp_->thread_stats();
    py::dict d;
    d["parallel_steps"] = t.parallel_jobs;
    d["serial_steps"] = t.serial_jobs;
    d["stalls"] = t.stalls;
    d["back_offs"] = t.back_offs;
    d["tasks"] = t.tasks;
    d["caller_tasks"] = t.caller_tasks;
    d["worker_moves"] = t.worker_moves;
    return d;
  }

  py::list input_details() const {
    py::list l;
    for (size_t i = 0; i < interp_->num_inputs(); ++i) l.append(InfoDict(interp_->input_info(i)));
    return l;
  }
  py::list output_details() const {
    py::list l;
    for (size_t i = 0; i < interp_->num_outputs(); ++i) l.append(InfoDict(interp_->output_info(i)));
    return l;
  }

  // Copies `inputs` (one C-contiguous buffer per model input, exact byte size) in, runs the
  // model and copies the outputs into `outputs` (writable buffers). The GIL is released for the
  // copies and the run; a mutex serializes calls on one interpreter from several threads.
  void Invoke(const py::sequence& inputs, const py::sequence& outputs) {
    const size_t n_in = interp_->num_inputs(), n_out = interp_->num_outputs();
    if (static_cast<size_t>(py::len(inputs)) != n_in) {
      throw py::value_error("the model has " + std::to_string(n_in) + " input(s), got " +
                            std::to_string(py::len(inputs)));
    }
    if (static_cast<size_t>(py::len(outputs)) != n_out) {
      throw py::value_error("the model has " + std::to_string(n_out) + " output(s), got " +
                            std::to_string(py::len(outputs)) + " output buffers");
    }
    // The buffer_info objects must be released with the GIL held: they live outside the
    // released section.
    std::vector<py::buffer_info> in, out;
    in.reserve(n_in);
    out.reserve(n_out);
    for (size_t i = 0; i < n_in; ++i) {
      const xbnn::TensorInfo& t = interp_->input_info(i);
      in.push_back(RequestBuffer(inputs[i], false, t.NumBytes(), "input", i, t.name));
    }
    for (size_t i = 0; i < n_out; ++i) {
      const xbnn::TensorInfo& t = interp_->output_info(i);
      out.push_back(RequestBuffer(outputs[i], true, t.NumBytes(), "output", i, t.name));
    }
    xbnn::Status status;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 0; i < n_in; ++i) {
        xbnn::TensorView v = interp_->input(i);
        if (v.bytes() != 0) std::memcpy(v.raw(), in[i].ptr, v.bytes());
      }
      status = interp_->Invoke();
      if (status.ok()) {
        for (size_t i = 0; i < n_out; ++i) {
          xbnn::TensorView v = interp_->output(i);
          if (v.bytes() != 0) std::memcpy(out[i].ptr, v.raw(), v.bytes());
        }
      }
    }
    if (!status.ok()) throw std::runtime_error(status.message());
  }

 private:
  std::unique_ptr<xbnn::Interpreter> interp_;
  std::mutex mu_;
};

// The C++ object of `self`, or a TypeError where __init__ never ran
// (`Interpreter.__new__(Interpreter)`). pybind11 would hand such a call a freshly allocated,
// uninitialized object (type_caster_generic::load_value allocates a missing value lazily, for a
// `T*` and a `T&` self alike), and the method would read garbage. Only __init__ constructs the
// holder, so its flag says whether there is an object: the check pybind11's own metaclass makes
// for subclasses that skip __init__ (detail API, present since pybind11 2.2).
PyInterpreter& Constructed(py::handle self) {
  if (!py::isinstance<PyInterpreter>(self))
    throw py::type_error("expected an xbnn._xbnn.Interpreter");
  auto* inst = reinterpret_cast<py::detail::instance*>(self.ptr());
  const py::detail::value_and_holder vh =
      inst->get_value_and_holder(py::detail::get_type_info(typeid(PyInterpreter)));
  if (!vh || !vh.holder_constructed() || vh.value_ptr() == nullptr) {
    throw py::type_error("xbnn._xbnn.Interpreter is not initialized (its __init__ was not called)");
  }
  return *vh.value_ptr<PyInterpreter>();
}

// A member function bound through a `self` handle checked by Constructed().
template <typename R, typename... A>
auto Checked(R (PyInterpreter::*f)(A...)) {
  return
      [f](py::handle self, A... a) -> R { return (Constructed(self).*f)(std::forward<A>(a)...); };
}
template <typename R, typename... A>
auto Checked(R (PyInterpreter::*f)(A...) const) {
  return [f](py::handle self, A... a) -> R {
    return (static_cast<const PyInterpreter&>(Constructed(self)).*f)(std::forward<A>(a)...);
  };
}

#ifdef XBNN_HAVE_PASSES
py::bytes ToPyBytes(const std::vector<uint8_t>& v) {
  return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}
#else
[[noreturn]] void NoPasses() {
  throw std::runtime_error(
      "this xbnn build has no model utilities (the xbnn_passes library was not available when "
      "the extension was built)");
}
#endif

py::bytes StripLceDequantizeOps(const py::bytes& model) {
#ifdef XBNN_HAVE_PASSES
  std::span<const uint8_t> view = BytesView(model);
  std::optional<xbnn::Result<std::vector<uint8_t>>> r;
  {
    py::gil_scoped_release release;
    r.emplace(xbnn::passes::StripLceDequantizeOps(view));
  }
  if (!r->ok()) throw py::value_error(r->status().message());
  return ToPyBytes(r->value());
#else
  (void)model;
  NoPasses();
#endif
}

py::bytes ModifyIntegerQuantizedModelIoType(const py::bytes& model, int input_type,
                                            int output_type) {
#ifdef XBNN_HAVE_PASSES
  std::span<const uint8_t> view = BytesView(model);
  std::optional<xbnn::Result<std::vector<uint8_t>>> r;
  {
    py::gil_scoped_release release;
    r.emplace(xbnn::passes::ModifyIntegerQuantizedModelIoType(
        view, static_cast<xbnn::graph::DType>(input_type),
        static_cast<xbnn::graph::DType>(output_type)));
  }
  if (!r->ok()) throw py::value_error(r->status().message());
  return ToPyBytes(r->value());
#else
  (void)model;
  (void)input_type;
  (void)output_type;
  NoPasses();
#endif
}

// The C++ converter on a stock-converter float model: returns (model bytes, applied, skipped).
py::tuple ConvertFloatModel(const py::bytes& model, int input_type, int output_type) {
#ifdef XBNN_HAVE_PASSES
  std::span<const uint8_t> view = BytesView(model);
  xbnn::passes::ConvertOptions options;
  options.inference_input_type = static_cast<xbnn::graph::DType>(input_type);
  options.inference_output_type = static_cast<xbnn::graph::DType>(output_type);
  xbnn::passes::ConvertReport report;
  std::optional<xbnn::Result<std::vector<uint8_t>>> r;
  {
    py::gil_scoped_release release;
    r.emplace(xbnn::passes::ConvertModel(view, options, &report));
  }
  if (!r->ok()) throw py::value_error(r->status().message());
  return py::make_tuple(ToPyBytes(r->value()), report.applied, report.skipped);
#else
  (void)model;
  (void)input_type;
  (void)output_type;
  NoPasses();
#endif
}

// ONNX import: returns (model bytes, notes, applied, skipped, dense float bytes, dense binary
// bytes).
py::tuple ConvertOnnxModel(const py::bytes& model, bool keep_nchw_input,
                           const std::string& external_data_dir) {
#ifdef XBNN_HAVE_ONNX
  std::span<const uint8_t> view = BytesView(model);
  xbnn::onnx_import::ImportOptions options;
  options.keep_nchw_input = keep_nchw_input;
  options.external_data_dir = external_data_dir;
  xbnn::onnx_import::OnnxConvertReport report;
  std::optional<xbnn::Result<std::vector<uint8_t>>> r;
  {
    py::gil_scoped_release release;
    r.emplace(xbnn::onnx_import::ConvertOnnxModel(view, options, &report));
  }
  if (!r->ok()) throw py::value_error(r->status().message());
  return py::make_tuple(ToPyBytes(r->value()), report.import.notes, report.convert.applied,
                        report.convert.skipped, report.convert.dense_float_weight_bytes,
                        report.convert.dense_binary_weight_bytes);
#else
  (void)model;
  (void)keep_nchw_input;
  (void)external_data_dir;
  throw std::runtime_error(
      "this xbnn was built without ONNX import (needs libonnx-dev and libprotobuf-dev)");
#endif
}

}  // namespace

PYBIND11_MODULE(_xbnn, m) {
  m.doc() = "xbnn C++ bindings (use the xbnn package, not this module)";
  m.attr("__version__") = XBNN_VERSION_STRING;
#ifdef XBNN_HAVE_PASSES
  m.attr("have_model_utilities") = true;
#else
  m.attr("have_model_utilities") = false;
#endif

#ifdef XBNN_HAVE_ONNX
  m.attr("have_onnx_import") = true;
#else
  m.attr("have_onnx_import") = false;
#endif

  py::class_<PyInterpreter>(m, "Interpreter")
      .def(py::init<const py::bytes&, int, size_t, bool, std::vector<std::vector<int32_t>>>(),
           py::arg("model"), py::arg("num_threads") = 1,
           py::arg("max_arena_bytes") = xbnn::InterpreterOptions{}.max_arena_bytes,
           py::arg("precision") = 0, py::arg("input_shapes") = std::vector<std::vector<int32_t>>{})
      .def_property_readonly("num_inputs", Checked(&PyInterpreter::num_inputs))
      .def_property_readonly("num_outputs", Checked(&PyInterpreter::num_outputs))
      .def_property_readonly("num_threads", Checked(&PyInterpreter::num_threads))
      .def("thread_stats", Checked(&PyInterpreter::thread_stats))
      .def("input_details", Checked(&PyInterpreter::input_details))
      .def("output_details", Checked(&PyInterpreter::output_details))
      .def("invoke", Checked(&PyInterpreter::Invoke), py::arg("inputs"), py::arg("outputs"));

  m.def("strip_lcedequantize_ops", &StripLceDequantizeOps, py::arg("model"));
  m.def("modify_integer_quantized_model_io_type", &ModifyIntegerQuantizedModelIoType,
        py::arg("model"), py::arg("input_type"), py::arg("output_type"));
  m.def("convert_float_model", &ConvertFloatModel, py::arg("model"), py::arg("input_type"),
        py::arg("output_type"));
  m.def("convert_onnx_model", &ConvertOnnxModel, py::arg("model"), py::arg("keep_nchw_input"),
        py::arg("external_data_dir") = std::string());
}

"""xbnn.Interpreter: the API of larq_compute_engine.testing.Interpreter on xbnn's engine."""
import concurrent.futures
import numbers
import sys
import threading
import time

import numpy as np

from . import _xbnn

__all__ = ["Interpreter"]

# xbnn::DataType (TFLite TensorType values) -> NumPy dtype.
_DTYPES = {
    0: np.dtype(np.float32),
    2: np.dtype(np.int32),
    3: np.dtype(np.uint8),
    4: np.dtype(np.int64),
    6: np.dtype(np.bool_),
    7: np.dtype(np.int16),
    9: np.dtype(np.int8),
}


class _Tensor:
    __slots__ = ("index", "kind", "name", "dtype", "shape", "scale", "zero_point", "bitpacked",
                 "channels")

    def __init__(self, kind, index, d):
        self.kind = kind
        self.index = index
        self.name = d["name"]
        self.shape = tuple(int(s) for s in d["shape"])
        dtype = _DTYPES.get(d["type"])
        if dtype is None:
            raise ValueError(f"model {kind} {index} ('{self.name}') has type {d['type_name']}, "
                             f"which xbnn's Python API does not support")
        self.dtype = dtype
        scale, zero_point = list(d["scale"]), list(d["zero_point"])
        # As LCE: None when not quantized, a float for one scale, a list for per-channel scales;
        # the zero point as one int.
        self.scale = None if not scale else (float(scale[0]) if len(scale) == 1 else scale)
        self.zero_point = int(zero_point[0]) if zero_point else (0 if scale else None)
        self.bitpacked = bool(d["bitpacked"])
        self.channels = int(d["channels"])

    def describe(self):
        return f"{self.kind} {self.index} ('{self.name}')"

    @property
    def batch(self):
        """Rows per invoke, or None when the tensor has no batch dimension to slice."""
        if len(self.shape) == 0 or self.shape[0] <= 0:
            return None
        return self.shape[0]


def _model_bytes(model, argument="flatbuffer_model"):
    if isinstance(model, bytes):
        return model
    if isinstance(model, (bytearray, memoryview)):
        return bytes(model)
    if isinstance(model, np.ndarray) and model.dtype == np.uint8:
        return model.tobytes()
    got = (f"an ndarray of {model.dtype} (a uint8 array is taken)" if isinstance(model, np.ndarray)
           else type(model).__name__)
    raise TypeError(f"{argument} must be the model's bytes (e.g. open(path, 'rb').read()), got {got}")


def _dtype_hint(t, a):
    """How to turn array `a` into what input `t` takes; empty when there is no simple way."""
    if a.dtype.kind not in "biuf":
        return ""
    if a.dtype.kind == "f" and t.dtype.kind in "iu" and isinstance(t.scale, float):
        # A plain cast would truncate real values to a few integers: quantize them instead.
        info = np.iinfo(t.dtype)
        return (f" (the input is quantized with scale {t.scale:g} and zero point {t.zero_point}: "
                f"np.clip(np.round(x / {t.scale:g}) + {t.zero_point}, {info.min}, {info.max})"
                f".astype(np.{t.dtype}), or see input_scales / input_zero_points)")
    return f" (convert with .astype(np.{t.dtype}))"


def _shape_list(shapes):
    """input_shapes as a list of lists of ints ([] where the input keeps the file's shape)."""
    if shapes is None:
        return []
    if isinstance(shapes, (str, bytes)) or not hasattr(shapes, "__iter__"):
        raise TypeError(f"input_shapes must be a list of shapes (one per input), got {type(shapes).__name__}")
    out = []
    for i, s in enumerate(shapes):
        if s is None:  # this input keeps the file's shape
            out.append([])
            continue
        if isinstance(s, (str, bytes)) or not hasattr(s, "__iter__"):
            raise TypeError(f"input_shapes[{i}] must be a shape (a tuple of ints), got {type(s).__name__}")
        dims = list(s)
        for d in dims:
            if isinstance(d, bool) or not isinstance(d, numbers.Integral):
                raise TypeError(f"input_shapes[{i}] must hold ints, got {d!r}")
            if d < 1:
                raise ValueError(f"input_shapes[{i}] = {tuple(dims)}: every dimension must be positive")
            if d >= 1 << 31:
                raise ValueError(f"input_shapes[{i}] = {tuple(dims)}: a dimension must be below 2^31")
        out.append([int(d) for d in dims])
    return out


class _Progress:
    """Progress over samples, like LCE's tqdm bar; tqdm is used when installed."""

    def __init__(self, total, enabled):
        self.bar = None
        self.plain = False
        if not enabled:
            return
        try:
            from tqdm import tqdm  # optional
            self.bar = tqdm(total=total, unit="sample")
        except ImportError:
            self.plain = True
            self.total, self.done, self.start = total, 0, time.monotonic()
            self._draw()

    def _draw(self, end=""):
        t = time.monotonic() - self.start
        if self.total:
            frac = self.done / self.total
            bar = "#" * int(30 * frac)
            sys.stderr.write(f"\r{self.done}/{self.total} [{bar:30s}] {t:.1f}s{end}")
        else:
            sys.stderr.write(f"\r{self.done} samples {t:.1f}s{end}")
        sys.stderr.flush()

    def update(self, n):
        if self.bar is not None:
            self.bar.update(n)
        elif self.plain:
            self.done += n
            self._draw()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.plain:
            self._draw("\n")


class Interpreter:
    """Runs a Larq Compute Engine model (.tflite flatbuffer) with xbnn.

    The same constructor and attributes as `larq_compute_engine.testing.Interpreter`.

    !!! example
        ```python
        interpreter = xbnn.Interpreter(open("model.tflite", "rb").read(), num_threads=4)
        outputs = interpreter.predict(input_data, verbose=1)
        ```

    # Arguments
        flatbuffer_model: the model's bytes (bytes, bytearray or memoryview).
        num_threads: the number of threads the interpreter uses (1 to 1024).
        max_arena_bytes: the most activation memory the model may need (xbnn only; default
            4 GiB, None: no limit). A model that needs more raises ValueError before anything
            is allocated, with the planned size in the message.
        float_precision: "f32" (default: LCE's arithmetic) or "bf16" (xbnn only, opt-in): on
            CPUs with AVX512-BF16 the 7x7 stems and 1x1 float convolutions multiply in
            bfloat16 and sum in float32, which is faster and changes outputs slightly (see
            docs/performance.md); elsewhere the same as "f32". "f32-winograd" (xbnn only,
            opt-in): on CPUs with AVX2 or AVX-512 the 7x7 stride-2 stems run as Winograd convolutions
            in float32, faster, with outputs that differ slightly from LCE's.
        input_shapes: None (default: the model file's) or one shape per model input to run the
            model at instead (xbnn only; TFLite's resize_tensor_input), e.g.
            `[(1, 320, 320, 3)]` for a fully convolutional model at another resolution, or
            another batch size; None for an input keeps its shape. Same rank as the file's; a model whose ops cannot take the
            shapes (a RESHAPE to a fixed size) raises ValueError naming the op.

    # Attributes
        input_types, output_types: lists of NumPy dtypes.
        input_shapes, output_shapes: lists of shape tuples (with the model's batch size).
        input_scales, output_scales: per tensor None (not quantized), a float or a list.
        input_zero_points, output_zero_points: per tensor None (not quantized) or an int.
        input_names, output_names: tensor names (xbnn only).

    One interpreter may be shared by several threads (calls on it run one at a time); for
    parallel work give each thread its own interpreter: `predict` releases the GIL while the
    model runs.

    With num_threads > 1, `predict` on many samples runs whole samples on different threads
    (one single-threaded copy of the interpreter per thread, created on first use) instead of
    splitting every op of one sample across the threads: no thread waits for another, which
    is faster on a busy machine and for small models (see `predict`'s `split`).
    """

    def __init__(self, flatbuffer_model, num_threads=1, max_arena_bytes=4 << 30, float_precision="f32",
                 input_shapes=None):
        model = _model_bytes(flatbuffer_model)
        if isinstance(num_threads, bool) or not isinstance(num_threads, numbers.Integral):
            raise TypeError(f"num_threads must be an int, got {type(num_threads).__name__}")
        if not 1 <= num_threads <= 1024:
            raise ValueError(f"num_threads must be in [1, 1024], got {num_threads}")
        if max_arena_bytes is None:
            max_arena_bytes = 0
        elif isinstance(max_arena_bytes, bool) or not isinstance(max_arena_bytes, numbers.Integral):
            raise TypeError(f"max_arena_bytes must be an int or None, got {type(max_arena_bytes).__name__}")
        elif not 1 <= max_arena_bytes < 1 << 63:
            raise ValueError(f"max_arena_bytes must be positive (None: no limit), got {max_arena_bytes}")
        precisions = ("f32", "bf16", "f32-winograd")
        if float_precision not in precisions:
            raise ValueError(f"float_precision must be 'f32', 'bf16' or 'f32-winograd', got {float_precision!r}")
        self._precision = precisions.index(float_precision)
        self._input_shapes = _shape_list(input_shapes)
        self._impl = _xbnn.Interpreter(model, int(num_threads), int(max_arena_bytes), self._precision,
                                       self._input_shapes)
        self._max_arena_bytes = int(max_arena_bytes)
        self._model = model
        self._replicas = None  # single-threaded interpreters for split="samples"
        self._replica_lock = threading.Lock()
        self._inputs = [_Tensor("input", i, d) for i, d in enumerate(self._impl.input_details())]
        self._outputs = [_Tensor("output", i, d) for i, d in enumerate(self._impl.output_details())]

    # LCE's attributes ------------------------------------------------------------------------
    @property
    def input_types(self):
        """Returns a list of input types."""
        return [t.dtype for t in self._inputs]

    @property
    def input_shapes(self):
        """Returns a list of input shapes."""
        return [t.shape for t in self._inputs]

    @property
    def input_scales(self):
        """Returns a list of input scales (None where not quantized)."""
        return [t.scale for t in self._inputs]

    @property
    def input_zero_points(self):
        """Returns a list of input zero points (None where not quantized)."""
        return [t.zero_point for t in self._inputs]

    @property
    def output_types(self):
        """Returns a list of output types."""
        return [t.dtype for t in self._outputs]

    @property
    def output_shapes(self):
        """Returns a list of output shapes."""
        return [t.shape for t in self._outputs]

    @property
    def output_scales(self):
        """Returns a list of output scales (None where not quantized)."""
        return [t.scale for t in self._outputs]

    @property
    def output_zero_points(self):
        """Returns a list of output zero points (None where not quantized)."""
        return [t.zero_point for t in self._outputs]

    # xbnn extras -----------------------------------------------------------------------------
    @property
    def input_names(self):
        return [t.name for t in self._inputs]

    @property
    def output_names(self):
        return [t.name for t in self._outputs]

    @property
    def num_threads(self):
        return self._impl.num_threads

    def thread_stats(self):
        """What the thread pool did since the interpreter was created: a dict of
        `parallel_steps` (op steps shared with the worker threads), `serial_steps` (steps run on
        the calling thread alone while the pool backed off because the cores were busy),
        `stalls`, `back_offs`, `tasks`, `caller_tasks` and `worker_moves` (workers that woke on
        the calling thread's CPU and moved to another). All zero with one thread."""
        return dict(self._impl.thread_stats())

    def __repr__(self):
        if not hasattr(self, "_outputs"):
            return "xbnn.Interpreter(<not constructed>)"
        ins = ", ".join(f"{t.name}: {t.dtype}{list(t.shape)}" for t in self._inputs)
        outs = ", ".join(f"{t.name}: {t.dtype}{list(t.shape)}" for t in self._outputs)
        return f"xbnn.Interpreter(inputs=[{ins}], outputs=[{outs}], num_threads={self.num_threads})"

    # predict ---------------------------------------------------------------------------------
    def predict(self, x, verbose=0, split="auto"):
        """Generates output predictions for the input samples.

        # Arguments
            x: Input samples. A NumPy array, or a list of arrays (one per model input). The
                first dimension may hold any multiple of the model's batch size: the model runs
                on consecutive slices of that many rows and the outputs are concatenated. Also
                accepted, as in LCE: an iterator yielding one sample at a time (an array, or a
                list of arrays for several inputs), without the batch dimension.
            verbose: Verbosity mode, 0 or 1 (a progress bar on stderr).
            split: How num_threads > 1 threads share the work of several slices: "ops" splits
                every op of one slice across the threads; "samples" runs whole slices on
                different threads, each with its own single-threaded copy of the interpreter
                (more memory: one arena and one set of prepared weights per thread); "auto"
                (default) picks "samples" from two slices per thread on, else "ops". Outputs
                are identical either way.

        # Returns
            NumPy array(s) of output predictions: one array for a single-output model, else a
            list with one array per output. An output of shape () (a scalar) comes back with
            shape () when the model runs once (one slice), else with one value per slice.
        """
        if split not in ("auto", "ops", "samples"):
            raise ValueError(f"split must be 'auto', 'ops' or 'samples', got {split!r}")
        if not isinstance(verbose, (int, np.integer)) or verbose < 0:
            raise ValueError(f"verbose must be 0 or 1 (an int; 0: quiet), got {verbose!r}")
        # One run of a one-input model on an array of exactly the input's shape and dtype (a
        # sample at a time): straight to the extension, ~7 us less per call than the general
        # path's checks and slicing (which this case passes anyway).
        if verbose == 0 and type(x) is np.ndarray and len(self._inputs) == 1:
            t = self._inputs[0]
            if x.shape == t.shape and x.dtype == t.dtype and x.flags.c_contiguous:
                return self._unwrap(self._invoke_once([x]))
        if isinstance(x, np.ndarray):
            arrays = [x]
        elif isinstance(x, (list, tuple)):
            arrays = [a if isinstance(a, np.ndarray) else np.asarray(a) for a in x]
        elif hasattr(x, "__next__") and hasattr(x, "__iter__"):
            return self._unwrap(self._predict_iterator(x, verbose))
        else:
            raise ValueError(
                "Expected either a list of inputs or a Numpy array with implicit initial batch "
                f"dimension or an iterator yielding one of the above. Received: {type(x).__name__}")
        return self._unwrap(self._predict_arrays(arrays, verbose, split))

    def _invoke_once(self, arrays):
        """One run on arrays of exactly the model's input shapes; fresh output arrays."""
        outs = [np.empty(t.shape, dtype=t.dtype) for t in self._outputs]
        self._impl.invoke(arrays, outs)
        return outs

    def _unwrap(self, outputs):
        return outputs[0] if len(self._outputs) == 1 else outputs

    def _check_count(self, n):
        if n != len(self._inputs):
            names = ", ".join(f"'{t.name}'" for t in self._inputs)
            raise ValueError(f"the model has {len(self._inputs)} input(s) ({names}), "
                             f"got {n} array(s)")

    def _check_array(self, t, a, exact=False):
        """Checks dtype and shape of array `a` for input tensor `t`; returns its slice count."""
        if a.dtype != t.dtype:
            raise ValueError(f"{t.describe()}: expected dtype {t.dtype}, found {a.dtype}"
                             + _dtype_hint(t, a))
        batch = None if exact else t.batch
        if batch is None:
            if a.shape != t.shape:
                raise ValueError(f"{t.describe()}: expected shape {t.shape}, found {a.shape}")
            return 1
        if a.ndim != len(t.shape) or a.shape[1:] != t.shape[1:]:
            want = "(N, " + ", ".join(str(s) for s in t.shape[1:]) + ")" if len(t.shape) > 1 else "(N,)"
            hint = ""
            if a.shape == t.shape[1:] and batch == 1:
                hint = " (add the batch dimension: x[np.newaxis])"
            raise ValueError(f"{t.describe()}: expected shape {want} with N a multiple of the "
                             f"model's batch size {batch}, found {a.shape}{hint}")
        if a.shape[0] % batch != 0:
            raise ValueError(f"{t.describe()}: the batch dimension {a.shape[0]} is not a multiple "
                             f"of the model's batch size {batch} (model shape {t.shape})")
        return a.shape[0] // batch

    def _output_buffers(self, n_slices):
        outs = []
        for t in self._outputs:
            if len(t.shape) == 0:
                outs.append(np.empty((n_slices,), dtype=t.dtype))
            else:
                outs.append(np.empty((n_slices * t.shape[0],) + t.shape[1:], dtype=t.dtype))
        return outs

    def _one_run_scalars(self, outs, runs):
        """Scalar outputs of a single run as shape () arrays: the buffers hold one value per
        run, which would make a model's scalar come back with shape (1,)."""
        if runs != 1:
            return outs
        return [o.reshape(()) if len(t.shape) == 0 else o for t, o in zip(self._outputs, outs)]

    def _output_slices(self, outs, s):
        views = []
        for t, o in zip(self._outputs, outs):
            rows = t.shape[0] if len(t.shape) else 1
            views.append(o[s * rows:(s + 1) * rows])
        return views

    def _sample_threads(self, n_slices, split):
        """Threads running whole slices, or 0 to split each op over the interpreter's threads."""
        if split == "ops" or self.num_threads == 1 or n_slices < 2:
            return 0
        if split == "auto" and n_slices < 2 * self.num_threads:
            return 0
        return min(self.num_threads, n_slices)

    def _predict_samples(self, arrays, outs, n_slices, threads, progress):
        """Slices taken in order by `threads` threads, each with its own interpreter."""
        with self._replica_lock:
            # As many copies as threads run (a few slices on many threads need only a few).
            if self._replicas is None:
                self._replicas = []
            while len(self._replicas) < threads:
                self._replicas.append(
                    _xbnn.Interpreter(self._model, 1, self._max_arena_bytes, self._precision,
                                      self._input_shapes))
            next_slice = iter(range(n_slices))
            claim = threading.Lock()

            def work(interp):
                while True:
                    with claim:
                        s = next(next_slice, None)
                    if s is None:
                        return
                    ins = [a[s * t.batch:(s + 1) * t.batch] for t, a in zip(self._inputs, arrays)]
                    interp.invoke(ins, self._output_slices(outs, s))
                    with claim:
                        progress.update(self._inputs[0].batch if self._inputs else 1)

            with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
                for f in [pool.submit(work, r) for r in self._replicas[:threads]]:
                    f.result()

    def _predict_arrays(self, arrays, verbose, split="auto"):
        self._check_count(len(arrays))
        # A model input without a batch dimension (a scalar, or batch 0) runs once on exact shapes.
        sliceable = all(t.batch is not None for t in self._inputs)
        counts = [self._check_array(t, a, exact=not sliceable) for t, a in zip(self._inputs, arrays)]
        n_slices = counts[0] if counts else 1
        if any(c != n_slices for c in counts):
            rows = ", ".join(f"{t.describe()}: {a.shape[0]} rows" for t, a in zip(self._inputs, arrays))
            raise ValueError(f"the inputs hold different numbers of samples ({rows})")
        arrays = [np.ascontiguousarray(a) for a in arrays]
        if not sliceable:
            return self._invoke_once(arrays)
        outs = self._output_buffers(n_slices)
        batch = self._inputs[0].batch if self._inputs else 1
        progress = _Progress(n_slices * batch, verbose >= 1)
        threads = self._sample_threads(n_slices, split)
        try:
            if threads:
                self._predict_samples(arrays, outs, n_slices, threads, progress)
            else:
                for s in range(n_slices):
                    ins = [a[s * t.batch:(s + 1) * t.batch] for t, a in zip(self._inputs, arrays)]
                    self._impl.invoke(ins, self._output_slices(outs, s))
                    progress.update(batch)
        finally:
            progress.close()
        return self._one_run_scalars(outs, n_slices)

    def _predict_iterator(self, iterator, verbose):
        if not all(t.batch is not None for t in self._inputs):
            raise ValueError("an iterator of samples needs model inputs with a batch dimension")
        batch = self._inputs[0].batch if self._inputs else 1
        if any(t.batch != batch for t in self._inputs):
            raise ValueError("an iterator of samples needs model inputs with one batch size, got "
                             + ", ".join(f"{t.describe()}: {t.batch}" for t in self._inputs))
        progress = _Progress(None, verbose >= 1)
        pending = []  # samples of the current slice, each a list of per-input arrays
        results = []  # per slice, the list of outputs
        count = 0
        try:
            for item in iterator:
                sample = [item] if isinstance(item, np.ndarray) else [np.asarray(a) for a in item]
                self._check_count(len(sample))
                pending.append(sample)
                count += 1
                if len(pending) == batch:
                    ins = [np.stack([p[i] for p in pending]) for i in range(len(self._inputs))]
                    for t, a in zip(self._inputs, ins):
                        self._check_array(t, a)
                    outs = self._output_buffers(1)
                    self._impl.invoke(ins, outs)
                    results.append(outs)
                    pending = []
                    progress.update(batch)
        finally:
            progress.close()
        if pending:
            raise ValueError(f"the iterator yielded {count} samples, not a multiple of the "
                             f"model's batch size {batch}")
        if not results:
            return self._output_buffers(0)
        outs = [np.concatenate([r[i] for r in results]) for i in range(len(self._outputs))]
        return self._one_run_scalars(outs, len(results))

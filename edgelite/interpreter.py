"""``edgelite.Interpreter``: LiteRT's Python interpreter API, running edgelite's numpy kernels.

Drop-in for ``ai_edge_litert.interpreter.Interpreter``: the same constructor
arguments, methods, return types (details dicts with int32 shapes, numpy type
classes, quantization tuples) and the same exceptions for misuse. Only the
engine differs (see ``edgelite.runtime`` and docs/interpreter.md).

Extensions beyond LiteRT's API: ``set_profiler(callback)`` (per-op timings, used by
``edgelite bench --profile``), ``arena_bytes()`` / ``planned_bytes()`` (memory plan
sizes), ``model`` (the loaded :class:`edgelite.ir.Model`), and the reliability controls of
docs/reliability.md: ``max_memory_bytes``, ``max_loop_iterations``, ``invoke(timeout=...)``,
``cancel()`` and ``exclusive()``.
"""
from __future__ import annotations

import ctypes
import enum
import os
import sys
from typing import Callable

import numpy as np

from .errors import ModelError
from .ir import Model
from .reader import gc_paused, load_model
from .kernels.custom_ops import apply_registerers
from .kernels.thread_pools import EXTRA_THREAD_CONTROLS, set_requested_threads
from .kernels.resolver import OpResolver
from .runtime import OpTiming, Runtime, UnsupportedOpsError
from .runtime.budget import MemoryBudget
from .runtime.cancel import CancelToken
from .runtime.concurrency import UseGuard
from .structure_checks import check_structure
from .schema import tensor_type_name, tensor_type_of

__all__ = ["Interpreter", "InterpreterWithCustomOps", "SignatureRunner", "OpResolverType", "OpTiming",
           "UnsupportedOpsError"]


@enum.unique
class OpResolverType(enum.Enum):
    """Same members as LiteRT's. edgelite has one set of kernels: every value selects them."""

    AUTO = 0
    BUILTIN = 1
    BUILTIN_REF = 2
    BUILTIN_WITHOUT_DEFAULT_DELEGATES = 3


class BlasThreads:
    """The thread count of the BLAS library behind numpy, set around every invoke.

    ``num_threads`` follows LiteRT: the given count, and ``None`` means 1 (LiteRT's
    Python interpreter passes ``num_threads or 1`` to its C++ builder, and its builtin
    CPU backend defaults to one thread too). BLAS is process-global, so ``invoke``
    sets the count, runs, and restores the previous one.

    Thread pools of kernel tiers (the compiled tier's numba workers) register in
    ``kernels.thread_pools`` and get the same count: one count for every layer.

    The libraries are found once per process, on the first invoke: OpenBLAS (numpy's
    wheels) directly from the loaded shared objects (``/proc/self/maps``, a fraction
    of a millisecond), any other BLAS through ``threadpoolctl`` when it is installed;
    with neither, the count is left alone. Each invoke then costs two C calls.
    """

    _controls: list[tuple[Callable[[], int], Callable[[int], object]]] | None = None

    @classmethod
    def controls(cls) -> list[tuple[Callable[[], int], Callable[[int], object]]]:
        if cls._controls is None:
            cls._controls = _openblas_controls() or _threadpoolctl_controls()
        if EXTRA_THREAD_CONTROLS:  # other kernels' pools (the compiled tier's numba workers)
            return cls._controls + EXTRA_THREAD_CONTROLS
        return cls._controls

    def __init__(self, count: int):
        self.count = count
        self._saved: list[int] = []

    def __enter__(self) -> "BlasThreads":
        self._outer_request = set_requested_threads(self.count)
        self._saved = []
        for get, set_ in self.controls():
            before = get()
            self._saved.append(before)
            if before != self.count:
                set_(self.count)
        return self

    def __exit__(self, *exc) -> None:
        set_requested_threads(self._outer_request)
        for (get, set_), before in zip(self.controls(), self._saved):
            if before != self.count:
                set_(before)


def _openblas_controls() -> list:
    """(get, set) thread-count functions of every OpenBLAS loaded in this process (Linux)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split(None, 5)[5].strip() for line in maps
                     if "openblas" in line and line.count(" ") >= 5 and ".so" in line}
    except OSError:
        return []
    controls = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        for prefix in ("", "scipy_"):
            for suffix in ("", "64_", "_64"):
                get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype, get.argtypes = ctypes.c_int, []
                    set_.restype, set_.argtypes = None, [ctypes.c_int]
                    controls.append((get, set_))
                    break
            else:
                continue
            break
    return controls


def _threadpoolctl_controls() -> list:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional: without it num_threads does not reach BLAS
        return []
    return [(lib.get_num_threads, lib.set_num_threads)
            for lib in ThreadpoolController().select(user_api="blas").lib_controllers]


class ResizeError(RuntimeError, ValueError):
    """A bad resize_tensor_input. LiteRT raises RuntimeError (its docstring says ValueError): both match."""


def _resolver_type(value) -> OpResolverType | None:
    if isinstance(value, OpResolverType):
        return value
    name = getattr(value, "name", None)  # LiteRT's own enum works too
    if isinstance(name, str) and name in OpResolverType.__members__:
        return OpResolverType[name]
    return None


class SignatureRunner:
    """Runs one SignatureDef by name: ``runner(x=...) -> {output name: array}``.

    Get it from :meth:`Interpreter.get_signature_runner`.
    """

    def __init__(self, interpreter: "Interpreter | None" = None, signature_key: str | None = None):
        if not interpreter:
            raise ValueError("None interpreter provided.")
        if not signature_key:
            raise ValueError("None signature_key provided.")
        self._interpreter = interpreter
        self._signature_key = signature_key
        full = interpreter._get_full_signature_list()
        if signature_key not in full:
            raise ValueError(f'Invalid signature_key provided: "{signature_key}".')
        self._inputs = full[signature_key]["inputs"]
        self._outputs = full[signature_key]["outputs"]
        self._subgraph_index = interpreter._signature_subgraph(signature_key)

    def __call__(self, **kwargs) -> dict[str, np.ndarray]:
        if len(kwargs) != len(self._inputs):
            raise ValueError("Invalid number of inputs provided for running a SignatureDef, "
                             f"expected {len(self._inputs)} vs provided {len(kwargs)}")
        it = self._interpreter
        with it._guard.exclusive():  # the whole call is one atomic sequence (runtime/concurrency.py)
            for name, value in kwargs.items():
                if name not in self._inputs:
                    raise ValueError(f"Invalid Input name ({name}) for SignatureDef")
                it._resize(self._inputs[name], np.shape(value), False, self._subgraph_index)
            it._allocate(self._subgraph_index)
            it._guard.before_set()
            for name, value in kwargs.items():
                it._set(self._inputs[name], value, self._subgraph_index)
            it._guard.before_invoke()
            it._invoke(self._subgraph_index)
            return {name: it.get_tensor(t, self._subgraph_index) for name, t in self._outputs.items()}

    def get_input_details(self) -> dict[str, dict]:
        """Input name -> tensor details (the same fields as Interpreter.get_input_details)."""
        return {name: self._interpreter._get_tensor_details(t, self._subgraph_index)
                for name, t in self._inputs.items()}

    def get_output_details(self) -> dict[str, dict]:
        """Output name -> tensor details."""
        return {name: self._interpreter._get_tensor_details(t, self._subgraph_index)
                for name, t in self._outputs.items()}


class Interpreter:
    """Runs a ``.tflite`` model; the API of ``ai_edge_litert.interpreter.Interpreter``.

    >>> it = Interpreter(model_path="model.tflite")          # doctest: +SKIP
    >>> it.allocate_tensors()
    >>> it.set_tensor(it.get_input_details()[0]["index"], x)
    >>> it.invoke()
    >>> y = it.get_tensor(it.get_output_details()[0]["index"])
    """

    def __init__(self, model_path: str | os.PathLike | None = None, model_content: bytes | None = None,
                 experimental_delegates: list | None = None, num_threads: int | None = None,
                 experimental_op_resolver_type=OpResolverType.AUTO,
                 experimental_preserve_all_tensors: bool = False,
                 experimental_disable_delegate_clustering: bool = False,
                 experimental_default_delegate_latest_features: bool = False,
                 experimental_compress_quantization_zero_points: bool = False,
                 experimental_disable_delegate_node_fusion: bool = False,
                 experimental_force_delegate_node_profiling: bool = False,
                 custom_op_registerers: list | None = None,
                 max_memory_bytes: int | None = None, max_loop_iterations: int | None = None,
                 numerics: str = "litert"):
        # The other delegate-related flags are accepted for compatibility (no effect in edgelite).
        self._experimental_compress_quantization_zero_points = experimental_compress_quantization_zero_points
        if _resolver_type(experimental_op_resolver_type) is None:
            raise ValueError(f"Unrecognized passed in op resolver type: {experimental_op_resolver_type}")
        if num_threads is not None:
            if not isinstance(num_threads, int):
                raise ValueError("type of num_threads should be int")
            if num_threads < 1:
                raise ValueError("num_threads should >= 1")
        if model_path and not model_content:
            try:
                model = load_model(os.fspath(model_path))
            except (OSError, ModelError) as e:
                raise ValueError(f"Could not open '{os.fspath(model_path)}': {e}") from e
        elif model_content and not model_path:
            if isinstance(model_content, Model):
                model = model_content
            else:
                try:
                    model = load_model(bytes(model_content))
                except ModelError as e:
                    raise ValueError(f"The model is not a valid Flatbuffer buffer: {e}") from e
        elif not model_content and not model_path:
            raise ValueError("`model_path` or `model_content` must be specified.")
        else:
            raise ValueError("Can't both provide `model_path` and `model_content`")
        check_structure(model)  # call cycles, control-flow signatures (docs/reliability.md)
        self._delegation = None  # edgelite/delegates: partitions replaced by DELEGATE nodes
        if experimental_delegates:
            from .delegates.apply import apply_delegates
            self._delegation = apply_delegates(model, experimental_delegates, num_threads or 1)
            model = self._delegation.model
        self.model = model
        self._blas_threads = BlasThreads(num_threads or 1)
        # custom_op_registerers: kernels for this interpreter's custom ops (docs/custom_ops.md)
        # numerics: "litert" (LiteRT's builtin kernels) or "tflm" (TFLite Micro's; docs/micro.md)
        resolver = OpResolver(numerics=numerics)
        apply_registerers(resolver, custom_op_registerers)
        self._runtime = Runtime(model, preserve_all_tensors=bool(experimental_preserve_all_tensors),
                                resolver=resolver, budget=MemoryBudget(max_memory_bytes),
                                cancel_token=CancelToken(max_loop_iterations))
        self._guard = UseGuard()  # one call at a time; interleaved sequences raise (runtime/concurrency.py)
        self._allocated: set[int] = set()
        self._signature_defs = self.get_signature_list()
        if self._delegation is not None:
            self._delegation.install(self._runtime.resolver)

    # -- helpers ------------------------------------------------------------------
    def _check_subgraph(self, subgraph_index: int) -> None:
        n = len(self.model.subgraphs)
        if not 0 <= int(subgraph_index) < n:
            raise ValueError(f"Invalid subgraph index {subgraph_index} exceeds max subgraph index {n}")

    def _check_tensor(self, tensor_index: int, subgraph_index: int = 0) -> int:
        self._check_subgraph(subgraph_index)
        n = len(self.model.subgraphs[subgraph_index].tensors)
        try:
            index = int(tensor_index)
        except (TypeError, ValueError):
            raise ValueError(f"Invalid tensor index {tensor_index!r}: not an integer") from None
        if not 0 <= index < n:
            raise ValueError(f"Invalid tensor index {tensor_index} exceeds max tensor index {n}")
        return index

    def _ex(self, subgraph_index: int = 0):
        return self._runtime.executor(int(subgraph_index))

    def _safe_to_run(self) -> bool:
        """True if no array from tensor() still points into an arena (LiteRT's rule)."""
        for ex in self._runtime.executors:
            if ex is not None and ex.arena_guard is not None and sys.getrefcount(ex.arena_guard) > 2:
                return False
        return True

    def _ensure_safe(self) -> None:
        if not self._safe_to_run():
            raise RuntimeError("There is at least 1 reference to internal data in the interpreter in the "
                               "form of a numpy array or slice. Be sure to only hold the function returned "
                               "from tensor() if you are using raw data access.")

    def _signature_subgraph(self, key: str) -> int:
        for sig in self.model.signature_defs:
            if sig.key == key:
                return sig.subgraph_index
        raise ValueError(f'Invalid signature_key provided: "{key}".')

    # -- allocation ---------------------------------------------------------------
    def allocate_tensors(self) -> None:
        """Prepare every node for the current input shapes and plan memory (needed before invoke)."""
        with self._guard.lock:
            self._ensure_safe()
            self._allocate(0)

    def _allocate(self, subgraph_index: int) -> None:
        with gc_paused():  # kernels, specs and buffers are long-lived: see reader.gc_paused
            self._runtime.check_supported()
            ex = self._ex(subgraph_index)
            ex.allocate()
        self._allocated.add(subgraph_index)

    def resize_tensor_input(self, input_index: int, tensor_size, strict: bool = False) -> None:
        """Resize an input tensor (then call allocate_tensors). With ``strict`` only -1 dims may change."""
        with self._guard.lock:
            self._ensure_safe()
            self._resize(input_index, np.array(tensor_size, dtype=np.int32), strict, 0)

    def _resize(self, tensor_index, shape, strict: bool, subgraph_index: int) -> None:
        ex = self._ex(subgraph_index)
        sg = ex.subgraph
        n = len(sg.tensors)
        try:
            t = int(tensor_index)
        except (TypeError, ValueError):
            raise ResizeError(f"Invalid tensor index {tensor_index!r}") from None
        if not 0 <= t < n:
            raise ResizeError(f"tensor_index {t} out of range: tensor_index < {n} && tensor_index >= 0 "
                              "was not true.")
        if t in ex._consts:
            raise ResizeError(f"Attempting to resize a fixed-size tensor: tensor {t} "
                              f"({sg.tensors[t].name!r}) is a constant")
        if t not in sg.inputs:
            return  # LiteRT accepts it; allocate_tensors recomputes every non-input shape anyway
        shape = tuple(int(d) for d in np.asarray(shape, dtype=np.int64).reshape(-1))
        if any(d < 0 for d in shape):
            raise ResizeError(f"Cannot resize tensor {t} to {list(shape)}: dimensions must be >= 0")
        position = sg.inputs.index(t)
        if strict:
            sig = sg.tensors[t].signature
            current = ex.input_shapes[position]
            if len(sig) != len(shape):
                raise ResizeError(f"Attempting to resize tensor {t} of rank {len(sig)} to rank {len(shape)}. "
                                  "ResizeInputTensorStrict only allows mutating unknown dimensions "
                                  "identified by -1.")
            for i, (s, old, new) in enumerate(zip(sig, current, shape)):
                if s != -1 and old != new:
                    raise ResizeError(f"Attempting to resize dimension {i} of tensor {t} with value {old} "
                                      f"to {new}. ResizeInputTensorStrict only allows mutating unknown "
                                      "dimensions identified by -1.")
        ex.resize_input(position, shape)
        if not ex.allocated:
            self._allocated.discard(subgraph_index)

    # -- data ---------------------------------------------------------------------
    def set_tensor(self, tensor_index: int, value) -> None:
        """Copy ``value`` into a tensor (its dtype and shape must match exactly)."""
        with self._guard.lock:
            self._guard.before_set()
            self._set(tensor_index, value, 0)

    def _set(self, tensor_index, value, subgraph_index: int) -> None:
        t = self._check_tensor(tensor_index, subgraph_index)
        ex = self._ex(subgraph_index)
        buf = ex.buffers[t] if ex.allocated else None
        if buf is None:
            raise ValueError("Cannot set tensor: Tensor is unallocated. Try calling allocate_tensors() first")
        if not buf.flags.writeable:
            raise ValueError(f"Cannot set tensor: tensor {t} ({ex.subgraph.tensors[t].name!r}) is a constant")
        value = np.asarray(value)
        if value.dtype != buf.dtype:
            raise ValueError(f"Cannot set tensor: Got value of type {_type_name(value.dtype)} but expected type "
                             f"{tensor_type_name(ex.subgraph.tensors[t].dtype)} for input {t}, "
                             f"name: {ex.subgraph.tensors[t].name} ")
        if value.ndim != buf.ndim:
            raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {value.ndim} but expected "
                             f"{buf.ndim} for input {t}.")
        for i, (got, want) in enumerate(zip(value.shape, buf.shape)):
            if got != want:
                raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {got} but expected {want} "
                                 f"for dimension {i} of input {t}.")
        np.copyto(buf, value)

    def get_tensor(self, tensor_index: int, subgraph_index: int = 0) -> np.ndarray:
        """A copy of a tensor's value (inputs, outputs, constants; intermediates only with
        ``experimental_preserve_all_tensors=True``, otherwise their memory may have been reused)."""
        with self._guard.lock:
            t = self._check_tensor(tensor_index, subgraph_index)
            self._guard.before_get()
            ex = self._ex(subgraph_index)
            buf = ex.buffers[t]
            if buf is None or not (ex.allocated or t in ex._consts):
                raise ValueError("Tensor data is null. Run allocate_tensors() first")
            ex.fill_pending_constants(t)  # a folded constant whose values wait for the first invoke
            return np.array(buf, copy=True)

    def tensor(self, tensor_index: int) -> Callable[[], np.ndarray]:
        """A function returning a numpy view of the tensor's current buffer (no copy).

        Do not hold the view across allocate_tensors() or invoke(): they raise
        RuntimeError while such a view is alive, as LiteRT does.
        """
        def view() -> np.ndarray:
            t = self._check_tensor(tensor_index, 0)
            ex = self._ex(0)
            buf = ex.buffers[t]
            if buf is None or not (ex.allocated or t in ex._consts):
                raise ValueError("Tensor data is null. Run allocate_tensors() first")
            ex.fill_pending_constants(t)
            if t in ex.offsets and ex.arena_guard is not None:
                off = ex.offsets[t]
                raw = np.asarray(ex.arena_guard)[off:off + buf.nbytes]
                return raw.view(buf.dtype).reshape(buf.shape)
            return buf[...]
        return view

    # -- running ------------------------------------------------------------------
    def invoke(self, timeout: float | None = None) -> None:
        """Run the model (subgraph 0). Raises RuntimeError if tensors are not allocated.

        edgelite extension: with ``timeout`` (seconds) the run stops with
        :class:`edgelite.CancelledError` once it has taken longer (see :meth:`cancel`)."""
        with self._guard.lock:
            self._ensure_safe()
            self._guard.before_invoke()
            self._invoke(0, timeout)

    def _invoke(self, subgraph_index: int, timeout: float | None = None) -> None:
        ex = self._ex(subgraph_index)
        if subgraph_index not in self._allocated or not ex.allocated:
            raise RuntimeError("Invoke called on model that is not ready: call allocate_tensors() first "
                               "(and again after resize_tensor_input).")
        token = self._runtime.cancel_token
        token.start(timeout)  # clears an old cancel request (as LiteRT), arms the timeout
        try:
            with self._blas_threads:
                ex.invoke()
        finally:
            token.finish()

    def cancel(self) -> None:
        """edgelite extension (LiteRT's C++ ``Interpreter::Cancel``): from any thread, stop the
        invoke in progress at its next node or WHILE iteration; it raises
        :class:`edgelite.CancelledError` and the interpreter stays usable. A request made while
        no invoke runs is dropped when the next one starts."""
        self._runtime.cancel_token.cancel()

    def exclusive(self):
        """edgelite extension: ``with interpreter.exclusive(): set_tensor ... invoke ... get_tensor``
        keeps other threads' calls out for the whole sequence (docs/reliability.md)."""
        return self._guard.exclusive()

    def reset_all_variables(self) -> None:
        """Reset variable tensors (``is_variable``, e.g. RNN states) to their initial values."""
        with self._guard.lock:
            self._runtime.reset_variable_tensors()

    def set_profiler(self, callback: Callable[[OpTiming], None] | None) -> None:
        """edgelite extension: call ``callback(OpTiming(node_index, op_name, seconds, subgraph_index))``
        after every node of the invoked subgraph (nested control-flow subgraphs count in their node).
        ``None`` turns profiling off."""
        self._runtime.profiler = callback

    # -- details ------------------------------------------------------------------
    def num_subgraphs(self) -> int:
        return len(self.model.subgraphs)

    def _get_tensor_details(self, tensor_index: int, subgraph_index: int) -> dict:
        t = self._check_tensor(tensor_index, subgraph_index)
        ex = self._ex(subgraph_index)
        tensor = ex.subgraph.tensors[t]
        q = tensor.quantization
        scales = q.scale.astype(np.float32) if q is not None else np.zeros(0, np.float32)
        zero_points = q.zero_point.astype(np.int32) if q is not None else np.zeros(0, np.int32)
        if zero_points.size == 0 and scales.size:
            zero_points = np.zeros(scales.size, np.int32)
        per_tensor = (float(scales[0]), int(zero_points[0])) if scales.size == 1 else (0.0, 0)
        return {
            "name": tensor.name,
            "index": t,
            "shape": np.array(ex.current_shape(t), dtype=np.int32),
            "shape_signature": np.array(tensor.signature, dtype=np.int32),
            "dtype": tensor.numpy_dtype.type,
            "quantization": per_tensor,
            "quantization_parameters": {
                "scales": scales,
                "zero_points": zero_points,
                "quantized_dimension": int(q.quantized_dimension) if q is not None else 0,
                "block_size": 0,
            },
            "sparsity_parameters": _sparsity_details(tensor.sparsity),
        }

    def get_tensor_details(self, subgraph_index: int = 0) -> list[dict]:
        n = len(self.model.subgraphs)
        if subgraph_index < 0 or subgraph_index >= n:
            raise ValueError(f"subgraph_index is out of range: {subgraph_index} for the model, "
                             f"which has {n} subgraphs.")
        return [self._get_tensor_details(i, subgraph_index)
                for i in range(len(self.model.subgraphs[subgraph_index].tensors))]

    def get_input_details(self) -> list[dict]:
        return [self._get_tensor_details(i, 0) for i in self.model.main.inputs]

    def get_output_details(self) -> list[dict]:
        return [self._get_tensor_details(i, 0) for i in self.model.main.outputs]

    def _get_op_details(self, op_index: int) -> dict:
        ops = self.model.main.operators
        if not 0 <= int(op_index) < len(ops):
            raise ValueError("Invalid node index")
        op = ops[int(op_index)]
        tensors = self.model.main.tensors
        return {
            "index": int(op_index),
            "op_name": op.name,
            "inputs": np.array(op.inputs, dtype=np.int32),
            "outputs": np.array(op.outputs, dtype=np.int32),
            "operand_types": [tensors[t].numpy_dtype.type for t in op.inputs if t != -1],
            "result_types": [tensors[t].numpy_dtype.type for t in op.outputs if t != -1],
        }

    def _get_ops_details(self) -> list[dict]:
        return [self._get_op_details(i) for i in range(len(self.model.main.operators))]

    # -- signatures ---------------------------------------------------------------
    def _get_full_signature_list(self) -> dict[str, dict[str, dict[str, int]]]:
        return {sig.key: {"inputs": dict(sorted(sig.inputs.items())), "outputs": dict(sorted(sig.outputs.items()))}
                for sig in self.model.signature_defs}

    def get_signature_list(self) -> dict[str, dict[str, list[str]]]:
        return {key: {"inputs": list(v["inputs"]), "outputs": list(v["outputs"])}
                for key, v in self._get_full_signature_list().items()}

    def get_signature_runner(self, signature_key: str | None = None) -> SignatureRunner:
        """A callable running one SignatureDef; ``None`` is allowed when the model has exactly one."""
        if signature_key is None:
            if len(self._signature_defs) != 1:
                raise ValueError(f"SignatureDef signature_key is None and model has {len(self._signature_defs)} "
                                 "Signatures. None is only allowed when the model has 1 SignatureDef")
            signature_key = next(iter(self._signature_defs))
        return SignatureRunner(interpreter=self, signature_key=signature_key)

    @property
    def experimental_compress_quantization_zero_points(self) -> bool:
        return self._experimental_compress_quantization_zero_points

    # -- edgelite extensions --------------------------------------------------------
    def arena_bytes(self, subgraph_index: int = 0) -> int:
        """Size of the activation arena planned for a subgraph (after allocation)."""
        return self._ex(subgraph_index).plan_stats[0]

    def planned_bytes(self, subgraph_index: int = 0) -> int:
        """Sum of the sizes of the tensors placed in the arena (what no reuse would take)."""
        return self._ex(subgraph_index).plan_stats[1]


def _type_name(dtype: np.dtype) -> str:
    try:
        return tensor_type_name(tensor_type_of(dtype))
    except Exception:  # a dtype with no TFLite type
        return str(dtype).upper()


def _sparsity_details(sparsity) -> dict:
    if sparsity is None:
        return {}
    dims = []
    for dm in sparsity.dim_metadata:
        if dm.format == 0:
            dims.append({"format": 0, "dense_size": int(dm.dense_size)})
        else:
            dims.append({"format": 1, "array_segments": np.asarray(dm.array_segments, np.int32),
                         "array_indices": np.asarray(dm.array_indices, np.int32)})
    return {"traversal_order": np.array(sparsity.traversal_order, np.int32),
            "block_map": np.array(sparsity.block_map, np.int32), "dim_metadata": dims}


class InterpreterWithCustomOps(Interpreter):
    """LiteRT's ``InterpreterWithCustomOps``: ``Interpreter`` with ``custom_op_registerers`` first.

    Registerers are Python callables or names (see :mod:`edgelite.kernels.custom_ops`).
    """

    def __init__(self, custom_op_registerers: list | None = None, **kwargs):
        super().__init__(custom_op_registerers=custom_op_registerers, **kwargs)

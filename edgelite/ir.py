"""The one in-memory model form shared by reader, writer, interpreter, converter
and optimizers.

A :class:`Model` holds :class:`Subgraph` objects; each subgraph owns a list of
:class:`Tensor` and a list of :class:`Operator` that refer to tensors by index
into that list (``-1`` marks an omitted optional input), exactly as a
``.tflite`` file does. Constant data live on the tensor (``Tensor.data``, a
numpy array that is a zero-copy view into the file when loaded); the writer
decides how buffers are laid out, deduplicating arrays that are the same object.

Editing is plain attribute and list manipulation, with helpers for the common
patterns: ``Subgraph.add_tensor``, ``add_constant``, ``add_operator``,
``producers``/``consumers``, ``replace_uses`` and ``remove_unused``.
``Model.validate()`` checks every cross reference and raises
:class:`edgelite.ModelError` naming what is wrong.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import ModelError
from .schema import (OPTIONS_FOR_OP, TABLES, TENSOR_BITS, TENSOR_DTYPES, TensorType,
                     options_defaults, tensor_type_name, tensor_type_of)


@dataclass(eq=False)
class Quantization:
    """Affine quantization: ``real = scale * (q - zero_point)``, per tensor or per axis."""

    scale: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    zero_point: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    quantized_dimension: int = 0
    min: np.ndarray | None = None
    max: np.ndarray | None = None
    details: tuple[int, dict] | None = None  # (QuantizationDetails code, table) for custom schemes

    def __post_init__(self):
        self.scale = np.asarray(self.scale, np.float32).reshape(-1)
        self.zero_point = np.asarray(self.zero_point, np.int64).reshape(-1)

    @property
    def per_axis(self) -> bool:
        return self.scale.size > 1

    def is_empty(self) -> bool:
        return (self.scale.size == 0 and self.zero_point.size == 0 and self.min is None
                and self.max is None and self.details is None)

    def same_as(self, other: "Quantization | None") -> bool:
        if other is None:
            return self.is_empty()
        return (np.array_equal(self.scale, other.scale)
                and np.array_equal(self.zero_point, other.zero_point)
                and self.quantized_dimension == other.quantized_dimension
                and _opt_equal(self.min, other.min) and _opt_equal(self.max, other.max)
                and _canon(self.details) == _canon(other.details))


@dataclass(eq=False)
class DimensionMetadata:
    """One dimension of a sparse tensor: DENSE (``dense_size``) or SPARSE_CSR (segments + indices)."""

    format: int = 0  # DimensionType: 0 DENSE, 1 SPARSE_CSR
    dense_size: int = 0
    array_segments: np.ndarray | None = None
    array_indices: np.ndarray | None = None


@dataclass(eq=False)
class Sparsity:
    """TFLite's sparse tensor encoding (a generalised CSR, see docs/format.md)."""

    traversal_order: list[int] = field(default_factory=list)
    block_map: list[int] = field(default_factory=list)
    dim_metadata: list[DimensionMetadata] = field(default_factory=list)


@dataclass(eq=False)
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: int = TensorType.FLOAT32  # a TensorType code
    data: np.ndarray | None = None  # constant contents; None for activations
    quantization: Quantization | None = None
    shape_signature: tuple[int, ...] | None = None
    is_variable: bool = False
    sparsity: Sparsity | None = None
    has_rank: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # rarely used schema fields, kept verbatim

    def __post_init__(self):
        self.shape = tuple(int(d) for d in self.shape)
        if self.shape_signature is not None:
            self.shape_signature = tuple(int(d) for d in self.shape_signature)
        self.dtype = int(self.dtype)

    @property
    def is_constant(self) -> bool:
        return self.data is not None and not self.is_variable

    @property
    def numpy_dtype(self) -> np.dtype:
        return TENSOR_DTYPES.get(self.dtype) or np.dtype("O")

    @property
    def type_name(self) -> str:
        return tensor_type_name(self.dtype)

    @property
    def nbytes(self) -> int:
        """Bytes the tensor's data occupy (stored size for constants, dense size otherwise)."""
        if self.data is not None:
            return int(self.data.nbytes)
        n = 1
        for d in self.shape:
            n *= max(d, 0)  # unknown (-1) dimensions count as empty
        return (n * TENSOR_BITS.get(self.dtype, 0) + 7) // 8

    @property
    def signature(self) -> tuple[int, ...]:
        return self.shape_signature if self.shape_signature is not None else self.shape


@dataclass(eq=False)
class Operator:
    """One op. ``opcode`` is the builtin name ('CONV_2D') or 'CUSTOM' with ``custom_code``."""

    opcode: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any] | None = None
    options_type: str | None = None  # BuiltinOptions member name, e.g. 'Conv2DOptions'
    version: int = 1
    custom_code: str | None = None
    custom_options: bytes | np.ndarray | None = None
    options2: dict[str, Any] | None = None
    options2_type: str | None = None
    intermediates: list[int] = field(default_factory=list)
    mutating_variable_inputs: list[bool] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.inputs = [int(i) for i in self.inputs]
        self.outputs = [int(i) for i in self.outputs]
        if self.options_type is None and self.opcode in OPTIONS_FOR_OP:
            table = OPTIONS_FOR_OP[self.opcode]
            if TABLES[table]:  # tables with no fields are left out, as TF's converter does
                self.options_type = table
        if self.options_type is not None:
            merged = options_defaults(self.options_type)
            unknown = set(self.options or {}) - set(merged)
            if unknown:
                raise ModelError(f"{self.opcode}: unknown option(s) {sorted(unknown)} for "
                                 f"{self.options_type}; valid: {sorted(merged)}")
            merged.update(self.options or {})
            self.options = merged

    @property
    def name(self) -> str:
        return self.custom_code if self.opcode == "CUSTOM" and self.custom_code else self.opcode

    def opt(self, key: str, default=None):
        return (self.options or {}).get(key, default)


@dataclass(eq=False)
class Subgraph:
    tensors: list[Tensor] = field(default_factory=list)
    operators: list[Operator] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    # -- building ---------------------------------------------------------------
    def add_tensor(self, name: str, shape: Sequence[int], dtype=TensorType.FLOAT32, **kw) -> int:
        """Append a tensor and return its index. ``dtype`` is a TensorType or numpy dtype."""
        if not isinstance(dtype, (int, TensorType)):
            dtype = tensor_type_of(dtype)
        self.tensors.append(Tensor(name=name, shape=tuple(shape), dtype=dtype, **kw))
        return len(self.tensors) - 1

    def add_constant(self, name: str, value, dtype=None, quantization: Quantization | None = None) -> int:
        """Append a constant tensor holding ``value`` (converted to ``dtype`` if given)."""
        arr = np.asarray(value) if dtype is None else np.asarray(value, dtype=dtype)
        if arr.dtype == np.float64 and dtype is None:
            arr = arr.astype(np.float32)
        if not arr.flags.c_contiguous:  # (np.ascontiguousarray would make a 0-d value 1-d)
            arr = arr.copy(order="C")
        return self.add_tensor(name, arr.shape, tensor_type_of(arr.dtype), data=arr,
                               quantization=quantization)

    def add_operator(self, opcode: str, inputs: Sequence[int], outputs: Sequence[int],
                     options: dict | None = None, **kw) -> Operator:
        op = Operator(opcode=opcode, inputs=list(inputs), outputs=list(outputs), options=options, **kw)
        self.operators.append(op)
        return op

    # -- queries ---------------------------------------------------------------
    def producers(self) -> dict[int, int]:
        """tensor index -> index of the operator that writes it."""
        return {t: i for i, op in enumerate(self.operators) for t in op.outputs if t >= 0}

    def consumers(self) -> dict[int, list[int]]:
        """tensor index -> indices of the operators that read it."""
        out: dict[int, list[int]] = {}
        for i, op in enumerate(self.operators):
            for t in op.inputs:
                if t >= 0:
                    out.setdefault(t, []).append(i)
        return out

    def tensor_by_name(self, name: str) -> int:
        for i, t in enumerate(self.tensors):
            if t.name == name:
                return i
        raise KeyError(f"no tensor named {name!r} in subgraph {self.name!r}")

    # -- rewriting -------------------------------------------------------------
    def replace_uses(self, old: int, new: int) -> None:
        """Make every reader of tensor ``old`` (ops and subgraph outputs) read ``new``."""
        for op in self.operators:
            op.inputs = [new if t == old else t for t in op.inputs]
        self.outputs = [new if t == old else t for t in self.outputs]

    def remove_unused(self, keep: Iterable[int] = ()) -> list[int]:
        """Drop ops whose outputs nobody needs and tensors nobody references.

        Returns the old->new index map (``-1`` for removed tensors). Ops with side
        effects (variables, control flow, custom) are kept.
        """
        side_effects = {"ASSIGN_VARIABLE", "CALL_ONCE", "WHILE", "IF", "CALL", "CUSTOM", "VAR_HANDLE"}
        needed = set(self.outputs) | set(keep)
        live_ops = []
        for op in reversed(self.operators):
            if op.opcode in side_effects or any(t in needed for t in op.outputs):
                live_ops.append(op)
                needed.update(t for t in op.inputs + op.intermediates if t >= 0)
        self.operators = live_ops[::-1]
        used = set(self.inputs) | set(self.outputs) | set(keep)
        for op in self.operators:
            used.update(t for t in op.inputs + op.outputs + op.intermediates if t >= 0)
        mapping, new_tensors = [], []
        for i, t in enumerate(self.tensors):
            if i in used:
                mapping.append(len(new_tensors))
                new_tensors.append(t)
            else:
                mapping.append(-1)
        self.tensors = new_tensors
        remap = lambda ts: [mapping[t] if t >= 0 else t for t in ts]  # noqa: E731
        for op in self.operators:
            op.inputs, op.outputs, op.intermediates = remap(op.inputs), remap(op.outputs), remap(op.intermediates)
        self.inputs, self.outputs = remap(self.inputs), remap(self.outputs)
        return mapping


@dataclass(eq=False)
class SignatureDef:
    key: str
    subgraph_index: int = 0
    inputs: dict[str, int] = field(default_factory=dict)  # signature name -> tensor index
    outputs: dict[str, int] = field(default_factory=dict)


@dataclass(eq=False)
class Model:
    subgraphs: list[Subgraph] = field(default_factory=list)
    description: str = "edgelite"
    version: int = 3
    metadata: dict[str, bytes | np.ndarray] = field(default_factory=dict)
    signature_defs: list[SignatureDef] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # A zip archive the file carries after its FlatBuffer (the associated files of TFLite
    # metadata), offsets counted from its own start; saved after the model (edgelite.appended_zip).
    appended_zip: bytes | None = None

    # -- I/O -------------------------------------------------------------------
    def to_bytes(self, **kw) -> bytes:
        """Serialize to ``.tflite`` bytes (see :func:`edgelite.writer.write_model`)."""
        from .writer import write_model
        return write_model(self, **kw)

    def save(self, path: str | os.PathLike, **kw) -> None:
        from .writer import save_model
        save_model(self, path, **kw)

    # -- queries ---------------------------------------------------------------
    @property
    def main(self) -> Subgraph:
        return self.subgraphs[0]

    def _repr_html_(self) -> str:
        """Jupyter shows the model as edgelite.viz's graph viewer (imported only here)."""
        from .viz import View
        return View(self)._repr_html_()

    def op_histogram(self) -> dict[str, int]:
        hist: dict[str, int] = {}
        for sg in self.subgraphs:
            for op in sg.operators:
                hist[op.name] = hist.get(op.name, 0) + 1
        return dict(sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])))

    def validate(self) -> "Model":
        """Check every cross reference; raise :class:`ModelError` naming the first problem."""
        if not self.subgraphs:
            raise ModelError("Model.subgraphs: a model needs at least one subgraph")
        n_sg = len(self.subgraphs)
        for si, sg in enumerate(self.subgraphs):
            n = len(sg.tensors)
            where = f"Model.subgraphs[{si}]"
            for field_name in ("inputs", "outputs"):
                for j, t in enumerate(getattr(sg, field_name)):
                    if not 0 <= t < n:
                        raise ModelError(f"{where}.{field_name}[{j}]: tensor index {t} out of range (0..{n - 1})")
            for oi, op in enumerate(sg.operators):
                for field_name in ("inputs", "outputs", "intermediates"):
                    for j, t in enumerate(getattr(op, field_name)):
                        if not (-1 <= t < n) or (t == -1 and field_name != "inputs"):
                            raise ModelError(f"{where}.operators[{oi}].{field_name}[{j}]: tensor index "
                                             f"{t} out of range (0..{n - 1}) in {op.name}")
                for key in _SUBGRAPH_OPTION_FIELDS:
                    idx = op.opt(key)
                    if idx is not None and op.options_type and not 0 <= idx < n_sg:
                        raise ModelError(f"{where}.operators[{oi}].builtin_options.{key}: subgraph index "
                                         f"{idx} out of range (0..{n_sg - 1}) in {op.name}")
            for ti, t in enumerate(sg.tensors):
                _check_tensor_data(t, f"{where}.tensors[{ti}]")
        for i, sig in enumerate(self.signature_defs):
            if not 0 <= sig.subgraph_index < n_sg:
                raise ModelError(f"Model.signature_defs[{i}].subgraph_index: {sig.subgraph_index} out of "
                                 f"range (0..{n_sg - 1})")
            n = len(self.subgraphs[sig.subgraph_index].tensors)
            for kind in ("inputs", "outputs"):
                for name, t in getattr(sig, kind).items():
                    if not 0 <= t < n:
                        raise ModelError(f"Model.signature_defs[{i}].{kind}[{name!r}]: tensor index {t} "
                                         f"out of range (0..{n - 1})")
        return self

    # -- comparison --------------------------------------------------------------
    def equals(self, other: "Model") -> bool:
        """Semantic equality: same graph, tensors, data, options, signatures, metadata."""
        return _canon(self) == _canon(other)

    def __eq__(self, other):
        return isinstance(other, Model) and self.equals(other)

    __hash__ = None  # mutable


_SUBGRAPH_OPTION_FIELDS = ("then_subgraph_index", "else_subgraph_index", "cond_subgraph_index",
                           "body_subgraph_index", "init_subgraph_index", "subgraph",
                           "decomposition_subgraph_index")


def expected_data_bytes(t: Tensor) -> int | None:
    """Bytes a dense constant of this tensor must hold, or None where it is not fixed."""
    if t.sparsity is not None or t.dtype in (TensorType.STRING, TensorType.RESOURCE, TensorType.VARIANT):
        return None
    if any(d < 0 for d in t.shape):
        return None
    n = 1
    for d in t.shape:
        n *= d
    return (n * TENSOR_BITS.get(t.dtype, 0) + 7) // 8


def _check_tensor_data(t: Tensor, where: str) -> None:
    if t.data is None:
        return
    expected = expected_data_bytes(t)
    if expected is not None and t.data.nbytes != expected:
        raise ModelError(f"{where}: {t.type_name} tensor {t.name!r} of shape {list(t.shape)} needs "
                         f"{expected} bytes but its buffer holds {t.data.nbytes}")


def _opt_equal(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return np.array_equal(np.asarray(a), np.asarray(b))


def _canon(x):
    """A hashable, comparable canonical form of IR objects (for equality tests)."""
    if isinstance(x, np.ndarray):
        return ("nd", x.dtype.str, x.shape, x.tobytes())
    if isinstance(x, (bytes, bytearray, memoryview)):
        return ("bytes", bytes(x))
    if isinstance(x, dict):
        return tuple(sorted((k, _canon(v)) for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return tuple(_canon(v) for v in x)
    if isinstance(x, Quantization):
        return None if x.is_empty() else ("q", _canon(vars(x)))
    if hasattr(x, "__dataclass_fields__"):
        return (type(x).__name__, _canon(vars(x)))
    if isinstance(x, (float, np.floating)) and x != x:
        return ("nan",)
    return x

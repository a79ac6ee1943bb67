"""The state of one conversion: the TFLite subgraph being built and where each ONNX value lives.

Lowerings (``edgelite.convert.lowering``) talk only to :class:`Context`:
``shape``/``dtype``/``const`` to look at values, ``input`` to get a TFLite
tensor for a value in a wanted layout (emitting TRANSPOSE/RESHAPE or permuting
constants as needed), ``output`` to create the tensor that holds a node's result,
``emit`` to append an operator, ``constant``/``temp`` for helper tensors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Subgraph
from ..schema import tensor_type_of
from . import layout as L
from .onnx_import import Node, OnnxGraph


class Unsupported(Exception):
    """Raised by a lowering: this node cannot be expressed (the message says why)."""


class NeedsConstant(Unsupported):
    """A node needs the value of a runtime input (e.g. a Reshape shape fed by a graph input)."""

    def __init__(self, name: str, what: str):
        self.input_name = name
        super().__init__(f"input {name!r} ({what}) must be a constant")


@dataclass
class Value:
    tensor: int
    perm: L.Perm = None


def tflite_type(dt):
    """TensorType of a numpy dtype; ``Unsupported`` for types TFLite cannot hold (bfloat16, float8, int4...)."""
    try:
        return tensor_type_of(np.dtype(dt))
    except (ValueError, TypeError):
        raise Unsupported(f"element type {dt} has no TFLite tensor type") from None


class Context:
    def __init__(self, graph: OnnxGraph, subgraph: Subgraph):
        self.graph = graph
        self.sg = subgraph
        self.values: dict[str, Value] = {}
        self._const_cache: dict[tuple, int] = {}
        self._layout_cache: dict[tuple, int] = {}
        self.node: Node | None = None
        self.needs_constant: list[str] = []  # runtime inputs that lowerings needed as constants

    # -- looking at values -------------------------------------------------------
    def shape(self, name: str) -> tuple[int, ...]:
        s = self.graph.shapes.get(name)
        if s is None or any(d is None for d in s):
            raise Unsupported(f"shape of {name!r} is not static ({s}); dynamic shapes cannot be expressed")
        return tuple(int(d) for d in s)

    def rank(self, name: str) -> int:
        return len(self.shape(name))

    def dtype(self, name: str) -> np.dtype:
        if name in self.graph.consts:
            return np.asarray(self.graph.consts[name]).dtype
        if name in self.graph.dtypes:
            return self.graph.dtypes[name]
        raise Unsupported(f"type of {name!r} is unknown")

    def const(self, name: str):
        if not name:
            return None
        return self.graph.consts.get(name)

    def need_const(self, name: str, what: str) -> np.ndarray:
        v = self.const(name)
        if v is None:
            raise NeedsConstant(name, what)
        return np.asarray(v)

    def is_const(self, name: str) -> bool:
        return bool(name) and name in self.graph.consts

    def layout(self, name: str) -> L.Perm:
        if name in self.values:
            return self.values[name].perm
        return None

    # -- tensors -------------------------------------------------------------------
    def constant(self, value, dtype=None, name: str | None = None) -> int:
        arr = np.asarray(value) if dtype is None else np.asarray(value, dtype=dtype)
        arr = np.asarray(arr, order="C")  # (np.ascontiguousarray would turn a scalar into shape (1,))
        key = (arr.dtype.str, arr.shape, arr.tobytes()) if arr.size <= 64 else None
        if key is not None and key in self._const_cache:
            return self._const_cache[key]
        idx = self.sg.add_tensor(name or self._fresh("const"), arr.shape, tflite_type(arr.dtype), data=arr)
        if key is not None:
            self._const_cache[key] = idx
        return idx

    def temp(self, shape, dtype, hint: str = "tmp") -> int:
        return self.sg.add_tensor(self._fresh(hint), tuple(int(d) for d in shape), tflite_type(dtype))

    def _fresh(self, hint: str) -> str:
        base = (self.node.name if self.node is not None else "g") + "/" + hint
        return f"{base}_{len(self.sg.tensors)}"

    def input(self, name: str, perm: L.Perm = None, dtype=None) -> int:
        """A tensor holding value ``name`` physically laid out as ``perm`` (None: logical order)."""
        perm = L.norm(perm)
        if self.is_const(name):
            arr = np.asarray(self.graph.consts[name])
            if dtype is not None:
                arr = arr.astype(dtype)
            if perm is not None:
                arr = arr.transpose(perm)
            key = ("c", name, perm, None if dtype is None else np.dtype(dtype).str)
            if key not in self._layout_cache:
                self._layout_cache[key] = self.constant(arr, name=name if perm is None else f"{name}/perm")
            return self._layout_cache[key]
        if name not in self.values:
            raise Unsupported(f"value {name!r} is not produced by any converted node")
        v = self.values[name]
        if v.perm == perm:
            return v.tensor
        key = ("t", name, perm)
        if key in self._layout_cache:
            return self._layout_cache[key]
        shape = self.shape(name)
        rank = len(shape)
        src_phys = L.physical_shape(shape, v.perm)
        t = L.conversion(v.perm, perm, rank)
        out_shape = L.physical_shape(shape, perm)
        out = self.temp(out_shape, self.sg.tensors[v.tensor].numpy_dtype, f"{name}/layout")
        if L.moves_only_unit_axes(t, src_phys):
            self.emit("RESHAPE", [v.tensor, self.constant(np.array(out_shape, np.int32))], [out],
                      {"new_shape": list(out_shape)})
        else:
            self.emit("TRANSPOSE", [v.tensor, self.constant(np.array(t, np.int32))], [out])
        self._layout_cache[key] = out
        return out

    def output(self, name: str, perm: L.Perm = None, dtype=None, shape=None) -> int:
        """Create the tensor for ONNX value ``name`` laid out as ``perm`` and register it."""
        perm = L.norm(perm)
        logical = tuple(shape) if shape is not None else self.shape(name)
        dt = np.dtype(dtype) if dtype is not None else self.dtype(name)
        idx = self.sg.add_tensor(name, L.physical_shape(logical, perm), tflite_type(dt))
        self.values[name] = Value(idx, perm)
        return idx

    def alias(self, name: str, tensor: int, perm: L.Perm = None) -> None:
        """``name`` is the same data as an existing tensor (Identity, Transpose relabelling...)."""
        self.values[name] = Value(tensor, L.norm(perm))

    def forward(self, name: str, src: str) -> None:
        """Value ``name`` is value ``src`` unchanged (Identity, a one-operand Sum or Concat...):
        the same constant, or the same tensor in the same layout."""
        if self.is_const(src):
            self.graph.consts[name] = self.const(src)
            return
        perm = self.layout(src)
        self.alias(name, self.input(src, perm), perm)

    def emit(self, opcode: str, inputs, outputs, options: dict | None = None, **kw):
        return self.sg.add_operator(opcode, list(inputs), list(outputs), options, **kw)

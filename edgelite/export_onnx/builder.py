"""The ONNX graph under construction while a TFLite subgraph is lowered.

:class:`OnnxBuilder` keeps, for every TFLite tensor, the name of the ONNX value holding it
(in the tensor's own type: int8 for quantized tensors), makes initializers, and gives the
op lowerings (:mod:`edgelite.export_onnx.ops_nn`, :mod:`edgelite.export_onnx.ops_basic`)
the two views they work with:

* :meth:`OnnxBuilder.get` — a tensor as a *float* (or plain integer) value: a quantized
  int8/uint8 tensor goes through ``DequantizeLinear`` (made once per tensor);
* :meth:`OnnxBuilder.set` — bind an op's float result to a TFLite output tensor: a
  quantized output is written by ``QuantizeLinear`` with its scale and zero point.

So every int8 op lowers to QDQ form (DequantizeLinear -> float op -> QuantizeLinear),
which ONNX Runtime fuses into its integer kernels (QLinearConv, QGemm, ...). Weights go
through :meth:`OnnxBuilder.weight`, which re-lays them out first (OHWI -> OIHW) and keeps
int8 weights int8 behind a per-channel DequantizeLinear.

All shapes are static: the lowering is done for one combination of input shapes, with
the shapes (and shape-derived values) edgelite computed for it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import ConversionError
from ..schema import TensorType

ONNX_OPSET = 18
MS_DOMAIN = "com.microsoft"  # ONNX Runtime's contrib operators (QLinearGlobalAveragePool, ...)

# TFLite TensorType -> ONNX TensorProto.DataType
ONNX_TYPES = {TensorType.FLOAT32: 1, TensorType.UINT8: 2, TensorType.INT8: 3, TensorType.INT16: 5,
              TensorType.INT32: 6, TensorType.INT64: 7, TensorType.BOOL: 9, TensorType.FLOAT16: 10,
              TensorType.FLOAT64: 11, TensorType.UINT32: 12, TensorType.UINT64: 13}

_ONNX_OF_NUMPY = {np.dtype(np.int8): 3, np.dtype(np.uint8): 2, np.dtype(np.int16): 5}

BIG = 2 ** 62  # an "infinite" Slice bound


class LoweringError(ConversionError):
    """A TFLite node cannot be expressed in ONNX (as configured); the message says which and why."""


def _round_half_away(x: float) -> int:
    """TFLite's TfLiteRound: halves away from zero."""
    return int(np.sign(x) * np.floor(abs(x) + 0.5))


class OnnxBuilder:
    """Collects nodes and initializers; maps TFLite tensors to ONNX value names."""

    def __init__(self, subgraph, shapes: dict[int, tuple], values: dict[int, np.ndarray] | None = None,
                 qlinear: bool = True, contrib_ops: bool = False):
        from onnx import helper, numpy_helper
        self.helper, self.numpy_helper = helper, numpy_helper
        self.sg = subgraph
        self.shapes = shapes
        self.values = dict(values or {})
        self.nodes: list = []
        self.initializers: list = []
        self.names: dict[int, str] = {}
        self._float_views: dict[int, str] = {}
        self._const_cache: dict[tuple, str] = {}
        self._counter = 0
        self.op_index = -1  # the TFLite node being lowered (for messages)
        self.qlinear = qlinear  # int8 convolutions as QLinearConv (else QDQ around a float Conv)
        self.u8 = qlinear  # int8 activations stored as uint8 (see shifted())
        # ONNX Runtime's com.microsoft operators where they beat the standard form (the file
        # then runs in ONNX Runtime only): QLinearGlobalAveragePool for int8 spatial means
        self.contrib_ops = contrib_ops
        # constants of at least this many bytes are kept out of the graph (name -> array), as
        # graph inputs for the runtime to bind (ONNX Runtime: SessionOptions.add_initializer)
        self.external_min_bytes: int | None = None
        self.external: dict[str, np.ndarray] = {}
        self.state_updates: dict[int, str] = {}  # variable tensor -> its new value (see set_state)

    # -- naming -----------------------------------------------------------------
    def fresh(self, hint: str = "v") -> str:
        self._counter += 1
        return f"{hint}_{self._counter}"

    def tensor_name(self, t: int) -> str:
        return f"t{t}"

    def fail(self, op, message: str) -> LoweringError:
        return LoweringError(f"{op.name} (node {self.op_index}): {message}")

    # -- tensors ----------------------------------------------------------------
    def tensor(self, t: int):
        return self.sg.tensors[t]

    def shape(self, t: int) -> tuple[int, ...]:
        if t in self.shapes:
            return tuple(self.shapes[t])
        v = self.const_value(t)
        if v is not None:
            return tuple(v.shape)
        raise LoweringError(f"tensor {t} ({self.tensor(t).name!r}) has no static shape")

    def quantized(self, t: int) -> bool:
        tensor = self.tensor(t)
        q = tensor.quantization
        return (q is not None and q.scale.size > 0
                and tensor.dtype in (TensorType.INT8, TensorType.UINT8, TensorType.INT16, TensorType.INT32))

    def qparams(self, t: int) -> tuple[np.ndarray, np.ndarray, int]:
        q = self.tensor(t).quantization
        zp = q.zero_point if q.zero_point.size else np.zeros(q.scale.size, np.int64)
        return q.scale.astype(np.float32), zp, int(q.quantized_dimension)

    def const_value(self, t: int) -> np.ndarray | None:
        """The value of a constant tensor (or one edgelite computed from shapes), else None."""
        if t in self.values:
            return self.values[t]
        tensor = self.tensor(t)
        if tensor.data is not None and not tensor.is_variable:
            data = tensor.data
            if tensor.sparsity is not None:
                return None
            return np.asarray(data).reshape(tensor.shape) if data.size == int(np.prod(tensor.shape)) else data
        return None

    def const_int(self, op, t: int) -> list[int]:
        v = self.const_value(t)
        if v is None:
            raise self.fail(op, f"input tensor {t} must be constant (or computable from shapes)")
        return [int(x) for x in np.asarray(v).reshape(-1)]

    def real_value(self, t: int) -> np.ndarray | None:
        """A constant's real value (dequantized, float16 widened) as float32, else None."""
        v = self.const_value(t)
        if v is None:
            return None
        if self.quantized(t):
            scale, zp, axis = self.qparams(t)
            shape = [1] * v.ndim
            if scale.size > 1:
                shape[axis] = -1
            return ((v.astype(np.float32) - zp.reshape(shape).astype(np.float32)) * scale.reshape(shape)
                    ).astype(np.float32)
        if v.dtype == np.float16:
            return v.astype(np.float32)
        return v

    # -- graph building ------------------------------------------------------------
    def const(self, value, dtype=None, hint: str = "c") -> str:
        arr = np.asarray(value, dtype=dtype)
        if arr.dtype == np.float64 and dtype is None:  # float64 only when asked for
            arr = arr.astype(np.float32)
        key = (arr.dtype.str, arr.shape, arr.tobytes()) if arr.size <= 64 else None
        if key is not None and key in self._const_cache:
            return self._const_cache[key]
        name = self.fresh(hint)
        if not arr.flags.c_contiguous:  # (np.ascontiguousarray would make a 0-d value 1-d)
            arr = arr.copy(order="C")
        if self.external_min_bytes is not None and arr.nbytes >= self.external_min_bytes:
            self.external[name] = arr  # handed to the runtime without a protobuf copy
        else:
            self.initializers.append(self.numpy_helper.from_array(arr, name))
        if key is not None:
            self._const_cache[key] = name
        return name

    def node(self, op_type: str, inputs: list[str], outputs: int | list[str] = 1, **attrs) -> list[str]:
        if isinstance(outputs, int):
            outputs = [self.fresh(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, inputs, outputs, name=self.fresh(f"n_{op_type}"),
                                                **attrs))
        return outputs

    def one(self, op_type: str, inputs: list[str], **attrs) -> str:
        return self.node(op_type, inputs, 1, **attrs)[0]

    # -- the float view and bindings --------------------------------------------------
    def get(self, t: int) -> str:
        """Tensor ``t`` as a float (dequantized) or plain value name."""
        if t in self._float_views:
            return self._float_views[t]
        v = self.const_value(t)
        if v is not None and t not in self.names:
            if self.quantized(t):
                name = self._dq_const(v, t)
            else:
                name = self.const(self.real_value(t), hint="w")
            self._float_views[t] = name
            return name
        if t not in self.names:
            raise LoweringError(f"tensor {t} ({self.tensor(t).name!r}) is read before it is computed")
        name = self.names[t]
        if self.quantized(t):
            name = self.one("DequantizeLinear", [name, *self.scalar_qparams(t)])
        return name  # one DequantizeLinear per reader: ORT fuses each DQ -> op -> Q group

    def set(self, t: int, value: str) -> None:
        """Bind the float (or plain) result ``value`` to TFLite output tensor ``t``."""
        if self.quantized(t):
            self.names[t] = self.one("QuantizeLinear", [value, *self.scalar_qparams(t)])
        else:
            self.names[t] = value
            self._float_views[t] = value

    def set_round_half_away(self, t: int, value: str) -> None:
        """Like :meth:`set`, but a quantized output rounds halves away from zero, as TFLite's
        integer kernels that requantize an exact integer sum do (QuantizeLinear rounds them to
        even: a mean of integers hits halves often)."""
        if not self.quantized(t):
            return self.set(t, value)
        scale, zp, _axis = self.qparams(t)
        x = self.one("Div", [value, self.const(scale.reshape(()))])
        r = self.one("Mul", [self.one("Sign", [x]), self.one("Floor", [self.one("Add", [self.one("Abs", [x]),
                                                                                        self.const(np.float32(0.5))])])])
        info = np.iinfo(self.tensor(t).numpy_dtype)
        shift = 128 if self.shifted(t) else 0
        q = self.one("Clip", [self.one("Add", [r, self.const(np.float32(int(zp[0]) + shift))]),
                              self.const(np.float32(info.min + shift)), self.const(np.float32(info.max + shift))])
        self.set_raw(t, self.one("Cast", [q], to=2 if shift else int(_ONNX_OF_NUMPY[self.tensor(t).numpy_dtype])))

    def set_state(self, t: int, value: str) -> None:
        """The new value of variable tensor ``t`` (an op's state), written back after each run."""
        self.state_updates[t] = value

    def raw(self, t: int) -> str:
        """The value name of quantized tensor ``t`` in its storage type (see :meth:`shifted`)."""
        if t not in self.names:
            raise LoweringError(f"tensor {t} ({self.tensor(t).name!r}) is read before it is computed")
        return self.names[t]

    def set_raw(self, t: int, value: str) -> None:
        """Bind ``value``, already in tensor ``t``'s storage type, to ``t``."""
        self.names[t] = value
        self._float_views.pop(t, None)

    def shifted(self, t: int) -> bool:
        """Whether int8 activation ``t`` is stored as uint8 (value + 128, zero point + 128) in the
        ONNX graph: ONNX Runtime's integer convolutions are fastest with uint8 activations and
        int8 weights. Partition inputs and outputs are converted at the boundary."""
        tensor = self.tensor(t)
        return self.u8 and tensor.dtype == TensorType.INT8 and tensor.data is None and self.quantized(t)

    def storage_dtype(self, t: int) -> np.dtype:
        return np.dtype(np.uint8) if self.shifted(t) else self.tensor(t).numpy_dtype

    def scalar_qparams(self, t: int) -> tuple[str, str]:
        """(scale, zero point) initializers of a per-tensor quantized tensor, in its storage type."""
        scale, zp, _axis = self.qparams(t)
        if scale.size != 1:
            raise LoweringError(f"tensor {t}: per-axis quantized activations are not supported")
        shift = 128 if self.shifted(t) else 0
        return (self.const(scale.reshape(())),
                self.const(zp.reshape(()) + shift, dtype=self.storage_dtype(t)))

    def quantized_activation(self, value: str, code: int, t: int, op=None) -> str:
        """A fused activation applied to the raw quantized output ``value`` of tensor ``t``,
        as TFLite does: a clamp to the activation range in the quantized domain (none when the
        type's own range is already inside it)."""
        if code in (0, None):
            return value
        ranges = {1: (0.0, None), 2: (-1.0, 1.0), 3: (0.0, 6.0)}
        if code not in ranges:
            raise LoweringError(f"{getattr(op, 'name', 'op')} (node {self.op_index}): fused activation "
                                f"{code} is not supported on quantized outputs")
        scale, zp, _axis = self.qparams(t)
        info = np.iinfo(self.tensor(t).numpy_dtype)
        lo, hi = ranges[code]
        q_lo = max(info.min, int(zp[0]) + _round_half_away(lo / scale[0]))
        q_hi = info.max if hi is None else min(info.max, int(zp[0]) + _round_half_away(hi / scale[0]))
        if q_lo <= info.min and q_hi >= info.max:
            return value
        shift = 128 if self.shifted(t) else 0
        dtype = self.storage_dtype(t)
        return self.one("Clip", [value, self.const(np.array(q_lo + shift, dtype)),
                                 self.const(np.array(q_hi + shift, dtype))])

    def to_storage(self, t: int, name: str) -> str:
        """A graph input of int8 tensor ``t`` converted to its storage type (exact)."""
        if not self.shifted(t):
            return name
        wide = self.one("Add", [self.one("Cast", [name], to=5), self.const(np.int16(128))])
        return self.one("Cast", [wide], to=2)

    def from_storage(self, t: int, name: str) -> str:
        """The value of int8 tensor ``t`` converted back from its storage type (exact)."""
        if not self.shifted(t):
            return name
        wide = self.one("Sub", [self.one("Cast", [name], to=5), self.const(np.int16(128))])
        return self.one("Cast", [wide], to=3)

    def _dq_const(self, v: np.ndarray, t: int, axis: int | None = None) -> str:
        scale, zp, qaxis = self.qparams(t)
        dtype = self.tensor(t).numpy_dtype
        inputs = [self.const(v, dtype=dtype, hint="q"), self.const(scale if scale.size > 1 else scale.reshape(())),
                  self.const(zp.astype(dtype) if scale.size > 1 else zp.reshape(()).astype(dtype))]
        attrs = {"axis": qaxis if axis is None else axis} if scale.size > 1 else {}
        return self.one("DequantizeLinear", inputs, **attrs)

    def weight(self, op, t: int, transform: Callable[[np.ndarray], np.ndarray] | None = None,
               axis_after: int = 0) -> str:
        """A constant weight re-laid out by ``transform``; int8 stays int8 behind DequantizeLinear
        (per-channel along ``axis_after``, the quantized axis after the transform)."""
        v = self.const_value(t)
        if v is None:
            raise self.fail(op, f"weight tensor {t} must be constant")
        if self.quantized(t):
            if self.tensor(t).dtype == TensorType.INT32:  # int32 bias: DequantizeLinear with zp 0
                v = transform(v) if transform else v
                return self._dq_const(v, t, axis=axis_after)
            v = transform(v) if transform else v
            return self._dq_const(v, t, axis=axis_after)
        real = self.real_value(t)
        return self.const(transform(real) if transform else real, hint="w")

    # -- common patterns --------------------------------------------------------------
    def activation(self, value: str, code: int, op=None) -> str:
        """Apply a fused activation (TFLite ActivationFunctionType)."""
        if code in (0, None):
            return value
        if code == 1:
            return self.one("Relu", [value])
        if code == 2:
            return self.one("Clip", [value, self.const(np.float32(-1)), self.const(np.float32(1))])
        if code == 3:
            return self.one("Clip", [value, self.const(np.float32(0)), self.const(np.float32(6))])
        if code == 4:
            return self.one("Tanh", [value])
        raise LoweringError(f"{getattr(op, 'name', 'op')} (node {self.op_index}): fused activation {code} "
                            "is not supported")

    def to_nchw(self, value: str) -> str:
        return self.one("Transpose", [value], perm=[0, 3, 1, 2])

    def to_nhwc(self, value: str) -> str:
        return self.one("Transpose", [value], perm=[0, 2, 3, 1])

    def reshape(self, value: str, shape) -> str:
        return self.one("Reshape", [value, self.const(np.array(shape, np.int64))])

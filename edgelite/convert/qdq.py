"""Fold QDQ pairs into integer ops: a quantized (QDQ) ONNX model becomes an int8 TFLite model.

A QDQ model (onnxruntime's ``quantize_static``, a quantization-aware-trained network
exported from PyTorch...) stores its int8 graph as float ops between
``DequantizeLinear`` and ``QuantizeLinear`` nodes. Lowered node by node it runs those
ops in float between QUANTIZE and DEQUANTIZE. This pass, on the lowered TFLite
subgraph, turns every op that TFLite computes in int8 into the int8 op, with the
parameters the QDQ nodes give (TFLite's quantization spec, as in
:mod:`edgelite.optimize.rules`):

* **weighted** (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV) whose data input is a
  DEQUANTIZE of an int8 tensor and whose output feeds only a QUANTIZE to int8: the op
  reads the int8 tensor and writes the QUANTIZE's output. Its int8 weights are recovered
  from the float constant the DequantizeLinear was folded into: ``round(w / s)`` for the
  scales ``s`` of the model's weight DequantizeLinear nodes (zero point 0), accepted only if it
  gives back every float weight bit for bit; otherwise the op stays float. -128 is accepted:
  PyTorch's symmetric qint8 weights use it (scale max|w| / 127.5), and LiteRT's builtin and
  XNNPACK kernels compute it exactly, though TFLite's spec asks for [-127, 127]. The bias becomes int32 of scale ``input_scale * weight_scale``.
* **rescale** (ADD, SUB, MUL, MEAN, BATCH_MATMUL, RELU, RELU6, LEAKY_RELU, HARD_SWISH): data inputs from int8 DEQUANTIZEs, output
  into one QUANTIZE, whose parameters the op takes; CONCATENATION too, its inputs with other
  parameters first requantized (int8 -> int8 QUANTIZE, as TF's converter aligns them).
* **fixed** (SOFTMAX, LOGISTIC, TANH): as rescale, with the output parameters TFLite's
  kernels require (1/256 and -128 for SOFTMAX and LOGISTIC, 1/128 and 0 for TANH); if the
  QUANTIZE after it has other parameters, it becomes an int8-to-int8 requantization (one
  more rounding than the QDQ model does).
* **same** (pooling and data movement, PADV2 with its pad value quantized, CONCATENATION when
  every input has one set of parameters): the int8 output keeps the input's parameters. If the op's output feeds
  exactly a QUANTIZE with those parameters, that is its output; otherwise a DEQUANTIZE is
  put after the op for its float readers, so the DEQUANTIZE sinks through data movement
  (the layout TRANSPOSEs, a Flatten's RESHAPE) to the next int8 op.

uint8 activations (onnxruntime's QUInt8, PyTorch's quint8) are first made int8 with the
zero point moved by -128, which changes no value: every uint8 tensor that a QUANTIZE
writes from float and only DEQUANTIZEs read (not a model input or output).

Last, a QUANTIZE reading a DEQUANTIZE of an int8 tensor is the identity when both have
the same parameters (bypassed) and an int8-to-int8 requantization otherwise. Everything
else stays as lowered: float between QUANTIZE and DEQUANTIZE, which is still correct.
Numerics: the int8 ops compute as LiteRT's kernels do (fixed-point requantization), so
results may differ from onnxruntime's QLinear kernels by a rounding step.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..ir import Operator, Quantization, Subgraph
from ..optimize.rules import FIXED_OUTPUT, RULES, OpRule
from ..schema import TensorType

WEIGHTED = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"}
RESCALE = {"ADD", "SUB", "MUL", "MEAN", "BATCH_MATMUL", "RELU", "RELU6", "LEAKY_RELU", "HARD_SWISH"}
FIXED = {"SOFTMAX", "LOGISTIC", "TANH"}
SAME = {"MAX_POOL_2D", "AVERAGE_POOL_2D", "TRANSPOSE", "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "PAD", "PADV2",
        "STRIDED_SLICE", "SLICE", "GATHER", "RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR", "DEPTH_TO_SPACE",
        "SPACE_TO_DEPTH", "CONCATENATION"}
INT32_MAX = 2 ** 31 - 1
_PADV2 = OpRule("same", (0,), version=2)  # not in the PTQ rules (TF's quantizer gives MaxPool padding PAD)


def weight_scale_candidates(onnx_model) -> list[np.ndarray]:
    """The scale vectors of the DequantizeLinear nodes that dequantize constant int8 / uint8
    tensors with zero points of 0 (symmetric weights) in an ONNX ModelProto's main graph."""
    from onnx import numpy_helper

    consts = {t.name: t for t in onnx_model.graph.initializer}
    for node in onnx_model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            consts[node.output[0]] = node.attribute[0].t
    found: dict[bytes, np.ndarray] = {}
    for node in onnx_model.graph.node:
        if node.op_type != "DequantizeLinear" or len(node.input) < 2 or node.input[0] not in consts \
                or node.input[1] not in consts:
            continue
        q = numpy_helper.to_array(consts[node.input[0]])
        if q.dtype not in (np.int8, np.uint8):
            continue
        if len(node.input) > 2 and node.input[2]:
            zp = consts.get(node.input[2])
            if zp is None or np.any(numpy_helper.to_array(zp) != 0):
                continue
        scale = np.asarray(numpy_helper.to_array(consts[node.input[1]]), np.float32).reshape(-1)
        found.setdefault(scale.tobytes(), scale)
    return list(found.values())


def _per_tensor(q: Quantization | None) -> bool:
    return q is not None and q.scale.size == 1 and q.zero_point.size <= 1


def _quant(scale: float, zp: int) -> Quantization:
    return Quantization(scale=np.array([scale], np.float32), zero_point=np.array([zp], np.int64))


def _params(q: Quantization) -> tuple[float, int]:
    return float(q.scale[0]), int(q.zero_point[0]) if q.zero_point.size else 0


def _recover_weights(w: np.ndarray, axis: int, candidates: list[np.ndarray]):
    """(int8 weights, scales) reproducing float32 ``w`` exactly, or None."""
    channels = w.shape[axis]
    shape = [1] * w.ndim
    for s in candidates:
        if s.size not in (1, channels) or not np.all(s > 0):
            continue
        if s.size > 1:
            shape[axis] = s.size
        s64 = s.astype(np.float64).reshape(shape if s.size > 1 else [1] * w.ndim)
        q = np.round(w.astype(np.float64) / s64)
        if q.min() < -128 or q.max() > 127:
            continue
        if np.array_equal((q * s64).astype(np.float32), w):
            return q.astype(np.int8), s.copy()
    return None


class _Folder:
    def __init__(self, sg: Subgraph, candidates: list[np.ndarray]):
        self.sg, self.candidates = sg, candidates
        self.producer: dict[int, Operator] = {}
        self.readers: dict[int, list[Operator]] = defaultdict(list)
        for op in sg.operators:
            for t in op.outputs:
                self.producer[t] = op
            for t in op.inputs:
                if t >= 0:
                    self.readers[t].append(op)
        self.outputs = set(sg.outputs)
        self.weights: dict[tuple[int, int], tuple[int, np.ndarray] | None] = {}  # recovered, per float weight
        self.absorbed: set[int] = set()  # id() of QUANTIZE ops now part of the op before them
        self.folded = 0

    # -- graph queries ----------------------------------------------------------
    def int8_source(self, t: int) -> int | None:
        """The int8 tensor that ``t`` is a DEQUANTIZE of (per-tensor parameters), or None."""
        op = self.producer.get(t)
        if op is None or op.opcode != "DEQUANTIZE":
            return None
        x = op.inputs[0]
        tensor = self.sg.tensors[x]
        if tensor.dtype != TensorType.INT8 or tensor.data is not None or not _per_tensor(tensor.quantization):
            return None
        return x

    def sole_quantize(self, t: int) -> Operator | None:
        """The QUANTIZE to int8 (per tensor) that is ``t``'s only reader, or None."""
        if t in self.outputs:
            return None
        readers = self.readers.get(t, [])
        if len(readers) != 1 or readers[0].opcode != "QUANTIZE" or id(readers[0]) in self.absorbed:
            return None
        q = readers[0]
        out = self.sg.tensors[q.outputs[0]]
        return q if out.dtype == TensorType.INT8 and _per_tensor(out.quantization) else None

    def int8_like(self, t: int, suffix: str, scale: float, zp: int) -> int:
        """A new int8 tensor shaped like ``t``, with these (per-tensor) parameters."""
        src = self.sg.tensors[t]
        return self.sg.add_tensor(src.name + suffix, src.shape, TensorType.INT8, quantization=_quant(scale, zp),
                                  shape_signature=src.shape_signature)

    # -- rewiring -----------------------------------------------------------------
    def set_input(self, op: Operator, pos: int, t: int) -> None:
        old = op.inputs[pos]
        if old >= 0 and op in self.readers[old]:
            self.readers[old].remove(op)
        op.inputs[pos] = t
        self.readers[t].append(op)

    def take_output(self, op: Operator, pos: int, q: Operator) -> None:
        """``op`` writes ``q``'s int8 output itself; ``q`` goes away."""
        self.readers[op.outputs[pos]] = []
        op.outputs[pos] = q.outputs[0]
        self.producer[q.outputs[0]] = op
        self.absorbed.add(id(q))

    # -- the op kinds ---------------------------------------------------------------
    def fold(self, op: Operator) -> tuple[list[Operator], list[Operator]]:
        """Fold ``op`` if it can be; returns the ops to insert before and after it."""
        code = op.opcode
        if code in WEIGHTED:
            self.fold_weighted(op)
        elif code in RESCALE or code in FIXED:
            self.fold_rescale(op)
        elif code == "CONCATENATION":
            before = self.fold_concatenation(op)
            if before is not None:
                return before, []
            return [], self.fold_same(op)
        elif code in SAME:
            return [], self.fold_same(op)
        return [], []

    def fold_weighted(self, op: Operator) -> None:
        rule = RULES[op.opcode]
        sg = self.sg
        data = rule.data_inputs[0]
        if len(op.inputs) <= max(data, rule.weight_input):
            return
        x = self.int8_source(op.inputs[data])
        q = self.sole_quantize(op.outputs[0])
        if x is None or q is None:
            return
        weights = self.int8_weights(op.inputs[rule.weight_input], rule.weight_axis)
        if weights is None:
            return
        weights, w_scale = weights
        bias = None
        has_bias = len(op.inputs) > rule.bias_input and op.inputs[rule.bias_input] >= 0
        if has_bias:
            b = sg.tensors[op.inputs[rule.bias_input]]
            if b.data is None or b.dtype != TensorType.FLOAT32:
                return
            # per channel like the weights, or one scale (XNNPACK refuses a mix)
            b_scale = (np.float32(_params(sg.tensors[x].quantization)[0]) * w_scale).astype(np.float32)
            qb = np.round(np.asarray(b.data, np.float64) / b_scale.astype(np.float64))
            if np.abs(qb).max(initial=0) > INT32_MAX:
                return
            bias = sg.add_constant(b.name + "_int32", qb.astype(np.int32),
                                   quantization=Quantization(scale=b_scale, zero_point=np.zeros(b_scale.size, np.int64)))
        self.set_input(op, data, x)
        self.set_input(op, rule.weight_input, weights)
        if bias is not None:
            self.set_input(op, rule.bias_input, bias)
        self.take_output(op, 0, q)
        op.version = max(op.version, rule.version)
        self.folded += 1

    def int8_weights(self, t: int, axis: int) -> tuple[int, np.ndarray] | None:
        """(int8 constant, its scales) equal to float constant ``t``, made once; None if none is."""
        key = (t, axis)
        if key not in self.weights:
            w = self.sg.tensors[t]
            recovered = None
            if w.data is not None and w.dtype == TensorType.FLOAT32 and w.sparsity is None:
                recovered = _recover_weights(np.asarray(w.data), axis, self.candidates)
            if recovered is not None:
                qw, scale = recovered
                index = self.sg.add_constant(w.name + "_int8", qw, quantization=Quantization(
                    scale=scale, zero_point=np.zeros(scale.size, np.int64),
                    quantized_dimension=axis if scale.size > 1 else 0))
                recovered = (index, scale)
            self.weights[key] = recovered
        return self.weights[key]

    def fold_rescale(self, op: Operator) -> None:
        rule = RULES[op.opcode]
        sources = [self.int8_source(op.inputs[i]) if i < len(op.inputs) else None for i in rule.data_inputs]
        q = self.sole_quantize(op.outputs[0]) if len(op.outputs) == 1 else None
        if q is None or any(s is None for s in sources):
            return
        for i, s in zip(rule.data_inputs, sources):
            self.set_input(op, i, s)
        op.version = max(op.version, rule.version)
        self.folded += 1
        if op.opcode in FIXED:
            want = FIXED_OUTPUT["int8"][op.opcode]
            out = self.sg.tensors[q.outputs[0]]
            scale, zp = _params(out.quantization)
            if zp != want[1] or abs(scale - want[0]) > 1e-6 * want[0]:
                # the kernel's own parameters, then the QUANTIZE requantizes to the model's
                fixed = self.int8_like(q.outputs[0], "_fixed", *want)
                self.readers[op.outputs[0]] = []
                op.outputs[0] = fixed
                self.producer[fixed] = op
                self.set_input(q, 0, fixed)
                q.version = max(q.version, 2)
                return
        self.take_output(op, 0, q)

    def fold_same(self, op: Operator) -> list[Operator]:
        sg = self.sg
        rule = _PADV2 if op.opcode == "PADV2" else RULES[op.opcode]
        if op.opcode == "CONCATENATION":
            positions = list(range(len(op.inputs)))
        else:
            positions = list(rule.data_inputs)
        if len(op.outputs) != 1 or not positions or max(positions) >= len(op.inputs):
            return []
        sources = [self.int8_source(op.inputs[i]) for i in positions]
        if any(s is None for s in sources):
            return []
        params = {_params(sg.tensors[s].quantization) for s in sources}
        if len(params) != 1:
            return []
        scale, zp = params.pop()
        if op.opcode == "PADV2" and not self.quantize_pad_value(op, scale, zp):
            return []
        for i, s in zip(positions, sources):
            self.set_input(op, i, s)
        op.version = max(op.version, rule.version)
        self.folded += 1
        out = op.outputs[0]
        q = self.sole_quantize(out)
        if q is not None and _params(sg.tensors[q.outputs[0]].quantization) == (scale, zp):
            self.take_output(op, 0, q)
            return []
        # float readers remain: int8 output with the input's parameters, then a DEQUANTIZE
        qt = self.int8_like(out, "_int8", scale, zp)
        op.outputs[0] = qt
        self.producer[qt] = op
        dq = Operator("DEQUANTIZE", [qt], [out], version=2)
        self.producer[out] = dq
        self.readers[qt].append(dq)
        return [dq]

    def quantize_pad_value(self, op: Operator, scale: float, zp: int) -> bool:
        """PADV2's constant pad value, quantized with the data's parameters (-inf, MaxPool's
        padding, becomes -128); False if it is not a float constant."""
        if len(op.inputs) < 3 or op.inputs[2] < 0:
            return True
        v = self.sg.tensors[op.inputs[2]]
        if v.data is None or v.dtype != TensorType.FLOAT32:
            return False
        with np.errstate(invalid="ignore", over="ignore"):
            q = np.clip(np.round(np.asarray(v.data, np.float64) / scale) + zp, -128, 127)
        if np.any(np.isnan(q)):
            return False
        self.set_input(op, 2, self.sg.add_constant(v.name + "_int8", q.astype(np.int8),
                                                   quantization=_quant(scale, zp)))
        return True

    def fold_concatenation(self, op: Operator) -> list[Operator] | None:
        """CONCATENATION of int8 inputs with different parameters into one QUANTIZE: inputs
        that differ from its parameters are requantized first (int8 -> int8 QUANTIZE ops, as
        TF's converter aligns them). Returns the ops to insert before, or None (not this case)."""
        sources = [self.int8_source(t) for t in op.inputs]
        q = self.sole_quantize(op.outputs[0]) if len(op.outputs) == 1 else None
        if q is None or not sources or any(s is None for s in sources):
            return None
        sg = self.sg
        out = _params(sg.tensors[q.outputs[0]].quantization)
        if all(_params(sg.tensors[s].quantization) == out for s in sources):
            return None  # the same-parameters case (fold_same)
        before = []
        for pos, s in enumerate(sources):
            if _params(sg.tensors[s].quantization) != out:
                r = self.int8_like(s, "_requantized", *out)
                requantize = Operator("QUANTIZE", [s], [r], version=2)
                self.readers[s].append(requantize)
                self.producer[r] = requantize
                before.append(requantize)
                s = r
            self.set_input(op, pos, s)
        self.take_output(op, 0, q)
        op.version = max(op.version, RULES["CONCATENATION"].version)
        self.folded += 1
        return before

    # -- uint8 activations ------------------------------------------------------------
    def uint8_to_int8(self) -> None:
        """uint8 activations between QUANTIZE and DEQUANTIZE become int8 (zero point - 128)."""
        sg = self.sg
        io = set(sg.inputs) | self.outputs
        for t, op in self.producer.items():
            tensor = sg.tensors[t]
            if op.opcode != "QUANTIZE" or tensor.dtype != TensorType.UINT8 or t in io \
                    or not _per_tensor(tensor.quantization) or sg.tensors[op.inputs[0]].dtype != TensorType.FLOAT32:
                continue
            readers = self.readers.get(t, [])
            if not readers or any(r.opcode != "DEQUANTIZE" for r in readers):
                continue
            scale, zp = _params(tensor.quantization)
            tensor.dtype = TensorType.INT8
            tensor.quantization = _quant(scale, zp - 128)

    # -- QUANTIZE of DEQUANTIZE -------------------------------------------------------
    def simplify_requantize(self, op: Operator) -> bool:
        """QUANTIZE(DEQUANTIZE(x int8)): bypassed if the parameters match, else an int8 -> int8
        QUANTIZE. Returns True if ``op`` is to be dropped."""
        x = self.int8_source(op.inputs[0])
        if x is None:
            return False
        y = op.outputs[0]
        out = self.sg.tensors[y]
        if out.dtype != TensorType.INT8 or not _per_tensor(out.quantization):
            return False
        if _params(out.quantization) == _params(self.sg.tensors[x].quantization) and y not in self.outputs:
            for reader in list(self.readers.get(y, [])):
                for pos, t in enumerate(reader.inputs):
                    if t == y:
                        self.set_input(reader, pos, x)
            return True
        self.set_input(op, 0, x)
        op.version = max(op.version, 2)
        return False


def fold_qdq(sg: Subgraph, candidates: list[np.ndarray]) -> int:
    """Rewrite ``sg`` as described in the module docstring; returns the number of ops now
    computed in int8. Run ``sg.remove_unused()`` afterwards (it drops the DEQUANTIZE ops
    nobody reads any more)."""
    folder = _Folder(sg, candidates)
    folder.uint8_to_int8()
    result: list[Operator] = []
    for op in list(sg.operators):
        if id(op) in folder.absorbed:
            continue
        if op.opcode == "QUANTIZE":
            if folder.simplify_requantize(op):
                continue
            result.append(op)
            continue
        before, after = folder.fold(op)
        result.extend(before)
        result.append(op)
        result.extend(after)
    sg.operators = [op for op in result if id(op) not in folder.absorbed]
    return folder.folded

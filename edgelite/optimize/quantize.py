"""Post-training quantization as an IR rewrite (TFLite's quantization spec).

Modes
* ``dynamic``: constant weights of FC / CONV / DEPTHWISE / BATCH_MATMUL / LSTM with
  at least ``min_elements`` values become symmetric int8 (per channel where the
  hybrid kernel supports it); activations stay float (LiteRT's hybrid kernels).
* ``float16``: float32 constants are stored as float16, each followed by a
  DEQUANTIZE to float32.
* ``int8`` / ``int16x8``: full integer. Calibration (:mod:`.calibrate`) gives
  every float activation a range; ops with an integer kernel (:mod:`.rules`)
  are rewritten in place — activations asymmetric int8 (zero point in
  [-128, 127], range widened to contain 0) or symmetric int16 (zero point 0),
  weights symmetric int8 per channel, biases int32 (int64 for int16x8) with
  scale ``input_scale * weight_scale``. Ops without one (or listed in
  ``keep_float``) stay float, with DEQUANTIZE before and QUANTIZE after them;
  the report lists each. UNIDIRECTIONAL_SEQUENCE_LSTM becomes LiteRT's full-integer
  LSTM in int8 mode (:mod:`.lstm`: int16 power-of-two cell state, intermediates).

The rewrite walks the ops in execution order, so every tensor's integer
parameters are known before its consumers are visited: outputs of ``same``
ops copy their input's parameters, ``shared`` ops requantize differing inputs
to one common range, ``fixed`` ops get the constants TFLite requires.

Sparse weights (a sparse constant expanded by DENSIFY) are quantized dense and
re-encoded in the same sparse layout, followed by an int8 DENSIFY (TF's layout);
in float16 mode they become sparse float16 -> DENSIFY -> DEQUANTIZE. A model whose
signatures run different subgraphs is calibrated and rewritten per signature;
signatures that assign resource variables (training steps) stay float.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..ir import Model, Operator, Quantization
from ..reader import load_model
from ..runtime.budget import MemoryBudget
from ..schema import TensorType
from ..sparsity import densify, sparsify_like
from .calibrate import calibrate, split_by_signature
from .lstm import OPCODE as LSTM_OPCODE
from .lstm import integer_lstm_reason, rewrite_lstm
from .rules import FIXED_OUTPUT, HYBRID_WEIGHTS, RULES, SHAPE_ONLY, OpRule

log = logging.getLogger("edgelite.optimize")

MODES = ("dynamic", "float16", "int8", "int16x8")
_FLOAT16_MAX = 65504.0


@dataclass
class QuantizationReport:
    """What :func:`quantize` did: per-op decisions and the ops left in float."""

    mode: str
    quantized: dict[str, int] = field(default_factory=dict)
    float_ops: list[tuple[int, str, str, str]] = field(default_factory=list)  # (index, opcode, output, reason)
    calibration_samples: int = 0
    integer_signatures: list[str] = field(default_factory=list)
    float_signatures: list[tuple[str, str]] = field(default_factory=list)  # (signature key, reason)

    def summary(self) -> str:
        lines = [f"mode {self.mode}: quantized " + ", ".join(f"{k} x{v}" for k, v in
                                                              sorted(self.quantized.items()))]
        if self.integer_signatures:
            lines.append("signature(s) quantized: " + ", ".join(self.integer_signatures))
        lines += [f"signature {key!r} left in float: {why}" for key, why in self.float_signatures]
        if self.float_ops:
            lines.append(f"{len(self.float_ops)} op(s) left in float:")
            lines += [f"  op {i} {op} -> {name!r}: {why}" for i, op, name, why in self.float_ops]
        return "\n".join(lines)


def _as_model(model: Model | str | bytes) -> Model:
    if isinstance(model, Model):
        return load_model(model.to_bytes())  # a private deep copy
    if isinstance(model, (bytes, bytearray, memoryview)):
        return load_model(bytes(model))
    return load_model(str(model))


# --- parameter arithmetic --------------------------------------------------------
def activation_params(lo: float, hi: float, dtype: str) -> tuple[float, int]:
    """Scale and zero point for an activation of range [lo, hi] (widened to contain 0)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if dtype == "int16":
        bound = max(-lo, hi)
        return (bound / 32767.0 if bound > 0 else 1.0 / 32767.0), 0
    if hi - lo < 1e-12:
        hi = lo + 1e-6
    scale = (hi - lo) / 255.0
    zp = int(np.clip(np.round(-128.0 - lo / scale), -128, 127))
    return scale, zp


def quantize_symmetric(w: np.ndarray, axis: int | None, bits: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric quantization of a weight: (int values, scales); per channel on ``axis``."""
    qmax = (1 << (bits - 1)) - 1
    w = np.asarray(w, np.float32)
    if axis is None:
        bound = np.array([np.max(np.abs(w))]) if w.size else np.array([0.0])
        scale = np.where(bound > 0, bound / qmax, 1.0).astype(np.float32)
        q = np.round(w / scale[0])
    else:
        axes = tuple(i for i in range(w.ndim) if i != axis)
        bound = np.max(np.abs(w), axis=axes) if w.size else np.zeros(w.shape[axis])
        scale = np.where(bound > 0, bound / qmax, 1.0).astype(np.float32)
        shape = [1] * w.ndim
        shape[axis] = -1
        q = np.round(w / scale.reshape(shape))
    dtype = np.int8 if bits == 8 else np.int16
    return np.clip(q, -qmax, qmax).astype(dtype), scale


def quantize_affine(x: np.ndarray, scale: float, zp: int, dtype: str) -> np.ndarray:
    info = np.iinfo(np.int8 if dtype == "int8" else np.int16)
    q = np.round(np.asarray(x, np.float64) / scale) + zp
    return np.clip(q, info.min, info.max).astype(info.dtype)


def _qtype(dtype: str) -> int:
    return TensorType.INT8 if dtype == "int8" else TensorType.INT16


def _real_range(q: Quantization, dtype: str) -> tuple[float, float]:
    info = np.iinfo(np.int8 if dtype == "int8" else np.int16)
    s, z = float(q.scale[0]), int(q.zero_point[0])
    return s * (info.min - z), s * (info.max - z)


# --- the full-integer rewrite ------------------------------------------------------
class _IntegerRewriter:
    def __init__(self, model: Model, ranges: dict[int, tuple[float, float]], act: str,
                 per_channel: bool, keep_float: set, io_type: tuple[str, str],
                 report: QuantizationReport, subgraph_index: int = 0):
        self.model, self.subgraph_index = model, subgraph_index
        self.sg = model.subgraphs[subgraph_index]
        self.densified = densified_constants(self.sg)  # DENSIFY output -> its sparse float constant
        self.ranges, self.act, self.per_channel = ranges, act, per_channel
        self.keep_float, self.io_type, self.report = keep_float, io_type, report
        self.quantized: set[int] = set()  # float tensors turned integer in place
        self.q_copy: dict[int, int] = {}  # float tensor -> its QUANTIZE'd twin
        self.f_copy: dict[int, int] = {}  # integer tensor -> its DEQUANTIZE'd twin
        self.const_copy: dict[tuple[int, float, int], int] = {}
        self.new_ops: list[Operator] = []

    # decisions ------------------------------------------------------------------
    def _is_float_act(self, t: int) -> bool:
        tensor = self.sg.tensors[t]
        return t >= 0 and tensor.dtype == TensorType.FLOAT32 and tensor.data is None

    def weight_values(self, t: int) -> np.ndarray | None:
        """The dense float values of constant weight ``t`` (decoded when it is the output of a
        DENSIFY of a sparse constant), or None when ``t`` is not a usable constant."""
        tensor = self.sg.tensors[t]
        if t in self.densified:
            src = self.sg.tensors[self.densified[t]]
            # the dense size comes from the model's declared shape: ask a memory budget first
            MemoryBudget().check_array(src.shape, np.float32, f"dense form of sparse weights {src.name!r}")
            return densify(src.data, src.shape, src.sparsity)
        if tensor.data is None or tensor.sparsity is not None:
            return None
        return np.asarray(tensor.data)

    def _float_inputs(self, op: Operator) -> list[int]:
        return [pos for pos, t in enumerate(op.inputs)
                if t >= 0 and (self.sg.tensors[t].dtype == TensorType.FLOAT32 or t in self.quantized)]

    def why_float(self, index: int, op: Operator) -> str | None:
        """None if the op can be quantized, else the reason it stays float."""
        rule = RULES.get(op.opcode)
        names = {self.sg.tensors[t].name for t in op.outputs}
        if not any(self.sg.tensors[t].dtype == TensorType.FLOAT32 for t in op.outputs):
            return "not a float op"
        if op.opcode in self.keep_float or index in self.keep_float or names & self.keep_float:
            return "kept float (keep_float)"
        if op.opcode == "READ_VARIABLE":
            return "reads a resource variable (variables stay float)"
        if op.opcode == LSTM_OPCODE:
            why = integer_lstm_reason(self, index, op)
            if why is not None:
                return why
            rule = OpRule("lstm")
        if rule is None:
            return "no integer kernel" + ("" if self.act == "int8" else " for int16x8")
        if self.act == "int16" and not rule.int16:
            return "no int16x8 kernel"
        for pos in self._float_inputs(op):
            t = op.inputs[pos]
            if t in self.densified or (rule.kind == "lstm" and self.sg.tensors[t].is_variable):
                continue  # (the LSTM's states: see lstm.py)
            if self.sg.tensors[t].data is None and t not in self.ranges and t not in self.quantized:
                return f"input {self.sg.tensors[t].name!r} was never seen in calibration"
        for t in op.outputs:
            if self.sg.tensors[t].dtype == TensorType.FLOAT32 and t not in self.ranges:
                return f"output {self.sg.tensors[t].name!r} was never seen in calibration"
        if rule.kind == "weighted":
            w = op.inputs[rule.weight_input]
            if w >= 0 and self.sg.tensors[w].sparsity is not None:
                return "sparse weights read directly by the op (no DENSIFY): kept float"
            if w < 0 or self.weight_values(w) is None:
                return "weights are not constant"
            b = op.inputs[rule.bias_input] if rule.bias_input is not None and rule.bias_input < len(op.inputs) else -1
            if b >= 0 and self.sg.tensors[b].data is None:
                return "bias is not constant"
        return None

    # tensor twins ----------------------------------------------------------------
    def _params_for(self, t: int) -> tuple[float, int]:
        lo, hi = self.ranges[t]
        return activation_params(lo, hi, self.act)

    def _make_quant(self, scale, zp, axis: int = 0) -> Quantization:
        return Quantization(scale=np.atleast_1d(np.asarray(scale, np.float32)),
                            zero_point=np.atleast_1d(np.asarray(zp, np.int64)), quantized_dimension=axis)

    def _new_like(self, t: int, name: str, dtype: int, q: Quantization | None) -> int:
        src = self.sg.tensors[t]
        return self.sg.add_tensor(name, src.shape, dtype, quantization=q,
                                  shape_signature=src.shape_signature)

    def integer_of(self, t: int) -> int:
        """The integer version of float tensor ``t`` (QUANTIZE inserted on first use)."""
        if t in self.quantized:
            return t
        if t not in self.q_copy:
            scale, zp = self._params_for(t)
            q = self._new_like(t, self.sg.tensors[t].name + "_" + self.act, _qtype(self.act),
                               self._make_quant(scale, zp))
            self.new_ops.append(Operator("QUANTIZE", [t], [q], version=1))
            self.q_copy[t] = q
        return self.q_copy[t]

    def float_of(self, t: int) -> int:
        """The float version of integer tensor ``t`` (DEQUANTIZE inserted on first use)."""
        if t not in self.quantized:
            return t
        if t not in self.f_copy:
            f = self._new_like(t, self.sg.tensors[t].name + "_dequant", TensorType.FLOAT32, None)
            self.new_ops.append(Operator("DEQUANTIZE", [t], [f], version=2))
            self.f_copy[t] = f
        return self.f_copy[t]

    def requantized(self, t: int, q: Quantization) -> int:
        """Integer tensor ``t`` re-expressed with parameters ``q`` (QUANTIZE int->int)."""
        cur = self.sg.tensors[t].quantization
        if cur.same_as(q):
            return t
        r = self._new_like(t, self.sg.tensors[t].name + "_requant", _qtype(self.act), q)
        self.new_ops.append(Operator("QUANTIZE", [t], [r], version=2))
        return r

    def constant(self, t: int, q: Quantization | None = None) -> int:
        """A quantized copy of float constant ``t`` (own range, or parameters ``q``)."""
        src = self.sg.tensors[t]
        if q is None:
            data = np.asarray(src.data, np.float32)
            lo, hi = (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
            q = self._make_quant(*activation_params(lo, hi, self.act))
        key = (t, float(q.scale[0]), int(q.zero_point[0]))
        if key not in self.const_copy:
            values = quantize_affine(src.data, float(q.scale[0]), int(q.zero_point[0]), self.act)
            self.const_copy[key] = self.sg.add_constant(src.name + "_" + self.act, values, quantization=q)
        return self.const_copy[key]

    def set_output(self, t: int, q: Quantization) -> None:
        tensor = self.sg.tensors[t]
        tensor.dtype = _qtype(self.act)
        tensor.quantization = q
        self.quantized.add(t)

    # op rewrites -----------------------------------------------------------------
    def rewrite_weighted(self, op: Operator, rule: OpRule) -> None:
        sg = self.sg
        x = self.integer_of(op.inputs[rule.data_inputs[0]])
        op.inputs[rule.data_inputs[0]] = x
        in_scale = float(sg.tensors[x].quantization.scale[0])
        w_index = op.inputs[rule.weight_input]
        wt = sg.tensors[w_index]
        axis = rule.weight_axis if self.per_channel else None
        qw, w_scale = quantize_symmetric(self.weight_values(w_index), axis)
        n_out = wt.shape[rule.weight_axis]
        w_q = self._make_quant(w_scale, np.zeros(w_scale.size, np.int64), rule.weight_axis if axis is not None else 0)
        if w_index in self.densified:
            op.inputs[rule.weight_input] = self.sparse_weight(w_index, qw, w_q)
        else:
            op.inputs[rule.weight_input] = sg.add_constant(wt.name + "_int8", qw, quantization=w_q)
        b = op.inputs[rule.bias_input] if rule.bias_input < len(op.inputs) else -1
        if b >= 0:
            bias = np.asarray(sg.tensors[b].data, np.float64)
            b_scale = (in_scale * np.broadcast_to(w_scale.astype(np.float64), (n_out,)))
            bias_bits = np.int64 if self.act == "int16" else np.int32
            info = np.iinfo(bias_bits)
            qb = np.clip(np.round(bias / b_scale), info.min, info.max).astype(bias_bits)
            b_q = self._make_quant(b_scale.astype(np.float32), np.zeros(n_out, np.int64), 0)
            op.inputs[rule.bias_input] = sg.add_constant(sg.tensors[b].name + "_quant", qb, quantization=b_q)
        if self.act == "int16" and op.options is not None and "quantized_bias_type" in op.options:
            op.options["quantized_bias_type"] = int(TensorType.INT64) if b >= 0 else 0
        out = op.outputs[0]
        self.set_output(out, self._make_quant(*self._params_for(out)))
        if op.opcode == "FULLY_CONNECTED" and op.opt("keep_num_dims"):
            op.version = max(op.version, 5)

    def sparse_weight(self, t: int, qw: np.ndarray, q: Quantization) -> int:
        """int8 weight ``qw`` stored like the sparse constant behind DENSIFY output ``t`` (same
        traversal order, blocks and level formats; values that became 0 are dropped), followed
        by an int8 DENSIFY, as TF's converter lays out sparse quantized layers."""
        sg = self.sg
        src = sg.tensors[self.densified[t]]
        values, sparsity = sparsify_like(qw, src.sparsity)
        packed = sg.add_tensor(src.name + "_int8", src.shape, TensorType.INT8, data=values,
                               quantization=q, sparsity=sparsity)
        dense = sg.add_tensor(sg.tensors[t].name + "_int8", src.shape, TensorType.INT8,
                              quantization=copy.deepcopy(q))
        self.new_ops.append(Operator("DENSIFY", [packed], [dense], version=1))
        return dense

    def rewrite_inputs_generic(self, op: Operator) -> None:
        for pos in self._float_inputs(op):
            t = op.inputs[pos]
            op.inputs[pos] = self.constant(t) if self.sg.tensors[t].data is not None else self.integer_of(t)

    def rewrite(self, op: Operator, rule: OpRule) -> None:
        sg = self.sg
        if rule.kind == "lstm":
            rewrite_lstm(self, op)
            return
        if rule.kind == "weighted":
            self.rewrite_weighted(op, rule)
        elif rule.kind == "same":
            self.rewrite_inputs_generic(op)
            q = sg.tensors[op.inputs[rule.data_inputs[0]]].quantization
            for t in op.outputs:
                if sg.tensors[t].dtype == TensorType.FLOAT32:
                    self.set_output(t, copy.deepcopy(q))
        elif rule.kind == "shared":
            lo, hi = self.ranges[op.outputs[0]]
            for pos in self._float_inputs(op):
                t = op.inputs[pos]
                if sg.tensors[t].data is not None:
                    lo, hi = min(lo, float(sg.tensors[t].data.min())), max(hi, float(sg.tensors[t].data.max()))
                elif t not in self.ranges:  # an integer model input without statistics
                    a, b = _real_range(sg.tensors[t].quantization, self.act)
                    lo, hi = min(lo, a), max(hi, b)
                else:
                    lo, hi = min(lo, self.ranges[t][0]), max(hi, self.ranges[t][1])
            q = self._make_quant(*activation_params(lo, hi, self.act))
            for pos in self._float_inputs(op):
                t = op.inputs[pos]
                if sg.tensors[t].data is not None:
                    op.inputs[pos] = self.constant(t, q)
                else:
                    op.inputs[pos] = self.requantized(self.integer_of(t), q)
            self.set_output(op.outputs[0], q)
        elif rule.kind == "fixed":
            self.rewrite_inputs_generic(op)
            scale, zp = FIXED_OUTPUT[self.act][op.opcode]
            self.set_output(op.outputs[0], self._make_quant(scale, zp))
        else:  # rescale
            self.rewrite_inputs_generic(op)
            for t in op.outputs:
                self.set_output(t, self._make_quant(*self._params_for(t)))
        op.version = max(op.version, rule.version)
        if self.act == "int16" and op.opcode in ("ADD", "SUB"):
            # TF's quantizer turns off LiteRT's power-of-two int16 path (it cannot broadcast and
            # would be picked whenever calibrated scales happen to be near powers of two)
            op.options["pot_scale_int16"] = False
            op.version = max(op.version, 3 if op.opcode == "ADD" else 5)

    def align_shared_ranges(self) -> None:
        """Give the inputs of CONCATENATION-like ops the op's joint range up front (as TF's
        converter does), so that no requantizing QUANTIZE is needed between them."""
        sg = self.sg
        producer = sg.producers()
        decisions = {i: self.why_float(i, op) is None for i, op in enumerate(sg.operators)}

        def widen(t: int, lo: float, hi: float, depth: int = 0) -> None:
            p = producer.get(t)
            if p is None or not decisions[p] or depth > 8:
                return
            op = sg.operators[p]
            if op.opcode not in RULES:
                return
            kind = RULES[op.opcode].kind
            if kind in ("weighted", "rescale"):
                self.ranges[t] = (lo, hi)
            elif kind == "same":
                src = op.inputs[RULES[op.opcode].data_inputs[0]]
                if src >= 0 and sg.tensors[src].data is None and src in self.ranges:
                    widen(src, lo, hi, depth + 1)

        for i, op in enumerate(sg.operators):
            if not decisions[i] or op.opcode not in RULES or RULES[op.opcode].kind != "shared":
                continue
            acts = [t for t in op.inputs if t >= 0 and sg.tensors[t].data is None and t in self.ranges]
            lo = min([self.ranges[op.outputs[0]][0]] + [self.ranges[t][0] for t in acts])
            hi = max([self.ranges[op.outputs[0]][1]] + [self.ranges[t][1] for t in acts])
            self.ranges[op.outputs[0]] = (lo, hi)
            for t in acts:
                widen(t, lo, hi)

    def run(self) -> None:
        sg = self.sg
        self.ranges = dict(self.ranges)
        self.align_shared_ranges()
        int_in, int_out = self.io_type[0] != "float32", self.io_type[1] != "float32"
        if int_in:
            for t in sg.inputs:
                if self._is_float_act(t) and t in self.ranges:
                    self.set_output(t, self._make_quant(*self._params_for(t)))
        for index, op in enumerate(sg.operators):
            if op.opcode == "DENSIFY" and op.outputs and op.outputs[0] in self.densified:
                self.new_ops.append(op)  # weight storage, not computation; dropped once unused
                continue
            reason = self.why_float(index, op)
            if reason is None:
                self.rewrite(op, OpRule("lstm") if op.opcode == LSTM_OPCODE else RULES[op.opcode])
                self.report.quantized[op.opcode] = self.report.quantized.get(op.opcode, 0) + 1
            elif op.opcode not in SHAPE_ONLY:
                op.inputs = [self.float_of(t) if t >= 0 else t for t in op.inputs]
                if reason != "not a float op" or any(t in self.quantized for t in op.inputs):
                    name = sg.tensors[op.outputs[0]].name if op.outputs else ""
                    if reason != "not a float op":
                        self.report.float_ops.append((index, op.opcode, name, reason))
            self.new_ops.append(op)
        new_outputs = []
        for t in sg.outputs:
            if t in self.quantized and not int_out:
                t = self._output_twin(t, float_out=True)
            elif int_out and self._is_float_act(t) and t not in self.quantized and t in self.ranges:
                t = self._output_twin(t, float_out=False)
            new_outputs.append(t)
        self._remap_signature_outputs(dict(zip(sg.outputs, new_outputs)))
        sg.outputs = new_outputs
        sg.operators = self.new_ops

    def _output_twin(self, t: int, float_out: bool) -> int:
        """Give graph output ``t`` a converted twin that carries its original name."""
        twin = self.float_of(t) if float_out else self.integer_of(t)
        a, b = self.sg.tensors[t], self.sg.tensors[twin]
        b.name = a.name
        a.name = a.name + ("_" + self.act if float_out else "_float")
        return twin

    def _remap_signature_outputs(self, mapping: dict[int, int]) -> None:
        for sig in self.model.signature_defs:
            if sig.subgraph_index == self.subgraph_index:
                sig.outputs = {k: mapping.get(v, v) for k, v in sig.outputs.items()}


def densified_constants(sg) -> dict[int, int]:
    """{DENSIFY output: its sparse float32 constant input} of a subgraph."""
    found = {}
    for op in sg.operators:
        if op.opcode != "DENSIFY" or not op.inputs or op.inputs[0] < 0 or not op.outputs:
            continue
        src = sg.tensors[op.inputs[0]]
        if src.data is not None and src.sparsity is not None and src.dtype == TensorType.FLOAT32:
            found[op.outputs[0]] = op.inputs[0]
    return found


def _compact(model: Model, subgraph_index: int = 0) -> None:
    """Drop tensors and ops nobody uses, keeping signature indices right."""
    sg = model.subgraphs[subgraph_index]
    mapping = sg.remove_unused()
    for sig in model.signature_defs:
        if sig.subgraph_index == subgraph_index:
            sig.inputs = {k: mapping[v] for k, v in sig.inputs.items()}
            sig.outputs = {k: mapping[v] for k, v in sig.outputs.items()}


def _compact_changed(model: Model, changed: set[int]) -> None:
    for si in sorted(changed):
        _compact(model, si)


# --- dynamic range and float16 ----------------------------------------------------
def _quantize_dynamic(model: Model, per_channel: bool, min_elements: int, keep_float: set,
                      report: QuantizationReport) -> set[int]:
    """int8 weights for the hybrid-capable ops of every subgraph (signatures, control-flow
    bodies); op indices in ``keep_float`` name ops of subgraph 0. Returns the subgraphs changed."""
    changed = set()
    for si, sg in enumerate(model.subgraphs):
        for index, op in enumerate(sg.operators):
            if HYBRID_WEIGHTS.get(op.opcode) is None:
                continue
            names = {sg.tensors[t].name for t in op.outputs}
            if op.opcode in keep_float or (si == 0 and index in keep_float) or names & keep_float:
                report.float_ops.append((index, op.opcode, next(iter(names), ""), "kept float (keep_float)"))
                continue
            if _hybrid_weights(sg, op, per_channel, min_elements, report):
                changed.add(si)
    return changed


def _hybrid_weights(sg, op, per_channel: bool, min_elements: int, report: QuantizationReport) -> bool:
    """Quantize the weights of one hybrid-capable op; True if any was."""
    positions, axis, version = HYBRID_WEIGHTS[op.opcode]
    changed = False
    for pos in positions:
        if pos >= len(op.inputs) or op.inputs[pos] < 0:
            continue
        w = sg.tensors[op.inputs[pos]]
        if w.data is None or w.dtype != TensorType.FLOAT32 or w.sparsity is not None \
                or w.data.size < min_elements:
            continue
        use_axis = axis if per_channel else None
        qw, scale = quantize_symmetric(w.data, use_axis)
        q = Quantization(scale=scale, zero_point=np.zeros(scale.size, np.int64),
                         quantized_dimension=use_axis or 0)
        op.inputs[pos] = sg.add_constant(w.name + "_int8", qw, quantization=q)
        changed = True
    if changed:
        if op.options is not None and "asymmetric_quantize_inputs" in op.options:
            op.options["asymmetric_quantize_inputs"] = True
        op.version = max(op.version, version)
        report.quantized[op.opcode] = report.quantized.get(op.opcode, 0) + 1
    return changed


def _fits_float16(data: np.ndarray) -> bool:
    return bool(np.all(np.abs(data) <= _FLOAT16_MAX))


def _quantize_float16(model: Model, report: QuantizationReport) -> set[int]:
    """float32 constants -> float16 + DEQUANTIZE, in every subgraph. A sparse constant
    expanded by DENSIFY stays sparse: float16 values -> DENSIFY (float16) -> DEQUANTIZE,
    since LiteRT's DENSIFY needs a constant input; sparse constants read directly by other
    ops stay float32. Returns the subgraphs changed."""
    return {si for si, sg in enumerate(model.subgraphs) if _float16_subgraph(sg, report)}


def _float16_subgraph(sg, report: QuantizationReport) -> bool:
    twins: dict[int, int] = {}
    head: list[Operator] = []
    body: list[Operator] = []
    sparse = 0
    for op in sg.operators:
        body.append(op)
        src = sg.tensors[op.inputs[0]] if op.opcode == "DENSIFY" and op.inputs and op.inputs[0] >= 0 else None
        if src is not None and src.sparsity is not None and src.data is not None \
                and src.dtype == TensorType.FLOAT32 and _fits_float16(src.data):
            half = sg.add_tensor(src.name + "_fp16", src.shape, TensorType.FLOAT16,
                                 data=np.asarray(src.data, np.float16), sparsity=copy.deepcopy(src.sparsity))
            out = sg.tensors[op.outputs[0]]
            dense16 = sg.add_tensor(out.name + "_fp16", out.shape, TensorType.FLOAT16,
                                    shape_signature=out.shape_signature)
            body[-1] = Operator("DENSIFY", [half], [dense16], version=op.version)
            body.append(Operator("DEQUANTIZE", [dense16], list(op.outputs), version=3))
            sparse += 1
            continue
        for pos, t in enumerate(op.inputs):
            if t < 0:
                continue
            src = sg.tensors[t]
            if src.data is None or src.dtype != TensorType.FLOAT32 or src.is_variable or src.sparsity is not None:
                continue
            if src.data.size < 2 or not _fits_float16(src.data):
                continue  # scalars (thresholds, op parameters) and values float16 cannot hold stay float32
            if t not in twins:
                half = sg.add_constant(src.name + "_fp16", np.asarray(src.data, np.float16))
                out = sg.add_tensor(src.name, src.shape, TensorType.FLOAT32,
                                    shape_signature=src.shape_signature)
                head.append(Operator("DEQUANTIZE", [half], [out], version=3))
                twins[t] = out
            op.inputs[pos] = twins[t]
    sg.operators = head + body
    for key, count in (("DEQUANTIZE (float16 weights)", len(head) + sparse),
                       ("DENSIFY (sparse float16 weights)", sparse)):
        if count:
            report.quantized[key] = report.quantized.get(key, 0) + count
    return bool(head or sparse)


# --- public API ----------------------------------------------------------------------
def quantize(model: Model | str | bytes, mode: str = "int8", representative_data: Any = None, *,
             inference_input_type: str | type = "float32", inference_output_type: str | type = "float32",
             per_channel: bool = True, keep_float: Iterable[str | int] = (),
             calibration: str = "minmax", percentile: float = 99.99, min_elements: int = 1024,
             progress: bool = True, return_report: bool = False,
             ranges: dict[int, tuple[float, float]] | None = None):
    """Quantize ``model`` (an :class:`~edgelite.ir.Model`, a path or ``.tflite`` bytes).

    ``mode``: "dynamic", "float16", "int8" or "int16x8". ``representative_data``
    (int8 / int16x8): TensorFlow's callable, or an iterable of input lists, dicts keyed
    by input name or single arrays. A model with several signatures takes data per
    signature: ``(signature_key, {input_name: array})`` pairs (TensorFlow's form) or
    ``{signature_key: samples}``; each signature's subgraph is calibrated and rewritten on
    its own, signatures that assign resource variables (training steps) stay float, and
    a signature without data is an error unless its key is in ``keep_float``. ``inference_input_type`` / ``inference_output_type``:
    "float32" (QUANTIZE / DEQUANTIZE at the edges) or "int8" ("int16" for int16x8).
    ``keep_float``: op codes, op indices or op output tensor names to leave in float.
    ``calibration``: "minmax" or "percentile". Returns the new Model, or
    ``(model, QuantizationReport)`` with ``return_report=True``. ``ranges`` skips
    calibration (``{tensor index: (min, max)}`` of the float model's subgraph 0, LSTM cell
    state tensors included; with
    several signatures ``{signature_key: {tensor index: (min, max)}}``).
    """
    if mode not in MODES:
        raise ValueError(f"quantization mode must be one of {MODES}, not {mode!r}")
    m = _as_model(model)
    keep = set(keep_float)
    report = QuantizationReport(mode)
    if mode == "dynamic":
        _compact_changed(m, _quantize_dynamic(m, per_channel, min_elements, keep, report))
    elif mode == "float16":
        _compact_changed(m, _quantize_float16(m, report))
    else:
        act = "int8" if mode == "int8" else "int16"
        io = tuple(_io_name(v, act) for v in (inference_input_type, inference_output_type))
        calib = {"method": calibration, "percentile": percentile, "progress": progress}
        if len({s.subgraph_index for s in m.signature_defs}) > 1:
            _quantize_signatures(m, representative_data, ranges, calib, act, per_channel, keep, io, report)
        else:
            if ranges is None:
                ranges = calibrate(m, representative_data, **calib)
            _IntegerRewriter(m, ranges, act, per_channel, keep, io, report).run()
            _compact(m)
    m.validate()
    log.info("%s", report.summary())
    return (m, report) if return_report else m


_TRAINING_REASON = ("assigns resource variables (a training or state-update step); integer "
                    "arithmetic there would corrupt the float variables")


def _writes_variables(model: Model, subgraph_index: int) -> bool:
    return any(op.opcode == "ASSIGN_VARIABLE" for op in model.subgraphs[subgraph_index].operators)


def _quantize_signatures(m: Model, data: Any, ranges: dict | None, calib: dict, act: str,
                         per_channel: bool, keep: set, io: tuple[str, str],
                         report: QuantizationReport) -> None:
    """Full-integer rewrite of each signature's subgraph of a multi-signature model."""
    per_sig = split_by_signature(m, data) if ranges is None else {}
    done: set[int] = set()
    for sig in m.signature_defs:
        si = sig.subgraph_index
        if si in done:
            continue
        done.add(si)
        if sig.key in keep:
            report.float_signatures.append((sig.key, "kept float (keep_float)"))
            continue
        if _writes_variables(m, si):
            report.float_signatures.append(
                (sig.key, _TRAINING_REASON))
            continue
        if ranges is not None:
            if sig.key not in ranges:
                raise ValueError(f"ranges has no entry for signature {sig.key!r}; for a model with several "
                                 "signatures give {signature_key: {tensor index: (min, max)}}")
            sig_ranges = ranges[sig.key]
        else:
            if sig.key not in per_sig:
                others = [s.key for s in m.signature_defs if s.key != sig.key]
                raise ValueError(
                    f"representative_data has no samples for signature {sig.key!r} (inputs "
                    f"{list(sig.inputs)}), and the model has several signatures {[sig.key] + others}: give "
                    f"({sig.key!r}, {{input_name: array}}) pairs or {{{sig.key!r}: samples}}, or pass "
                    f"keep_float=[{sig.key!r}] to leave this signature in float")
            sig_ranges = calibrate(m, per_sig[sig.key], signature_key=sig.key, **calib)
        _IntegerRewriter(m, sig_ranges, act, per_channel, keep, io, report, subgraph_index=si).run()
        _compact(m, si)
        report.integer_signatures.append(sig.key)


def _io_name(value, act: str) -> str:
    name = np.dtype(value).name if not isinstance(value, str) else value
    if name not in ("float32", act):
        raise ValueError(f"inference input/output type must be float32 or {act}, not {name!r}")
    return name

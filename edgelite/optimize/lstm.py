"""Full-integer UNIDIRECTIONAL_SEQUENCE_LSTM quantization (LiteRT's "8x8_16" LSTM).

TF's converter quantizes a float LSTM for LiteRT's integer kernel (EvalInteger8x8_16) as:

* input / output / output state: int8 asymmetric; the output state (input 18) and the
  output share one set of parameters (the kernel writes the new state into the output);
* the eight gate weights: int8 symmetric, per tensor;
* gate biases: int32 with scale ``input_scale * input_weight_scale`` (added to the
  input matmul's accumulator);
* cell state (input 19): int16 symmetric with a power-of-two scale
  ``2^ceil(log2(max|c|)) / 32768`` from the calibrated cell range, which LiteRT limits
  to 2^-15 .. 2^-9;
* five *intermediate* tensors the converter adds to the op: the four gate
  pre-activations (int16; without layer norm the kernel uses Q3.12, so they get the
  default scale 2^-12) and the hidden value ``o * tanh(c)`` (int8). Without a
  projection the hidden value *is* the output, so it takes the output's parameters.

The cell state is internal to the op (a variable the float interpreter only shows at
the end of each run), so calibration replays the float LSTM in numpy from the op's
recorded input and initial states: :func:`lstm_cell_ranges`.

Supported here: LSTMs without layer norm, peepholes or projection, with a tanh
activation (CIFG allowed). Others stay float, with the reason in the report.
"""
from __future__ import annotations

import math

import numpy as np

from ..ir import Operator, Quantization
from ..schema import TensorType

OPCODE = "UNIDIRECTIONAL_SEQUENCE_LSTM"
INPUT_WEIGHTS, RECURRENT_WEIGHTS, BIASES = (1, 2, 3, 4), (5, 6, 7, 8), (12, 13, 14, 15)
PEEPHOLES, PROJECTION, OUTPUT_STATE, CELL_STATE = (9, 10, 11), (16, 17), 18, 19
LAYER_NORMS = (20, 21, 22, 23)
TANH = 4
GATE_SCALE = 2.0 ** -12
MIN_CELL_LOG2, MAX_CELL_LOG2 = -15, -9


def _present(op: Operator, i: int) -> bool:
    return i < len(op.inputs) and op.inputs[i] >= 0


def unsupported_reason(sg, op: Operator) -> str | None:
    """Why this LSTM cannot become LiteRT's integer LSTM here (None if it can)."""
    if op.opt("fused_activation_function") != TANH:
        return "integer LSTM needs a tanh activation"
    if op.opt("diagonal_recurrent_tensors"):
        return "integer LSTM has no diagonal recurrent weights"
    if any(_present(op, i) for i in LAYER_NORMS):
        return "layer-norm LSTM: integer quantization not implemented (kept float)"
    if any(_present(op, i) for i in PEEPHOLES + PROJECTION):
        return "LSTM with peepholes or projection: integer quantization not implemented (kept float)"
    for i in INPUT_WEIGHTS[1:] + RECURRENT_WEIGHTS[1:] + BIASES[1:]:
        if not _present(op, i) or sg.tensors[op.inputs[i]].data is None:
            return f"LSTM input {i} is not constant"
    cifg = not _present(op, INPUT_WEIGHTS[0])
    if not cifg and any(not _present(op, i) or sg.tensors[op.inputs[i]].data is None
                        for i in (RECURRENT_WEIGHTS[0], BIASES[0])):
        return "LSTM input gate weights / bias are not constant"
    for i in (OUTPUT_STATE, CELL_STATE):
        if not _present(op, i) or not sg.tensors[op.inputs[i]].is_variable:
            return f"LSTM state input {i} is not a variable tensor"
    return None


def cell_log2(lo: float, hi: float) -> int | None:
    """Power-of-two exponent k of the int16 cell scale 2^k for cell range [lo, hi];
    None when the range needs more than LiteRT's largest (2^-9, |c| < 64)."""
    bound = max(abs(lo), abs(hi))
    if bound <= 0:
        return MIN_CELL_LOG2
    k = math.ceil(math.log2(bound)) - 15
    if k > MAX_CELL_LOG2:
        return None
    return max(k, MIN_CELL_LOG2)


# --- calibration: the float LSTM replayed for its cell state -----------------------------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def float_lstm_cells(sg, op: Operator, x: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> tuple[float, float]:
    """(min, max) of the cell state over every step of the float LSTM ``op`` (no peephole /
    projection / layer norm) run on input ``x`` from states ``h0``, ``c0``."""
    const = lambda i: np.asarray(sg.tensors[op.inputs[i]].data, np.float64)
    cifg = not _present(op, INPUT_WEIGHTS[0])
    gates = range(1, 4) if cifg else range(4)
    wx = np.concatenate([const(INPUT_WEIGHTS[g]) for g in gates], 0)
    wh = np.concatenate([const(RECURRENT_WEIGHTS[g]) for g in gates], 0)
    bias = np.concatenate([const(BIASES[g]) for g in gates])
    xs = np.asarray(x, np.float64)
    if not op.opt("time_major"):
        xs = np.swapaxes(xs, 0, 1) if xs.ndim == 3 else xs
    n_cell = wx.shape[0] // len(gates)
    h = np.asarray(h0, np.float64).reshape(-1, wh.shape[1])
    c = np.asarray(c0, np.float64).reshape(-1, n_cell)
    clip = float(op.opt("cell_clip") or 0.0)
    pre_x = xs @ wx.T + bias
    lo, hi = np.inf, -np.inf
    for t in range(xs.shape[0]):
        z = pre_x[t] + h @ wh.T
        parts = np.split(z, len(gates), axis=1)
        if cifg:
            f, g, o = _sigmoid(parts[0]), np.tanh(parts[1]), _sigmoid(parts[2])
            i = 1.0 - f
        else:
            i, f, g, o = _sigmoid(parts[0]), _sigmoid(parts[1]), np.tanh(parts[2]), _sigmoid(parts[3])
        c = f * c + i * g
        if clip > 0:
            c = np.clip(c, -clip, clip)
        lo, hi = min(lo, float(c.min())), max(hi, float(c.max()))
        h = o * np.tanh(c)
    return lo, hi


class LstmCellRecorder:
    """Collects the cell-state range of every supported LSTM of a subgraph during calibration
    (keyed by the cell state tensor's index, as the other ranges are)."""

    def __init__(self, model, subgraph_index: int):
        self.sg = model.subgraphs[subgraph_index]
        self.subgraph_index = subgraph_index
        self.ops = [op for op in self.sg.operators
                    if op.opcode == OPCODE and unsupported_reason(self.sg, op) is None]
        self.states: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.ranges: dict[int, tuple[float, float]] = {}

    def _get(self, interp, t: int):
        return interp.get_tensor(t, self.subgraph_index) if self.subgraph_index else interp.get_tensor(t)

    def before(self, interp) -> None:
        """Remember each LSTM's states before a run (they carry over between runs)."""
        for k, op in enumerate(self.ops):
            try:
                self.states[k] = (np.array(self._get(interp, op.inputs[OUTPUT_STATE])),
                                  np.array(self._get(interp, op.inputs[CELL_STATE])))
            except (ValueError, KeyError):
                self.states.pop(k, None)

    def after(self, interp) -> None:
        for k, op in enumerate(self.ops):
            if k not in self.states:
                continue
            try:
                x = np.array(self._get(interp, op.inputs[0]))
            except ValueError:
                continue
            lo, hi = float_lstm_cells(self.sg, op, x, *self.states[k])
            t = op.inputs[CELL_STATE]
            old = self.ranges.get(t, (np.inf, -np.inf))
            self.ranges[t] = (min(old[0], lo), max(old[1], hi))


# --- the rewrite ------------------------------------------------------------------------
def _quant(scale, zp) -> Quantization:
    return Quantization(scale=np.atleast_1d(np.asarray(scale, np.float32)),
                        zero_point=np.atleast_1d(np.asarray(zp, np.int64)), quantized_dimension=0)


def rewrite_lstm(rw, op: Operator) -> None:
    """Turn float LSTM ``op`` into LiteRT's integer LSTM in place (``rw``: the rewriter)."""
    from .quantize import quantize_symmetric  # (quantize imports this module)

    sg = rw.sg
    x = rw.integer_of(op.inputs[0])
    op.inputs[0] = x
    in_scale = float(sg.tensors[x].quantization.scale[0])
    w_scales = {}
    for i in INPUT_WEIGHTS + RECURRENT_WEIGHTS:
        if not _present(op, i):
            continue
        w = sg.tensors[op.inputs[i]]
        qw, scale = quantize_symmetric(np.asarray(w.data, np.float32), None)
        w_scales[i] = float(scale[0])
        op.inputs[i] = sg.add_constant(w.name + "_int8", qw, quantization=_quant(scale, 0))
    for g, i in enumerate(BIASES):
        if not _present(op, i):
            continue
        b = sg.tensors[op.inputs[i]]
        b_scale = in_scale * w_scales[INPUT_WEIGHTS[g]]
        info = np.iinfo(np.int32)
        qb = np.clip(np.round(np.asarray(b.data, np.float64) / b_scale), info.min, info.max).astype(np.int32)
        op.inputs[i] = sg.add_constant(b.name + "_int32", qb, quantization=_quant(b_scale, 0))
    out = op.outputs[0]
    out_q = rw._make_quant(*rw._params_for(out))
    rw.set_output(out, out_q)
    h_state = sg.tensors[op.inputs[OUTPUT_STATE]]
    h_state.dtype, h_state.quantization = TensorType.INT8, _quant(out_q.scale, out_q.zero_point)
    c_state = sg.tensors[op.inputs[CELL_STATE]]
    k = cell_log2(*rw.ranges[op.inputs[CELL_STATE]])
    c_state.dtype, c_state.quantization = TensorType.INT16, _quant(2.0 ** k, 0)
    name = sg.tensors[out].name
    op.intermediates = [sg.add_tensor(f"{name}_gate{g}_intermediate", (), TensorType.INT16,
                                      quantization=_quant(GATE_SCALE, 0)) for g in range(4)]
    op.intermediates.append(sg.add_tensor(f"{name}_hidden_intermediate", (), TensorType.INT8,
                                          quantization=_quant(out_q.scale, out_q.zero_point)))
    op.options["asymmetric_quantize_inputs"] = False


def integer_lstm_reason(rw, index: int, op: Operator) -> str | None:
    """None if ``op`` can be rewritten by :func:`rewrite_lstm` with the rewriter's ranges."""
    if rw.act != "int8":
        return "no int16x8 integer LSTM in LiteRT"
    why = unsupported_reason(rw.sg, op)
    if why is not None:
        return why
    cell = op.inputs[CELL_STATE]
    if cell not in rw.ranges:
        return "no calibrated cell-state range (calibrate with this version of edgelite)"
    if cell_log2(*rw.ranges[cell]) is None:
        return f"cell state range {rw.ranges[cell]} exceeds the integer LSTM's +-64"
    return None

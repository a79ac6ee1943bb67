"""ONNX lowering of TFLite's float UNIDIRECTIONAL_SEQUENCE_LSTM, unrolled over time.

ONNX's LSTM op cannot express TFLite's ``cell_clip`` (TFLite clips the cell state, ONNX's
``clip`` the gate inputs), so the sequence is unrolled into plain ops, which ONNX Runtime
runs without per-op Python overhead: one MatMul projects the whole input sequence onto the
four gates (plus the biases) and one Split cuts it into steps, then each step adds
``h @ R`` (ONNX Runtime fuses it into one Gemm), applies the gates (one Sigmoid for
input/forget/output, the fused activation for the cell input), updates and clips the cell
state and computes ``h``; one Concat collects the steps' ``h``. ONNX Runtime pays a
per-node cost on these tiny tensors, so the step is kept to 11 nodes. The state tensors are TFLite *variables*: the final
``h`` and ``c`` are bound with :meth:`OnnxBuilder.set_state`, the delegate writes them back
into the variables after each run (so the next invoke continues from them, as in LiteRT).

Supported: all four gates (no CIFG), no peepholes, projection or layer normalisation,
tanh (or relu) activation, any cell clip, batch- or time-major.
"""
from __future__ import annotations

import numpy as np

from .builder import OnnxBuilder

_OPTIONAL_ABSENT = (9, 10, 11, 16, 17, 20, 21, 22, 23)


def lstm_supported(op, subgraph) -> bool:
    ins = op.inputs
    if len(ins) < 20 or any(len(ins) > i and ins[i] >= 0 for i in _OPTIONAL_ABSENT):
        return False
    if any(ins[i] < 0 for i in (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 18, 19)):
        return False
    tensors = subgraph.tensors
    if not (tensors[ins[18]].is_variable and tensors[ins[19]].is_variable):
        return False
    if any(tensors[ins[i]].data is None for i in (1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15)):
        return False
    if any(tensors[t].numpy_dtype != np.float32 for t in (*[i for i in ins if i >= 0], *op.outputs)):
        return False
    return (op.opt("fused_activation_function", 4) in (1, 4) and not op.opt("proj_clip", 0.0)
            and not op.opt("diagonal_recurrent_tensors", False) and not op.intermediates)


def lower_unidirectional_sequence_lstm(op, b: OnnxBuilder) -> None:
    ins = op.inputs
    x, h_state, c_state, out = ins[0], ins[18], ins[19], op.outputs[0]
    time_major = bool(op.opt("time_major", False))
    shape = b.shape(x)
    steps, batch = (shape[0], shape[1]) if time_major else (shape[1], shape[0])
    hidden = b.shape(ins[5])[0]
    act = "Relu" if op.opt("fused_activation_function", 4) == 1 else "Tanh"
    clip = float(op.opt("cell_clip", 0.0) or 0.0)
    # gates reordered to input, forget, output, cell (TFLite's order is i, f, c, o): one
    # Sigmoid takes the first three
    order = (1, 2, 4, 3), (5, 6, 8, 7), (12, 13, 15, 14)
    w = np.concatenate([b.real_value(ins[i]) for i in order[0]], axis=0)      # [4H, I]
    r = np.concatenate([b.real_value(ins[i]) for i in order[1]], axis=0)      # [4H, H]
    bias = np.concatenate([b.real_value(ins[i]) for i in order[2]])           # [4H]
    seq = b.get(x)
    if not time_major and batch > 1:  # time-major, so that each step is a block of rows
        seq = b.one("Transpose", [seq], perm=[1, 0, 2])
    projected = b.one("Add", [b.one("MatMul", [seq, b.const(np.ascontiguousarray(w.T))]), b.const(bias)])
    rows = b.reshape(projected, [steps * batch, 4 * hidden])                   # step t: rows t*B..t*B+B-1
    per_step = [rows] if steps == 1 else b.node("Split", [rows, b.const(np.full(steps, batch, np.int64))],
                                                steps, axis=0)
    r_t = b.const(np.ascontiguousarray(r.T))
    gate_sizes = b.const(np.array([3 * hidden, hidden], np.int64))
    ifo_sizes = b.const(np.full(3, hidden, np.int64))
    h, c = b.get(h_state), b.get(c_state)
    outputs = []
    for xt in per_step:
        gates = b.one("Add", [xt, b.one("MatMul", [h, r_t])])                  # [B, 4H]
        ifo, g = b.node("Split", [gates, gate_sizes], 2, axis=1)
        i, f, o = b.node("Split", [b.one("Sigmoid", [ifo]), ifo_sizes], 3, axis=1)
        c = b.one("Add", [b.one("Mul", [f, c]), b.one("Mul", [i, b.one(act, [g])])])
        if clip > 0:
            c = b.one("Clip", [c, b.const(np.float32(-clip)), b.const(np.float32(clip))])
        h = b.one("Mul", [o, b.one(act, [c])])
        outputs.append(h)
    y = outputs[0] if len(outputs) == 1 else b.one("Concat", outputs, axis=0)  # [T*B, H]
    if time_major or batch == 1:
        y = b.reshape(y, list(b.shape(out)))
    else:
        y = b.one("Transpose", [b.reshape(y, [steps, batch, hidden])], perm=[1, 0, 2])
    b.set(out, y)
    b.set_state(h_state, h)
    b.set_state(c_state, c)


LOWERINGS = {"UNIDIRECTIONAL_SEQUENCE_LSTM": lower_unidirectional_sequence_lstm}

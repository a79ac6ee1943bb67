"""ONNX lowering of TFLite's float UNIDIRECTIONAL_SEQUENCE_LSTM, unrolled over time.

ONNX's LSTM op cannot express TFLite's ``cell_clip`` (TFLite clips the cell state, ONNX's
``clip`` the gate inputs), so the sequence is unrolled into plain ops, which ONNX Runtime
runs without per-op Python overhead: one MatMul projects the whole input sequence onto the
four gates (plus the biases), then each step adds ``h @ R``, applies the gates
(sigmoid for input/forget/output, the fused activation for the cell input), updates and
clips the cell state and computes ``h``. The state tensors are TFLite *variables*: the final
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
    steps = shape[0] if time_major else shape[1]
    hidden = b.shape(ins[5])[0]
    act = "Relu" if op.opt("fused_activation_function", 4) == 1 else "Tanh"
    clip = float(op.opt("cell_clip", 0.0) or 0.0)
    # gates in the order input, forget, cell, output (TFLite's input order)
    w = np.concatenate([b.real_value(ins[i]) for i in (1, 2, 3, 4)], axis=0)      # [4H, I]
    r = np.concatenate([b.real_value(ins[i]) for i in (5, 6, 7, 8)], axis=0)      # [4H, H]
    bias = np.concatenate([b.real_value(ins[i]) for i in (12, 13, 14, 15)])        # [4H]
    projected = b.one("Add", [b.one("MatMul", [b.get(x), b.const(np.ascontiguousarray(w.T))]), b.const(bias)])
    r_t = b.const(np.ascontiguousarray(r.T))
    sizes = b.const(np.full(4, hidden, np.int64))
    h, c = b.get(h_state), b.get(c_state)
    axis = 0 if time_major else 1
    outputs = []
    for t in range(steps):
        xt = b.one("Gather", [projected, b.const(np.array(t, np.int64))], axis=axis)   # [B, 4H]
        gates = b.one("Add", [xt, b.one("MatMul", [h, r_t])])
        i, f, g, o = b.node("Split", [gates, sizes], 4, axis=1)
        i, f, o = (b.one("Sigmoid", [v]) for v in (i, f, o))
        c = b.one("Add", [b.one("Mul", [f, c]), b.one("Mul", [i, b.one(act, [g])])])
        if clip > 0:
            c = b.one("Clip", [c, b.const(np.float32(-clip)), b.const(np.float32(clip))])
        h = b.one("Mul", [o, b.one(act, [c])])
        outputs.append(b.one("Unsqueeze", [h, b.const(np.array([axis], np.int64))]))
    y = outputs[0] if len(outputs) == 1 else b.one("Concat", outputs, axis=axis)
    b.set(out, y)
    b.set_state(h_state, h)
    b.set_state(c_state, c)


LOWERINGS = {"UNIDIRECTIONAL_SEQUENCE_LSTM": lower_unidirectional_sequence_lstm}

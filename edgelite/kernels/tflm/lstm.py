"""UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations, int16 cell) as TFLM's own LSTM kernel runs it.

TFLM does not use LiteRT's ``lstm_eval``; its ``lstm_eval.h`` builds every step from reference
ops (``CalculateLstmGate``, ``UpdateLstmCell``, ``UpdateLstmHidden``):

* gate = ``sat16(FC_x(x) + FC_h(h))``: each FullyConnected requantizes (MBQM) and saturates to
  int16 on its own before the saturating add (LiteRT adds the recurrent product before saturating);
* sigmoid / tanh of the Q3.12 gate by the int16 LOGISTIC / TANH reference kernels: the
  interpolated ``sigmoid_table_uint16`` (LiteRT: gemmlowp's fixed-point functions);
* ``c = sat16(MulElementwise(f, c) + MulElementwise(i, g))``: each product requantized by
  MultiplyByQuantizedMultiplier with the multiplier of 2^-15 (resp. 2^-30 / cell scale) and
  saturated (LiteRT: rounding shifts);
* ``h = sat8(MBQM(tanh(c) * o, 2^-30 / s_h) + zp_h)`` on the *output state's* scale and zero
  point, the tanh of the cell by the int16 TANH kernel with TFLM's input multiplier for the cell
  scale; the cell clip is computed in double.

TFLM's integer LSTM has no peephole, projection, layer norm or CIFG.
"""
from __future__ import annotations

import numpy as np

from ..base import register
from ..integer_lstm import IntegerUnidirectionalSequenceLSTM, _sat16
from ..quant_math import multiply_by_quantized_multiplier_fast as mbqm
from ..quant_math import quantize_multiplier_scalar
from ..quantized_activations import QuantizedLogisticInt16, QuantizedTanhInt16
from ..recurrent import CELL_STATE, OUTPUT_STATE, store_state
from .common import TFLM_PRIORITY, is_tflm

_RAWS = np.arange(-32768, 32768, dtype=np.int64)
_TABLES: dict[tuple, np.ndarray] = {}


def lut_table(kind: str, multiplier: int, left_shift: int) -> np.ndarray:
    """TFLM's int16 Logistic / Tanh (reference_integer_ops) of every int16 value."""
    key = (kind, multiplier, left_shift)
    if key not in _TABLES:
        cls = QuantizedLogisticInt16 if kind == "logistic" else QuantizedTanhInt16
        if multiplier == 0:  # the power-of-two case of the reference kernels
            multiplier, left_shift = 3 << left_shift, 0
        table = np.asarray(object.__new__(cls).compute(_RAWS, multiplier, left_shift), np.int64)
        table.flags.writeable = False
        _TABLES[key] = table
    return _TABLES[key]


def _tflm_int8_lstm(node) -> bool:
    return is_tflm(node) and node.subgraph.tensors[node.op.inputs[0]].numpy_dtype == np.int8


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", kind="int8", priority=TFLM_PRIORITY, when=_tflm_int8_lstm)
@register("UNIDIRECTIONAL_SEQUENCE_LSTM", kind="int16", priority=TFLM_PRIORITY, when=_tflm_int8_lstm)
class TFLMIntegerLSTM(IntegerUnidirectionalSequenceLSTM):
    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        p = self.params
        if p.use_layer_norm or self.has_peephole or p.projection is not None or self.use_cifg:
            raise self.fail("TFLite Micro's integer LSTM has no layer norm, peephole, projection or CIFG")
        cell_scale = float(np.float32(inputs[CELL_STATE].scale[0]))
        h_spec = inputs[OUTPUT_STATE]
        self.h_zp = int(h_spec.zero_point[0]) if h_spec.zero_point.size else 0
        self.forget_mult = quantize_multiplier_scalar(2.0 ** -15 * cell_scale / cell_scale)
        self.input_mult = quantize_multiplier_scalar(2.0 ** -15 * 2.0 ** -15 / cell_scale)
        self.hidden_mult = quantize_multiplier_scalar(2.0 ** -30 / float(np.float32(h_spec.scale[0])))
        cell_clip = float(np.float32(self.cell_clip))
        self.tflm_cell_clip = int(min(max(cell_clip / cell_scale, -32768.0), 32767.0)) if cell_clip > 0 else 0
        self.sigmoid = lut_table("logistic", 0, 0)
        self.gate_tanh = lut_table("tanh", 0, 0)  # Q3.12: left shift (15 - 12) - 3 = 0
        shift = 15 + p.cell_scale - 3
        self.cell_tanh_table = lut_table("tanh", 0, shift) if shift >= 0 else lut_table("tanh", 3, -shift)
        return shapes

    def eval(self, inputs, outputs):
        p = self.params
        nc = self.n_cell
        x_gates, h, c, out_tm = self.sequence_start(inputs, outputs)
        for t in range(x_gates.shape[0]):
            rec = _sat16(mbqm(self.recurrent_accumulator(h), *p.recurrent_multiplier))
            z = _sat16(x_gates[t] + rec) + 32768
            inp, forget, cell_in, out_gate = (z[:, k * nc:(k + 1) * nc] for k in range(4))
            inp, forget, out_gate = self.sigmoid[inp], self.sigmoid[forget], self.sigmoid[out_gate]
            cell_in = self.gate_tanh[cell_in]
            c = _sat16(_sat16(mbqm(forget * c, *self.forget_mult)) + _sat16(mbqm(inp * cell_in, *self.input_mult)))
            if self.tflm_cell_clip > 0:
                c = np.clip(c, -self.tflm_cell_clip, self.tflm_cell_clip)
            cell_tanh = self.cell_tanh_table[c + 32768]
            h = np.clip(mbqm(cell_tanh * out_gate, *self.hidden_mult) + self.h_zp, -128, 127)
            out_tm[t] = h
        store_state(inputs[OUTPUT_STATE], h.astype(np.int8))
        store_state(inputs[CELL_STATE], c.astype(np.int16))

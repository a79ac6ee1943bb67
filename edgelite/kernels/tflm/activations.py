"""Activations whose TFLM kernels differ from LiteRT's builtin ones.

RELU6 (int8, int16): TFLM clamps the *input* integers to ``[zero_point, six]`` with
``six = round(6 / s_in) + zp_in`` and stores them without rescaling to the output's quantization
(converters give RELU6 equal input and output parameters; where they differ, LiteRT rescales and
TFLM does not).

LEAKY_RELU (int8, int16): reference ``QuantizeLeakyRelu`` with multipliers computed in double
from the float32 scales (``s_in * alpha / s_out`` and ``s_in / s_out``, measured against the
tflite-micro wheel); LiteRT rounds those quotients to float32 first, which moves some multipliers
by one unit in the last place and some outputs by one step.
"""
from __future__ import annotations

import numpy as np

from .. import quant_math as qm
from ..base import Kernel, register
from ..quantized_activations import QuantizedLeakyRelu
from ..quantized_elementwise import qparams, scalar_multiplier
from .common import TFLM_PRIORITY, is_tflm


@register("LEAKY_RELU", kind="int8", priority=TFLM_PRIORITY, when=is_tflm)
@register("LEAKY_RELU", kind="int16", priority=TFLM_PRIORITY, when=is_tflm)
class TFLMLeakyRelu(QuantizedLeakyRelu):
    def table_values(self, values, spec_in, spec_out):
        si, zi = qparams(spec_in, "input")
        so, zo = qparams(spec_out, "output")
        alpha = float(np.float32(self.options.get("alpha", 0.0)))
        si, so = float(np.float32(si)), float(np.float32(so))
        m_alpha = scalar_multiplier(si * alpha / so)
        m_id = scalar_multiplier(si / so)
        qmin, qmax = qm.dtype_range(spec_out.dtype)
        v = values - zi
        pos = qm.multiply_by_quantized_multiplier(v, *m_id)
        neg = qm.multiply_by_quantized_multiplier(v, *m_alpha)
        return np.clip(np.where(v >= 0, pos, neg) + zo, qmin, qmax)


@register("RELU6", kind="int8", priority=TFLM_PRIORITY, when=is_tflm)
@register("RELU6", kind="int16", priority=TFLM_PRIORITY, when=is_tflm)
class TFLMRelu6(Kernel):
    def prepare(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if np.dtype(x.dtype) not in (np.dtype(np.int8), np.dtype(np.int16)) or out.dtype != x.dtype:
            raise self.fail(f"RELU6 needs matching int8/int16 input and output, got {x.dtype} -> {out.dtype}")
        si, zi = qparams(x, "input")
        lo, hi = qm.dtype_range(x.dtype)
        six = int(qm.round_half_away(np.float32(6.0) / np.float32(si))) + zi  # FloatToQuantizedType
        self.zero, self.six = zi, min(max(six, lo), hi)
        return [x.shape]

    def eval(self, inputs, outputs):
        np.clip(inputs[0], self.zero, self.six, out=outputs[0])
        return None

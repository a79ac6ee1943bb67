"""CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV and FULLY_CONNECTED with TFLM's requantization.

TFLM's integer kernels are TFLite's reference ones (``reference_integer_ops``): the int32 (int8
activations) or int64 (int16 activations) accumulator plus bias goes through
``MultiplyByQuantizedMultiplier`` for every output channel, with the double rounding of
gemmlowp's ``SaturatingRoundingDoublingHighMul`` and ``RoundingDivideByPOT`` (ties away from
zero), or for int64 accumulators the 16-bit "reduced multiplier" variant. LiteRT's optimized
int8 kernels instead round the last shift's ties toward +inf in their SIMD blocks (ruy), which
is where the two engines differ by one step. int16x8 FULLY_CONNECTED uses the int32 formula
when its bias is int32 (or absent with ``quantized_bias_type`` int32) and the int64 one
otherwise, where LiteRT's reference rescales in double.
"""
from __future__ import annotations

import numpy as np

from ..base import register
from ..quantized_conv import (QuantizedConv2D, QuantizedDepthwiseConv2D, QuantizedFullyConnected,
                              QuantizedTransposeConv, _make_requantizer)
from .common import TFLM_PRIORITY, is_tflm

_INT32_BIAS_TYPE = 2  # schema TensorType.INT32, as in FullyConnectedOptions.quantized_bias_type


def _mode(x) -> str:
    return "mbqm32" if np.dtype(x.dtype) == np.int8 else "mbqm64"


def _tflm_variant(*ops: str):
    def deco(cls):
        for op in ops:
            for kind in ("int8", "int16"):
                cls = register(op, kind=kind, priority=TFLM_PRIORITY, when=is_tflm)(cls)
        return cls
    return deco


class _TFLMRequantization:
    """The LiteRT kernel's ``prepare``, then TFLM's requantizer in place of LiteRT's.

    A variant names its operands (``requant_operands``: input, filter, output, output channels)
    and may pick another mode than the activations' (``requant_mode``).
    """

    def requant_operands(self, inputs, outputs) -> tuple:
        return inputs[0], inputs[1], outputs[0], inputs[1].shape[0]

    def requant_mode(self, inputs, x) -> str:
        return _mode(x)

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        x, w, out, channels = self.requant_operands(inputs, outputs)
        self.requant = _make_requantizer(self, x, w, out, channels, self.requant_mode(inputs, x))
        return shapes


@_tflm_variant("CONV_2D")
class TFLMConv2D(_TFLMRequantization, QuantizedConv2D):
    """reference_integer_ops::ConvPerChannel (int8: int32 acc; int16: int64 acc)."""


@_tflm_variant("DEPTHWISE_CONV_2D")
class TFLMDepthwiseConv2D(_TFLMRequantization, QuantizedDepthwiseConv2D):
    """reference_integer_ops::DepthwiseConvPerChannel: one rounding for every channel."""

    def requant_operands(self, inputs, outputs) -> tuple:
        return inputs[0], inputs[1], outputs[0], inputs[1].shape[3]


@_tflm_variant("TRANSPOSE_CONV")
class TFLMTransposeConv(_TFLMRequantization, QuantizedTransposeConv):
    """reference_integer_ops::TransposeConv: int32 (int8) / int64 (int16) scratch accumulators."""

    def requant_operands(self, inputs, outputs) -> tuple:
        return inputs[2], inputs[1], outputs[0], inputs[1].shape[0]


@_tflm_variant("FULLY_CONNECTED")
class TFLMFullyConnected(_TFLMRequantization, QuantizedFullyConnected):
    """reference_integer_ops::FullyConnected / FullyConnectedPerChannel."""

    def requant_mode(self, inputs, x) -> str:
        bias = inputs[2] if len(inputs) > 2 else None
        mode = _mode(x)
        if mode == "mbqm64":
            bias_type = int(self.options.get("quantized_bias_type", 0) or 0)
            if (bias is not None and np.dtype(bias.dtype) == np.int32) or (
                    bias is None and bias_type == _INT32_BIAS_TYPE):
                mode = "mbqm32"
        return mode

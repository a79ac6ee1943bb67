"""SVDF (singular value decomposition filter), float and hybrid, as LiteRT's svdf kernel.

Inputs: 0 input [B, I], 1 weights_feature [F, I], 2 weights_time [F, M], 3 bias [U]
(optional), 4 state [B, F*M] (a variable tensor, kept between invocations).
Options: ``rank`` (F = U * rank) and ``fused_activation_function``.

Per invocation, with the state viewed as [B, F, M] (M = memory size):

1. every filter's memory shifts one step left (the oldest value drops out);
2. the newest column becomes the feature projection ``weights_feature x input``;
3. each filter's memory is weighted: ``s[b, f] = sum_m state[b, f, m] * weights_time[f, m]``;
4. the ``rank`` filters of each unit are summed, the bias added, then the activation
   applied for real (TANH included), as in LiteRT's ApplyActivationToVector.

Hybrid SVDF (int8 weights, float input and state): the input is quantized per batch
row (symmetric, or asymmetric with ``asymmetric_quantize_inputs``), the feature
projection is an exact integer product scaled by ``input scale * weights_feature
scale``, and ``weights_time`` is dequantized once; the newest column is left at zero
when the whole input is zero, as LiteRT skips the product then.

Integer SVDF (int8 input, weights_feature and output, int32 bias; weights_time and state
both int16 -- LiteRT's EvalIntegerSVDF -- or both int8 -- TFLite Micro only, LiteRT
crashes on it): with the effective scales ``in * weights_feature / state`` and
``state * weights_time / out`` computed in float32 (as both engines do) and turned into
Q31 multipliers,

1. the newest column is ``clamp(MBQM(sum (x - x_zp) * wf) + state_zp)`` to the state type;
2. ``s[b, f] = sum_m weights_time[f, m] * (state[b, f, m] - state_zp)`` in integers;
3. the rank sums plus the bias become ``clamp(MBQM(acc) + out_zp)`` to int8.

The fused activation is not applied (neither engine does; models pair it with an output
zero point at the bottom of the int8 range). With an int16 state the zero point is 0.
"""
from __future__ import annotations

import numpy as np

from .activation_fn import apply_activation, check_activation
from .base import Kernel, register
from .hybrid import _quantize as quantize_rows  # per-row symmetric / asymmetric input quantization
from .int_gemm import exact_matmul
from .quant_math import dtype_range, multiply_by_quantized_multiplier, quantize_multiplier_scalar

F32 = np.float32
INPUT, WEIGHTS_FEATURE, WEIGHTS_TIME, BIAS, STATE = range(5)


@register("SVDF", kind="float")
class SVDF(Kernel):
    """Float SVDF."""

    def __init__(self, node):
        super().__init__(node)
        self.rank = int(self.options.get("rank", 0) or 0)
        self.activation = check_activation(self.options.get("fused_activation_function", 0))

    def prepare(self, inputs, outputs):
        if len(inputs) != 5 or any(inputs[i] is None for i in (INPUT, WEIGHTS_FEATURE, WEIGHTS_TIME, STATE)):
            raise self.fail("expects input, weights_feature, weights_time, bias (optional) and state")
        x, wf, wt, bias, state = inputs
        if len(x.shape) != 2:
            raise self.fail(f"input must be 2-D [batch, input_size], got {list(x.shape)}")
        batch, n_input = x.shape
        if len(wf.shape) != 2 or wf.shape[1] != n_input:
            raise self.fail(f"weights_feature {list(wf.shape)} do not fit an input size of {n_input}")
        n_filters = wf.shape[0]
        if self.rank < 1 or n_filters % self.rank:
            raise self.fail(f"rank {self.rank} does not divide the {n_filters} filters")
        if len(wt.shape) != 2 or wt.shape[0] != n_filters:
            raise self.fail(f"weights_time {list(wt.shape)} must be [{n_filters}, memory_size]")
        n_units, memory = n_filters // self.rank, wt.shape[1]
        if bias is not None and bias.size != n_units:
            raise self.fail(f"bias has {bias.size} elements, expected {n_units} units")
        if state.size != batch * n_filters * memory:
            raise self.fail(f"state has {state.size} elements, expected {batch}x{n_filters * memory}")
        self.batch, self.n_filters, self.memory, self.n_units = batch, n_filters, memory, n_units
        self.prepare_weights(wf, wt, bias)
        return [(batch, n_units)]

    def prepare_weights(self, wf, wt, bias) -> None:
        """Constant weights, arranged once: weights_feature^T [I, F], weights_time [F, M], bias [U]."""
        self.feature_t = None if wf.data is None else np.ascontiguousarray(np.asarray(wf.data, F32).T)
        self.time_weights = None if wt.data is None else np.asarray(wt.data, F32)
        self.bias = None if bias is None or bias.data is None else np.asarray(bias.data, F32).reshape(-1)

    def newest_features(self, inputs) -> np.ndarray | None:
        """The feature projection of the input, [B, F] (None: leave the newest column at zero)."""
        feature_t = self.feature_t
        if feature_t is None:
            feature_t = np.asarray(inputs[WEIGHTS_FEATURE], F32).T
        return np.matmul(np.asarray(inputs[INPUT], F32), feature_t)

    def eval(self, inputs, outputs):
        batch, n_filters, memory = self.batch, self.n_filters, self.memory
        old = np.asarray(inputs[STATE], F32).reshape(batch, n_filters, memory)
        state = np.empty((batch, n_filters, memory), F32)
        state[:, :, :-1] = old[:, :, 1:]
        features = self.newest_features(inputs)
        state[:, :, -1] = 0.0 if features is None else features
        time_weights = self.time_weights
        if time_weights is None:
            time_weights = self.dequantized_time_weights(inputs[WEIGHTS_TIME])
        filtered = np.einsum("bfm,fm->bf", state, time_weights, dtype=F32)  # [B, F]
        out = outputs[0]
        np.sum(filtered.reshape(batch, self.n_units, self.rank), axis=-1, out=out)
        bias = self.bias if self.bias is not None or inputs[BIAS] is None else np.asarray(inputs[BIAS], F32)
        if bias is not None:
            np.add(out, bias.reshape(-1), out=out)
        apply_activation(out, self.activation)
        target = inputs[STATE]
        if isinstance(target, np.ndarray) and target.flags.writeable:
            np.copyto(target, state.reshape(target.shape))

    def dequantized_time_weights(self, value) -> np.ndarray:
        return np.asarray(value, F32)


@register("SVDF", kind="hybrid")
class HybridSVDF(SVDF):
    """SVDF with int8 weights_feature / weights_time and float input, state and output."""

    def prepare_weights(self, wf, wt, bias):
        for name, w in (("weights_feature", wf), ("weights_time", wt)):
            if w.data is None or w.dtype != np.int8 or not w.quantized:
                raise self.fail(f"hybrid SVDF needs constant quantized int8 {name}, got {w.dtype}")
        self.asymmetric = bool(self.options.get("asymmetric_quantize_inputs", False))
        wq = np.asarray(wf.data, np.int64)
        self.feature_q_t = np.ascontiguousarray(wq.T, F32)        # [I, F], exact integers
        self.feature_row_sums = wq.sum(axis=1)                     # [F]
        self.feature_scale = F32(wf.scale[0])
        self.feature_t = None
        self.time_weights = (np.asarray(wt.data, F32) * F32(wt.scale[0])).astype(F32)
        self.bias = None if bias is None or bias.data is None else np.asarray(bias.data, F32).reshape(-1)

    def newest_features(self, inputs):
        x = np.asarray(inputs[INPUT], F32)
        if not np.any(x):
            return None
        q, scale, zero_point = quantize_rows(x, self.asymmetric)
        acc = exact_matmul(q, self.feature_q_t, 128, 128)
        if zero_point is not None:
            acc = acc - np.asarray(zero_point)[:, None] * self.feature_row_sums
        factor = (scale * self.feature_scale).astype(F32)
        return acc.astype(F32) * factor[:, None]


def _float32_scale(a, b, c) -> float:
    """``a * b / c`` in float32 arithmetic, as the engines compute effective scales."""
    return float(F32(F32(F32(a) * F32(b)) / F32(c)))


@register("SVDF", kind="int8")
@register("SVDF", kind="int16")
class IntegerSVDF(SVDF):
    """Full-integer SVDF: int16 state and weights_time (LiteRT) or int8 ones (TFLite Micro)."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        x, wf, wt, _bias, state = inputs
        out = outputs[0]
        if x.dtype != np.int8 or wf.dtype != np.int8 or out.dtype != np.int8:
            raise self.fail(f"integer SVDF needs int8 input, weights_feature and output, "
                            f"got {x.dtype}, {wf.dtype}, {out.dtype}")
        if state.dtype not in (np.int8, np.int16) or wt.dtype != state.dtype:
            raise self.fail(f"integer SVDF needs weights_time and state both int16 or both int8, "
                            f"got {wt.dtype} and {state.dtype}")
        for name, t in (("input", x), ("weights_feature", wf), ("weights_time", wt), ("state", state),
                        ("output", out)):
            if not t.quantized:
                raise self.fail(f"{name} must be quantized")
        self.m1 = quantize_multiplier_scalar(_float32_scale(x.scale[0], wf.scale[0], state.scale[0]))
        self.m2 = quantize_multiplier_scalar(_float32_scale(state.scale[0], wt.scale[0], out.scale[0]))
        zp = lambda t: int(t.zero_point[0]) if t.zero_point.size else 0  # noqa: E731
        self.in_zp, self.state_zp, self.out_zp = zp(x), zp(state), zp(out)
        self.state_dtype = np.dtype(state.dtype)
        self.state_range = dtype_range(state.dtype)
        return shapes

    def prepare_weights(self, wf, wt, bias):
        for name, w in (("weights_feature", wf), ("weights_time", wt)):
            if w.data is None:
                raise self.fail(f"integer SVDF needs a constant {name}")
        if bias is not None and (bias.data is None or bias.dtype != np.int32):
            raise self.fail(f"integer SVDF needs a constant int32 bias, got {bias.dtype}")
        self.feature_q_t = np.ascontiguousarray(np.asarray(wf.data, np.int64).T, F32)  # [I, F], exact
        self.time_q = np.asarray(wt.data, np.int64)
        self.int_bias = None if bias is None else np.asarray(bias.data, np.int64).reshape(-1)

    def eval(self, inputs, outputs):
        batch, n_filters, memory = self.batch, self.n_filters, self.memory
        old = np.asarray(inputs[STATE]).reshape(batch, n_filters, memory)
        state = np.empty((batch, n_filters, memory), np.int64)
        state[:, :, :-1] = old[:, :, 1:]
        x = np.asarray(inputs[INPUT], np.int64) - self.in_zp
        acc = exact_matmul(x.astype(F32), self.feature_q_t, 256, 128)  # [B, F]
        lo, hi = self.state_range
        state[:, :, -1] = np.clip(multiply_by_quantized_multiplier(acc, *self.m1) + self.state_zp, lo, hi)
        filtered = np.einsum("bfm,fm->bf", state - self.state_zp, self.time_q)
        total = filtered.reshape(batch, self.n_units, self.rank).sum(axis=-1)
        if self.int_bias is not None:
            total = total + self.int_bias
        out = multiply_by_quantized_multiplier(total, *self.m2) + self.out_zp
        outputs[0][...] = np.clip(out, -128, 127)
        target = inputs[STATE]
        if isinstance(target, np.ndarray) and target.flags.writeable:
            np.copyto(target, state.astype(self.state_dtype).reshape(target.shape))

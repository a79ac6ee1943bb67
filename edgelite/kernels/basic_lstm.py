"""The LSTM op's BASIC kernel (``kernel_type`` 1), float and quantized, bit-exact with LiteRT.

The TF1 "basic" LSTM cell: inputs input [B, I], prev_activation [B, D], weights [4D, I+D],
bias [4D], prev_state [B, D]; outputs activation [B, D], state [B, D], concat_temp [B, I+D],
activation_temp [B, 4D]. ``concat = [input, prev_activation]``, ``gates = FC(concat)`` in the
order input, input modulation (cell), forget, output; then
``state = sigmoid(i) * tanh(g) + sigmoid(f) * prev_state``, ``activation = sigmoid(o) * tanh(state)``.

The quantized form (LiteRT's LstmCell<4>): uint8 input/activations on the fixed scale 1/128
with zero point 128, uint8 weights, int32 bias, int16 states with 4 integer bits (scale 2^-11).
The FC accumulates ``(x - 128) * (w - w_zp) + bias`` and rescales by ``4096 * bias_scale``
(ruy's ties-up rounding, as LiteRT's uint8 GEMMs on x86) into int16 Q3.12 gate inputs;
the rest is gemmlowp's int16 fixed point: logistic / tanh of Q3.12, products, a saturating
add in Q4.11, tanh of the state rescaled to Q3.12, output rounded from Q0.15 to 8 bits.
"""
from __future__ import annotations

import numpy as np

from .activation_fn import sigmoid_
from .base import Kernel, register
from .int_gemm import exact_matmul
from .quant_math import multiply_by_quantized_multiplier_fast, quantize_multiplier_scalar, rounding_divide_by_pot
from .quantized_activations import gemmlowp_logistic_16, gemmlowp_tanh_16
from .quantized_elementwise import sat_rounding_doubling_high_mul_16 as mul16

def _basic_lstm_kind(node) -> bool:
    return int((node.op.options or {}).get("kernel_type", 0) or 0) == 1


class _BasicLSTMBase(Kernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 5 or len(outputs) != 4:
            raise self.fail(f"basic LSTM expects 5 inputs and 4 outputs, got {len(inputs)} and {len(outputs)}")
        if any(s is None for s in inputs):
            raise self.fail("basic LSTM inputs are all required")
        x, prev_act, w, bias, prev_state = inputs
        o = self.options
        if int(o.get("fused_activation_function", 4) or 0) != 4:
            raise self.fail("basic LSTM needs the TANH activation")
        if float(o.get("cell_clip", 0) or 0) != 0 or float(o.get("proj_clip", 0) or 0) != 0:
            raise self.fail("basic LSTM supports no cell or projection clipping")
        if len(x.shape) != 2 or len(prev_act.shape) != 2 or len(prev_state.shape) != 2:
            raise self.fail("basic LSTM input and states must be 2-D")
        batch, depth_in = x.shape
        depth = prev_act.shape[1]
        total = depth_in + depth
        if prev_act.shape[0] != batch or tuple(prev_state.shape) != (batch, depth):
            raise self.fail(f"states {list(prev_act.shape)}, {list(prev_state.shape)} do not fit input "
                            f"{list(x.shape)}")
        if tuple(w.shape) != (4 * depth, total) or tuple(bias.shape) != (4 * depth,):
            raise self.fail(f"weights {list(w.shape)} / bias {list(bias.shape)} must be "
                            f"[{4 * depth}, {total}] / [{4 * depth}]")
        self.depth = depth
        self.check_types(inputs, outputs)
        return [(batch, depth), (batch, depth), (batch, total), (batch, 4 * depth)]

    def check_types(self, inputs, outputs) -> None:
        raise NotImplementedError

    def concat_and_gates(self, inputs, outputs):
        x, prev_act = inputs[0], inputs[1]
        concat = outputs[2]
        concat[:, :x.shape[1]] = x
        concat[:, x.shape[1]:] = prev_act
        d = self.depth
        gates = self.fully_connected(concat, inputs[2], inputs[3])
        outputs[3][...] = gates
        return [gates[:, k * d:(k + 1) * d] for k in range(4)]


@register("LSTM", kind="float", priority=1, when=_basic_lstm_kind)
class BasicLSTMFloat(_BasicLSTMBase):
    """Float basic LSTM cell (LiteRT's LstmCell)."""

    def check_types(self, inputs, outputs):
        for s in list(inputs) + list(outputs):
            if s.dtype != np.float32:
                raise self.fail(f"float basic LSTM needs float32 tensors, {s.name} is {s.dtype}")

    def fully_connected(self, concat, w, bias):
        return (concat @ np.asarray(w, np.float32).T + bias).astype(np.float32)

    def eval(self, inputs, outputs):
        i_pre, g_pre, f_pre, o_pre = (np.array(g) for g in self.concat_and_gates(inputs, outputs))
        sigmoid_(i_pre)
        sigmoid_(f_pre)
        sigmoid_(o_pre)
        state = i_pre * np.tanh(g_pre) + f_pre * inputs[4]
        outputs[1][...] = state
        outputs[0][...] = o_pre * np.tanh(state)
        return None


@register("LSTM", kind="int8", priority=1, when=_basic_lstm_kind)
@register("LSTM", kind="int16", priority=1, when=_basic_lstm_kind)  # the int16 states make it "int16"
class BasicLSTMQuantized(_BasicLSTMBase):
    """uint8 / int16 basic LSTM cell (LiteRT's LstmCell<4>, bit-exact)."""

    def check_types(self, inputs, outputs):
        x, prev_act, w, bias, prev_state = inputs
        want = [(x, np.uint8), (prev_act, np.uint8), (w, np.uint8), (bias, np.int32), (prev_state, np.int16),
                (outputs[0], np.uint8), (outputs[1], np.int16), (outputs[2], np.uint8), (outputs[3], np.int16)]
        for spec, dtype in want:
            if spec.dtype != dtype:
                raise self.fail(f"quantized basic LSTM needs {np.dtype(dtype)} for {spec.name}, got {spec.dtype}")
            if not spec.quantized:
                raise self.fail(f"quantized basic LSTM needs quantized {spec.name}")
        state_scale = float(outputs[1].scale[0])
        log2 = np.log2(state_scale)
        if abs(log2 - round(log2)) > 1e-3 or 15 + round(log2) != 4:
            raise self.fail(f"quantized basic LSTM supports only a state scale of 2^-11 (4 integer bits), "
                            f"got {state_scale}")
        self.accum_multiplier, self.accum_shift = quantize_multiplier_scalar(
            4096.0 * float(np.float32(bias.scale[0])))
        self.w_zp = int(w.zero_point[0]) if w.zero_point.size else 0
        self._packed = (None, None)  # (weights array, its float (I+D, 4D) layout minus the zero point)

    def fully_connected(self, concat, w, bias):
        if self._packed[0] is not w:
            self._packed = (w, np.ascontiguousarray(np.asarray(w, np.float32).T - np.float32(self.w_zp)))
        w_float = self._packed[1]
        acc = exact_matmul(concat.astype(np.float32) - np.float32(128), w_float, 128, 255)
        acc += np.asarray(bias, np.int64)
        acc = multiply_by_quantized_multiplier_fast(acc, self.accum_multiplier, self.accum_shift, ties_up=True)
        return np.clip(acc, -32768, 32767)

    def eval(self, inputs, outputs):
        i_pre, g_pre, f_pre, o_pre = self.concat_and_gates(inputs, outputs)
        input_gate = gemmlowp_logistic_16(i_pre)
        modulation = gemmlowp_tanh_16(g_pre)
        forget_gate = gemmlowp_logistic_16(f_pre)
        output_gate = gemmlowp_logistic_16(o_pre)
        prev_state = np.asarray(inputs[4], np.int64)
        # Q0.15 * Q0.15 -> Q0.15, rescaled to Q4.11; Q0.15 * Q4.11 -> Q4.11; saturating int16 add
        new_state = np.clip(rounding_divide_by_pot(mul16(input_gate, modulation), 4) + mul16(forget_gate, prev_state),
                            -32768, 32767)
        state_q3 = np.clip(new_state << 1, -32768, 32767)  # Rescale<3>: saturating doubling
        activation = mul16(output_gate, gemmlowp_tanh_16(state_q3))
        outputs[1][...] = new_state
        outputs[0][...] = np.clip(rounding_divide_by_pot(activation, 8), -128, 127) + 128
        return None

"""Full-integer UNIDIRECTIONAL_SEQUENCE_LSTM: LiteRT's "8x8_16" LSTM (lstm_eval's
EvalInteger8x8_16), bit-exact.

This is the LSTM TF's converter produces for full-integer quantization: int8 input,
output and output state, int8 weights (symmetric), int32 gate / projection biases,
int16 cell state with a power-of-two scale 2^cell_scale, int16 peephole weights and
layer-norm coefficients, and 5 *intermediate* tensors whose quantization carries the
scales of the four gate pre-activations (used only with layer norm; otherwise the gates
are Q3.12, and newer converters leave these four unquantized) and of the hidden value
``o * tanh(c)`` (intermediate 4, always needed).

Prepare (as LiteRT's PopulateQuantizedLstmParams8x8_16):

* every matmul gets an effective scale ``w_scale * in_scale / gate_scale`` (float32
  arithmetic), decomposed by QuantizeMultiplier;
* the zero points are folded into per-row effective biases:
  ``bias - zp_in * rowsum(W)`` (the gate bias only without layer norm; with layer norm it
  is added inside the normalization), ``hidden_zp * rowsum(P) + proj_bias`` for the projection.

Per step, for each gate (the C code's order: input, forget, cell, update the cell, output):

    gate = sat16(MBQM(W_x x + b_x) + MBQM(W_h h + b_h) [+ MBQM(p * c)])    (int16, Q3.12)
    [layer norm in integers: mean/variance with 2^10 extra resolution, inverse sqrt
     multiplier, coefficient and bias, rescaled by the coefficient scale]
    gate = gemmlowp logistic / tanh of the Q3.12 value (Q0.15 out; tabulated over all int16)
    c = RDBP(f * c, 15) + RDBP(i * g, 30 + cell_scale) (saturating; CIFG: i = 32767 - f),
        clipped to the quantized cell clip
    hidden = sat8(MBQM(o * tanh_{15 + cell_scale}(c), hidden scale) - hidden_zp)
    h = sat8(MBQM(P hidden + proj_bias_eff) + output_zp), clipped to the quantized proj clip
    (no projection: h = sat8(MBQM(o * tanh(c), hidden scale) + hidden_zp): LiteRT's sign
    conventions for the hidden zero point -- its CwiseMul adds the zero point it is given,
    and it is given -hidden_zp when a projection follows -- kept as they are)

where MBQM is TFLite's MultiplyByQuantizedMultiplier (double rounding) and RDBP a rounding
divide by a power of two. The input-weight matmuls of all steps are one GEMM before the
time loop (exact through float BLAS, see int_gemm.py); each step is one stacked recurrent
GEMM plus vectorised element-wise work over the whole batch.

LiteRT quirk reproduced: the peephole product runs over ``n_output`` elements per batch
row (LiteRT passes ``n_output`` as the vector size), so with a projection smaller than the
cell only the first ``n_output`` cells get the peephole term (batch-major), or the flat
layout is walked with stride ``n_output`` (time-major, the whole batch in one call).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Kernel, register
from .int_gemm import exact_matmul
from .quant_math import multiply_by_quantized_multiplier_fast as mbqm
from .quant_math import quantize_multiplier_scalar, rounding_divide_by_pot
from .quantized_activations import gemmlowp_logistic_16, gemmlowp_tanh_16
from .quantized_elementwise import check_log2, inv_sqrt_multiplier_exp_vec
from .recurrent import (
    BIASES,
    CELL_STATE,
    INPUT,
    INPUT_WEIGHTS,
    LAYER_NORMS,
    OUTPUT_STATE,
    PEEPHOLE_F,
    PEEPHOLE_I,
    PEEPHOLE_O,
    PROJECTION_BIAS,
    PROJECTION_WEIGHTS,
    RECURRENT_WEIGHTS,
    SequenceLayout,
    check_lstm_inputs,
    store_state,
)

INT16_MIN, INT16_MAX = -32768, 32767
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
GATE_Q3_12_SCALE = 2.0 ** -12
PEEPHOLES = (PEEPHOLE_I, PEEPHOLE_F, None, PEEPHOLE_O)


_TABLES: dict[tuple[str, int], np.ndarray] = {}


def activation_table(kind: str, integer_bits: int) -> np.ndarray:
    """gemmlowp's int16 ``logistic`` / ``tanh`` of FixedPoint<int16, integer_bits> for every
    int16 raw value (index ``raw + 32768``): the exact functions, evaluated once."""
    key = (kind, integer_bits)
    table = _TABLES.get(key)
    if table is None:
        raws = np.arange(INT16_MIN, INT16_MAX + 1, dtype=np.int64)
        fn = gemmlowp_logistic_16 if kind == "logistic" else gemmlowp_tanh_16
        table = _TABLES[key] = np.asarray(fn(raws, integer_bits), np.int64)
        table.flags.writeable = False
    return table


def apply_table(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``table`` looked up at the int16 values ``x``."""
    return table[x + (-INT16_MIN)]


def _f32(x) -> np.float32:
    return np.float32(x)


def _sat16(x: np.ndarray) -> np.ndarray:
    return np.clip(x, INT16_MIN, INT16_MAX)


def _trunc_div(a: np.ndarray, d) -> np.ndarray:
    """C's integer division (truncation toward zero)."""
    q = np.abs(a) // np.abs(d)
    return np.where((a < 0) != (np.asarray(d) < 0), -q, q)


@dataclass
class IntegerGate:
    """One gate's constants (rows of the stacked matmuls are gathered separately)."""

    peephole: np.ndarray | None       # int64 [n_cell]
    peephole_multiplier: tuple[int, int]
    ln_coef: np.ndarray | None        # int64 [n_cell]
    ln_bias: np.ndarray | None        # int64 [n_cell]
    ln_multiplier: tuple[int, int]
    variance_guard: int
    tanh: bool                        # cell gate: tanh, others: sigmoid


def _srdhm32(a: int, b: int) -> int:
    """gemmlowp's SaturatingRoundingDoublingHighMul on Python ints (int32 values)."""
    if a == b == INT32_MIN:
        return INT32_MAX
    v = a * b + ((1 << 30) if a * b >= 0 else 1 - (1 << 30))
    return v >> 31 if v >= 0 else -((-v) >> 31)


def _sat_shl32(x: int, amount: int) -> int:
    return min(max(x << amount, INT32_MIN), INT32_MAX)


def _wrap32(x: int) -> int:
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def inv_sqrt_multiplier_exp_scalar(value: int) -> tuple[int, int]:
    """TFLite's GetInvSqrtQuantizedMultiplierExp(value, reverse_shift=-1) for one Python int.

    The same computation as quantized_elementwise.inv_sqrt_multiplier_exp_vec (a Q3.28
    Newton-Raphson inverse square root), cheaper for the handful of rows an LSTM step has.
    """
    if value <= 1:
        return INT32_MAX, 0
    shift = 11
    while value >= (1 << 29):
        value //= 4
        shift += 1
    pairs = ((32 - value.bit_length()) - 1) // 2 - 1
    shift -= pairs
    value <<= 2 * pairs
    half_input = value >> 1
    half_input = (half_input >> 1) + (half_input & 1)  # RoundingDivideByPOT(., 1), non-negative
    half_three = (1 << 28) + (1 << 27)
    x = 1 << 28
    for _ in range(5):
        x3 = _sat_shl32(_srdhm32(_srdhm32(x, x), x), 6)
        x = _sat_shl32(_wrap32(_srdhm32(half_three, x) - _srdhm32(half_input, x3)), 3)
    x = _srdhm32(x, 1518500250)
    if shift < 0:
        x = _wrap32(x << -shift)
        shift = 0
    return x, -shift


def inv_sqrt_multipliers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`inv_sqrt_multiplier_exp_scalar` of a few values (vectorised version for many)."""
    if values.size > 64:
        return inv_sqrt_multiplier_exp_vec(values)
    pairs = [inv_sqrt_multiplier_exp_scalar(int(v)) for v in values.reshape(-1).tolist()]
    mult = np.array([m for m, _ in pairs], np.int64).reshape(values.shape)
    shift = np.array([e for _, e in pairs], np.int64).reshape(values.shape)
    return mult, shift


@dataclass
class LayerNormGroup:
    """The layer-norm constants of k gates normalised together, shaped to broadcast over [k, B, n]."""

    coef: np.ndarray        # [k, 1, n]
    bias: np.ndarray        # [k, 1, n]
    multiplier: np.ndarray  # [k, 1, 1]
    shift: np.ndarray       # [k, 1, 1], LiteRT's + 12 included
    guard: np.ndarray       # [k, 1, 1]

    @classmethod
    def of(cls, gates: list[IntegerGate]) -> LayerNormGroup | None:
        if not gates or gates[0].ln_coef is None:
            return None
        column = lambda vals: np.asarray(vals, np.int64).reshape(-1, 1, 1)
        return cls(coef=np.stack([g.ln_coef for g in gates])[:, None, :],
                   bias=np.stack([g.ln_bias for g in gates])[:, None, :],
                   multiplier=column([g.ln_multiplier[0] for g in gates]),
                   shift=column([g.ln_multiplier[1] + 12 for g in gates]),
                   guard=column([g.variance_guard for g in gates]))


def integer_layer_norm(gate: np.ndarray, ln: LayerNormGroup) -> np.ndarray:
    """LiteRT's ApplyLayerNorm (int16 in and out) on the rows of ``gate`` [k, B, n]."""
    n = gate.shape[-1]
    total = gate.sum(axis=-1, keepdims=True)
    total_sq = np.square(gate).sum(axis=-1, keepdims=True)
    mean = _trunc_div(total * 1024, n)
    variance = total_sq * ((1 << 20) // n) - mean * mean
    variance = _trunc_div(variance, 1 << 20)
    variance = np.where(variance < 1, ln.guard, variance)
    inv_mult, inv_shift = inv_sqrt_multipliers(variance)
    rescaled = mbqm(gate * 1024 - mean, inv_mult, inv_shift)
    val = rescaled * ln.coef + ln.bias
    val = _trunc_div(np.where(val > 0, val + 512, val - 512), 1024)
    return _sat16(mbqm(val, ln.multiplier, ln.shift))


class IntegerLstmParams:
    """Everything LiteRT's prepare derives from the tensors' quantization and constants."""

    def __init__(self, kernel: Kernel, specs: list, intermediates: list, use_cifg: bool,
                 n_cell: int, n_output: int, cell_clip: float, proj_clip: float):
        fail = kernel.fail
        x, h_state, c_state = specs[INPUT], specs[OUTPUT_STATE], specs[CELL_STATE]
        self.gate_ids = [1, 2, 3] if use_cifg else [0, 1, 2, 3]
        self.use_layer_norm = specs[LAYER_NORMS[1]] is not None
        if not c_state.quantized:
            raise fail("the int16 cell state must be quantized")
        pot, cell_scale = check_log2(float(c_state.scale[0]))
        if not pot:
            raise fail(f"cell state scale {float(c_state.scale[0])} is not a power of two")
        if not 0 <= 15 + cell_scale <= 6:
            raise fail(f"cell state scale 2^{cell_scale} is outside LiteRT's supported 2^-15..2^-9")
        self.cell_scale = cell_scale
        # Without layer norm the gate pre-activations are Q3.12 whatever the gate intermediates
        # say: newer converters leave those four unquantized (float32, no parameters) and only
        # quantize the hidden one (intermediate 4), which is always needed.
        if len(intermediates) != 5:
            raise fail(f"the integer LSTM needs 5 intermediate tensors, got {len(intermediates)}")
        needed = range(5) if self.use_layer_norm else (4,)
        missing = [k for k in needed if intermediates[k] is None or intermediates[k].scale.size == 0]
        if missing:
            raise fail(f"intermediate tensor(s) {missing} must be quantized"
                       + (" (the layer-norm LSTM reads the gate scales from them)" if self.use_layer_norm else
                          " (it holds the scale of o * tanh(c))"))
        gate_scales = [float(t.scale[0]) if self.use_layer_norm else GATE_Q3_12_SCALE for t in intermediates[:4]]
        hidden_scale = _f32(intermediates[4].scale[0])
        self.hidden_zp = int(intermediates[4].zero_point[0]) if intermediates[4].zero_point.size else 0
        in_scale = _f32(x.scale[0])
        in_zp = int(x.zero_point[0]) if x.zero_point.size else 0
        state_scale = _f32(h_state.scale[0])
        self.output_zp = int(h_state.zero_point[0]) if h_state.zero_point.size else 0

        def const(i, dtype, what):
            s = specs[i]
            if s is None:
                return None
            if s.data is None:
                raise fail(f"input {i} ({what}) must be constant")
            if s.dtype != dtype:
                raise fail(f"input {i} ({what}) must be {np.dtype(dtype)}, got {s.dtype}")
            return np.asarray(s.data, np.int64)

        def wscale(i) -> np.float32:
            s = specs[i]
            if not s.quantized:
                raise fail(f"input {i} must be quantized")
            return _f32(s.scale[0])

        x_cols, h_cols, x_bias, h_bias, xm, xs, hm, hs = [], [], [], [], [], [], [], []
        self.gates: list[IntegerGate] = []
        for g in self.gate_ids:
            gscale = _f32(gate_scales[g])
            wx = const(INPUT_WEIGHTS[g], np.int8, "input weights")
            wh = const(RECURRENT_WEIGHTS[g], np.int8, "recurrent weights")
            bias = const(BIASES[g], np.int32, "gate bias")
            m, s = quantize_multiplier_scalar(float(_f32(wscale(INPUT_WEIGHTS[g]) * in_scale) / gscale))
            xm.append(np.full(n_cell, m)), xs.append(np.full(n_cell, s))
            m, s = quantize_multiplier_scalar(float(_f32(wscale(RECURRENT_WEIGHTS[g]) * state_scale) / gscale))
            hm.append(np.full(n_cell, m)), hs.append(np.full(n_cell, s))
            x_cols.append(wx)
            h_cols.append(wh)
            xb = -in_zp * wx.sum(axis=1)
            if not self.use_layer_norm and bias is not None:
                xb = xb + bias
            x_bias.append(xb)
            h_bias.append(-self.output_zp * wh.sum(axis=1))
            peep_idx = PEEPHOLES[g]
            peephole = None if peep_idx is None else const(peep_idx, np.int16, "peephole weights")
            peep_mult = (0, 0)
            if peephole is not None:
                eff = np.float32(2.0 ** cell_scale * float(wscale(peep_idx)) / float(gscale))
                peep_mult = quantize_multiplier_scalar(float(eff))
            ln_coef, ln_mult, guard = None, (0, 0), 1
            if self.use_layer_norm:
                ln_coef = const(LAYER_NORMS[g], np.int16, "layer norm coefficients")
                ln_scale = wscale(LAYER_NORMS[g])
                ln_mult = quantize_multiplier_scalar(float(ln_scale))
                guard = max(1, int(np.float32(10000) * ln_scale))
            self.gates.append(IntegerGate(
                peephole=peephole, peephole_multiplier=peep_mult, ln_coef=ln_coef,
                ln_bias=(np.zeros(n_cell, np.int64) if bias is None else bias) if self.use_layer_norm else None,
                ln_multiplier=ln_mult, variance_guard=guard, tanh=(g == 2)))
        self.input_matrix = np.ascontiguousarray(np.concatenate(x_cols, 0).T.astype(np.float32))
        self.recurrent_matrix = np.ascontiguousarray(np.concatenate(h_cols, 0).T.astype(np.float32))
        self.input_bias = np.concatenate(x_bias)
        self.recurrent_bias = np.concatenate(h_bias)
        self.input_multiplier = (np.concatenate(xm), np.concatenate(xs))
        self.recurrent_multiplier = (np.concatenate(hm), np.concatenate(hs))

        eff_hidden = np.float32(2.0 ** -15 / float(hidden_scale) * 2.0 ** -15)
        self.hidden_multiplier = quantize_multiplier_scalar(float(eff_hidden))
        proj = const(PROJECTION_WEIGHTS, np.int8, "projection weights")
        self.projection = None
        if proj is not None:
            proj_bias = const(PROJECTION_BIAS, np.int32, "projection bias")
            self.projection = np.ascontiguousarray(proj.T.astype(np.float32))
            pb = self.hidden_zp * proj.sum(axis=1)
            self.projection_bias = pb if proj_bias is None else pb + proj_bias
            self.projection_multiplier = quantize_multiplier_scalar(
                float(_f32(wscale(PROJECTION_WEIGHTS) * hidden_scale) / state_scale))
        self.cell_clip = 0
        if cell_clip > 0:
            self.cell_clip = int(np.float32(min(max(_f32(cell_clip) / _f32(c_state.scale[0]), -32768.0), 32767.0)))
        self.proj_clip = 0
        if proj_clip > 0:
            out_scale = _f32(h_state.scale[0])
            self.proj_clip = int(np.float32(min(max(_f32(proj_clip) / out_scale, -128.0), 127.0)))


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", kind="int8",
          when=lambda node: node.subgraph.tensors[node.op.inputs[0]].numpy_dtype == np.int8)
@register("UNIDIRECTIONAL_SEQUENCE_LSTM", kind="int16",
          when=lambda node: node.subgraph.tensors[node.op.inputs[0]].numpy_dtype == np.int8)
class IntegerUnidirectionalSequenceLSTM(SequenceLayout, Kernel):
    """int8 x int8 -> int16-cell UNIDIRECTIONAL_SEQUENCE_LSTM (LiteRT's EvalInteger8x8_16)."""

    def __init__(self, node):
        super().__init__(node)
        o = self.options
        self.time_major = bool(o.get("time_major", False))
        self.cell_clip = float(o.get("cell_clip", 0.0) or 0.0)
        self.proj_clip = float(o.get("proj_clip", 0.0) or 0.0)
        if self.cell_clip < 0 or self.proj_clip < 0:
            raise self.fail("cell_clip and proj_clip must be >= 0")
        if o.get("diagonal_recurrent_tensors", False):
            raise self.fail("the integer LSTM has no diagonal recurrent weights")

    def intermediate_quantization(self) -> list:
        """The quantization (scale, zero_point arrays) of the op's intermediate tensors."""
        sg = self.node.subgraph
        return [None if i < 0 else sg.tensors[i].quantization for i in self.node.op.intermediates]

    def prepare(self, inputs, outputs):
        if len(inputs) not in (20, 24):
            raise self.fail(f"expects 20 or 24 inputs, got {len(inputs)}")
        specs = list(inputs) + [None] * (24 - len(inputs))
        x = specs[INPUT]
        if x is None or len(x.shape) != self.input_rank:
            raise self.fail(f"input must be {self.input_rank}-D, got {None if x is None else list(x.shape)}")
        for idx, dtype in ((INPUT, np.int8), (OUTPUT_STATE, np.int8), (CELL_STATE, np.int16)):
            if specs[idx] is None or specs[idx].dtype != dtype or not specs[idx].quantized:
                raise self.fail(f"input {idx} must be quantized {np.dtype(dtype)}")
        if outputs[0].dtype != np.int8:
            raise self.fail(f"output must be int8, got {outputs[0].dtype}")
        t_len, batch = self.sequence_dims(x.shape)
        use_cifg, n_cell, n_output = check_lstm_inputs(self, specs, x.shape[-1], batch)
        has_peephole = specs[PEEPHOLE_O] is not None
        if has_peephole and n_output > n_cell:
            raise self.fail("peephole weights with n_output > n_cell are not supported")
        self.params = IntegerLstmParams(self, specs, self.intermediate_quantization(), use_cifg, n_cell, n_output,
                                        self.cell_clip, self.proj_clip)
        self.use_cifg, self.has_peephole = use_cifg, has_peephole
        self.early_ln = LayerNormGroup.of(self.params.gates[:-1])  # input, forget, cell gates
        self.late_ln = LayerNormGroup.of(self.params.gates[-1:])   # the output gate (needs the new cell)
        self.logistic3 = activation_table("logistic", 3)
        self.tanh3 = activation_table("tanh", 3)
        self.cell_tanh = activation_table("tanh", 15 + self.params.cell_scale)
        self.batch, self.t_len, self.n_cell, self.n_output = batch, t_len, n_cell, n_output
        return [self.output_shape(batch, t_len, n_output)]

    # -- the pieces of one step ------------------------------------------------------------
    def peephole(self, gate: np.ndarray, c: np.ndarray, g: IntegerGate) -> np.ndarray:
        """gate += MBQM(p * c) with LiteRT's ``n_output``-element walk (see the module doc)."""
        n_out, n_cell = self.n_output, self.n_cell
        mult, shift = g.peephole_multiplier
        if n_out == n_cell:
            return _sat16(gate + mbqm(g.peephole * c, mult, shift))
        if not self.time_major:  # one batch row per call: the first n_output cells of each row
            out = gate.copy()
            out[:, :n_out] = _sat16(gate[:, :n_out] + mbqm(g.peephole[:n_out] * c[:, :n_out], mult, shift))
            return out
        flat_g, flat_c = gate.reshape(-1).copy(), c.reshape(-1)
        k = self.batch * n_out
        flat_g[:k] = _sat16(flat_g[:k] + mbqm(np.tile(g.peephole[:n_out], self.batch) * flat_c[:k], mult, shift))
        return flat_g.reshape(gate.shape)

    def finish_gates(self, pres: list, c: np.ndarray, gates: list, ln: LayerNormGroup | None) -> list:
        """Peephole, layer norm (the gates of one group normalised in one pass) and activation."""
        pres = [pre if g.peephole is None else self.peephole(pre, c, g) for pre, g in zip(pres, gates)]
        if ln is not None:
            pres = list(integer_layer_norm(np.stack(pres), ln))
        return [apply_table(self.tanh3 if g.tanh else self.logistic3, pre) for pre, g in zip(pres, gates)]

    def sequence_start(self, inputs, outputs) -> tuple:
        """``(x_gates, h, c, out_tm)`` before the first step: every step's input-side gate
        products ``sat16(MBQM(W_x x + b_x))`` (steps, batch, gates * n_cell) at once, the output
        and cell states as int64 and the time-major view of the output."""
        p = self.params
        batch = self.batch
        x_tm = np.ascontiguousarray(self.time_major_view(np.asarray(inputs[INPUT])))
        steps = x_tm.shape[0]
        acc = exact_matmul(x_tm.reshape(steps * batch, -1).astype(np.float32), p.input_matrix, 128, 128)
        acc += p.input_bias
        x_gates = _sat16(mbqm(acc, *p.input_multiplier)).reshape(steps, batch, -1)
        h = np.asarray(inputs[OUTPUT_STATE], np.int64).reshape(batch, self.n_output)
        c = np.asarray(inputs[CELL_STATE], np.int64).reshape(batch, self.n_cell)
        return x_gates, h, c, self.time_major_view(outputs[0])

    def recurrent_accumulator(self, h: np.ndarray) -> np.ndarray:
        """``W_h h + b_h`` of one step (int64, before requantization)."""
        p = self.params
        rec = exact_matmul(h.astype(np.float32), p.recurrent_matrix, 128, 128)
        rec += p.recurrent_bias
        return rec

    def eval(self, inputs, outputs):
        p = self.params
        nc = self.n_cell
        x_gates, h, c, out_tm = self.sequence_start(inputs, outputs)
        steps = x_gates.shape[0]
        gates = p.gates
        n_g = len(gates)
        cell_shift = 30 + p.cell_scale
        hid_mult, hid_shift = p.hidden_multiplier
        for t in range(steps):
            z = _sat16(x_gates[t] + mbqm(self.recurrent_accumulator(h), *p.recurrent_multiplier))
            pre = [z[:, k * nc:(k + 1) * nc] for k in range(n_g)]
            early = self.finish_gates(pre[:-1], c, gates[:-1], self.early_ln)
            if self.use_cifg:
                forget, cell_in = early
                inp = INT16_MAX - forget
            else:
                inp, forget, cell_in = early
            c = _sat16(rounding_divide_by_pot(forget * c, 15) + rounding_divide_by_pot(inp * cell_in, cell_shift))
            if p.cell_clip > 0:
                c = np.clip(c, -p.cell_clip, p.cell_clip)
            out_gate, = self.finish_gates(pre[-1:], c, gates[-1:], self.late_ln)
            cell_tanh = apply_table(self.cell_tanh, c)
            hidden = mbqm(out_gate * cell_tanh, hid_mult, hid_shift)
            if p.projection is not None:
                # LiteRT passes -hidden_zp to its CwiseMul (which adds the zero point) here
                hidden = np.clip(hidden - p.hidden_zp, -128, 127)
                proj = exact_matmul(hidden.astype(np.float32), p.projection, 128, 128)
                proj += p.projection_bias
                h = np.clip(mbqm(proj, *p.projection_multiplier) + p.output_zp, -128, 127)
                if p.proj_clip > 0:
                    h = np.clip(h, -p.proj_clip, p.proj_clip)
            else:
                h = np.clip(hidden + p.hidden_zp, -128, 127)
            out_tm[t] = h
        store_state(inputs[OUTPUT_STATE], h.astype(np.int8))
        store_state(inputs[CELL_STATE], c.astype(np.int16))

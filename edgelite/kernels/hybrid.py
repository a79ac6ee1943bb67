"""Dynamic-range ("hybrid") kernels: int8 constant weights, float32 activations.

LiteRT quantizes the float activations on the fly, per batch row, computes the
integer products exactly, and scales the int32 results back to float:

* symmetric (``SymmetricQuantizeFloats``): ``scale = max|x| / 127``,
  ``q = round(x * (127 / max|x|))`` clamped to [-127, 127];
* asymmetric (``AsymmetricQuantizeFloats``, FULLY_CONNECTED / LSTM with
  ``asymmetric_quantize_inputs`` and per-channel CONV_2D / DEPTHWISE_CONV_2D):
  range [min(0, min x), max(0, max x)] over 255 steps (the width ``max - min``
  a float32 difference, divided by 255 in double: measured, the portable source
  subtracts in double), the zero point nudged from whichever end has the
  smaller error, then
  ``q = round(x * (1 / scale)) + zp`` (float32 product, ties away from zero;
  measured: LiteRT's x86 build rounds before adding the zero point, unlike the
  portable source), clamped to [-128, 127].

CONV_2D takes the per-channel (asymmetric) path only when the weight scales
are not all equal; with one scale (or equal ones) it quantizes symmetrically.

The quantized values must match LiteRT's bit for bit (one step of difference
is far above float tolerance), so these follow TFLite's float32/double
operations exactly; the integer products are exact (``int_gemm``), and the
final ``acc * (input_scale * filter_scale) + bias`` is float32 arithmetic
(DEPTHWISE_CONV_2D: ``(acc * filter_scale) * input_scale + bias``).

The float ops feeding these kernels must be bit-exact too: see :mod:`.exact_float`,
imported at the end of this module.
"""
from __future__ import annotations

import numpy as np

from .base import Kernel, register
from .cell_arithmetic import cell_activation_, layer_normalize_, logistic_
from .int_gemm import exact_matmul
from .quant_math import round_half_away
from .quantized_conv import conv_geometry, depthwise_accumulate, im2col

F32 = np.float32


# -- on-the-fly activation quantization -------------------------------------------------------


def symmetric_quantize_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8-valued float32 q, float32 scale per row) as TFLite's SymmetricQuantizeFloats."""
    rows = np.asarray(rows, F32)
    rng = np.maximum(np.abs(rows.min(axis=1)), np.abs(rows.max(axis=1))) if rows.shape[1] else np.zeros(
        rows.shape[0], F32)
    zero = rng == 0
    safe = np.where(zero, F32(1), rng).astype(F32)
    scale = np.where(zero, F32(1), safe / F32(127)).astype(F32)
    inv = (F32(127) / safe).astype(F32)
    q = round_half_away((rows * inv[:, None]).astype(F32))
    np.clip(q, -127, 127, out=q)
    q[zero] = 0
    return q.astype(F32), scale


def asymmetric_quantize_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(int8-valued float32 q, float32 scale, int zero point) per row, as AsymmetricQuantizeFloats."""
    rows = np.asarray(rows, F32)
    if rows.shape[1]:
        rmin = np.minimum(F32(0), rows.min(axis=1))
        rmax = np.maximum(F32(0), rows.max(axis=1))
    else:
        rmin = rmax = np.zeros(rows.shape[0], F32)
    same = rmin == rmax
    # the range is a float32 difference, only the division by 255 is double (x86 build)
    scale_d = np.where(same, 1.0, (rmax - rmin).astype(np.float64) / 255.0)
    rmin, rmax = rmin.astype(np.float64), rmax.astype(np.float64)
    zp_min = -128.0 - rmin / scale_d
    zp_max = 127.0 - rmax / scale_d
    err_min = 128.0 + np.abs(rmin / scale_d)
    err_max = 127.0 + np.abs(rmax / scale_d)
    zp_d = np.where(err_min < err_max, zp_min, zp_max)
    zp = np.where(zp_d <= -128.0, -128, np.where(zp_d >= 127.0, 127, round_half_away(zp_d))).astype(np.int64)
    zp[same] = 0
    scale = np.where(same, F32(1), scale_d.astype(F32)).astype(F32)
    inv = (F32(1) / scale).astype(F32)
    q = round_half_away((rows * inv[:, None]).astype(F32)) + zp[:, None]
    np.clip(q, -128, 127, out=q)
    q[same] = 0
    return q.astype(F32), scale, zp


def apply_float_activation(y: np.ndarray, act: int) -> np.ndarray:
    """TFLite's fused activations on float data (in place where possible)."""
    if act == 0:
        return y
    if act == 1:
        return np.maximum(y, 0, out=y)
    if act == 2:
        return np.clip(y, -1, 1, out=y)
    if act == 3:
        return np.clip(y, 0, 6, out=y)
    if act == 4:
        return np.tanh(y, out=y)
    if act == 5:
        y[...] = np.signbit(y)
        return y
    if act == 6:
        y[...] = 1 / (1 + np.exp(-y))
        return y
    raise ValueError(f"unknown fused activation {act}")


def _weight_scales(kernel, w, channels: int) -> np.ndarray:
    if not w.quantized:
        raise kernel.fail("int8 weights of a hybrid op need quantization scales")
    s = np.asarray(w.scale, F32)
    if s.size == 1:
        return np.full(channels, s[0], F32)
    if s.size != channels:
        raise kernel.fail(f"{s.size} weight scales for {channels} output channels")
    return s


def _float_bias(kernel, bias, channels: int) -> np.ndarray:
    if bias is None:
        return np.zeros(channels, F32)
    if bias.data is None:
        raise kernel.fail("bias of a hybrid op must be constant")
    b = np.asarray(bias.data, F32).reshape(-1)
    if b.size != channels:
        raise kernel.fail(f"bias has {b.size} values for {channels} output channels")
    return b


def _check_hybrid(kernel, x, w, out):
    if x.dtype != np.float32 or out.dtype != np.float32:
        raise kernel.fail(f"hybrid kernel needs float32 input and output, got {x.dtype} -> {out.dtype}")
    if w.dtype != np.int8 or w.data is None:
        raise kernel.fail(f"hybrid kernel needs constant int8 weights, got {w.dtype}")
    if w.zero_point.size and np.any(w.zero_point != 0):
        raise kernel.fail("hybrid weights must be symmetric (zero point 0)")


# -- FULLY_CONNECTED --------------------------------------------------------------------------


@register("FULLY_CONNECTED", kind="hybrid")
class HybridFullyConnected(Kernel):
    """Per-row quantized input x int8 weights (per-tensor or per-channel scales)."""

    def prepare(self, inputs, outputs):
        x, w, out = inputs[0], inputs[1], outputs[0]
        bias = inputs[2] if len(inputs) > 2 else None
        _check_hybrid(self, x, w, out)
        o, k = w.shape
        total = int(np.prod(x.shape, dtype=np.int64))
        if k == 0 or total % k:
            raise self.fail(f"input of shape {list(x.shape)} does not split into rows of {k}")
        self.k, self.o = k, o
        wq = np.asarray(w.data, np.int64)
        if w.sparsity is not None:  # sparse constant weights: decode once
            from ..sparsity import densify
            wq = densify(wq, w.shape, w.sparsity)
        self.wmat = np.ascontiguousarray(wq.T, F32)
        self.row_sums = wq.sum(axis=1)
        self.wscale = _weight_scales(self, w, o)
        self.bias = _float_bias(self, bias, o)
        self.asymmetric = bool(self.options.get("asymmetric_quantize_inputs"))
        self.act = int(self.options.get("fused_activation_function", 0) or 0)
        if self.options.get("keep_num_dims"):
            return [tuple(x.shape[:-1]) + (o,)]
        return [(total // k, o)]

    def eval(self, inputs, outputs):
        rows = inputs[0].reshape(-1, self.k)
        if self.asymmetric:
            q, sf, zp = asymmetric_quantize_rows(rows)
        else:
            (q, sf), zp = symmetric_quantize_rows(rows), None
        acc = exact_matmul(q, self.wmat, 128, 128)
        if zp is not None:
            acc -= zp[:, None] * self.row_sums
        scale = (sf[:, None] * self.wscale[None, :]).astype(F32)
        y = (acc.astype(F32) * scale + self.bias).astype(F32)
        apply_float_activation(y, self.act)
        outputs[0][...] = y.reshape(outputs[0].shape)
        return None


# -- CONV_2D ----------------------------------------------------------------------------------


class _HybridWindowKernel(Kernel):
    """Shared prepare of the hybrid convolutions: checks, window geometry, scales, bias."""

    def prepare_window(self, inputs, outputs, channels_axis: int) -> int:
        """Reads what both convolutions need; returns the number of output channels."""
        x, w, out = inputs[0], inputs[1], outputs[0]
        _check_hybrid(self, x, w, out)
        channels = w.shape[channels_axis]
        try:
            self.geom = conv_geometry(self.options, x.shape[1], x.shape[2], w.shape[1], w.shape[2])
        except ValueError as e:
            raise self.fail(str(e))
        self.wscale = _weight_scales(self, w, channels)
        self.bias = _float_bias(self, inputs[2] if len(inputs) > 2 else None, channels)
        self.act = int(self.options.get("fused_activation_function", 0) or 0)
        return channels


@register("CONV_2D", kind="hybrid")
class HybridConv2D(_HybridWindowKernel):
    """Per-channel weights: asymmetric per-batch input quantization; per-tensor: symmetric."""

    def prepare(self, inputs, outputs):
        x, w = inputs[0], inputs[1]
        if w.shape[3] != x.shape[3]:
            raise self.fail(f"grouped hybrid convolution is not supported (input depth {x.shape[3]}, "
                            f"filter {w.shape[3]})")
        o = self.prepare_window(inputs, outputs, 0)
        wq = np.asarray(w.data, np.int64).reshape(o, -1)
        self.wmat = np.ascontiguousarray(wq.T, F32)
        self.row_sums = wq.sum(axis=1)
        self.per_channel = w.scale.size > 1 and bool(np.any(w.scale != w.scale[0]))
        kh, kw = w.shape[1], w.shape[2]
        self.pointwise = kh == kw == 1 and self.geom[2] == self.geom[3] == 1 and not any(self.geom[6:10])
        return [(x.shape[0], self.geom[10], self.geom[11], o)]

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        n, oh, ow, o = out.shape
        rows = x.reshape(n, -1)
        if self.per_channel:
            q, sf, zp = asymmetric_quantize_rows(rows)
        else:
            (q, sf), zp = symmetric_quantize_rows(rows), np.zeros(n, np.int64)
            sf = (sf * self.wscale[0]).astype(F32)
        qx = q.reshape(x.shape)
        y = np.empty((n, oh * ow, o), F32)
        for b in range(n):  # one quantization (zero point, scale) per batch item
            if self.pointwise:
                cols = qx[b].reshape(-1, x.shape[3])
            else:
                cols = im2col(qx[b:b + 1], self.geom, float(zp[b]), F32).reshape(oh * ow, -1)
            acc = exact_matmul(cols, self.wmat, 128, 128)
            if zp[b]:
                acc -= zp[b] * self.row_sums
            scale = (sf[b] * self.wscale).astype(F32) if self.per_channel else sf[b]
            y[b] = acc.astype(F32) * scale + self.bias
        apply_float_activation(y, self.act)
        out[...] = y.reshape(out.shape)
        return None


# -- DEPTHWISE_CONV_2D ------------------------------------------------------------------------


@register("DEPTHWISE_CONV_2D", kind="hybrid")
class HybridDepthwiseConv2D(_HybridWindowKernel):
    """Asymmetric per-batch input quantization, per-channel int8 weights."""

    def prepare(self, inputs, outputs):
        x, w = inputs[0], inputs[1]
        c = x.shape[3]
        oc = w.shape[3]
        if c == 0 or oc % c:
            raise self.fail(f"filter has {oc} channels, not a multiple of input depth {c}")
        self.mult = oc // c
        self.prepare_window(inputs, outputs, 3)
        self.taps = np.asarray(w.data, F32).reshape(w.shape[1], w.shape[2], oc)
        return [(x.shape[0], self.geom[10], self.geom[11], oc)]

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        n = x.shape[0]
        q, sf, zp = asymmetric_quantize_rows(x.reshape(n, -1))
        # exact in float32: |terms| < 2^15 and few taps
        acc = depthwise_accumulate(q.reshape(x.shape), self.taps, self.geom, self.mult, zp)
        # LiteRT's order (measured): (acc * filter scale) * input scale + bias
        y = np.multiply(acc, self.wscale, dtype=F32)
        y *= sf[:, None, None, None]
        y += self.bias
        apply_float_activation(y, self.act)
        out[...] = y
        return None


# -- UNIDIRECTIONAL_SEQUENCE_LSTM -------------------------------------------------------------

def _hybrid_lstm_base():
    from .recurrent import UnidirectionalSequenceLSTM  # shapes, options and layout helpers
    return UnidirectionalSequenceLSTM


class _QuantizedMatrix:
    """An int8 weight matrix [rows, cols] ready for per-row-quantized products."""

    def __init__(self, values: np.ndarray, scale: float):
        wq = np.asarray(values, np.int64)
        self.t = np.ascontiguousarray(wq.T, F32)   # [cols, rows]
        self.row_sums = wq.sum(axis=1)
        self.scale = F32(scale)

    def accumulate(self, gate: np.ndarray, q: np.ndarray, sf: np.ndarray, zp: np.ndarray | None) -> None:
        """gate += (W q - zp * row_sums) * (sf * scale), TFLite's MatrixBatchVectorMultiplyAccumulate."""
        acc = exact_matmul(q, self.t, 128, 128)
        if zp is not None:
            acc -= zp[:, None] * self.row_sums
        product_scale = (sf * self.scale).astype(F32)
        gate += acc.astype(F32) * product_scale[:, None]


def _quantize(rows: np.ndarray, asymmetric: bool):
    if asymmetric:
        return asymmetric_quantize_rows(rows)
    q, sf = symmetric_quantize_rows(rows)
    return q, sf, None


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return logistic_(np.array(x, F32))


def _activation(x: np.ndarray, act: int) -> np.ndarray:
    return cell_activation_(np.array(x, F32), act)


class HybridLSTMMixin:
    """Hybrid LSTM time loop (TFLite's lstm_eval EvalHybrid): per step, the input rows and the
    previous output state are quantized per batch row (symmetric, or asymmetric with
    ``asymmetric_quantize_inputs``), every gate is ``bias + sum of scaled int8 products``,
    then the float gate arithmetic of the float LSTM. With layer normalization (inputs 20-23)
    a gate starts from 0 instead of the bias, gets its peephole term, is normalized to zero
    mean / unit variance per row, scaled by its coefficients and only then offset by the bias."""

    def prepare_hybrid(self, inputs):
        def spec(i):
            return inputs[i] if i < len(inputs) else None
        self.layer_norm = self._layer_norm_coefficients(spec)
        self.asymmetric = bool(self.options.get("asymmetric_quantize_inputs"))
        self.act = int(self.options.get("fused_activation_function", 4) or 0)
        gates = [1, 2, 3] if self.use_cifg else [0, 1, 2, 3]
        self.x_mats, self.h_mats, self.biases, self.peep = [], [], [], {}
        for g in gates:
            for idx, store in ((1 + g, self.x_mats), (5 + g, self.h_mats)):
                w = spec(idx)
                if w.data is None or w.dtype != np.int8 or not w.quantized:
                    raise self.fail(f"input {idx} must be constant quantized int8 weights")
                store.append(_QuantizedMatrix(w.data, float(w.scale[0])))
            b = spec(12 + g)
            self.biases.append(np.zeros(self.n_cell, F32) if b is None else np.asarray(b.data, F32).reshape(-1))
        for name, idx in (("i", 9), ("f", 10), ("o", 11)):
            p = spec(idx)
            if p is not None:
                vals = np.asarray(p.data, F32)
                if p.dtype == np.int8:
                    vals = (vals * F32(p.scale[0])).astype(F32)
                self.peep[name] = vals.reshape(-1)
        proj = spec(16)
        self.proj = None
        if proj is not None:
            self.proj = _QuantizedMatrix(proj.data, float(proj.scale[0]))
            pb = spec(17)
            self.proj_bias = np.zeros(self.n_output, F32) if pb is None else np.asarray(pb.data, F32).reshape(-1)

    def _layer_norm_coefficients(self, spec) -> list[np.ndarray] | None:
        """Float layer-norm coefficients of the gates (inputs 20-23, the input gate's absent with
        CIFG), or None for a plain LSTM."""
        gates = [21, 22, 23] if self.use_cifg else [20, 21, 22, 23]
        given = [spec(i) for i in gates]
        if all(g is None for g in given):
            if any(spec(i) is not None for i in range(20, 24)):
                raise self.fail("layer norm coefficients given for a gate the LSTM does not have")
            return None
        coefs = []
        for i, g in zip(gates, given):
            if g is None or g.data is None:
                raise self.fail(f"layer norm LSTM needs constant coefficients at input {i}")
            if g.dtype != np.float32:  # LiteRT's hybrid LSTM reads them as float
                raise self.fail(f"layer norm coefficients at input {i} must be float32, got {g.dtype}")
            vals = np.asarray(g.data, F32).reshape(-1)
            if vals.size != self.n_cell:
                raise self.fail(f"layer norm coefficients at input {i} have {vals.size} values, not {self.n_cell}")
            coefs.append(vals)
        return coefs

    def _normalize(self, gates: list, which) -> None:
        """Layer norm of the gates ``which`` (indices into the gate list): normalize, scale, add bias."""
        if self.layer_norm is None:
            return
        for k in which:
            layer_normalize_(gates[k], self.layer_norm[k], self.biases[k])

    def eval(self, inputs, outputs):
        x_tm = self.time_major_view(inputs[0])
        out_tm = self.time_major_view(outputs[0])
        h = np.array(inputs[18], F32).reshape(self.batch, self.n_output)
        c = np.array(inputs[19], F32).reshape(self.batch, self.n_cell)
        h, c = self.hybrid_time_loop(x_tm, h, c, out_tm)
        for idx, value in ((18, h), (19, c)):
            target = inputs[idx]
            if isinstance(target, np.ndarray) and target.flags.writeable:
                np.copyto(target, value.reshape(target.shape))
        return None

    def hybrid_time_loop(self, x_tm: np.ndarray, h: np.ndarray, c: np.ndarray,
                         out_tm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The steps over ``x_tm`` [T, B, I] from states ``h``, ``c``; each step's h goes to
        ``out_tm[t]``. Returns the final (h, c). The compiled tier overrides it."""
        batch = self.batch
        n_gates = len(self.biases)
        for t in range(self.t_len):
            xt = np.ascontiguousarray(x_tm[t], F32)
            if self.layer_norm is None:
                gates = [np.tile(b, (batch, 1)) for b in self.biases]
            else:  # layer norm LSTM: the bias is added after the normalization
                gates = [np.zeros((batch, self.n_cell), F32) for _ in self.biases]
            if np.any(xt):
                q, sf, zp = _quantize(xt, self.asymmetric)
                for gate, mat in zip(gates, self.x_mats):
                    mat.accumulate(gate, q, sf, zp)
            if np.any(h):
                q, sf, zp = _quantize(h, self.asymmetric)
                for gate, mat in zip(gates, self.h_mats):
                    mat.accumulate(gate, q, sf, zp)
            if self.use_cifg:
                f_pre, g_pre, o_pre = gates
                i_pre = None
            else:
                i_pre, f_pre, g_pre, o_pre = gates
            if i_pre is not None and "i" in self.peep:
                i_pre += self.peep["i"] * c
            if "f" in self.peep:
                f_pre += self.peep["f"] * c
            self._normalize(gates, range(n_gates - 1))  # all but the output gate (needs the new c)
            fg = _sigmoid(f_pre)
            ig = (F32(1) - fg).astype(F32) if i_pre is None else _sigmoid(i_pre)
            gg = _activation(g_pre, self.act)
            c = (c * fg + ig * gg).astype(F32)
            if self.cell_clip > 0:
                c = np.clip(c, -self.cell_clip, self.cell_clip).astype(F32)
            if "o" in self.peep:
                o_pre += self.peep["o"] * c
            self._normalize(gates, [n_gates - 1])
            og = _sigmoid(o_pre)
            cell_out = (og * _activation(c, self.act)).astype(F32)
            if self.proj is not None:
                hp = np.tile(self.proj_bias, (batch, 1))
                if np.any(cell_out):
                    q, sf, zp = _quantize(cell_out, self.asymmetric)
                    self.proj.accumulate(hp, q, sf, zp)
                if self.proj_clip > 0:
                    hp = np.clip(hp, -self.proj_clip, self.proj_clip)
                h = hp.astype(F32)
            else:
                h = cell_out
            out_tm[t] = h
        return h, c


try:
    _LSTMBase = _hybrid_lstm_base()
except ImportError:  # the float recurrent family is not there: no hybrid LSTM either
    _LSTMBase = None

if _LSTMBase is not None:
    @register("UNIDIRECTIONAL_SEQUENCE_LSTM", kind="hybrid")
    class HybridUnidirectionalSequenceLSTM(HybridLSTMMixin, _LSTMBase):
        """UNIDIRECTIONAL_SEQUENCE_LSTM with int8 weights and float activations."""

        def prepare(self, inputs, outputs):
            shapes = super().prepare(inputs, outputs)
            self.prepare_hybrid(inputs)
            return shapes


# -- BATCH_MATMUL -----------------------------------------------------------------------------


def _batch_offsets(batch_dims: tuple[int, ...], own_dims: tuple[int, ...], step: int) -> np.ndarray:
    """LiteRT's hybrid BATCH_MATMUL offsets of per-row data for every broadcast batch (flattened):
    ``step * sum(b_i over the batch dimensions where the operand is not 1)`` (not the row-major
    position: the reference kernel steps one matrix per non-broadcast index of each dimension)."""
    grids = np.indices(batch_dims, dtype=np.int64).reshape(len(batch_dims), -1)
    used = np.array([d != 1 for d in own_dims], bool)
    return grids[used].sum(axis=0) * step if used.any() else np.zeros(grids.shape[1], np.int64)


@register("BATCH_MATMUL", kind="hybrid")
class HybridBatchMatMul(Kernel):
    """float lhs (..., M, K) x constant int8 rhs (..., K, N): lhs rows quantized one by one.

    Reproduces LiteRT's x86 kernel (reference hybrid BatchMatMul) on up to 3 batch dimensions:
    an rhs ``[..., 1, K, N]`` is first folded with the lhs ``[..., Q, M, K]`` into rhs
    ``[..., K, N]`` and lhs ``[..., Q*M, K]``; then the int8 products of each broadcast batch
    ``(b0, b1, b2)`` are right, but the row scaling factors / zero points it applies are those
    at row ``M * sum(b_i where lhs dim i != 1)`` and the rhs column sums (asymmetric inputs)
    those of matrix ``sum(b_i where rhs dim i != 1)``: with one non-1 batch dimension that is the
    natural pairing, with several it mixes rows of different batches, as LiteRT does.
    """

    def prepare(self, inputs, outputs):
        a, b, out = inputs[0], inputs[1], outputs[0]
        if a.dtype != np.float32 or out.dtype != np.float32 or b.dtype != np.int8 or b.data is None:
            raise self.fail(f"hybrid BATCH_MATMUL needs float32 lhs and constant int8 rhs, got "
                            f"{a.dtype} x {b.dtype}")
        if not b.quantized or b.scale.size != 1:
            raise self.fail("hybrid BATCH_MATMUL needs a per-tensor quantized rhs")
        if self.options.get("adj_x"):
            raise self.fail("hybrid BATCH_MATMUL with adj_x is not supported")
        rhs = np.asarray(b.data, np.int64)
        if self.options.get("adj_y"):
            rhs = np.swapaxes(rhs, -1, -2)
        k, n = rhs.shape[-2], rhs.shape[-1]
        if a.shape[-1] != k:
            raise self.fail(f"contraction sizes differ: {list(a.shape)} x {list(b.shape)}")
        try:
            batch = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(rhs.shape[:-2]))
        except ValueError:
            raise self.fail(f"batch dimensions of {list(a.shape)} and {list(b.shape)} do not broadcast")
        lhs_shape = tuple(a.shape)
        if len(lhs_shape) > 2 and rhs.ndim > 2 and rhs.shape[-3] == 1:  # LiteRT's [.., 1, K, N] folding
            lhs_shape = lhs_shape[:-3] + (lhs_shape[-3] * lhs_shape[-2], k)
            rhs = rhs.reshape(rhs.shape[:-3] + (k, n))
        if len(lhs_shape) > 5 or rhs.ndim > 5:
            raise self.fail("hybrid BATCH_MATMUL supports at most 3 batch dimensions")
        lhs5 = (1,) * (5 - len(lhs_shape)) + lhs_shape
        rhs5 = rhs.reshape((1,) * (5 - rhs.ndim) + rhs.shape)
        self.lhs5 = lhs5
        self.m = lhs5[3]
        self.asymmetric = bool(self.options.get("asymmetric_quantize_inputs"))
        self.out_batch = tuple(max(x, y) for x, y in zip(lhs5[:3], rhs5.shape[:3]))
        # rows whose scale (and zero point) each output row uses
        base = _batch_offsets(self.out_batch, lhs5[:3], self.m)
        self.row_index = (base[:, None] + np.arange(self.m)).reshape(self.out_batch + (self.m, 1))
        col_sums = rhs5.sum(axis=-2)  # (r0, r1, r2, N)
        if self.asymmetric:
            # LiteRT sums the weight matrices of rhs dims 1 and 2 only (the first one is not counted)
            available = rhs5.shape[1] * rhs5.shape[2]
            index = _batch_offsets(self.out_batch, rhs5.shape[:3], 1)
            if index.size and index.max() >= available:
                raise self.fail(f"asymmetric hybrid BATCH_MATMUL of rhs {list(b.shape)} reads column sums "
                                "LiteRT never computes")
            self.col_sums = col_sums.reshape(-1, n)[index].reshape(self.out_batch + (1, n))
        self.rhs = np.ascontiguousarray(rhs5, F32)
        self.scale = F32(b.scale[0])
        self.k = k
        return [tuple(batch) + (a.shape[-2], n)]

    def eval(self, inputs, outputs):
        a = inputs[0]
        rows = a.reshape(-1, self.k)
        if self.asymmetric:
            q, sf, zp = asymmetric_quantize_rows(rows)
        else:
            (q, sf), zp = symmetric_quantize_rows(rows), None
        acc = exact_matmul(q.reshape(self.lhs5), self.rhs, 128, 128)
        acc = np.broadcast_to(acc, self.out_batch + acc.shape[3:])
        if zp is not None:
            acc = acc - zp[self.row_index] * self.col_sums
        scale = (sf * self.scale).astype(F32)[self.row_index]
        outputs[0][...] = (acc.astype(F32) * scale).reshape(outputs[0].shape)
        return None


# float convolutions of hybrid models in LiteRT's exact summation order (registered on import)
from . import exact_float  # noqa: E402,F401

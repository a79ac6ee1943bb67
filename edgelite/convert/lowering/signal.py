"""Signal ops: DFT and STFT as constant matrix products, window generators as constants.

DFT along one axis is a linear map of the (real, imaginary) pairs of the input: the converter builds that
map's real matrix once (by transforming the unit basis with numpy's FFT, so every variant is covered the
same way: forward / inverse, one-sided, real or complex input, ``dft_length`` padding / truncation) and
emits TRANSPOSE -> RESHAPE -> FULLY_CONNECTED -> RESHAPE, the axis and the pair dimension innermost.
Cost is O(n^2) per transformed vector instead of O(n log n), which is fine for the short transforms models
use (kept below ``MAX_DFT_LENGTH``). TFLite's RFFT2D is not used: it needs power-of-two lengths and has no
inverse.
"""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import Unsupported
from . import lowers
from .common import emit_reshape, norm_axis

MAX_DFT_LENGTH = 4096


def _dft_matrix(n_in: int, c_in: int, length: int, inverse: bool, onesided: bool) -> np.ndarray:
    """Real matrix [n_in * c_in, n_out * c_out] of ONNX DFT on vectors of ``n_in`` (re[, im]) pairs."""
    eye = np.eye(n_in * c_in).reshape(n_in * c_in, n_in, c_in)
    z = eye[..., 0] + (1j * eye[..., 1] if c_in == 2 else 0)
    if not inverse:
        f = np.fft.fft(z, n=length, axis=1)
        if onesided:
            f = f[:, :length // 2 + 1]
        pairs = np.stack([f.real, f.imag], -1)
    elif onesided:  # one-sided spectrum -> real signal
        pairs = np.fft.irfft(z, n=length, axis=1)[..., None]
    else:
        f = np.fft.ifft(z, n=length, axis=1)
        pairs = np.stack([f.real, f.imag], -1)
    return pairs.reshape(n_in * c_in, -1)


@lowers("DFT")
def lower_dft(ctx, node):
    x, out = node.inputs[0], node.outputs[0]
    if ctx.dtype(x) != np.float32:
        raise Unsupported(f"DFT on {ctx.dtype(x)}")
    shape = ctx.shape(x)
    rank = len(shape)
    c_in = shape[-1]
    if c_in not in (1, 2) or rank < 2:
        raise Unsupported(f"DFT input of shape {shape}: the last dimension must be 1 (real) or 2 (complex)")
    names = list(node.inputs) + [""] * 3
    if names[2]:  # opset 20: the axis is an input
        axis = int(np.asarray(ctx.need_const(names[2], "DFT axis")).reshape(-1)[0])
    else:
        axis = int(node.attr("axis", 1))
    axis = norm_axis(axis, rank)
    if axis == rank - 1:
        raise Unsupported("DFT along the last (real/imaginary) dimension")
    inverse, onesided = bool(node.attr("inverse", 0)), bool(node.attr("onesided", 0))
    n_in = shape[axis]
    if names[1]:
        length = int(np.asarray(ctx.need_const(names[1], "dft_length")).reshape(-1)[0])
    else:
        length = 2 * (n_in - 1) if inverse and onesided else n_in
    if not 0 < length <= MAX_DFT_LENGTH:
        raise Unsupported(f"DFT length {length} (1..{MAX_DFT_LENGTH} are lowered as a matrix product)")
    if not inverse and onesided and c_in == 2:
        raise Unsupported("one-sided DFT of a complex input")
    w = _dft_matrix(n_in, c_in, length, inverse, onesided).astype(np.float32)
    out_shape = ctx.shape(out)
    n_out, c_out = out_shape[axis], out_shape[-1]
    if w.shape[1] != n_out * c_out:
        raise Unsupported(f"DFT output shape {out_shape} does not match the transform ({w.shape[1]} values)")
    others = [d for d in range(rank - 1) if d != axis]
    perm = tuple(others + [axis, rank - 1])
    batch = int(np.prod([shape[d] for d in others])) if others else 1
    src = ctx.input(x, L.norm(perm))
    flat = ctx.temp((batch, n_in * c_in), np.float32, "dft_in")
    emit_reshape(ctx, src, (batch, n_in * c_in), flat)
    prod = ctx.temp((batch, n_out * c_out), np.float32, "dft_out")
    ctx.emit("FULLY_CONNECTED", [flat, ctx.constant(np.ascontiguousarray(w.T)), -1], [prod],
             {"fused_activation_function": 0, "weights_format": 0, "keep_num_dims": False,
              "asymmetric_quantize_inputs": False})
    o = ctx.output(out, L.norm(perm))
    emit_reshape(ctx, prod, L.physical_shape(out_shape, L.norm(perm)), o)


WINDOWS = {"HannWindow": (0.5, 0.5, 0.0), "HammingWindow": (25 / 46, 21 / 46, 0.0),
           "BlackmanWindow": (0.42, 0.5, 0.08)}


@lowers(*WINDOWS)
def lower_window(ctx, node):
    """``a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N)``, N = size (periodic) or size - 1: a constant."""
    size = int(np.asarray(ctx.need_const(node.inputs[0], f"{node.op_type} size")).reshape(-1)[0])
    if size <= 0:
        raise Unsupported(f"{node.op_type} of size {size} (an empty tensor)")
    a0, a1, a2 = WINDOWS[node.op_type]
    denom = size if node.attr("periodic", 1) else size - 1
    n = np.arange(size, dtype=np.float64)
    ang = 2 * np.pi * n / denom if denom else np.zeros(size)
    win = a0 - a1 * np.cos(ang) + a2 * np.cos(2 * ang)
    ctx.graph.consts[node.outputs[0]] = win.astype(ctx.dtype(node.outputs[0]))


@lowers("STFT")
def lower_stft(ctx, node):
    """Frames by a constant GATHER, times the window, then the DFT matrix product of each frame."""
    sig = node.inputs[0]
    names = list(node.inputs) + [""] * 4
    if ctx.dtype(sig) != np.float32:
        raise Unsupported(f"STFT on {ctx.dtype(sig)}")
    shape = ctx.shape(sig)
    if len(shape) != 3 or shape[2] not in (1, 2):
        raise Unsupported(f"STFT signal of shape {shape}")
    batch, length, c_in = shape
    step = int(np.asarray(ctx.need_const(names[1], "STFT frame_step")).reshape(-1)[0])
    if names[3]:
        flen = int(np.asarray(ctx.need_const(names[3], "STFT frame_length")).reshape(-1)[0])
    elif names[2]:
        flen = ctx.shape(names[2])[0]
    else:
        flen = length
    if step <= 0 or not 0 < flen <= min(length, MAX_DFT_LENGTH):
        raise Unsupported(f"STFT frame_step {step} / frame_length {flen} for a signal of {length}")
    onesided = bool(node.attr("onesided", 1))
    if onesided and c_in == 2:
        raise Unsupported("one-sided STFT of a complex signal")
    frames = (length - flen) // step + 1
    idx = (np.arange(frames)[:, None] * step + np.arange(flen)[None, :]).reshape(-1).astype(np.int32)
    src = ctx.input(sig, None)
    framed = ctx.temp((batch, frames * flen, c_in), np.float32, "stft_frames")
    ctx.emit("GATHER", [src, ctx.constant(idx)], [framed], {"axis": 1, "batch_dims": 0})
    if names[2]:
        win = ctx.input(names[2], None)
        w3 = ctx.temp((1, flen, 1), np.float32, "stft_window")
        emit_reshape(ctx, win, (1, flen, 1), w3)
        f4 = ctx.temp((batch * frames, flen, c_in), np.float32, "stft_frames")
        emit_reshape(ctx, framed, (batch * frames, flen, c_in), f4)
        windowed = ctx.temp((batch * frames, flen, c_in), np.float32, "stft_windowed")
        ctx.emit("MUL", [f4, w3], [windowed])
        framed = windowed
    w = _dft_matrix(flen, c_in, flen, False, onesided).astype(np.float32)
    flat = ctx.temp((batch * frames, flen * c_in), np.float32, "stft_flat")
    emit_reshape(ctx, framed, (batch * frames, flen * c_in), flat)
    prod = ctx.temp((batch * frames, w.shape[1]), np.float32, "stft_dft")
    ctx.emit("FULLY_CONNECTED", [flat, ctx.constant(np.ascontiguousarray(w.T)), -1], [prod],
             {"fused_activation_function": 0, "weights_format": 0, "keep_num_dims": False,
              "asymmetric_quantize_inputs": False})
    out_shape = ctx.shape(node.outputs[0])
    if int(np.prod(out_shape)) != batch * frames * w.shape[1]:
        raise Unsupported(f"STFT output shape {out_shape}")
    emit_reshape(ctx, prod, out_shape, ctx.output(node.outputs[0]))

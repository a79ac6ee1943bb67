"""Random ops: RANDOM_UNIFORM, RANDOM_STANDARD_NORMAL, MULTINOMIAL (LiteRT's random_ops.cc).

LiteRT draws from TensorFlow's Philox-4x32-10 counter-based generator
(``tsl::random::PhiloxRandom``), seeded from RandomOptions ``seed`` / ``seed2``: the 64-bit
``seed`` is the key, ``seed2`` the upper half of the 128-bit counter. This module reimplements
that generator in vectorised numpy (all blocks of one invoke at once), so for nonzero seeds
the outputs are LiteRT's:

* one Philox call yields 4 uint32; RANDOM_UNIFORM maps each to a float in [0, 1) from its 23
  low bits (``Uint32ToFloat``), a partly used last block is discarded;
* RANDOM_STANDARD_NORMAL applies Box-Muller to consecutive pairs (``BoxMullerFloat``: u1
  floored at 1e-7, r = sqrt(-2 log u1), angle 2*pi*u2, outputs r*sin and r*cos). LiteRT
  calls glibc's ``logf`` and ``sincosf``; they are reimplemented here (same tables, range
  reduction and float64 polynomials), so the normals are LiteRT's bit for bit too;
* LiteRT 2.3.0 keeps only the low 32 bits of each seed option (sign-extended to 64): seeds
  are truncated the same way here, before the both-zero test;
* MULTINOMIAL(logits float32[batch, classes], num_samples int32 scalar) -> int64/int32
  [batch, num_samples]: a float64 running sum of exp(logit - max finite logit) over the
  finite logits is the CDF; each sample takes two uint32 (``Uint64ToDouble``: a double in
  [0, 1) from 52 bits) scaled by the total and finds its class by upper bound. As in LiteRT,
  sampling uses a copy of the generator while the generator itself skips ahead by
  batch * round_up(num_samples, 4) * 512 blocks, so that every invoke draws fresh numbers.

The generator state lives in the kernel and carries over from invoke to invoke; ``prepare``
re-seeds it, as LiteRT's Prepare does. (edgelite re-runs prepare only for new input shapes,
LiteRT at every AllocateTensors: after an allocate with unchanged shapes LiteRT restarts the
sequence while edgelite continues it.) With both seeds 0, LiteRT seeds from /dev/urandom;
edgelite then seeds from numpy's OS entropy: the numbers differ, the distribution is the same.
"""
from __future__ import annotations

import numpy as np

from .base import Kernel, register

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


class Philox:
    """TensorFlow's PhiloxRandom (4x32, 10 rounds): 128-bit counter, 64-bit key."""

    def __init__(self, seed: int, seed2: int):
        seed &= (1 << 64) - 1
        seed2 &= (1 << 64) - 1
        self.key = (seed & 0xFFFFFFFF, seed >> 32)
        self.counter = (seed2 << 64)  # a 128-bit int: words 0,1 are 0, words 2,3 hold seed2

    def skip(self, blocks: int) -> None:
        self.counter = (self.counter + blocks) % (1 << 128)

    def copy(self) -> Philox:
        other = Philox.__new__(Philox)
        other.key, other.counter = self.key, self.counter
        return other

    def blocks(self, count: int) -> np.ndarray:
        """The next ``count`` outputs as uint32 [count, 4]; advances the counter by ``count``."""
        steps = np.arange(count, dtype=np.uint64)
        start = self.counter
        lo = np.uint64(start & ((1 << 64) - 1)) + steps  # wraps mod 2**64 like the C++ counter words
        carry = (lo < steps).astype(np.uint64)               # a wrap carries into the upper 64 bits
        hi = np.uint64(start >> 64) + carry
        c0, c1 = (lo & _LOW32).astype(np.uint32), (lo >> _SHIFT32).astype(np.uint32)
        c2, c3 = (hi & _LOW32).astype(np.uint32), (hi >> _SHIFT32).astype(np.uint32)
        k0, k1 = np.uint32(self.key[0]), np.uint32(self.key[1])
        with np.errstate(over="ignore"):
            for r in range(10):
                p0 = _M0 * c0.astype(np.uint64)
                p1 = _M1 * c2.astype(np.uint64)
                c0, c1, c2, c3 = ((p1 >> _SHIFT32).astype(np.uint32) ^ c1 ^ k0, (p1 & _LOW32).astype(np.uint32),
                                  (p0 >> _SHIFT32).astype(np.uint32) ^ c3 ^ k1, (p0 & _LOW32).astype(np.uint32))
                if r < 9:
                    k0, k1 = k0 + _W0, k1 + _W1
        self.skip(count)
        return np.stack([c0, c1, c2, c3], axis=-1)


def uint32_to_float(x: np.ndarray) -> np.ndarray:
    """A float32 in [0, 1) from the 23 low bits (exponent of 1.0, minus 1)."""
    bits = (x & np.uint32(0x7FFFFF)) | np.uint32(127 << 23)
    return bits.view(np.float32) - np.float32(1.0)


def uint64_to_double(x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """A float64 in [0, 1) from 20 bits of ``x0`` and all of ``x1``."""
    man = ((x0 & np.uint32(0xFFFFF)).astype(np.uint64) << _SHIFT32) | x1.astype(np.uint64)
    return (man | np.uint64(1023 << 52)).view(np.float64) - 1.0


# glibc's logf and sincosf (ARM optimized-routines), which LiteRT's BoxMullerFloat calls:
# the same table lookups, reductions and float64 polynomials, vectorised, so that the
# float32 results are glibc's bit for bit (numpy's float32 log/sin/cos round differently).
_LOGF_INVC = np.array([float.fromhex(h) for h in (
    "0x1.661ec79f8f3bep+0", "0x1.571ed4aaf883dp+0", "0x1.49539f0f010bp+0", "0x1.3c995b0b80385p+0",
    "0x1.30d190c8864a5p+0", "0x1.25e227b0b8eap+0", "0x1.1bb4a4a1a343fp+0", "0x1.12358f08ae5bap+0",
    "0x1.0953f419900a7p+0", "0x1p+0", "0x1.e608cfd9a47acp-1", "0x1.ca4b31f026aap-1",
    "0x1.b2036576afce6p-1", "0x1.9c2d163a1aa2dp-1", "0x1.886e6037841edp-1", "0x1.767dcf5534862p-1")])
_LOGF_LOGC = np.array([float.fromhex(h) for h in (
    "-0x1.57bf7808caadep-2", "-0x1.2bef0a7c06ddbp-2", "-0x1.01eae7f513a67p-2", "-0x1.b31d8a68224e9p-3",
    "-0x1.6574f0ac07758p-3", "-0x1.1aa2bc79c81p-3", "-0x1.a4e76ce8c0e5ep-4", "-0x1.1973c5a611cccp-4",
    "-0x1.252f438e10c1ep-5", "0x0p+0", "0x1.aa5aa5df25984p-5", "0x1.c5e53aa362eb4p-4",
    "0x1.526e57720db08p-3", "0x1.bc2860d22477p-3", "0x1.1058bc8a07ee1p-2", "0x1.4043057b6ee09p-2")])
_LOGF_LN2 = float.fromhex("0x1.62e42fefa39efp-1")
_LOGF_POLY = [float.fromhex(h) for h in ("-0x1.00ea348b88334p-2", "0x1.5575b0be00b6ap-2", "-0x1.ffffef20a4123p-2")]
_HPI_INV = float.fromhex("0x1.45F306DC9C883p+23")  # 2/pi * 2**24 (glibc x86-64: no TOINT_INTRINSICS)
_HPI = float.fromhex("0x1.921FB54442D18p0")
_COS_POLY = [float.fromhex(h) for h in ("0x1p0", "-0x1.ffffffd0c621cp-2", "0x1.55553e1068f19p-5",
                                        "-0x1.6c087e89a359dp-10", "0x1.99343027bf8c3p-16")]
_SIN_POLY = [float.fromhex(h) for h in ("-0x1.555545995a603p-3", "0x1.1107605230bc4p-7", "-0x1.994eb3774cf24p-13")]


def _abstop12(x: np.ndarray) -> np.ndarray:
    return (x.view(np.uint32) >> np.uint32(20)) & np.uint32(0x7FF)


def glibc_logf(x: np.ndarray) -> np.ndarray:
    """logf of positive normal float32 values other than 1.0 (the Box-Muller range)."""
    ix = np.ascontiguousarray(x, np.float32).view(np.uint32)
    tmp = ix - np.uint32(0x3F330000)
    i = (tmp >> np.uint32(19)) % 16
    k = tmp.view(np.int32) >> 23
    z = (ix - (tmp & np.uint32(0xFF800000))).view(np.float32).astype(np.float64)
    r = z * _LOGF_INVC[i] - 1.0
    y0 = _LOGF_LOGC[i] + k.astype(np.float64) * _LOGF_LN2
    r2 = r * r
    y = _LOGF_POLY[1] * r + _LOGF_POLY[2]
    y = _LOGF_POLY[0] * r2 + y
    return (y * r2 + (y0 + r)).astype(np.float32)


def glibc_sincosf(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sinf and cosf of float32 values in [0, 120) (Box-Muller angles are in [0, 2 pi))."""
    v = np.ascontiguousarray(v, np.float32)
    top = _abstop12(v)
    x = v.astype(np.float64)
    n = ((x * _HPI_INV).astype(np.int32) + 0x800000) >> 24
    n = np.where(top < _abstop12(np.array([float.fromhex("0x1.921FB6p-1")], np.float32))[0], 0, n)
    xr = x - n * _HPI
    xs = xr * np.array([1.0, -1.0, -1.0, 1.0])[n & 3]
    flip = np.where((n & 2) != 0, -1.0, 1.0)  # the second table computes -cos
    c0, c1, c2, c3, c4 = (flip * c for c in _COS_POLY)
    x2 = xr * xr
    x4 = x2 * x2
    x3 = x2 * xs
    s = (xs + x3 * _SIN_POLY[0]) + (x3 * x2) * (_SIN_POLY[1] + x2 * _SIN_POLY[2])
    c = ((c0 + x2 * c1) + x4 * c2) + (x4 * x2) * (c3 + x2 * c4)
    sv, cv = s.astype(np.float32), c.astype(np.float32)
    odd = (n & 1) == 1
    sin, cos = np.where(odd, cv, sv), np.where(odd, sv, cv)
    tiny = top < _abstop12(np.array([2.0 ** -12], np.float32))[0]
    return np.where(tiny, v, sin), np.where(tiny, np.float32(1.0), cos)


def box_muller(x0: np.ndarray, x1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TensorFlow's BoxMullerFloat: two normal float32 from two uint32."""
    u1 = np.maximum(uint32_to_float(x0), np.float32(1.0e-7))
    v1 = (2.0 * np.pi * uint32_to_float(x1).astype(np.float64)).astype(np.float32)
    u2 = np.sqrt(np.float32(-2.0) * glibc_logf(u1))
    sin, cos = glibc_sincosf(v1)
    return sin * u2, cos * u2


def _as_int32(v: int) -> int:
    """The low 32 bits of ``v`` as a signed int (LiteRT keeps only those of each seed)."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


class _RandomKernel(Kernel):
    def seed_generator(self) -> None:
        seed = _as_int32(int(self.options.get("seed", 0) or 0))
        seed2 = _as_int32(int(self.options.get("seed2", 0) or 0))
        if seed == 0 and seed2 == 0:
            seed, seed2 = (int(v) for v in np.random.SeedSequence().generate_state(2, np.uint64))
        self.rng = Philox(seed, seed2)


class _DistributionKernel(_RandomKernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 1 or len(outputs) != 1 or inputs[0] is None:
            raise self.fail("needs one shape input and one output")
        shape = inputs[0]
        if shape.dtype != np.int32 or len(shape.shape) != 1:
            raise self.fail(f"the shape input must be a 1-D int32 tensor, got {shape.dtype} of shape "
                            f"{list(shape.shape)}")
        if outputs[0].dtype != np.float32:
            raise self.fail(f"unsupported output type {outputs[0].dtype} (float32 only)")
        self.seed_generator()
        if shape.is_constant:
            return [self.output_shape(shape.data)]
        return [None]

    def output_shape(self, shape) -> tuple[int, ...]:
        return self.dims_from(shape, "shape")

    def eval(self, inputs, outputs):
        dims = self.output_shape(inputs[0])
        n = int(np.prod(dims, dtype=np.int64))
        words = self.rng.blocks(-(-n // 4)).reshape(-1)
        values = self.transform(words)[:n].reshape(dims)
        out = outputs[0]
        if out is None or out.shape != dims:
            return [values]
        out[...] = values
        return None


@register("RANDOM_UNIFORM", kind="any")
class RandomUniform(_DistributionKernel):
    def transform(self, words: np.ndarray) -> np.ndarray:
        return uint32_to_float(words)


@register("RANDOM_STANDARD_NORMAL", kind="any")
class RandomStandardNormal(_DistributionKernel):
    def transform(self, words: np.ndarray) -> np.ndarray:
        s, c = box_muller(words[0::2], words[1::2])
        return np.stack([s, c], axis=-1).reshape(-1)


@register("MULTINOMIAL", kind="any")
class Multinomial(_RandomKernel):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "logits, num_samples", 2)
        logits, num = inputs
        if logits.dtype != np.float32:
            raise self.fail(f"logits must be float32, got {logits.dtype}")
        if num.dtype != np.int32:
            raise self.fail(f"num_samples must be int32, got {num.dtype}")
        if outputs[0].dtype not in (np.dtype(np.int64), np.dtype(np.int32)):
            raise self.fail(f"unsupported output type {outputs[0].dtype} (int64 or int32)")
        self.out_dtype = outputs[0].dtype
        self.seed_generator()
        if len(num.shape) != 0:
            raise self.fail(f"num_samples must be a scalar, got shape {list(num.shape)}")
        if logits.is_constant and num.is_constant:
            return [self.output_shape(logits.shape, num.data)]
        return [None]

    def output_shape(self, logits_shape, num) -> tuple[int, int]:
        if len(logits_shape) != 2:
            raise self.fail(f"logits must be 2-D [batch, classes], got shape {list(logits_shape)}")
        if logits_shape[1] <= 0:
            raise self.fail("logits need at least one class")
        n = int(np.asarray(num).reshape(-1)[0])
        if n < 0:
            raise self.fail(f"num_samples must be >= 0, got {n}")
        return (int(logits_shape[0]), n)

    def eval(self, inputs, outputs):
        logits, num = inputs
        batch, n = self.output_shape(logits.shape, num)
        sampler = self.rng.copy()
        self.rng.skip(batch * ((n + 3) // 4 * 4) * 2 * 256)
        total = batch * n
        words = sampler.blocks(-(-2 * total // 4)).reshape(-1)[:2 * total]
        uniforms = uint64_to_double(words[0::2], words[1::2]).reshape(batch, n)
        finite = np.isfinite(logits)
        top = np.where(finite, logits, np.finfo(np.float32).min).max(axis=1).astype(np.float64)
        weights = np.where(finite, np.exp(logits.astype(np.float64) - top[:, None]), 0.0)
        cdf = np.cumsum(weights, axis=1)
        targets = uniforms * cdf[:, -1:]
        result = np.empty((batch, n), self.out_dtype)
        for row in range(batch):  # one vectorised search per batch row
            result[row] = np.searchsorted(cdf[row], targets[row], side="right")
        out = outputs[0]
        if out is None or out.shape != result.shape:
            return [result]
        out[...] = result
        return None

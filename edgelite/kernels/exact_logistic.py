"""Float LOGISTIC bit-exact with LiteRT's x86 builtin kernel, for hybrid models.

LiteRT's optimized float LOGISTIC is Eigen's ``scalar_logistic_op<float>`` over the
flattened tensor. Measured against ai-edge-litert (x86, SSE packets, no fused
multiply-add), the array is split as Eigen's vectorized assignment splits it:

* blocks of 4 (one SSE packet) from the start run the *packet* path: ``x`` clamped
  to 16.6355324 and halved; ``m = floor(x * log2(e) + 1/2)``; ``r = (x + m * C1) + m * C2``
  (Cephes' two-part ln 2, C1 = -0.693359375, C2 = 2.12194440e-4); a degree-5 polynomial
  ``p = r^2 * ((r * (r^2 * p5 + p3)) + (r^2 * p4 + p2)) + (r + 1)``; ``e = (p * 2^m)^2``
  (= exp(x) for the unhalved x); the result ``e / (1 + e)``, or 0 where x < -104. Every
  product and sum is rounded to float32 separately.
* the last ``size % 4`` values run the *scalar* path: ``e = expf(min(x, 16.6355324))``
  (the C library's expf, which is not always correctly rounded: it is called through
  ctypes where the C library can be found, else approximated by float64 exp rounded to
  float32), then ``e / (1 + e)``.

Numpy's own float32 ``1 / (1 + exp(-x))`` differs from both by an ulp or more on about
60% of the values. An ulp matters where the LOGISTIC feeds a hybrid op through float ops
(EfficientNet's swish gate before a dynamic-range convolution): that op quantizes its
input on the fly and the ulp can move a rounding step. So this kernel is chosen only for
float LOGISTIC nodes from which a hybrid op is reachable (:func:`.exact_float.feeds_hybrid`);
other float models keep the faster formula of :mod:`.activations`.
"""
from __future__ import annotations

import ctypes
import functools

import numpy as np

from .activations import FloatUnary
from .base import register
from .exact_float import feeds_hybrid

F32 = np.float32
PACKET = 4  # SSE float packet of LiteRT's x86 Eigen build
EXP_HI = F32(16.6355324)  # first x where the interpolant is exactly one
EXP_LO = F32(-104.0)
LOG2E = F32(1.44269504088896341)
C1, C2 = F32(-0.693359375), F32(2.12194440e-4)
P2, P3 = F32(0.49999141693115234375), F32(0.16666877269744873046875)
P4, P5 = F32(4.1898667812347412109375e-2), F32(8.33471305668354034423828125e-3)
HALF, ONE = F32(0.5), F32(1.0)


def logistic_packet(x: np.ndarray) -> np.ndarray:
    """Eigen's packet logistic on float32 values (module docstring), elementwise."""
    with np.errstate(all="ignore"):  # infinities and NaNs go through like in the C code
        return _packet(np.asarray(x, F32))


def _packet(x: np.ndarray) -> np.ndarray:
    h = np.minimum(x, EXP_HI)
    h *= HALF
    m = h * LOG2E
    m += HALF
    np.floor(m, out=m)
    r = m * C1
    r += h
    t = m * C2
    r += t
    r2 = r * r
    p_even = r2 * P4
    p_even += P2
    p_odd = r2 * P5
    p_odd += P3
    p = r * p_odd
    p += p_even
    p *= r2
    r += ONE
    p += r
    e = np.ldexp(p, m.astype(np.int32)).astype(F32, copy=False)  # exact: |m| stays small
    e *= e
    out = e + ONE
    np.divide(e, out, out=out)
    out[x < EXP_LO] = 0.0
    return out


@functools.cache
def _libm_expf():
    """The C library's ``expf`` (the one LiteRT's scalar path calls), or None."""
    import ctypes.util  # here: it imports subprocess (~10 ms), which the kernels need nowhere else
    name = ctypes.util.find_library("m") or ctypes.util.find_library("c")
    if not name:
        return None
    try:
        fn = ctypes.CDLL(name).expf
    except (OSError, AttributeError):
        return None
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn


def logistic_scalar(x: np.ndarray) -> np.ndarray:
    """Eigen's scalar logistic: ``e = expf(min(x, 16.6355324))``, ``e / (1 + e)``."""
    x = np.minimum(np.asarray(x, F32), EXP_HI)
    expf = _libm_expf()
    if expf is not None:
        e = np.array([expf(float(v)) for v in x.reshape(-1)], F32).reshape(x.shape)
    else:
        e = np.exp(x.astype(np.float64)).astype(F32)
    return e / (ONE + e)


def eigen_logistic(x: np.ndarray, out: np.ndarray) -> None:
    """LiteRT's float LOGISTIC of ``x`` into ``out``: SSE packets, then the scalar tail."""
    flat = np.ravel(x)
    dest = out.reshape(-1)
    body = flat.size - flat.size % PACKET
    dest[:body] = logistic_packet(flat[:body])
    if body < flat.size:
        dest[body:] = logistic_scalar(flat[body:])


@register("LOGISTIC", kind="float", priority=10, when=feeds_hybrid)
class EigenLogisticKernel(FloatUnary):
    """Float LOGISTIC in LiteRT's exact arithmetic, for nodes that feed a hybrid op."""

    def compute(self, x, out):
        if x.dtype != np.float32:
            np.negative(x, out=out)
            np.exp(out, out=out)
            np.add(out, out.dtype.type(1), out=out)
            np.reciprocal(out, out=out)
            return
        eigen_logistic(x, out)

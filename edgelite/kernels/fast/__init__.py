"""The compiled kernel tier (extra ``edgelite[fast]``): numba kernels for the hot ops.

Kernels here subclass the reference kernels (same ``prepare`` checks, same results bit
for bit) and register in the same registry at priority 10, so the registry picks them
whenever the tier is on:

* the tier is on when numba is importable and ``EDGELITE_KERNELS`` is not ``reference``
  (both checked at lookup, i.e. when an interpreter allocates; numba itself is imported
  only when a fast kernel first runs -- allocate_tensors stays as quick as without the
  tier -- and never by ``import edgelite``);
* every kernel falls back to its reference ``eval`` for the cases it does not cover.

Covered: float and int8/uint8 DEPTHWISE_CONV_2D (``depthwise.py``; int8/uint8 on AVX-512 VNNI
``vpdpwssd`` or AVX2 ``vpmaddwd`` steps where the host has them, ``_compiled_depthwise.py``);
int8/uint8 CONV_2D and FULLY_CONNECTED: im2col, the exact GEMM (int8 AVX-512 VNNI or AVX2
tiles, ``_compiled_gemm.py``, else float32 BLAS) and the requantization epilogue, and
the int8 TRANSPOSE_CONV epilogue (``epilogue.py``); float MEAN over trailing dimensions or the
spatial axes {1, 2} of NHWC, and
8-bit MEAN over adjacent axes (``reduce.py``); float32 GELU around numpy's exp/tanh
(``activations.py``); 8-bit MUL/ADD/SUB as integer loops or table gathers (``elementwise.py``);
8-bit table activations (``int8_activations.py``; 256-entry byte tables looked up with
AVX-512 VBMI permutes where the host has them, ``_compiled_lut.py``); float QUANTIZE to 8/16 bits
(``int8_quantize.py``); float32 HARD_SWISH and SOFTMAX (``float_ops.py``); the LSTM / RNN
time loops, float, hybrid and full-integer (``recurrent.py``); 8-bit RESIZE_BILINEAR /
RESIZE_NEAREST_NEIGHBOR (``int8_image.py``), 8-bit SOFTMAX (``int8_softmax.py``), integer
MAX_POOL_2D (``int8_pool.py``) and 8-bit DEQUANTIZE (``int8_dequantize.py``).
See docs/kernels.md, "The compiled tier".
"""
from __future__ import annotations

import importlib.util
import os

FAST_PRIORITY = 10

_numba_found: bool | None = None


def numba_available() -> bool:
    """Whether numba can be imported (looked up once, without importing it)."""
    global _numba_found
    if _numba_found is None:
        try:
            _numba_found = importlib.util.find_spec("numba") is not None
        except (ImportError, ValueError):
            _numba_found = False
    return _numba_found


def enabled(node=None) -> bool:
    """Whether the compiled tier is on (the ``when`` predicate of every fast kernel)."""
    return os.environ.get("EDGELITE_KERNELS", "").strip().lower() != "reference" and numba_available()


from . import (activations, depthwise, elementwise, epilogue, exact_float_conv, float_conv, float_ops,  # noqa: E402,F401
               hybrid_conv, hybrid_fc,
               int8_activations, int8_image,
               int8_dequantize, int8_pool, int8_quantize, int8_softmax, recurrent, reduce)  # (importing registers the kernels)

"""Which compiled gather looks up a table: the AVX-512 VBMI permute lookup
(``_compiled_lut.lookup_bytes`` / ``lookup_bytes_masked``) for 256-entry tables of 1-byte
entries on a host with VBMI, the scalar gather (``_compiled_int8.gather_bytes`` /
``gather_bytes_masked``) for everything else (65536-entry pair tables, other hosts,
non-contiguous operands). Both give the bits of ``table[index]``."""
from __future__ import annotations

import numpy as np

from .loader import compiled_module, run_from


def gather_table(kernel, index: np.ndarray, table: np.ndarray, out: np.ndarray, start: int, stop: int) -> None:
    """``out[i] = table[index[i]]`` for flat positions ``start..stop`` of the 1-D C-contiguous
    ``index`` and ``out`` (``table`` has one entry per index value), compiled for ``kernel``.
    Whether the host takes the VBMI lookup is decided at the kernel's first call (its
    interpreter keeps that choice); the operands are checked at every call."""
    lut = _vbmi_module(kernel)
    if lut and lut.operands_fit(index, table, out):
        run_from("_compiled_lut", kernel, "lookup_bytes", index, table, out, start, stop, parallel=False)
    else:
        run_from("_compiled_int8", kernel, "gather_bytes", index, table, out, start, stop, parallel=False)


def gather_table_masked(kernel, index: np.ndarray, vector: np.ndarray, scalar: np.ndarray, lanes: np.ndarray,
                        out: np.ndarray) -> None:
    """``out[i] = (vector if lanes[i] else scalar)[index[i]]`` over the 1-D C-contiguous
    ``index``, ``lanes`` and ``out``, compiled for ``kernel``."""
    lut = _vbmi_module(kernel)
    if lut and lut.operands_fit(index, vector, out) and lut.operands_fit(index, scalar, out) \
            and lanes.itemsize == 1 and lanes.ndim == 1 and lanes.size == index.size == out.size \
            and lanes.flags.c_contiguous:
        run_from("_compiled_lut", kernel, "lookup_bytes_masked", index, vector, scalar, lanes, out, parallel=False)
    else:
        run_from("_compiled_int8", kernel, "gather_bytes_masked", index, vector, scalar, lanes, out, parallel=False)


def _vbmi_module(kernel):
    """``_compiled_lut`` when the host takes the VBMI lookup, else False; decided at the
    kernel's first call (its interpreter keeps that choice)."""
    lut = kernel.__dict__.get("_vbmi_lut")
    if lut is None:
        module = compiled_module("_compiled_lut")
        lut = kernel._vbmi_lut = module if module.vbmi_available() else False
    return lut

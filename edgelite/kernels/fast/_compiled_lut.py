"""256-entry byte-table lookups with AVX-512 VBMI ``vpermi2b``, numba driven.

``lookup_bytes(index, table, out, start, stop)`` computes ``out[i] = table[index[i]]`` for
1-byte indices (int8 data viewed as uint8) and a 256-entry table of 1-byte entries: the
lookups of the 8-bit table activations (``int8_activations.py``), of the fused int8 swish
and of MUL / ADD / SUB with a broadcast scalar (``elementwise.py``). The scalar loop it
replaces (``_compiled_int8.gather_bytes``) does one table load per byte.

* numba exposes no SIMD intrinsics and LLVM does not turn a byte gather into a permute, so
  the 64-byte step is written in LLVM IR (``numba.extending.intrinsic``), as the VNNI GEMM
  tile of ``_compiled_gemm``: the table is loaded once into four 64-byte registers
  ``T0..T3``; each step loads 64 index bytes ``x`` and calls
  ``llvm.x86.avx512.vpermi2var.qi.512`` twice: ``lo = vpermi2b(T0, x, T1)`` (bit 6 of each
  index picks the register, bits 0-5 the byte: entries 0-127; bit 7 is ignored) and
  ``hi = vpermi2b(T2, x, T3)`` (entries 128-255), then ``select(x < 0 as signed, hi, lo)``
  (``vpmovb2m`` + a masked move) and one 64-byte store. The loop over the steps is inside
  the intrinsic, so the table stays in registers.
* Each step loads its 64 index bytes before it stores its 64 outputs: ``index`` and ``out``
  may be the same buffer (an in-place lookup). Positions past the last full step take a
  scalar tail loop.
* The lookup is exact by construction (a byte permute copies table bytes), so it gives the
  bits of numpy's ``table[index]`` and of the reference kernels.
* Used only when the host CPU has AVX-512 F, BW and VBMI (:func:`vbmi_available`) and numba
  compiles for the host; elsewhere, and for any other table (the 65536-entry pair tables,
  non-contiguous operands), callers keep ``_compiled_int8.gather_bytes``. Compiled with
  ``cache=True``: numba's cache key includes the CPU name and features.

Measured at one thread on the reference machine (AMD EPYC Zen 4): see docs/kernels.md,
"Where the tier stands".
"""
from __future__ import annotations

import os

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

STEP = 64  # bytes per vpermi2b pair

_I8, _I64 = ir.IntType(8), ir.IntType(64)
_V64 = ir.VectorType(_I8, STEP)
_ADDR = types.intp


@intrinsic
def _lookup_steps(typingctx, index, table, out, steps):
    """``out[j] = table[index[j]]`` for ``j < 64 * steps`` (addresses as intp; ``table`` 256 bytes)."""
    sig = types.void(_ADDR, _ADDR, _ADDR, _ADDR)

    def codegen(context, builder, signature, args):
        index, table, out, steps = args
        permute = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_V64, [_V64, _V64, _V64]),
                                                 "llvm.x86.avx512.vpermi2var.qi.512")

        def const(v):
            return ir.Constant(_I64, v)

        def vector_at(address):
            return builder.inttoptr(address, _V64.as_pointer())

        entry = builder.basic_block
        loop = builder.append_basic_block("lut_loop")
        done = builder.append_basic_block("lut_done")
        quarters = [builder.load(vector_at(builder.add(table, const(STEP * q))), align=1) for q in range(4)]
        zero = ir.Constant(_V64, None)
        builder.cbranch(builder.icmp_signed(">", steps, const(0)), loop, done)

        builder.position_at_end(loop)
        k = builder.phi(_I64)
        offset = builder.mul(k, const(STEP))
        x = builder.load(vector_at(builder.add(index, offset)), align=1)
        low = builder.call(permute, [quarters[0], x, quarters[1]])
        high = builder.call(permute, [quarters[2], x, quarters[3]])
        picked = builder.select(builder.icmp_signed("<", x, zero), high, low)
        builder.store(picked, vector_at(builder.add(out, offset)), align=1)
        k_next = builder.add(k, const(1))
        k.add_incoming(const(0), entry)
        k.add_incoming(k_next, loop)
        builder.cbranch(builder.icmp_signed("<", k_next, steps), loop, done)

        builder.position_at_end(done)
        return context.get_dummy_value()

    return sig, codegen


@nb.njit(cache=True, error_model="numpy", boundscheck=False)
def lookup_bytes(index, table, out, start, stop):
    """``out[i] = table[index[i]]`` for flat positions ``start..stop`` of 1-D C-contiguous
    1-byte arrays ``index`` and ``out`` (possibly the same buffer) and a C-contiguous table of
    256 1-byte entries (an entry's bits are copied, so int8 and uint8 tables both work):
    64-byte ``vpermi2b`` steps, then a scalar tail."""
    if stop <= start:
        return
    steps = np.intp((stop - start) // STEP)
    if steps > 0:
        _lookup_steps(np.intp(index.ctypes.data) + start, np.intp(table.ctypes.data),
                      np.intp(out.ctypes.data) + start, steps)
    for i in range(start + steps * STEP, stop):
        out[i] = table[np.intp(index[i]) & 255]


_available: bool | None = None


def vbmi_available() -> bool:
    """Whether the VBMI lookup can run: the host CPU has AVX-512 F, BW and VBMI, numba
    compiles for the host (no ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES``; not
    ``NUMBA_DISABLE_JIT``: the step has no Python form), and ``EDGELITE_FAST_VBMI_LUT`` is
    not ``0`` (which keeps the scalar gather)."""
    if os.environ.get("EDGELITE_FAST_VBMI_LUT", "").strip() == "0":
        return False
    if nb.config.CPU_NAME or nb.config.CPU_FEATURES or nb.config.DISABLE_JIT:
        return False
    global _available
    if _available is None:
        from llvmlite import binding
        features = binding.get_host_cpu_features()
        _available = all(features.get(f, False) for f in ("avx512f", "avx512bw", "avx512vbmi"))
    return _available


def operands_fit(index: np.ndarray, table: np.ndarray, out: np.ndarray) -> bool:
    """Whether :func:`lookup_bytes` takes these operands: flat C-contiguous 1-byte ``index``
    and ``out``, a flat C-contiguous 256-entry table of ``out``'s dtype."""
    return (index.itemsize == 1 and out.itemsize == 1 and table.dtype == out.dtype and table.size == 256
            and index.ndim == 1 and out.ndim == 1 and table.ndim == 1
            and index.flags.c_contiguous and out.flags.c_contiguous and table.flags.c_contiguous)


def takes_table(index: np.ndarray, table: np.ndarray, out: np.ndarray) -> bool:
    """Whether :func:`lookup_bytes` runs for these operands on this host
    (:func:`operands_fit` and :func:`vbmi_available`)."""
    return operands_fit(index, table, out) and vbmi_available()

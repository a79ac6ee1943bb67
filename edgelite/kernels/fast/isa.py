"""Which SIMD instruction sets the compiled tier's LLVM-IR kernels may use on this host.

The register-tile kernels (``_compiled_gemm``, ``_compiled_depthwise``,
``_compiled_depthwise_float``, ``_compiled_lut``) call x86 intrinsics that only exist on
CPUs with the matching features, so each asks :func:`usable` before it runs:

* numba must compile for the host CPU (no ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES``: a
  cache built for another CPU; not ``NUMBA_DISABLE_JIT``: the intrinsics have no Python
  form);
* the host must have every feature asked for (llvmlite's view of the CPU, read once);
* ``EDGELITE_FAST_ISA=avx2`` makes the host look like a CPU with AVX2 and no AVX-512 (every
  ``avx512*`` feature reads as absent): the AVX2 kernels then run on an AVX-512 machine, as
  on most laptops and desktops before 2021, for tests and measurements.

:func:`runs_here` answers for the real CPU, ignoring ``EDGELITE_FAST_ISA`` (tests call the
kernels of each instruction set directly where the CPU can run them).
"""
from __future__ import annotations

import os

_features: dict | None = None


def _host_features() -> dict:
    global _features
    if _features is None:
        from llvmlite import binding
        _features = dict(binding.get_host_cpu_features())
    return _features


def _compiles_for_host() -> bool:
    import numba as nb
    return not (nb.config.CPU_NAME or nb.config.CPU_FEATURES or nb.config.DISABLE_JIT)


def as_avx2() -> bool:
    """Whether ``EDGELITE_FAST_ISA=avx2`` asks for the AVX2 kernels whatever the CPU has."""
    return os.environ.get("EDGELITE_FAST_ISA", "").strip().lower() == "avx2"


def depthwise_blocks_off() -> bool:
    """Whether ``EDGELITE_FAST_DW_SIMD=0`` keeps both depthwise kernels on their numba loops."""
    return os.environ.get("EDGELITE_FAST_DW_SIMD", "").strip() == "0"


def runs_here(*features: str) -> bool:
    """Whether numba compiles for this CPU and the CPU has all of ``features`` (e.g.
    ``"avx512f", "avx512vnni"``), whatever ``EDGELITE_FAST_ISA`` says."""
    host = _host_features()
    return _compiles_for_host() and all(host.get(f, False) for f in features)


def usable(*features: str) -> bool:
    """:func:`runs_here`, with every ``avx512*`` feature absent under ``EDGELITE_FAST_ISA=avx2``."""
    if as_avx2() and any(f.startswith("avx512") for f in features):
        return False
    return runs_here(*features)

"""TFLite Micro itself, through the tflite-micro wheel (optional; Python 3.11, x86-64).

* :func:`tflm_allocations`: head, tail and total as TFLM's ``print_allocations()`` reports them
  (it prints to the C-level stderr, captured here through ``os.dup2``);
* :func:`tflm_minimum_arena`: the smallest ``arena_size`` TFLM accepts for a model, by bisection
  in a separate Python process (a too-small arena makes construction raise RuntimeError);
* :func:`tflm_invoke`: outputs for given inputs.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

_WHEEL_HINT = "needs the tflite-micro wheel (pip install tflite-micro; Python 3.11, x86-64)"


def have_tflm() -> bool:
    try:
        from tflite_micro.python.tflite_micro import runtime  # noqa: F401
        return True
    except ImportError:
        return False


def _runtime():
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as e:
        raise ImportError(_WHEEL_HINT) from e
    return runtime


def _as_path(model) -> tuple[str, bool]:
    """A file path for ``model`` (path, bytes or ir.Model) and whether it is a temporary file."""
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model), False
    data = model if isinstance(model, (bytes, bytearray)) else model.to_bytes()
    fd, path = tempfile.mkstemp(suffix=".tflite")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path, True


def _capture_stderr(fn) -> str:
    read_end, write_end = os.pipe()
    saved = os.dup(2)
    sys.stderr.flush()
    os.dup2(write_end, 2)
    try:
        fn()
    finally:
        os.dup2(saved, 2)
        os.close(write_end)
        os.close(saved)
    with os.fdopen(read_end, "rb") as f:
        return f.read().decode(errors="replace")


def tflm_allocations(model, arena_size: int = 64 << 20) -> dict[str, int]:
    """{"head", "tail", "total"} bytes from TFLM's RecordingMicroAllocator."""
    runtime = _runtime()
    path, temporary = _as_path(model)
    try:
        it = runtime.Interpreter.from_file(path, arena_size=arena_size)
        text = _capture_stderr(it.print_allocations)
    finally:
        if temporary:
            os.unlink(path)
    found = dict(re.findall(r"Arena allocation (head|tail|total) (\d+) bytes", text))
    if set(found) != {"head", "tail", "total"}:
        raise RuntimeError(f"unexpected print_allocations() output: {text[:200]!r}")
    return {k: int(v) for k, v in found.items()}


_PROBE = r"""
import sys
from tflite_micro.python.tflite_micro import runtime
path = sys.argv[1]
for line in sys.stdin:
    n = int(line)
    try:
        runtime.Interpreter.from_file(path, arena_size=n)
        print("fits", n, flush=True)
    except RuntimeError:
        print("fails", n, flush=True)
"""


def tflm_minimum_arena(model, start: int = 1 << 16, timeout: float = 600) -> int:
    """The smallest arena_size TFLM accepts for ``model``, by bisection in a separate process.

    Some too-small sizes make TFLM abort instead of raising; the probing process is then
    restarted and that size counts as too small.
    """
    _runtime()
    path, temporary = _as_path(model)
    lo, hi = 0, None  # lo fails (0 always does), hi fits
    probe = None
    try:
        while hi is None or hi - lo > 1:
            n = start if hi is None else (lo + hi) // 2
            if probe is None:
                probe = subprocess.Popen([sys.executable, "-c", _PROBE, path], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            probe.stdin.write(f"{n}\n")
            probe.stdin.flush()
            answer = probe.stdout.readline().split()
            if not answer:  # TFLM aborted the process: this size does not work
                probe.wait(timeout=timeout)
                probe = None
                answer = ["fails"]
            if answer[0] == "fits":
                hi = n
            else:
                lo = n
                if hi is None:
                    start *= 2
                    if start > 1 << 34:
                        raise RuntimeError("TFLM cannot allocate this model with any arena size")
        return hi
    finally:
        if probe is not None:
            probe.stdin.close()
            probe.wait(timeout=timeout)
        if temporary:
            os.unlink(path)


def tflm_invoke(model, inputs: list, arena_size: int = 64 << 20, outputs: int | None = None) -> list:
    """TFLM's outputs for ``inputs`` (``outputs``: how many; default: the model's)."""
    import numpy as np
    runtime = _runtime()
    path, temporary = _as_path(model)
    try:
        if outputs is None:
            from ..reader import load_model
            outputs = len(load_model(path).subgraphs[0].outputs)
        it = runtime.Interpreter.from_file(path, arena_size=arena_size)
        for i, x in enumerate(inputs):
            it.set_input(x, i)
        it.invoke()
        return [np.array(it.get_output(j)) for j in range(outputs)]
    finally:
        if temporary:
            os.unlink(path)


__all__ = ["have_tflm", "tflm_allocations", "tflm_invoke", "tflm_minimum_arena"]

"""Stopping a running invoke: ``Interpreter.cancel()``, ``invoke(timeout=...)``, WHILE limits.

A :class:`CancelToken` belongs to one interpreter's runtime. The executor reads one
attribute of it between nodes (``token.stop``: a plain bool, so the per-node cost is an
attribute load and a test) and WHILE reads it between iterations; when it is set the
run raises :class:`edgelite.CancelledError`. A kernel already running finishes first:
cancellation takes effect at the next node boundary or loop iteration.

* ``cancel()`` (any thread) sets ``stop``. As in LiteRT, a request applies to the invoke
  in progress: every invoke clears it when it starts.
* ``invoke(timeout=s)`` starts a :class:`threading.Timer` that calls ``cancel`` after ``s``
  seconds, and stops it when the invoke returns; no timer exists without a timeout.
* ``max_loop_iterations`` bounds every WHILE loop of the model (an edgelite extension for
  untrusted models; LiteRT has no such limit).

The interpreter stays usable after a cancellation: executors reset their running state
in ``finally`` blocks, and the next invoke overwrites every activation.
"""
from __future__ import annotations

import threading

from ..errors import CancelledError


class CancelToken:
    """The cancellation state of one interpreter."""

    __slots__ = ("stop", "reason", "max_loop_iterations", "_timer")

    def __init__(self, max_loop_iterations: int | None = None):
        if max_loop_iterations is not None:
            if isinstance(max_loop_iterations, bool) or not isinstance(max_loop_iterations, int):
                raise TypeError("max_loop_iterations must be an int or None")
            if max_loop_iterations < 0:
                raise ValueError(f"max_loop_iterations must be >= 0, not {max_loop_iterations}")
        self.stop = False
        self.reason = ""
        self.max_loop_iterations = max_loop_iterations
        self._timer: threading.Timer | None = None

    def cancel(self, reason: str = "Interpreter.cancel() was called") -> None:
        """Ask the invoke in progress to stop at its next node or loop iteration."""
        self.reason = reason
        self.stop = True

    def start(self, timeout: float | None) -> None:
        """Called when an invoke starts: clears an old request, arms the timeout if any."""
        self.stop = False
        self.reason = ""
        if timeout is not None:
            timeout = float(timeout)
            if not timeout > 0:  # also refuses NaN
                raise ValueError(f"timeout must be a positive number of seconds, not {timeout}")
            timer = threading.Timer(timeout, self.cancel, (f"invoke(timeout={timeout:g}) passed",))
            timer.daemon = True
            self._timer = timer
            timer.start()

    def finish(self) -> None:
        """Called when an invoke ends, however it ends: stops the timeout timer."""
        timer = self._timer
        if timer is not None:
            self._timer = None
            timer.cancel()

    def raise_cancelled(self, where: str) -> None:
        raise CancelledError(f"invoke cancelled at {where}: {self.reason or 'cancel requested'}")

    def check_loop(self, iterations: int, node_index: int) -> None:
        """Called by WHILE (node ``node_index``) before each run of its body, ``iterations``
        bodies done: raises CancelledError on a cancel request or past max_loop_iterations."""
        if self.stop:
            self.raise_cancelled(f"WHILE (node {node_index}) before iteration {iterations + 1}")
        limit = self.max_loop_iterations
        if limit is not None and iterations >= limit:
            raise CancelledError(f"invoke cancelled at WHILE (node {node_index}): the loop reached "
                                 f"max_loop_iterations={limit} iterations")


def token_of(node) -> CancelToken | None:
    """The cancel token of the interpreter running ``node`` (None outside an interpreter)."""
    runtime = getattr(node, "runtime", None)
    return getattr(runtime, "cancel_token", None)

"""Stopping a running invoke: ``Interpreter.cancel()``, ``invoke(timeout=...)``, WHILE limits.

A :class:`CancelToken` belongs to one interpreter's runtime. The executor reads one
attribute of it between nodes (``token.stop``: a plain bool, so the per-node cost is an
attribute load and a test) and WHILE reads it between iterations; when it is set the
run raises :class:`edgelite.CancelledError`. A kernel already running finishes first:
cancellation takes effect at the next node boundary or loop iteration.

* ``cancel()`` (any thread) sets ``stop``. As in LiteRT, a request applies to the invoke
  in progress: every invoke clears it when it starts.
* ``invoke(timeout=s)`` arms a deadline with one process-wide watchdog thread (started on
  the first timed invoke, a daemon) that calls ``cancel`` when the deadline passes; the invoke
  disarms it when it returns. Arming costs a heap push, not a thread start.
* ``max_loop_iterations`` bounds every WHILE loop of the model (an edgelite extension for
  untrusted models; LiteRT has no such limit).

The interpreter stays usable after a cancellation: executors reset their running state
in ``finally`` blocks, and the next invoke overwrites every activation.
"""
from __future__ import annotations

import heapq
import itertools
import threading
import time

from ..errors import CancelledError


class CancelToken:
    """The cancellation state of one interpreter."""

    __slots__ = ("stop", "reason", "max_loop_iterations", "_deadline")

    def __init__(self, max_loop_iterations: int | None = None):
        if max_loop_iterations is not None:
            if isinstance(max_loop_iterations, bool) or not isinstance(max_loop_iterations, int):
                raise TypeError("max_loop_iterations must be an int or None")
            if max_loop_iterations < 0:
                raise ValueError(f"max_loop_iterations must be >= 0, not {max_loop_iterations}")
        self.stop = False
        self.reason = ""
        self.max_loop_iterations = max_loop_iterations
        self._deadline: list | None = None  # the watchdog entry of the running invoke

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
            self._deadline = _WATCHDOG.arm(time.monotonic() + timeout, self, f"invoke(timeout={timeout:g}) passed")

    def finish(self) -> None:
        """Called when an invoke ends, however it ends: disarms the timeout."""
        entry = self._deadline
        if entry is not None:
            self._deadline = None
            _WATCHDOG.disarm(entry)

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


class _Watchdog:
    """One daemon thread serving every interpreter's invoke deadlines (a heap of entries
    ``[deadline, sequence, token, reason, armed]``; disarmed entries are dropped lazily)."""

    def __init__(self):
        self._cv = threading.Condition()
        self._heap: list[list] = []
        self._sequence = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, token: CancelToken, reason: str) -> list:
        entry = [deadline, next(self._sequence), token, reason, True]
        with self._cv:
            if len(self._heap) > 1024:  # many invokes ended long before their deadlines
                self._heap = [e for e in self._heap if e[4]]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="edgelite-invoke-watchdog", daemon=True)
                self._thread.start()
            if self._heap[0] is entry:
                self._cv.notify()
        return entry

    def disarm(self, entry: list) -> None:
        # under the lock: a deadline firing now either cancels before this returns (while its
        # invoke still runs) or not at all, never the next invoke
        with self._cv:
            entry[4] = False

    def _run(self) -> None:
        with self._cv:
            while True:
                heap = self._heap
                while heap and not heap[0][4]:
                    heapq.heappop(heap)
                if not heap:
                    self._cv.wait()
                    continue
                wait = heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cv.wait(wait)
                    continue
                _deadline, _seq, token, reason, armed = heapq.heappop(heap)
                if armed:
                    token.cancel(reason)


_WATCHDOG = _Watchdog()


def token_of(node) -> CancelToken | None:
    """The cancel token of the interpreter running ``node`` (None outside an interpreter)."""
    runtime = getattr(node, "runtime", None)
    return getattr(runtime, "cancel_token", None)

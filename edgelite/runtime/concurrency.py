"""One interpreter, several threads: serialize every call, refuse interleaved sequences.

An interpreter holds one set of input and output buffers. Running a model is a
*sequence* of calls (``set_tensor`` ... ``invoke`` ... ``get_tensor``), and two threads
interleaving their sequences on one interpreter compute with each other's inputs or read
each other's outputs: LiteRT returns such wrong numbers silently. edgelite does two things:

1. **Every call is atomic.** Each public method holds the interpreter's re-entrant lock,
   so no call sees another half done (an invoke never reads an input being copied).
2. **An interleaving that would give a thread someone else's data raises**
   :class:`edgelite.errors.ConcurrentUseError` instead, by tracking who owns what:

   * inputs set since the last invoke belong to the thread that set them: another live
     thread calling ``set_tensor`` or ``invoke`` before that thread has invoked raises;
   * the outputs of an invoke belong to the invoking thread: if another thread invokes
     before it has read them (before its own next invoke), its ``get_tensor`` raises.

   Inside ``exclusive()`` a thread may read any outputs (it asked for the lock on purpose).
   Handing an interpreter from one thread to another (build in one, run in another; run
   in a worker, read in the main thread) raises nothing, and neither does anything a
   thread does alone; a thread that died gives up what it owned.

To share one interpreter on purpose, run each whole sequence under ``with
interpreter.exclusive():`` (it holds the lock across the calls), or call a
``SignatureRunner``, which does so itself. Separate interpreters share nothing mutable
and run in parallel without any of this.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from ..errors import ConcurrentUseError

_HINT = ("; run each set_tensor/invoke/get_tensor sequence under `with interpreter.exclusive():`, use a "
         "signature runner, or give each thread its own Interpreter")


class UseGuard:
    """The lock and the ownership records of one interpreter (see the module docstring)."""

    __slots__ = ("lock", "_input_owner", "_generation", "_invokers", "_exclusive_owner", "_exclusive_depth")

    def __init__(self):
        self.lock = threading.RLock()
        self._input_owner: threading.Thread | None = None
        self._generation = 0
        self._invokers: dict[threading.Thread, int] = {}  # thread -> generation of its last invoke
        self._exclusive_owner: threading.Thread | None = None
        self._exclusive_depth = 0

    @contextmanager
    def exclusive(self):
        """Hold the lock across several calls (a whole set/invoke/get sequence). Inside, the
        thread may read whatever the outputs are; leaving gives up its claim on them."""
        with self.lock:
            me = threading.current_thread()
            self._exclusive_owner = me
            self._exclusive_depth += 1
            try:
                yield
            finally:
                self._exclusive_depth -= 1
                if self._exclusive_depth == 0:
                    self._exclusive_owner = None
                    self._invokers.pop(me, None)

    def _foreign_inputs(self, me: threading.Thread) -> threading.Thread | None:
        owner = self._input_owner
        if owner is None or owner is me:
            return None
        if not owner.is_alive():
            self._input_owner = None
            return None
        return owner

    def before_set(self) -> None:
        """Called (lock held) by set_tensor; the caller then owns the pending inputs."""
        me = threading.current_thread()
        owner = self._foreign_inputs(me)
        if owner is not None:
            raise ConcurrentUseError(f"set_tensor from thread {me.name!r} while thread {owner.name!r} has set "
                                     f"inputs it has not invoked yet: it would run with this thread's values{_HINT}")
        self._input_owner = me

    def before_invoke(self) -> None:
        """Called (lock held) by invoke: the caller then owns the outputs."""
        me = threading.current_thread()
        owner = self._foreign_inputs(me)
        if owner is not None:
            raise ConcurrentUseError(f"invoke from thread {me.name!r} while thread {owner.name!r} has set inputs "
                                     f"it has not invoked yet: this run would use its values{_HINT}")
        self._input_owner = None
        self._generation += 1
        invokers = self._invokers
        invokers[me] = self._generation
        if len(invokers) > 32:  # forget threads that ended
            for thread in [t for t in invokers if not t.is_alive()]:
                del invokers[thread]

    def before_get(self) -> None:
        """Called (lock held) by get_tensor: refuse to hand a thread the outputs of another
        thread's invoke when it is waiting for its own."""
        me = threading.current_thread()
        mine = self._invokers.get(me)
        if mine is not None and mine != self._generation and self._exclusive_owner is not me:
            raise ConcurrentUseError(f"get_tensor from thread {me.name!r}: another thread invoked after this "
                                     f"thread's invoke, so the outputs are no longer this thread's{_HINT}")

"""invoke(timeout=...), Interpreter.cancel() from another thread, max_loop_iterations."""
import threading
import time

import numpy as np
import pytest

import edgelite

from .hostile_models import counting_loop_model, mlp_model


def _loop(always_true=False, **kw):
    it = edgelite.Interpreter(model_content=counting_loop_model(always_true), **kw)
    it.allocate_tensors()
    return it


def _count(it, n):
    it.set_tensor(it.get_input_details()[0]["index"], np.array(n, np.int32))
    it.invoke()
    return int(it.get_tensor(it.get_output_details()[0]["index"]))


def test_endless_while_stops_at_the_timeout_and_the_interpreter_runs_again():
    it = _loop(always_true=True)
    it.set_tensor(0, np.array(0, np.int32))
    start = time.perf_counter()
    with pytest.raises(edgelite.CancelledError, match=r"invoke cancelled at .*invoke\(timeout=0.2\) passed"):
        it.invoke(timeout=0.2)
    assert time.perf_counter() - start < 1.0
    assert not isinstance(edgelite.CancelledError("x"), edgelite.ModelError)
    # the same interpreter is usable: a finite loop of the same model shape
    finite = _loop()
    assert _count(finite, 7) == 7
    it.set_tensor(0, np.array(0, np.int32))
    with pytest.raises(edgelite.CancelledError):
        it.invoke(timeout=0.05)


def test_interpreter_usable_after_cancel():
    it = _loop()
    it.set_tensor(0, np.array(10 ** 9, np.int32))
    with pytest.raises(edgelite.CancelledError):
        it.invoke(timeout=0.1)
    assert _count(it, 5) == 5  # no timeout now: runs to the end
    assert _count(it, 0) == 0


def test_cancel_from_another_thread():
    it = _loop(always_true=True)
    it.set_tensor(0, np.array(0, np.int32))
    timer = threading.Timer(0.15, it.cancel)
    timer.start()
    start = time.perf_counter()
    with pytest.raises(edgelite.CancelledError, match="Interpreter.cancel"):
        it.invoke()
    assert time.perf_counter() - start < 1.0
    timer.join()


def test_cancel_before_invoke_is_dropped_as_in_litert():
    it = _loop()
    it.cancel()
    assert _count(it, 3) == 3


def test_cancel_between_nodes_of_a_plain_graph():
    """A request made while node 0 runs stops the invoke before node 1."""
    it = edgelite.Interpreter(model_content=mlp_model())
    it.allocate_tensors()
    it.set_profiler(lambda timing: it.cancel() if timing.node_index == 0 else None)
    with pytest.raises(edgelite.CancelledError, match="subgraph 0 node 1"):
        it.invoke()
    it.set_profiler(None)
    it.invoke()


def test_max_loop_iterations():
    it = _loop(max_loop_iterations=10)
    assert _count(it, 10) == 10
    with pytest.raises(edgelite.CancelledError, match="max_loop_iterations=10"):
        _count(it, 11)
    assert _count(it, 4) == 4
    with pytest.raises(ValueError):
        _loop(max_loop_iterations=-1)


def test_timeout_argument_checked_and_timer_stopped():
    it = _loop()
    it.set_tensor(0, np.array(1, np.int32))
    with pytest.raises(ValueError, match="positive"):
        it.invoke(timeout=0)
    before = threading.active_count()
    for _ in range(20):
        it.invoke(timeout=5.0)
    time.sleep(0.05)
    assert threading.active_count() <= before + 1  # timers are cancelled when invoke returns

"""10,000 invokes leak nothing, nor do runs that end in CancelledError or ResourceError."""
import gc
import tracemalloc

import numpy as np
import pytest

import edgelite

from .hostile_models import counting_loop_model, fill_model, mlp_model


def _growth(step, rounds: int) -> int:
    step()  # warm: caches, first-use imports
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(rounds):
            step()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_ten_thousand_invokes_leak_nothing():
    it = edgelite.Interpreter(model_content=mlp_model())
    it.allocate_tensors()
    x = np.ones((1, 16), np.float32)
    out = it.get_output_details()[0]["index"]

    def step():
        it.set_tensor(0, x)
        it.invoke()
        it.get_tensor(out)
    assert _growth(step, 10_000) < 64 * 1024


def test_failed_runs_leak_nothing():
    loop = edgelite.Interpreter(model_content=counting_loop_model(), max_loop_iterations=3)
    loop.allocate_tensors()
    fill = edgelite.Interpreter(model_content=fill_model(), max_memory_bytes=1 << 20)
    fill.allocate_tensors()

    def step():
        loop.set_tensor(0, np.array(10, np.int32))
        with pytest.raises(edgelite.CancelledError):
            loop.invoke()
        fill.set_tensor(0, np.array([1000, 1000], np.int32))
        with pytest.raises(edgelite.ResourceError):
            fill.invoke()
    assert _growth(step, 300) < 64 * 1024

"""Compiled float CONV_2D in LiteRT's GEMM order (kernels/fast/exact_float_conv.py), for
float layers feeding hybrid ops: the same bits as ``exact_float.ExactOrderConv2D`` on
random geometries that cover every channel region (blocks of 8, one block of 4, the rest),
pixel counts that are not multiples of 4, every depth remainder, batches and no bias."""
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

import edgelite
from edgelite.kernels.base import Node, lookup

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "kernels"))
from test_hybrid_exact_float import conv_options, float_then_hybrid

pytestmark = pytest.mark.fast


def run_mid(model, x):
    it = edgelite.Interpreter(model_content=model.to_bytes(), experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    mid = model.main.operators[0].outputs[0]
    return it.get_tensor(mid).copy(), it.get_tensor(it.get_output_details()[0]["index"]).copy()


@pytest.mark.parametrize("seed", range(12))
def test_exact_order_conv_bit_exact(monkeypatch, seed):
    rng = np.random.default_rng(900 + seed)
    k = int(rng.choice([1, 1, 3, 2]))
    c = int(rng.integers(1, 14))
    o = int(rng.integers(2, 30)) if seed % 3 else 8 * int(rng.integers(1, 3)) + seed % 8
    stride = int(rng.integers(1, 3))
    n = 2 if seed % 4 == 0 else 1
    h, w = int(rng.integers(k, 11)), int(rng.integers(k, 11))
    x = (rng.standard_normal((n, h, w, c)) * 3).astype(np.float32)
    wt = rng.standard_normal((o, k, k, c)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32) if seed % 5 else None
    padding = seed % 2  # SAME (0 in the schema's enum is SAME) or VALID
    oh = -(-h // stride) if padding == 0 else (h - k) // stride + 1
    ow = -(-w // stride) if padding == 0 else (w - k) // stride + 1
    model = float_then_hybrid("CONV_2D", [x, wt, b], conv_options(stride, padding=padding, act=int(rng.choice([0, 1, 3]))),
                              0, (n, oh, ow, o))
    assert lookup(Node(model.main.operators[0], 0, model.main)).__name__ == "FastExactOrderConv2D"
    got = run_mid(model, x)
    monkeypatch.setenv("EDGELITE_KERNELS", "reference")
    ref = run_mid(model, x)
    for r, g in zip(ref, got):
        assert r.tobytes() == g.tobytes(), f"{int(np.sum(r != g))} of {r.size} values differ"

"""Compiled float32 HARD_SWISH and SOFTMAX (kernels/fast/float_ops.py): the reference tier's bits."""
import numpy as np
import pytest

pytest.importorskip("numba")

from edgelite import Interpreter  # noqa: E402
from edgelite.kernels.base import Node, lookup  # noqa: E402
from edgelite.kernels.testing import run_op, single_op_model  # noqa: E402

pytestmark = pytest.mark.fast

SPECIAL = [0.0, -0.0, -3.0, 3.0, -6.0, 6.0, 1e-30, np.inf, -np.inf, np.nan]


def picked(opcode, inputs, options):
    sg = single_op_model(opcode, inputs, options).main
    return lookup(Node(op=sg.operators[0], index=0, subgraph=sg)).__name__


def outputs(monkeypatch, tier, opcode, x, options):
    """(eval's output, the interpreter's output) with the tier on or off."""
    if tier == "reference":
        monkeypatch.setenv("EDGELITE_KERNELS", "reference")
    else:
        monkeypatch.delenv("EDGELITE_KERNELS", raising=False)
    with np.errstate(all="ignore"):
        evaluated = run_op(opcode, [x], options)[0]
    it = Interpreter(model_content=single_op_model(opcode, [x], options).to_bytes())
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return evaluated, it.get_tensor(it.get_output_details()[0]["index"])


@pytest.mark.parametrize("shape", [(1,), (3,), (4,), (1, 14, 14, 7), (2, 5, 5, 17), (1, 1, 1, 1024)])
def test_hard_swish_bit_exact(monkeypatch, shape):
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    x.reshape(-1)[:min(x.size, len(SPECIAL))] = SPECIAL[:min(x.size, len(SPECIAL))]
    assert picked("HARD_SWISH", [x], None) == "FastHardSwish"
    ref = outputs(monkeypatch, "reference", "HARD_SWISH", x, None)
    fast = outputs(monkeypatch, "fast", "HARD_SWISH", x, None)
    for r in ref:
        for g in fast:
            assert r.tobytes() == g.tobytes()


@pytest.mark.parametrize("depth", [8, 9, 24, 127, 128, 129, 300, 1000, 1001])
@pytest.mark.parametrize("beta", [1.0, 2.5])
def test_softmax_bit_exact(monkeypatch, depth, beta):
    rng = np.random.default_rng(depth)
    x = (rng.standard_normal((2, 5, depth)) * 10.0 ** rng.uniform(-2, 1.5, (2, 5, depth))).astype(np.float32)
    x[0, 0, 3] = np.nan
    x[1, 1, :] = -np.inf
    assert picked("SOFTMAX", [x], {"beta": beta}) == "FastSoftmax"
    ref = outputs(monkeypatch, "reference", "SOFTMAX", x, {"beta": beta})
    fast = outputs(monkeypatch, "fast", "SOFTMAX", x, {"beta": beta})
    for r in ref:
        for g in fast:
            assert r.tobytes() == g.tobytes()

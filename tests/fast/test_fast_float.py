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


@pytest.mark.parametrize("seed", range(10))
def test_conv2d_compiled_im2col_bit_exact(monkeypatch, seed):
    """Float CONV_2D with the compiled im2col (kernels/fast/float_conv.py): the reference's bits,
    over strides, dilations, SAME/VALID padding, batches, channel counts and activations."""
    from test_fast_tier import assert_same_bits, both
    rng = np.random.default_rng(1300 + seed)
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    if (kh, kw) == (1, 1):
        kw = 3
    dh, dw = (int(v) for v in rng.integers(1, 3, 2))
    n, c, o = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 20))
    shape = (n, int(rng.integers(kh * dh, 14)), int(rng.integers(kw * dw, 14)), c)
    opts = dict(stride_h=int(rng.integers(1, 3)), stride_w=int(rng.integers(1, 4)), dilation_h_factor=dh,
                dilation_w_factor=dw, padding=seed % 2, fused_activation_function=int(rng.choice([0, 1, 3])))
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((o, kh, kw, c)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    model = single_op_model("CONV_2D", [x, w, b], opts, constant_inputs=(1, 2))
    assert lookup(Node(op=model.main.operators[0], index=0, subgraph=model.main)).__name__ == "FastConv2D"
    ref, got = both(monkeypatch, "CONV_2D", [x, w, b], opts, constant_inputs=(1, 2))
    assert_same_bits(ref, got)

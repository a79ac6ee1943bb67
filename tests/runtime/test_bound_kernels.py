"""Kernels' bind functions (what the interpreter runs on a node's fixed buffers) give the
same bits as their eval (what the kernel tests check against LiteRT)."""
import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.errors import ModelError
from edgelite.kernels.testing import run_op, single_op_model

RNG = np.random.default_rng(5)


def f32(*shape):
    return (RNG.standard_normal(shape) * 3).astype(np.float32)


def through_interpreter(opcode, inputs, options, constant_inputs=()):
    model = single_op_model(opcode, inputs, options, constant_inputs=constant_inputs)
    it = Interpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    feed = [x for k, x in enumerate(inputs) if x is not None and k not in constant_inputs]
    for d, x in zip(it.get_input_details(), feed):
        it.set_tensor(d["index"], x)
    it.invoke()
    ex = it._runtime.executor(0)
    bound = [not stores for _n, _run, stores in ex._calls]
    return [it.get_tensor(d["index"]) for d in it.get_output_details()], bound


ACT = {"fused_activation_function": 1}
NOACT = {"fused_activation_function": 0}
CASES = [
    ("ADD", [f32(2, 3, 4), f32(1, 3, 1)], NOACT, ()),
    ("ADD", [f32(2, 3, 4), f32(2, 3, 4)], {"fused_activation_function": 3}, ()),
    ("SUB", [f32(4, 5), f32(5)], ACT, ()),
    ("MUL", [f32(1, 24, 1), f32(1, 1, 64)], NOACT, ()),
    ("DIV", [f32(3, 4), f32(3, 4) + 10], {"fused_activation_function": 2}, ()),
    ("MAXIMUM", [f32(3, 4), f32(4)], None, ()),
    ("MINIMUM", [f32(3, 4), f32(3, 4)], None, ()),
    ("SQUARED_DIFFERENCE", [f32(1, 24, 64), f32(1, 24, 1)], None, ()),
    ("LOGICAL_AND", [f32(6) > 0, f32(6) > 0], None, ()),
    ("LESS", [f32(2, 5), f32(2, 5)], None, ()),
    ("NEG", [f32(7)], None, ()),
    ("RSQRT", [np.abs(f32(3, 8)) + 0.1], None, ()),
    ("EXP", [f32(9)], None, ()),
    ("HARD_SWISH", [f32(2, 7, 7, 3)], None, ()),
    ("GELU", [f32(1, 24, 128)], {"approximate": False}, ()),
    ("FULLY_CONNECTED", [f32(1, 24, 64), f32(16, 64), f32(16)], {"keep_num_dims": True, **ACT}, (1, 2)),
    ("FULLY_CONNECTED", [f32(3, 10), f32(5, 10), f32(5)], NOACT, (1,)),  # bias not constant
    ("FULLY_CONNECTED", [f32(24, 64), f32(128, 64), None], NOACT, (1,)),
    ("BATCH_MATMUL", [f32(1, 4, 24, 16), f32(1, 4, 24, 16)], {"adj_x": False, "adj_y": True}, ()),
    ("BATCH_MATMUL", [f32(2, 5, 3), f32(3, 4)], {"adj_x": False, "adj_y": False}, (1,)),
    ("SOFTMAX", [f32(1, 4, 24, 24)], {"beta": 1.0}, ()),
    ("TRANSPOSE", [f32(1, 24, 4, 16), np.array([0, 2, 1, 3], np.int32)], None, (1,)),
    ("RESHAPE", [f32(2, 6), np.array([3, 4], np.int32)], {"new_shape": [3, 4]}, (1,)),
    ("CONCATENATION", [f32(1, 4, 4, 3), f32(1, 4, 4, 2)], {"axis": 3, **ACT}, ()),
    ("CONCATENATION", [f32(2, 3), f32(5, 3)], {"axis": 0, **NOACT}, ()),
    ("GATHER", [f32(50, 8), np.array([[3, 0, 49, 7]], np.int32)], {"axis": 0, "batch_dims": 0}, (0,)),
    ("GATHER", [f32(4, 50), np.array([1, 1, 2], np.int64)], {"axis": 1, "batch_dims": 0}, ()),
]


@pytest.mark.parametrize("tier", ["reference", "default"])
@pytest.mark.parametrize("opcode, inputs, options, consts", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bound_function_matches_eval(monkeypatch, tier, opcode, inputs, options, consts):
    if tier == "reference":
        monkeypatch.setenv("EDGELITE_KERNELS", "reference")
    with np.errstate(all="ignore"):
        want = run_op(opcode, inputs, options, constant_inputs=consts)
    got, bound = through_interpreter(opcode, inputs, options, consts)
    for w, g in zip(want, got):
        assert w.dtype == g.dtype and w.shape == g.shape and w.tobytes() == g.tobytes()
    if tier == "reference":  # (compiled kernels may override eval, and then run it)
        assert bound == [True], f"{opcode} ran its eval, not a bound function"


def test_bound_gather_still_checks_its_indices():
    params, idx = f32(50, 8), np.array([3, 50], np.int32)
    it = Interpreter(model_content=single_op_model("GATHER", [params, idx], {"axis": 0, "batch_dims": 0},
                                                   constant_inputs=(0,)).to_bytes())
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], idx)
    with pytest.raises(ModelError, match="gather index out of range"):
        it.invoke()

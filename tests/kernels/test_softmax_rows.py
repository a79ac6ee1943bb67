"""SOFTMAX: the strided path for short rows and the interpreter's bound path give the bits of
numpy's reductions along the last axis (the reference formula), for every row length."""
import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.kernels.activations import SOFTMAX_STRIDED_MAX_DEPTH
from edgelite.kernels.testing import run_op, single_op_model

RNG = np.random.default_rng(7)


def formula(x, beta):
    out = x - x.max(axis=-1, keepdims=True)
    if beta != 1.0:
        out = out * np.float32(beta)
    out = np.exp(out)
    return out / out.sum(axis=-1, keepdims=True)


def interpreter_softmax(x, beta):
    it = Interpreter(model_content=single_op_model("SOFTMAX", [x], {"beta": beta}).to_bytes())
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


@pytest.mark.parametrize("depth", [*range(1, SOFTMAX_STRIDED_MAX_DEPTH + 2), 24, 130, 1000])
@pytest.mark.parametrize("beta", [1.0, 0.37])
@pytest.mark.parametrize("tier", ["reference", "default"])
def test_softmax_rows_match_numpy_reductions(monkeypatch, depth, beta, tier):
    if tier == "reference":
        monkeypatch.setenv("EDGELITE_KERNELS", "reference")
    x = (RNG.standard_normal((3, 11, depth)) * 10.0 ** RNG.uniform(-1, 1.5, (3, 11, depth))).astype(np.float32)
    x[0, 0, 0] = np.nan  # a NaN row stays NaN
    with np.errstate(invalid="ignore"):
        want = formula(x, beta)
        got_eval = run_op("SOFTMAX", [x], {"beta": beta})[0]
    got_bound = interpreter_softmax(x, beta)
    assert got_eval.tobytes() == want.tobytes()
    assert got_bound.tobytes() == want.tobytes()

"""RESHAPE's ``new_shape`` and SQUEEZE's ``squeeze_dims`` options as the reader decodes them.

The reader gives int-vector options as numpy arrays; kernels must not test them for truth
(MediaPipe's face detector and iris models, YAMNet and MobileNet v1 0.25 read their target
shape from the option). Each model goes through bytes, so the options are really decoded.
"""
import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.kernels.testing import single_op_model

from conftest import run_with_inputs


def run_both(opcode, x, options, extra_inputs=()):
    model = single_op_model(opcode, [x, *extra_inputs], options,
                            constant_inputs=tuple(range(1, 1 + len(extra_inputs))))
    ours = run_with_inputs(Interpreter(model_content=model.to_bytes()), [x])
    lite = pytest.importorskip("ai_edge_litert.interpreter")
    ref_it = lite.Interpreter(model_content=model.to_bytes(),
                              experimental_op_resolver_type=lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    return ours, run_with_inputs(ref_it, [x])


@pytest.mark.parametrize("new_shape", [[1, -1, 1], [4, 6], [24], [2, 3, 4]])
def test_reshape_shape_from_decoded_option(new_shape):
    x = np.arange(24, dtype=np.float32).reshape(1, 2, 12)
    ours, ref = run_both("RESHAPE", x, {"new_shape": new_shape})
    assert ours[0].shape == ref[0].shape
    np.testing.assert_array_equal(ours[0], ref[0])


def test_reshape_option_as_array_after_reading():
    model = single_op_model("RESHAPE", [np.zeros((2, 6), np.float32)], {"new_shape": [3, -1]})
    it = Interpreter(model_content=model.to_bytes())
    assert isinstance(it.model.main.operators[0].options["new_shape"], np.ndarray)
    out = run_with_inputs(it, [np.arange(12, dtype=np.float32).reshape(2, 6)])[0]
    assert out.shape == (3, 4)


@pytest.mark.parametrize("dims", [[0, 2], [2], []])
def test_squeeze_dims_from_decoded_option(dims):
    x = np.arange(6, dtype=np.int32).reshape(1, 6, 1)
    ours, ref = run_both("SQUEEZE", x, {"squeeze_dims": dims})
    assert ours[0].shape == ref[0].shape
    np.testing.assert_array_equal(ours[0], ref[0])

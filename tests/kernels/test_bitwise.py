"""RIGHT_SHIFT and BITWISE_XOR: hand-checked values and LiteRT on every integer type it supports."""
import numpy as np
import pytest

from edgelite.kernels import KernelError
from edgelite.kernels.testing import run_op, run_op_litert

TYPES = [np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32]


def test_right_shift_by_hand():
    x = np.array([-128, -7, 7, 100, 127, 64], np.int8)
    y = np.array([1, 1, 1, 9, -2, 7], np.int8)  # 9 clamps to 7, -2 to 0
    (out,) = run_op("RIGHT_SHIFT", [x, y])
    np.testing.assert_array_equal(out, [-64, -4, 3, 0, 127, 0])
    (u,) = run_op("RIGHT_SHIFT", [np.array([255, 255, 255], np.uint8), np.array([1, 8, 200], np.uint8)])
    np.testing.assert_array_equal(u, [127, 1, 1])  # 8 and 200 clamp to 7


def test_bitwise_xor_by_hand_and_broadcast():
    a = np.array([[0b1100], [0b1010]], np.int32)
    b = np.array([0b1010, -1], np.int32)
    (out,) = run_op("BITWISE_XOR", [a, b])
    np.testing.assert_array_equal(out, [[0b0110, ~0b1100], [0, ~0b1010]])


def test_bitwise_rejects_mixed_and_unsupported_types():
    with pytest.raises(KernelError, match="types differ"):
        run_op("BITWISE_XOR", [np.ones(2, np.int8), np.ones(2, np.int16)])
    with pytest.raises(KernelError, match="unsupported input type"):
        run_op("RIGHT_SHIFT", [np.ones(2, np.int64), np.ones(2, np.int64)])
    with pytest.raises(KernelError, match="unsupported input type"):
        run_op("BITWISE_XOR", [np.ones(2, np.float32), np.ones(2, np.float32)])


def random_operands(rng, op, dtype, shape_a, shape_b):
    info = np.iinfo(dtype)
    a = rng.integers(info.min, int(info.max) + 1, size=shape_a, dtype=np.int64).astype(dtype)
    if op == "RIGHT_SHIFT":  # include negative and too-large shift amounts
        low = -3 if info.min < 0 else 0
        b = rng.integers(low, min(info.bits + 4, int(info.max)), size=shape_b).astype(dtype)
    else:
        b = rng.integers(info.min, int(info.max) + 1, size=shape_b, dtype=np.int64).astype(dtype)
    return a, b


@pytest.mark.parametrize("op", ["RIGHT_SHIFT", "BITWISE_XOR"])
@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("shapes,const", [(((3, 4), (3, 4)), ()), (((2, 1, 4), (3, 1)), ()),
                                          (((2, 3), ()), (1,)), (((2, 3, 1, 2, 2), (1, 2, 2)), ()),
                                          (((2, 1, 1, 1, 1, 3), (3,)), (1,))])
def test_bitwise_matches_litert(op, dtype, shapes, const):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(len(str(shapes)) + np.dtype(dtype).itemsize)
    a, b = random_operands(rng, op, dtype, *shapes)
    (ours,) = run_op(op, [a, b], constant_inputs=const)
    (ref,) = run_op_litert(op, [a, b], constant_inputs=const)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours, ref)

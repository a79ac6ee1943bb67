"""QUANTIZE from int16 to int32 (TFLM's seanet quantize1), against LiteRT's builtin kernel."""
import numpy as np
import pytest

from edgelite.ir import Quantization
from edgelite.kernels.testing import run_op, run_op_litert


def q(scale, zp=0):
    return Quantization(scale=[scale], zero_point=[zp])


@pytest.mark.parametrize("in_q,out_q", [
    ((0.00049431, 0), (1.4901161e-07, 0)),    # seanet: a left shift into a finer int32 scale
    ((2.0 ** -10, 3), (2.0 ** -12, -7)),      # power-of-two ratio with zero points
    ((0.01, 0), (0.037, 5)),                  # coarser output: rounding ties away from zero
])
def test_quantize_int16_to_int32_matches_litert(in_q, out_q):
    pytest.importorskip("ai_edge_litert")
    x = np.concatenate([np.arange(-32768, 32768, 97), [-32768, 32767, -1, 0, 1]]).astype(np.int16).reshape(1, -1)
    kw = dict(output_dtypes=[np.int32], input_quant=[q(*in_q)], output_quant=[q(*out_q)])
    ours = run_op("QUANTIZE", [x], None, **kw)[0]
    ref = run_op_litert("QUANTIZE", [x], None, **kw)[0]
    assert ours.dtype == np.int32
    np.testing.assert_array_equal(ours, ref)


def test_quantize_to_int32_hand_checked():
    x = np.array([-3, -1, 0, 1, 5], np.int16)
    out = run_op("QUANTIZE", [x], None, output_dtypes=[np.int32],
                 input_quant=[q(0.5)], output_quant=[q(0.25, 10)])[0]
    np.testing.assert_array_equal(out, [4, 8, 10, 12, 20])


def test_quantize_float_to_int32_is_refused():
    with pytest.raises(ValueError, match="int32 only from an integer input"):
        run_op("QUANTIZE", [np.zeros(3, np.float32)], None, output_dtypes=[np.int32], output_quant=[q(0.1)])

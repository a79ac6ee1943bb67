"""Each TFLM kernel variant on one-op models (op_cases.py) against TFLite Micro.

With the tflite-micro wheel the outputs are compared value by value; always against the digests
recorded from it (fixtures/tflm_ops.json).
"""
import numpy as np
import pytest

import edgelite

from micro_cases import OPS_FIXTURE, digest, load_json
from op_cases import OP_CASES

RECORDED = load_json(OPS_FIXTURE)


def _run(model, feed, numerics="tflm"):
    it = edgelite.Interpreter(model_content=model.to_bytes(), numerics=numerics)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), feed):
        it.set_tensor(d["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


@pytest.mark.tflm
@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_op_matches_tflm(name):
    model, feed = OP_CASES[name]()
    ours = _run(model, feed)
    try:
        from edgelite.micro.tflm_oracle import tflm_invoke
        theirs = tflm_invoke(model.to_bytes(), feed, outputs=1)[0]
    except ImportError:
        theirs = None
    if theirs is not None:
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        bad = np.flatnonzero(ours.reshape(-1) != theirs.reshape(-1))
        assert bad.size == 0, f"{bad.size} of {ours.size} differ, first at {bad[:5]}"
    assert [digest(ours)] == RECORDED[name]


def test_tflm_variants_differ_from_litert_where_the_engines_do():
    """QUANTIZE (float), DEQUANTIZE, MEAN, SUM, float FC and RELU6 give LiteRT's results by default."""
    differing = 0
    names = ("quantize_f32_int8", "dequantize_int8", "mean_int8_hw_keep", "sum_int8", "fc_float_k300",
             "relu6_int8_rescaled")
    for name in names:
        model, feed = OP_CASES[name]()
        litert, tflm = _run(model, feed, "litert"), _run(model, feed, "tflm")
        assert [digest(tflm)] == RECORDED[name]
        differing += int(not np.array_equal(litert, tflm))
    assert differing == len(names)

"""Full-integer SVDF: int16 state / weights_time against LiteRT's builtin kernel, int8 state /
weights_time against TFLite Micro (LiteRT crashes on those), over several invocations so the
state carries over; plus a hand-checked step."""
import numpy as np
import pytest

from edgelite.ir import Model, Quantization, Subgraph
from edgelite.kernels.testing import run_op_stateful
from edgelite.schema import tensor_type_of


def q(scale, zp=0):
    return Quantization(scale=[scale], zero_point=[zp])


def integer_svdf(rng, state_dtype, batch=2, n_input=6, units=4, rank=2, memory=5, state_zp=0, bias=True):
    """(inputs, quantization, output quantization, options) of an integer SVDF node."""
    filters = units * rank
    in_s, wf_s, st_s, out_s = 0.05, 0.01, 0.004 if state_dtype == np.int16 else 0.6, 0.2
    wt_s = 0.003 if state_dtype == np.int16 else 0.015
    lim = np.iinfo(state_dtype).max // 4
    inputs = [rng.integers(-128, 128, (batch, n_input)).astype(np.int8),
              rng.integers(-127, 128, (filters, n_input)).astype(np.int8),
              rng.integers(-lim, lim, (filters, memory)).astype(state_dtype),
              rng.integers(-3000, 3000, units).astype(np.int32) if bias else None,
              np.zeros((batch, filters * memory), state_dtype)]
    quant = [q(in_s, -7), q(wf_s), q(wt_s), q(st_s * wt_s), q(st_s, state_zp)]
    return inputs, quant, [q(out_s, -20)], dict(rank=rank, fused_activation_function=1)


def feeds(rng, x, n=4):
    return [[rng.integers(-128, 128, x.shape).astype(np.int8)] for _ in range(n)]


@pytest.mark.parametrize("rank,bias", [(1, True), (2, True), (3, False)])
def test_int16_svdf_matches_litert(rank, bias):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(rank)
    ins, quant, out_q, opts = integer_svdf(rng, np.int16, rank=rank, bias=bias)
    opts["rank"] = rank
    fs = feeds(rng, ins[0])
    kw = dict(state_inputs=(4,), feeds=fs, constant_inputs=(1, 2, 3) if bias else (1, 2),
              input_quant=quant, output_quant=out_q, output_dtypes=[np.int8])
    ref = run_op_stateful("SVDF", ins, opts, interpreter="litert", **kw)
    ours = run_op_stateful("SVDF", ins, opts, interpreter="edgelite", **kw)
    for k, (a, b) in enumerate(zip(ref, ours)):
        np.testing.assert_array_equal(b[0], a[0], err_msg=f"invocation {k}")
    assert len(np.unique(np.concatenate([r[0].ravel() for r in ref]))) > 4  # not saturated


def tflm_svdf_model(ins, quant, out_q, opts, batch, units) -> bytes:
    sg = Subgraph(name="main")
    idx = []
    for k, x in enumerate(ins):
        if x is None:
            idx.append(-1)
        elif k in (1, 2, 3):
            idx.append(sg.add_constant(f"c{k}", x, quantization=quant[k]))
        else:
            idx.append(sg.add_tensor(f"t{k}", x.shape, tensor_type_of(x.dtype), quantization=quant[k],
                                     is_variable=(k == 4)))
    out = sg.add_tensor("out", (batch, units), tensor_type_of(np.int8), quantization=out_q[0])
    sg.add_operator("SVDF", idx, [out], opts)
    sg.inputs, sg.outputs = [idx[0]], [out]
    return Model(subgraphs=[sg]).to_bytes()


@pytest.mark.parametrize("state_zp", [0, -50, 31])
def test_int8_svdf_matches_tflm(state_zp):
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime",
                                  reason="TFLM's Python interpreter (tflite-micro wheel) is not installed")
    from edgelite import Interpreter
    rng = np.random.default_rng(100 + state_zp)
    ins, quant, out_q, opts = integer_svdf(rng, np.int8, state_zp=state_zp)
    model = tflm_svdf_model(ins, quant, out_q, opts, batch=2, units=4)
    tflm = runtime.Interpreter.from_bytes(model, arena_size=1 << 16)
    ours = Interpreter(model_content=model)
    ours.allocate_tensors()
    outs = []
    for k, (x,) in enumerate(feeds(rng, ins[0], 5)):
        tflm.set_input(x, 0)
        tflm.invoke()
        ours.set_tensor(ours.get_input_details()[0]["index"], x)
        ours.invoke()
        got = ours.get_tensor(ours.get_output_details()[0]["index"])
        np.testing.assert_array_equal(got, tflm.get_output(0), err_msg=f"invocation {k}")
        outs.append(got)
    assert len(np.unique(np.concatenate(outs))) > 4


def test_int16_svdf_hand_checked_step():
    # one filter, memory 2, unit scales: the newest column is sum((x - zp) * wf), then weighted
    ins = [np.array([[3, 5]], np.int8), np.array([[1, 2]], np.int8), np.array([[2, 3]], np.int16),
           np.array([10], np.int32), np.array([[7, 4]], np.int16)]
    quant = [q(1.0, 1), q(1.0), q(1.0), q(1.0), q(1.0)]
    [[out]] = run_op_stateful("SVDF", ins, dict(rank=1, fused_activation_function=0), interpreter="edgelite",
                              state_inputs=(4,), feeds=[[ins[0]]], constant_inputs=(1, 2, 3),
                              input_quant=quant, output_quant=[q(1.0, 0)], output_dtypes=[np.int8])
    # initial state [7, 4] is zero-filled by the runner: memory [0, newest], newest = 2*1 + 4*2 = 10
    # output = 2*0 + 3*10 + bias 10 = 40
    np.testing.assert_array_equal(out, [[40]])

"""Dynamic-range (hybrid) kernels against LiteRT: int8 weights, float activations."""
import numpy as np
import pytest

from edgelite.ir import Quantization
from edgelite.kernels.hybrid import asymmetric_quantize_rows, symmetric_quantize_rows
from edgelite.kernels.testing import run_op, run_op_litert


def q(scale, dim=0):
    scale = np.atleast_1d(np.asarray(scale, np.float32))
    return Quantization(scale=scale, zero_point=np.zeros(scale.size, np.int64), quantized_dimension=dim)


def assert_close(ours, ref):
    """Within float tolerance: for results through tanh / sigmoid (numpy's vs LiteRT's)."""
    ref = np.asarray(ref, np.float64)
    tol = 1e-5 * max(1.0, float(np.abs(ref).max()))
    assert ours.shape == ref.shape
    assert float(np.abs(ours - ref).max()) <= tol


def assert_exact(ours, ref):
    """Bit for bit: quantization, integer products and scaling follow LiteRT's float order."""
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    assert np.array_equal(ours, ref), f"{int(np.sum(ours != ref))} of {ours.size} values differ"


def both(opcode, inputs, options, **kw):
    pytest.importorskip("ai_edge_litert")
    return run_op(opcode, inputs, options, **kw), run_op_litert(opcode, inputs, options, **kw)


@pytest.mark.parametrize("asymmetric", [False, True])
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("act", [0, 1, 4])
def test_fully_connected_hybrid(asymmetric, per_channel, act):
    rng = np.random.default_rng(int(asymmetric) * 4 + int(per_channel) * 2 + act)
    x = (rng.normal(size=(5, 48)) + 0.4).astype(np.float32)
    x[2] = 0  # an all-zero row
    w = rng.integers(-127, 128, size=(20, 48)).astype(np.int8)
    ws = rng.uniform(0.001, 0.01, size=20 if per_channel else 1)
    b = rng.normal(size=20).astype(np.float32)
    opts = dict(fused_activation_function=act, asymmetric_quantize_inputs=asymmetric)
    ours, ref = both("FULLY_CONNECTED", [x, w, b], opts, constant_inputs=(1, 2), input_quant=[None, q(ws), None],
                     output_dtypes=[np.float32], version=12)
    (assert_close if act == 4 else assert_exact)(ours[0], ref[0])


def test_fully_connected_hybrid_keep_dims_no_bias():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 7, 16)).astype(np.float32)
    w = rng.integers(-127, 128, size=(9, 16)).astype(np.int8)
    opts = dict(keep_num_dims=True, asymmetric_quantize_inputs=True)
    ours, ref = both("FULLY_CONNECTED", [x, w, None], opts, constant_inputs=(1,),
                     input_quant=[None, q(rng.uniform(0.001, 0.01, 9)), None], output_dtypes=[np.float32], version=12)
    assert_exact(ours[0], ref[0])


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("pad,stride", [(0, 1), (1, 2), (0, 2)])
def test_conv2d_hybrid(per_channel, pad, stride):
    rng = np.random.default_rng(stride * 2 + pad)
    x = (rng.normal(size=(2, 9, 10, 6)) + 0.3).astype(np.float32)
    w = rng.integers(-127, 128, size=(8, 3, 3, 6)).astype(np.int8)
    ws = rng.uniform(0.001, 0.01, size=8 if per_channel else 1)
    b = rng.normal(size=8).astype(np.float32)
    opts = dict(padding=pad, stride_h=stride, stride_w=stride, dilation_h_factor=1, dilation_w_factor=1,
                fused_activation_function=3)
    ours, ref = both("CONV_2D", [x, w, b], opts, constant_inputs=(1, 2), input_quant=[None, q(ws), None],
                     output_dtypes=[np.float32], version=5)
    assert_exact(ours[0], ref[0])


def test_conv2d_hybrid_pointwise():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(1, 7, 7, 16)).astype(np.float32)
    w = rng.integers(-127, 128, size=(12, 1, 1, 16)).astype(np.int8)
    opts = dict(padding=0, stride_h=1, stride_w=1, dilation_h_factor=1, dilation_w_factor=1)
    ours, ref = both("CONV_2D", [x, w, rng.normal(size=12).astype(np.float32)], opts, constant_inputs=(1, 2),
                     input_quant=[None, q(rng.uniform(0.001, 0.01, 12)), None], output_dtypes=[np.float32], version=5)
    assert_exact(ours[0], ref[0])


@pytest.mark.parametrize("pad,stride,mult", [(0, 1, 1), (1, 2, 2), (0, 2, 1)])
def test_depthwise_hybrid(pad, stride, mult):
    rng = np.random.default_rng(stride * 5 + pad + mult)
    x = (rng.normal(size=(2, 9, 10, 4)) - 0.2).astype(np.float32)
    w = rng.integers(-127, 128, size=(1, 3, 3, 4 * mult)).astype(np.int8)
    ws = rng.uniform(0.001, 0.01, size=4 * mult)
    b = rng.normal(size=4 * mult).astype(np.float32)
    opts = dict(padding=pad, stride_h=stride, stride_w=stride, dilation_h_factor=1, dilation_w_factor=1,
                depth_multiplier=mult, fused_activation_function=1)
    ours, ref = both("DEPTHWISE_CONV_2D", [x, w, b], opts, constant_inputs=(1, 2),
                     input_quant=[None, q(ws, 3), None], output_dtypes=[np.float32], version=6)
    assert_exact(ours[0], ref[0])


def test_symmetric_quantization_hand_checked():
    qv, scale = symmetric_quantize_rows(np.array([[0.5, -1.27, 0.0], [0, 0, 0]], np.float32))
    np.testing.assert_array_equal(qv, [[50, -127, 0], [0, 0, 0]])
    np.testing.assert_allclose(scale, [0.01, 1.0], rtol=1e-6)


def test_asymmetric_quantization_hand_checked():
    # range [0, 2.55] -> scale 0.01, zero point -128
    qv, scale, zp = asymmetric_quantize_rows(np.array([[0.0, 1.0, 2.55]], np.float32))
    assert zp[0] == -128
    np.testing.assert_allclose(scale, [0.01], rtol=1e-6)
    np.testing.assert_array_equal(qv, [[-128, -28, 127]])


# -- UNIDIRECTIONAL_SEQUENCE_LSTM -------------------------------------------------------------

def lstm_model(rng, batch, steps, n_in, n_cell, asymmetric, layer_norm=False, cifg=False, peephole=False):
    from edgelite.ir import Model, Subgraph
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (batch, steps, n_in), np.float32)
    ins = [x]
    for k in range(8):  # input-to-gate then recurrent-to-gate weights, gates i, f, c, o
        if cifg and k in (0, 4):
            ins.append(-1)
            continue
        cols = n_in if k < 4 else n_cell
        w = rng.integers(-127, 128, size=(n_cell, cols)).astype(np.int8)
        ins.append(sg.add_constant(f"w{k}", w, quantization=q(rng.uniform(0.002, 0.02))))
    for k in range(3):  # peepholes i, f, o
        ins.append(sg.add_constant(f"p{k}", rng.integers(-127, 128, size=n_cell).astype(np.int8),
                                   quantization=q(0.003)) if peephole and not (cifg and k == 0) else -1)
    for k in range(4):
        ins.append(-1 if cifg and k == 0 else
                   sg.add_constant(f"b{k}", rng.normal(0, 0.5, size=n_cell).astype(np.float32)))
    ins += [-1, -1]
    ins.append(sg.add_tensor("h", (batch, n_cell), np.float32, is_variable=True))
    ins.append(sg.add_tensor("c", (batch, n_cell), np.float32, is_variable=True))
    for k in range(4):
        ins.append(sg.add_constant(f"ln{k}", rng.uniform(0.5, 1.5, size=n_cell).astype(np.float32))
                   if layer_norm and not (cifg and k == 0) else -1)
    out = sg.add_tensor("y", (batch, steps, n_cell), np.float32)
    sg.add_operator("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [out],
                    dict(fused_activation_function=4, cell_clip=3.0, time_major=False,
                         asymmetric_quantize_inputs=asymmetric), version=3)
    sg.inputs, sg.outputs = [x], [out]
    return Model(subgraphs=[sg])


def run_model(model, x, engine):
    if engine == "litert":
        interp = pytest.importorskip("ai_edge_litert.interpreter")
        it = interp.Interpreter(model_content=model.to_bytes(),
                                experimental_op_resolver_type=interp.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    else:
        from edgelite import Interpreter
        it = Interpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    outs = []
    for _ in range(2):  # twice: the states carry over
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs.append(np.array(it.get_tensor(it.get_output_details()[0]["index"])))
    return outs


@pytest.mark.parametrize("asymmetric", [True, False])
@pytest.mark.parametrize("variant", ["plain", "cifg", "peephole", "cifg_peephole"])
def test_sequence_lstm_hybrid_layer_norm(asymmetric, variant):
    rng = np.random.default_rng(5 + int(asymmetric))
    model = lstm_model(rng, batch=3, steps=5, n_in=10, n_cell=12, asymmetric=asymmetric, layer_norm=True,
                       cifg="cifg" in variant, peephole="peephole" in variant)
    x = rng.normal(size=(3, 5, 10)).astype(np.float32)
    x[2, 1] = 0
    ref = run_model(model, x, "litert")
    ours = run_model(model, x, "edgelite")
    for a, b in zip(ours, ref):
        assert_close(a, b)
    assert float(np.abs(ref[1]).max()) > 0.05


@pytest.mark.parametrize("asymmetric", [True, False])
def test_sequence_lstm_hybrid(asymmetric):
    interp = pytest.importorskip("ai_edge_litert.interpreter")
    from edgelite.kernels.base import Node, lookup
    from edgelite.kernels.hybrid import HybridLSTMMixin
    from edgelite.kernels.testing import spec_of
    from edgelite.reader import load_model
    rng = np.random.default_rng(int(asymmetric))
    model = lstm_model(rng, batch=2, steps=6, n_in=12, n_cell=16, asymmetric=asymmetric)
    x = rng.normal(size=(2, 6, 12)).astype(np.float32)
    x[1, 0] = 0  # a zero input row
    it = interp.Interpreter(model_content=model.to_bytes(),
                            experimental_op_resolver_type=interp.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    ref = it.get_tensor(it.get_output_details()[0]["index"])

    sg = load_model(model.to_bytes()).main
    op = sg.operators[0]
    node = Node(op=op, index=0, subgraph=sg)
    cls = lookup(node)
    assert issubclass(cls, HybridLSTMMixin)
    kernel = cls(node)
    specs = [None if i < 0 else spec_of(sg, i) for i in op.inputs]
    shapes = kernel.prepare(specs, [spec_of(sg, i) for i in op.outputs])
    arrays = [None if i < 0 else sg.tensors[i].data for i in op.inputs]
    arrays[0] = x
    arrays[18] = np.zeros((2, 16), np.float32)
    arrays[19] = np.zeros((2, 16), np.float32)
    out = np.zeros(shapes[0], np.float32)
    kernel.eval(arrays, [out])
    assert_close(out, ref)
    np.testing.assert_allclose(arrays[18], out[:, -1], rtol=0, atol=0)  # state written back


@pytest.mark.parametrize("asymmetric", [False, True])
@pytest.mark.parametrize("adj_y", [False, True])
def test_batch_matmul_hybrid(asymmetric, adj_y):
    rng = np.random.default_rng(int(asymmetric) + 2 * int(adj_y))
    a = (rng.normal(size=(1, 6, 5, 16)) + 0.3).astype(np.float32)
    b = rng.integers(-127, 128, size=(16, 7) if not adj_y else (7, 16)).astype(np.int8)
    opts = dict(adj_y=adj_y, asymmetric_quantize_inputs=asymmetric)
    ours, ref = both("BATCH_MATMUL", [a, b], opts, constant_inputs=(1,), input_quant=[None, q(0.013)],
                     output_dtypes=[np.float32], version=4)
    assert_exact(ours[0], ref[0])


# Several non-1 batch dimensions: LiteRT folds an rhs [..., 1, K, N] into the lhs rows, then pairs the
# rows' scaling factors / zero points with batches by its own (summed) offsets: reproduced exactly.
MULTI_BATCH_CASES = [((2, 3, 4, 5), (5, 6)), ((2, 3, 4, 5), (2, 3, 5, 6)), ((2, 3, 4, 5), (3, 5, 6)),
                     ((2, 3, 4, 5), (2, 1, 5, 6)), ((2, 3, 4, 4, 5), (5, 6)), ((2, 3, 4, 4, 5), (1, 3, 1, 5, 6)),
                     ((4, 5), (3, 2, 5, 6)), ((2, 1, 4, 5), (1, 3, 5, 6)), ((2, 2, 2, 3, 5), (2, 2, 2, 5, 4))]


@pytest.mark.parametrize("asymmetric", [False, True])
@pytest.mark.parametrize("case", range(len(MULTI_BATCH_CASES)))
def test_batch_matmul_hybrid_several_batch_dimensions(case, asymmetric):
    ashape, bshape = MULTI_BATCH_CASES[case]
    rng = np.random.default_rng(case)
    a = (rng.normal(size=ashape) * rng.uniform(0.1, 3, size=ashape[:-1] + (1,))).astype(np.float32)
    b = rng.integers(-127, 128, size=bshape).astype(np.int8)
    ours, ref = both("BATCH_MATMUL", [a, b], dict(asymmetric_quantize_inputs=asymmetric), constant_inputs=(1,),
                     input_quant=[None, q(0.013)], output_dtypes=[np.float32], version=4)
    assert_exact(ours[0], ref[0])


def test_batch_matmul_hybrid_refuses_column_sums_litert_never_computes():
    a = np.ones((2, 3, 4, 4, 5), np.float32)
    b = np.ones((2, 1, 4, 5, 6), np.int8)
    with pytest.raises(ValueError, match="never computes"):
        run_op("BATCH_MATMUL", [a, b], dict(asymmetric_quantize_inputs=True), constant_inputs=(1,),
               input_quant=[None, q(0.01)], output_dtypes=[np.float32], version=4)


def test_asymmetric_scale_uses_a_float32_range():
    # max - min = 1 + 7e-8 is 1.0 in float32, but not in double: LiteRT's x86 kernels
    # subtract in float32, and the scale differs in the last bit from the double version
    rows = np.array([[-7e-8, 0.5, 1.0]], np.float32)
    _, scale, _ = asymmetric_quantize_rows(rows)
    width = np.float32(rows.max() - rows.min())
    assert scale[0] == np.float32(float(width) / 255.0)
    assert scale[0] != np.float32((float(rows.max()) - float(rows.min())) / 255.0)


def test_hybrid_fully_connected_exact_where_the_range_rounds():
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(21)
    x = rng.uniform(0, 1, size=(4, 32)).astype(np.float32)
    x[:, 0], x[:, 1] = -7e-8, 1.0  # every row: float32 width 1.0, double width 1 + 7e-8
    w = rng.integers(-127, 128, size=(6, 32)).astype(np.int8)
    ours, ref = both("FULLY_CONNECTED", [x, w, None], dict(asymmetric_quantize_inputs=True), constant_inputs=(1,),
                     input_quant=[None, q(0.01), None], output_dtypes=[np.float32], version=12)
    assert_exact(ours[0], ref[0])

"""Float ops feeding hybrid ops reproduce LiteRT bit for bit (edgelite/kernels/exact_float.py).

Each case is a two-op model: the float op under test, then a hybrid FULLY_CONNECTED
that quantizes its output on the fly. The float op's own output (an intermediate
tensor) and the hybrid result must equal LiteRT's exactly.
"""
import numpy as np
import pytest

import edgelite
from edgelite.ir import Model, Quantization, Subgraph
from edgelite.kernels import conv, exact_float, image, lookup
from edgelite.kernels.base import Node
from edgelite.kernels.testing import single_op_model

RNG = np.random.default_rng(7)


def floats(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def float_then_hybrid(opcode, inputs, options, data_input, out_shape, units=5) -> Model:
    """``opcode`` on ``inputs`` (only ``data_input`` is a model input, the rest constants),
    its output feeding a hybrid FULLY_CONNECTED with int8 weights."""
    sg = Subgraph(name="main")
    idx = []
    for k, x in enumerate(inputs):
        if x is None:
            idx.append(-1)
        elif k == data_input:
            idx.append(sg.add_tensor("x", x.shape, x.dtype))
        else:
            idx.append(sg.add_constant(f"c{k}", x))
    mid = sg.add_tensor("mid", out_shape, np.float32)
    sg.add_operator(opcode, idx, [mid], options, version=1)
    depth = out_shape[-1]
    w = sg.add_constant("w", RNG.integers(-127, 128, (units, depth)).astype(np.int8),
                        quantization=Quantization(scale=np.array([0.02], np.float32),
                                                  zero_point=np.zeros(1, np.int64)))
    out = sg.add_tensor("y", (int(np.prod(out_shape[:-1])), units), np.float32)
    sg.add_operator("FULLY_CONNECTED", [mid, w, -1], [out],
                    {"fused_activation_function": 0, "weights_format": 0, "keep_num_dims": False,
                     "asymmetric_quantize_inputs": True}, version=12)
    sg.inputs, sg.outputs = [idx[data_input]], [out]
    return Model(subgraphs=[sg])


def run_both(model: Model, x: np.ndarray):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    content = model.to_bytes()
    results = []
    for it in (Interpreter(model_content=content, experimental_preserve_all_tensors=True,
                           experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES),
               edgelite.Interpreter(model_content=content, experimental_preserve_all_tensors=True)):
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        mid = model.main.operators[0].outputs[0]
        results.append((it.get_tensor(mid).copy(), it.get_tensor(it.get_output_details()[0]["index"]).copy()))
    return results


def assert_bit_exact(model, x):
    pytest.importorskip("ai_edge_litert")
    (ref_mid, ref_out), (mid, out) = run_both(model, x)
    assert np.array_equal(ref_mid, mid), f"float op: {int(np.sum(ref_mid != mid))} of {mid.size} values differ"
    assert np.array_equal(ref_out, out), f"hybrid op: {int(np.sum(ref_out != out))} values differ"


def conv_options(stride=1, padding=0, act=0, **extra):
    return {"padding": padding, "stride_w": stride, "stride_h": stride, "fused_activation_function": act,
            "dilation_w_factor": 1, "dilation_h_factor": 1, **extra}


@pytest.mark.parametrize("x_shape, w_shape, stride, act", [
    ((1, 20, 18, 3), (8, 3, 3, 3), 2, 3),   # GEMM summed in depth order
    ((2, 9, 9, 6), (7, 1, 1, 6), 1, 1),     # pointwise, two batches
    ((1, 1, 1, 18), (7, 1, 1, 18), 1, 0),   # one output row: 4-lane GEMV, 2 left over
    ((1, 6, 7, 5), (1, 3, 3, 5), 1, 0),     # one output channel: 4-lane GEMV, 1 left over
    ((1, 5, 7, 9), (14, 3, 3, 9), 1, 0),    # channels 8-11 even/odd k, 12-13 four accumulators
    ((1, 2, 3, 2), (5, 1, 1, 2), 1, 0),     # M + O + K < 20: Eigen's coefficient-based product
])
def test_conv2d_feeding_hybrid(x_shape, w_shape, stride, act):
    x, w, b = floats(*x_shape, scale=2.0), floats(*w_shape), floats(w_shape[0])
    n, h, wd, _ = x_shape
    oh, ow = -(-h // stride), -(-wd // stride)
    model = float_then_hybrid("CONV_2D", [x, w, b], conv_options(stride, act=act), 0, (n, oh, ow, w_shape[0]))
    # the LiteRT-order kernel, or its compiled twin (same order, kernels/fast/exact_float_conv.py)
    assert issubclass(lookup(Node(model.main.operators[0], 0, model.main)), exact_float.ExactOrderConv2D)
    assert_bit_exact(model, x)


@pytest.mark.parametrize("stride, multiplier", [(1, 1), (2, 2)])
def test_depthwise_feeding_hybrid(stride, multiplier):
    x = floats(1, 11, 10, 4, scale=2.0)
    w, b = floats(1, 3, 3, 4 * multiplier), floats(4 * multiplier)
    out_shape = (1, -(-11 // stride), -(-10 // stride), 4 * multiplier)
    model = float_then_hybrid("DEPTHWISE_CONV_2D", [x, w, b],
                              conv_options(stride, act=3, depth_multiplier=multiplier), 0, out_shape)
    # the regular kernel already sums in LiteRT's order: no hybrid-only variant
    # the LiteRT-order kernel itself, or its compiled twin (same order, kernels/fast)
    assert issubclass(lookup(Node(model.main.operators[0], 0, model.main)), conv.DepthwiseConv2D)
    assert_bit_exact(model, x)


@pytest.mark.parametrize("batch, out_c", [(1, 4), (2, 3)])
def test_transpose_conv_feeding_hybrid(batch, out_c):
    x, w, b = floats(batch, 6, 5, 6), floats(out_c, 3, 3, 6), floats(out_c)
    shape = np.array([batch, 12, 10, out_c], np.int32)
    options = {"padding": 0, "stride_w": 2, "stride_h": 2, "fused_activation_function": 0}
    model = float_then_hybrid("TRANSPOSE_CONV", [shape, w, x, b], options, 2, tuple(shape))
    assert lookup(Node(model.main.operators[0], 0, model.main)) is exact_float.ExactOrderTransposeConv
    assert_bit_exact(model, x)


@pytest.mark.parametrize("align_corners, half_pixel, size", [
    (False, True, (11, 13)), (True, False, (11, 13)), (False, False, (11, 13)),
    (False, False, (10, 14)),  # exact 2x: LiteRT's ResizeBilinear2x2 path
])
def test_resize_bilinear_feeding_hybrid(align_corners, half_pixel, size):
    x = floats(1, 5, 7, 3)
    model = float_then_hybrid("RESIZE_BILINEAR", [x, np.array(size, np.int32)],
                              {"align_corners": align_corners, "half_pixel_centers": half_pixel}, 0, (1, *size, 3))
    assert lookup(Node(model.main.operators[0], 0, model.main)) is image.ResizeBilinear
    assert_bit_exact(model, x)


def test_pure_float_models_keep_the_blas_kernels():
    model = single_op_model("CONV_2D", [floats(1, 8, 8, 3), floats(4, 3, 3, 3), floats(4)], conv_options(),
                            constant_inputs=(1, 2))
    # the BLAS kernel, or its compiled-im2col twin (kernels/fast/float_conv.py: the same BLAS call)
    picked = lookup(Node(model.main.operators[0], 0, model.main))
    assert issubclass(picked, conv.Conv2D) and not issubclass(picked, exact_float.ExactOrderConv2D)


def test_summation_orders():
    a = np.array([[1e8, 1.0, -1e8, 1.0, 3.0]], np.float32)
    b = np.ones((1, 5), np.float32)
    # GEMV lanes: (1e8 + -1e8) + (1 + 1) = 2, then the left-over 3
    assert exact_float.lane_dot(a, b)[0, 0] == 5.0
    # in order: 1e8 + 1 rounds back to 1e8, - 1e8 = 0, + 1 + 3 = 4
    assert exact_float.grouped_dot(a.T.copy(), b.T.copy(), 1, 5)[0, 0] == 4.0
    # two accumulators (even k: 1e8, -1e8; odd k: 1, 1) over the first 4, then + 3
    assert exact_float.grouped_dot(a.T.copy(), b.T.copy(), 2, 4)[0, 0] == 5.0

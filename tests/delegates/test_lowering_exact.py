"""int8 MEAN lowers to LiteRT's own integer arithmetic: ONNX Runtime's result equals edgelite's
(bit-exact with LiteRT) on random data, for both of LiteRT's MEAN paths."""
import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

import edgelite  # noqa: E402
from edgelite.export_onnx import export_onnx  # noqa: E402
from edgelite.ir import Model, Quantization, Subgraph  # noqa: E402


@pytest.mark.parametrize("shape,axes,keep", [((1, 7, 9, 40), [1, 2], True),    # the 4-D spatial path
                                             ((2, 24, 64), [-1], True),          # reference path
                                             ((1, 24, 33), [1], False),
                                             ((1, 5, 6, 20), [1, 2], False)])
@pytest.mark.parametrize("qlinear", [True, False])
def test_int8_mean_is_exact(shape, axes, keep, qlinear):
    sg = Subgraph(name="m")
    x = sg.add_tensor("x", shape, np.int8, quantization=Quantization([0.0213], [-7]))
    a = sg.add_constant("axes", np.array(axes, np.int32))
    out_shape = list(shape)
    for ax in sorted({ax % len(shape) for ax in axes}, reverse=True):
        if keep:
            out_shape[ax] = 1
        else:
            del out_shape[ax]
    y = sg.add_tensor("y", out_shape, np.int8, quantization=Quantization([0.00871], [3]))
    sg.add_operator("MEAN", [x, a], [y], {"keep_dims": keep})
    sg.inputs, sg.outputs = [x], [y]
    model = Model(subgraphs=[sg])
    rng = np.random.default_rng(len(shape) * 7 + axes[0])
    sess = ort.InferenceSession(export_onnx(model, qlinear=qlinear).SerializeToString(),
                                providers=["CPUExecutionProvider"])
    it = edgelite.Interpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    for _ in range(3):
        xv = rng.integers(-128, 128, shape).astype(np.int8)
        it.set_tensor(0, xv)
        it.invoke()
        np.testing.assert_array_equal(sess.run(None, {sess.get_inputs()[0].name: xv})[0], it.get_tensor(y))

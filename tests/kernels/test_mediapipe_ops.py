"""MediaPipe's custom ops (edgelite/kernels/mediapipe): hand-checked cases on tiny models built
with our writer, Convolution2DTransposeBias against LiteRT's TRANSPOSE_CONV + bias, and the real
MediaPipe models of ../shared/realmodels."""
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.errors import ModelError
from edgelite.ir import Model, Subgraph
from edgelite.schema import tensor_type_of

F32 = np.float32
REALMODELS = Path(os.environ.get("EDGELITE_REALMODELS",
                                 Path(__file__).resolve().parents[2].parent / "shared" / "realmodels"))
SAME, VALID = 1, 2  # TfLitePadding


def flex(options: dict) -> bytes:
    from flatbuffers import flexbuffers
    return bytes(flexbuffers.Dumps(options))


def conv_params(padding: int, stride_w: int, stride_h: int) -> bytes:
    """TfLiteTransposeConvParams as MediaPipe's converter writes it."""
    return struct.pack("<3i", padding, stride_w, stride_h)


def pool_params(padding: int, stride_w: int, stride_h: int, filter_w: int, filter_h: int,
                activation: int = 0) -> bytes:
    """TfLitePoolParams: 6 int32 fields and the computed padding (4 int32, zero)."""
    return struct.pack("<10i", padding, stride_w, stride_h, filter_w, filter_h, activation, 0, 0, 0, 0)


def custom_model(code: str, inputs: list, custom_options: bytes | None, *, version: int = 1,
                 num_outputs: int = 1, constant_inputs: tuple = (), output_shapes: list | None = None) -> Model:
    sg = Subgraph(name="main")
    idx = []
    for i, x in enumerate(inputs):
        x = np.asarray(x)
        idx.append(sg.add_tensor(f"in{i}", x.shape, tensor_type_of(x.dtype),
                                 data=np.ascontiguousarray(x) if i in constant_inputs else None))
    shapes = output_shapes or [()] * num_outputs
    outs = [sg.add_tensor(f"out{j}", shapes[j], tensor_type_of(np.float32)) for j in range(num_outputs)]
    sg.add_operator("CUSTOM", idx, outs, custom_code=code, custom_options=custom_options, version=version)
    sg.inputs = [t for i, t in enumerate(idx) if i not in constant_inputs]
    sg.outputs = outs
    return Model(subgraphs=[sg])


def run_custom(code: str, inputs: list, custom_options: bytes | None, **kw) -> list[np.ndarray]:
    """Write the one-op model to .tflite bytes, load it in edgelite's Interpreter and run it."""
    model = custom_model(code, inputs, custom_options, **kw)
    it = Interpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    feed = [np.asarray(x) for i, x in enumerate(inputs) if i not in kw.get("constant_inputs", ())]
    for d, x in zip(it.get_input_details(), feed):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [np.array(it.get_tensor(d["index"])) for d in it.get_output_details()]


# -- Convolution2DTransposeBias -----------------------------------------------------------------
def transpose_conv_bias(x, w, b, padding, stride, const=(1, 2)):
    return run_custom("Convolution2DTransposeBias", [x, w, b], conv_params(padding, stride[1], stride[0]),
                      constant_inputs=const)[0]


def test_transpose_conv_bias_stride2_by_hand():
    x = np.array([1, 2, 3, 4], F32).reshape(1, 2, 2, 1)
    w = np.array([1, 10, 100, 1000], F32).reshape(1, 2, 2, 1)
    out = transpose_conv_bias(x, w, np.array([0.5], F32), SAME, (2, 2))
    # SAME with a 2x2 kernel and stride 2: no padding, each input pixel writes its own 2x2 block
    expected = np.array([[1, 10, 2, 20], [100, 1000, 200, 2000],
                         [3, 30, 4, 40], [300, 3000, 400, 4000]], F32) + 0.5
    assert out.shape == (1, 4, 4, 1)
    np.testing.assert_array_equal(out[0, :, :, 0], expected)


def test_transpose_conv_bias_same_stride1_is_a_box_sum():
    x = np.arange(9, dtype=F32).reshape(1, 3, 3, 1)
    w = np.ones((2, 3, 3, 1), F32)
    w[1] *= 2  # second output channel: twice the first
    out = transpose_conv_bias(x, w, np.array([0, -1], F32), SAME, (1, 1))
    # padding max(0, 3 - 0 - 1) = 2, one on each side: output 3x3, the 3x3 neighbourhood sum
    padded = np.pad(x[0, :, :, 0], 1)
    box = np.array([[padded[i:i + 3, j:j + 3].sum() for j in range(3)] for i in range(3)], F32)
    assert out.shape == (1, 3, 3, 2)
    np.testing.assert_array_equal(out[0, :, :, 0], box)
    np.testing.assert_array_equal(out[0, :, :, 1], 2 * box - 1)


def test_transpose_conv_bias_valid_size():
    x = np.ones((1, 3, 2, 1), F32)
    w = np.ones((1, 3, 3, 1), F32)
    out = transpose_conv_bias(x, w, np.zeros(1, F32), VALID, (2, 2))
    # VALID: stride * (in - 1) + k, no cropping; overlaps where windows meet
    assert out.shape == (1, 2 * 2 + 3, 2 * 1 + 3, 1)
    assert out[0, 2, 2, 0] == 4 and out[0, 0, 0, 0] == 1 and out[0, 1, 2, 0] == 2


def test_transpose_conv_bias_runtime_weights():
    """Weights and bias that are graph inputs (not constants) give the same result."""
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(1, 4, 4, 3)).astype(F32), rng.normal(size=(2, 3, 3, 3)).astype(F32), \
        rng.normal(size=2).astype(F32)
    a = transpose_conv_bias(x, w, b, SAME, (2, 2))
    c = transpose_conv_bias(x, w, b, SAME, (2, 2), const=())
    np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape,kernel,stride,padding", [
    ((1, 5, 7, 3), (4, 2, 2), (2, 2), SAME),
    ((2, 6, 5, 4), (3, 3, 3), (2, 2), SAME),
    ((1, 4, 4, 8), (5, 4, 4), (2, 3), SAME),
    ((1, 3, 5, 2), (2, 3, 2), (1, 2), VALID),
    ((1, 9, 9, 16), (1, 2, 2), (2, 2), SAME),  # the selfie segmentation layer, smaller
])
def test_transpose_conv_bias_equals_litert_transpose_conv(shape, kernel, stride, padding):
    pytest.importorskip("ai_edge_litert")
    from edgelite.kernels.testing import run_op_litert
    rng = np.random.default_rng(sum(shape))
    out_c, k_h, k_w = kernel
    x = rng.normal(size=shape).astype(F32)
    w = rng.normal(size=(out_c, k_h, k_w, shape[3])).astype(F32)
    b = rng.normal(size=out_c).astype(F32)
    ours = transpose_conv_bias(x, w, b, padding, stride)
    out_shape = np.array(ours.shape, np.int32)
    ref = run_op_litert("TRANSPOSE_CONV", [out_shape, w, x, b],
                        {"padding": 0 if padding == SAME else 1, "stride_h": stride[0], "stride_w": stride[1]},
                        constant_inputs=(0, 1, 3), output_dtypes=[F32], version=3)[0]
    assert ref.shape == ours.shape
    scale = max(1.0, float(np.abs(ref).max()))
    assert np.abs(ours - ref).max() <= 1e-5 * scale


def test_transpose_conv_bias_bad_input():
    x, w = np.ones((1, 2, 2, 3), F32), np.ones((1, 2, 2, 2), F32)
    with pytest.raises(ModelError, match="depth"):
        transpose_conv_bias(x, w, np.zeros(1, F32), SAME, (2, 2))
    with pytest.raises(ModelError, match="TfLiteTransposeConvParams"):
        run_custom("Convolution2DTransposeBias", [x, np.ones((1, 2, 2, 3), F32), np.zeros(1, F32)],
                   b"\x01\x00\x00\x00", constant_inputs=(1, 2))
    with pytest.raises(ModelError, match="bias"):
        transpose_conv_bias(x, np.ones((1, 2, 2, 3), F32), np.zeros(2, F32), SAME, (2, 2))


# -- MaxPoolingWithArgmax2D / MaxUnpooling2D ------------------------------------------------------
def max_pool_argmax(x, options):
    return run_custom("MaxPoolingWithArgmax2D", [x], options, num_outputs=2)


def test_max_pool_argmax_by_hand():
    x = np.array([[1, 5, 2, 2],
                  [3, 5, 7, 0],
                  [-1, -2, 4, 4],
                  [-3, -4, 4, 1]], F32).reshape(1, 4, 4, 1)
    out, idx = max_pool_argmax(x, pool_params(VALID, 2, 2, 2, 2))
    np.testing.assert_array_equal(out[0, :, :, 0], [[5, 7], [-1, 4]])
    # position in the window (ky * 2 + kx) + 0.1; ties keep the first in row-major order
    np.testing.assert_array_equal(idx[0, :, :, 0], np.array([[1, 2], [0, 0]], F32) + F32(0.1))
    assert idx.dtype == np.float32


def test_max_pool_argmax_same_padding_never_picks_the_border():
    x = -np.arange(1, 10, dtype=F32).reshape(1, 3, 3, 1)  # all negative: a zero border would win
    out, idx = max_pool_argmax(x, pool_params(SAME, 2, 2, 2, 2))
    # out 2x2, padding ((2-1)*2 + 2 - 3) / 2 = 0: the last row/column windows are clipped
    np.testing.assert_array_equal(out[0, :, :, 0], [[-1, -3], [-7, -9]])
    np.testing.assert_array_equal(idx[0, :, :, 0], np.full((2, 2), 0.1, F32))


def test_max_pool_argmax_relu_and_channels():
    x = np.stack([np.array([[-5, -1], [-2, -3]], F32), np.array([[1, 2], [8, 3]], F32)], -1)[None]
    out, idx = max_pool_argmax(x, pool_params(VALID, 1, 1, 2, 2, activation=1))  # RELU
    np.testing.assert_array_equal(out.reshape(-1), [0, 8])  # -1 clamped to 0
    np.testing.assert_array_equal(idx.reshape(-1), np.array([1, 2], F32) + F32(0.1))


def test_max_pool_argmax_window_larger_than_input():
    out, idx = max_pool_argmax(np.ones((1, 2, 2, 3), F32), pool_params(VALID, 1, 1, 3, 3))
    assert out.shape == idx.shape == (1, 0, 0, 3)


def test_max_unpooling_inverts_the_pool():
    rng = np.random.default_rng(3)
    x = rng.permutation(64).astype(F32).reshape(1, 4, 4, 4)
    pooled, idx = max_pool_argmax(x, pool_params(SAME, 2, 2, 2, 2))
    out, = run_custom("MaxUnpooling2D", [pooled, idx], pool_params(SAME, 2, 2, 2, 2))
    assert out.shape == x.shape
    expected = np.where(x == np.repeat(np.repeat(pooled, 2, 1), 2, 2), x, 0)  # maxima in place
    np.testing.assert_array_equal(out, expected)


def test_max_unpooling_by_hand_and_last_write_wins():
    values = np.array([7, 9], F32).reshape(1, 1, 2, 1)
    # stride 1 with a 2-wide window: input x=0 window covers out x 0..1, input x=1 covers 1..2
    indices = np.array([1.1, 0.1], F32).reshape(1, 1, 2, 1)  # both pick output column 1
    out, = run_custom("MaxUnpooling2D", [values, indices], pool_params(SAME, 1, 1, 2, 1))
    # out 1x4; padding ((2-1)*1 + 2 - 4) / 2 -> 0
    np.testing.assert_array_equal(out.reshape(-1), [0, 9, 0, 0])  # the later input (9) wins


def test_max_unpooling_index_outside_output():
    with pytest.raises(ModelError, match="outside"):
        run_custom("MaxUnpooling2D", [np.ones((1, 1, 1, 1), F32), np.full((1, 1, 1, 1), 7.1, F32)],
                   pool_params(SAME, 2, 2, 2, 2))


# -- TransformTensorBilinear ------------------------------------------------------------------------
def ramp_image(h, w, c):
    """x[y, x, ch] = 10 y + x + 100 ch: bilinear interpolation of it is exact."""
    y, x, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    return (10 * y + x + 100 * ch).astype(F32)[None]


def matrix(rows) -> np.ndarray:
    m = np.eye(4, dtype=F32)
    m[:2] = np.asarray(rows, F32)
    return m[None]


def test_transform_tensor_bilinear_v2_aligns_pixel_centres():
    img = ramp_image(6, 6, 2)
    m = matrix([[2, 0, 0, 0], [0, 2, 0, 0]])  # a 2x downscale
    out, = run_custom("TransformTensorBilinear", [img, m], flex({"output_height": 3, "output_width": 3}),
                      version=2, output_shapes=[(1, 3, 3, 2)])
    # v2 samples (2 ox + 0.5, 2 oy + 0.5): the centre of each 2x2 block
    oy, ox = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    np.testing.assert_allclose(out[0, :, :, 0], 10 * (2 * oy + 0.5) + 2 * ox + 0.5, rtol=0, atol=1e-5)
    np.testing.assert_allclose(out[0, :, :, 1], out[0, :, :, 0] + 100, rtol=0, atol=1e-5)


def test_transform_tensor_bilinear_v1_samples_corners():
    img = ramp_image(6, 6, 1)
    m = matrix([[2, 0, 0, 0.25], [0, 2, 0, 1]])
    out, = run_custom("TransformTensorBilinear", [img, m], flex({"mode": "bilinear", "output_size": [4, 3]}),
                      version=1, output_shapes=[(1, 4, 3, 1)])
    oy, ox = np.meshgrid(np.arange(4), np.arange(3), indexing="ij")
    sx, sy = 2 * ox + 0.25, 2 * oy + 1  # no half-pixel shift in v1
    inside = sy <= 5  # rows sample y = 1, 3, 5 (inside) and 7 (outside: zeros)
    assert not inside.all()
    np.testing.assert_allclose(out[0, :, :, 0], np.where(inside, 10 * sy + sx, 0), atol=1e-5)
    same, = run_custom("TransformTensor", [img, m], flex({"output_size": [4, 3]}),
                       output_shapes=[(1, 4, 3, 1)])  # v1's own custom code
    np.testing.assert_array_equal(same, out)


def test_transform_tensor_bilinear_outside_is_zero_and_edge_neighbour_reads_zero():
    img = ramp_image(3, 3, 1) + 1
    m = matrix([[1, 0, 0, 1.5], [0, 1, 0, 0]])
    out, = run_custom("TransformTensorBilinear", [img, m], flex({"output_size": [1, 3]}),
                      output_shapes=[(1, 1, 3, 1)])
    # x = 1.5 (between columns 1 and 2), 2.5 (outside: > W - 1), 3.5 (outside)
    np.testing.assert_allclose(out.reshape(-1), [1 + 1.5, 0, 0], atol=1e-6)
    m = matrix([[1, 0, 0, 2], [0, 1, 0, 0]])
    out, = run_custom("TransformTensorBilinear", [img, m], flex({"output_size": [1, 1]}),
                      output_shapes=[(1, 1, 1, 1)])
    assert out.reshape(-1)[0] == 3  # x = W - 1 exactly: its right neighbour (outside) has weight 0


def test_transform_tensor_bilinear_options_disagree_with_output():
    img, m = ramp_image(4, 4, 1), matrix([[1, 0, 0, 0], [0, 1, 0, 0]])
    with pytest.raises(ModelError, match="output size"):
        run_custom("TransformTensorBilinear", [img, m], flex({"output_height": 2, "output_width": 2}),
                   version=2, output_shapes=[(1, 3, 3, 1)])
    with pytest.raises(ModelError, match="bilinear"):
        run_custom("TransformTensorBilinear", [img, m], flex({"mode": "nearest", "output_size": [2, 2]}),
                   output_shapes=[(1, 2, 2, 1)])


# -- TransformLandmarks -------------------------------------------------------------------------------
def test_transform_landmarks_v2_rotates_translates_and_copies_z():
    pts = np.array([[[1, 2, 7], [3, -1, 8]]], F32)
    m = matrix([[0, -1, 0, 10], [1, 0, 0, 20]])  # 90 degrees, then (+10, +20)
    out, = run_custom("TransformLandmarks", [pts, m], None, version=2)
    np.testing.assert_array_equal(out, [[[10 - 2, 20 + 1, 7], [10 + 1, 20 + 3, 8]]])
    out2, = run_custom("TransformLandmarks", [pts[:, :, :2], m], None, version=2)
    np.testing.assert_array_equal(out2, out[:, :, :2])


def test_transform_landmarks_v1_scale_multiplies_translation():
    pts = np.array([1, 2, 3, 4], F32).reshape(1, 1, 1, 4)  # two 2-D landmarks at one position
    m = matrix([[2, 0, 0, 1], [0, 3, 0, -1]])
    out, = run_custom("TransformLandmarks", [pts, m], flex({"dimensions": 2, "scale": 4.0}), version=1)
    np.testing.assert_array_equal(out.reshape(-1), [2 + 4, 6 - 4, 6 + 4, 12 - 4])
    with pytest.raises(ModelError, match="multiple"):
        run_custom("TransformLandmarks", [np.ones((1, 1, 1, 5), F32), m], flex({"dimensions": 2}))


def test_unknown_version_has_no_kernel():
    from edgelite.runtime.executor import UnsupportedOpsError
    pts, m = np.ones((1, 2, 2), F32), matrix([[1, 0, 0, 0], [0, 1, 0, 0]])
    with pytest.raises(UnsupportedOpsError, match="TransformLandmarks"):
        run_custom("TransformLandmarks", [pts, m], None, version=3)


# -- Landmarks2TransformMatrix ------------------------------------------------------------------------
def landmarks(points: dict, count: int = 8) -> np.ndarray:
    lm = np.zeros((1, count, 3), F32)
    for i, (x, y) in points.items():
        lm[0, i, :2] = (x, y)
        lm[0, i, 2] = 99.0  # z plays no part
    return lm


V2_OPTIONS = {"left_rotation_idx": 0, "right_rotation_idx": 1, "subset_idxs": [2, 3, 4, 5],
              "target_rotation_radians": 0.0, "output_height": 16, "output_width": 16,
              "scale_x": 1.5, "scale_y": 1.5}


def test_landmarks_to_transform_matrix_v2_axis_aligned():
    lm = landmarks({0: (0, 0), 1: (10, 0), 2: (2, 4), 3: (8, 10), 4: (5, 5), 5: (3, 9)})
    out, = run_custom("Landmarks2TransformMatrix", [lm], flex(V2_OPTIONS), version=2)
    # crop: box x 2..8, y 4..10 -> centre (5, 7), size 6x6; scale 1.5 * 6 / 16 = 0.5625
    s = 1.5 * 6 / 16
    expected = np.array([[s, 0, 0, 5 - 8 * s], [0, s, 0, 7 - 8 * s], [0, 0, 1, 0], [0, 0, 0, 1]], F32)
    np.testing.assert_allclose(out[0], expected, atol=1e-6)


def test_landmarks_to_transform_matrix_v2_rotated_face():
    # the left->right line points down (+y): rotation = 0 - pi/2; the crop is turned to match
    lm = landmarks({0: (0, 0), 1: (0, 10), 2: (2, 4), 3: (8, 10), 4: (5, 5), 5: (3, 9)})
    out, = run_custom("Landmarks2TransformMatrix", [lm], flex(V2_OPTIONS), version=2)
    m = out[0].astype(np.float64)
    centre = m @ [8, 8, 0, 1]
    np.testing.assert_allclose(centre[:2], [5, 7], atol=1e-5)  # crop centre -> box centre
    step_x = m @ [9, 8, 0, 1] - centre
    np.testing.assert_allclose(step_x[:2], [0, 1.5 * 6 / 16], atol=1e-6)  # +x in the crop is +y
    opts = dict(V2_OPTIONS, target_rotation_radians=float(np.pi / 2))  # asking for that rotation
    out, = run_custom("Landmarks2TransformMatrix", [lm], flex(opts), version=2)
    np.testing.assert_allclose(out[0, :2, :2], np.eye(2) * 1.5 * 6 / 16, atol=1e-6)


def test_landmarks_to_transform_matrix_v1_maps_crop_corners_to_box():
    lm = landmarks({0: (0, 0), 1: (10, 0), 2: (20, 30), 3: (60, 50), 4: (40, 40)}, count=6).reshape(1, 1, 1, -1)
    opts = {"dimensions": 3, "landmarks_range": 100, "bbox_size_multiplier": 1.0, "left_rotation_idx": 0,
            "right_rotation_idx": 1, "input_hw": [101, 101], "output_hw": [11, 11], "subset": [2, 3, 4]}
    out, = run_custom("Landmarks2TransformMatrix", [lm], flex(opts), version=1)
    m = out[0].astype(np.float64)
    np.testing.assert_allclose((m @ [0, 0, 0, 1])[:2], [20, 30], atol=1e-4)   # top-left -> box min
    np.testing.assert_allclose((m @ [10, 10, 0, 1])[:2], [60, 50], atol=1e-4)  # bottom-right -> box max
    np.testing.assert_array_equal(m[3], [0, 0, 0, 1])


def test_landmarks_to_transform_matrix_bad_options():
    lm = landmarks({0: (0, 0), 1: (10, 0)})
    with pytest.raises(ModelError, match="out of range"):
        run_custom("Landmarks2TransformMatrix", [lm], flex(dict(V2_OPTIONS, subset_idxs=[2, 30])), version=2)
    with pytest.raises(ModelError, match="output_width"):
        run_custom("Landmarks2TransformMatrix", [lm], flex(dict(V2_OPTIONS, output_width=0)), version=2)
    with pytest.raises(ModelError, match="(?i)flexbuffer"):
        run_custom("Landmarks2TransformMatrix", [lm], b"\x01\x02\x03", version=2)


# -- the real MediaPipe models -----------------------------------------------------------------------
def realmodel(name: str):
    if not (REALMODELS / "manifest.json").exists():
        pytest.skip(f"realmodels not found at {REALMODELS}")
    entry = json.loads((REALMODELS / "manifest.json").read_text())[name]
    return REALMODELS / entry["file"], np.load(REALMODELS / f"{name}.npz"), entry


def run_model(path, x) -> dict:
    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return {d["name"]: np.array(it.get_tensor(d["index"])) for d in it.get_output_details()}


def test_selfie_segmentation_matches_rewrite_reference():
    path, data, entry = realmodel("mp_selfie_segmentation")
    assert entry["oracle"] == "rewrite"
    out, = run_model(path, data["input_0"]).values()
    ref = data["ref_0"]
    assert out.shape == ref.shape
    assert np.abs(out - ref).max() <= entry["float_tolerance"] * max(1.0, float(np.abs(ref).max()))


def face_crop(image: np.ndarray, top: float, left: float, size: float, out: int = 192) -> np.ndarray:
    """Bilinear resample of the square at (top, left) of side ``size`` to out x out (pixel centres)."""
    c = (np.arange(out) + 0.5) * size / out - 0.5
    ys = np.clip(top + c, 0, image.shape[0] - 1)
    xs = np.clip(left + c, 0, image.shape[1] - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, image.shape[0] - 1), np.minimum(x0 + 1, image.shape[1] - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top_row = image[y0][:, x0] * (1 - wx) + image[y0][:, x1] * wx
    bottom_row = image[y1][:, x0] * (1 - wx) + image[y1][:, x1] * wx
    return (top_row * (1 - wy) + bottom_row * wy).astype(F32)[None]


def refined_mesh(path, x):
    """The attention model's 468 mesh landmarks (x, y in input pixels) with the lips and eye
    contours replaced by its refined outputs, as MediaPipe's graph assembles them. The mesh
    indices each refined output replaces are the ``subset_idxs`` of the Landmarks2TransformMatrix
    that crops that region."""
    from edgelite.reader import load_model
    from flatbuffers import flexbuffers
    sg = load_model(str(path)).main
    crops = [op for op in sg.operators if op.name == "Landmarks2TransformMatrix"]
    regions = [np.array(flexbuffers.GetRoot(bytes(op.custom_options)).Value["subset_idxs"]) for op in crops]
    out = run_model(path, x)
    for v in out.values():
        assert np.isfinite(v).all()
    mesh = out["output_mesh_identity"].reshape(468, 3)[:, :2].copy()
    parts = {}
    for name, idx in zip(("output_lips", "output_left_eye", "output_right_eye"), regions):
        points = out[name].reshape(-1, 2)
        assert points.shape[0] == idx.size
        mesh[idx] = points
        parts[name] = idx
    return mesh, parts, out


def test_face_mesh_with_attention_agrees_with_plain_face_mesh():
    """On a face crop cut from the stored astronaut photo, the attention model's refined mesh
    agrees with the plain face mesh model. Measured: all 468 landmarks max 5.9 px, mean 2.1 px;
    lips mean 1.1 px, eye contours mean 1.7 / 2.2 px (192x192 input pixels)."""
    path, data, _ = realmodel("mp_face_landmark_with_attention")
    plain_path, plain_data, _ = realmodel("mp_face_landmark")
    assert np.array_equal(data["input_0"], plain_data["input_0"])
    crop = face_crop(data["input_0"][0], top=10, left=35, size=80)
    mesh, parts, out = refined_mesh(path, crop)
    plain = run_model(plain_path, crop)
    assert out["conv_faceflag"].item() > 0 and plain["conv2d_31"].item() > 0  # both see a face
    ref = plain["conv2d_21"].reshape(468, 3)[:, :2]
    dist = np.linalg.norm(mesh - ref, axis=1)
    assert dist.max() < 8.0 and dist.mean() < 3.0, (dist.max(), dist.mean())
    for name, idx in parts.items():
        d = dist[idx]
        assert d.mean() < (2.0 if name == "output_lips" else 3.0), (name, d.max(), d.mean())
    for side in ("left", "right"):  # each iris centre lies inside its eye contour's box
        iris = out[f"output_{side}_iris"].reshape(5, 2)[0]
        eye = mesh[parts[f"output_{side}_eye"]]
        assert (eye.min(0) < iris).all() and (iris < eye.max(0)).all()


def test_face_mesh_with_attention_on_the_stored_input():
    """The stored input_0 is the whole photo (the face fills a small part, faceflag logits are
    negative for both models): the models still agree loosely. Measured: max 13.2 px, mean 6.3 px."""
    path, data, _ = realmodel("mp_face_landmark_with_attention")
    _, plain_data, _ = realmodel("mp_face_landmark")
    mesh, _, _ = refined_mesh(path, data["input_0"])
    ref = plain_data["ref_0"].reshape(468, 3)[:, :2]
    dist = np.linalg.norm(mesh - ref, axis=1)
    assert dist.max() < 16.0 and dist.mean() < 8.0, (dist.max(), dist.mean())

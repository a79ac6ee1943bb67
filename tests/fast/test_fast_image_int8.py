"""Compiled 8-bit RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR (kernels/fast/int8_image.py) and 8-bit
SOFTMAX (kernels/fast/int8_softmax.py): the reference tier's bits on random cases."""
import zlib

import numpy as np
import pytest

pytest.importorskip("numba")

from edgelite.ir import Quantization
from edgelite.kernels.base import Node, lookup
from edgelite.kernels.testing import single_op_model

from test_fast_tier import both  # noqa: E402

pytestmark = pytest.mark.fast


def picked(opcode, inputs, options, **kw):
    model = single_op_model(opcode, inputs, options, **kw)
    sg = model.main
    return lookup(Node(op=sg.operators[0], index=0, subgraph=sg)).__name__


def quant(scale, zp):
    return Quantization(scale=np.array([scale], np.float32), zero_point=np.array([zp], np.int64))


def random_bytes(rng, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, shape).astype(dtype)


FLAGS = [(False, False), (True, False), (False, True)]


@pytest.mark.parametrize("opcode", ["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
@pytest.mark.parametrize("align_corners,half_pixel", FLAGS)
def test_resize_matches_reference(monkeypatch, opcode, dtype, align_corners, half_pixel):
    rng = np.random.default_rng(zlib.crc32(repr((opcode, np.dtype(dtype).str, align_corners, half_pixel)).encode()))
    options = {"align_corners": align_corners, "half_pixel_centers": half_pixel}
    expected = "Fast" + ("ResizeBilinear" if opcode == "RESIZE_BILINEAR" else "ResizeNearestNeighbor")
    for _ in range(6):
        n, h, w, c = int(rng.integers(1, 3)), *(int(v) for v in rng.integers(1, 9, 2)), int(rng.integers(1, 20))
        size = np.array([int(rng.integers(1, 3 * h + 2)), int(rng.integers(1, 3 * w + 2))], np.int32)
        x = random_bytes(rng, (n, h, w, c), dtype)
        q = [quant(0.05, 3), None]
        kw = {"constant_inputs": (1,), "input_quant": q, "output_quant": [quant(0.05, 3)]}
        assert picked(opcode, [x, size], options, **kw) == expected
        ref, got = both(monkeypatch, opcode, [x, size], options, **kw)
        assert ref[0].shape == (n, *size, c) and ref[0].dtype == got[0].dtype
        assert ref[0].tobytes() == got[0].tobytes(), (x.shape, size, options)


def test_resize_bilinear_upsampling_twice_int8(monkeypatch):
    """The unet case: exact 2x upsampling, no flags (the fixed-point path for int8, float for uint8)."""
    rng = np.random.default_rng(7)
    for dtype in (np.int8, np.uint8):
        x = random_bytes(rng, (1, 16, 16, 32), dtype)
        size = np.array([32, 32], np.int32)
        kw = dict(constant_inputs=(1,), input_quant=[quant(0.1, 0), None], output_quant=[quant(0.1, 0)])
        ref, got = both(monkeypatch, "RESIZE_BILINEAR", [x, size], {}, **kw)
        assert ref[0].tobytes() == got[0].tobytes()


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_softmax_matches_reference(monkeypatch, dtype):
    rng = np.random.default_rng(11 if dtype == np.int8 else 12)
    zp_out = -128 if dtype == np.int8 else 0
    for depth in (1, 2, 3, 7, 8, 10, 33, 1001):
        for beta in (1.0, 0.5, 2.7):
            rows = int(rng.integers(1, 40))
            x = random_bytes(rng, (rows, depth), dtype)
            kw = dict(input_quant=[quant(float(rng.uniform(0.01, 0.5)), int(rng.integers(-5, 5)) % 128)],
                      output_quant=[quant(1 / 256, zp_out)])
            assert picked("SOFTMAX", [x], {"beta": beta}, **kw) == "FastQuantizedSoftmax"
            ref, got = both(monkeypatch, "SOFTMAX", [x], {"beta": beta}, **kw)
            assert ref[0].dtype == got[0].dtype == np.dtype(dtype)
            assert ref[0].tobytes() == got[0].tobytes(), (depth, beta)


def test_softmax_4d_and_odd_output_scale(monkeypatch):
    """A segmentation head's shape, and an output scale that makes values round and clamp."""
    rng = np.random.default_rng(3)
    x = random_bytes(rng, (1, 12, 12, 5), np.int8)
    kw = dict(input_quant=[quant(0.2, -10)], output_quant=[quant(1 / 300, -128)])
    ref, got = both(monkeypatch, "SOFTMAX", [x], {"beta": 1.0}, **kw)
    assert ref[0].tobytes() == got[0].tobytes()
    assert (ref[0] == 127).any()  # some values clamp at the top


def test_int16_softmax_stays_with_reference():
    x = np.zeros((2, 4), np.int16)
    kw = dict(input_quant=[quant(0.01, 0)], output_quant=[quant(1 / 32768, 0)])
    assert picked("SOFTMAX", [x], {"beta": 1.0}, **kw) == "QuantizedSoftmax"  # the reference (its int16 LUT kernel), not the compiled one


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
def test_max_pool_matches_reference(monkeypatch, dtype):
    """Compiled integer MAX_POOL_2D (kernels/fast/int8_pool.py): windows over SAME / VALID padding,
    strides, fused activations."""
    rng = np.random.default_rng(21)
    for _ in range(12):
        h, w, c = int(rng.integers(1, 12)), int(rng.integers(1, 40)), int(rng.integers(1, 20))
        kh, kw = int(rng.integers(1, min(h, 4) + 1)), int(rng.integers(1, min(w, 5) + 1))
        options = {"padding": int(rng.integers(0, 2)), "stride_h": int(rng.integers(1, 3)),
                   "stride_w": int(rng.integers(1, 4)), "filter_height": kh, "filter_width": kw,
                   "fused_activation_function": int(rng.choice([0, 1, 3]))}
        x = random_bytes(rng, (int(rng.integers(1, 3)), h, w, c), dtype)
        zp = 0 if dtype == np.int16 else 5
        kw_ = {"input_quant": [quant(0.02, zp)], "output_quant": [quant(0.02, zp)]}
        assert picked("MAX_POOL_2D", [x], options, **kw_) == "FastQuantizedMaxPool"
        ref, got = both(monkeypatch, "MAX_POOL_2D", [x], options, **kw_)
        assert ref[0].dtype == got[0].dtype and ref[0].tobytes() == got[0].tobytes(), options


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_dequantize_matches_reference(monkeypatch, dtype):
    """Compiled 8-bit DEQUANTIZE (kernels/fast/int8_dequantize.py): SIMD blocks and the tail."""
    rng = np.random.default_rng(5)
    for size in (1, 7, 8, 9, 17, 1000, 46083):
        x = random_bytes(rng, (size,), dtype)
        scale, zp = float(rng.uniform(1e-4, 2.0)), int(rng.integers(-128, 128)) % (256 if dtype == np.uint8 else 128)
        kw = {"input_quant": [quant(scale, zp)], "output_dtypes": [np.float32]}
        assert picked("DEQUANTIZE", [x], {}, **kw) == "FastDequantize"
        ref, got = both(monkeypatch, "DEQUANTIZE", [x], {}, **kw)
        assert ref[0].dtype == got[0].dtype == np.float32
        assert ref[0].tobytes() == got[0].tobytes(), (size, scale, zp)

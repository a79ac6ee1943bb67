"""MediaPipe's attention-mesh ops: TransformTensorBilinear, TransformLandmarks, Landmarks2TransformMatrix.

Semantics follow ``mediapipe/util/tflite/operations/{transform_tensor_bilinear,
transform_landmarks,landmarks_to_transform_matrix}.cc`` (the CPU kernels) with the option
parsers of LiteRT's ``delegates/gpu/common/mediapipe``. Options are flexbuffers maps. Each op
has two versions, told apart by the operator code's version. All are float32 only.

The arithmetic keeps MediaPipe's precisions: float32 where the C++ computes in ``float``,
float64 where a ``double`` literal promotes the expression (``1.0 - contrib`` in the
bilinear blend, the align-corners shift), and matrix products summed term by term in
float32 in the C++ loop order.

* **TransformTensorBilinear** (``TransformTensor`` is v1's own custom code): samples
  ``input [1,H,W,C]`` at ``(x, y) = M[0:2] @ (out_x, out_y, 0, 1)`` for every output pixel
  with bilinear interpolation (neighbours outside the input read 0; a sample point outside
  ``[0, W-1] x [0, H-1]`` gives 0). ``M`` is the first two rows of a 4x4 matrix input. v2
  (options ``output_height``, ``output_width``) aligns pixel centres: its translation
  becomes ``M[:, 3] + 0.5 * (M[:, 0] + M[:, 1]) - 0.5``; v1 (options ``mode`` = "bilinear",
  ``output_size`` = [h, w]) does not.
* **TransformLandmarks**: maps each landmark's ``(x, y)`` through the same two matrix rows;
  a third coordinate (z) is copied. v1: input ``[1, H, W, C]`` holding ``C / dimensions``
  landmarks per position, options ``dimensions`` (2 or 3, default 3) and ``scale``
  (multiplies the translation, default 1). v2: input ``[1, N, D]``, no options, D = 2 or 3.
* **Landmarks2TransformMatrix**: estimates from a face mesh the 4x4 matrix that maps a crop's
  pixel grid into the mesh's pixel space (the input of TransformTensorBilinear). v2: the
  rotation is ``target_rotation_radians - atan2`` of the line from landmark
  ``left_rotation_idx`` to ``right_rotation_idx``; the crop is the rotated bounding box of the
  landmarks in ``subset_idxs`` (pairs), scaled by ``scale_x``/``scale_y`` and mapped onto an
  ``output_width x output_height`` grid. v1 (options ``dimensions``, ``landmarks_range``,
  ``bbox_size_multiplier``, ``left_rotation_idx``, ``right_rotation_idx``, ``input_hw``,
  ``output_hw``, ``subset``) builds the inverse transform of a [-1, 1] crop in 3x3 form
  (MediaPipe's v1 formula) and writes it into a 4x4 output.
"""
from __future__ import annotations

import numpy as np

from ..base import Kernel, register
from .conv_pool import require_float32
from .options import flex_float, flex_int, flex_ints, flex_map

F32 = np.float32
ZERO, ONE = F32(0.0), F32(1.0)


def ordered_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float32 ``a @ b`` summed as MediaPipe's Mat3/Mat4 loops do: ``sum = 0; sum += a[r,k]*b[k,c]``."""
    out = np.zeros((a.shape[0], b.shape[1]), F32)
    for k in range(a.shape[1]):
        out = out + np.multiply.outer(a[:, k], b[k, :]).astype(F32)
    return out


def rotation3(r: np.float32) -> np.ndarray:
    c, s = np.cos(r), np.sin(r)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], F32)


def transform_rows(matrix: np.ndarray, kernel: Kernel) -> tuple[np.ndarray, np.ndarray]:
    """The first two rows (x and y) of a row-major 4x4 transform."""
    m = np.asarray(matrix, F32).reshape(-1)
    if m.size < 8:
        raise kernel.fail(f"transform matrix has {m.size} elements, needs a 4x4 matrix")
    return m[0:4].copy(), m[4:8].copy()


def dot4_xy1(row: np.ndarray, x, y) -> np.ndarray:
    """MediaPipe's float4 DotProduct(row, (x, y, 0, 1)), evaluated left to right in float32."""
    return ((row[0] * x + row[1] * y) + row[2] * ZERO) + row[3] * ONE


def _require_matrix_input(kernel: Kernel, spec) -> None:
    if spec.size < 8:
        raise kernel.fail(f"transform matrix input has shape {list(spec.shape)}, needs [1, 4, 4]")


# -- TransformTensorBilinear -----------------------------------------------------------------
class _TransformTensorBilinear(Kernel):
    align_corners = False
    option_size: tuple[int, int] | None = None  # (h, w) from the options

    def prepare(self, inputs, outputs):
        if len(inputs) != 2 or any(x is None for x in inputs) or len(outputs) != 1:
            raise self.fail("needs inputs (input, transform matrix) and one output")
        require_float32(self, [*inputs, outputs[0]], "input, transform matrix, output")
        x = inputs[0]
        if len(x.shape) != 4 or x.shape[0] != 1:
            raise self.fail(f"input must be [1, H, W, C], got {list(x.shape)}")
        _require_matrix_input(self, inputs[1])
        declared = tuple(outputs[0].shape)
        # MediaPipe's CPU kernel keeps the model's output shape; the options say the same size.
        if len(declared) == 4 and min(declared) > 0:
            if self.option_size is not None and tuple(declared[1:3]) != self.option_size:
                raise self.fail(f"output shape {list(declared)} disagrees with the options' "
                                f"output size {list(self.option_size)}")
            if declared[0] != 1 or declared[3] != x.shape[3]:
                raise self.fail(f"output shape {list(declared)} must be [1, h, w, {x.shape[3]}]")
            out_h, out_w = declared[1:3]
        elif self.option_size is not None:
            out_h, out_w = self.option_size
        else:
            raise self.fail("neither the output tensor nor the options give the output size")
        if out_h < 1 or out_w < 1:
            raise self.fail(f"output size {out_h}x{out_w} is empty")
        self.out_shape = (1, out_h, out_w, x.shape[3])
        oy, ox = np.meshgrid(np.arange(out_h, dtype=F32), np.arange(out_w, dtype=F32), indexing="ij")
        self.grid = (ox.reshape(-1), oy.reshape(-1))
        return [self.out_shape]

    def eval(self, inputs, outputs):
        x, matrix = inputs
        _, h, w, c = x.shape
        xt, yt = transform_rows(matrix, self)
        if self.align_corners:
            for row in (xt, yt):
                row[3] = F32(np.float64(row[3]) + (np.float64(row[0]) * 0.5 + np.float64(row[1]) * 0.5 - 0.5))
        ox, oy = self.grid
        tx, ty = dot4_xy1(xt, ox, oy), dot4_xy1(yt, ox, oy)
        inside = (tx >= 0) & (tx <= F32(w - 1)) & (ty >= 0) & (ty <= F32(h - 1))  # NaN is outside
        fx = np.floor(np.where(inside, tx, ZERO))
        fy = np.floor(np.where(inside, ty, ZERO))
        x0, y0 = fx.astype(np.int64), fy.astype(np.int64)
        padded = np.zeros((h + 1, w + 1, c), F32)  # the right and bottom neighbours may fall outside
        padded[:h, :w] = x[0]
        q11, q21 = padded[y0, x0], padded[y0, x0 + 1]
        q12, q22 = padded[y0 + 1, x0], padded[y0 + 1, x0 + 1]
        right = (np.where(inside, tx, ZERO) - fx)[:, None]
        lower_w = (np.where(inside, ty, ZERO) - fy)[:, None]
        right64, lower64 = right.astype(np.float64), lower_w.astype(np.float64)
        upper = ((1.0 - right64) * q11 + (right * q21).astype(np.float64)).astype(F32)
        lower = ((1.0 - right64) * q12 + (right * q22).astype(np.float64)).astype(F32)
        result = ((lower_w * lower).astype(np.float64) + (1.0 - lower64) * upper).astype(F32)
        result[~inside] = 0.0
        return [result.reshape(self.out_shape)]


@register("TransformTensorBilinear", kind="any", versions=range(1, 2))
@register("TransformTensor", kind="any")
class TransformTensorBilinearV1(_TransformTensorBilinear):
    """v1: options ``mode`` ("bilinear") and ``output_size`` [h, w]; no align-corners shift."""

    def __init__(self, node):
        super().__init__(node)
        opts = flex_map(self, required=False)
        mode = opts.get("mode", "bilinear")
        if mode != "bilinear":
            raise self.fail(f"mode {mode!r} is not supported: only 'bilinear' interpolation exists")
        if "output_size" in opts:
            size = flex_ints(self, opts, "output_size")
            if len(size) < 2:
                raise self.fail(f"output_size must be [height, width], got {size}")
            self.option_size = (size[0], size[1])


@register("TransformTensorBilinear", kind="any", versions=range(2, 3))
class TransformTensorBilinearV2(_TransformTensorBilinear):
    """v2: options ``output_height``, ``output_width``; pixel centres aligned."""

    align_corners = True

    def __init__(self, node):
        super().__init__(node)
        opts = flex_map(self, required=False)
        if "output_height" in opts or "output_width" in opts:
            self.option_size = (flex_int(self, opts, "output_height", 0), flex_int(self, opts, "output_width", 0))


# -- TransformLandmarks ----------------------------------------------------------------------
class _TransformLandmarks(Kernel):
    dims = 3
    scale = ONE

    def check_dims(self, dims: int) -> int:
        if dims not in (2, 3):
            raise self.fail(f"landmarks must have 2 or 3 dimensions, got {dims}")
        return dims

    def prepare(self, inputs, outputs):
        if len(inputs) != 2 or any(x is None for x in inputs) or len(outputs) != 1:
            raise self.fail("needs inputs (landmarks, transform matrix) and one output")
        require_float32(self, [*inputs, outputs[0]], "landmarks, transform matrix, output")
        _require_matrix_input(self, inputs[1])
        self.landmarks_shape = self.check_landmarks(tuple(inputs[0].shape))
        return [self.landmarks_shape]

    def eval(self, inputs, outputs):
        points, matrix = inputs
        xt, yt = transform_rows(matrix, self)
        xt[3] = xt[3] * self.scale
        yt[3] = yt[3] * self.scale
        p = np.asarray(points, F32).reshape(-1, self.dims)
        out = p.copy()  # z (when present) is copied
        out[:, 0] = dot4_xy1(xt, p[:, 0], p[:, 1])
        out[:, 1] = dot4_xy1(yt, p[:, 0], p[:, 1])
        return [out.reshape(self.landmarks_shape)]


@register("TransformLandmarks", kind="any", versions=range(1, 2))
class TransformLandmarksV1(_TransformLandmarks):
    """v1: landmarks [1, H, W, C] (C = k * dimensions); options ``dimensions``, ``scale``."""

    def __init__(self, node):
        super().__init__(node)
        opts = flex_map(self, required=False)
        self.dims = self.check_dims(flex_int(self, opts, "dimensions", 3))
        self.scale = F32(flex_float(self, opts, "scale", 1.0))
        if self.scale == 0:
            raise self.fail("scale must not be 0")

    def check_landmarks(self, shape):
        if len(shape) != 4 or shape[0] != 1:
            raise self.fail(f"landmarks must be [1, H, W, C], got {list(shape)}")
        if shape[3] % self.dims:
            raise self.fail(f"landmark channels {shape[3]} are not a multiple of dimensions {self.dims}")
        return shape


@register("TransformLandmarks", kind="any", versions=range(2, 3))
class TransformLandmarksV2(_TransformLandmarks):
    """v2: landmarks [1, N, D] with D = 2 or 3; no options."""

    def check_landmarks(self, shape):
        if len(shape) != 3 or shape[0] != 1:
            raise self.fail(f"landmarks must be [1, N, D], got {list(shape)}")
        self.dims = self.check_dims(shape[2])
        return shape


# -- Landmarks2TransformMatrix ---------------------------------------------------------------
def subset_pairs(kernel: Kernel, flat: list[int]) -> list[int]:
    """Landmark indices of a flat pair list; an odd last entry pairs with itself (MediaPipe)."""
    if not flat:
        raise kernel.fail("the landmark subset is empty")
    if any(i < 0 for i in flat):
        raise kernel.fail(f"the landmark subset has a negative index: {min(flat)}")
    return flat + flat[-1:] if len(flat) % 2 else flat


class _Landmarks2TransformMatrix(Kernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 1 or inputs[0] is None or len(outputs) != 1:
            raise self.fail("needs one input (landmarks) and one output")
        require_float32(self, [inputs[0], outputs[0]], "landmarks, output")
        self.check_input(tuple(inputs[0].shape))
        count = inputs[0].size // 3
        largest = max(self.indices())
        if largest >= count:
            raise self.fail(f"landmark index {largest} is out of range: the input holds {count} "
                            f"landmarks of 3 values")
        return [(1, 4, 4)]

    def landmarks(self, x) -> np.ndarray:
        return np.asarray(x, F32).reshape(-1)[:(x.size // 3) * 3].reshape(-1, 3)

    def check_rotation_indices(self) -> None:
        """``left_rotation_idx`` and ``right_rotation_idx`` (``self.left``, ``self.right``) >= 0."""
        for name, v in (("left_rotation_idx", self.left), ("right_rotation_idx", self.right)):
            if v < 0:
                raise self.fail(f"{name} must be >= 0, got {v}")

    def indices(self):
        """The landmarks read: the two rotation ones and the subset."""
        return [self.left, self.right, *self.subset]


@register("Landmarks2TransformMatrix", kind="any", versions=range(2, 3))
class Landmarks2TransformMatrixV2(_Landmarks2TransformMatrix):
    """v2: landmarks [1, N, 3] -> [1, 4, 4]."""

    def __init__(self, node):
        super().__init__(node)
        opts = flex_map(self)
        self.subset = subset_pairs(self, flex_ints(self, opts, "subset_idxs"))
        self.left = flex_int(self, opts, "left_rotation_idx", 0)
        self.right = flex_int(self, opts, "right_rotation_idx", 0)
        self.target_rotation = F32(flex_float(self, opts, "target_rotation_radians", 0.0))
        self.out_h = flex_int(self, opts, "output_height", 0)
        self.out_w = flex_int(self, opts, "output_width", 0)
        self.scale_x = F32(flex_float(self, opts, "scale_x", 0.0))
        self.scale_y = F32(flex_float(self, opts, "scale_y", 0.0))
        self.check_rotation_indices()
        for name, v in (("output_height", self.out_h), ("output_width", self.out_w),
                        ("scale_x", self.scale_x), ("scale_y", self.scale_y)):
            if not v > 0:
                raise self.fail(f"{name} must be > 0, got {v}")

    def check_input(self, shape):
        if len(shape) != 3:
            raise self.fail(f"landmarks must be 3-D [1, N, 3], got {list(shape)}")

    def eval(self, inputs, outputs):
        lm = self.landmarks(inputs[0])
        left, right = lm[self.left], lm[self.right]
        rotation = self.target_rotation - np.arctan2(right[1] - left[1], right[0] - left[0])
        pts = lm[self.subset].copy()
        pts[:, 2] = ONE
        rot = rotation3(rotation)
        rotated = ordered_matmul(rot, pts.T).T
        first = rotated[0]
        # MediaPipe starts from the first point and replaces only on a strict comparison
        hi_x, hi_y = (first[k] if np.isnan(first[k]) else np.nanmax(rotated[:, k]) for k in (0, 1))
        lo_x, lo_y = (first[k] if np.isnan(first[k]) else np.nanmin(rotated[:, k]) for k in (0, 1))
        crop_w, crop_h = hi_x - lo_x, hi_y - lo_y
        centre = np.array([(lo_x + hi_x) / F32(2), (lo_y + hi_y) / F32(2), first[2]], F32)
        centre = ordered_matmul(rotation3(-rotation), centre[:, None])[:, 0]
        r = -rotation
        c, s = np.cos(r), np.sin(r)
        scale_x = self.scale_x * crop_w / F32(self.out_w)
        scale_y = self.scale_y * crop_h / F32(self.out_h)
        shift_x, shift_y = F32(-1.0 * (self.out_w / 2.0)), F32(-1.0 * (self.out_h / 2.0))
        t = np.eye(4, dtype=F32)
        for step in (
            [[1, 0, 0, centre[0]], [0, 1, 0, centre[1]], [0, 0, 1, 0], [0, 0, 0, 1]],
            [[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
            [[scale_x, 0, 0, 0], [0, scale_y, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
            [[1, 0, 0, shift_x], [0, 1, 0, shift_y], [0, 0, 1, 0], [0, 0, 0, 1]],
        ):
            t = ordered_matmul(t, np.array(step, F32))
        return [t.reshape(1, 4, 4)]


@register("Landmarks2TransformMatrix", kind="any", versions=range(1, 2))
class Landmarks2TransformMatrixV1(_Landmarks2TransformMatrix):
    """v1: landmarks [1, 1, 1, 3N] -> [1, 4, 4]."""

    def __init__(self, node):
        super().__init__(node)
        opts = flex_map(self)
        self.dimensions = flex_int(self, opts, "dimensions", 0)
        self.range = flex_int(self, opts, "landmarks_range", 0)
        self.multiplier = F32(flex_float(self, opts, "bbox_size_multiplier", 0.0))
        self.left = flex_int(self, opts, "left_rotation_idx", 0)
        self.right = flex_int(self, opts, "right_rotation_idx", 0)
        hw = {}
        for key in ("input_hw", "output_hw"):
            v = flex_ints(self, opts, key)
            if len(v) < 2 or v[0] <= 0 or v[1] <= 0:
                raise self.fail(f"{key} must be two positive sizes [h, w], got {v}")
            hw[key] = v[:2]
        self.input_hw, self.output_hw = hw["input_hw"], hw["output_hw"]
        self.subset = subset_pairs(self, flex_ints(self, opts, "subset"))
        if self.multiplier == 0:
            raise self.fail("bbox_size_multiplier must not be 0")
        if self.dimensions != 3:
            raise self.fail(f"dimensions must be 3, got {self.dimensions}")
        if self.range <= 0:
            raise self.fail(f"landmarks_range must be > 0, got {self.range}")
        self.check_rotation_indices()

    def check_input(self, shape):
        if len(shape) != 4 or shape[:3] != (1, 1, 1):
            raise self.fail(f"landmarks must be [1, 1, 1, 3N], got {list(shape)}")

    def eval(self, inputs, outputs):
        lm = self.landmarks(inputs[0])
        left, right = lm[self.left], lm[self.right]
        alpha = -np.arctan((right[1] - left[1]) / (right[0] - left[0]))
        ca, sa = np.cos(alpha), np.sin(alpha)
        pts = lm[self.subset]
        rx = pts[:, 0] * ca - pts[:, 1] * sa
        ry = pts[:, 0] * sa + pts[:, 1] * ca
        # std::max / std::min from +-100000 ignore NaN
        hi_x, hi_y = (np.fmax.reduce(np.append(F32(-100000), v)) for v in (rx, ry))
        lo_x, lo_y = (np.fmin.reduce(np.append(F32(100000), v)) for v in (rx, ry))
        rng = F32(self.range)
        scale = np.array([[(hi_x - lo_x) * self.multiplier / rng, 0, 0],
                          [0, (hi_y - lo_y) * self.multiplier / rng, 0], [0, 0, 1]], F32)
        mid_x = F32(np.float64(F32(hi_x + lo_x)) / 2.0)  # float sum, double halving
        mid_y = F32(np.float64(F32(hi_y + lo_y)) / 2.0)
        cn, sn = np.cos(-alpha), np.sin(-alpha)
        rmx, rmy = mid_x * cn - mid_y * sn, mid_x * sn + mid_y * cn
        rotation = np.array([[cn, -sn, np.float64(rmx / rng) * 2.0 - 1.0],
                             [sn, cn, np.float64(rmy / rng) * 2.0 - 1.0], [0, 0, 1]], F32)
        (in_h, in_w), (out_h, out_w) = self.input_hw, self.output_hw
        to_relative = np.array([[2.0 / (out_w - 1.0), 0, -1], [0, 2.0 / (out_h - 1.0), -1], [0, 0, 1]], F32)
        to_absolute = np.array([[(in_w - 1.0) / 2.0, 0, (in_w - 1.0) / 2.0],
                                [0, (in_h - 1.0) / 2.0, (in_h - 1.0) / 2.0], [0, 0, 1]], F32)
        itm = ordered_matmul(ordered_matmul(ordered_matmul(to_absolute, rotation), scale), to_relative)
        out = np.array([itm[0, 0], itm[0, 1], 0, itm[0, 2],
                        itm[1, 0], itm[1, 1], 0, itm[1, 2],
                        itm[2, 0], itm[2, 1], itm[2, 2], 0,
                        0, 0, 0, 1], F32)
        return [out.reshape(1, 4, 4)]

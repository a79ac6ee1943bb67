"""Crops by affine warp (MediaPipe's ``ImageToTensorCalculator``) and projections back.

A crop is a rotated rectangle of the image (in pixels) whose corners map to the corners of the
model's input tensor, as the OpenCV converter does (``cv::boxPoints`` to the tensor's corners,
``warpPerspective`` with bilinear sampling): tensor pixel ``(u, v)`` samples the image at
``M @ (u / W, v / H, 1)``, where ``M`` is ``GetRotatedSubRectToRectTransformMatrix``, with
OpenCV's fixed-point interpolation (1/32-pixel positions, 15-bit weights, uint8 result). Pixels
outside the image are zero (``BORDER_ZERO``) or the nearest edge pixel (``BORDER_REPLICATE``,
MediaPipe's default, which the landmark models use). The uint8 values are then mapped linearly
onto the tensor's float range.

With ``keep_aspect_ratio`` the rectangle first grows to the tensor's aspect ratio (``PadRoi``),
so the image is letterboxed. Landmarks normalized to the crop go back to the image with the
same rectangle (``LandmarkProjectionCalculator``); masks with the inverse warp.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..processor.image import rgb_view
from .roi import NormalizedRect


@dataclasses.dataclass
class Crop:
    """A model input cut from an image and the rectangle (in pixels) it came from."""

    tensor: np.ndarray  # (1, H, W, 3) float32
    center_x: float
    center_y: float
    width: float
    height: float
    rotation: float
    image_width: int
    image_height: int

    def matrix(self) -> np.ndarray:
        """3x3: crop-normalized ``(s, t, 1)`` -> image pixel ``(x, y, 1)``."""
        c, d = math.cos(self.rotation), math.sin(self.rotation)
        a, b = self.width, self.height
        return np.array([[a * c, -b * d, -0.5 * a * c + 0.5 * b * d + self.center_x],
                         [a * d, b * c, -0.5 * b * c - 0.5 * a * d + self.center_y],
                         [0.0, 0.0, 1.0]], dtype=np.float64)

    def rect(self) -> NormalizedRect:
        """The (padded) crop rectangle normalized to the image."""
        return NormalizedRect(self.center_x / self.image_width, self.center_y / self.image_height,
                              self.width / self.image_width, self.height / self.image_height,
                              self.rotation)

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """``(N, 2+)`` crop-normalized x, y -> image-normalized x, y (other columns kept)."""
        points = np.asarray(points, dtype=np.float64)
        out = points.copy()
        xy = points[:, :2] @ self.matrix()[:2, :2].T + self.matrix()[:2, 2]
        out[:, 0] = xy[:, 0] / self.image_width
        out[:, 1] = xy[:, 1] / self.image_height
        return out


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A uint8 (H, W, 3) RGB view of a gray, RGB or RGBA image."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"images must be uint8, got {image.dtype}")
    rgb = rgb_view(image)
    if rgb is None:
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got {image.shape}")
    return rgb


def bilinear_sample(image: np.ndarray, x: np.ndarray, y: np.ndarray,
                    border_replicate: bool = False) -> np.ndarray:
    """Sample an (H, W[, C]) array at pixel coordinates (pixel centers at integers), in float32."""
    h, w = image.shape[:2]
    flat = image.reshape(h * w, -1).astype(np.float32, copy=False)
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0).astype(np.float32), (y - y0).astype(np.float32)
    xs = np.stack([x0, x0 + 1]).astype(np.int32)
    ys = np.stack([y0, y0 + 1]).astype(np.int32)
    wx, wy = np.stack([1 - fx, fx]), np.stack([1 - fy, fy])
    if not border_replicate:  # a neighbour outside the array weighs nothing (reads as 0)
        wx = wx * ((xs >= 0) & (xs < w))
        wy = wy * ((ys >= 0) & (ys < h))
    xs = np.clip(xs, 0, w - 1)
    rows = np.clip(ys, 0, h - 1) * w
    out = np.zeros(x.shape + (flat.shape[1],), dtype=np.float32)
    for i in range(2):
        for j in range(2):
            out += flat[rows[i] + xs[j]] * (wy[i] * wx[j])[..., None]
    return out if image.ndim == 3 else out[..., 0]


def crop_to_tensor(image: np.ndarray, rect: NormalizedRect | None, out_width: int,
                   out_height: int, keep_aspect_ratio: bool, value_range: tuple[float, float],
                   border_replicate: bool = False) -> Crop:
    """Cut ``rect`` (the whole image when None) out of ``image`` into a (1, H, W, 3) tensor."""
    image = as_rgb(image)
    ih, iw = image.shape[:2]
    if rect is None:
        cx, cy, rw, rh, rotation = 0.5 * iw, 0.5 * ih, float(iw), float(ih), 0.0
    else:
        cx, cy = rect.x_center * iw, rect.y_center * ih
        rw, rh, rotation = rect.width * iw, rect.height * ih, rect.rotation
    if not (rw > 0 and rh > 0):
        raise ValueError(f"the region of interest is empty ({rw:.1f} x {rh:.1f} pixels)")
    if keep_aspect_ratio:
        tensor_ratio = out_height / out_width
        if tensor_ratio > rh / rw:
            rh = rw * tensor_ratio
        else:
            rw = rh / tensor_ratio
    crop = Crop(np.empty(0), cx, cy, rw, rh, rotation, iw, ih)
    v, u = np.meshgrid(np.arange(out_height, dtype=np.float64) / out_height,
                       np.arange(out_width, dtype=np.float64) / out_width, indexing="ij")
    m = crop.matrix()
    src_x = m[0, 0] * u + m[0, 1] * v + m[0, 2]
    src_y = m[1, 0] * u + m[1, 1] * v + m[1, 2]
    pixels = remap_bilinear_uint8(image, src_x, src_y, border_replicate)
    low, high = (np.float32(v) for v in value_range)
    scale = (high - low) / np.float32(255.0)
    crop.tensor = (pixels.astype(np.float32) * scale + low).astype(np.float32)[None]
    return crop


def remap_bilinear_uint8(image: np.ndarray, x: np.ndarray, y: np.ndarray,
                         border_replicate: bool = False) -> np.ndarray:
    """Bilinear uint8 sampling with OpenCV's fixed point (``warpAffine``/``remap``, INTER_LINEAR).

    Coordinates are rounded to 1/32 pixel; the four weights are products of those fractions in
    units of 2^-15 (exact integers), and the weighted sum is rounded back to uint8. Outside the
    image a neighbour is 0 (constant border) or the nearest edge pixel (replicate).
    """
    h, w = image.shape[:2]
    flat = image.reshape(h * w, -1)
    fixed_x = np.rint(x * 32.0).astype(np.int32)
    fixed_y = np.rint(y * 32.0).astype(np.int32)
    xs = np.stack([fixed_x >> 5, (fixed_x >> 5) + 1])
    ys = np.stack([fixed_y >> 5, (fixed_y >> 5) + 1])
    wx = np.stack([32 - (fixed_x & 31), fixed_x & 31])
    wy = np.stack([32 - (fixed_y & 31), fixed_y & 31])
    if not border_replicate:  # a neighbour outside the image weighs nothing (reads as 0)
        wx = wx * ((xs >= 0) & (xs < w))
        wy = wy * ((ys >= 0) & (ys < h))
    xs = np.clip(xs, 0, w - 1)
    rows = np.clip(ys, 0, h - 1) * w
    total = np.zeros(x.shape + (flat.shape[1],), dtype=np.int32)  # at most 255 * 2^15
    for i in range(2):
        for j in range(2):
            weight = (wy[i] * wx[j]) << 5  # in units of 2^-15
            total += flat[rows[i] + xs[j]] * weight[..., None]
    return np.clip((total + (1 << 14)) >> 15, 0, 255).astype(np.uint8)


def mask_to_image(mask: np.ndarray, crop: Crop) -> np.ndarray:
    """Warp a crop-sized (h, w) mask back onto the whole image (zero outside the crop)."""
    mask = np.asarray(mask, dtype=np.float32)
    mh, mw = mask.shape
    inverse = np.linalg.inv(crop.matrix())
    ys, xs = np.meshgrid(np.arange(crop.image_height, dtype=np.float64),
                         np.arange(crop.image_width, dtype=np.float64), indexing="ij")
    s = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    t = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    return bilinear_sample(mask, s * mw, t * mh)


def resize_bilinear(array: np.ndarray, out_height: int, out_width: int) -> np.ndarray:
    """Resize an (h, w) float array with half-pixel centers (as ``cv::resize`` INTER_LINEAR)."""
    h, w = array.shape
    ys = (np.arange(out_height, dtype=np.float64) + 0.5) * h / out_height - 0.5
    xs = (np.arange(out_width, dtype=np.float64) + 0.5) * w / out_width - 0.5
    yy, xx = np.meshgrid(np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1), indexing="ij")
    return bilinear_sample(np.asarray(array, dtype=np.float32), xx, yy, border_replicate=True)

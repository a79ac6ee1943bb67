"""Image pre-processing shared by the vision tasks (tflite-support's ``ImagePreprocessor``).

From the input tensor and its metadata: the expected size (or a dynamic one), uint8 or float32
input, and for float32 the ``NormalizationOptions`` (``(pixel - mean) / std`` per channel, in
float32 as the C++ computes ``(1 / std) * (pixel - mean)``). The image (RGB, RGBA or gray) is
cropped to the region of interest and resized with libyuv's bilinear filter
(:mod:`.image_resize`), then normalized.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from ..core.model import TaskError, TaskModel, content_properties, find_first_process_unit
from .image_resize import argb_scale
from .results import BoundingBox


@dataclasses.dataclass
class ImageTensorSpecs:
    width: int
    height: int
    dtype: type
    mean: Optional[np.ndarray] = None
    std: Optional[np.ndarray] = None
    dynamic_width: bool = False
    dynamic_height: bool = False


def image_tensor_specs(model: TaskModel, input_index: int = 0) -> ImageTensorSpecs:
    """``BuildInputImageTensorSpecs``: what the model wants as image input."""
    detail = model.inputs[input_index]
    shape = [int(d) for d in detail["shape"]]
    signature = [int(d) for d in detail.get("shape_signature", detail["shape"])]
    if len(shape) != 4:
        raise TaskError(f"Only 4D tensors in BHWD layout are supported, got {len(shape)}D input "
                        "tensor.")
    if shape[0] != 1:
        raise TaskError(f"The input array is expected to have a batch size of 1, got {shape[0]}.")
    if shape[3] != 3:
        raise TaskError(f"Input tensor is expected to have 3 channels (RGB), got {shape[3]}.")
    metadata = model.input_metadata(input_index)
    kind, properties = content_properties(metadata)
    if kind == "ImageProperties" and properties.get("color_space", "UNKNOWN") not in ("RGB",):
        raise TaskError("Expected input tensor with RGB color space, found "
                        f"{properties.get('color_space', 'UNKNOWN')}.")
    dtype = detail["dtype"]
    if dtype not in (np.uint8, np.float32):
        raise TaskError(f"Input tensor has type {np.dtype(dtype).name}: only uint8 and float32 "
                        "are supported.")
    specs = ImageTensorSpecs(width=shape[2], height=shape[1], dtype=dtype,
                             dynamic_width=signature[2] == -1, dynamic_height=signature[1] == -1)
    normalization = find_first_process_unit(metadata, "NormalizationOptions")
    if dtype == np.float32:
        if normalization is None:
            raise TaskError("Input tensor has type kTfLiteFloat32: it requires specifying "
                            "NormalizationOptions metadata to preprocess input images.")
        mean = np.asarray(normalization.get("mean", []), np.float32)
        std = np.asarray(normalization.get("std", []), np.float32)
        if mean.size not in (1, 3) or std.size != mean.size:
            raise TaskError("NormalizationOptions needs 1 or 3 mean and std values, got "
                            f"{mean.size} and {std.size}.")
        if np.any(np.abs(std) < np.finfo(np.float32).eps):
            raise TaskError("NormalizationOptions.std_values can't be 0. Please check if the "
                            "tensor metadata has been populated correctly.")
        specs.mean, specs.std = mean, std
    return specs


def rgb_view(image: np.ndarray) -> Optional[np.ndarray]:
    """An ``(H, W, 3)`` view of an RGB, RGBA (alpha dropped) or gray (repeated) image; None for
    any other shape (the callers raise their own errors)."""
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim == 3 and image.shape[2] == 4:
        return image[:, :, :3]
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    return None


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An ``(H, W, 3)`` uint8 view of an RGB, RGBA (alpha dropped) or gray image."""
    rgb = rgb_view(image)
    if rgb is None:
        raise TaskError(f"Unsupported image shape {image.shape}: expected (H, W), (H, W, 3) or (H, W, 4).")
    return rgb


def crop_and_resize(image: np.ndarray, width: int, height: int,
                    roi: Optional[BoundingBox] = None) -> np.ndarray:
    """Crop ``image`` to ``roi`` (if given) and resize it to ``width`` x ``height`` (libyuv)."""
    if roi is not None:
        x0, y0, w, h = roi.origin_x, roi.origin_y, roi.width, roi.height
        if x0 < 0 or y0 < 0 or w <= 0 or h <= 0 or x0 + w > image.shape[1] or y0 + h > image.shape[0]:
            raise TaskError(f"Invalid crop coordinates: the region of interest {roi} is out of the "
                            f"{image.shape[1]}x{image.shape[0]} image.")
        image = image[y0:y0 + h, x0:x0 + w]
    if image.shape[0] == height and image.shape[1] == width:
        return np.ascontiguousarray(image)
    return argb_scale(image, width, height)


class ImagePreprocessor:
    """Image -> input tensor values, for input tensor ``input_index`` of ``model``."""

    def __init__(self, model: TaskModel, input_index: int = 0):
        self.model = model
        self.input_index = input_index
        self.specs = image_tensor_specs(model, input_index)

    def preprocess(self, image: np.ndarray, roi: Optional[BoundingBox] = None) -> np.ndarray:
        specs = self.specs
        rgb = as_rgb(np.asarray(image))
        width = (roi.width if roi else rgb.shape[1]) if specs.dynamic_width else specs.width
        height = (roi.height if roi else rgb.shape[0]) if specs.dynamic_height else specs.height
        if specs.dynamic_width or specs.dynamic_height:
            index = self.model.inputs[self.input_index]["index"]
            self.model.interpreter.resize_tensor_input(index, [1, height, width, 3], strict=True)
            self.model.interpreter.allocate_tensors()
        pixels = crop_and_resize(rgb, width, height, roi)[None]
        if specs.dtype == np.uint8:
            return pixels.astype(np.uint8)
        inv_std = (np.float32(1.0) / specs.std).astype(np.float32)
        return (inv_std * (pixels.astype(np.float32) - specs.mean)).astype(np.float32)

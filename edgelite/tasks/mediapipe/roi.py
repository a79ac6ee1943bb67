"""Regions of interest: a detection to the rotated rectangle the landmark model crops.

As MediaPipe's ``DetectionsToRectsCalculator`` (box center and size, or, for BlazePose,
``AlignmentPointsRectsCalculator``: a center keypoint and a scale keypoint at half the box
size), with the rotation that turns the vector between two keypoints to a target angle, then
``RectTransformationCalculator``: shift (along the rotated axes, in units of the rect size),
make square on the long side (in pixels), scale. Rects are normalized to the image.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np


@dataclasses.dataclass
class NormalizedRect:
    """A rotated rectangle normalized to the image: center, size, rotation (radians, clockwise
    on screen)."""

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0


@dataclasses.dataclass(frozen=True)
class RoiOptions:
    """How a detection becomes a crop: the graph's ``*_detection_to_roi.pbtxt`` numbers."""

    start_keypoint: int
    end_keypoint: int
    target_angle_degrees: float
    scale_x: float
    scale_y: float
    shift_x: float = 0.0
    shift_y: float = 0.0
    square_long: bool = True
    alignment_points: bool = False  # center keypoint + scale keypoint (BlazePose)


def normalize_radians(angle: float) -> float:
    """``angle`` wrapped into [-pi, pi)."""
    return angle - 2 * math.pi * math.floor((angle - (-math.pi)) / (2 * math.pi))


def rotation_from_keypoints(keypoints: np.ndarray, start: int, end: int, target_degrees: float,
                            image_width: int, image_height: int) -> float:
    """The rotation that brings the start->end keypoint vector to ``target_degrees``."""
    x0, y0 = keypoints[start, 0] * image_width, keypoints[start, 1] * image_height
    x1, y1 = keypoints[end, 0] * image_width, keypoints[end, 1] * image_height
    return normalize_radians(math.radians(target_degrees) - math.atan2(-(y1 - y0), x1 - x0))


def transform_rect(rect: NormalizedRect, image_width: int, image_height: int, scale_x: float,
                   scale_y: float, shift_x: float = 0.0, shift_y: float = 0.0,
                   square_long: bool = True) -> NormalizedRect:
    """``RectTransformationCalculator`` on a normalized rect."""
    width, height, rotation = rect.width, rect.height, rect.rotation
    x_center, y_center = rect.x_center, rect.y_center
    if rotation == 0.0:
        x_center += width * shift_x
        y_center += height * shift_y
    else:
        x_shift = (image_width * width * shift_x * math.cos(rotation)
                   - image_height * height * shift_y * math.sin(rotation)) / image_width
        y_shift = (image_width * width * shift_x * math.sin(rotation)
                   + image_height * height * shift_y * math.cos(rotation)) / image_height
        x_center += x_shift
        y_center += y_shift
    if square_long:
        long_side = max(width * image_width, height * image_height)
        width, height = long_side / image_width, long_side / image_height
    return NormalizedRect(x_center, y_center, width * scale_x, height * scale_y, rotation)


def detection_to_roi(box: np.ndarray, keypoints: np.ndarray, options: RoiOptions,
                     image_width: int, image_height: int) -> NormalizedRect:
    """The landmark model's crop for one detection (``box`` xmin, ymin, xmax, ymax normalized)."""
    if options.alignment_points:
        cx = keypoints[options.start_keypoint, 0] * image_width
        cy = keypoints[options.start_keypoint, 1] * image_height
        sx = keypoints[options.end_keypoint, 0] * image_width
        sy = keypoints[options.end_keypoint, 1] * image_height
        size = math.hypot(sx - cx, sy - cy) * 2.0
        rect = NormalizedRect(cx / image_width, cy / image_height, size / image_width,
                              size / image_height)
    else:
        rect = NormalizedRect((box[0] + box[2]) / 2, (box[1] + box[3]) / 2,
                              box[2] - box[0], box[3] - box[1])
    rect.rotation = rotation_from_keypoints(keypoints, options.start_keypoint,
                                            options.end_keypoint, options.target_angle_degrees,
                                            image_width, image_height)
    return transform_rect(rect, image_width, image_height, options.scale_x, options.scale_y,
                          options.shift_x, options.shift_y, options.square_long)

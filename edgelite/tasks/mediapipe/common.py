"""What the MediaPipe-style tasks share: images in, a model runner, and the detector stage.

``run_detector`` is MediaPipe's detection subgraph: letterbox the whole image into the
detector's input (``ImageToTensorCalculator`` with ``keep_aspect_ratio``), decode the SSD
tensors with the graph's anchors, weighted NMS, and project boxes and keypoints back to
image-normalized coordinates (``DetectionProjectionCalculator``). ``DETECTORS`` holds each
bundled detector's numbers, copied from MediaPipe's ``.pbtxt`` graphs; the detector is
recognized by its input size and anchor count.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, ClassVar, Sequence

import numpy as np

from ...errors import ModelError
from .anchors import SsdAnchorsOptions, generate_anchors
from .detection_decoding import DetectionDecodingOptions, RawDetection, decode_detections
from .nms import non_max_suppression
from .results import BoundingBox, Category, Detection, NormalizedKeypoint
from .roi import NormalizedRect
from .warp import as_rgb, crop_to_tensor


def image_array(image: Any) -> np.ndarray:
    """A uint8 RGB array from a ``TensorImage``, a numpy array or an image file path."""
    if isinstance(image, (str, os.PathLike)):
        from ..vision.tensor_image import TensorImage

        image = TensorImage.create_from_file(os.fspath(image))
    buffer = getattr(image, "buffer", image)
    if not isinstance(buffer, np.ndarray):
        raise TypeError(f"expected a TensorImage, a numpy array or a path, got "
                        f"{type(image).__name__}")
    return as_rgb(np.squeeze(buffer) if buffer.ndim == 4 else buffer)


class ModelRunner:
    """One ``.tflite`` model on edgelite's interpreter, with a float32 image input."""

    def __init__(self, model_path: str | os.PathLike):
        from ...interpreter import Interpreter

        self.path = os.fspath(model_path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"No such model file: {self.path}")
        self.interpreter = Interpreter(model_path=self.path)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.outputs = self.interpreter.get_output_details()
        shape = [int(v) for v in self.input["shape"]]
        if len(shape) != 4 or shape[3] != 3 or self.input["dtype"] != np.float32:
            raise ModelError(f"{self.path}: expected a float32 (1, H, W, 3) image input, got "
                             f"{self.input['dtype'].__name__} {shape}")
        self.height, self.width = shape[1], shape[2]

    def output_shapes(self) -> list[tuple[int, ...]]:
        return [tuple(int(v) for v in d["shape"]) for d in self.outputs]

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        self.interpreter.set_tensor(self.input["index"], tensor)
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(d["index"]) for d in self.outputs]


@dataclasses.dataclass(frozen=True)
class DetectorSpec:
    """A MediaPipe detector's anchors, decoding, input range and NMS threshold."""

    name: str
    anchors: SsdAnchorsOptions
    decoding: DetectionDecodingOptions
    value_range: tuple[float, float]
    keypoint_labels: Sequence[str] = ()
    min_suppression_threshold: float = 0.3


def _spec(name: str, size: int, strides: Sequence[int], interpolated: float, num_boxes: int,
          num_keypoints: int, value_range: tuple[float, float], min_score: float,
          labels: Sequence[str] = ()) -> DetectorSpec:
    return DetectorSpec(
        name=name,
        anchors=SsdAnchorsOptions(input_size_width=size, input_size_height=size,
                                  strides=tuple(strides),
                                  interpolated_scale_aspect_ratio=interpolated),
        decoding=DetectionDecodingOptions(num_boxes=num_boxes, num_coords=4 + 2 * num_keypoints,
                                          num_keypoints=num_keypoints, x_scale=size,
                                          y_scale=size, w_scale=size, h_scale=size,
                                          min_score_thresh=min_score),
        value_range=value_range, keypoint_labels=tuple(labels))


_FACE_KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear_tragion",
                   "left_ear_tragion")

# face_detection_short_range.pbtxt, face_detection_full_range.pbtxt, palm_detection_cpu.pbtxt,
# pose_detection_cpu.pbtxt (mediapipe/modules).
DETECTORS = {
    (128, 896): _spec("face_detection_short_range", 128, (8, 16, 16, 16), 1.0, 896, 6,
                      (-1.0, 1.0), 0.5, _FACE_KEYPOINTS),
    (192, 2304): _spec("face_detection_full_range", 192, (4,), 0.0, 2304, 6, (-1.0, 1.0), 0.6,
                       _FACE_KEYPOINTS),
    (192, 2016): _spec("palm_detection", 192, (8, 16, 16, 16), 1.0, 2016, 7, (0.0, 1.0), 0.5),
    (224, 2254): _spec("pose_detection", 224, (8, 16, 32, 32, 32), 1.0, 2254, 4, (-1.0, 1.0),
                       0.5),
}


class Detector:
    """A MediaPipe SSD detector (BlazeFace, BlazePalm, BlazePose detector)."""

    def __init__(self, model_path: str | os.PathLike, expect: Sequence[str] = ()):
        self.model = ModelRunner(model_path)
        shapes = self.model.output_shapes()
        if len(shapes) != 2 or len(shapes[0]) != 3:
            raise ModelError(f"{self.model.path}: not a MediaPipe SSD detector (outputs {shapes})")
        key = (self.model.height, shapes[0][1])
        if key not in DETECTORS or self.model.height != self.model.width:
            raise ModelError(f"{self.model.path}: unknown MediaPipe detector (input "
                             f"{self.model.height}x{self.model.width}, {shapes[0][1]} anchors); "
                             f"known: {sorted(s.name for s in DETECTORS.values())}")
        self.spec = DETECTORS[key]
        if expect and self.spec.name not in expect:
            raise ModelError(f"{self.model.path} is a {self.spec.name} model; this task needs "
                             f"one of {list(expect)}")
        self.anchors = generate_anchors(self.spec.anchors)
        self.boxes_output = 0 if shapes[0][2] == self.spec.decoding.num_coords else 1

    def detect(self, image: np.ndarray, min_score: float | None = None,
               min_suppression_threshold: float | None = None,
               max_results: int = -1) -> list[RawDetection]:
        """Detections with box and keypoints normalized to the image, best first."""
        crop = crop_to_tensor(image, None, self.model.width, self.model.height,
                              keep_aspect_ratio=True, value_range=self.spec.value_range)
        outputs = self.model.run(crop.tensor)
        decoding = self.spec.decoding
        if min_score is not None:
            decoding = dataclasses.replace(decoding, min_score_thresh=min_score)
        raw = decode_detections(outputs[self.boxes_output], outputs[1 - self.boxes_output],
                                self.anchors, decoding)
        threshold = (self.spec.min_suppression_threshold if min_suppression_threshold is None
                     else min_suppression_threshold)
        kept = non_max_suppression(raw, threshold, max_results)
        for det in kept:
            corners = np.array([[det.box[0], det.box[1]], [det.box[2], det.box[1]],
                                [det.box[0], det.box[3]], [det.box[2], det.box[3]]])
            projected = crop.to_image(corners)
            det.box = np.concatenate([projected.min(0), projected.max(0)]).astype(np.float32)
            det.keypoints = crop.to_image(det.keypoints).astype(np.float32)
        return kept

    def to_detection(self, raw: RawDetection, image_width: int, image_height: int) -> Detection:
        """A MediaPipe Tasks ``Detection``: box in pixels (truncated and clamped to the image, as
        ``DetectionTransformationCalculator``), keypoints normalized."""
        def pixels(value: float, bound: int) -> int:  # BoundedValue<int>: truncate, clamp
            return min(max(int(value), 0), bound)

        box = BoundingBox(origin_x=pixels(raw.box[0] * image_width, image_width),
                          origin_y=pixels(raw.box[1] * image_height, image_height),
                          width=pixels((raw.box[2] - raw.box[0]) * image_width, image_width),
                          height=pixels((raw.box[3] - raw.box[1]) * image_height, image_height))
        labels = list(self.spec.keypoint_labels) or [None] * len(raw.keypoints)
        keypoints = [NormalizedKeypoint(float(x), float(y), label)
                     for (x, y), label in zip(raw.keypoints, labels)]
        return Detection(bounding_box=box,
                         categories=[Category(index=0, score=raw.score, display_name="",
                                              category_name="")],
                         keypoints=keypoints)


class MediaPipeTask:
    """Base of the MediaPipe-style tasks: built from their options (``create_from_options``)."""

    def __init__(self, options: Any) -> None:
        self.options = options

    @classmethod
    def create_from_options(cls, options: Any):
        return cls(options)


class TwoStageLandmarker(MediaPipeTask):
    """A detector model finds the regions, a landmark model runs on each crop (hands, pose).

    A subclass names its options class, the detector(s) it accepts, what its landmark model is
    (for the error message) and which output sizes such a model has.
    """

    OPTIONS_CLASS: ClassVar[type]
    DETECTOR_NAMES: ClassVar[tuple]
    LANDMARK_MODEL: ClassVar[str]

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self.detector = Detector(options.detector_model_path, expect=self.DETECTOR_NAMES)
        self.model = ModelRunner(options.landmarker_model_path)
        sizes = [int(np.prod(s)) for s in self.model.output_shapes()]
        if not self.landmark_outputs_match(sizes):
            raise ModelError(f"{self.model.path}: not a {self.LANDMARK_MODEL} "
                             f"(outputs {self.model.output_shapes()})")
        self.last_rois: list[NormalizedRect] = []
        self.timings: dict[str, float] = {}

    @staticmethod
    def landmark_outputs_match(sizes: list[int]) -> bool:
        """Whether the landmark model's output sizes (values per output) are the expected ones."""
        raise NotImplementedError

    @classmethod
    def create_from_model_paths(cls, detector_model_path: str | os.PathLike,
                                landmarker_model_path: str | os.PathLike):
        return cls(cls.OPTIONS_CLASS(os.fspath(detector_model_path),
                                     os.fspath(landmarker_model_path)))

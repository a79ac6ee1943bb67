"""Benchmark: per-stage latency of the MediaPipe-style pose and face tasks on edgelite.

    python bench/mp_tasks_latency.py [--repeat 5] [--image examples/images/astronaut.jpg]

For each two-stage task (pose: BlazePose detector + pose landmark full; face: BlazeFace short
range + face mesh, plain and with attention), the median over ``--repeat`` runs of each stage:
the detector's letterbox crop, its inference, decoding + weighted NMS + projection; the ROI and
affine crop for the landmark model, its inference, and the landmark post-processing (heatmap
refinement, projection, mask warp for pose); then the whole ``detect()`` call.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "realmodels"


def timed(stages: dict, name: str, fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    stages.setdefault(name, []).append(time.perf_counter() - start)
    return value


def run_detector(stages, detector, image):
    from edgelite.tasks.mediapipe.detection_decoding import decode_detections
    from edgelite.tasks.mediapipe.nms import non_max_suppression
    from edgelite.tasks.mediapipe.warp import crop_to_tensor

    spec = detector.spec
    crop = timed(stages, "detector: letterbox crop", crop_to_tensor, image, None,
                 detector.model.width, detector.model.height, True, spec.value_range)
    outputs = timed(stages, "detector: inference", detector.model.run, crop.tensor)

    def post():
        raw = decode_detections(outputs[detector.boxes_output], outputs[1 - detector.boxes_output],
                                detector.anchors, spec.decoding)
        kept = non_max_suppression(raw, spec.min_suppression_threshold)
        for det in kept:
            det.keypoints = crop.to_image(det.keypoints)
        return kept
    timed(stages, "detector: decode + NMS + projection", post)


def bench_pose(image, repeat):
    from edgelite.tasks.mediapipe import PoseLandmarker
    from edgelite.tasks.mediapipe.pose import POSE_ROI, refine_from_heatmap
    from edgelite.tasks.mediapipe.roi import detection_to_roi
    from edgelite.tasks.mediapipe.warp import crop_to_tensor, mask_to_image

    task = PoseLandmarker.create_from_model_paths(REAL / "mp_pose_detection.tflite",
                                                  REAL / "mp_pose_landmark_full.tflite")
    stages: dict = {}
    h, w = image.shape[:2]
    for _ in range(repeat):
        run_detector(stages, task.detector, image)
        det = task.detector.detect(image)[0]
        roi = detection_to_roi(det.box, det.keypoints, POSE_ROI, w, h)
        crop = timed(stages, "landmarks: ROI affine crop", crop_to_tensor, image, roi, 256, 256,
                     True, (0.0, 1.0))
        landmarks, _, mask, heatmap, _ = timed(stages, "landmarks: inference", task.model.run,
                                               crop.tensor)
        points = np.asarray(landmarks, np.float32).reshape(39, 5) / 256
        timed(stages, "landmarks: heatmap refine + projection",
              lambda: crop.to_image(refine_from_heatmap(points, heatmap)[:33]))
        timed(stages, "landmarks: mask warp to image", mask_to_image, mask[0, :, :, 0], crop)
        timed(stages, "whole detect()", task.detect, image)
    return stages


def bench_face(image, repeat, mesh):
    from edgelite.tasks.mediapipe import FaceLandmarker
    from edgelite.tasks.mediapipe.face import FACE_ROI
    from edgelite.tasks.mediapipe.roi import detection_to_roi
    from edgelite.tasks.mediapipe.warp import crop_to_tensor

    task = FaceLandmarker.create_from_model_paths(REAL / "mp_face_detection_short_range.tflite",
                                                  REAL / f"{mesh}.tflite")
    stages: dict = {}
    h, w = image.shape[:2]
    for _ in range(repeat):
        run_detector(stages, task.detector._detector, image)
        det = task.detector.detect_raw(image)[0]
        roi = detection_to_roi(det.box, det.keypoints, FACE_ROI, w, h)
        crop = timed(stages, "landmarks: ROI affine crop", crop_to_tensor, image, roi, 192, 192,
                     False, (0.0, 1.0))
        timed(stages, "landmarks: inference", task.mesh.run, crop.tensor)
        timed(stages, "whole detect()", task.detect, image)
    return stages


def report(title: str, stages: dict) -> None:
    print(f"\n{title}")
    for name, times in stages.items():
        print(f"  {name:42s} {1000 * statistics.median(times):8.1f} ms")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--image", default=str(REPO / "examples" / "images" / "astronaut.jpg"))
    args = parser.parse_args(argv)
    from edgelite.tasks.mediapipe.common import image_array

    image = image_array(args.image)
    print(f"image {image.shape[1]}x{image.shape[0]}, median of {args.repeat} runs")
    report("pose (mp_pose_detection + mp_pose_landmark_full)", bench_pose(image, args.repeat))
    for mesh in ("mp_face_landmark", "mp_face_landmark_with_attention"):
        report(f"face (mp_face_detection_short_range + {mesh})",
               bench_face(image, args.repeat, mesh))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

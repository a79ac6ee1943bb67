"""edgelite's MediaPipe-style tasks against MediaPipe itself (``mediapipe`` 0.10.14's
``solutions``, recorded by make_fixtures.py on the same photos with the same bundled models).

Crops follow OpenCV's fixed-point bilinear warp, so detections, landmarks and masks agree to a
small fraction of a pixel. The pose heatmap refinement uses a 9x9 window, what MediaPipe 0.10.14
does (its graph config says 7; with 7, a few pose landmarks move by up to 4 px).
"""
import json
import pathlib

import numpy as np
import pytest

import edgelite
from edgelite.tasks.mediapipe import (FaceDetector, FaceLandmarker, HandLandmarker,
                                      HandLandmarkerOptions, ImageSegmenter, PoseLandmarker,
                                      landmarks_to_array)
from edgelite.tasks.mediapipe.common import image_array

pytest.importorskip("PIL")
HERE = pathlib.Path(__file__).resolve().parent
REPO = pathlib.Path(edgelite.__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "realmodels"
VISION = REPO.parent / "shared" / "support" / "task" / "vision"
if not (REAL / "mp_pose_detection.tflite").exists() or not VISION.exists():
    pytest.skip("needs ../shared", allow_module_level=True)

FIXTURES = json.loads((HERE / "fixtures" / "mediapipe.json").read_text())
PHOTOS = {"astronaut": REPO / "examples" / "images" / "astronaut.jpg",
          "riding": VISION / "segmentation_input_rotation0.jpg",
          "burger": VISION / "burger.jpg"}


def model(name):
    return str(REAL / f"{name}.tflite")


@pytest.fixture(scope="module", params=sorted(PHOTOS))
def photo(request):
    image = image_array(str(PHOTOS[request.param]))
    return image, FIXTURES[request.param], np.array([image.shape[1], image.shape[0]], float)


@pytest.fixture(scope="module")
def tasks():
    return {
        "face_short_range": FaceDetector.create_from_model_path(
            model("mp_face_detection_short_range")),
        "face_full_range": FaceDetector.create_from_model_path(
            model("mp_face_detection_full_range_sparse")),
        "face_mesh": FaceLandmarker.create_from_model_paths(
            model("mp_face_detection_short_range"), model("mp_face_landmark")),
        "face_mesh_refined": FaceLandmarker.create_from_model_paths(
            model("mp_face_detection_short_range"), model("mp_face_landmark_with_attention")),
        "pose": PoseLandmarker.create_from_model_paths(model("mp_pose_detection"),
                                                       model("mp_pose_landmark_full")),
        "hands": HandLandmarker(HandLandmarkerOptions(model("mp_palm_detection_lite"),
                                                      model("mp_hand_landmark_lite"),
                                                      num_hands=2)),
        "selfie": ImageSegmenter.create_from_model_path(model("mp_selfie_segmentation")),
    }


@pytest.mark.parametrize("name", ["face_short_range", "face_full_range"])
def test_face_detections(tasks, photo, name):
    image, expected, size = photo
    found = tasks[name].detect_raw(image)
    assert len(found) == len(expected[name])
    for det, ref in zip(found, expected[name]):
        box = np.array([det.box[0], det.box[1], det.box[2] - det.box[0], det.box[3] - det.box[1]])
        assert np.abs((box - ref["box"]) * np.tile(size, 2)).max() < 0.25
        assert np.abs((det.keypoints - np.array(ref["keypoints"])) * size).max() < 0.25
        assert det.score == pytest.approx(ref["score"], abs=0.005)


@pytest.mark.parametrize("name", ["face_mesh", "face_mesh_refined"])
def test_face_meshes(tasks, photo, name):
    image, expected, size = photo
    faces = tasks[name].detect(image).face_landmarks
    assert len(faces) == len(expected[name])
    for face, ref in zip(faces, expected[name]):
        ours, ref = landmarks_to_array(face), np.array(ref)
        assert ours.shape == ref.shape
        distance = np.linalg.norm((ours[:, :2] - ref[:, :2]) * size, axis=1)
        assert distance.mean() < 0.02 and distance.max() < 0.1
        assert np.abs(ours[:, 2] - ref[:, 2]).max() * size[0] < 0.05


def test_pose(tasks, photo):
    image, expected, size = photo
    result = tasks["pose"].detect(image)
    if expected["pose"] is None:
        assert result.pose_landmarks == []
        return
    ours = np.array([[lm.x, lm.y, lm.z, lm.visibility] for lm in result.pose_landmarks[0]])
    ref = np.array(expected["pose"]["landmarks"])[:, :4]
    distance = np.linalg.norm((ours[:, :2] - ref[:, :2]) * size, axis=1)
    assert distance.mean() < 0.05 and distance.max() < 0.2
    assert np.abs(ours[:, 2:4] - ref[:, 2:4]).max() < 0.005  # z, visibility
    world = landmarks_to_array(result.pose_world_landmarks[0])
    assert np.abs(world - np.array(expected["pose"]["world"])[:, :3]).max() < 0.001
    mask = result.segmentation_masks[0][::8, ::8]
    assert np.abs(mask - np.array(expected["pose"]["mask_1in8"])).mean() < 0.001


def test_hands(tasks, photo):
    image, expected, size = photo
    result = tasks["hands"].detect(image)
    assert len(result.hand_landmarks) == len(expected["hands"])
    for hand, side, world, ref in zip(result.hand_landmarks, result.handedness,
                                      result.hand_world_landmarks, expected["hands"]):
        ours = landmarks_to_array(hand)
        assert np.abs((ours[:, :2] - np.array(ref["landmarks"])[:, :2]) * size).max() < 0.5
        assert side[0].category_name == ref["handedness"]
        assert side[0].score == pytest.approx(ref["handedness_score"], abs=0.01)
        assert np.abs(landmarks_to_array(world) - np.array(ref["world"])).max() < 0.005


def test_selfie_mask(tasks, photo):
    image, expected, _ = photo
    mask = tasks["selfie"].segment(image).confidence_masks[0][::8, ::8]
    difference = np.abs(mask - np.array(expected["selfie_mask_1in8"]))
    assert difference.mean() < 1e-4 and difference.max() < 1e-3

"""MediaPipe-style tasks on real photos with MediaPipe's models (skipped without /work/shared)."""
import pathlib

import numpy as np
import pytest

import edgelite
from edgelite.errors import ModelError
from edgelite.tasks import audio, vision
from edgelite.tasks.mediapipe import (FaceDetector, FaceLandmarker, HandLandmarker,
                                      ImageSegmenter, KeywordSpotter, PoseLandmarker,
                                      landmarks_to_array)

pytest.importorskip("PIL")
REPO = pathlib.Path(edgelite.__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "realmodels"
VISION = REPO.parent / "shared" / "support" / "task" / "vision"
if not (REAL / "mp_pose_detection.tflite").exists():
    pytest.skip("needs ../shared/realmodels", allow_module_level=True)

ASTRONAUT = REPO / "examples" / "images" / "astronaut.jpg"  # scikit-image's astronaut, 512x512
NO_PERSON = VISION / "burger.jpg"


def model(name):
    return str(REAL / f"{name}.tflite")


@pytest.fixture(scope="module")
def astronaut():
    return vision.TensorImage.create_from_file(str(ASTRONAUT))


@pytest.fixture(scope="module")
def burger():
    return vision.TensorImage.create_from_file(str(NO_PERSON))


@pytest.fixture(scope="module")
def face_box(astronaut):
    detector = FaceDetector.create_from_model_path(model("mp_face_detection_short_range"))
    (face,) = detector.detect(astronaut).detections
    b = face.bounding_box
    return b.origin_x, b.origin_y, b.origin_x + b.width, b.origin_y + b.height


@pytest.mark.parametrize("name", ["mp_face_detection_short_range",
                                  "mp_face_detection_full_range_sparse"])
def test_face_detector_one_face_and_none(name, astronaut, burger):
    detector = FaceDetector.create_from_model_path(model(name))
    detections = detector.detect(astronaut).detections
    assert len(detections) == 1
    face = detections[0]
    box = face.bounding_box
    # the astronaut's face: about 95 px wide, around (225, 130) in the 512x512 photo
    assert 70 < box.width < 130 and 70 < box.height < 130
    assert 170 < box.origin_x + box.width / 2 < 280 and 80 < box.origin_y + box.height / 2 < 180
    assert face.categories[0].score > 0.85
    assert len(face.keypoints) == 6
    right_eye, left_eye, nose = face.keypoints[:3]
    assert right_eye.x < nose.x < left_eye.x  # the subject's right eye is on the image's left
    assert max(right_eye.y, left_eye.y) < nose.y
    assert detector.detect(burger).detections == []


def test_face_landmarks_inside_the_face_box(astronaut, face_box):
    x0, y0, x1, y1 = face_box
    landmarker = FaceLandmarker.create_from_model_paths(
        model("mp_face_detection_short_range"), model("mp_face_landmark_with_attention"))
    (face,) = landmarker.detect(astronaut).face_landmarks
    assert len(face) == 478
    points = landmarks_to_array(face)[:, :2] * [astronaut.width, astronaut.height]
    inside = ((points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0)
              & (points[:, 1] <= y1))
    assert inside.mean() > 0.9  # the mesh reaches a little higher up the forehead
    margin = 0.15 * (x1 - x0)
    assert np.all((points[:, 0] > x0 - margin) & (points[:, 0] < x1 + margin)
                  & (points[:, 1] > y0 - margin) & (points[:, 1] < y1 + margin))
    irises = points[468:]
    eyes = points[[33, 133, 362, 263]]  # eye corners
    assert eyes[0, 0] < irises[0, 0] < eyes[1, 0] and eyes[3, 0] > irises[5, 0] > eyes[2, 0]


def test_plain_and_attention_meshes_agree(astronaut):
    plain = FaceLandmarker.create_from_model_paths(model("mp_face_detection_short_range"),
                                                   model("mp_face_landmark"))
    attention = FaceLandmarker.create_from_model_paths(model("mp_face_detection_short_range"),
                                                       model("mp_face_landmark_with_attention"))
    a = landmarks_to_array(plain.detect(astronaut).face_landmarks[0])
    b = landmarks_to_array(attention.detect(astronaut).face_landmarks[0])
    assert a.shape == (468, 3)
    distance = np.linalg.norm((a[:, :2] - b[:468, :2]) * 512, axis=1)
    assert distance.mean() < 2.0 and distance.max() < 5.0


def test_plain_mesh_with_iris_model_gives_478(astronaut):
    with_iris = FaceLandmarker.create_from_model_paths(model("mp_face_detection_short_range"),
                                                       model("mp_face_landmark"),
                                                       model("mp_iris_landmark"))
    attention = FaceLandmarker.create_from_model_paths(model("mp_face_detection_short_range"),
                                                       model("mp_face_landmark_with_attention"))
    a = landmarks_to_array(with_iris.detect(astronaut).face_landmarks[0])
    b = landmarks_to_array(attention.detect(astronaut).face_landmarks[0])
    assert a.shape == b.shape == (478, 3)
    irises = np.linalg.norm((a[468:, :2] - b[468:, :2]) * 512, axis=1)
    assert irises.max() < 2.0  # two different models agree on the iris centers and edges
    eyes = np.linalg.norm((a[:468, :2] - b[:468, :2]) * 512, axis=1)
    assert eyes.mean() < 2.0
    with pytest.raises(ModelError, match="attention mesh already"):
        FaceLandmarker.create_from_model_paths(model("mp_face_detection_short_range"),
                                               model("mp_face_landmark_with_attention"),
                                               model("mp_iris_landmark"))


def test_face_mesh_follows_a_rotated_face(astronaut):
    """The ROI's rotation (from the eye keypoints) and the rotated crop: landmarks of the photo
    turned 35 degrees are the original landmarks turned 35 degrees."""
    from PIL import Image

    landmarker = FaceLandmarker.create_from_model_paths(
        model("mp_face_detection_short_range"), model("mp_face_landmark_with_attention"))
    upright = landmarks_to_array(landmarker.detect(astronaut).face_landmarks[0])[:, :2] * 512
    upright_rotation = landmarker.last_rois[0].rotation
    turned = np.asarray(Image.fromarray(astronaut.buffer).rotate(-35, Image.BILINEAR))
    (face,) = landmarker.detect(turned).face_landmarks
    points = landmarks_to_array(face)[:, :2] * 512
    angle = np.radians(-35)  # Pillow turns counter-clockwise on screen about the center
    c, s = np.cos(angle), np.sin(angle)
    d = upright - 256
    expected = np.stack([256 + d[:, 0] * c + d[:, 1] * s, 256 - d[:, 0] * s + d[:, 1] * c], 1)
    distance = np.linalg.norm(points - expected, axis=1)
    assert distance.mean() < 2.0 and distance.max() < 6.0
    assert np.degrees(landmarker.last_rois[0].rotation - upright_rotation) == pytest.approx(
        35, abs=10)


def test_no_face_landmarks_without_a_face(burger):
    landmarker = FaceLandmarker.create_from_model_paths(model("mp_face_detection_short_range"),
                                                        model("mp_face_landmark"))
    assert landmarker.detect(burger).face_landmarks == []


@pytest.fixture(scope="module")
def pose_landmarker():
    return PoseLandmarker.create_from_model_paths(model("mp_pose_detection"),
                                                  model("mp_pose_landmark_full"))


def test_pose_nose_in_face_box_and_mask(pose_landmarker, astronaut, burger, face_box):
    result = pose_landmarker.detect(astronaut)
    assert len(result.pose_landmarks) == 1
    pose = result.pose_landmarks[0]
    assert len(pose) == 33 and len(result.pose_world_landmarks[0]) == 33
    nose = pose[0]
    x0, y0, x1, y1 = face_box
    assert x0 < nose.x * 512 < x1 and y0 < nose.y * 512 < y1
    assert nose.visibility > 0.9
    left_shoulder, right_shoulder = pose[11], pose[12]
    assert right_shoulder.x < nose.x < left_shoulder.x and nose.y < left_shoulder.y
    world = landmarks_to_array(result.pose_world_landmarks[0])
    shoulders = np.linalg.norm(world[11] - world[12])
    assert 0.2 < shoulders < 0.6  # meters
    mask = result.segmentation_masks[0]
    assert mask.shape == (512, 512)
    assert mask[130, 225] > 0.9 and mask[350, 150] > 0.9  # face, suit
    assert mask[40, 300] < 0.1  # the wall behind
    assert pose_landmarker.detect(burger).pose_landmarks == []


def test_selfie_mask_covers_the_person(astronaut, burger):
    segmenter = ImageSegmenter.create_from_model_path(model("mp_selfie_segmentation"))
    (mask,) = segmenter.segment(astronaut).confidence_masks
    assert mask.shape == (512, 512) and mask.dtype == np.float32
    assert mask[130, 225] > 0.9 and mask[350, 150] > 0.9 and mask[250, 200] > 0.9
    assert mask[40, 300] < 0.1 and mask[200, 470] < 0.1  # wall, shuttle
    assert 0.35 < (mask > 0.5).mean() < 0.75
    (empty,) = segmenter.segment(burger).confidence_masks
    assert (empty > 0.5).mean() < 0.15  # a few burger pixels look like skin


@pytest.fixture(scope="module")
def hand_landmarker():
    return HandLandmarker.create_from_model_paths(model("mp_palm_detection_lite"),
                                                  model("mp_hand_landmark_lite"))


def test_hands_nothing_without_hands(hand_landmarker, burger):
    result = hand_landmarker.detect(burger)
    assert result.hand_landmarks == [] and result.handedness == []


def test_hand_on_the_riding_photo(hand_landmarker):
    image = vision.TensorImage.create_from_file(str(VISION / "segmentation_input_rotation0.jpg"))
    result = hand_landmarker.detect(image)
    assert len(result.hand_landmarks) == 1
    hand = landmarks_to_array(result.hand_landmarks[0])
    assert hand.shape == (21, 3)
    # the girl's hand resting on her knee, left of the image around (40, 135) of 257x257
    assert np.all(np.abs(hand[:, 0] * 257 - 40) < 30)
    assert np.all(np.abs(hand[:, 1] * 257 - 135) < 30)
    assert result.handedness[0][0].category_name in ("Left", "Right")
    assert len(result.hand_world_landmarks[0]) == 21


def test_wrong_models_are_refused():
    with pytest.raises(ModelError, match="palm_detection"):
        FaceDetector.create_from_model_path(model("mp_palm_detection_lite"))
    with pytest.raises(ModelError, match="hand landmark"):
        HandLandmarker.create_from_model_paths(model("mp_palm_detection_lite"),
                                               model("mp_face_landmark"))
    with pytest.raises(ModelError, match="face mesh"):
        FaceLandmarker.create_from_model_paths(model("mp_face_detection_short_range"),
                                               model("mp_iris_landmark"))
    with pytest.raises(FileNotFoundError):
        FaceDetector.create_from_model_path(model("no_such_model"))
    with pytest.raises(TypeError, match="TensorImage"):
        FaceDetector.create_from_model_path(model("mp_face_detection_short_range")).detect(3)


@pytest.fixture(scope="module")
def spotter():
    return KeywordSpotter.create_from_model_paths(model("tflm_audio_preprocessor_int8"),
                                                  model("tflm_micro_speech_quantized"))


@pytest.mark.parametrize("recording, word", [("yes", "yes"), ("no", "no"),
                                             ("silence", "silence"), ("noise", "silence")])
def test_keyword_spotting(spotter, recording, word):
    path = REAL / "audio" / f"{recording}_1000ms.wav"
    top = spotter.classify_wav(str(path))
    assert top.category_name == word
    clip = audio.TensorAudio.create_from_wav_file(str(path), spotter.required_samples)
    categories = spotter.classify(clip).classifications[0].categories
    assert sorted(c.category_name for c in categories) == ["no", "silence", "unknown", "yes"]
    assert categories[0].category_name == word
    assert sum(c.score for c in categories) == pytest.approx(1.0, abs=0.02)


def test_keyword_spotter_refuses_other_rates(spotter):
    clip = audio.TensorAudio(audio.AudioFormat(channels=1, sample_rate=8000), 8000)
    with pytest.raises(ValueError, match="16 kHz"):
        spotter.classify(clip)
    with pytest.raises(ModelError, match="audio frame"):
        KeywordSpotter.create_from_model_paths(model("tflm_micro_speech_quantized"),
                                               model("tflm_micro_speech_quantized"))


@pytest.mark.tflm
@pytest.mark.parametrize("recording", ["yes", "no", "silence", "noise"])
def test_keyword_spotting_equals_tflite_micro(spotter, recording):
    """The whole micro_speech pipeline, features and int8 scores, as TFLite Micro computes it."""
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime",
                                  reason="TFLM's Python interpreter (tflite-micro wheel)")
    path = REAL / "audio" / f"{recording}_1000ms.wav"
    clip = audio.TensorAudio.create_from_wav_file(str(path), spotter.required_samples)
    samples = np.round(clip.buffer[:, 0] * 32768).astype(np.int16)
    preprocessor = runtime.Interpreter.from_file(model("tflm_audio_preprocessor_int8"),
                                                 arena_size=1 << 20)
    features = []
    for start in range(0, 49 * 320, 320):
        preprocessor.set_input(samples[start:start + 480].reshape(1, 480), 0)
        preprocessor.invoke()
        features.append(np.array(preprocessor.get_output(0)).reshape(-1))
    features = np.stack(features)
    np.testing.assert_array_equal(spotter.features(samples), features)
    keyword = runtime.Interpreter.from_file(model("tflm_micro_speech_quantized"),
                                            arena_size=1 << 16)
    keyword.set_input(features.reshape(1, 1960).astype(np.int8), 0)
    keyword.invoke()
    expected = (np.array(keyword.get_output(0)).reshape(-1).astype(np.float32) + 128) / 256
    np.testing.assert_array_equal(spotter.scores(samples), expected)


def test_keyword_spotting_with_the_float_preprocessor():
    spotter = KeywordSpotter.create_from_model_paths(model("tflm_audio_preprocessor_float"),
                                                     model("tflm_micro_speech_quantized"))
    for word in ("yes", "no"):
        top = spotter.classify_wav(str(REAL / "audio" / f"{word}_1000ms.wav"))
        assert top.category_name == word and top.score > 0.9

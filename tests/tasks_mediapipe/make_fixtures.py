"""Record MediaPipe's own results (``mediapipe`` 0.10.14's ``solutions``, which run the same
bundled models) on the test photos, for test_mp_vs_mediapipe.py.

    python -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mediapipe==0.10.14 pillow
    /tmp/mpvenv/bin/python tests/tasks_mediapipe/make_fixtures.py

Images are decoded with Pillow as edgelite's TensorImage does. Writes fixtures/mediapipe.json:
per photo, face detections (relative box, keypoints, score) of both face detectors, face meshes
(plain and refined), pose landmarks / world landmarks / a 1-in-8 subsample of the segmentation
mask, hand landmarks with handedness, and a 1-in-8 subsample of the selfie mask.
"""
import json
from pathlib import Path

import mediapipe as mp
import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
VISION = REPO.parent / "shared" / "support" / "task" / "vision"
PHOTOS = {"astronaut": REPO / "examples" / "images" / "astronaut.jpg",
          "riding": VISION / "segmentation_input_rotation0.jpg",
          "burger": VISION / "burger.jpg"}


def rounded(values):
    return np.round(np.asarray(values, dtype=np.float64), 6).tolist()


def landmarks(landmark_list, extra=()):
    return rounded([[lm.x, lm.y, lm.z] + [getattr(lm, name) for name in extra]
                    for lm in landmark_list.landmark])


def record(image):
    s = mp.solutions
    out = {}
    for name, selection in (("face_short_range", 0), ("face_full_range", 1)):
        with s.face_detection.FaceDetection(model_selection=selection,
                                            min_detection_confidence=0.5) as fd:
            found = fd.process(image).detections or []
        out[name] = [{"score": d.score[0],
                      "box": rounded([d.location_data.relative_bounding_box.xmin,
                                      d.location_data.relative_bounding_box.ymin,
                                      d.location_data.relative_bounding_box.width,
                                      d.location_data.relative_bounding_box.height]),
                      "keypoints": rounded([[k.x, k.y]
                                            for k in d.location_data.relative_keypoints])}
                     for d in found]
    for name, refine in (("face_mesh", False), ("face_mesh_refined", True)):
        with s.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1,
                                  refine_landmarks=refine) as fm:
            faces = fm.process(image).multi_face_landmarks or []
        out[name] = [landmarks(f) for f in faces]
    with s.pose.Pose(static_image_mode=True, model_complexity=1,
                     enable_segmentation=True) as pose:
        r = pose.process(image)
    out["pose"] = None if r.pose_landmarks is None else {
        "landmarks": landmarks(r.pose_landmarks, ("visibility", "presence")),
        "world": landmarks(r.pose_world_landmarks, ("visibility",)),
        "mask_1in8": rounded(r.segmentation_mask[::8, ::8])}
    with s.hands.Hands(static_image_mode=True, max_num_hands=2, model_complexity=0) as hands:
        r = hands.process(image)
    out["hands"] = [{"landmarks": landmarks(h), "world": landmarks(w),
                     "handedness": c.classification[0].label,
                     "handedness_score": c.classification[0].score}
                    for h, w, c in zip(r.multi_hand_landmarks or [],
                                       r.multi_hand_world_landmarks or [],
                                       r.multi_handedness or [])]
    with s.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        mask = seg.process(image).segmentation_mask
    out["selfie_mask_1in8"] = rounded(mask[::8, ::8])
    return out


def main():
    fixtures = {"mediapipe_version": mp.__version__}
    for name, path in PHOTOS.items():
        with Image.open(path) as im:
            image = np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))
        fixtures[name] = record(image)
        print(name, {k: (len(v) if isinstance(v, list) else type(v).__name__)
                     for k, v in fixtures[name].items()})
    (HERE / "fixtures").mkdir(exist_ok=True)
    with open(HERE / "fixtures" / "mediapipe.json", "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))


if __name__ == "__main__":
    main()

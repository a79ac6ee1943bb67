"""``edgelite pose|face|hands MODEL... IMAGE [--out picture.png]``: MediaPipe-style tasks.

- ``face DETECTOR [MESH [IRIS]] IMAGE``: faces (BlazeFace boxes and keypoints); with a face
  mesh model (plain or attention), its landmarks too; the iris model adds irises to the plain mesh.
- ``hands PALM_DETECTOR HAND_LANDMARK IMAGE``: 21 landmarks and handedness per hand.
- ``pose POSE_DETECTOR POSE_LANDMARK IMAGE``: 33 landmarks with visibility, and the mask.

See docs/mediapipe_tasks.md. Drawing needs Pillow.
"""
from __future__ import annotations

import argparse
import os

from .cli import UserError


def add_parser(subparsers) -> None:
    for name, help_text, models in (
            ("face", "find faces (and their mesh landmarks) in an image", "DETECTOR [MESH [IRIS]]"),
            ("hands", "find hand landmarks and handedness in an image", "PALM_DETECTOR HAND"),
            ("pose", "find body landmarks and the person's mask in an image",
             "POSE_DETECTOR POSE_LANDMARK")):
        p = subparsers.add_parser(name, help=help_text,
                                  description=f"{help_text[0].upper()}{help_text[1:]} with "
                                              "MediaPipe's models (see docs/mediapipe_tasks.md).")
        p.add_argument("paths", nargs="+", metavar="MODEL... IMAGE",
                       help=f"{models} then the image file")
        p.add_argument("--out", metavar="PICTURE", help="write a picture of the result (PNG...)")
        p.set_defaults(func=run, task=name)


def _split(args) -> tuple[list[str], str]:
    *models, image = args.paths
    wanted = {"face": (1, 2, 3), "hands": (2,), "pose": (2,)}[args.task]
    if len(models) not in wanted:
        raise UserError(f"{args.task} takes {' or '.join(map(str, wanted))} model file(s) and "
                        f"an image, got {len(args.paths)} path(s)")
    for path in [*models, image]:
        if not os.path.isfile(path):
            raise UserError(f"{path}: no such file")
    return models, image


def run(args: argparse.Namespace) -> int:
    from ..errors import ModelError
    from ..tasks import mediapipe as mp
    from ..tasks.mediapipe import drawing
    from ..tasks.mediapipe.common import image_array

    models, image_path = _split(args)
    try:
        image = image_array(image_path)
    except (RuntimeError, ImportError) as e:
        raise UserError(f"{image_path}: {e}")
    try:
        picture = drawing.to_picture(image) if args.out else None
        if args.task == "face" and len(models) == 1:
            detections = mp.FaceDetector.create_from_model_path(models[0]).detect(image).detections
            print(f"{len(detections)} face(s)")
            for i, det in enumerate(detections, 1):
                b = det.bounding_box
                print(f"  {i}. score {det.categories[0].score:.3f}  box x={b.origin_x} "
                      f"y={b.origin_y} w={b.width} h={b.height}")
            if picture is not None:
                drawing.draw_detections(picture, detections)
        elif args.task == "face":
            faces = mp.FaceLandmarker.create_from_model_paths(*models).detect(image).face_landmarks
            print(f"{len(faces)} face(s)")
            for i, face in enumerate(faces, 1):
                xs, ys = [lm.x for lm in face], [lm.y for lm in face]
                print(f"  {i}. {len(face)} landmarks in x {min(xs):.3f}..{max(xs):.3f} "
                      f"y {min(ys):.3f}..{max(ys):.3f}")
                if picture is not None:
                    drawing.draw_landmarks(picture, face, radius=1.0)
        elif args.task == "hands":
            result = mp.HandLandmarker.create_from_model_paths(*models).detect(image)
            print(f"{len(result.hand_landmarks)} hand(s)")
            for i, (hand, side) in enumerate(zip(result.hand_landmarks, result.handedness), 1):
                print(f"  {i}. {side[0].category_name} ({side[0].score:.3f}), wrist at "
                      f"x={hand[0].x:.3f} y={hand[0].y:.3f}")
                if picture is not None:
                    drawing.draw_landmarks(picture, hand, mp.HAND_CONNECTIONS)
        else:
            result = mp.PoseLandmarker.create_from_model_paths(*models).detect(image)
            print(f"{len(result.pose_landmarks)} pose(s)")
            for i, pose in enumerate(result.pose_landmarks, 1):
                nose = pose[0]
                visible = sum(lm.visibility >= 0.5 for lm in pose)
                print(f"  {i}. nose at x={nose.x:.3f} y={nose.y:.3f}; {visible}/33 landmarks "
                      "visible")
                if picture is not None:
                    picture = drawing.blend_mask(picture, result.segmentation_masks[i - 1])
                    drawing.draw_landmarks(picture, pose, mp.POSE_CONNECTIONS, radius=3.0,
                                           min_visibility=0.5)
    except (ModelError, FileNotFoundError) as e:
        raise UserError(str(e))
    if picture is not None:
        try:
            picture.save(args.out)
        except (ValueError, OSError) as e:
            raise UserError(f"cannot write {args.out}: {e}")
        print(f"wrote {args.out}")
    return 0

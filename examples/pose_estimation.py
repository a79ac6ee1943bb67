"""Find a person's 33 body landmarks (MediaPipe BlazePose) and draw the skeleton and mask."""
import argparse
from pathlib import Path

from edgelite.tasks.mediapipe import POSE_CONNECTIONS, PoseLandmarker
from edgelite.tasks.mediapipe import drawing
from edgelite.tasks.mediapipe.common import image_array

REAL = Path(__file__).resolve().parents[2] / "shared" / "realmodels"
HERE = Path(__file__).resolve().parent

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model", nargs=2, metavar=("DETECTOR", "LANDMARKER"),
                    default=[str(REAL / "mp_pose_detection.tflite"),
                             str(REAL / "mp_pose_landmark_full.tflite")])
parser.add_argument("--input", default=str(HERE / "images" / "astronaut.jpg"))
parser.add_argument("--output", default="pose_estimation.png")
args = parser.parse_args()

image = image_array(args.input)
result = PoseLandmarker.create_from_model_paths(*args.model).detect(image)
print(f"poses: {len(result.pose_landmarks)}")
picture = drawing.to_picture(image)
for pose, mask in zip(result.pose_landmarks, result.segmentation_masks):
    nose = pose[0]
    print(f"nose: x={nose.x:.3f} y={nose.y:.3f}; visible landmarks: "
          f"{sum(lm.visibility >= 0.5 for lm in pose)}/33")
    picture = drawing.blend_mask(picture, mask, alpha=0.35)
    drawing.draw_landmarks(picture, pose, POSE_CONNECTIONS, radius=3, min_visibility=0.5)
picture.save(args.output)
print(f"wrote {args.output}")

"""Find hands (palm detector + hand landmarks): 21 landmarks and handedness per hand."""
import argparse
from pathlib import Path

from edgelite.tasks.mediapipe import HAND_CONNECTIONS, HandLandmarker, HandLandmarkerOptions
from edgelite.tasks.mediapipe import drawing
from edgelite.tasks.mediapipe.common import image_array

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL = SHARED / "realmodels"

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model", nargs=2, metavar=("PALM_DETECTOR", "HAND_LANDMARK"),
                    default=[str(REAL / "mp_palm_detection_lite.tflite"),
                             str(REAL / "mp_hand_landmark_lite.tflite")])
parser.add_argument("--input", default=str(SHARED / "support" / "task" / "vision" /
                                           "segmentation_input_rotation0.jpg"))
parser.add_argument("--output", default="hand_landmarks.png")
parser.add_argument("--num-hands", type=int, default=2)
args = parser.parse_args()

image = image_array(args.input)
landmarker = HandLandmarker(HandLandmarkerOptions(*args.model, num_hands=args.num_hands))
result = landmarker.detect(image)
print(f"hands: {len(result.hand_landmarks)}")
picture = drawing.to_picture(image).resize((image.shape[1] * 2, image.shape[0] * 2))
for hand, handedness in zip(result.hand_landmarks, result.handedness):
    side = handedness[0]
    print(f"{side.category_name} hand ({side.score:.2f}), wrist at x={hand[0].x:.3f} "
          f"y={hand[0].y:.3f}")
    drawing.draw_landmarks(picture, hand, HAND_CONNECTIONS, radius=2)
    drawing.label(picture, (hand[0].x * picture.width, hand[0].y * picture.height + 6),
                  side.category_name)
picture.save(args.output)
print(f"wrote {args.output}")

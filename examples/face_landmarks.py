"""Find faces (BlazeFace) and their 478-point mesh with irises (MediaPipe face mesh)."""
import argparse
from pathlib import Path

from edgelite.tasks.mediapipe import FaceLandmarker
from edgelite.tasks.mediapipe import drawing
from edgelite.tasks.mediapipe.common import image_array

REAL = Path(__file__).resolve().parents[2] / "shared" / "realmodels"
HERE = Path(__file__).resolve().parent

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model", nargs=2, metavar=("DETECTOR", "MESH"),
                    default=[str(REAL / "mp_face_detection_short_range.tflite"),
                             str(REAL / "mp_face_landmark_with_attention.tflite")])
parser.add_argument("--input", default=str(HERE / "images" / "astronaut.jpg"))
parser.add_argument("--output", default="face_landmarks.png")
args = parser.parse_args()

image = image_array(args.input)
landmarker = FaceLandmarker.create_from_model_paths(*args.model)
faces = landmarker.detect(image).face_landmarks
print(f"faces: {len(faces)}")
picture = drawing.to_picture(image)
for face in faces:
    print(f"landmarks: {len(face)}")
    drawing.draw_landmarks(picture, face[:468], radius=1, point_color=(0, 255, 0))
    drawing.draw_landmarks(picture, face[468:], radius=2, point_color=(255, 0, 0))  # irises
picture.save(args.output)
print(f"wrote {args.output}")

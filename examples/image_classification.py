"""Classify an image with a Task Library image classifier and write the top labels on it."""
import argparse
from pathlib import Path

from edgelite.tasks import core, processor, vision
from edgelite.tasks.mediapipe import drawing

VISION = Path(__file__).resolve().parents[2] / "shared" / "support" / "task" / "vision"

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model", default=str(VISION / "mobilenet_v1_0.25_224_quant.tflite"))
parser.add_argument("--input", default=str(VISION / "burger.jpg"))
parser.add_argument("--output", default="image_classification.png")
args = parser.parse_args()

classifier = vision.ImageClassifier.create_from_options(vision.ImageClassifierOptions(
    core.BaseOptions(file_name=args.model), processor.ClassificationOptions(max_results=3)))
image = vision.TensorImage.create_from_file(args.input)
categories = classifier.classify(image).classifications[0].categories
picture = drawing.to_picture(image.buffer)
for i, c in enumerate(categories):
    name = c.display_name or c.category_name
    print(f"{name}: {c.score:.3f}")
    drawing.label(picture, (6, 6 + 16 * i), f"{name} {c.score:.2f}")
picture.save(args.output)
print(f"wrote {args.output}")

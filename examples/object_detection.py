"""Detect objects with a Task Library object detector (SSD MobileNet) and draw the boxes."""
import argparse
import warnings
from pathlib import Path

from PIL import ImageDraw

from edgelite.tasks import core, processor, vision
from edgelite.tasks.mediapipe import drawing

VISION = Path(__file__).resolve().parents[2] / "shared" / "support" / "task" / "vision"

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model",
                    default=str(VISION / "coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite"))
parser.add_argument("--input", default=str(VISION / "cats_and_dogs.jpg"))
parser.add_argument("--output", default="object_detection.png")
args = parser.parse_args()

with warnings.catch_warnings():  # this model's output names differ from the Task Library's
    warnings.simplefilter("ignore")
    detector = vision.ObjectDetector.create_from_options(vision.ObjectDetectorOptions(
        core.BaseOptions(file_name=args.model),
        processor.DetectionOptions(max_results=5, score_threshold=0.5)))
image = vision.TensorImage.create_from_file(args.input)
detections = detector.detect(image).detections
picture = drawing.to_picture(image.buffer)
draw = ImageDraw.Draw(picture)
for d in detections:
    box, c = d.bounding_box, d.categories[0]
    name = c.display_name or c.category_name
    print(f"{name}: {c.score:.3f} at x={box.origin_x} y={box.origin_y} w={box.width} "
          f"h={box.height}")
    draw.rectangle((box.origin_x, box.origin_y, box.origin_x + box.width,
                    box.origin_y + box.height), outline=(255, 64, 64), width=3)
    drawing.label(picture, (box.origin_x + 3, box.origin_y + 3), f"{name} {c.score:.2f}")
picture.save(args.output)
print(f"wrote {args.output}")

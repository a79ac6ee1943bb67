"""Segment an image with a Task Library segmenter (DeepLab v3) and blend the colored mask in."""
import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from edgelite.tasks import vision
from edgelite.tasks.mediapipe import drawing

VISION = Path(__file__).resolve().parents[2] / "shared" / "support" / "task" / "vision"

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model", default=str(VISION / "deeplabv3.tflite"))
parser.add_argument("--input", default=str(VISION / "segmentation_input_rotation0.jpg"))
parser.add_argument("--output", default="segmentation.png")
args = parser.parse_args()

image = vision.TensorImage.create_from_file(args.input)
segmentation = vision.ImageSegmenter.create_from_file(args.model).segment(image).segmentations[0]
mask = segmentation.category_mask
colors = np.array([label.color for label in segmentation.colored_labels], dtype=np.uint8)
colored = Image.fromarray(colors[mask]).resize((image.width, image.height), Image.NEAREST)
picture = Image.blend(drawing.to_picture(image.buffer), colored, 0.5)
counts = np.bincount(mask.reshape(-1), minlength=len(colors))
for rank, index in enumerate(i for i in np.argsort(-counts) if counts[i] > 0):
    label = segmentation.colored_labels[index]
    print(f"{label.display_name or label.category_name}: {counts[index] / mask.size:.1%}")
    drawing.label(picture, (6, 6 + 16 * rank), label.display_name or label.category_name,
                  tuple(int(v) for v in label.color))
picture.save(args.output)
print(f"wrote {args.output}")

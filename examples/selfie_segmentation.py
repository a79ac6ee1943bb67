"""Separate a person from the background with MediaPipe's selfie segmentation model."""
import argparse
from pathlib import Path

import numpy as np

from edgelite.tasks.mediapipe import ImageSegmenter
from edgelite.tasks.mediapipe import drawing
from edgelite.tasks.mediapipe.common import image_array

REAL = Path(__file__).resolve().parents[2] / "shared" / "realmodels"
HERE = Path(__file__).resolve().parent

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model", default=str(REAL / "mp_selfie_segmentation.tflite"))
parser.add_argument("--input", default=str(HERE / "images" / "astronaut.jpg"))
parser.add_argument("--output", default="selfie_segmentation.png")
args = parser.parse_args()

image = image_array(args.input)
mask = ImageSegmenter.create_from_model_path(args.model).segment(image).confidence_masks[0]
print(f"person: {np.mean(mask > 0.5):.1%} of the image")
picture = drawing.blend_mask(drawing.to_picture(image), mask, alpha=0.6)
picture.save(args.output)
print(f"wrote {args.output}")

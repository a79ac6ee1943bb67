"""Classify the sentiment of a sentence with a Task Library NL classifier."""
import argparse
from pathlib import Path

from PIL import Image, ImageDraw

from edgelite.tasks import text
from edgelite.tasks.mediapipe import drawing

TEXT = Path(__file__).resolve().parents[2] / "shared" / "support" / "task" / "text"

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model",
                    default=str(TEXT / "test_model_nl_classifier_with_regex_tokenizer.tflite"))
parser.add_argument("--input", default="This is the best movie I've seen in recent years.",
                    help="the sentence (or a path to a text file)")
parser.add_argument("--output", default="text_classification.png")
args = parser.parse_args()

sentence = Path(args.input).read_text() if Path(args.input).is_file() else args.input
classifier = text.NLClassifier.create_from_file(args.model)
categories = classifier.classify(sentence).classifications[0].categories
picture = Image.new("RGB", (480, 60 + 26 * len(categories)), (250, 250, 250))
draw = ImageDraw.Draw(picture)
draw.text((8, 8), sentence[:80], fill=(0, 0, 0))
for i, c in enumerate(sorted(categories, key=lambda c: -c.score)):
    print(f"{c.category_name}: {c.score:.3f}")
    y = 40 + 26 * i
    draw.rectangle((110, y, 110 + int(350 * c.score), y + 14), fill=(70, 130, 220))
    drawing.label(picture, (8, y + 1), f"{c.category_name} {c.score:.2f}")
picture.save(args.output)
print(f"wrote {args.output}")

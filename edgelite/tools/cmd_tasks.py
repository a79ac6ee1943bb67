"""``edgelite classify|detect|segment MODEL INPUT``: the Task Library from the command line.

- ``classify MODEL IMAGE|WAV [--top K] [--threshold S] [--out picture.png]``: image classifiers
  (audio classifiers for ``.wav`` inputs); the picture shows the image with its top labels.
- ``detect MODEL IMAGE [--top K] [--threshold S] [--out picture.png]``: boxes with labels.
- ``segment MODEL IMAGE [--top K] [--out picture.png]``: the category mask over the image
  (the model's colors, 50% blend) with a legend of the K most present classes.

The models' metadata drives pre- and post-processing (see docs/tasks.md). Drawing needs Pillow.
"""
from __future__ import annotations

import argparse
import os
import warnings
from typing import List

import numpy as np

from .cli import UserError


def add_parser(subparsers) -> None:
    for name, help_text, func in (
            ("classify", "label an image (or a .wav with an audio classifier)", run_classify),
            ("detect", "find objects in an image and draw their boxes", run_detect),
            ("segment", "segment an image and draw the colored mask", run_segment)):
        p = subparsers.add_parser(name, help=help_text,
                                  description=f"{help_text[0].upper()}{help_text[1:]} with a "
                                              "TFLite model carrying Task Library metadata.")
        p.add_argument("model", help="path to a .tflite model with metadata")
        p.add_argument("input", help="an image file" + (" or a .wav file" if name == "classify"
                                                         else ""))
        p.add_argument("--top", type=int, default=5 if name != "detect" else None, metavar="K",
                       help="how many results to print and draw" +
                            (" (default: 5)" if name != "detect" else " (default: all)"))
        if name != "segment":
            p.add_argument("--threshold", type=float, default=None, metavar="S",
                           help="minimum score (default: the model's metadata)")
        p.add_argument("--out", metavar="PICTURE", help="write a picture of the result (PNG, JPEG...)")
        p.set_defaults(func=func)


def _check_paths(args) -> None:
    for path in (args.model, args.input):
        if not os.path.exists(path):
            raise UserError(f"{path}: no such file")
        if os.path.isdir(path):
            raise UserError(f"{path}: is a directory")
    if args.top is not None and args.top <= 0:
        raise UserError("--top must be a positive number")


def _pillow():
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise UserError("drawing pictures needs Pillow: pip install 'edgelite[vision]'")
    return Image, ImageDraw, ImageFont


def _load_image(path: str):
    from ..tasks import vision
    try:
        return vision.TensorImage.create_from_file(path)
    except ImportError:
        raise UserError("reading images needs Pillow: pip install 'edgelite[vision]'")
    except RuntimeError as e:
        raise UserError(f"{path}: {e}")


def _label(category) -> str:
    return category.display_name or category.category_name or f"#{category.index}"


def _save(picture, path: str) -> None:
    try:
        picture.save(path)
    except (ValueError, OSError) as e:
        raise UserError(f"cannot write {path}: {e}")
    print(f"wrote {path}")


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    return image[:, :, :3]


def _text_box(draw, xy, text: str, fill, font) -> None:
    left, top, right, bottom = draw.textbbox(xy, text, font=font)
    draw.rectangle((left - 2, top - 1, right + 2, bottom + 1), fill=fill)
    draw.text(xy, text, fill=(255, 255, 255), font=font)


# -- classify ------------------------------------------------------------------------------
def run_classify(args: argparse.Namespace) -> int:
    _check_paths(args)
    from ..tasks import audio, core, processor, vision

    options = processor.ClassificationOptions(max_results=args.top, score_threshold=args.threshold)
    base = core.BaseOptions(file_name=args.model)
    if args.input.lower().endswith(".wav"):
        classifier = audio.AudioClassifier.create_from_options(
            audio.AudioClassifierOptions(base, options))
        clip = audio.TensorAudio.create_from_wav_file(args.input,
                                                      classifier.required_input_buffer_size)
        if clip.buffer_size < classifier.required_input_buffer_size:
            padded = classifier.create_input_tensor_audio()
            padded.load_from_array(clip.buffer)
            clip = padded
        result = classifier.classify(clip)
        image = None
    else:
        image = _load_image(args.input)
        classifier = vision.ImageClassifier.create_from_options(
            vision.ImageClassifierOptions(base, options))
        result = classifier.classify(image)
    lines: List[str] = []
    for head in result.classifications:
        name = f" ({head.head_name})" if head.head_name else ""
        print(f"head {head.head_index}{name}:")
        for rank, category in enumerate(head.categories, 1):
            line = f"{rank}. {_label(category)}  {category.score:.4f}"
            print(f"  {line}  [index {category.index}]")
            lines.append(line)
    if args.out:
        Image, ImageDraw, ImageFont = _pillow()
        if image is None:
            picture = Image.new("RGB", (360, 20 + 18 * max(1, len(lines))), (32, 32, 32))
        else:
            picture = Image.fromarray(_rgb(image.buffer))
        draw, font = ImageDraw.Draw(picture), ImageFont.load_default()
        for i, line in enumerate(lines):
            _text_box(draw, (6, 6 + 18 * i), line, (0, 0, 0), font)
        _save(picture, args.out)
    return 0


# -- detect --------------------------------------------------------------------------------
def run_detect(args: argparse.Namespace) -> int:
    _check_paths(args)
    from ..tasks import core, processor, vision
    from ..tasks.vision.image_segmenter import pascal_voc_color

    image = _load_image(args.input)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # output names that differ from the Task Library's
        detector = vision.ObjectDetector.create_from_options(vision.ObjectDetectorOptions(
            core.BaseOptions(file_name=args.model),
            processor.DetectionOptions(max_results=args.top, score_threshold=args.threshold)))
    detections = detector.detect(image).detections
    print(f"{len(detections)} detection(s)")
    for i, detection in enumerate(detections, 1):
        box, category = detection.bounding_box, detection.categories[0]
        print(f"  {i}. {_label(category)}  {category.score:.4f}  box x={box.origin_x} "
              f"y={box.origin_y} w={box.width} h={box.height}")
    if args.out:
        Image, ImageDraw, ImageFont = _pillow()
        picture = Image.fromarray(_rgb(image.buffer))
        draw, font = ImageDraw.Draw(picture), ImageFont.load_default()
        for detection in detections:
            box, category = detection.bounding_box, detection.categories[0]
            color = pascal_voc_color(category.index + 1)
            draw.rectangle((box.origin_x, box.origin_y, box.origin_x + box.width,
                            box.origin_y + box.height), outline=color, width=3)
            _text_box(draw, (box.origin_x + 3, max(0, box.origin_y - 14)),
                      f"{_label(category)} {category.score:.2f}", color, font)
        _save(picture, args.out)
    return 0


# -- segment -------------------------------------------------------------------------------
def mask_to_image_size(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """Nearest-neighbour resize of a category mask to the image size."""
    rows = (np.arange(height) * mask.shape[0]) // height
    cols = (np.arange(width) * mask.shape[1]) // width
    return mask[rows][:, cols]


def run_segment(args: argparse.Namespace) -> int:
    _check_paths(args)
    from ..tasks import vision

    image = _load_image(args.input)
    segmenter = vision.ImageSegmenter.create_from_file(args.model)
    segmentation = segmenter.segment(image).segmentations[0]
    mask = segmentation.category_mask
    counts = np.bincount(mask.reshape(-1), minlength=len(segmentation.colored_labels))
    present = [int(i) for i in np.argsort(-counts, kind="stable") if counts[i] > 0][:args.top]
    print(f"mask {segmentation.width}x{segmentation.height}, {int((counts > 0).sum())} class(es)")
    for i in present:
        label = segmentation.colored_labels[i]
        name = label.display_name or label.category_name or f"#{i}"
        print(f"  {name}  {counts[i] / mask.size:.1%}  color {label.color}")
    if args.out:
        Image, ImageDraw, ImageFont = _pillow()
        rgb = _rgb(image.buffer).astype(np.float32)
        palette = np.array([label.color for label in segmentation.colored_labels], np.float32)
        full = mask_to_image_size(mask, image.width, image.height)
        blended = (0.5 * rgb + 0.5 * palette[np.minimum(full, len(palette) - 1)]).astype(np.uint8)
        picture = Image.fromarray(blended)
        draw, font = ImageDraw.Draw(picture), ImageFont.load_default()
        for row, i in enumerate(present):
            label = segmentation.colored_labels[i]
            name = label.display_name or label.category_name or f"#{i}"
            y = 6 + 18 * row
            draw.rectangle((6, y, 20, y + 14), fill=tuple(label.color), outline=(255, 255, 255))
            _text_box(draw, (26, y), name, (0, 0, 0), font)
        _save(picture, args.out)
    return 0

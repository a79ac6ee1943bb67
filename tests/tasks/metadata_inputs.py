"""Files for the metadata that tests/tasks writes into a model (no dependency: also imported by
make_fixtures.py, which runs under tflite-support's Python): French display names and a score
calibration file for the 1001 ImageNet labels of the shared MobileNet models."""
from __future__ import annotations

import pathlib

SUPPORT = pathlib.Path(__file__).resolve().parents[3] / "shared" / "support"
LABELS = SUPPORT / "metadata" / "image_classifier" / "labels.txt"
CALIBRATED_MODEL = SUPPORT / "metadata" / "image_classifier" / "mobilenet_v2_1.0_224_quant.tflite"


def french_display_names() -> str:
    labels = LABELS.read_text().split("\n")[:-1]
    return "".join(f"fr {label}\n" for label in labels)


def score_calibration() -> str:
    """1001 lines without a trailing newline: no parameters (empty), scale,slope,offset, or
    scale,slope,offset,min_score."""
    lines = []
    for i in range(1001):
        if i % 7 == 0:
            lines.append("")
        elif i % 3 == 0:
            lines.append(f"{1 - i / 2000:.4f},{0.5 + (i % 11) / 10:.3f},{(i % 5) - 2:.2f},0.02")
        else:
            lines.append(f"{1 - i / 4000:.4f},{1 + (i % 13) / 10:.3f},{(i % 7) / 3:.3f}")
    return "\n".join(lines)


def write_files(folder: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    french, calibration = folder / "labels_fr.txt", folder / "score_calibration.txt"
    french.write_text(french_display_names(), encoding="utf-8")
    calibration.write_text(score_calibration())
    return french, calibration

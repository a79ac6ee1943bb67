"""Spot "yes" / "no" in a one-second 16 kHz recording (TFLite Micro's micro_speech)."""
import argparse
from pathlib import Path

from edgelite.tasks.audio import TensorAudio
from edgelite.tasks.mediapipe import KeywordSpotter
from edgelite.tasks.mediapipe import drawing

REAL = Path(__file__).resolve().parents[2] / "shared" / "realmodels"

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model", nargs=2, metavar=("PREPROCESSOR", "KEYWORD_MODEL"),
                    default=[str(REAL / "tflm_audio_preprocessor_int8.tflite"),
                             str(REAL / "tflm_micro_speech_quantized.tflite")])
parser.add_argument("--input", default=str(REAL / "audio" / "yes_1000ms.wav"))
parser.add_argument("--output", default="keyword_spotting.png")
args = parser.parse_args()

spotter = KeywordSpotter.create_from_model_paths(*args.model)
clip = TensorAudio.create_from_wav_file(args.input, spotter.required_samples)
categories = spotter.classify(clip).classifications[0].categories
top = categories[0]
print(f"word: {top.category_name} ({top.score:.3f})")
scores = [(c.category_name, c.score) for c in sorted(categories, key=lambda c: c.index)]
drawing.draw_waveform(clip.buffer[:, 0], f'"{top.category_name}"', scores).save(args.output)
print(f"wrote {args.output}")

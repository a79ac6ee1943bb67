"""Classify a sound with a Task Library audio classifier (YAMNet) and draw the waveform."""
import argparse
from pathlib import Path

from edgelite.tasks import audio, core, processor
from edgelite.tasks.mediapipe import drawing

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "support" / "task" / "audio"

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model", default=str(AUDIO / "yamnet_audio_classifier_with_metadata.tflite"))
parser.add_argument("--input", default=str(AUDIO / "speech.wav"))
parser.add_argument("--output", default="audio_classification.png")
args = parser.parse_args()

classifier = audio.AudioClassifier.create_from_options(audio.AudioClassifierOptions(
    core.BaseOptions(file_name=args.model), processor.ClassificationOptions(max_results=3)))
clip = audio.TensorAudio.create_from_wav_file(args.input, classifier.required_input_buffer_size)
if clip.buffer_size < classifier.required_input_buffer_size:  # pad a short clip with silence
    padded = classifier.create_input_tensor_audio()
    padded.load_from_array(clip.buffer)
    clip = padded
categories = classifier.classify(clip).classifications[0].categories
for c in categories:
    print(f"{c.display_name or c.category_name}: {c.score:.3f}")
top = categories[0].display_name or categories[0].category_name
scores = [(c.display_name or c.category_name, c.score) for c in categories]
drawing.draw_waveform(clip.buffer[:, 0], top, scores).save(args.output)
print(f"wrote {args.output}")

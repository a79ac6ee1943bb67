"""Audio tasks: ``from edgelite.tasks import audio`` as ``from tflite_support.task import audio``."""
from .audio_classifier import AudioClassifier, AudioClassifierOptions
from .audio_embedder import AudioEmbedder, AudioEmbedderOptions
from .tensor_audio import AudioFormat, TensorAudio
from ..mediapipe.keyword import KeywordSpotter  # TFLite Micro micro_speech

__all__ = ["AudioClassifier", "AudioClassifierOptions", "AudioEmbedder", "AudioEmbedderOptions",
           "AudioFormat", "TensorAudio",
           "KeywordSpotter"]

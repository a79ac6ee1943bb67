"""The Task Library API of ``tflite_support.task`` on edgelite's interpreter.

``from edgelite.tasks import vision`` replaces ``from tflite_support.task import vision``: the same
classes (``ImageClassifier``, ``ObjectDetector``, ``ImageSegmenter``, ``ImageEmbedder``,
``AudioClassifier``, ``NLClassifier``, ``BertNLClassifier``, ``TextEmbedder``), options and result
dataclasses with the same field names. Pre- and post-processing follow the model's TFLite metadata
(read with :mod:`edgelite.metadata`) exactly as the C++ Task Library does. See docs/tasks.md.

Submodules: :mod:`~edgelite.tasks.core` (``BaseOptions`` and the model wrapper shared by every
task), :mod:`~edgelite.tasks.processor` (options, results and the reusable pre/post-processing),
:mod:`~edgelite.tasks.vision`, :mod:`~edgelite.tasks.audio`, :mod:`~edgelite.tasks.text`.
"""
from . import audio, core, processor, text, vision  # noqa: E402  (as tflite_support.task does)

__all__ = ["audio", "core", "processor", "text", "vision"]

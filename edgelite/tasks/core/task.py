"""What every Task Library task shares: how it is created and how it keeps its options.

tflite-support's tasks are all built the same way: ``create_from_file(path)`` wraps the path in
the task's own options class (``base_options=BaseOptions(file_name=path)``, other options at their
defaults) and ``create_from_options(options)`` loads the :class:`TaskModel`, then the task's
constructor ``(options, model)`` validates the model. :class:`Task` holds that once; a task names
its options class in ``OPTIONS_CLASS``.

:class:`EmbedderTask` adds what the image, text and audio embedders share: one
:class:`EmbeddingPostprocessor` per model output, the result assembled from every output,
``cosine_similarity``, ``get_embedding_dimension`` and ``number_of_output_layers``.
"""
from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np

from ..processor.embedding import EmbeddingPostprocessor, cosine_similarity
from ..processor.results import EmbeddingResult, FeatureVector
from .base_options import BaseOptions
from .model import TaskModel


class Task:
    """Base of the tasks: ``create_from_file``, ``create_from_options`` and ``options``."""

    OPTIONS_CLASS: ClassVar[type]

    def __init__(self, options: Any, model: TaskModel) -> None:
        self._options = options
        self._model = model

    @classmethod
    def create_from_file(cls, file_path: str):
        """The task for the model at ``file_path``, every other option at its default."""
        return cls.create_from_options(
            cls.OPTIONS_CLASS(base_options=BaseOptions(file_name=file_path)))

    @classmethod
    def create_from_options(cls, options: Any):
        """The task for ``options`` (its ``base_options`` say which model to load)."""
        return cls(options, TaskModel(options.base_options))

    @property
    def options(self) -> Any:
        return self._options


class EmbedderTask(Task):
    """Base of the embedders: every model output is one embedding."""

    def __init__(self, options: Any, model: TaskModel) -> None:
        super().__init__(options, model)
        self._postprocessors = [EmbeddingPostprocessor(model, i, options.embedding_options)
                                for i in range(len(model.outputs))]

    def _embedding_result(self, outputs: Sequence[np.ndarray]) -> EmbeddingResult:
        """The :class:`EmbeddingResult` of the model's ``outputs`` (one embedding each)."""
        return EmbeddingResult(embeddings=[p.postprocess(outputs[p.output_index])
                                           for p in self._postprocessors])

    def cosine_similarity(self, u: FeatureVector, v: FeatureVector) -> float:
        return cosine_similarity(u, v)

    def get_embedding_dimension(self, output_index: int) -> int:
        """The length of output ``output_index``'s embeddings, -1 for an index out of range."""
        if output_index < 0 or output_index >= len(self._postprocessors):
            return -1
        return self._postprocessors[output_index].dimension

    @property
    def number_of_output_layers(self) -> int:
        return len(self._postprocessors)

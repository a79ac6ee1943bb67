"""``TextEmbedder``: text -> feature vectors (tflite-support's ``text.TextEmbedder``).

One-input models are fed with the regex tokenizer of their metadata; three-input models with the
BERT tokenizer when the metadata has input process units (Universal Sentence Encoder models are
not supported). Every output is one embedding.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..core.base_options import BaseOptions
from ..core.model import TaskError, TaskModel, find_first_process_unit
from ..core.task import EmbedderTask
from ..processor.options import EmbeddingOptions
from ..processor.results import EmbeddingResult
from .bert_nl_classifier import BertInputs
from .nl_classifier import regex_tokenizer_from_metadata


@dataclasses.dataclass
class TextEmbedderOptions:
    base_options: BaseOptions
    embedding_options: EmbeddingOptions = dataclasses.field(default_factory=EmbeddingOptions)


class TextEmbedder(EmbedderTask):
    """One embedding per model output for text (regex or BERT tokenized)."""

    OPTIONS_CLASS = TextEmbedderOptions

    def __init__(self, options: TextEmbedderOptions, model: TaskModel) -> None:
        self._bert = None
        self._tokenizer = None
        if len(model.inputs) == 1:
            unit = find_first_process_unit(model.input_metadata(0), "RegexTokenizerOptions")
            if unit is None:
                raise TaskError("No metadata or input process unit found.")
            self._tokenizer = regex_tokenizer_from_metadata(model, unit)
        elif len(model.inputs) == 3:
            if not model._subgraph().get("input_process_units"):
                raise TaskError("Universal Sentence Encoder models are not supported")
            self._bert = BertInputs(model)
        else:
            raise TaskError(f"Expected 1 or 3 input tensors, got {len(model.inputs)}.")
        super().__init__(options, model)

    def embed(self, text: str) -> EmbeddingResult:
        if self._bert is not None:
            inputs = self._bert.encode(text)
        else:
            detail = self._model.inputs[0]
            shape = [int(d) for d in detail["shape"]]
            length = shape[1] if len(shape) == 2 else shape[0]
            inputs = [np.asarray(self._tokenizer.encode(text, length), np.int32).reshape(shape)]
        return self._embedding_result(self._model.run(inputs))

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
from ..processor.embedding import EmbeddingPostprocessor, cosine_similarity
from ..processor.options import EmbeddingOptions
from ..processor.results import EmbeddingResult, FeatureVector
from .bert_nl_classifier import BertInputs
from .nl_classifier import regex_tokenizer_from_metadata


@dataclasses.dataclass
class TextEmbedderOptions:
    base_options: BaseOptions
    embedding_options: EmbeddingOptions = dataclasses.field(default_factory=EmbeddingOptions)


class TextEmbedder:
    def __init__(self, options: TextEmbedderOptions, model: TaskModel) -> None:
        self._options = options
        self._model = model
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
        self._postprocessors = [EmbeddingPostprocessor(model, i, options.embedding_options)
                                for i in range(len(model.outputs))]

    @classmethod
    def create_from_file(cls, file_path: str) -> "TextEmbedder":
        return cls.create_from_options(TextEmbedderOptions(BaseOptions(file_name=file_path)))

    @classmethod
    def create_from_options(cls, options: TextEmbedderOptions) -> "TextEmbedder":
        return cls(options, TaskModel(options.base_options))

    def embed(self, text: str) -> EmbeddingResult:
        if self._bert is not None:
            inputs = self._bert.encode(text)
        else:
            detail = self._model.inputs[0]
            shape = [int(d) for d in detail["shape"]]
            length = shape[1] if len(shape) == 2 else shape[0]
            inputs = [np.asarray(self._tokenizer.encode(text, length), np.int32).reshape(shape)]
        outputs = self._model.run(inputs)
        return EmbeddingResult(embeddings=[p.postprocess(outputs[p.output_index])
                                           for p in self._postprocessors])

    def cosine_similarity(self, u: FeatureVector, v: FeatureVector) -> float:
        return cosine_similarity(u, v)

    def get_embedding_dimension(self, output_index: int) -> int:
        if output_index < 0 or output_index >= len(self._postprocessors):
            return -1
        return self._postprocessors[output_index].dimension

    @property
    def number_of_output_layers(self) -> int:
        return len(self._postprocessors)

    @property
    def options(self) -> TextEmbedderOptions:
        return self._options

"""``BertNLClassifier``: BERT-family text classifiers (tflite-support's ``text.BertNLClassifier``).

Three int32 inputs (``ids``, ``segment_ids``, ``mask`` by metadata name, else inputs 0, 1, 2) fed
by :func:`~edgelite.tasks.text.tokenizers.bert_encode` with the WordPiece vocabulary of the
``BertTokenizerOptions`` in the input process units; one output, ``probability`` (metadata or
model name) or output 0, turned into categories as :class:`~edgelite.tasks.text.NLClassifier`
does, with labels from that output's first associated file.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional

import numpy as np

from ..core.base_options import BaseOptions
from ..core.model import TaskError, TaskModel
from ..core.task import Task
from ..processor.results import ClassificationResult
from .nl_classifier import category_results, find_tensor, labels_from_metadata
from .tokenizers import BertTokenizer, bert_encode

SCORE_NAME = "probability"


def bert_input_indices(model: TaskModel) -> List[int]:
    """``GetBertInputTensorIndices``: [ids, segment_ids, mask]."""
    if len(model.inputs) < 3:
        raise TaskError("Expected at least 3 input tensors (ids, mask, segment ids), found "
                        f"{len(model.inputs)}.")
    names = [m.get("name") for m in model.input_metadata_list() or []]
    found = [names.index(n) if n in names else -1 for n in ("ids", "segment_ids", "mask")]
    return [0, 1, 2] if -1 in found else found


def bert_tokenizer_from_metadata(model: TaskModel) -> BertTokenizer:
    """The tokenizer of the subgraph's first input process unit (BertTokenizerOptions)."""
    units = model._subgraph().get("input_process_units") or []
    if not units:
        raise TaskError("No input process unit found from metadata.")
    unit = units[0]
    kind = unit.get("options_type")
    if kind != "BertTokenizerOptions":
        raise TaskError(f"Unsupported tokenizer {kind}: only BertTokenizerOptions (WordPiece) is "
                        "supported")
    vocab_files = (unit.get("options") or {}).get("vocab_file") or []
    if not vocab_files:
        raise TaskError("Invalid vocab_file from input process unit.")
    return BertTokenizer(model.associated_file(vocab_files[0]["name"]))


class BertInputs:
    """Text -> the three BERT input tensors of ``model``."""

    def __init__(self, model: TaskModel):
        self.model = model
        self.indices = bert_input_indices(model)
        self.tokenizer = bert_tokenizer_from_metadata(model)
        shapes = [[int(d) for d in model.inputs[i]["shape"]] for i in self.indices]
        if any(len(s) != 2 for s in shapes):
            raise TaskError("The three input tensors in Bert models are expected to have dim 2.")
        if any(s[0] != 1 for s in shapes) or len({s[1] for s in shapes}) != 1:
            raise TaskError("The three input tensors in Bert models are expected to have batch "
                            "size 1 and the same length.")
        self.max_seq_len = shapes[0][1]
        if self.max_seq_len < 2:
            raise TaskError(f"bert_max_seq_len_ should be at least 2, got: ({self.max_seq_len}).")

    def encode(self, text: str) -> List[np.ndarray]:
        ids, mask, segments = bert_encode(self.tokenizer, text, self.max_seq_len)
        inputs = [np.zeros(d["shape"], d["dtype"]) for d in self.model.inputs]
        for index, values in zip(self.indices, (ids, segments, mask)):
            inputs[index] = np.asarray(values, np.int32).reshape(1, -1)
        return inputs


@dataclasses.dataclass
class BertNLClassifierOptions:
    base_options: BaseOptions


class BertNLClassifier(Task):
    """Classifies text with a BERT model whose metadata holds a WordPiece vocabulary."""

    OPTIONS_CLASS = BertNLClassifierOptions

    def __init__(self, options: BertNLClassifierOptions, model: TaskModel) -> None:
        super().__init__(options, model)
        self._inputs = BertInputs(model)
        if len(model.outputs) != 1:
            raise TaskError("BertNLClassifier models are expected to have only 1 output, found "
                            f"{len(model.outputs)}")
        self._score = max(find_tensor(model.outputs, model.output_metadata_list(), SCORE_NAME, 0), 0)
        self._labels: Optional[List[str]] = labels_from_metadata(model, model.output_metadata(0))

    def classify(self, text: str) -> ClassificationResult:
        outputs = self._model.run(self._inputs.encode(text))
        return category_results(outputs[self._score],
                                self._model.outputs[self._score]["quantization"], self._labels, None)

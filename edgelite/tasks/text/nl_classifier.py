"""``NLClassifier``: text -> categories (tflite-support's ``text.NLClassifier``).

The input is either a string tensor (the text as is) or int32 token ids from the
``RegexTokenizerOptions`` of the input's metadata. The score tensor is the output named
``OUTPUT_SCORE`` (in the metadata, then in the model) or output 0; labels come from the first
associated file of the score tensor's metadata, else from an ``OUTPUT_LABEL`` output, else are the
indices. As in tflite-support, categories are returned in the model's order (not sorted), every
one with index 0 and an empty ``display_name``.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional

import numpy as np

from ..core.base_options import BaseOptions
from ..core.model import TaskError, TaskModel, find_first_process_unit
from ..core.task import Task
from ..processor.results import Category, ClassificationResult, Classifications
from .tokenizers import RegexTokenizer, read_lines

INPUT_NAME, SCORE_NAME, LABEL_NAME = "INPUT", "OUTPUT_SCORE", "OUTPUT_LABEL"
SCORE_TYPES = (np.uint8, np.int8, np.int16, np.float32, np.float64, np.bool_)


def find_tensor(details: list, metadata: Optional[list], name: str, index: int) -> int:
    """``FindTensorIndexByName`` then the index: metadata name, model name, else ``index``."""
    for i, item in enumerate(metadata or []):
        if item.get("name") == name and i < len(details):
            return i
    for i, detail in enumerate(details):
        if detail["name"] == name:
            return i
    return index if 0 <= index < len(details) else -1


def category_results(scores: np.ndarray, quantization, labels: Optional[List[str]],
                     label_values: Optional[np.ndarray]) -> ClassificationResult:
    """``NLClassifier::BuildResults``: one category per score, in order."""
    flat = np.asarray(scores).reshape(-1)
    categories = []
    for i, raw in enumerate(flat):
        if labels is not None:
            name = labels[i] if i < len(labels) else ""
        elif label_values is not None:
            value = label_values.reshape(-1)[i]
            name = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        else:
            name = str(i)
        if flat.dtype in (np.uint8, np.int8, np.int16):
            scale, zero_point = quantization
            score = float(np.float32(scale) * np.float32(int(raw) - zero_point))
        elif flat.dtype == np.bool_:
            score = 1.0 if raw else 0.0
        else:
            score = float(np.float32(raw)) if flat.dtype == np.float32 else float(raw)
        categories.append(Category(index=0, score=score, display_name="", category_name=name))
    return ClassificationResult([Classifications(categories, head_index=0, head_name="")])


def labels_from_metadata(model: TaskModel, tensor_metadata: Optional[dict]) -> Optional[List[str]]:
    """``TrySetLabelFromMetadata``: the first associated file, if it is TENSOR_AXIS_LABELS."""
    files = (tensor_metadata or {}).get("associated_files") or []
    if not files or files[0].get("type", "UNKNOWN") != "TENSOR_AXIS_LABELS":
        return None
    try:
        return read_lines(model.associated_file(files[0].get("name", "")))
    except TaskError:
        return None


@dataclasses.dataclass
class NLClassifierOptions:
    base_options: BaseOptions


class NLClassifier(Task):
    """Classifies text with a regex-tokenized (or string-input) model."""

    OPTIONS_CLASS = NLClassifierOptions

    def __init__(self, options: NLClassifierOptions, model: TaskModel) -> None:
        super().__init__(options, model)
        self._input = find_tensor(model.inputs, model.input_metadata_list(), INPUT_NAME, 0)
        if self._input < 0:
            raise TaskError(f"No input tensor found with name {INPUT_NAME} or at index 0")
        detail = model.inputs[self._input]
        self._tokenizer = None
        if detail["dtype"] not in (np.bytes_, np.object_, np.str_):
            unit = find_first_process_unit(model.input_metadata(self._input),
                                           "RegexTokenizerOptions")
            if unit is None:
                raise TaskError("No metadata or input process unit found.")
            if detail["dtype"] != np.int32:
                raise TaskError(f"Type mismatch for input tensor {detail['name']}. Requested INT32 "
                                f"for RegexTokenizer, got {np.dtype(detail['dtype']).name}.")
            self._tokenizer = regex_tokenizer_from_metadata(model, unit)
        outputs, metadata = model.outputs, model.output_metadata_list()
        self._score = find_tensor(outputs, metadata, SCORE_NAME, 0)
        if self._score < 0:
            raise TaskError(f"No output score tensor found with name {SCORE_NAME} or at index 0")
        if outputs[self._score]["dtype"] not in SCORE_TYPES:
            raise TaskError(f"Type mismatch for score tensor {outputs[self._score]['name']}. "
                            "Requested one of these types: INT8/UINT8/INT16/FLOAT32/FLOAT64/BOOL, "
                            f"got {np.dtype(outputs[self._score]['dtype']).name}.")
        self._labels = None
        if metadata and len(metadata) == len(outputs):
            for i, item in enumerate(metadata):
                if item.get("name") == SCORE_NAME or i == 0:
                    self._labels = labels_from_metadata(model, item)
                    if self._labels is not None:
                        break
        self._label_output = -1
        if self._labels is None:
            self._label_output = find_tensor(outputs, metadata, LABEL_NAME, -1)

    def _input_values(self, text: str) -> np.ndarray:
        detail = self._model.inputs[self._input]
        shape = [int(d) for d in detail["shape"]]
        if self._tokenizer is None:
            return np.array([text.encode("utf-8")], dtype=object).reshape(shape)
        length = shape[1] if len(shape) == 2 else shape[0]
        return np.asarray(self._tokenizer.encode(text, length), np.int32).reshape(shape)

    def classify(self, text: str) -> ClassificationResult:
        inputs = [np.zeros(d["shape"], d["dtype"]) for d in self._model.inputs]
        inputs[self._input] = self._input_values(text)
        outputs = self._model.run(inputs)
        label_values = outputs[self._label_output] if self._label_output >= 0 else None
        return category_results(outputs[self._score],
                                self._model.outputs[self._score]["quantization"],
                                self._labels, label_values)


def regex_tokenizer_from_metadata(model: TaskModel, options: dict) -> RegexTokenizer:
    vocab_files = options.get("vocab_file") or []
    if not vocab_files:
        raise TaskError("Invalid vocab_file from input process unit.")
    pattern = options.get("delim_regex_pattern")
    if pattern is None:
        raise TaskError("Invalid delim_regex_pattern from input process unit.")
    try:
        return RegexTokenizer(pattern, model.associated_file(vocab_files[0]["name"]))
    except ValueError as e:
        raise TaskError(str(e)) from e

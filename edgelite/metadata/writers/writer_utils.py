"""Helpers of the metadata writers (tflite-support's ``writer_utils``): tensor names, types and
shapes of a model's first subgraph, file helpers, a tokenizer's associated files."""
from __future__ import annotations

import functools
from typing import List, Optional, Sequence, Union

import numpy as np

from ..objects import BertTokenizerOptions, RegexTokenizerOptions, SentencePieceTokenizerOptions


def compute_flat_size(tensor_shape: Optional[Sequence[int]]) -> int:
    """The number of elements of a shape (0 for an empty or missing shape)."""
    if tensor_shape is None or not len(tensor_shape):
        return 0
    return functools.reduce(lambda x, y: x * y, [int(d) for d in tensor_shape])


def _main_subgraph(model_buffer):
    from ...reader import load_model

    return load_model(bytes(model_buffer)).subgraphs[0]


def get_input_tensor_names(model_buffer) -> List[str]:
    sg = _main_subgraph(model_buffer)
    return [sg.tensors[i].name for i in sg.inputs]


def get_output_tensor_names(model_buffer) -> List[str]:
    sg = _main_subgraph(model_buffer)
    return [sg.tensors[i].name for i in sg.outputs]


def get_input_tensor_types(model_buffer) -> List[int]:
    """The ``TensorType`` codes of the inputs (compare with ``edgelite.schema.TensorType``)."""
    sg = _main_subgraph(model_buffer)
    return [int(sg.tensors[i].dtype) for i in sg.inputs]


def get_output_tensor_types(model_buffer) -> List[int]:
    sg = _main_subgraph(model_buffer)
    return [int(sg.tensors[i].dtype) for i in sg.outputs]


def get_input_tensor_shape(model_buffer, tensor_index: int) -> np.ndarray:
    sg = _main_subgraph(model_buffer)
    return np.array(sg.tensors[sg.inputs[tensor_index]].shape, np.int32)


def load_file(file_path: str, mode: str = "rb") -> Union[str, bytes]:
    with open(file_path, mode) as f:
        return f.read()


def save_file(file_bytes: Union[bytes, bytearray], save_to_path: str, mode: str = "wb") -> None:
    with open(save_to_path, mode) as f:
        f.write(file_bytes)


def get_tokenizer_associated_files(tokenizer_options) -> List[Optional[str]]:
    """Names of the files of a tokenizer's options (vocabulary, sentence piece model)."""
    if not tokenizer_options:
        return []

    def names(files) -> List[str]:
        return [f.name for f in files or []]

    if isinstance(tokenizer_options, (BertTokenizerOptions, RegexTokenizerOptions)):
        return names(tokenizer_options.vocab_file)
    if isinstance(tokenizer_options, SentencePieceTokenizerOptions):
        return names(tokenizer_options.vocab_file) + names(tokenizer_options.sentencePiece_model)
    return []

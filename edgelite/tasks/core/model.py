"""The model behind a task: interpreter, TFLite metadata (as tflite-support's JSON) and files.

Every task builds one :class:`TaskModel` from its :class:`BaseOptions`. The metadata is read with
:mod:`edgelite.metadata` (``MetadataDisplayer``) and kept as the JSON dictionary that
tflite-support's ``MetadataDisplayer.get_metadata_json()`` prints: field names of
``metadata_schema.fbs``, enums as names, default values omitted (the helpers below restore the
schema's defaults where the Task Library reads them).
"""
from __future__ import annotations

import json
import os
from typing import Any, Optional, Sequence

import numpy as np

from .base_options import BaseOptions

METADATA_BUFFER_NAME = "TFLITE_METADATA"


class TaskError(ValueError):
    """A model or option the Task Library refuses (tflite-support raises ``ValueError`` too)."""


def _model_bytes(options: BaseOptions) -> bytes:
    if options is None:
        raise TaskError("base_options is required")
    if options.use_coral:
        raise TaskError("use_coral: edgelite has no Edge TPU delegate")
    if options.file_content is not None:
        return bytes(options.file_content)
    if options.file_name:
        with open(os.fspath(options.file_name), "rb") as f:
            return f.read()
    raise TaskError("Expected exactly one of `file_name` or `file_content` in BaseOptions, found none")


class TaskModel:
    """A loaded model: run it, read its metadata and its associated files."""

    def __init__(self, options: BaseOptions):
        from ...interpreter import Interpreter

        self.content = _model_bytes(options)
        threads = options.num_threads
        if threads is not None and (threads == 0 or threads < -1):
            raise TaskError("`num_threads` must be greater than 0 or equal to -1.")
        self.interpreter = Interpreter(model_content=self.content,
                                       num_threads=None if threads in (None, -1) else threads)
        self.interpreter.allocate_tensors()
        self.inputs = self.interpreter.get_input_details()
        self.outputs = self.interpreter.get_output_details()
        self.metadata: Optional[dict] = None
        self._displayer = None
        if METADATA_BUFFER_NAME in self.interpreter.model.metadata:
            from ...metadata import MetadataDisplayer

            self._displayer = MetadataDisplayer.with_model_buffer(self.content)
            self.metadata = json.loads(self._displayer.get_metadata_json())

    # -- metadata --------------------------------------------------------------------------
    def _subgraph(self) -> dict:
        subgraphs = (self.metadata or {}).get("subgraph_metadata") or []
        return subgraphs[0] if subgraphs else {}

    def input_metadata_list(self) -> Optional[list]:
        return self._subgraph().get("input_tensor_metadata")

    def output_metadata_list(self) -> Optional[list]:
        return self._subgraph().get("output_tensor_metadata")

    def input_metadata(self, index: int) -> Optional[dict]:
        items = self.input_metadata_list() or []
        return items[index] if index < len(items) else None

    def output_metadata(self, index: int) -> Optional[dict]:
        items = self.output_metadata_list() or []
        return items[index] if index < len(items) else None

    def associated_file(self, name: str) -> bytes:
        """The bytes of an associated file packed in the model (``TaskError`` if absent)."""
        if self._displayer is None or name not in self._displayer.get_packed_associated_file_list():
            raise TaskError(f"No associated file with name: {name}")
        return bytes(self._displayer.get_associated_file_buffer(name))

    # -- inference -------------------------------------------------------------------------
    def run(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Set every input (in order), invoke, and return every output (in order)."""
        for detail, value in zip(self.inputs, inputs):
            self.interpreter.set_tensor(detail["index"], value)
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(d["index"]) for d in self.outputs]


def find_first_associated_file(tensor_metadata: Optional[dict], file_type: str,
                               locale: str = "") -> str:
    """The name of the first associated file of ``file_type`` (and ``locale`` if given), or ''.

    As ``ModelMetadataExtractor::FindFirstAssociatedFileName``.
    """
    for item in (tensor_metadata or {}).get("associated_files") or []:
        if item.get("type", "UNKNOWN") != file_type or not item.get("name"):
            continue
        if not locale or item.get("locale") == locale:
            return item["name"]
    return ""


def find_first_process_unit(tensor_metadata: Optional[dict], options_type: str) -> Optional[dict]:
    """The ``options`` of the first process unit of ``options_type`` (``{}`` when all default)."""
    for unit in (tensor_metadata or {}).get("process_units") or []:
        if unit.get("options_type") == options_type:
            return unit.get("options") or {}
    return None


def content_properties(tensor_metadata: Optional[dict]) -> tuple[str, dict]:
    """``(content_properties_type, content_properties)`` of a tensor's metadata ('NONE', {})."""
    content = (tensor_metadata or {}).get("content") or {}
    return content.get("content_properties_type", "NONE"), content.get("content_properties") or {}


def metadata_value(mapping: Optional[dict], key: str, default: Any) -> Any:
    """A field of the metadata JSON, or the schema's default where the JSON omits it."""
    value = (mapping or {}).get(key)
    return default if value is None else value

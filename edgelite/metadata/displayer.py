"""``MetadataDisplayer``: tflite-support's metadata reader (JSON, buffer, associated files)."""
from __future__ import annotations

import os
from typing import Union

from ..schema.codec import Decoder
from .container import (Buffer, MetadataError, assert_metadata_identifier, assert_model_identifier,
                        get_metadata_buffer, packed_file_names, read_file_bytes, read_packed_file)
from .json_text import metadata_dict_to_json
from .schema import METADATA_SCHEMA, ROOT_TABLE


def decode_metadata(metadata_buf: Buffer) -> dict:
    """A ``ModelMetadata`` FlatBuffer as nested dicts (absent fields ``None``), checked."""
    assert_metadata_identifier(metadata_buf)
    return Decoder(bytes(metadata_buf), METADATA_SCHEMA).root(ROOT_TABLE)


def convert_to_json(metadata_buf: Buffer) -> str:
    """The metadata as the JSON text tflite-support's ``convert_to_json`` prints."""
    return metadata_dict_to_json(decode_metadata(metadata_buf))


class MetadataDisplayer:
    """Displays the metadata and associated files of a model (tflite-support's API)."""

    def __init__(self, model_buffer: Buffer, metadata_buffer: Buffer, associated_file_list: list):
        assert_model_identifier(model_buffer)
        assert_metadata_identifier(metadata_buffer)
        self._model_buffer = bytes(model_buffer)
        self._metadata_buffer = bytes(metadata_buffer)
        self._associated_file_list = list(associated_file_list)

    @classmethod
    def with_model_file(cls, model_file: Union[str, os.PathLike]) -> "MetadataDisplayer":
        """A displayer for a model file (``OSError`` if missing, ``ValueError`` without metadata)."""
        return cls.with_model_buffer(read_file_bytes(model_file))

    @classmethod
    def with_model_buffer(cls, model_buffer: Buffer) -> "MetadataDisplayer":
        """A displayer for a model held in memory."""
        if not model_buffer:
            raise MetadataError("model_buffer cannot be empty.")
        metadata_buffer = get_metadata_buffer(model_buffer)
        if not metadata_buffer:
            raise MetadataError("The model does not have metadata.")
        return cls(model_buffer, metadata_buffer, packed_file_names(model_buffer))

    def get_associated_file_buffer(self, filename: str) -> bytes:
        """The content of an associated file packed in the model."""
        if filename not in self._associated_file_list:
            raise MetadataError(f"The file, {filename}, does not exist in the model.")
        return read_packed_file(self._model_buffer, filename)

    def get_metadata_buffer(self) -> bytes:
        """The ``ModelMetadata`` FlatBuffer (``M001``) stored in the model."""
        return self._metadata_buffer

    def get_metadata_json(self) -> str:
        """The metadata as JSON, exactly as tflite-support prints it."""
        return convert_to_json(self._metadata_buffer)

    def get_packed_associated_file_list(self) -> list[str]:
        """Names of the associated files packed in the model."""
        return list(self._associated_file_list)

    def get_metadata(self):
        """The metadata as :class:`edgelite.metadata.ModelMetadata` dataclasses."""
        from .objects import ModelMetadata

        return ModelMetadata.from_dict(decode_metadata(self._metadata_buffer))

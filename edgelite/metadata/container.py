"""Where metadata lives in a ``.tflite`` file: the ``TFLITE_METADATA`` buffer and the appended zip.

A model with metadata names one of its buffers in ``Model.metadata`` as ``TFLITE_METADATA``; that
buffer holds a ``ModelMetadata`` FlatBuffer with file identifier ``M001``. Associated files
(labels, vocabularies, calibration tables) are an uncompressed zip archive appended after the
model, its offsets counted from the start of the file, so that both the FlatBuffer and the zip
readers find what they need in one file.
"""
from __future__ import annotations

import io
import os
import zipfile
from typing import Optional, Union

from ..errors import ModelError
from ..schema._spec import TABLES
from ..schema.codec import Decoder, SchemaFacts
from .schema import FILE_IDENTIFIER, METADATA_BUFFER_NAME

TFLITE_FILE_IDENTIFIER = b"TFL3"
Buffer = Union[bytes, bytearray, memoryview]


class MetadataError(ModelError):
    """Metadata that cannot be read, written or populated (a ``ValueError``, as tflite-support's)."""


def read_file_bytes(path: Union[str, os.PathLike]) -> bytes:
    if not os.path.exists(path):
        raise OSError(f"File, '{os.fspath(path)}', does not exist.")
    with open(path, "rb") as f:
        return f.read()


def assert_model_identifier(model_buf: Buffer) -> None:
    if bytes(memoryview(model_buf)[4:8]) != TFLITE_FILE_IDENTIFIER:
        raise MetadataError("The model provided does not have the expected identifier, and may not "
                            "be a valid TFLite model.")


def assert_metadata_identifier(metadata_buf: Buffer) -> None:
    if bytes(memoryview(metadata_buf)[4:8]) != FILE_IDENTIFIER:
        raise MetadataError("The metadata buffer does not have the expected identifier, and may "
                            "not be a valid TFLite Metadata.")


# Just what finding the metadata needs of the TFLite schema: Model.buffers and Model.metadata
# (the checked decoder skips the other slots, so a model edgelite could not run still shows its
# metadata, and a large one is not decoded in full).
_MODEL_METADATA_FIELDS = SchemaFacts({
    "Model": [(4, "buffers", ("vector", "table:Buffer"), None),
              (6, "metadata", ("vector", "table:Metadata"), None)],
    "Buffer": TABLES["Buffer"],
    "Metadata": TABLES["Metadata"],
}, {})


def get_metadata_buffer(model_buf: Buffer) -> Optional[bytes]:
    """The ``TFLITE_METADATA`` buffer of a model, or ``None`` when it has none."""
    assert_model_identifier(model_buf)
    data = bytes(model_buf)
    model = Decoder(data, _MODEL_METADATA_FIELDS).root("Model")
    buffers = model["buffers"] or []
    for i, entry in enumerate(model["metadata"] or []):
        if entry["name"] != METADATA_BUFFER_NAME:
            continue
        index = entry["buffer"]
        if not 0 <= index < len(buffers):
            raise MetadataError(f"Model.metadata[{i}].buffer: buffer index {index} out of range "
                                f"(0..{len(buffers) - 1})")
        buffer = buffers[index]
        if buffer["offset"] > 1:  # stored after the FlatBuffer (large-model layout)
            start, size = buffer["offset"], buffer["size"]
            if start + size > len(data):
                raise MetadataError(f"Model.buffers[{index}].offset: {start} (+{size} bytes) lies "
                                    f"outside the {len(data)}-byte file")
            return data[start:start + size]
        return b"" if buffer["data"] is None else buffer["data"].tobytes()
    return None


def packed_file_names(model_buf: Buffer) -> list[str]:
    """Names of the files in the zip appended to ``model_buf`` ([] when there is none)."""
    try:
        with zipfile.ZipFile(io.BytesIO(model_buf)) as zf:
            return zf.namelist()
    except zipfile.BadZipFile:
        return []


def read_packed_file(model_buf: Buffer, name: str) -> bytes:
    """The content of one associated file of ``model_buf``."""
    with zipfile.ZipFile(io.BytesIO(model_buf)) as zf:
        return zf.read(name)

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


def get_metadata_buffer(model_buf: Buffer) -> Optional[bytes]:
    """The ``TFLITE_METADATA`` buffer of a model, or ``None`` when it has none."""
    from ..reader import load_model

    assert_model_identifier(model_buf)
    data = load_model(bytes(model_buf)).metadata.get(METADATA_BUFFER_NAME)
    return None if data is None else bytes(memoryview(data).cast("B"))


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

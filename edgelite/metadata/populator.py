"""``MetadataPopulator``: packs a metadata buffer and associated files into a model.

tflite-support's populator with the same methods and checks. The metadata is re-packed with its
``min_parser_version`` computed (:mod:`edgelite.metadata.version`) and associated file names
reduced to their base names; the model is rewritten by edgelite's writer with the metadata in the
buffer named ``TFLITE_METADATA`` (replacing an earlier one); the associated files (those already
packed, then the new ones) form an uncompressed zip appended after it, offsets counted from the
start of the file. Zip entries get a fixed date (1980-01-01), so populating is reproducible.
"""
from __future__ import annotations

import io
import os
import warnings
import zipfile
from typing import Dict, List, Optional, Union

from .container import (Buffer, MetadataError, assert_metadata_identifier, assert_model_identifier,
                        get_metadata_buffer, packed_file_names, read_file_bytes)
from .objects import ModelMetadata, recorded_associated_files
from .schema import FILE_IDENTIFIER, METADATA_BUFFER_NAME
from .version import get_min_parser_version

PathLike = Union[str, os.PathLike]
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def build_zip(files: Dict[str, bytes]) -> bytes:
    """An uncompressed zip of ``files`` (name -> content) in the given order, with fixed dates."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.external_attr = 0o600 << 16
            zf.writestr(info, bytes(data))
    return out.getvalue()


class MetadataPopulator:
    """Packs metadata and associated files into a TFLite model file or buffer."""

    METADATA_FIELD_NAME = METADATA_BUFFER_NAME
    TFLITE_FILE_IDENTIFIER = b"TFL3"
    METADATA_FILE_IDENTIFIER = FILE_IDENTIFIER

    def __init__(self, model_file: Optional[PathLike], model_buffer: Optional[Buffer] = None):
        if model_buffer is None:
            model_buffer = read_file_bytes(model_file)
        assert_model_identifier(model_buffer)
        self._model_file = model_file
        self._model_buffer = bytes(model_buffer)
        self._metadata_buf: Optional[bytes] = None
        self._associated_files: Dict[str, bytes] = {}

    @classmethod
    def with_model_file(cls, model_file: PathLike) -> "MetadataPopulator":
        """A populator that rewrites ``model_file`` in place when :meth:`populate` runs."""
        return cls(model_file)

    @classmethod
    def with_model_buffer(cls, model_buf: Buffer) -> "MetadataPopulator":
        """A populator working on a model in memory (see :meth:`get_model_buffer`)."""
        if not model_buf:
            raise MetadataError("model_buf cannot be empty.")
        return cls(None, model_buf)

    # -- what is there --------------------------------------------------------------------
    def get_model_buffer(self) -> bytes:
        """The model with the metadata and files populated so far."""
        return self._model_buffer

    def get_packed_associated_file_list(self) -> List[str]:
        """Names of the associated files already packed in the model."""
        return packed_file_names(self._model_buffer)

    def get_recorded_associated_file_list(self) -> List[str]:
        """Names of the associated files the loaded metadata records."""
        if not self._metadata_buf:
            return []
        return [f.name for f in recorded_associated_files(ModelMetadata.from_buffer(self._metadata_buf))]

    # -- loading --------------------------------------------------------------------------
    def load_associated_file_buffers(self, associated_files: Dict[str, bytes]) -> None:
        """Files to pack, as ``{name: content}``; a path as name packs its base name."""
        self._associated_files.update({os.path.basename(name): bytes(data)
                                       for name, data in associated_files.items()})

    def load_associated_files(self, associated_files: List[PathLike]) -> None:
        """Files to pack, read from these paths (``OSError`` if one is missing)."""
        for path in associated_files:
            self.load_associated_file_buffers({os.fspath(path): read_file_bytes(path)})

    def load_metadata_buffer(self, metadata_buf: Buffer) -> None:
        """The ``M001`` metadata to populate: validated against the model, then re-packed with
        its ``min_parser_version`` and associated file base names."""
        if not metadata_buf:
            raise MetadataError("The metadata to be populated is empty.")
        metadata_buf = bytes(metadata_buf)
        self._validate_metadata(metadata_buf)
        metadata = ModelMetadata.from_buffer(metadata_buf)
        metadata.min_parser_version = get_min_parser_version(metadata_buf)
        for item in recorded_associated_files(metadata):
            if item.name is not None:
                item.name = os.path.basename(item.name)
        self._metadata_buf = metadata.to_buffer()

    def load_metadata_file(self, metadata_file: PathLike) -> None:
        """The metadata to populate, read from a file."""
        self.load_metadata_buffer(read_file_bytes(metadata_file))

    def load_metadata_and_associated_files(self, src_model_buf: Buffer) -> None:
        """The metadata and associated files of another model."""
        metadata_buf = get_metadata_buffer(src_model_buf)
        if metadata_buf:
            self.load_metadata_buffer(metadata_buf)
        names = packed_file_names(src_model_buf)
        if names:
            with zipfile.ZipFile(io.BytesIO(bytes(src_model_buf))) as zf:
                self.load_associated_file_buffers({name: zf.read(name) for name in names})

    # -- populating -----------------------------------------------------------------------
    def populate(self) -> None:
        """Write the loaded metadata and files into the model (and its file, if any)."""
        from ..reader import load_model

        self._assert_validate()
        model = load_model(self._model_buffer)
        packed = self.get_packed_associated_file_list()
        files: Dict[str, bytes] = {}
        if packed:
            with zipfile.ZipFile(io.BytesIO(self._model_buffer)) as zf:
                files = {name: zf.read(name) for name in packed}
        if self._metadata_buf is not None:
            model.metadata[METADATA_BUFFER_NAME] = self._metadata_buf
        files.update(self._associated_files)
        model.appended_zip = build_zip(files) if files else None
        self._model_buffer = model.to_bytes()
        self._associated_files = {}
        if self._model_file is not None:
            with open(self._model_file, "wb") as f:
                f.write(self._model_buffer)

    def _assert_validate(self) -> None:
        recorded = self.get_recorded_associated_file_list()
        packed = self.get_packed_associated_file_list()
        for name in recorded:
            if name not in self._associated_files and name not in packed:
                raise MetadataError(f"File, '{name}', is recorded in the metadata, but has not "
                                    "been loaded into the populator.")
        for name in self._associated_files:
            if name in packed:
                raise MetadataError(f"File, '{name}', has already been packed.")
            if name not in recorded:
                warnings.warn(f"File, '{name}', does not exist in the metadata. But packing it to "
                              "tflite model is still allowed.", stacklevel=3)

    def _validate_metadata(self, metadata_buf: bytes) -> None:
        from ..reader import load_model

        assert_metadata_identifier(metadata_buf)
        metadata = ModelMetadata.from_buffer(metadata_buf)
        subgraphs = metadata.subgraph_metadata or []
        if len(subgraphs) != 1:
            raise MetadataError("The number of SubgraphMetadata should be exactly one, but got "
                                f"{len(subgraphs)}.")
        main = load_model(self._model_buffer).subgraphs[0]
        for kind, tensors, items in (("input", main.inputs, subgraphs[0].input_tensor_metadata),
                                     ("output", main.outputs, subgraphs[0].output_tensor_metadata)):
            if len(tensors) != len(items or []):
                raise MetadataError(f"The number of {kind} tensors ({len(tensors)}) should match the "
                                    f"number of {kind} tensor metadata ({len(items or [])})")

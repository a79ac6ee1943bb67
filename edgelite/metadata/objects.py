"""TFLite metadata as Python dataclasses (the object API of ``metadata_schema.fbs``).

One dataclass per schema table, fields named as in the schema (and the JSON). Enum fields hold
the enum's name (``"RGB"``, ``"TENSOR_AXIS_LABELS"``), or the number for a value the schema does
not name; numeric vectors are lists. Strings, vectors and sub-tables are ``None`` when absent;
scalars default to the schema's default. Union fields hold the member dataclass and a
``..._type`` name, as tflite-support's object API does.

``ModelMetadata.from_buffer(buf)`` reads an ``M001`` FlatBuffer, ``to_buffer()`` writes one
(scalars equal to their default are not stored, as flatbuffers' object API does), and
:func:`read_metadata` reads a model file's metadata.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, List, Optional, Union

import flatbuffers
import numpy as np

from ..schema.codec import encode_table
from .schema import ENUMS, FILE_IDENTIFIER, METADATA_SCHEMA, ROOT_TABLE, TABLES


@dataclass
class AssociatedFile:
    name: Optional[str] = None
    description: Optional[str] = None
    type: str = "UNKNOWN"
    locale: Optional[str] = None
    version: Optional[str] = None


@dataclass
class FeatureProperties:
    pass


@dataclass
class ImageSize:
    width: int = 0
    height: int = 0


@dataclass
class ImageProperties:
    color_space: str = "UNKNOWN"
    default_size: Optional[ImageSize] = None


@dataclass
class AudioProperties:
    sample_rate: int = 0
    channels: int = 0


@dataclass
class BoundingBoxProperties:
    index: Optional[List[int]] = None
    type: str = "UNKNOWN"
    coordinate_type: str = "RATIO"


@dataclass
class ValueRange:
    min: int = 0
    max: int = 0


ContentPropertiesT = Union[FeatureProperties, ImageProperties, BoundingBoxProperties, AudioProperties]


@dataclass
class Content:
    content_properties_type: str = "NONE"
    content_properties: Optional[ContentPropertiesT] = None
    range: Optional[ValueRange] = None


@dataclass
class NormalizationOptions:
    mean: Optional[List[float]] = None
    std: Optional[List[float]] = None


@dataclass
class ScoreCalibrationOptions:
    score_transformation: str = "IDENTITY"
    default_score: float = 0.0


@dataclass
class ScoreThresholdingOptions:
    global_score_threshold: float = 0.0


@dataclass
class BertTokenizerOptions:
    vocab_file: Optional[List[AssociatedFile]] = None


@dataclass
class SentencePieceTokenizerOptions:
    sentencePiece_model: Optional[List[AssociatedFile]] = None
    vocab_file: Optional[List[AssociatedFile]] = None


@dataclass
class RegexTokenizerOptions:
    delim_regex_pattern: Optional[str] = None
    vocab_file: Optional[List[AssociatedFile]] = None


ProcessUnitOptionsT = Union[NormalizationOptions, ScoreCalibrationOptions, ScoreThresholdingOptions,
                            BertTokenizerOptions, SentencePieceTokenizerOptions, RegexTokenizerOptions]


@dataclass
class ProcessUnit:
    options_type: str = "NONE"
    options: Optional[ProcessUnitOptionsT] = None


@dataclass
class Stats:
    max: Optional[List[float]] = None
    min: Optional[List[float]] = None


@dataclass
class TensorGroup:
    name: Optional[str] = None
    tensor_names: Optional[List[str]] = None


@dataclass
class TensorMetadata:
    name: Optional[str] = None
    description: Optional[str] = None
    dimension_names: Optional[List[str]] = None
    content: Optional[Content] = None
    process_units: Optional[List[ProcessUnit]] = None
    stats: Optional[Stats] = None
    associated_files: Optional[List[AssociatedFile]] = None


@dataclass
class CustomMetadata:
    name: Optional[str] = None
    data: Optional[bytes] = None


@dataclass
class SubGraphMetadata:
    name: Optional[str] = None
    description: Optional[str] = None
    input_tensor_metadata: Optional[List[TensorMetadata]] = None
    output_tensor_metadata: Optional[List[TensorMetadata]] = None
    associated_files: Optional[List[AssociatedFile]] = None
    input_process_units: Optional[List[ProcessUnit]] = None
    output_process_units: Optional[List[ProcessUnit]] = None
    input_tensor_groups: Optional[List[TensorGroup]] = None
    output_tensor_groups: Optional[List[TensorGroup]] = None
    custom_metadata: Optional[List[CustomMetadata]] = None


@dataclass
class ModelMetadata:
    name: Optional[str] = None
    description: Optional[str] = None
    version: Optional[str] = None
    subgraph_metadata: Optional[List[SubGraphMetadata]] = None
    author: Optional[str] = None
    license: Optional[str] = None
    associated_files: Optional[List[AssociatedFile]] = None
    min_parser_version: Optional[str] = None

    @classmethod
    def from_dict(cls, raw: dict) -> "ModelMetadata":
        """From the nested dicts the codec decodes (see :func:`decode_metadata`)."""
        return _from_dict(ROOT_TABLE, raw)

    @classmethod
    def from_buffer(cls, metadata_buf) -> "ModelMetadata":
        """From an ``M001`` metadata FlatBuffer."""
        from .displayer import decode_metadata

        return cls.from_dict(decode_metadata(metadata_buf))

    def to_dict(self) -> dict:
        """The nested dicts the codec encodes (enums as numbers, absent fields ``None``)."""
        return _to_dict(ROOT_TABLE, self)

    def to_buffer(self) -> bytes:
        """This metadata as an ``M001`` FlatBuffer."""
        builder = flatbuffers.Builder(1024)
        builder.Finish(encode_table(builder, ROOT_TABLE, self.to_dict(), METADATA_SCHEMA),
                       file_identifier=FILE_IDENTIFIER)
        return bytes(builder.Output())

    # -- conveniences for readers of one-subgraph models -----------------------------------
    @property
    def subgraph(self) -> Optional[SubGraphMetadata]:
        """The first (in practice the only) subgraph's metadata, or ``None``."""
        return self.subgraph_metadata[0] if self.subgraph_metadata else None

    def all_associated_files(self) -> List[AssociatedFile]:
        """Every associated file the metadata records, in tflite-support's order: the model's,
        then per subgraph its own, its tensors' (with their tokenizers' vocabularies) and its
        process units' tokenizer files."""
        return recorded_associated_files(self)


CLASSES = {cls.__name__: cls for cls in (
    AssociatedFile, FeatureProperties, ImageSize, ImageProperties, AudioProperties,
    BoundingBoxProperties, ValueRange, Content, NormalizationOptions, ScoreCalibrationOptions,
    ScoreThresholdingOptions, BertTokenizerOptions, SentencePieceTokenizerOptions,
    RegexTokenizerOptions, ProcessUnit, Stats, TensorGroup, TensorMetadata, CustomMetadata,
    SubGraphMetadata, ModelMetadata)}
_ENUM_NAMES = {name: {v: k for k, v in values.items()} for name, values in ENUMS.items()}


def _from_dict(tname: str, raw: dict):
    kwargs: dict[str, Any] = {}
    for _slot, name, kind, _default in TABLES[tname]:
        value = raw.get(name)
        if value is None:
            continue
        if kind[0] == "scalar":
            if len(kind) > 2:
                value = _ENUM_NAMES[kind[2]].get(int(value), int(value))
            elif kind[1].startswith("float"):
                value = float(value)
            else:
                value = int(value)
        elif kind[0] == "table":
            value = _from_dict(kind[1], value)
        elif kind[0] == "union":
            member = METADATA_SCHEMA.union_tables[kind[1]].get(raw.get(name + "_type") or 0)
            value = _from_dict(member, value) if member else None
        elif kind[0] == "vector":
            if kind[1].startswith("table:"):
                value = [_from_dict(kind[1][6:], item) for item in value]
            elif kind[1] == "uint8":
                value = bytes(np.asarray(value, np.uint8))
            elif kind[1] != "string":
                value = np.asarray(value).tolist()
            else:
                value = list(value)
        kwargs[name] = value
    return CLASSES[tname](**kwargs)


def _enum_value(enum: str, value) -> int:
    if isinstance(value, str):
        try:
            return ENUMS[enum][value]
        except KeyError:
            raise ValueError(f"{value!r} is not a {enum} (one of {sorted(ENUMS[enum])})") from None
    return int(value)


def _to_dict(tname: str, obj) -> dict:
    out: dict[str, Any] = {}
    for _slot, name, kind, _default in TABLES[tname]:
        value = getattr(obj, name)
        if value is None:
            continue
        if kind[0] == "scalar":
            value = _enum_value(kind[2], value) if len(kind) > 2 else value
        elif kind[0] == "table":
            value = _to_dict(kind[1], value)
        elif kind[0] == "union":
            member = type(value).__name__
            out[name + "_type"] = ENUMS[kind[1]][member]
            value = _to_dict(member, value)
        elif kind[0] == "vector" and kind[1].startswith("table:"):
            value = [_to_dict(kind[1][6:], item) for item in value]
        elif kind[0] == "vector" and kind[1] == "uint8":
            value = np.frombuffer(bytes(value), np.uint8)
        out[name] = value
    return out


def _tokenizer_files(units: Optional[List[ProcessUnit]]) -> List[AssociatedFile]:
    files: List[AssociatedFile] = []
    for unit in units or []:
        options = unit.options
        if isinstance(options, (BertTokenizerOptions, RegexTokenizerOptions)):
            files += options.vocab_file or []
        elif isinstance(options, SentencePieceTokenizerOptions):
            files += (options.sentencePiece_model or []) + (options.vocab_file or [])
    return files


def recorded_associated_files(metadata: ModelMetadata) -> List[AssociatedFile]:
    """The associated files ``metadata`` records (as tflite-support's populator collects them)."""
    files = list(metadata.associated_files or [])
    for subgraph in metadata.subgraph_metadata or []:
        files += subgraph.associated_files or []
        for tensor in (subgraph.input_tensor_metadata or []) + (subgraph.output_tensor_metadata or []):
            files += tensor.associated_files or []
            files += _tokenizer_files(tensor.process_units)
        files += _tokenizer_files(subgraph.input_process_units)
        files += _tokenizer_files(subgraph.output_process_units)
    return files


def read_metadata(model: Union[str, os.PathLike, bytes, bytearray, memoryview]) -> Optional[ModelMetadata]:
    """The metadata of a model file or buffer as dataclasses, or ``None`` when it has none."""
    from .container import get_metadata_buffer, read_file_bytes

    buf = read_file_bytes(model) if isinstance(model, (str, os.PathLike)) else model
    metadata_buf = get_metadata_buffer(buf)
    return None if not metadata_buf else ModelMetadata.from_buffer(metadata_buf)


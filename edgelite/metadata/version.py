"""``min_parser_version``: the oldest metadata parser that understands every field populated.

The rules of tflite-support's ``metadata_version.cc`` (``GetMinimumMetadataParserVersion``): start
at 1.0.0 and raise the version to that of each post-1.0.0 schema member found in the buffer:

======================================================  =======
member                                                  version
======================================================  =======
``AssociatedFile.type == VOCABULARY``                   1.0.1
``SubGraphMetadata.input_process_units`` present        1.1.0
``SubGraphMetadata.output_process_units`` present       1.1.0
``BertTokenizerOptions`` / ``SentencePieceTokenizerOptions`` process unit   1.1.0
``SubGraphMetadata.input/output_tensor_groups`` present 1.2.0
``RegexTokenizerOptions`` process unit                  1.2.1
``AudioProperties`` content                             1.3.0
``AssociatedFile.type == SCANN_INDEX_FILE``             1.4.0
``AssociatedFile.version`` present                      1.4.1
``SubGraphMetadata.custom_metadata`` present            1.5.0
======================================================  =======

The same places are inspected as there: the model's and each subgraph's associated files, each
tensor's associated files, process units and content, and the subgraphs' process units. Files
nested in tokenizer options are not inspected (as in the C++ code).
"""
from __future__ import annotations

from typing import Iterable, Optional

from .displayer import decode_metadata
from .schema import ENUMS

_FILE_TYPES = ENUMS["AssociatedFileType"]
_UNIT_TYPES = ENUMS["ProcessUnitOptions"]
_TOKENIZER_VERSIONS = {_UNIT_TYPES["BertTokenizerOptions"]: (1, 1, 0),
                       _UNIT_TYPES["SentencePieceTokenizerOptions"]: (1, 1, 0),
                       _UNIT_TYPES["RegexTokenizerOptions"]: (1, 2, 1)}


def _files(files: Optional[Iterable[dict]]) -> Iterable[tuple]:
    for f in files or []:
        if f.get("type") == _FILE_TYPES["VOCABULARY"]:
            yield (1, 0, 1)
        if f.get("type") == _FILE_TYPES["SCANN_INDEX_FILE"]:
            yield (1, 4, 0)
        if f.get("version") is not None:
            yield (1, 4, 1)


def _units(units: Optional[Iterable[dict]]) -> Iterable[tuple]:
    for unit in units or []:
        version = _TOKENIZER_VERSIONS.get(unit.get("options_type") or 0)
        if version:
            yield version


def _tensor(tensor: dict) -> Iterable[tuple]:
    yield from _files(tensor.get("associated_files"))
    yield from _units(tensor.get("process_units"))
    content = tensor.get("content")
    if content and content.get("content_properties_type") == ENUMS["ContentProperties"]["AudioProperties"]:
        yield (1, 3, 0)


def _subgraph(subgraph: dict) -> Iterable[tuple]:
    for tensor in (subgraph.get("input_tensor_metadata") or []) + (subgraph.get("output_tensor_metadata") or []):
        yield from _tensor(tensor)
    yield from _files(subgraph.get("associated_files"))
    for key in ("input_process_units", "output_process_units"):
        if subgraph.get(key) is not None:
            yield (1, 1, 0)
            yield from _units(subgraph[key])
    for key in ("input_tensor_groups", "output_tensor_groups"):
        if subgraph.get(key) is not None:
            yield (1, 2, 0)
    if subgraph.get("custom_metadata") is not None:
        yield (1, 5, 0)


def min_parser_version_of(metadata: dict) -> str:
    """The minimum parser version of decoded metadata (nested dicts, absent fields ``None``)."""
    versions = [(1, 0, 0)]
    for subgraph in metadata.get("subgraph_metadata") or []:
        versions.extend(_subgraph(subgraph))
    versions.extend(_files(metadata.get("associated_files")))
    return ".".join(str(n) for n in max(versions))


def get_min_parser_version(metadata_buf) -> str:
    """The minimum metadata parser version of an ``M001`` buffer (e.g. ``"1.2.1"``)."""
    return min_parser_version_of(decode_metadata(metadata_buf))

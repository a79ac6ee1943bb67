"""The TFLite metadata schema (tflite-support's ``metadata_schema.fbs``, version 1.5.0) as data.

Tables are listed as the TFLite schema facts in :mod:`edgelite.schema._spec` are — per table its
fields as ``(slot, name, kind, default)`` in declaration order — so that the checked FlatBuffer
codec (:mod:`edgelite.schema.codec`) reads and writes metadata with the same machinery. Enum-typed
scalars carry the enum's name as a third element of their kind (``('scalar', 'int8',
'AssociatedFileType')``); the JSON printer uses it to print names.

Every default is ``None``: a decoded table maps a field the FlatBuffer does not store to ``None``,
so what is *present* stays visible (flatbuffers' JSON printer prints present fields only). All
scalar defaults of the schema are 0, which is what :func:`~edgelite.schema.codec.encode_table`
omits when writing, as flatbuffers' object API does.
"""
from __future__ import annotations

from ..schema.codec import SchemaFacts

FILE_IDENTIFIER = b"M001"
SCHEMA_VERSION = "1.5.0"
METADATA_BUFFER_NAME = "TFLITE_METADATA"
ROOT_TABLE = "ModelMetadata"

ENUMS = {
    "AssociatedFileType": {"UNKNOWN": 0, "DESCRIPTIONS": 1, "TENSOR_AXIS_LABELS": 2,
                           "TENSOR_VALUE_LABELS": 3, "TENSOR_AXIS_SCORE_CALIBRATION": 4,
                           "VOCABULARY": 5, "SCANN_INDEX_FILE": 6},
    "ColorSpaceType": {"UNKNOWN": 0, "RGB": 1, "GRAYSCALE": 2},
    "BoundingBoxType": {"UNKNOWN": 0, "BOUNDARIES": 1, "UPPER_LEFT": 2, "CENTER": 3},
    "CoordinateType": {"RATIO": 0, "PIXEL": 1},
    "ContentProperties": {"NONE": 0, "FeatureProperties": 1, "ImageProperties": 2,
                          "BoundingBoxProperties": 3, "AudioProperties": 4},
    "ScoreTransformationType": {"IDENTITY": 0, "LOG": 1, "INVERSE_LOGISTIC": 2},
    "ProcessUnitOptions": {"NONE": 0, "NormalizationOptions": 1, "ScoreCalibrationOptions": 2,
                           "ScoreThresholdingOptions": 3, "BertTokenizerOptions": 4,
                           "SentencePieceTokenizerOptions": 5, "RegexTokenizerOptions": 6},
}

_FILES = ("vector", "table:AssociatedFile")
_UNITS = ("vector", "table:ProcessUnit")

TABLES = {
    "AssociatedFile": [
        (0, "name", ("string",), None),
        (1, "description", ("string",), None),
        (2, "type", ("scalar", "int8", "AssociatedFileType"), None),
        (3, "locale", ("string",), None),
        (4, "version", ("string",), None),
    ],
    "FeatureProperties": [],
    "ImageSize": [
        (0, "width", ("scalar", "uint32"), None),
        (1, "height", ("scalar", "uint32"), None),
    ],
    "ImageProperties": [
        (0, "color_space", ("scalar", "int8", "ColorSpaceType"), None),
        (1, "default_size", ("table", "ImageSize"), None),
    ],
    "AudioProperties": [
        (0, "sample_rate", ("scalar", "uint32"), None),
        (1, "channels", ("scalar", "uint32"), None),
    ],
    "BoundingBoxProperties": [
        (0, "index", ("vector", "uint32"), None),
        (1, "type", ("scalar", "int8", "BoundingBoxType"), None),
        (2, "coordinate_type", ("scalar", "int8", "CoordinateType"), None),
    ],
    "ValueRange": [
        (0, "min", ("scalar", "int32"), None),
        (1, "max", ("scalar", "int32"), None),
    ],
    "Content": [
        (0, "content_properties_type", ("scalar", "uint8", "ContentProperties"), None),
        (1, "content_properties", ("union", "ContentProperties"), None),
        (2, "range", ("table", "ValueRange"), None),
    ],
    "NormalizationOptions": [
        (0, "mean", ("vector", "float32"), None),
        (1, "std", ("vector", "float32"), None),
    ],
    "ScoreCalibrationOptions": [
        (0, "score_transformation", ("scalar", "int8", "ScoreTransformationType"), None),
        (1, "default_score", ("scalar", "float32"), None),
    ],
    "ScoreThresholdingOptions": [
        (0, "global_score_threshold", ("scalar", "float32"), None),
    ],
    "BertTokenizerOptions": [
        (0, "vocab_file", _FILES, None),
    ],
    "SentencePieceTokenizerOptions": [
        (0, "sentencePiece_model", _FILES, None),
        (1, "vocab_file", _FILES, None),
    ],
    "RegexTokenizerOptions": [
        (0, "delim_regex_pattern", ("string",), None),
        (1, "vocab_file", _FILES, None),
    ],
    "ProcessUnit": [
        (0, "options_type", ("scalar", "uint8", "ProcessUnitOptions"), None),
        (1, "options", ("union", "ProcessUnitOptions"), None),
    ],
    "Stats": [
        (0, "max", ("vector", "float32"), None),
        (1, "min", ("vector", "float32"), None),
    ],
    "TensorGroup": [
        (0, "name", ("string",), None),
        (1, "tensor_names", ("vector", "string"), None),
    ],
    "TensorMetadata": [
        (0, "name", ("string",), None),
        (1, "description", ("string",), None),
        (2, "dimension_names", ("vector", "string"), None),
        (3, "content", ("table", "Content"), None),
        (4, "process_units", _UNITS, None),
        (5, "stats", ("table", "Stats"), None),
        (6, "associated_files", _FILES, None),
    ],
    "CustomMetadata": [
        (0, "name", ("string",), None),
        (1, "data", ("vector", "uint8"), None),
    ],
    "SubGraphMetadata": [
        (0, "name", ("string",), None),
        (1, "description", ("string",), None),
        (2, "input_tensor_metadata", ("vector", "table:TensorMetadata"), None),
        (3, "output_tensor_metadata", ("vector", "table:TensorMetadata"), None),
        (4, "associated_files", _FILES, None),
        (5, "input_process_units", _UNITS, None),
        (6, "output_process_units", _UNITS, None),
        (7, "input_tensor_groups", ("vector", "table:TensorGroup"), None),
        (8, "output_tensor_groups", ("vector", "table:TensorGroup"), None),
        (9, "custom_metadata", ("vector", "table:CustomMetadata"), None),
    ],
    "ModelMetadata": [
        (0, "name", ("string",), None),
        (1, "description", ("string",), None),
        (2, "version", ("string",), None),
        (3, "subgraph_metadata", ("vector", "table:SubGraphMetadata"), None),
        (4, "author", ("string",), None),
        (5, "license", ("string",), None),
        (6, "associated_files", _FILES, None),
        (7, "min_parser_version", ("string",), None),
    ],
}

# CustomMetadata.data is declared ``(force_align: 16)``.
FORCE_ALIGN = {("CustomMetadata", "data"): 16}

METADATA_SCHEMA = SchemaFacts(TABLES, ENUMS, FORCE_ALIGN)

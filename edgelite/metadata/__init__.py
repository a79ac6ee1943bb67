"""TFLite model metadata: read, write and populate it, as tflite-support does.

* :class:`MetadataDisplayer` — the metadata JSON (character for character tflite-support's), the
  ``M001`` buffer and the associated files of a model;
* :class:`MetadataPopulator` (:mod:`edgelite.metadata.populator`) — packs a metadata buffer and associated files into a model;
* :func:`read_metadata` and the dataclasses of :mod:`edgelite.metadata.objects` — the metadata as
  Python objects, for code that uses it without parsing JSON;
* :mod:`edgelite.metadata.writers` — tflite-support's metadata writers (image classifier, object
  detector, image segmenter, audio classifier, NL and BERT NL classifiers).

The core of edgelite never imports this package; it only keeps the metadata buffer and the
appended zip of associated files when a model is loaded and saved. See docs/metadata.md.
"""
from .container import METADATA_BUFFER_NAME, MetadataError, get_metadata_buffer
from .displayer import MetadataDisplayer, convert_to_json, decode_metadata
from .objects import (AssociatedFile, AudioProperties, BertTokenizerOptions, BoundingBoxProperties,
                      Content, CustomMetadata, FeatureProperties, ImageProperties, ImageSize,
                      ModelMetadata, NormalizationOptions, ProcessUnit, RegexTokenizerOptions,
                      ScoreCalibrationOptions, ScoreThresholdingOptions,
                      SentencePieceTokenizerOptions, Stats, SubGraphMetadata, TensorGroup,
                      TensorMetadata, ValueRange, read_metadata)
from .populator import MetadataPopulator
from .schema import FILE_IDENTIFIER, SCHEMA_VERSION

__all__ = [
    "METADATA_BUFFER_NAME", "FILE_IDENTIFIER", "SCHEMA_VERSION", "MetadataError",
    "MetadataDisplayer", "MetadataPopulator", "convert_to_json", "decode_metadata", "get_metadata_buffer",
    "read_metadata", "ModelMetadata", "SubGraphMetadata", "TensorMetadata", "AssociatedFile",
    "Content", "FeatureProperties", "ImageProperties", "ImageSize", "AudioProperties",
    "BoundingBoxProperties", "ValueRange", "ProcessUnit", "NormalizationOptions",
    "ScoreCalibrationOptions", "ScoreThresholdingOptions", "BertTokenizerOptions",
    "SentencePieceTokenizerOptions", "RegexTokenizerOptions", "Stats", "TensorGroup",
    "CustomMetadata",
]

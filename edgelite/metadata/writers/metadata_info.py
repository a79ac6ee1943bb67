"""Metadata pieces the writers combine (tflite-support's ``metadata_info``), same classes and
arguments. Each ``create_metadata()`` returns the :mod:`edgelite.metadata.objects` dataclass that
tflite-support's returns as a flatbuffers object (``ModelMetadataT``, ``TensorMetadataT``, ...),
with the same fields filled in, so the written metadata is the same.

Enum arguments take the :mod:`edgelite.metadata.enums` members (tflite-support's
``_metadata_fb`` constants), plain numbers, or names.
"""
from __future__ import annotations

import collections
import csv
import os
from typing import List, Optional, Union

from ...schema import TensorType
from ..enums import AssociatedFileType, ColorSpaceType, ContentProperties, enum_name
from ..objects import (AssociatedFile, AudioProperties, BertTokenizerOptions, BoundingBoxProperties,
                       Content, FeatureProperties, ImageProperties, ModelMetadata,
                       NormalizationOptions, ProcessUnit, RegexTokenizerOptions,
                       ScoreCalibrationOptions, SentencePieceTokenizerOptions, Stats,
                       TensorMetadata)
from . import writer_utils

_MIN_UINT8 = 0
_MAX_UINT8 = 255
_VOCAB_FILE_DESCRIPTION = "Vocabulary file to convert natural language words to embedding vectors."
_PROPERTIES = {"FeatureProperties": FeatureProperties, "ImageProperties": ImageProperties,
               "BoundingBoxProperties": BoundingBoxProperties, "AudioProperties": AudioProperties}


class GeneralMd:
    """General information about the model: name, version, description, author, licenses."""

    def __init__(self, name: Optional[str] = None, version: Optional[str] = None,
                 description: Optional[str] = None, author: Optional[str] = None,
                 licenses: Optional[str] = None):
        self.name, self.version, self.description = name, version, description
        self.author, self.licenses = author, licenses

    def create_metadata(self) -> ModelMetadata:
        return ModelMetadata(name=self.name, version=self.version, description=self.description,
                             author=self.author, license=self.licenses)


class AssociatedFileMd:
    """An associated file: its path (the metadata records the base name), description, type."""

    def __init__(self, file_path: str, description: Optional[str] = None,
                 file_type=AssociatedFileType.UNKNOWN, locale: Optional[str] = None):
        self.file_path, self.description = file_path, description
        self.file_type, self.locale = file_type, locale

    def create_metadata(self) -> AssociatedFile:
        return AssociatedFile(name=os.path.basename(self.file_path), description=self.description,
                              type=enum_name("AssociatedFileType", self.file_type), locale=self.locale)


class LabelFileMd(AssociatedFileMd):
    """A label file of an output's axis (``TENSOR_AXIS_LABELS``)."""

    _LABEL_FILE_DESCRIPTION = "Labels for categories that the model can recognize."
    _FILE_TYPE = AssociatedFileType.TENSOR_AXIS_LABELS

    def __init__(self, file_path: str, locale: Optional[str] = None):
        super().__init__(file_path, self._LABEL_FILE_DESCRIPTION, self._FILE_TYPE, locale)


def _vocabulary(path: str, description: str = _VOCAB_FILE_DESCRIPTION) -> AssociatedFile:
    return AssociatedFile(name=path, description=description, type="VOCABULARY")


class RegexTokenizerMd:
    """A regex tokenizer: delimiter pattern and vocabulary file."""

    def __init__(self, delim_regex_pattern: str, vocab_file_path: str):
        self._delim_regex_pattern = delim_regex_pattern
        self._vocab_file_path = vocab_file_path

    def create_metadata(self) -> ProcessUnit:
        options = RegexTokenizerOptions(delim_regex_pattern=self._delim_regex_pattern,
                                        vocab_file=[_vocabulary(self._vocab_file_path)])
        return ProcessUnit(options_type="RegexTokenizerOptions", options=options)


class BertTokenizerMd:
    """A BERT (WordPiece) tokenizer and its vocabulary file."""

    def __init__(self, vocab_file_path: str):
        self._vocab_file_path = vocab_file_path

    def create_metadata(self) -> ProcessUnit:
        options = BertTokenizerOptions(vocab_file=[_vocabulary(self._vocab_file_path)])
        return ProcessUnit(options_type="BertTokenizerOptions", options=options)


class SentencePieceTokenizerMd:
    """A sentence piece tokenizer: its model file and an optional vocabulary file."""

    _SP_MODEL_DESCRIPTION = "The sentence piece model file."
    _SP_VOCAB_FILE_DESCRIPTION = _VOCAB_FILE_DESCRIPTION + (
        " This file is optional during tokenization, while the sentence piece model is mandatory.")

    def __init__(self, sentence_piece_model_path: str, vocab_file_path: Optional[str] = None):
        self._sentence_piece_model_path = sentence_piece_model_path
        self._vocab_file_path = vocab_file_path

    def create_metadata(self) -> ProcessUnit:
        options = SentencePieceTokenizerOptions(sentencePiece_model=[AssociatedFile(
            name=self._sentence_piece_model_path, description=self._SP_MODEL_DESCRIPTION)])
        if self._vocab_file_path:
            options.vocab_file = [_vocabulary(self._vocab_file_path, self._SP_VOCAB_FILE_DESCRIPTION)]
        return ProcessUnit(options_type="SentencePieceTokenizerOptions", options=options)


class ScoreCalibrationMd:
    """Sigmoid score calibration: transformation, default score and the parameter file (CSV
    lines of 3 or 4 values, scale first and non-negative; checked here)."""

    _SCORE_CALIBRATION_FILE_DESCRIPTION = (
        "Contains sigmoid-based score calibration parameters. The main purposes of score "
        "calibration is to make scores across classes comparable, so that a common threshold "
        "can be used for all output classes.")
    _FILE_TYPE = AssociatedFileType.TENSOR_AXIS_SCORE_CALIBRATION

    def __init__(self, score_transformation_type, default_score: float, file_path: str):
        self._score_transformation_type = score_transformation_type
        self._default_score = default_score
        self._file_path = file_path
        with open(self._file_path) as calibration_file:
            for row in csv.reader(calibration_file, delimiter=","):
                if row and len(row) != 3 and len(row) != 4:
                    raise ValueError("Expected empty lines or 3 or 4 parameters per line in score "
                                     f"calibration file, but got {len(row)}.")
                if row and float(row[0]) < 0:
                    raise ValueError("Expected scale to be a non-negative value, but got "
                                     f"{float(row[0])}.")

    def create_metadata(self) -> ProcessUnit:
        options = ScoreCalibrationOptions(
            score_transformation=enum_name("ScoreTransformationType", self._score_transformation_type),
            default_score=self._default_score)
        return ProcessUnit(options_type="ScoreCalibrationOptions", options=options)

    def create_score_calibration_file_md(self) -> AssociatedFileMd:
        return AssociatedFileMd(self._file_path, self._SCORE_CALIBRATION_FILE_DESCRIPTION,
                                self._FILE_TYPE)


class TensorMd:
    """A tensor's metadata: name, description, value range (stats), content type, files."""

    def __init__(self, name: Optional[str] = None, description: Optional[str] = None,
                 min_values: Optional[List[float]] = None, max_values: Optional[List[float]] = None,
                 content_type=ContentProperties.FeatureProperties,
                 associated_files: Optional[List[AssociatedFileMd]] = None,
                 tensor_name: Optional[str] = None):
        self.name, self.description = name, description
        self.min_values, self.max_values = min_values, max_values
        self.content_type = content_type
        self.associated_files = associated_files
        self.tensor_name = tensor_name

    def create_metadata(self) -> TensorMetadata:
        content_type = enum_name("ContentProperties", self.content_type)
        properties = _PROPERTIES.get(content_type)
        metadata = TensorMetadata(
            name=self.name, description=self.description,
            stats=Stats(max=self.max_values, min=self.min_values),
            content=Content(content_properties_type=content_type,
                            content_properties=properties() if properties else None))
        if self.associated_files:
            metadata.associated_files = [f.create_metadata() for f in self.associated_files]
        return metadata


class InputImageTensorMd(TensorMd):
    """An input image: normalization, color space; the value range follows from the type."""

    _MIN_PIXEL = 0.0
    _MAX_PIXEL = 255.0

    def __init__(self, name: Optional[str] = None, description: Optional[str] = None,
                 norm_mean: Optional[List[float]] = None, norm_std: Optional[List[float]] = None,
                 color_space_type=ColorSpaceType.UNKNOWN, tensor_type: Optional[int] = None):
        if norm_std and norm_mean and len(norm_std) != len(norm_mean):
            raise ValueError("norm_mean and norm_std are expected to be the same dim. But got "
                             f"{len(norm_mean)} and {len(norm_std)}")
        if tensor_type == TensorType.UINT8:
            min_values, max_values = [_MIN_UINT8], [_MAX_UINT8]
        elif tensor_type == TensorType.FLOAT32 and norm_std and norm_mean:
            min_values = [float(self._MIN_PIXEL - m) / s for m, s in zip(norm_mean, norm_std)]
            max_values = [float(self._MAX_PIXEL - m) / s for m, s in zip(norm_mean, norm_std)]
        else:
            min_values = max_values = None
        super().__init__(name, description, min_values, max_values, ContentProperties.ImageProperties)
        self.norm_mean, self.norm_std = norm_mean, norm_std
        self.color_space_type = color_space_type

    def create_metadata(self) -> TensorMetadata:
        metadata = super().create_metadata()
        metadata.content.content_properties.color_space = enum_name("ColorSpaceType",
                                                                    self.color_space_type)
        if self.norm_mean and self.norm_std:
            metadata.process_units = [ProcessUnit(
                options_type="NormalizationOptions",
                options=NormalizationOptions(mean=list(self.norm_mean), std=list(self.norm_std)))]
        return metadata


class InputTextTensorMd(TensorMd):
    """An input text tensor, with an optional regex tokenizer."""

    def __init__(self, name: Optional[str] = None, description: Optional[str] = None,
                 tokenizer_md: Optional[RegexTokenizerMd] = None):
        super().__init__(name, description)
        self.tokenizer_md = tokenizer_md

    def create_metadata(self) -> TensorMetadata:
        if not isinstance(self.tokenizer_md, (type(None), RegexTokenizerMd)):
            raise ValueError(f"The type of tokenizer_options, {type(self.tokenizer_md)}, is unsupported")
        metadata = super().create_metadata()
        if self.tokenizer_md:
            metadata.process_units = [self.tokenizer_md.create_metadata()]
        return metadata


class InputAudioTensorMd(TensorMd):
    """An input audio tensor: sample rate and channels."""

    def __init__(self, name: Optional[str] = None, description: Optional[str] = None,
                 sample_rate: int = 0, channels: int = 0):
        super().__init__(name, description, content_type=ContentProperties.AudioProperties)
        self.sample_rate, self.channels = sample_rate, channels

    def create_metadata(self) -> TensorMetadata:
        if self.sample_rate < 0:
            raise ValueError(f"sample_rate should be non-negative, but got {self.sample_rate}.")
        if self.channels < 0:
            raise ValueError(f"channels should be non-negative, but got {self.channels}.")
        metadata = super().create_metadata()
        metadata.content.content_properties.sample_rate = self.sample_rate
        metadata.content.content_properties.channels = self.channels
        return metadata


class ClassificationTensorMd(TensorMd):
    """A classification output: label files, score calibration; range from the type."""

    _MIN_FLOAT = 0.0
    _MAX_FLOAT = 1.0

    def __init__(self, name: Optional[str] = None, description: Optional[str] = None,
                 label_files: Optional[List[LabelFileMd]] = None, tensor_type: Optional[int] = None,
                 score_calibration_md: Optional[ScoreCalibrationMd] = None,
                 tensor_name: Optional[str] = None):
        self.score_calibration_md = score_calibration_md
        if tensor_type == TensorType.UINT8:
            min_values, max_values = [_MIN_UINT8], [_MAX_UINT8]
        elif tensor_type == TensorType.FLOAT32:
            min_values, max_values = [self._MIN_FLOAT], [self._MAX_FLOAT]
        else:
            min_values = max_values = None
        associated_files = label_files or []
        if self.score_calibration_md:
            associated_files.append(score_calibration_md.create_score_calibration_file_md())
        super().__init__(name, description, min_values, max_values,
                         ContentProperties.FeatureProperties, associated_files, tensor_name)

    def create_metadata(self) -> TensorMetadata:
        metadata = super().create_metadata()
        if self.score_calibration_md:
            metadata.process_units = [self.score_calibration_md.create_metadata()]
        return metadata


class CategoryTensorMd(TensorMd):
    """A category output whose values index label files (``TENSOR_VALUE_LABELS``)."""

    def __init__(self, name: Optional[str] = None, description: Optional[str] = None,
                 label_files: Optional[List[LabelFileMd]] = None):
        for f in label_files or []:
            f.file_type = AssociatedFileType.TENSOR_VALUE_LABELS
        super().__init__(name=name, description=description, associated_files=label_files)


class BertInputTensorsMd:
    """The three inputs of a BERT model (ids, mask, segment ids) and its tokenizer."""

    _IDS_NAME = "ids"
    _IDS_DESCRIPTION = "Tokenized ids of the input text."
    _MASK_NAME = "mask"
    _MASK_DESCRIPTION = "Mask with 1 for real tokens and 0 for padding tokens."
    _SEGMENT_IDS_NAME = "segment_ids"
    _SEGMENT_IDS_DESCRIPTION = "0 for the first sequence, 1 for the second sequence if exists."

    def __init__(self, model_buffer, ids_name: str, mask_name: str, segment_name: str,
                 ids_md: Optional[TensorMd] = None, mask_md: Optional[TensorMd] = None,
                 segment_ids_md: Optional[TensorMd] = None,
                 tokenizer_md: Union[None, BertTokenizerMd, SentencePieceTokenizerMd] = None):
        self._input_names = [ids_name, mask_name, segment_name]
        self._ordered_input_names = writer_utils.get_input_tensor_names(model_buffer)
        if collections.Counter(self._ordered_input_names) != collections.Counter(self._input_names):
            raise ValueError(f"The input tensor names ({self._ordered_input_names}) do not match the "
                             f"tensor names read from the model ({self._input_names}).")
        ids_md = ids_md or TensorMd(name=self._IDS_NAME, description=self._IDS_DESCRIPTION)
        mask_md = mask_md or TensorMd(name=self._MASK_NAME, description=self._MASK_DESCRIPTION)
        segment_ids_md = segment_ids_md or TensorMd(name=self._SEGMENT_IDS_NAME,
                                                    description=self._SEGMENT_IDS_DESCRIPTION)
        self._input_md = [ids_md, mask_md, segment_ids_md]
        if not isinstance(tokenizer_md, (type(None), BertTokenizerMd, SentencePieceTokenizerMd)):
            raise ValueError(f"The type of tokenizer_options, {type(tokenizer_md)}, is unsupported")
        self._tokenizer_md = tokenizer_md

    def create_input_tesnor_metadata(self) -> List[TensorMetadata]:
        """The inputs' metadata in the model's input order (tflite-support's spelling)."""
        by_name = dict(zip(self._input_names, self._input_md))
        return [by_name[name].create_metadata() for name in self._ordered_input_names]

    create_input_tensor_metadata = create_input_tesnor_metadata

    def create_input_process_unit_metadata(self) -> List[ProcessUnit]:
        return [self._tokenizer_md.create_metadata()] if self._tokenizer_md else []

    def get_tokenizer_associated_files(self) -> List[str]:
        if not self._tokenizer_md:
            return []
        return writer_utils.get_tokenizer_associated_files(self._tokenizer_md.create_metadata().options)

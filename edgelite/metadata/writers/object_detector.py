"""Metadata writer for object detectors (tflite-support's ``object_detector``): the four
outputs of TFLite_Detection_PostProcess (location, category, score, number of detections) and
their tensor group."""
from __future__ import annotations

import logging
from typing import List, Optional, Union

from ...reader import load_model
from ..enums import ColorSpaceType
from ..objects import (BoundingBoxProperties, Content, SubGraphMetadata, TensorGroup, TensorMetadata,
                       ValueRange)
from . import metadata_info, metadata_writer

_MODEL_NAME = "ObjectDetector"
_MODEL_DESCRIPTION = ("Identify which of a known set of objects might be present and provide "
                      "information about their positions within the given image or a video stream.")
_INPUT_NAME = "image"
_INPUT_DESCRIPTION = "Input image to be detected."
_OUTPUT_LOCATION_NAME = "location"
_OUTPUT_LOCATION_DESCRIPTION = "The locations of the detected boxes."
_OUTPUT_CATRGORY_NAME = "category"
_OUTPUT_CATEGORY_DESCRIPTION = "The categories of the detected boxes."
_OUTPUT_SCORE_NAME = "score"
_OUTPUT_SCORE_DESCRIPTION = "The scores of the detected boxes."
_OUTPUT_NUMBER_NAME = "number of detections"
_OUTPUT_NUMBER_DESCRIPTION = "The number of the detected boxes."
_CONTENT_VALUE_DIM = 2
_BOUNDING_BOX_INDEX = (1, 0, 3, 2)
_GROUP_NAME = "detection_result"
_WARN = ('The output name isn\'t the default string "%s". This may cause the model not work in '
         "the TFLite Task Library since the tensor name will be used to handle the output order "
         "in the TFLite Task Library.")


def _value_range(dim: int) -> ValueRange:
    return ValueRange(min=dim, max=dim)


def _create_location_metadata(location_md: metadata_info.TensorMd) -> TensorMetadata:
    metadata = location_md.create_metadata()
    metadata.content = Content(
        content_properties_type="BoundingBoxProperties",
        content_properties=BoundingBoxProperties(index=list(_BOUNDING_BOX_INDEX), type="BOUNDARIES",
                                                 coordinate_type="RATIO"),
        range=_value_range(_CONTENT_VALUE_DIM))
    return metadata


def _create_metadata_with_value_range(tensor_md: metadata_info.TensorMd) -> TensorMetadata:
    metadata = tensor_md.create_metadata()
    metadata.content.range = _value_range(_CONTENT_VALUE_DIM)
    return metadata


def _named_output(output_md, md_class: type, name: str, description: str):
    """``output_md``, or the default ``md_class(name, description)`` when None; a warning when
    its name is not the default one the Task Library finds the output by."""
    if output_md is None:
        return md_class(name=name, description=description)
    if output_md.name != name:
        logging.warning(_WARN, name)
    return output_md


def _extend_new_files(file_list: List[str], associated_files) -> None:
    for f in associated_files or []:
        if f.file_path not in file_list:
            file_list.append(f.file_path)


class MetadataWriter(metadata_writer.MetadataWriter):
    """Writes metadata into an object detector."""

    @classmethod
    def create_from_metadata_info(
            cls, model_buffer, general_md: Optional[metadata_info.GeneralMd] = None,
            input_md: Optional[metadata_info.InputImageTensorMd] = None,
            output_location_md: Optional[metadata_info.TensorMd] = None,
            output_category_md: Optional[metadata_info.CategoryTensorMd] = None,
            output_score_md: Union[None, metadata_info.TensorMd, metadata_info.ClassificationTensorMd] = None,
            output_number_md: Optional[metadata_info.TensorMd] = None):
        if general_md is None:
            general_md = metadata_info.GeneralMd(name=_MODEL_NAME, description=_MODEL_DESCRIPTION)
        if input_md is None:
            input_md = metadata_info.InputImageTensorMd(name=_INPUT_NAME, description=_INPUT_DESCRIPTION,
                                                        color_space_type=ColorSpaceType.RGB)
        output_location_md = _named_output(output_location_md, metadata_info.TensorMd,
                                           _OUTPUT_LOCATION_NAME, _OUTPUT_LOCATION_DESCRIPTION)
        output_category_md = _named_output(output_category_md, metadata_info.CategoryTensorMd,
                                           _OUTPUT_CATRGORY_NAME, _OUTPUT_CATEGORY_DESCRIPTION)
        output_score_md = _named_output(output_score_md, metadata_info.ClassificationTensorMd,
                                        _OUTPUT_SCORE_NAME, _OUTPUT_SCORE_DESCRIPTION)
        output_number_md = _named_output(output_number_md, metadata_info.TensorMd,
                                         _OUTPUT_NUMBER_NAME, _OUTPUT_NUMBER_DESCRIPTION)

        group = TensorGroup(name=_GROUP_NAME, tensor_names=[
            output_location_md.name, output_category_md.name, output_score_md.name])
        # The four outputs are described in the order of their tensor indices
        # (location < category < score < number), then listed in the model's output order.
        output_indices = list(load_model(bytes(model_buffer)).subgraphs[0].outputs)
        metadata_list = [_create_location_metadata(output_location_md),
                         _create_metadata_with_value_range(output_category_md),
                         _create_metadata_with_value_range(output_score_md),
                         output_number_md.create_metadata()]
        by_index = dict(zip(sorted(output_indices), metadata_list))
        subgraph = SubGraphMetadata(input_tensor_metadata=[input_md.create_metadata()],
                                    output_tensor_metadata=[by_index[i] for i in output_indices],
                                    output_tensor_groups=[group])
        model_metadata = general_md.create_metadata()
        model_metadata.subgraph_metadata = [subgraph]
        associated_files: List[str] = []
        _extend_new_files(associated_files, output_category_md.associated_files)
        _extend_new_files(associated_files, output_score_md.associated_files)
        return cls(model_buffer, model_metadata.to_buffer(), associated_files=associated_files)

    @classmethod
    def create_for_inference(cls, model_buffer, input_norm_mean: List[float],
                             input_norm_std: List[float], label_file_paths: List[str],
                             score_calibration_md: Optional[metadata_info.ScoreCalibrationMd] = None):
        """The metadata the Task Library's ObjectDetector needs: normalization, labels and
        optional score calibration."""
        input_md = metadata_writer.image_input_for_inference(
            model_buffer, _INPUT_NAME, _INPUT_DESCRIPTION, input_norm_mean, input_norm_std)
        output_category_md = metadata_info.CategoryTensorMd(
            name=_OUTPUT_CATRGORY_NAME, description=_OUTPUT_CATEGORY_DESCRIPTION,
            label_files=[metadata_info.LabelFileMd(file_path=p) for p in label_file_paths])
        output_score_md = metadata_info.ClassificationTensorMd(
            name=_OUTPUT_SCORE_NAME, description=_OUTPUT_SCORE_DESCRIPTION,
            score_calibration_md=score_calibration_md)
        return cls.create_from_metadata_info(model_buffer, input_md=input_md,
                                             output_category_md=output_category_md,
                                             output_score_md=output_score_md)

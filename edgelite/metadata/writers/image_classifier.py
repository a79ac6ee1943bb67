"""Metadata writer for image classifiers (tflite-support's ``image_classifier``)."""
from __future__ import annotations

from typing import List, Optional

from ..enums import ColorSpaceType
from . import metadata_info, metadata_writer

_MODEL_NAME = "ImageClassifier"
MODEL_DESCRIPTION = "Identify the most prominent object in the image from a known set of categories."
INPUT_NAME = "image"
INPUT_DESCRIPTION = "Input image to be classified."
OUTPUT_NAME = "probability"
OUTPUT_DESCRIPTION = "Probabilities of the labels respectively."


class MetadataWriter(metadata_writer.MetadataWriter):
    """Writes metadata into an image classifier."""

    @classmethod
    def create_from_metadata_info(cls, model_buffer,
                                  general_md: Optional[metadata_info.GeneralMd] = None,
                                  input_md: Optional[metadata_info.InputImageTensorMd] = None,
                                  output_md: Optional[metadata_info.ClassificationTensorMd] = None):
        if general_md is None:
            general_md = metadata_info.GeneralMd(name=_MODEL_NAME, description=MODEL_DESCRIPTION)
        if input_md is None:
            input_md = metadata_info.InputImageTensorMd(name=INPUT_NAME, description=INPUT_DESCRIPTION,
                                                        color_space_type=ColorSpaceType.RGB)
        if output_md is None:
            output_md = metadata_info.ClassificationTensorMd(name=OUTPUT_NAME,
                                                             description=OUTPUT_DESCRIPTION)
        return super().create_from_metadata_info(
            model_buffer=model_buffer, general_md=general_md, input_md=[input_md],
            output_md=[output_md], associated_files=metadata_writer.output_file_paths(output_md))

    @classmethod
    def create_for_inference(cls, model_buffer, input_norm_mean: List[float],
                             input_norm_std: List[float], label_file_paths: List[str],
                             score_calibration_md: Optional[metadata_info.ScoreCalibrationMd] = None):
        """The metadata the Task Library's ImageClassifier needs: normalization, labels and
        optional score calibration."""
        input_md = metadata_writer.image_input_for_inference(
            model_buffer, INPUT_NAME, INPUT_DESCRIPTION, input_norm_mean, input_norm_std)
        output_md = metadata_writer.classification_output_for_inference(
            model_buffer, OUTPUT_NAME, OUTPUT_DESCRIPTION, label_file_paths, score_calibration_md)
        return cls.create_from_metadata_info(model_buffer, input_md=input_md, output_md=output_md)

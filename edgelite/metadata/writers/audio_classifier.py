"""Metadata writer for audio classifiers (tflite-support's ``audio_classifier``), one or several
classification heads."""
from __future__ import annotations

from typing import List, Optional

from . import metadata_info, metadata_writer

_MODEL_NAME = "AudioClassifier"
_MODEL_DESCRIPTION = "Identify the most prominent type in the audio clip from a known set of categories."
_INPUT_NAME = "audio_clip"
_INPUT_DESCRIPTION = "Input audio clip to be classified."
_OUTPUT_NAME = "probability"
_OUTPUT_DESCRIPTION = "Scores of the labels respectively."


class MetadataWriter(metadata_writer.MetadataWriter):
    """Writes metadata into an audio classifier."""

    @classmethod
    def create_from_metadata_info(cls, model_buffer,
                                  general_md: Optional[metadata_info.GeneralMd] = None,
                                  input_md: Optional[metadata_info.InputAudioTensorMd] = None,
                                  output_md: Optional[metadata_info.ClassificationTensorMd] = None):
        if output_md is None:
            output_md = metadata_info.ClassificationTensorMd(name=_OUTPUT_NAME,
                                                             description=_OUTPUT_DESCRIPTION)
        return cls.create_from_metadata_info_for_multihead(model_buffer, general_md, input_md, [output_md])

    @classmethod
    def create_from_metadata_info_for_multihead(
            cls, model_buffer, general_md: Optional[metadata_info.GeneralMd] = None,
            input_md: Optional[metadata_info.InputAudioTensorMd] = None,
            output_md_list: Optional[List[metadata_info.ClassificationTensorMd]] = None):
        """A writer for a model with several classification outputs (heads)."""
        if general_md is None:
            general_md = metadata_info.GeneralMd(name=_MODEL_NAME, description=_MODEL_DESCRIPTION)
        if input_md is None:
            input_md = metadata_info.InputAudioTensorMd(name=_INPUT_NAME, description=_INPUT_DESCRIPTION)
        associated_files: List[str] = []
        for md in output_md_list or []:
            associated_files.extend(f.file_path for f in md.associated_files or [])
        return super().create_from_metadata_info(
            model_buffer=model_buffer, general_md=general_md, input_md=[input_md],
            output_md=output_md_list, associated_files=associated_files)

    @classmethod
    def create_for_inference(cls, model_buffer, sample_rate: int, channels: int,
                             label_file_paths: List[str],
                             score_calibration_md: Optional[metadata_info.ScoreCalibrationMd] = None):
        """The metadata the Task Library's AudioClassifier needs: sample rate, channels, labels
        and optional score calibration."""
        if sample_rate <= 0:
            raise ValueError(f"sample_rate should be positive, but got {sample_rate}.")
        if channels <= 0:
            raise ValueError(f"channels should be positive, but got {channels}.")
        input_md = metadata_info.InputAudioTensorMd(_INPUT_NAME, _INPUT_DESCRIPTION, sample_rate, channels)
        output_md = metadata_writer.classification_output_for_inference(
            model_buffer, _OUTPUT_NAME, _OUTPUT_DESCRIPTION, label_file_paths, score_calibration_md)
        return cls.create_from_metadata_info(model_buffer, input_md=input_md, output_md=output_md)

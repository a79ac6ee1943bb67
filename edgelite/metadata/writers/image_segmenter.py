"""Metadata writer for image segmenters (tflite-support's ``image_segmenter``)."""
from __future__ import annotations

from typing import List, Optional

from ..enums import ColorSpaceType
from ..objects import Content, ImageProperties, TensorMetadata, ValueRange
from . import metadata_info, metadata_writer

_MODEL_NAME = "ImageSegmenter"
_MODEL_DESCRIPTION = ("Semantic image segmentation predicts whether each pixel of an image is "
                      "associated with a certain class.")
_INPUT_NAME = "image"
_INPUT_DESCRIPTION = "Input image to be segmented."
_OUTPUT_NAME = "segmentation_masks"
_OUTPUT_DESCRIPTION = "Masks over the target objects with high accuracy."
_CONTENT_DIM_MIN = 1
_CONTENT_DIM_MAX = 2


def _create_segmentation_masks_metadata(masks_md: metadata_info.TensorMd) -> TensorMetadata:
    metadata = masks_md.create_metadata()
    metadata.content = Content(content_properties_type="ImageProperties",
                               content_properties=ImageProperties(color_space="GRAYSCALE"),
                               range=ValueRange(min=_CONTENT_DIM_MIN, max=_CONTENT_DIM_MAX))
    return metadata


class MetadataWriter(metadata_writer.MetadataWriter):
    """Writes metadata into an image segmenter."""

    @classmethod
    def create_from_metadata_info(cls, model_buffer,
                                  general_md: Optional[metadata_info.GeneralMd] = None,
                                  input_md: Optional[metadata_info.InputImageTensorMd] = None,
                                  output_md: Optional[metadata_info.TensorMd] = None):
        if general_md is None:
            general_md = metadata_info.GeneralMd(name=_MODEL_NAME, description=_MODEL_DESCRIPTION)
        if input_md is None:
            input_md = metadata_info.InputImageTensorMd(name=_INPUT_NAME, description=_INPUT_DESCRIPTION,
                                                        color_space_type=ColorSpaceType.RGB)
        if output_md is None:
            output_md = metadata_info.TensorMd(name=_OUTPUT_NAME, description=_OUTPUT_DESCRIPTION)
        output_files = metadata_writer.output_file_paths(output_md)
        return super().create_from_metadata(
            model_buffer, model_metadata=general_md.create_metadata(),
            input_metadata=[input_md.create_metadata()],
            output_metadata=[_create_segmentation_masks_metadata(output_md)],
            associated_files=output_files)

    @classmethod
    def create_for_inference(cls, model_buffer, input_norm_mean: List[float],
                             input_norm_std: List[float], label_file_paths: List[str]):
        """The metadata the Task Library's ImageSegmenter needs: normalization and labels."""
        input_md = metadata_writer.image_input_for_inference(
            model_buffer, _INPUT_NAME, _INPUT_DESCRIPTION, input_norm_mean, input_norm_std)
        output_md = metadata_info.TensorMd(
            name=_OUTPUT_NAME, description=_OUTPUT_DESCRIPTION,
            associated_files=[metadata_info.LabelFileMd(file_path=p) for p in label_file_paths])
        return cls.create_from_metadata_info(model_buffer, input_md=input_md, output_md=output_md)

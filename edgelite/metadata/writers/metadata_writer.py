"""The writers' base class (tflite-support's ``metadata_writer.MetadataWriter``): builds the
metadata buffer from :mod:`metadata_info` pieces or metadata objects, and populates it with the
associated files into the model."""
from __future__ import annotations

import collections
from typing import List, Optional

from ..displayer import MetadataDisplayer, convert_to_json
from ..enums import ColorSpaceType
from ..objects import ModelMetadata, ProcessUnit, SubGraphMetadata, TensorMetadata
from ..populator import MetadataPopulator
from . import metadata_info, writer_utils


class MetadataWriter:
    """Writes metadata and associated files into a TFLite model."""

    def __init__(self, model_buffer, metadata_buffer: Optional[bytes] = None,
                 associated_files: Optional[List[str]] = None):
        self._model_buffer = model_buffer
        self._metadata_buffer = metadata_buffer
        self._associated_files = associated_files if associated_files else []
        self._populated_model_buffer: Optional[bytes] = None

    @classmethod
    def create_from_metadata_info(cls, model_buffer, general_md: Optional[metadata_info.GeneralMd] = None,
                                  input_md: Optional[list] = None, output_md: Optional[list] = None,
                                  associated_files: Optional[List[str]] = None):
        """A writer from metadata_info pieces; tensors with ``tensor_name`` set are put in the
        model's tensor order."""
        general_md = general_md if general_md is not None else metadata_info.GeneralMd()
        input_md = _order_tensor_metadata(input_md or [], writer_utils.get_input_tensor_names(model_buffer))
        output_md = _order_tensor_metadata(output_md or [], writer_utils.get_output_tensor_names(model_buffer))
        return cls.create_from_metadata(
            model_buffer, general_md.create_metadata(), [m.create_metadata() for m in input_md],
            [m.create_metadata() for m in output_md], associated_files)

    @classmethod
    def create_from_metadata(cls, model_buffer, model_metadata: Optional[ModelMetadata] = None,
                             input_metadata: Optional[List[TensorMetadata]] = None,
                             output_metadata: Optional[List[TensorMetadata]] = None,
                             associated_files: Optional[List[str]] = None,
                             input_process_units: Optional[List[ProcessUnit]] = None,
                             output_process_units: Optional[List[ProcessUnit]] = None):
        """A writer from metadata objects; tensors without metadata get empty metadata, tensors
        without a name get the model's tensor name."""
        input_names = writer_utils.get_input_tensor_names(model_buffer)
        output_names = writer_utils.get_output_tensor_names(model_buffer)
        input_metadata = input_metadata or [TensorMetadata() for _ in input_names]
        output_metadata = output_metadata or [TensorMetadata() for _ in output_names]
        for items, names in ((input_metadata, input_names), (output_metadata, output_names)):
            for item, name in zip(items, names):
                item.name = item.name or name
        subgraph = SubGraphMetadata(input_tensor_metadata=input_metadata,
                                    output_tensor_metadata=output_metadata,
                                    input_process_units=input_process_units,
                                    output_process_units=output_process_units)
        model_metadata = model_metadata if model_metadata is not None else ModelMetadata()
        model_metadata.subgraph_metadata = [subgraph]
        return cls(model_buffer, model_metadata.to_buffer(), associated_files)

    def populate(self) -> bytes:
        """The model with the metadata and associated files packed into it."""
        if self._populated_model_buffer:
            return self._populated_model_buffer
        populator = MetadataPopulator.with_model_buffer(self._model_buffer)
        if self._model_buffer is not None:
            populator.load_metadata_buffer(self._metadata_buffer)
        if self._associated_files:
            populator.load_associated_files(self._associated_files)
        populator.populate()
        self._populated_model_buffer = populator.get_model_buffer()
        return self._populated_model_buffer

    def get_metadata_json(self) -> str:
        """The metadata as JSON before populating (no ``min_parser_version`` yet)."""
        return convert_to_json(bytes(self._metadata_buffer))

    def get_populated_metadata_json(self) -> str:
        """The metadata as JSON as populated into the model."""
        return MetadataDisplayer.with_model_buffer(self.populate()).get_metadata_json()


def image_input_for_inference(model_buffer, name: str, description: str, norm_mean: List[float],
                               norm_std: List[float]) -> metadata_info.InputImageTensorMd:
    """The RGB image input of the vision writers' ``create_for_inference``: normalization and the
    type of the model's first input."""
    return metadata_info.InputImageTensorMd(
        name=name, description=description, norm_mean=norm_mean, norm_std=norm_std,
        color_space_type=ColorSpaceType.RGB,
        tensor_type=writer_utils.get_input_tensor_types(model_buffer)[0])


def classification_output_for_inference(
        model_buffer, name: str, description: str, label_file_paths: List[str],
        score_calibration_md: Optional[metadata_info.ScoreCalibrationMd] = None,
) -> metadata_info.ClassificationTensorMd:
    """The classification output of the classifier writers' ``create_for_inference``: label files,
    the type of the model's first output and optional score calibration."""
    return metadata_info.ClassificationTensorMd(
        name=name, description=description,
        label_files=[metadata_info.LabelFileMd(file_path=p) for p in label_file_paths],
        tensor_type=writer_utils.get_output_tensor_types(model_buffer)[0],
        score_calibration_md=score_calibration_md)


def output_file_paths(output_md: metadata_info.TensorMd) -> List[str]:
    """The paths of an output's associated files (its ``associated_files`` set to ``[]`` when
    None, as tflite-support's writers do)."""
    if output_md.associated_files is None:
        output_md.associated_files = []
    return [f.file_path for f in output_md.associated_files]


def _order_tensor_metadata(tensor_md: list, names_from_model: List[str]) -> list:
    names_from_arg = [md.tensor_name for md in tensor_md or [] if md.tensor_name is not None]
    if not names_from_arg:
        return tensor_md
    if collections.Counter(names_from_arg) != collections.Counter(names_from_model):
        raise ValueError(f"The tensor names from arguments ({names_from_arg}) do not match the "
                         f"tensor names read from the model ({names_from_model}).")
    by_name = dict(zip(names_from_arg, tensor_md))
    return [by_name[name] for name in names_from_model]

"""Metadata writer for NL classifiers with a regex tokenizer (tflite-support's ``nl_classifier``)."""
from __future__ import annotations

from typing import List, Optional

from . import metadata_info, metadata_writer, writer_utils

_MODEL_NAME = "NLClassifier"
_MODEL_DESCRIPTION = "Classify the input text into a set of known categories."
_INPUT_NAME = "input_text"
_INPUT_DESCRIPTION = "Embedding vectors representing the input text to be classified."
_OUTPUT_NAME = "probability"
_OUTPUT_DESCRIPTION = "Probabilities of the labels respectively."


class MetadataWriter(metadata_writer.MetadataWriter):
    """Writes metadata into an NL classifier."""

    @classmethod
    def create_from_metadata_info(cls, model_buffer,
                                  general_md: Optional[metadata_info.GeneralMd] = None,
                                  input_md: Optional[metadata_info.InputTextTensorMd] = None,
                                  output_md: Optional[metadata_info.ClassificationTensorMd] = None):
        if general_md is None:
            general_md = metadata_info.GeneralMd(name=_MODEL_NAME, description=_MODEL_DESCRIPTION)
        if input_md is None:
            input_md = metadata_info.InputTextTensorMd(name=_INPUT_NAME, description=_INPUT_DESCRIPTION)
        if output_md is None:
            output_md = metadata_info.ClassificationTensorMd(name=_OUTPUT_NAME,
                                                             description=_OUTPUT_DESCRIPTION)
        output_files = metadata_writer.output_file_paths(output_md)
        tokenizer_files: List[str] = []
        if input_md.tokenizer_md:
            tokenizer_files = writer_utils.get_tokenizer_associated_files(
                input_md.tokenizer_md.create_metadata().options)
        return super().create_from_metadata_info(
            model_buffer=model_buffer, general_md=general_md, input_md=[input_md],
            output_md=[output_md],
            associated_files=output_files + tokenizer_files)

    @classmethod
    def create_for_inference(cls, model_buffer, tokenizer_md: Optional[metadata_info.RegexTokenizerMd],
                             label_file_paths: List[str]):
        """The metadata the Task Library's NLClassifier needs: the tokenizer and labels."""
        input_md = metadata_info.InputTextTensorMd(name=_INPUT_NAME, description=_INPUT_DESCRIPTION,
                                                   tokenizer_md=tokenizer_md)
        output_md = metadata_writer.classification_output_for_inference(
            model_buffer, _OUTPUT_NAME, _OUTPUT_DESCRIPTION, label_file_paths)
        return cls.create_from_metadata_info(model_buffer, input_md=input_md, output_md=output_md)

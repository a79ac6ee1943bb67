"""Metadata writer for BERT NL classifiers (tflite-support's ``bert_nl_classifier``): three
inputs (ids, mask, segment ids) and a BERT or sentence piece tokenizer."""
from __future__ import annotations

from typing import List, Optional, Union

from . import metadata_info, metadata_writer

_MODEL_NAME = "BertNLClassifier"
_MODEL_DESCRIPTION = "Classify the input text into a set of known categories."
_OUTPUT_NAME = "probability"
_OUTPUT_DESCRIPTION = "Probabilities of the labels respectively."
_DEFAULT_ID_NAME = "serving_default_input_word_ids:0"
_DEFAULT_MASK_NAME = "serving_default_input_mask:0"
_DEFAULT_SEGMENT_ID_NAME = "serving_default_input_type_ids:0"


class MetadataWriter(metadata_writer.MetadataWriter):
    """Writes metadata into a BERT NL classifier."""

    @classmethod
    def create_from_metadata_info(cls, model_buffer,
                                  general_md: Optional[metadata_info.GeneralMd] = None,
                                  input_md: Optional[metadata_info.BertInputTensorsMd] = None,
                                  output_md: Optional[metadata_info.ClassificationTensorMd] = None):
        if general_md is None:
            general_md = metadata_info.GeneralMd(name=_MODEL_NAME, description=_MODEL_DESCRIPTION)
        if input_md is None:
            input_md = metadata_info.BertInputTensorsMd(model_buffer, _DEFAULT_ID_NAME,
                                                        _DEFAULT_MASK_NAME, _DEFAULT_SEGMENT_ID_NAME)
        if output_md is None:
            output_md = metadata_info.ClassificationTensorMd(name=_OUTPUT_NAME,
                                                             description=_OUTPUT_DESCRIPTION)
        output_files = metadata_writer.output_file_paths(output_md)
        return cls.create_from_metadata(
            model_buffer, model_metadata=general_md.create_metadata(),
            input_metadata=input_md.create_input_tesnor_metadata(),
            output_metadata=[output_md.create_metadata()],
            associated_files=output_files + input_md.get_tokenizer_associated_files(),
            input_process_units=input_md.create_input_process_unit_metadata())

    @classmethod
    def create_for_inference(cls, model_buffer,
                             tokenizer_md: Union[metadata_info.BertTokenizerMd,
                                                 metadata_info.SentencePieceTokenizerMd],
                             label_file_paths: List[str], ids_name: str = _DEFAULT_ID_NAME,
                             mask_name: str = _DEFAULT_MASK_NAME,
                             segment_name: str = _DEFAULT_SEGMENT_ID_NAME):
        """The metadata the Task Library's BertNLClassifier needs: tokenizer, input names, labels."""
        input_md = metadata_info.BertInputTensorsMd(model_buffer, ids_name, mask_name, segment_name,
                                                    tokenizer_md=tokenizer_md)
        output_md = metadata_writer.classification_output_for_inference(
            model_buffer, _OUTPUT_NAME, _OUTPUT_DESCRIPTION, label_file_paths)
        return cls.create_from_metadata_info(model_buffer, input_md=input_md, output_md=output_md)

"""tflite-support's metadata writers (``tflite_support.metadata_writers``) on edgelite.

Each module's ``MetadataWriter.create_for_inference(...)`` takes the same arguments as
tflite-support's and produces the same metadata; ``populate()`` returns the model with metadata
and associated files, ``get_metadata_json()`` the metadata as JSON.
"""
from . import (audio_classifier, bert_nl_classifier, image_classifier, image_segmenter,
               metadata_info, metadata_writer, nl_classifier, object_detector, writer_utils)

__all__ = ["audio_classifier", "bert_nl_classifier", "image_classifier", "image_segmenter",
           "metadata_info", "metadata_writer", "nl_classifier", "object_detector", "writer_utils"]

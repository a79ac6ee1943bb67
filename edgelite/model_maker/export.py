"""Export of a trained image classifier as one .tflite: backbone + head, metadata, labels.

* ``trainable=False``: FULLY_CONNECTED + SOFTMAX with constant weights appended to the
  backbone's graph (``head_graph.append_inference_head``), then optionally quantized with
  ``edgelite.optimize.quantize`` (``"int8"`` calibrated on up to ``calibration_count`` training
  images, float input and output; ``"float16"``; ``"dynamic"``).
* ``trainable=True``: signatures infer / train / save / restore / features with the head's
  weights in resource variables (``head_graph.trainable_model``); float only.

Metadata: edgelite.metadata's image-classifier writer (normalization, labels file).
"""
from __future__ import annotations

from pathlib import Path

from .. import load_model
from .head_graph import append_inference_head, fold_standardization, trainable_model

QUANTIZATIONS = (None, "int8", "float16", "dynamic")


def export_image_classifier(classifier, export_dir, *, quantization=None, trainable=False,
                            tflite_filename="model.tflite", label_filename="labels.txt",
                            calibration_count=100, with_metadata=True) -> Path:
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}")
    if trainable and quantization is not None:
        raise ValueError("trainable=True exports a float model (the train step updates float variables); "
                         "use quantization=None")
    out = Path(export_dir)
    out.mkdir(parents=True, exist_ok=True)
    backbone = classifier.backbone
    model = load_model(backbone.model.to_bytes())
    if trainable:
        model = trainable_model(classifier.weights, classifier.bias, learning_rate=classifier.learning_rate,
                                momentum=classifier.momentum, feature_mean=classifier.feature_mean,
                                feature_scale=classifier.feature_scale, backbone=model)
    else:
        w, b = fold_standardization(classifier.weights, classifier.bias, classifier.feature_mean,
                                    classifier.feature_scale)
        model = append_inference_head(model, w, b)
    if quantization is not None:
        from ..optimize import quantize
        data = None
        if quantization == "int8":
            if classifier._train_data is None or len(classifier._train_data) == 0:
                raise ValueError("int8 export needs the training images for calibration")
            images = classifier._train_data.images[:calibration_count]
            data = [backbone.preprocess(im)[None] for im in images]
        model = quantize(model, quantization, data, progress=False)
    labels_path = out / label_filename
    labels_path.write_text("\n".join(classifier.label_names) + "\n")
    content = model.to_bytes()
    if with_metadata:
        from ..metadata.writers import image_classifier as ic_writer
        writer = ic_writer.MetadataWriter.create_for_inference(
            content, [backbone.input_mean], [backbone.input_std], [str(labels_path)])
        content = writer.populate()
    path = out / tflite_filename
    path.write_bytes(content)
    return path

"""Export of a trained image classifier as one .tflite: backbone + head, metadata, labels.

* ``trainable=False``: FULLY_CONNECTED + SOFTMAX with constant weights appended to the
  backbone's graph (``head_graph.append_inference_head``), then optionally quantized with
  ``edgelite.optimize.quantize`` (``"int8"`` calibrated on up to ``calibration_count`` training
  images, float input and output; ``"float16"``; ``"dynamic"``).
* int8 head bias correction (``bias_correction=True``, the default): the int8 backbone's
  feature vectors are not the float ones plus zero-mean noise. Per-channel int8 weights and
  int8 activations shift them systematically (on digits upscaled to 224 px the pooled features
  of EfficientNet-Lite0 move by a few quantization steps, the same way on most images), and a
  head trained on float features reads that shift as evidence for some classes. The export
  measures the mean shift ``d = mean(f_int8 - f_float)`` of the head's input on the calibration
  images (the int8 model run once over them; their float features are cached) and folds it into
  the head's bias, ``b' = b - W d``: empirical bias correction (Nagel et al. 2019, "Data-Free
  Quantization", section 4.2) of the one layer the model maker trained. The model is then
  quantized again with the same calibrated ranges, so the backbone is unchanged.
* ``trainable=True``: signatures infer / train / save / restore / features with the head's
  weights in resource variables (``head_graph.trainable_model``); float only.

Metadata: edgelite.metadata's image-classifier writer (normalization, labels file).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import load_model
from .head_graph import append_inference_head, fold_standardization, trainable_model

QUANTIZATIONS = (None, "int8", "float16", "dynamic")


def export_image_classifier(classifier, export_dir, *, quantization=None, trainable=False,
                            tflite_filename="model.tflite", label_filename="labels.txt",
                            calibration_count=100, bias_correction=True, with_metadata=True) -> Path:
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
        if quantization == "int8":
            if classifier._train_data is None or len(classifier._train_data) == 0:
                raise ValueError("int8 export needs the training images for calibration")
            images = classifier._train_data.images[:calibration_count]
            model = quantize_int8(model, backbone, w, b, images, bias_correction=bias_correction)
        else:
            model = append_inference_head(model, w, b)
    if quantization in ("float16", "dynamic"):
        from ..optimize import quantize
        model = quantize(model, quantization, progress=False)
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


def quantize_int8(backbone_model, backbone, weights: np.ndarray, bias: np.ndarray, images,
                  *, bias_correction: bool = True):
    """Backbone + head (``weights``/``bias`` act on raw features) quantized to int8 (float input
    and output), calibrated on ``images``; with ``bias_correction`` the head's bias absorbs the
    mean shift of the int8 features on those images (see the module docstring)."""
    from ..optimize import calibrate, quantize
    content = backbone_model.to_bytes()
    samples = [backbone.preprocess(im)[None] for im in images]
    model = append_inference_head(load_model(content), weights, bias)
    ranges = calibrate(model, samples, progress=False)
    quantized = quantize(model, "int8", ranges=ranges, progress=False)
    if not bias_correction:
        return quantized
    shift = feature_shift(quantized, samples, backbone.features(images))
    corrected = bias - np.asarray(weights, np.float64) @ shift
    # the same graph (same tensor indices) with another bias: the calibrated ranges still hold,
    # the corrected int8 logits having the float logits' distribution
    model = append_inference_head(load_model(content), weights, corrected.astype(np.float32))
    return quantize(model, "int8", ranges=ranges, progress=False)


def head_input(quantized) -> int:
    """Index of the head's input tensor (the int8 features) in a quantized classifier."""
    sg = quantized.subgraphs[0]
    fcs = [op for op in sg.operators if op.opcode == "FULLY_CONNECTED"]
    if not fcs:
        raise ValueError("the quantized classifier has no FULLY_CONNECTED head")
    return fcs[-1].inputs[0]


def feature_shift(quantized, samples, float_features: np.ndarray) -> np.ndarray:
    """Mean over ``samples`` of (int8 features, dequantized) - (float features)."""
    from ..interpreter import Interpreter
    probe = load_model(quantized.to_bytes())
    sg = probe.subgraphs[0]
    feat = head_input(probe)
    sg.outputs = [feat]
    q = sg.tensors[feat].quantization
    it = Interpreter(model_content=probe.to_bytes())
    it.allocate_tensors()
    inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    total = np.zeros(float_features.shape[1], np.float64)
    for x, f in zip(samples, float_features):
        it.set_tensor(inp, x)
        it.invoke()
        v = it.get_tensor(out).reshape(-1).astype(np.float64)
        if q is not None and q.scale.size:
            v = (v - float(q.zero_point[0])) * float(q.scale[0])
        total += v - f
    return total / max(len(samples), 1)

"""The classification head as TFLite ops: inference, and an on-device training step.

The head standardizes the features with the training set's per-feature mean and scale
(constants), then ``probabilities = SOFTMAX(FULLY_CONNECTED(z, W, b))`` with ``W`` of shape
(classes, features). Inference head (appended to the backbone's graph): the standardization is
folded into constant weights (``W * scale``, ``b - (W * scale) @ mean``).

Trainable head: ``W``, ``b`` and their momentum buffers are resource variables
(``VAR_HANDLE`` / ``READ_VARIABLE`` / ``ASSIGN_VARIABLE``, initialised by a ``CALL_ONCE``
subgraph), shared by shared name between the signatures:

* ``infer``    image (or features) -> ``probabilities``;
* ``train``    ``x`` (features, batch B) and ``y`` (B, classes; one-hot or smoothed labels)
  -> ``loss`` and ``probabilities`` (before the step); one step of SGD with momentum, written with builtin ops only::

      x = (x - mean) * scale;  logits = FULLY_CONNECTED(x, W, b);  loss = -mean_b sum_c y * LOG_SOFTMAX(logits)
      g  = (SOFTMAX(logits) - y) / B                       # d loss / d logits
      vW = momentum * vW + g^T x   (BATCH_MATMUL adj_x);   W -= lr * vW
      vb = momentum * vb + sum_b g;                        b -= lr * vb

  B is read from the input's shape at run time (SHAPE -> REDUCE_PROD -> CAST), so any batch
  size works (``resize`` through the signature runner);
* ``features`` image -> ``features`` (full models only: the backbone, sharing its weight
  buffers with ``infer``), so a device computes each image's features once;
* ``save`` -> ``w``, ``b``; ``restore(w, b)`` assigns them (and returns them).

No Flex ops: this runs in LiteRT's ``get_signature_runner`` as well as in edgelite's.
"""
from __future__ import annotations

import copy

import numpy as np

from ..ir import Model, SignatureDef, Subgraph, TensorType

VARIABLES = ("w", "b", "w_velocity", "b_velocity")
_SHARED = {name: f"model_maker/head/{name}" for name in VARIABLES}


def fold_standardization(weights, bias, mean, scale) -> tuple[np.ndarray, np.ndarray]:
    """Weights and bias acting on raw features: ``W (x - m) s + b = (W s) x + (b - (W s) m)``."""
    w = np.asarray(weights, np.float64) * np.asarray(scale, np.float64)[None, :]
    b = np.asarray(bias, np.float64) - w @ np.asarray(mean, np.float64)
    return w.astype(np.float32), b.astype(np.float32)


def append_inference_head(model: Model, weights: np.ndarray, bias: np.ndarray) -> Model:
    """Append FULLY_CONNECTED + SOFTMAX with constant weights (acting on the raw features, see
    ``fold_standardization``) to subgraph 0 (in place)."""
    sg = model.subgraphs[0]
    feat = sg.outputs[0]
    classes = weights.shape[0]
    w = sg.add_constant("head/weights", np.asarray(weights, np.float32))
    b = sg.add_constant("head/bias", np.asarray(bias, np.float32))
    logits = sg.add_tensor("head/logits", (1, classes))
    probs = sg.add_tensor("probabilities", (1, classes))
    sg.add_operator("FULLY_CONNECTED", [feat, w, b], [logits], {"fused_activation_function": 0})
    sg.add_operator("SOFTMAX", [logits], [probs], {"beta": 1.0})
    sg.outputs = [probs]
    model.signature_defs = []
    return model


def _handles(sg: Subgraph) -> dict[str, int]:
    out = {}
    for name in VARIABLES:
        h = sg.add_tensor(f"{name}_handle", (), TensorType.RESOURCE)
        sg.add_operator("VAR_HANDLE", [], [h], {"container": "", "shared_name": _SHARED[name]})
        out[name] = h
    return out


def _read(sg: Subgraph, handles, name: str, shape) -> int:
    t = sg.add_tensor(f"{name}_value", shape)
    sg.add_operator("READ_VARIABLE", [handles[name]], [t])
    return t


def _standardize(sg: Subgraph, feat: int, mean: np.ndarray, scale: np.ndarray) -> int:
    """``(x - mean) * scale`` with the training set's per-feature constants."""
    n, f = sg.tensors[feat].shape
    m = sg.add_constant("head/feature_mean", np.asarray(mean, np.float32))
    s = sg.add_constant("head/feature_scale", np.asarray(scale, np.float32))
    centered = sg.add_tensor("head/centered", (n, f), shape_signature=(-1, f))
    z = sg.add_tensor("head/standardized", (n, f), shape_signature=(-1, f))
    sg.add_operator("SUB", [feat, m], [centered], {"fused_activation_function": 0})
    sg.add_operator("MUL", [centered, s], [z], {"fused_activation_function": 0})
    return z


def _head_ops(sg: Subgraph, feat: int, handles, classes: int, mean, scale) -> int:
    """Reads W, b and computes probabilities from ``feat``; returns the output tensor."""
    feat = _standardize(sg, feat, mean, scale)
    n, f = sg.tensors[feat].shape
    w = _read(sg, handles, "w", (classes, f))
    b = _read(sg, handles, "b", (classes,))
    logits = sg.add_tensor("head/logits", (n, classes), shape_signature=(-1, classes))
    probs = sg.add_tensor("probabilities", (n, classes), shape_signature=(-1, classes))
    sg.add_operator("FULLY_CONNECTED", [feat, w, b], [logits], {"fused_activation_function": 0})
    sg.add_operator("SOFTMAX", [logits], [probs], {"beta": 1.0})
    return probs


def _init_subgraph(weights: np.ndarray, bias: np.ndarray) -> Subgraph:
    sg = Subgraph(name="model_maker_init")
    handles = _handles(sg)
    values = {"w": weights, "b": bias, "w_velocity": np.zeros_like(weights),
              "b_velocity": np.zeros_like(bias)}
    for name in VARIABLES:
        c = sg.add_constant(f"{name}_initial", np.asarray(values[name], np.float32))
        sg.add_operator("ASSIGN_VARIABLE", [handles[name], c], [])
    return sg


def _call_once(sg: Subgraph, init_index: int) -> None:
    sg.add_operator("CALL_ONCE", [], [], {"init_subgraph_index": init_index})


def _train_subgraph(features: int, classes: int, learning_rate: float, momentum: float,
                    init_index: int, mean, scale) -> Subgraph:
    sg = Subgraph(name="train")
    x_in = sg.add_tensor("x", (1, features), shape_signature=(-1, features))
    y = sg.add_tensor("y", (1, classes), shape_signature=(-1, classes))
    x = _standardize(sg, x_in, mean, scale)
    _call_once(sg, init_index)
    h = _handles(sg)
    w = _read(sg, h, "w", (classes, features))
    b = _read(sg, h, "b", (classes,))
    vw = _read(sg, h, "w_velocity", (classes, features))
    vb = _read(sg, h, "b_velocity", (classes,))

    def t(name, shape, batch=False):
        return sg.add_tensor(name, shape, shape_signature=(-1, *shape[1:]) if batch else None)

    def op(code, ins, out, options=None):
        sg.add_operator(code, ins, [out], options)
        return out

    logits = op("FULLY_CONNECTED", [x, w, b], t("logits", (1, classes), True), {"fused_activation_function": 0})
    logp = op("LOG_SOFTMAX", [logits], t("log_probs", (1, classes), True))
    probs = op("SOFTMAX", [logits], t("probs", (1, classes), True), {"beta": 1.0})
    axis1 = sg.add_constant("axis_1", np.array([1], np.int32))
    axis0 = sg.add_constant("axis_0", np.array([0], np.int32))
    ylogp = op("MUL", [y, logp], t("y_log_probs", (1, classes), True))
    per_item = op("SUM", [ylogp, axis1], t("per_item", (1,), True), {"keep_dims": False})
    mean = op("MEAN", [per_item, axis0], t("mean_log_likelihood", ()), {"keep_dims": False})
    loss = op("NEG", [mean], t("loss", ()))
    # 1 / B from the shape of x: REDUCE_PROD(SHAPE(x)) / features
    shape = op("SHAPE", [x], sg.add_tensor("x_shape", (2,), TensorType.INT32), {"out_type": TensorType.INT32})
    size = op("REDUCE_PROD", [shape, axis0], sg.add_tensor("x_size", (), TensorType.INT32), {"keep_dims": False})
    size_f = op("CAST", [size], t("x_size_float", ()))
    inv_b = op("DIV", [sg.add_constant("features_count", np.float32(features)), size_f], t("inv_batch", ()))
    diff = op("SUB", [probs, y], t("probs_minus_y", (1, classes), True))
    g = op("MUL", [diff, inv_b], t("grad_logits", (1, classes), True))
    gw = op("BATCH_MATMUL", [g, x], t("grad_w", (classes, features)),
            {"adj_x": True, "adj_y": False, "asymmetric_quantize_inputs": False})
    gb = op("SUM", [g, axis0], t("grad_b", (classes,)), {"keep_dims": False})
    mom = sg.add_constant("momentum", np.float32(momentum))
    lr = sg.add_constant("learning_rate", np.float32(learning_rate))
    for name, value, vel, grad, shp in (("w", w, vw, gw, (classes, features)), ("b", b, vb, gb, (classes,))):
        v_scaled = op("MUL", [vel, mom], t(f"{name}_velocity_scaled", shp))
        v_new = op("ADD", [v_scaled, grad], t(f"{name}_velocity_new", shp))
        step = op("MUL", [v_new, lr], t(f"{name}_step", shp))
        new = op("SUB", [value, step], t(f"{name}_new", shp))
        sg.add_operator("ASSIGN_VARIABLE", [h[f"{name}_velocity"], v_new], [])
        sg.add_operator("ASSIGN_VARIABLE", [h[name], new], [])
    sg.inputs, sg.outputs = [x_in, y], [loss, probs]
    return sg


def _save_subgraph(features: int, classes: int, init_index: int) -> Subgraph:
    sg = Subgraph(name="save")
    _call_once(sg, init_index)
    h = _handles(sg)
    sg.outputs = [_read(sg, h, "w", (classes, features)), _read(sg, h, "b", (classes,))]
    return sg


def _restore_subgraph(features: int, classes: int, init_index: int) -> Subgraph:
    sg = Subgraph(name="restore")
    w_in = sg.add_tensor("w", (classes, features))
    b_in = sg.add_tensor("b", (classes,))
    _call_once(sg, init_index)
    h = _handles(sg)
    sg.add_operator("ASSIGN_VARIABLE", [h["w"], w_in], [])
    sg.add_operator("ASSIGN_VARIABLE", [h["b"], b_in], [])
    zeros_w = sg.add_constant("zeros_w", np.zeros((classes, features), np.float32))
    zeros_b = sg.add_constant("zeros_b", np.zeros((classes,), np.float32))
    sg.add_operator("ASSIGN_VARIABLE", [h["w_velocity"], zeros_w], [])
    sg.add_operator("ASSIGN_VARIABLE", [h["b_velocity"], zeros_b], [])
    sg.inputs = [w_in, b_in]
    sg.outputs = [_read(sg, h, "w", (classes, features)), _read(sg, h, "b", (classes,))]
    return sg


def _copy_subgraph(sg: Subgraph, name: str) -> Subgraph:
    """A copy whose constant tensors share their data arrays (the writer stores them once)."""
    return Subgraph(tensors=[copy.copy(t) for t in sg.tensors],
                    operators=[copy.deepcopy(op) for op in sg.operators],
                    inputs=list(sg.inputs), outputs=list(sg.outputs), name=name)


def trainable_model(weights: np.ndarray, bias: np.ndarray, *, learning_rate: float,
                    momentum: float, feature_mean, feature_scale,
                    backbone: Model | None = None) -> Model:
    """The head with signatures infer / train / save / restore (+ features with a backbone).

    Without ``backbone`` the ``infer`` signature reads feature vectors (the model maker's own
    training loop runs this model); with one, ``infer`` reads images and the head is appended
    to the backbone's graph (the model is modified in place and returned)."""
    weights = np.asarray(weights, np.float32)
    bias = np.asarray(bias, np.float32)
    classes, features = weights.shape
    if backbone is None:
        infer = Subgraph(name="infer")
        feat = infer.add_tensor("x", (1, features), shape_signature=(-1, features))
        infer.inputs = [feat]
        model = Model(subgraphs=[infer])
        extra: list[Subgraph] = []
        in_name = "x"
    else:
        model = backbone
        infer = model.subgraphs[0]
        del model.subgraphs[1:]
        infer.name = "infer"
        feat = infer.outputs[0]
        extra = [_copy_subgraph(infer, "features")]
        in_name = "image"
    init_index = 4 + len(extra) + (len(model.subgraphs) - 1)
    _call_once(infer, init_index)
    probs = _head_ops(infer, feat, _handles(infer), classes, feature_mean, feature_scale)
    infer.outputs = [probs]
    subgraphs = [_train_subgraph(features, classes, learning_rate, momentum, init_index,
                                 feature_mean, feature_scale),
                 _save_subgraph(features, classes, init_index),
                 _restore_subgraph(features, classes, init_index), *extra]
    base = len(model.subgraphs)
    model.subgraphs.extend(subgraphs)
    model.subgraphs.append(_init_subgraph(weights, bias))
    assert len(model.subgraphs) - 1 == init_index
    tr, sv, rs = model.subgraphs[base:base + 3]
    sigs = [SignatureDef("infer", 0, {in_name: infer.inputs[0]}, {"probabilities": probs}),
            SignatureDef("train", base, {"x": tr.inputs[0], "y": tr.inputs[1]}, {"loss": tr.outputs[0], "probabilities": tr.outputs[1]}),
            SignatureDef("save", base + 1, {}, {"w": sv.outputs[0], "b": sv.outputs[1]}),
            SignatureDef("restore", base + 2, {"w": rs.inputs[0], "b": rs.inputs[1]},
                         {"w": rs.outputs[0], "b": rs.outputs[1]})]
    if extra:
        fs = model.subgraphs[base + 3]
        sigs.append(SignatureDef("features", base + 3, {"image": fs.inputs[0]},
                                 {"features": fs.outputs[0]}))
    model.signature_defs = sigs
    return model.validate()

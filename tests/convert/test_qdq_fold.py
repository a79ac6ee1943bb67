"""QDQ models from onnxruntime's quantize_static become int8 TFLite models (edgelite.convert.qdq).

Each network is exported from PyTorch, quantized by onnxruntime (QDQ format, per-channel or
per-tensor weights, int8 or uint8 activations), converted, and checked three ways: every
compute op is an int8 op, edgelite and LiteRT give identical results on the converted file,
and both agree with onnxruntime running the QDQ model to within one step of the output's
quantization (onnxruntime's QLinear kernels requantize in float, LiteRT's in fixed point).
"""
from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
quantization = pytest.importorskip("onnxruntime.quantization")
torch = pytest.importorskip("torch")
from torch import nn

from edgelite.convert import from_onnx
from edgelite.schema import TensorType

from .helpers import _drive, run_edgelite
from .nets import MobileNetV2ish, build


class SqueezeExcite(nn.Module):
    """Conv, a squeeze-and-excite gate (MEAN, LOGISTIC, MUL), CONCATENATION, a slice, a matmul
    with [in, out] weights and a softmax: the fixed-parameter ops and the data movement."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.reduce, self.expand = nn.Conv2d(16, 4, 1), nn.Conv2d(4, 16, 1)
        self.w = nn.Parameter(torch.randn(16, 16) / 4)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        gate = torch.sigmoid(self.expand(torch.relu(self.reduce(y.mean((2, 3), keepdim=True)))))
        y = y * gate
        z = torch.cat([y, nn.functional.max_pool2d(y, 1)], 1)[:, :16]
        return torch.softmax(self.fc(z.mean((2, 3)) @ self.w), -1)


NETS = {"mobilenet_v2ish": (MobileNetV2ish, (1, 3, 32, 32)), "squeeze_excite": (SqueezeExcite, (1, 3, 16, 16)),
        # deeper: PADV2 (MaxPool padding), TRANSPOSE_CONV, CONCATENATION of differently scaled
        # inputs, RESIZE_BILINEAR
        "resnet18": (lambda: build("resnet18")[0], (1, 3, 64, 64)), "unet": (lambda: build("unet")[0], (1, 3, 32, 32))}
# onnxruntime's QLinear kernels requantize in float (ties to even), LiteRT's in fixed point: one
# layer's result can differ by a rounding near ties, SOFTMAX/LOGISTIC add one (LiteRT's fixed output
# parameters, then the model's). The shallow nets stay within one output step of onnxruntime; in the
# deep ones the differences compound through the layers (ResNet-18: up to 3 steps on one logit), so
# there the check is that the int8 model is as close to the float network as onnxruntime's run of the
# QDQ model is (mean error at most twice onnxruntime's: ResNet-18 0.9-1.2x, U-Net 1.8x, the U-Net's
# sigmoid being the extra rounding).
SHALLOW = {"mobilenet_v2ish", "squeeze_excite"}


class _Samples(quantization.CalibrationDataReader):
    def __init__(self, shape, n=8):
        self.rng, self.shape, self.left = np.random.default_rng(1), shape, n

    def get_next(self):
        self.left -= 1
        return {"x": self.rng.standard_normal(self.shape).astype(np.float32)} if self.left >= 0 else None


@pytest.fixture(scope="module")
def float_onnx(tmp_path_factory):
    """net name -> path of its float ONNX export."""
    root = tmp_path_factory.mktemp("qdq")
    paths = {}
    for name, (cls, shape) in NETS.items():
        torch.manual_seed(0)
        net = cls().eval()
        paths[name] = root / f"{name}.onnx"
        torch.onnx.export(net, torch.randn(*shape), str(paths[name]), input_names=["x"], output_names=["y"],
                          opset_version=17, dynamo=False)
    return paths


def _quantized(float_path, per_channel: bool, activation, weight=None):
    out = float_path.with_name(f"{float_path.stem}_{per_channel}_{activation}_{weight}.onnx")
    if not out.exists():
        logging.disable(logging.WARNING)  # onnxruntime's advice to pre-process the model
        try:
            quantization.quantize_static(
                str(float_path), str(out), _Samples(NETS[float_path.stem][1]),
                quant_format=quantization.QuantFormat.QDQ, activation_type=activation,
                weight_type=weight or quantization.QuantType.QInt8, per_channel=per_channel)
        finally:
            logging.disable(logging.NOTSET)
    return out


def run_litert_builtin(model, inputs):
    """LiteRT's builtin kernels (the ones edgelite matches bit for bit; XNNPACK's DEQUANTIZE
    rounds differently)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    return _drive(Interpreter(model_content=model.to_bytes(),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES), inputs)


def _float_compute_ops(model) -> Counter:
    """Ops with a float output other than the DEQUANTIZE at the model's outputs."""
    sg = model.main
    return Counter(op.opcode for op in sg.operators
                   if op.opcode != "DEQUANTIZE" and sg.tensors[op.outputs[0]].dtype == TensorType.FLOAT32)


def _output_step(model) -> float:
    sg = model.main
    last = next(op for op in sg.operators if op.outputs[0] == sg.outputs[0])
    assert last.opcode == "DEQUANTIZE"
    return float(sg.tensors[last.inputs[0]].quantization.scale[0])


CASES = [(net, pc, act) for net in ("mobilenet_v2ish", "squeeze_excite") for pc in (True, False)
         for act in ("QInt8", "QUInt8")] + [("resnet18", True, "QInt8"), ("unet", True, "QUInt8")]


@pytest.mark.parametrize("net,per_channel,activation", CASES)
def test_qdq_network_becomes_int8(float_onnx, net, per_channel, activation):
    qdq = _quantized(float_onnx[net], per_channel, getattr(quantization.QuantType, activation))
    stats: dict = {}
    model = from_onnx(str(qdq), stats=stats)
    assert not _float_compute_ops(model), _float_compute_ops(model)
    assert stats["int8_ops_from_qdq"] >= 10
    sg = model.main
    for op in sg.operators:
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            w = sg.tensors[op.inputs[1]]
            assert w.dtype == TensorType.INT8
            if len(op.inputs) > 2 and op.inputs[2] >= 0:
                assert sg.tensors[op.inputs[2]].dtype == TensorType.INT32
            assert (w.quantization.scale.size > 1) == per_channel
    x = np.random.default_rng(5).standard_normal(NETS[net][1]).astype(np.float32)
    ours = run_edgelite(model, [x])[0]
    reference = ort.InferenceSession(str(qdq)).run(None, {"x": x})[0]
    if net in SHALLOW:
        assert np.max(np.abs(ours - reference)) <= _output_step(model) * 1.001
    else:
        exact = ort.InferenceSession(str(float_onnx[net])).run(None, {"x": x})[0]
        assert np.mean(np.abs(ours - exact)) <= 2 * np.mean(np.abs(reference - exact))
    pytest.importorskip("ai_edge_litert")
    assert np.array_equal(run_litert_builtin(model, [x])[0], ours)


def test_asymmetric_weights_stay_float_and_correct(float_onnx):
    """uint8 weights with zero points: TFLite's int8 weights are symmetric, so those ops stay
    float (their inputs and outputs still int8 around them) and the model stays right."""
    qdq = _quantized(float_onnx["mobilenet_v2ish"], False, quantization.QuantType.QUInt8,
                     quantization.QuantType.QUInt8)
    model = from_onnx(str(qdq))
    assert _float_compute_ops(model)["CONV_2D"] > 0
    x = np.random.default_rng(5).standard_normal(NETS["mobilenet_v2ish"][1]).astype(np.float32)
    reference = ort.InferenceSession(str(qdq)).run(None, {"x": x})[0]
    assert np.max(np.abs(run_edgelite(model, [x])[0] - reference)) <= 2 * _output_step(model)


def test_fold_quantization_false_keeps_float_ops(float_onnx):
    qdq = _quantized(float_onnx["mobilenet_v2ish"], True, quantization.QuantType.QInt8)
    model = from_onnx(str(qdq), fold_quantization=False)
    assert _float_compute_ops(model)["CONV_2D"] > 0


def test_pytorch_qat_model_becomes_int8(tmp_path):
    """PyTorch's own quantization-aware training (eager mode), converted and exported to ONNX:
    QuantizeLinear -> Cast -> DequantizeLinear chains, qint8 weights reaching -128, int32 biases
    and a separate ReLU between DequantizeLinear and QuantizeLinear."""
    from torch.ao.quantization import (
        DeQuantStub,
        QuantStub,
        convert,
        get_default_qat_qconfig,
        prepare_qat,
    )

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = QuantStub(), DeQuantStub()
            self.c1, self.c2 = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1)
            self.relu, self.fc = nn.ReLU(), nn.Linear(8 * 8 * 8, 10)

        def forward(self, x):
            x = self.c2(self.relu(self.c1(self.quant(x))))
            return self.dequant(self.fc(torch.flatten(x, 1)))

    torch.manual_seed(0)
    net = Net().train()
    net.qconfig = get_default_qat_qconfig("x86")
    net = prepare_qat(net)
    opt = torch.optim.SGD(net.parameters(), 0.01)
    for _ in range(5):
        loss = net(torch.randn(4, 3, 8, 8)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    path = tmp_path / "qat.onnx"
    torch.onnx.export(convert(net.eval()), torch.randn(1, 3, 8, 8), str(path), input_names=["x"],
                      output_names=["y"], opset_version=17, dynamo=False)
    model = from_onnx(str(path))
    assert not _float_compute_ops(model), _float_compute_ops(model)
    sg = model.main
    weights = [sg.tensors[op.inputs[1]].data for op in sg.operators if op.opcode in ("CONV_2D", "FULLY_CONNECTED")]
    assert len(weights) == 3 and min(int(w.min()) for w in weights) == -128
    x = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
    ours = run_edgelite(model, [x])[0]
    reference = ort.InferenceSession(str(path)).run(None, {"x": x})[0]
    assert np.max(np.abs(ours - reference)) <= _output_step(model) * 1.001
    pytest.importorskip("ai_edge_litert")
    assert np.array_equal(run_litert_builtin(model, [x])[0], ours)

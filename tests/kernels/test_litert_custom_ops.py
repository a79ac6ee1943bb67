"""LiteRT's built-in custom ops: TFLite_Detection_PostProcess, AudioSpectrogram, Mfcc.

The oracle is ai_edge_litert, which registers these ops by default; detection results must be
equal (ties included), audio features equal within float tolerance.
"""
from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pytest

import edgelite
from edgelite.ir import Model, Quantization, Subgraph
from edgelite.kernels import KernelError
from edgelite.kernels.custom_options import flexbuffer_bytes
from edgelite.kernels.litert_custom.detection_postprocess import decode_boxes, partial_argsort_desc

DPP = "TFLite_Detection_PostProcess"
BASE_OPTIONS = dict(max_detections=10, max_classes_per_detection=1, nms_score_threshold=0.1,
                    nms_iou_threshold=0.5, y_scale=10.0, x_scale=10.0, h_scale=5.0, w_scale=5.0)


def detection_model(num_anchors: int, num_classes: int, background: int, options: dict, anchors,
                    quantized: dict | None = None, kind=np.uint8) -> bytes:
    """One TFLite_Detection_PostProcess op; ``quantized`` gives (scale, zero_point) for
    'boxes', 'scores' and 'anchors' (anchors are then the quantized values)."""
    sg = Subgraph(name="main")
    q = quantized or {}

    def quant(name):
        return Quantization([q[name][0]], [q[name][1]]) if name in q else None

    boxes = sg.add_tensor("boxes", (1, num_anchors, 4), kind if "boxes" in q else np.float32,
                          quantization=quant("boxes"))
    scores = sg.add_tensor("scores", (1, num_anchors, num_classes + background),
                           kind if "scores" in q else np.float32, quantization=quant("scores"))
    anchor_t = sg.add_constant("anchors", anchors, quantization=quant("anchors"))
    outs = [sg.add_tensor(name, (), np.float32) for name in ("det_boxes", "det_classes", "det_scores", "count")]
    sg.add_operator("CUSTOM", [boxes, scores, anchor_t], outs, custom_code=DPP,
                    custom_options=flexbuffer_bytes({**options, "num_classes": num_classes}))
    sg.inputs, sg.outputs = [boxes, scores], outs
    return Model(subgraphs=[sg]).to_bytes()


def run(interpreter_class, content: bytes, *feeds) -> list[np.ndarray]:
    it = interpreter_class(model_content=content)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), feeds):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [np.array(it.get_tensor(d["index"])) for d in it.get_output_details()]


def written_slots(options: dict, num_classes: int, count: int) -> np.ndarray:
    """The output slots LiteRT writes (the others keep whatever its arena held)."""
    per_box = options["max_classes_per_detection"]
    if options.get("use_regular_nms"):
        mask = np.zeros(options["max_detections"] * per_box, bool)
        mask[:options["max_detections"]] = True
        return mask
    mask = np.zeros((options["max_detections"], per_box), bool)
    mask[:count, :min(per_box, num_classes)] = True
    return mask.reshape(-1)


def random_anchors(rng, n):
    return np.stack([rng.uniform(0.1, 0.9, n), rng.uniform(0.1, 0.9, n),
                     rng.uniform(0.05, 0.4, n), rng.uniform(0.05, 0.4, n)], 1).astype(np.float32)


# -- oracle-free checks -------------------------------------------------------------------
@pytest.mark.parametrize("values, k, expected", [
    # what libstdc++'s std::partial_sort leaves (g++ 12, comparator values[i] > values[j])
    ([0.5] * 8, 3, [0, 1, 2]),
    ([1, 0] * 5, 4, [4, 0, 6, 2]),
    ([0.25, 0.75, 0.75, 0.25, 0.75, 0.5, 0.75, 0.25, 0.5], 5, [1, 4, 6, 2, 5]),
    ([3, 1, 2] * 4, 6, [3, 0, 6, 9, 8, 2]),
    ([0.1, 0.9, 0.5, 0.7], 3, [1, 3, 2]),  # no ties: plain descending order
])
def test_partial_sort_replays_libstdcxx(values, k, expected):
    assert partial_argsort_desc(values, k) == expected


def test_decode_boxes_by_hand():
    # anchor centred at (0.5, 0.4), size 0.2 x 0.1; encoding (y, x, h, w) = (1, -2, 0, ln 2 * 5)
    anchors = np.array([[0.5, 0.4, 0.2, 0.1]], np.float32)
    enc = np.array([[1.0, -2.0, 0.0, 5 * np.log(2.0)]], np.float32)
    box = decode_boxes(enc, anchors, (10.0, 10.0, 5.0, 5.0))[0]
    # ycenter = 0.1 * 0.2 + 0.5 = 0.52, half_h = 0.1; xcenter = -0.2 * 0.1 + 0.4 = 0.38, half_w = 0.1
    np.testing.assert_allclose(box, [0.42, 0.28, 0.62, 0.48], rtol=1e-6)


def test_fast_nms_by_hand():
    # three anchors: 0 and 1 overlap heavily, 2 is apart; class scores without background
    anchors = np.array([[0.5, 0.5, 0.2, 0.2], [0.51, 0.5, 0.2, 0.2], [0.1, 0.1, 0.1, 0.1]], np.float32)
    enc = np.zeros((1, 3, 4), np.float32)
    scores = np.array([[[0.9, 0.1], [0.2, 0.8], [0.05, 0.3]]], np.float32)
    options = dict(BASE_OPTIONS, max_detections=3, max_classes_per_detection=2)
    boxes, classes, det_scores, count = run(edgelite.Interpreter, detection_model(3, 2, 0, options, anchors),
                                           enc, scores)
    assert count[0] == 2  # anchor 1 (best 0.8) is suppressed by anchor 0 (0.9); anchor 2 stays
    np.testing.assert_array_equal(classes[0, :4], [0, 1, 1, 0])
    np.testing.assert_array_equal(det_scores[0, :4], np.float32([0.9, 0.1, 0.3, 0.05]))
    np.testing.assert_allclose(boxes[0, 0], [0.4, 0.4, 0.6, 0.6], rtol=1e-6)
    assert not det_scores[0, 4:].any()  # unwritten slots are 0


def test_int8_dequantizes_like_uint8():
    rng = np.random.default_rng(3)
    n, classes = 40, 3
    anchors_q = rng.integers(20, 200, (n, 4)).astype(np.uint8)
    enc_q = rng.integers(0, 256, (1, n, 4)).astype(np.uint8)
    scores_q = rng.integers(0, 256, (1, n, classes + 1)).astype(np.uint8)
    options = dict(BASE_OPTIONS, max_classes_per_detection=2)
    params = {"boxes": (0.05, 128), "scores": (1 / 255, 0), "anchors": (0.004, 0)}
    as_uint8 = run(edgelite.Interpreter, detection_model(n, classes, 1, options, anchors_q, params),
                   enc_q, scores_q)
    shifted = {k: (s, z - 128) for k, (s, z) in params.items()}
    as_int8 = run(edgelite.Interpreter,
                  detection_model(n, classes, 1, options, (anchors_q.astype(np.int16) - 128).astype(np.int8),
                                  shifted, kind=np.int8),
                  (enc_q.astype(np.int16) - 128).astype(np.int8), (scores_q.astype(np.int16) - 128).astype(np.int8))
    for a, b in zip(as_uint8, as_int8):
        np.testing.assert_array_equal(a, b)
    assert as_uint8[3][0] > 0


@pytest.mark.parametrize("bad, message", [
    (dict(nms_iou_threshold=0.0), "nms_iou_threshold"),
    (dict(max_classes_per_detection=0), "max_classes_per_detection"),
])
def test_bad_options_are_refused(bad, message):
    anchors = random_anchors(np.random.default_rng(0), 4)
    it = edgelite.Interpreter(model_content=detection_model(4, 2, 1, dict(BASE_OPTIONS, **bad), anchors))
    with pytest.raises(KernelError, match=message):
        it.allocate_tensors()


def test_inverted_box_is_refused():
    anchors = np.array([[0.5, 0.5, -0.2, 0.2]], np.float32)  # a negative height flips the box
    it = edgelite.Interpreter(model_content=detection_model(1, 1, 0, BASE_OPTIONS, anchors))
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], np.zeros((1, 1, 4), np.float32))
    it.set_tensor(it.get_input_details()[1]["index"], np.ones((1, 1, 1), np.float32))
    with pytest.raises(KernelError, match="ymin > ymax"):
        it.invoke()


# -- against LiteRT --------------------------------------------------------------------------
CASES = [
    # (name, regular NMS, quantized, ties, classes, background, max_classes_per_detection)
    ("fast_float", False, False, False, 5, 1, 1),
    ("fast_float_ties_top3", False, False, True, 6, 0, 3),
    ("fast_uint8_ties_top2", False, True, True, 4, 1, 2),
    ("fast_uint8_more_slots_than_classes", False, True, False, 2, 1, 4),
    ("regular_float", True, False, False, 5, 1, 1),
    ("regular_float_ties", True, False, True, 4, 0, 2),
    ("regular_uint8_ties", True, True, True, 6, 1, 1),
]


@pytest.mark.parametrize("name, regular, quantized, ties, classes, background, per_box", CASES,
                         ids=[c[0] for c in CASES])
def test_detection_postprocess_equals_litert(name, regular, quantized, ties, classes, background, per_box):
    lite = pytest.importorskip("ai_edge_litert.interpreter")
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    for trial in range(3):
        n = int(rng.integers(30, 150))
        options = dict(BASE_OPTIONS, use_regular_nms=regular, max_classes_per_detection=per_box,
                       max_detections=int(rng.integers(3, 12)), detections_per_class=int(rng.integers(2, 10)),
                       nms_iou_threshold=[0.4, 0.6, 1.0][trial], nms_score_threshold=[0.0, 0.2, 0.5][trial])
        anchors = random_anchors(rng, n)
        enc = rng.normal(0, 1, (1, n, 4)).astype(np.float32)
        scores = rng.uniform(0, 1, (1, n, classes + background)).astype(np.float32)
        if ties:
            scores = np.round(scores * 4) / 4
        if quantized:
            params = {"boxes": (0.05, 128), "scores": (1 / 255, 0), "anchors": (0.005, 0)}
            content = detection_model(n, classes, background, options,
                                      np.clip(np.round(anchors / 0.005), 0, 255).astype(np.uint8), params)
            enc = np.clip(np.round(enc / 0.05) + 128, 0, 255).astype(np.uint8)
            scores = np.clip(np.round(scores * 255), 0, 255).astype(np.uint8)
        else:
            content = detection_model(n, classes, background, options, anchors)
        want = run(lite.Interpreter, content, enc, scores)
        got = run(edgelite.Interpreter, content, enc, scores)
        np.testing.assert_array_equal(got[3], want[3])
        mask = written_slots(options, classes, int(want[3][0]))
        for j in range(3):
            np.testing.assert_array_equal(got[j][0][mask], want[j][0][mask], err_msg=f"{name} output {j}")


def test_ssd_mobilenet_equals_litert_reference():
    root = Path("/work/shared/support/conformance")
    name = "support_ssd_mobilenet_v1"
    if not (root / "manifest.json").exists():
        pytest.skip("the tflite-support conformance models are not here")
    entry = json.loads((root / "manifest.json").read_text())[name]
    data = np.load(root / f"{name}.npz")
    outs = run(edgelite.Interpreter, (root / entry["file"]).read_bytes(), data["input_0"])
    for j, out in enumerate(outs):
        np.testing.assert_array_equal(out, data[f"ref_{j}"])


@pytest.mark.parametrize("regular, per_box", [(False, 3), (True, 1), (True, 2)])
def test_ssd_tensors_in_both_nms_modes_equal_litert(regular, per_box):
    """The SSD model's own uint8 box and score tensors (1917 anchors x 91 classes, many tied
    scores) through fast NMS with 3 classes per box and regular NMS, against LiteRT."""
    lite = pytest.importorskip("ai_edge_litert.interpreter")
    root = Path("/work/shared/support/conformance")
    name = "support_ssd_mobilenet_v1"
    if not (root / "manifest.json").exists():
        pytest.skip("the tflite-support conformance models are not here")
    entry = json.loads((root / "manifest.json").read_text())[name]
    it = edgelite.Interpreter(model_path=str(root / entry["file"]), experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], np.load(root / f"{name}.npz")["input_0"])
    it.invoke()
    sg = it.model.subgraphs[0]
    op = next(o for o in sg.operators if o.opcode == "CUSTOM")
    boxes, scores = (np.array(it.get_tensor(t)) for t in op.inputs[:2])
    anchors = sg.tensors[op.inputs[2]]

    def qp(t):
        return float(t.quantization.scale[0]), int(t.quantization.zero_point[0])

    options = dict(BASE_OPTIONS, max_detections=20, max_classes_per_detection=per_box, nms_score_threshold=1e-8,
                   nms_iou_threshold=0.6, use_regular_nms=regular, detections_per_class=10)
    content = detection_model(boxes.shape[1], 90, 1, options, anchors.data,
                              {"boxes": qp(sg.tensors[op.inputs[0]]), "scores": qp(sg.tensors[op.inputs[1]]),
                               "anchors": qp(anchors)})
    want = run(lite.Interpreter, content, boxes, scores)
    got = run(edgelite.Interpreter, content, boxes, scores)
    np.testing.assert_array_equal(got[3], want[3])
    mask = written_slots(options, 90, int(want[3][0]))
    for j in range(3):
        np.testing.assert_array_equal(got[j][0][mask], want[j][0][mask])


# -- AudioSpectrogram and Mfcc -------------------------------------------------------------
def audio_model(samples: int, channels: int, spectrogram: dict, mfcc: dict | None, rate: int) -> bytes:
    sg = Subgraph(name="main")
    x = sg.add_tensor("audio", (samples, channels), np.float32)
    spec = sg.add_tensor("spectrogram", (), np.float32)
    sg.add_operator("CUSTOM", [x], [spec], custom_code="AudioSpectrogram",
                    custom_options=flexbuffer_bytes(spectrogram))
    outs = [spec]
    if mfcc is not None:
        r = sg.add_constant("rate", np.array([rate], np.int32))
        out = sg.add_tensor("mfcc", (), np.float32)
        sg.add_operator("CUSTOM", [spec, r], [out], custom_code="Mfcc", custom_options=flexbuffer_bytes(mfcc))
        outs.append(out)
    sg.inputs, sg.outputs = [x], outs
    return Model(subgraphs=[sg]).to_bytes()


AUDIO_CASES = [
    ("speech_commands", 16000, 1, dict(window_size=480, stride=320, magnitude_squared=True),
     dict(upper_frequency_limit=4000, lower_frequency_limit=20, filterbank_channel_count=40,
          dct_coefficient_count=13), 16000),
    ("stereo_magnitude", 3000, 2, dict(window_size=256, stride=100, magnitude_squared=False), None, 0),
    ("odd_window_wide_band", 4000, 1, dict(window_size=200, stride=150, magnitude_squared=True),
     dict(upper_frequency_limit=7600, lower_frequency_limit=125, filterbank_channel_count=20,
          dct_coefficient_count=20), 16000),
    ("upper_past_nyquist", 2000, 1, dict(window_size=128, stride=64, magnitude_squared=True),
     dict(upper_frequency_limit=5000, lower_frequency_limit=100, filterbank_channel_count=12,
          dct_coefficient_count=6), 8000),
]


@pytest.mark.parametrize("name, samples, channels, spectrogram, mfcc, rate", AUDIO_CASES,
                         ids=[c[0] for c in AUDIO_CASES])
def test_audio_features_match_litert(name, samples, channels, spectrogram, mfcc, rate):
    lite = pytest.importorskip("ai_edge_litert.interpreter")
    content = audio_model(samples, channels, spectrogram, mfcc, rate)
    t = np.arange(samples)[:, None] / 8000.0
    audio = (0.4 * np.sin(2 * np.pi * 440 * t * np.arange(1, channels + 1))
             + np.random.default_rng(5).normal(0, 0.05, (samples, channels))).astype(np.float32)
    want = run(lite.Interpreter, content, audio)
    got = run(edgelite.Interpreter, content, audio)
    for w, g in zip(want, got):
        assert w.shape == g.shape
        scale = float(np.abs(w).max()) or 1.0
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-5 * scale, err_msg=name)


def test_spectrogram_peak_and_shape_by_hand():
    # a 1 kHz tone sampled at 8 kHz, window 64 (fft 64): the energy peaks in bin 1000 / 125 = 8
    samples, window, stride = 400, 64, 32
    audio = np.sin(2 * np.pi * 1000 * np.arange(samples) / 8000).astype(np.float32)[:, None]
    (spec,) = run(edgelite.Interpreter,
                  audio_model(samples, 1, dict(window_size=window, stride=stride, magnitude_squared=True), None, 0),
                  audio)
    assert spec.shape == (1, 1 + (samples - window) // stride, window // 2 + 1)
    assert (spec[0].argmax(axis=1) == 8).all()
    # periodic Hann of a full-scale tone centred on a bin: |X|^2 = (window / 4)^2
    np.testing.assert_allclose(spec[0, :, 8], (window / 4) ** 2, rtol=1e-4)


def test_mfcc_of_silence_by_hand():
    # silence: every filterbank energy is floored at 1e-12, so all log energies are ln(1e-12);
    # the DCT (sqrt(2/n) scaling) of a constant c gives n * sqrt(2/n) * c in coefficient 0 and 0
    # in the others
    bins, rate, channels = 129, 16000, 10
    sg = Subgraph(name="main")
    spec = sg.add_tensor("spec", (1, 2, bins), np.float32)
    r = sg.add_constant("rate", np.array([rate], np.int32))
    out = sg.add_tensor("mfcc", (), np.float32)
    sg.add_operator("CUSTOM", [spec, r], [out], custom_code="Mfcc", custom_options=flexbuffer_bytes(
        dict(upper_frequency_limit=4000, lower_frequency_limit=20, filterbank_channel_count=channels,
             dct_coefficient_count=5)))
    sg.inputs, sg.outputs = [spec], [out]
    (mfcc,) = run(edgelite.Interpreter, Model(subgraphs=[sg]).to_bytes(), np.zeros((1, 2, bins), np.float32))
    assert mfcc.shape == (1, 2, 5)
    np.testing.assert_allclose(mfcc[0, :, 0], channels * np.sqrt(2 / channels) * np.log(1e-12), rtol=1e-6)
    np.testing.assert_allclose(mfcc[0, :, 1:], 0, atol=1e-4)

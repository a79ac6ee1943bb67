"""int8 export: the head's bias absorbs the mean shift of the int8 backbone's features on the
calibration images (export.quantize_int8, bias_correction=True). The accuracy it recovers is measured on
EfficientNet-Lite0 in test_efficientnet_slow.py (the tiny backbone here has almost no shift)."""
import numpy as np

from edgelite import Interpreter, load_model
from edgelite.model_maker.export import head_input
from edgelite.model_maker.head_graph import fold_standardization


def _head(model):
    sg = model.subgraphs[0]
    fc = [op for op in sg.operators if op.opcode == "FULLY_CONNECTED"][-1]
    return sg, fc


def _dequantized(sg, index, value):
    q = sg.tensors[index].quantization
    return (value.astype(np.float64) - q.zero_point.reshape(-1)) * q.scale.reshape(-1)


def _run(content, spec, images, index):
    it = Interpreter(model_content=content, experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    sg = load_model(content).subgraphs[0]
    out = []
    for im in images:
        it.set_tensor(it.get_input_details()[0]["index"], spec.preprocess(im)[None])
        it.invoke()
        out.append(_dequantized(sg, index, it.get_tensor(index)).reshape(-1))
    return np.array(out)


def test_head_bias_absorbs_int8_feature_shift(tmp_path, digits_split, tiny_spec, digits_model):
    train, _ = digits_split
    calibration = train.images[:40]
    plain = load_model(digits_model.export(tmp_path / "plain", quantization="int8", calibration_count=40,
                                           bias_correction=False).read_bytes())
    fixed = load_model(digits_model.export(tmp_path / "fixed", quantization="int8", calibration_count=40).read_bytes())
    (psg, pfc), (fsg, ffc) = _head(plain), _head(fixed)
    # only the head's int32 bias differs: the backbone and every scale are the same
    assert len(psg.tensors) == len(fsg.tensors)
    for i, (a, b) in enumerate(zip(psg.tensors, fsg.tensors)):
        assert a.name == b.name and a.dtype == b.dtype
        assert (a.quantization is None) == (b.quantization is None)
        if a.quantization is not None:
            np.testing.assert_array_equal(a.quantization.scale, b.quantization.scale)
        if a.data is not None and i != pfc.inputs[2]:
            np.testing.assert_array_equal(np.asarray(a.data), np.asarray(b.data), err_msg=a.name)

    # the correction is -W d, d = mean(int8 features - float features) over the calibration images
    feat = head_input(plain)
    shift = (_run(plain.to_bytes(), tiny_spec, calibration, feat) - tiny_spec.features(calibration)).mean(0)
    w, b = fold_standardization(digits_model.weights, digits_model.bias, digits_model.feature_mean,
                                digits_model.feature_scale)
    bias_scale = fsg.tensors[ffc.inputs[2]].quantization.scale
    got = np.asarray(fsg.tensors[ffc.inputs[2]].data) * bias_scale
    expected = b - w.astype(np.float64) @ shift
    np.testing.assert_allclose(got, expected, atol=1.01 * bias_scale.max())
    assert np.abs(w @ shift).max() > 5 * bias_scale.max()        # a real correction, not rounding


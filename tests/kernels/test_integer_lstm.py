"""Full-integer (8x8_16) UNIDIRECTIONAL_SEQUENCE_LSTM against LiteRT's builtin kernel, bit for bit."""
import zlib

import numpy as np
import pytest

from edgelite.ir import Quantization
from edgelite.kernels.testing import single_op_model
from edgelite.schema import TensorType

OUT_SCALE, OUT_ZP = 1.0 / 128, -3
IN_SCALE, IN_ZP = 3.0 / 255, 5
CELL_SCALE = 2.0 ** -11


def q(scale, zp=0):
    return Quantization(scale=[scale], zero_point=[zp])


def quantize_weights(rng, shape, std):
    w = rng.normal(0, std, shape)
    scale = float(np.abs(w).max() / 127)
    return np.clip(np.round(w / scale), -127, 127).astype(np.int8), scale


def build_lstm(rng, *, batch=2, steps=3, n_input=5, n_cell=8, n_proj=0, cifg=False, peephole=False,
               layer_norm=False, time_major=False, cell_clip=0.0, proj_clip=0.0, hidden_zp=0,
               hidden_scale=None, cell_scale=CELL_SCALE, weight_std=1.0):
    """A one-op integer LSTM model (inputs as TF's converter lays them out) and its input quantization."""
    n_output = n_proj or n_cell
    values, quant = [None] * 24, [None] * 24
    gates = [1, 2, 3] if cifg else [0, 1, 2, 3]
    gate_scales = [float(s) for s in rng.uniform(2.0 ** -12, 2.0 ** -10, 4)] if layer_norm else [2.0 ** -12] * 4
    for g in gates:
        w, ws = quantize_weights(rng, (n_cell, n_input), weight_std / np.sqrt(n_input))
        values[1 + g], quant[1 + g] = w, q(ws)
        r, rs = quantize_weights(rng, (n_cell, n_output), weight_std / np.sqrt(n_output))
        values[5 + g], quant[5 + g] = r, q(rs)
        if layer_norm:
            ln_scale = 2.0 ** -14
            values[20 + g] = rng.integers(8000, 24000, n_cell).astype(np.int16)
            quant[20 + g] = q(ln_scale)
            values[12 + g] = rng.integers(-300000, 300000, n_cell).astype(np.int32)
            quant[12 + g] = q(ln_scale * 2.0 ** -10)
        else:
            bias_scale = ws * IN_SCALE
            values[12 + g] = np.round(rng.normal(0, 0.5, n_cell) / bias_scale).astype(np.int32)
            quant[12 + g] = q(bias_scale)
    if peephole:
        for g, idx in ((0, 9), (1, 10), (3, 11)):
            if g in gates:
                values[idx] = rng.integers(-12000, 12000, n_cell).astype(np.int16)
                quant[idx] = q(1.0 / 16384)
    h_scale = hidden_scale or OUT_SCALE
    if n_proj:
        p, ps = quantize_weights(rng, (n_proj, n_cell), 1.0 / np.sqrt(n_cell))
        values[16], quant[16] = p, q(ps)
        values[17] = rng.integers(-2000, 2000, n_proj).astype(np.int32)
        quant[17] = q(ps * h_scale)
    x_shape = (steps, batch, n_input) if time_major else (batch, steps, n_input)
    values[0], quant[0] = np.zeros(x_shape, np.int8), q(IN_SCALE, IN_ZP)
    values[18], quant[18] = np.zeros((batch, n_output), np.int8), q(OUT_SCALE, OUT_ZP)
    values[19], quant[19] = np.zeros((batch, n_cell), np.int16), q(cell_scale)
    constants = tuple(i for i in range(24) if values[i] is not None and i not in (0, 18, 19))
    options = {"fused_activation_function": 4, "cell_clip": cell_clip, "proj_clip": proj_clip,
               "time_major": time_major}
    model = single_op_model("UNIDIRECTIONAL_SEQUENCE_LSTM", values, options, output_dtypes=[np.int8],
                            constant_inputs=constants, input_quant=quant, output_quant=[q(OUT_SCALE, OUT_ZP)],
                            options_type="UnidirectionalSequenceLSTMOptions")
    sg = model.main
    op = sg.operators[0]
    for k in (18, 19):
        sg.tensors[op.inputs[k]].is_variable = True
        sg.tensors[op.inputs[k]].data = None
    sg.inputs = [op.inputs[0]]
    op.intermediates = [sg.add_tensor(f"gate{g}", (), TensorType.INT16, quantization=q(gate_scales[g]))
                        for g in range(4)]
    op.intermediates.append(sg.add_tensor("hidden", (), TensorType.INT8, quantization=q(h_scale, hidden_zp)))
    feeds = [rng.integers(-128, 128, x_shape).astype(np.int8) for _ in range(2)]
    return model, feeds, (op.inputs[18], op.inputs[19])


def run(model, feeds, states, engine, initial_states=None):
    if engine == "litert":
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        it = Interpreter(model_content=model.to_bytes(),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    else:
        from edgelite.interpreter import Interpreter
        it = Interpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    for index, value in zip(states, initial_states or ()):
        it.set_tensor(index, value)
    results = []
    for x in feeds:
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        results.append([np.array(it.get_tensor(it.get_output_details()[0]["index"]))]
                       + [np.array(it.get_tensor(s)) for s in states])
    return results


def random_states(rng, model, states):
    """Initial output / cell states, set in both engines (see test_zero_point_initial_state)."""
    tensors = model.main.tensors
    return [rng.integers(-100, 100, tensors[states[0]].shape).astype(np.int8),
            rng.integers(-3000, 3000, tensors[states[1]].shape).astype(np.int16)]


CASES = {
    "plain": {},
    "cifg": {"cifg": True},
    "peephole": {"peephole": True},
    "cifg_peephole": {"cifg": True, "peephole": True},
    "layer_norm": {"layer_norm": True},
    "layer_norm_cifg": {"layer_norm": True, "cifg": True},
    "projection": {"n_proj": 6},
    "projection_hidden_zp": {"n_proj": 6, "hidden_zp": 4, "hidden_scale": 1.0 / 100},
    "hidden_zp": {"hidden_zp": -2},
    "projection_layer_norm_peephole": {"n_proj": 6, "layer_norm": True, "peephole": True},
    "projection_peephole_time_major": {"n_proj": 6, "peephole": True, "time_major": True, "batch": 3},
    "time_major": {"time_major": True, "batch": 3},
    "clips": {"cell_clip": 0.3, "proj_clip": 0.15, "n_proj": 6},
    "cell_clip_layer_norm": {"cell_clip": 0.5, "layer_norm": True, "peephole": True},
    "cell_scale_2^-15": {"cell_scale": 2.0 ** -15, "peephole": True},
    "cell_scale_2^-9_cifg": {"cell_scale": 2.0 ** -9, "cifg": True, "n_proj": 4},
    "layer_norm_odd_width": {"layer_norm": True, "n_cell": 12, "peephole": True, "batch": 3},
    "saturating": {"weight_std": 8.0, "peephole": True, "n_proj": 6},
    "saturating_layer_norm": {"weight_std": 8.0, "layer_norm": True, "time_major": True},
    "many_rows_layer_norm": {"layer_norm": True, "batch": 24, "steps": 2},
    "wide": {"n_input": 40, "n_cell": 32, "batch": 4, "steps": 5, "layer_norm": True, "n_proj": 16},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_integer_lstm_matches_litert(name):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    model, feeds, states = build_lstm(rng, **CASES[name])
    init = random_states(rng, model, states)
    want = run(model, feeds, states, "litert", init)
    got = run(model, feeds, states, "edgelite", init)
    for inv, (w, g) in enumerate(zip(want, got)):
        for what, a, b in zip(("output", "output state", "cell state"), w, g):
            assert b.dtype == a.dtype and b.shape == a.shape, (inv, what)
            np.testing.assert_array_equal(b, a, err_msg=f"invocation {inv}: {what}")
    # the recurrence is exercised: the state moved away from zero, the outputs vary over time
    assert np.any(want[1][2] != 0) and len(np.unique(want[1][0])) > 3


def test_integer_lstm_needs_intermediates():
    rng = np.random.default_rng(0)
    model, _, _ = build_lstm(rng)
    model.main.operators[0].intermediates = []
    from edgelite.interpreter import Interpreter
    with pytest.raises(Exception, match="intermediate"):
        Interpreter(model_content=model.to_bytes()).allocate_tensors()


def test_zero_point_initial_state():
    """int8 state tensors start at their zero point (a real 0.0), as LiteRT's ResetVariableTensor."""
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(7)
    model, feeds, states = build_lstm(rng)
    want = run(model, feeds, states, "litert")
    got = run(model, feeds, states, "edgelite")
    for w, g in zip(want, got):
        for a, b in zip(w, g):
            np.testing.assert_array_equal(b, a)


def test_scalar_inv_sqrt_matches_vectorised():
    from edgelite.kernels.integer_lstm import inv_sqrt_multiplier_exp_scalar
    from edgelite.kernels.quantized_elementwise import inv_sqrt_multiplier_exp_vec
    rng = np.random.default_rng(3)
    values = np.concatenate([np.arange(0, 300), 2 ** np.arange(0, 31), 2 ** np.arange(1, 31) - 1,
                             rng.integers(0, 2 ** 31 - 1, 3000), rng.integers(0, 5000, 500)]).astype(np.int64)
    want_m, want_s = inv_sqrt_multiplier_exp_vec(values)
    got = np.array([inv_sqrt_multiplier_exp_scalar(int(v)) for v in values])
    np.testing.assert_array_equal(got[:, 0], want_m)
    np.testing.assert_array_equal(got[:, 1], want_s)

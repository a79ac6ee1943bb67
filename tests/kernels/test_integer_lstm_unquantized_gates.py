"""Full-integer LSTM whose four gate intermediates are unquantized, as newer converters write it.

Without layer norm the gate pre-activations are Q3.12 whatever those intermediates say, so
LiteRT runs such models (TFLM's dtln, trained_lstm_int8, micro_speech_lstm). Only the hidden
intermediate (o * tanh(c)) must carry a scale; a layer-norm LSTM needs all five.
"""
import numpy as np
import pytest

from edgelite.schema import TensorType

from test_integer_lstm import build_lstm, random_states, run


def unquantize_gate_intermediates(model):
    sg = model.main
    op = sg.operators[0]
    op.intermediates = [sg.add_tensor(f"input_to_gate{g}_intermediate", (0,), TensorType.FLOAT32)
                        for g in range(4)] + [op.intermediates[4]]


@pytest.mark.parametrize("case", [{}, {"cifg": True, "peephole": True}, {"n_proj": 6, "hidden_zp": 3}])
def test_unquantized_gate_intermediates_match_litert(case):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(len(case))
    model, feeds, states = build_lstm(rng, **case)
    unquantize_gate_intermediates(model)
    init = random_states(rng, model, states)
    want = run(model, feeds, states, "litert", init)
    got = run(model, feeds, states, "edgelite", init)
    for inv, (w, g) in enumerate(zip(want, got)):
        for what, a, b in zip(("output", "output state", "cell state"), w, g):
            np.testing.assert_array_equal(b, a, err_msg=f"invocation {inv}: {what}")
    assert len(np.unique(want[1][0])) > 3


def test_layer_norm_lstm_still_needs_quantized_gate_intermediates():
    from edgelite.interpreter import Interpreter
    model, _, _ = build_lstm(np.random.default_rng(0), layer_norm=True)
    unquantize_gate_intermediates(model)
    with pytest.raises(Exception, match=r"intermediate tensor\(s\) \[0, 1, 2, 3\] must be quantized"):
        Interpreter(model_content=model.to_bytes()).allocate_tensors()


def test_hidden_intermediate_must_be_quantized():
    from edgelite.interpreter import Interpreter
    model, _, _ = build_lstm(np.random.default_rng(1))
    sg = model.main
    op = sg.operators[0]
    op.intermediates[4] = sg.add_tensor("hidden", (0,), TensorType.INT8)
    with pytest.raises(Exception, match=r"\[4\] must be quantized"):
        Interpreter(model_content=model.to_bytes()).allocate_tensors()

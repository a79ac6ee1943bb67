"""The TFLite Micro signal op pack (edgelite/kernels/signal) against TFLM, bit for bit.

* the two audio preprocessor models of ../shared/realmodels against their stored reference,
  and against TFLM's Python interpreter (the ``tflite-micro`` wheel) on every 20 ms hop of
  the 1 s recordings, invoking one interpreter per recording so the carried state counts;
* one-op models written with edgelite's writer (flexbuffers options), run by both, over
  several invokes and option settings;
* hand-checked values, which run without the wheel.
"""
from __future__ import annotations

import glob
import os
import wave
from pathlib import Path

import numpy as np
import pytest
from flatbuffers import flexbuffers

from edgelite.interpreter import Interpreter
from edgelite.ir import Model, Subgraph
from edgelite.kernels.signal.filterbank_ops import log32, sqrt64
from edgelite.kernels.signal.kissfft import RealFft, kiss_factors
from edgelite.schema import tensor_type_of

REAL = Path(os.environ.get("EDGELITE_REALMODELS", Path(__file__).resolve().parents[2].parent / "shared" / "realmodels"))
PREPROCESSORS = ["tflm_audio_preprocessor_int8", "tflm_audio_preprocessor_float"]
INT16, INT32, FLOAT32 = 7, 2, 0  # tflite TensorType codes used in the "T" option


def _tflm():
    return pytest.importorskip("tflite_micro.python.tflite_micro.runtime",
                               reason="TFLM's Python interpreter (tflite-micro wheel) is not installed")


# -- one-op models ------------------------------------------------------------------------
def signal_model(code: str, options: dict, inputs: list, outputs: list, constants: dict | None = None) -> bytes:
    """A model of one ``code`` custom op. ``inputs``: arrays (their shape and dtype; those in
    ``constants`` by position become constant tensors), ``outputs``: (shape, dtype) pairs."""
    sg = Subgraph(name="main")
    constants = constants or {}
    ins = []
    for k, x in enumerate(inputs):
        x = np.asarray(x)
        if k in constants:
            ins.append(sg.add_constant(f"c{k}", x))
        else:
            ins.append(sg.add_tensor(f"in{k}", x.shape, tensor_type_of(x.dtype)))
    outs = [sg.add_tensor(f"out{j}", shape, tensor_type_of(np.dtype(dt))) for j, (shape, dt) in enumerate(outputs)]
    sg.add_operator("CUSTOM", ins, outs, custom_code=code, custom_options=bytes(flexbuffers.Dumps(options)))
    sg.inputs = [t for k, t in enumerate(ins) if k not in constants]
    sg.outputs = outs
    return Model(subgraphs=[sg]).to_bytes()


def run_both(model: bytes, feeds: list[list[np.ndarray]]):
    """Invoke TFLM and edgelite once per feed on the same two interpreters; yield both outputs."""
    runtime = _tflm()
    tflm = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    ours = Interpreter(model_content=model)
    ours.allocate_tensors()
    ins = [d["index"] for d in ours.get_input_details()]
    outs = [d["index"] for d in ours.get_output_details()]
    for feed in feeds:
        for i, x in enumerate(feed):
            tflm.set_input(x, i)
            ours.set_tensor(ins[i], x)
        tflm.invoke()
        ours.invoke()
        yield ([np.array(tflm.get_output(j)) for j in range(len(outs))],
               [np.array(ours.get_tensor(t)) for t in outs])


def assert_same(model: bytes, feeds, valid_output: int | None = None) -> int:
    """Bit-exact outputs on every invoke (where ``valid_output`` says the frame is valid)."""
    compared = 0
    for step, (ref, got) in enumerate(run_both(model, feeds)):
        if valid_output is not None:
            assert bool(ref[valid_output]) == bool(got[valid_output]), f"invoke {step}: output_valid"
            if not bool(ref[valid_output]):
                continue
        for j, (r, g) in enumerate(zip(ref, got)):
            assert r.dtype == g.dtype, f"invoke {step} output {j}: {g.dtype} vs TFLM {r.dtype}"
            assert r.shape == g.shape, f"invoke {step} output {j}: {g.shape} vs TFLM {r.shape}"
            if not np.array_equal(r, g):
                bad = np.flatnonzero(r.reshape(-1) != g.reshape(-1))
                raise AssertionError(f"invoke {step} output {j}: {bad.size} differ, first at {bad[0]}: "
                                     f"{g.reshape(-1)[bad[0]]} vs TFLM {r.reshape(-1)[bad[0]]}")
        compared += 1
    return compared


rng = np.random.default_rng(20261204)


def int16_signal(shape, amplitude=32767):
    x = rng.integers(-amplitude, amplitude + 1, size=shape).astype(np.int16)
    return x


# -- the corpus models -----------------------------------------------------------------------
def _preprocessor(name):
    path = REAL / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path


@pytest.mark.parametrize("name", PREPROCESSORS)
def test_preprocessor_matches_reference(name):
    path = _preprocessor(name)
    data = np.load(REAL / f"{name}.npz")
    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], data["input_0"])
    it.invoke()
    out = it.get_tensor(it.get_output_details()[0]["index"])
    assert out.dtype == data["ref_0"].dtype
    np.testing.assert_array_equal(out, data["ref_0"])


@pytest.mark.parametrize("name", PREPROCESSORS)
def test_preprocessor_every_window_of_the_recordings(name):
    path = _preprocessor(name)
    wavs = sorted(glob.glob(str(REAL / "audio" / "*_1000ms.wav")))
    if not wavs:
        pytest.skip("no recordings in realmodels/audio")
    model = path.read_bytes()
    compared = 0
    for wav in wavs:
        with wave.open(wav) as w:
            audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
        windows = [[audio[s:s + 480].reshape(1, 480)] for s in range(0, audio.size - 480 + 1, 320)]
        compared += assert_same(model, windows)  # one interpreter per recording: state carries over
    assert compared == 49 * len(wavs)


# -- one op at a time against TFLM ------------------------------------------------------------
@pytest.mark.parametrize("shift", [12, 8, 0])
def test_window(shift):
    weights = int16_signal(64)
    model = signal_model("SignalWindow", {"shift": shift}, [int16_signal((3, 64)), weights],
                         [((3, 64), np.int16)], constants={1: weights})
    extremes = np.full((3, 64), -32768, np.int16)
    assert_same(model, [[int16_signal((3, 64))], [extremes]])


def test_fft_auto_scale():
    n = 480
    feeds = [[int16_signal(n, a)] for a in (0, 1, 100, 5000, 32767)]
    edge = int16_signal(n, 3)
    edge[17] = -32768  # MaxAbs16 of -32768 follows int16 arithmetic
    feeds.append([edge])
    model = signal_model("SignalFftAutoScale", {}, [feeds[0][0]], [((n,), np.int16), ((), np.int32)])
    assert_same(model, feeds)


@pytest.mark.parametrize("dtype,code,length,rows,width", [
    (np.int16, INT16, 512, 1, 480), (np.int16, INT16, 64, 3, 64), (np.int16, INT16, 60, 2, 50),
    (np.int16, INT16, 24, 1, 24), (np.int32, INT32, 256, 2, 200), (np.int32, INT32, 30, 1, 30),
    (np.float32, FLOAT32, 512, 1, 400), (np.float32, FLOAT32, 40, 2, 36), (np.float32, FLOAT32, 20, 1, 20),
])  # (TFLM's kissfft has no scratch memory for radices above 5: half-lengths with such factors crash it)
def test_rfft(dtype, code, length, rows, width):
    if dtype == np.float32:
        feeds = [[rng.standard_normal((rows, width)).astype(np.float32) * s] for s in (1, 1000)]
    elif dtype == np.int32:
        feeds = [[rng.integers(-(1 << 30), 1 << 30, size=(rows, width)).astype(np.int32)],
                 [rng.integers(-1000, 1000, size=(rows, width)).astype(np.int32)]]
    else:
        feeds = [[int16_signal((rows, width))], [int16_signal((rows, width), 300)]]
    model = signal_model("SignalRfft", {"T": code, "fft_length": length}, [feeds[0][0]],
                         [((rows, length + 2), dtype)])
    assert_same(model, feeds)


@pytest.mark.parametrize("dtype,code", [(np.int16, INT16), (np.int32, INT32)])
@pytest.mark.parametrize("length", [64, 60, 20])
def test_rfft_and_irfft_at_full_scale(dtype, code, length):
    """Full-scale values make kissfft's fixed-point sums wrap: they must wrap as in TFLM."""
    info = np.iinfo(dtype)
    def feeds(width):
        full = rng.integers(info.min, info.max, size=(2, width), endpoint=True).astype(dtype)
        alternating = np.where(np.arange(width) % 2, info.max, info.min).astype(dtype)
        return [[full], [np.full((2, width), info.min, dtype)], [np.full((2, width), info.max, dtype)],
                [np.tile(alternating, (2, 1))]]
    forward = feeds(length)
    assert_same(signal_model("SignalRfft", {"T": code, "fft_length": length}, [forward[0][0]],
                             [((2, length + 2), dtype)]), forward)
    inverse = feeds(length + 2)
    assert_same(signal_model("SignalIrfft", {"T": code, "fft_length": length}, [inverse[0][0]],
                             [((2, length), dtype)]), inverse)


@pytest.mark.parametrize("dtype,code,length", [
    (np.int16, INT16, 64), (np.int16, INT16, 60), (np.int32, INT32, 128), (np.float32, FLOAT32, 64),
    (np.float32, FLOAT32, 24),
])
def test_irfft(dtype, code, length):
    width = length + 2
    if dtype == np.float32:
        feeds = [[rng.standard_normal((2, width)).astype(np.float32)]]
    elif dtype == np.int32:
        feeds = [[rng.integers(-(1 << 28), 1 << 28, size=(2, width)).astype(np.int32)]]
    else:
        feeds = [[int16_signal((2, width))], [int16_signal((2, width), 500)]]
    model = signal_model("SignalIrfft", {"T": code, "fft_length": length}, [feeds[0][0]], [((2, length), dtype)])
    assert_same(model, feeds)


@pytest.mark.parametrize("start,end", [(0, 257), (5, 241)])
def test_energy(start, end):
    spectrum = int16_signal(514)
    spectrum[:4] = -32768  # 2 * 32768^2 wraps in TFLM's int32 sum
    model = signal_model("SignalEnergy", {"start_index": start, "end_index": end}, [spectrum],
                         [((257,), np.uint32)])
    for ref, got in run_both(model, [[spectrum], [int16_signal(514)]]):
        np.testing.assert_array_equal(got[0][start:end], ref[0][start:end])  # TFLM leaves the rest unwritten


def filterbank_config(num_channels: int, n_bins: int):
    """A random but well-formed mel-like configuration (num_channels + 1 bands)."""
    widths = rng.integers(1, 6, size=num_channels + 1).astype(np.int16)
    freq_starts = np.minimum(np.cumsum(np.r_[1, widths[:-1]]), n_bins - widths).astype(np.int16)
    weight_starts = np.cumsum(np.r_[0, widths[:-1]]).astype(np.int16)
    total = int(widths.sum())
    weights = rng.integers(0, 4096, size=total).astype(np.int16)
    unweights = (4096 - weights).astype(np.int16)
    return weights, unweights, freq_starts, weight_starts, widths


@pytest.mark.parametrize("num_channels", [1, 8, 40])
def test_filter_bank(num_channels):
    n_bins = 257
    config = filterbank_config(num_channels, n_bins)
    spectrum = rng.integers(0, 1 << 32, size=n_bins, dtype=np.uint64).astype(np.uint32)
    model = signal_model("SignalFilterBank", {"num_channels": num_channels}, [spectrum, *config],
                         [((num_channels,), np.uint64)], constants={k: c for k, c in enumerate(config, 1)})
    assert_same(model, [[spectrum], [spectrum // 7], [np.full(n_bins, 0xFFFFFFFF, np.uint32)]])


def test_filter_bank_with_negative_weights_wraps_like_uint64():
    weights, unweights, freq_starts, weight_starts, widths = filterbank_config(12, 129)
    weights = rng.integers(-32768, 32768, size=weights.size).astype(np.int16)
    unweights = rng.integers(-32768, 32768, size=weights.size).astype(np.int16)
    config = (weights, unweights, freq_starts, weight_starts, widths)
    spectrum = rng.integers(0, 1 << 32, size=129, dtype=np.uint64).astype(np.uint32)
    model = signal_model("SignalFilterBank", {"num_channels": 12}, [spectrum, *config], [((12,), np.uint64)],
                         constants={k: c for k, c in enumerate(config, 1)})
    assert_same(model, [[spectrum]])


def test_filter_bank_square_root():
    values = np.array([0, 1, 2, 3, 4, 8, 15, 16, 24, 25, 0xFFFE0001, 0xFFFF0000, 0xFFFFFFFF, 1 << 32,
                       (1 << 32) + 5, (1 << 40) + 12345, (1 << 64) - 1, 123456789012345], dtype=np.uint64)
    values = np.r_[values, rng.integers(0, 1 << 63, size=22, dtype=np.uint64)]
    scale = np.array(0, np.int32)
    model = signal_model("SignalFilterBankSquareRoot", {}, [values, scale], [((values.size,), np.uint32)])
    assert_same(model, [[values, np.array(s, np.int32)] for s in (0, 1, 7)])


@pytest.mark.parametrize("clamping", [False, True])
@pytest.mark.parametrize("alternate", [False, True])
def test_spectral_subtraction_carries_its_noise_estimate(clamping, alternate):
    n = 40
    options = {"num_channels": n, "smoothing": 409, "one_minus_smoothing": 15975,
               "alternate_smoothing": 983 if alternate else 409,
               "alternate_one_minus_smoothing": 15401 if alternate else 15975,
               "smoothing_bits": 10, "spectral_subtraction_bits": 14, "min_signal_remaining": 819,
               "clamping": clamping}
    frames = [rng.integers(0, 1 << 16, size=n).astype(np.uint32) for _ in range(12)]
    frames[6] = frames[6] // 50  # a quiet frame: the estimate exceeds the signal
    model = signal_model("SignalFilterBankSpectralSubtraction", options, [frames[0]],
                         [((n,), np.uint32), ((n,), np.uint32)])
    assert assert_same(model, [[f] for f in frames]) == len(frames)


def _pcan_lut():
    path = REAL / "tflm_audio_preprocessor_int8.tflite"
    if path.exists():
        from edgelite.reader import load_model
        sg = load_model(path).main
        op = next(o for o in sg.operators if o.custom_code == "SignalPCAN")
        return np.array(sg.tensors[op.inputs[2]].data)
    return rng.integers(-2000, 8000, size=125).astype(np.int16)


@pytest.mark.parametrize("snr_shift", [6, 10])
def test_pcan(snr_shift):
    n = 40
    lut = _pcan_lut()
    x = rng.integers(0, 1 << 20, size=n).astype(np.uint32)
    noise = np.r_[[0, 1, 2, 3, 4], rng.integers(0, 1 << 30, size=n - 5)].astype(np.uint32)
    model = signal_model("SignalPCAN", {"snr_shift": snr_shift}, [x, noise, lut], [((n,), np.uint32)],
                         constants={2: lut})
    assert_same(model, [[x, noise], [x >> 8, noise >> 4], [np.full(n, 0xFFFFFFFF, np.uint32), noise]])


def test_pcan_with_any_gain_table():
    lut = rng.integers(-32768, 32768, size=125).astype(np.int16)  # negative gains wrap to uint32
    x = rng.integers(0, 1 << 32, size=40, dtype=np.uint64).astype(np.uint32)
    noise = rng.integers(0, 1 << 32, size=40, dtype=np.uint64).astype(np.uint32)
    model = signal_model("SignalPCAN", {"snr_shift": 13}, [x, noise, lut], [((40,), np.uint32)], constants={2: lut})
    assert_same(model, [[x, noise], [x >> 16, noise >> 3]])


@pytest.mark.parametrize("output_scale,correction_bits", [(64, 3), (1600, 0), (1 << 20, 5)])
def test_filter_bank_log(output_scale, correction_bits):
    x = np.r_[[0, 1, 2, 3, 0xFFFFFFFF, 1 << 31, 65535, 65536],
              rng.integers(0, 1 << 32, size=32, dtype=np.uint64)].astype(np.uint32)
    model = signal_model("SignalFilterBankLog", {"output_scale": output_scale,
                                                 "input_correction_bits": correction_bits},
                         [x], [((x.size,), np.int16)])
    assert_same(model, [[x], [x >> 12]])


def test_delay_over_invokes():
    feeds = [[int16_signal((2, 5))] for _ in range(6)]
    model = signal_model("SignalDelay", {"delay_length": 3}, [feeds[0][0]], [((2, 5), np.int16)])
    assert assert_same(model, feeds) == 6


@pytest.mark.parametrize("prefill", [False, True])
@pytest.mark.parametrize("frame_size,frame_step,width", [(8, 4, 8), (10, 4, 4), (4, 4, 12)])
def test_framer_over_invokes(prefill, frame_size, frame_step, width):
    feeds = [[int16_signal((2, width))] for _ in range(6)]
    n_frames = width // frame_step
    model = signal_model("SignalFramer", {"frame_size": frame_size, "frame_step": frame_step, "prefill": prefill},
                         [feeds[0][0]], [((2, n_frames, frame_size), np.int16), ((), np.bool_)])
    assert assert_same(model, feeds, valid_output=1) >= 3


@pytest.mark.parametrize("dtype,code", [(np.int16, INT16), (np.float32, FLOAT32)])
def test_overlap_add_over_invokes(dtype, code):
    if dtype == np.int16:
        feeds = [[int16_signal((2, 3, 8))] for _ in range(5)]
    else:
        feeds = [[rng.standard_normal((2, 3, 8)).astype(np.float32)] for _ in range(5)]
    model = signal_model("SignalOverlapAdd", {"T": code, "frame_step": 4}, [feeds[0][0]], [((2, 12), dtype)])
    assert assert_same(model, feeds) == 5


@pytest.mark.parametrize("left,right,step", [(2, 1, 1), (0, 0, 1), (3, 2, 2), (1, 3, 3)])
def test_stacker_over_invokes(left, right, step):
    channels = 4
    feeds = [[int16_signal(channels)] for _ in range(12)]
    size = channels * (left + right + 1)
    model = signal_model("SignalStacker", {"num_channels": channels, "stacker_left_context": left,
                                           "stacker_right_context": right, "stacker_step": step},
                         [feeds[0][0]], [((size,), np.int16), ((), np.bool_)])
    assert assert_same(model, feeds, valid_output=1) >= 3


# -- hand-checked values (no oracle needed) ----------------------------------------------------
def _run(model: bytes, feeds):
    it = Interpreter(model_content=model)
    it.allocate_tensors()
    ins = [d["index"] for d in it.get_input_details()]
    outs = [d["index"] for d in it.get_output_details()]
    results = []
    for feed in feeds:
        for i, x in zip(ins, feed):
            it.set_tensor(i, x)
        it.invoke()
        results.append([np.array(it.get_tensor(t)) for t in outs])
    return results


def test_kiss_factors_follow_kf_factor():
    assert kiss_factors(256) == [(4, 64), (4, 16), (4, 4), (4, 1)]
    assert kiss_factors(128) == [(4, 32), (4, 8), (4, 2), (2, 1)]
    assert kiss_factors(30) == [(2, 15), (3, 5), (5, 1)]
    assert kiss_factors(14) == [(2, 7), (7, 1)]


def test_rfft_int16_of_a_constant_by_hand():
    # kissfft int16 divides by the radix at every stage: a DC of 1024 over 64 samples is
    # 64 * 1024 / 64 = 1024 in bin 0 and nothing elsewhere.
    out = RealFft(64, False, np.int16).forward(np.full((1, 64), 1024, np.int16))
    assert out[0][0, 0] == 1024 and not out[0][0, 1:].any() and not out[1].any()
    # the float transform is unscaled: 64 * 0.5
    re, im = RealFft(64, False, np.float32).forward(np.full((1, 64), 0.5, np.float32))
    assert re[0, 0] == 32.0 and not re[0, 1:].any() and not im.any()


def test_rfft_with_a_radix_above_five_by_hand():
    # TFLM cannot run these (kissfft's generic butterfly needs a scratch buffer its build lacks):
    # the transform is checked against numpy instead
    x = rng.standard_normal((2, 28)).astype(np.float32)
    re, im = RealFft(28, False, np.float32).forward(x)
    np.testing.assert_allclose(re + 1j * im, np.fft.rfft(x.astype(np.float64)), atol=1e-4)
    back = RealFft(28, True, np.float32).inverse_transform(re, im)
    np.testing.assert_allclose(back / 28, x, atol=1e-5)  # kiss_fftri gives fft_length times the signal


def test_window_and_auto_scale_by_hand():
    model = signal_model("SignalWindow", {"shift": 1}, [np.zeros(4, np.int16), np.array([2, 3, 4, -4], np.int16)],
                         [((4,), np.int16)], constants={1: np.array([2, 3, 4, -4], np.int16)})
    (out,), = _run(model, [[np.array([5, -5, 30000, 30000], np.int16)]])
    np.testing.assert_array_equal(out, [5, -8, 32767, -32768])  # (5*2)>>1, (-15)>>1 = -8, saturated
    model = signal_model("SignalFftAutoScale", {}, [np.zeros(4, np.int16)], [((4,), np.int16), ((), np.int32)])
    (out, bits), = _run(model, [[np.array([3, -100, 7, 0], np.int16)]])
    assert int(bits) == 8  # max |x| = 100 has 7 bits: 16 - 7 - 1
    np.testing.assert_array_equal(out, [768, -25600, 1792, 0])


def test_square_root_and_log_by_hand():
    got = sqrt64(np.array([0, 2, 3, 15, 16, 0xFFFFFFFF, 1 << 40], np.uint64))
    # round to nearest; below 2^32 the 16-bit root saturates at 0xFFFF
    np.testing.assert_array_equal(got, [0, 1, 2, 4, 4, 0xFFFF, 1 << 20])
    # ln(2^16) * 64 = 709.78 -> 710 (TFLM's table is exact at powers of two)
    assert int(log32(np.array([1 << 16]), 64)[0]) == 710
    assert int(log32(np.array([2]), 1 << 16)[0]) == 45426  # ln 2 in Q16


def test_stateful_ops_by_hand():
    model = signal_model("SignalDelay", {"delay_length": 2}, [np.zeros(3, np.int16)], [((3,), np.int16)])
    outs = [o[0].tolist() for o in _run(model, [[np.array([1, 2, 3], np.int16)], [np.array([4, 5, 6], np.int16)]])]
    assert outs == [[0, 0, 1], [2, 3, 4]]
    model = signal_model("SignalStacker", {"num_channels": 1, "stacker_left_context": 1,
                                           "stacker_right_context": 1, "stacker_step": 1},
                         [np.zeros(1, np.int16)], [((3,), np.int16), ((), np.bool_)])
    outs = _run(model, [[np.array([v], np.int16)] for v in (7, 8, 9)])
    assert [bool(o[1]) for o in outs] == [False, True, True]
    assert outs[1][0].tolist() == [7, 7, 8] and outs[2][0].tolist() == [7, 8, 9]
    model = signal_model("SignalOverlapAdd", {"T": INT16, "frame_step": 2}, [np.zeros((2, 4), np.int16)],
                         [((4,), np.int16)])
    (out,), = _run(model, [[np.array([[1, 2, 3, 4], [10, 20, 32767, 40]], np.int16)]])
    assert out.tolist() == [1, 2, 13, 24]


def test_spectral_subtraction_state_resets_with_a_new_interpreter():
    n = 4
    options = {"num_channels": n, "smoothing": 409, "one_minus_smoothing": 15975, "alternate_smoothing": 409,
               "alternate_one_minus_smoothing": 15975, "smoothing_bits": 10, "spectral_subtraction_bits": 14,
               "min_signal_remaining": 819, "clamping": False}
    model = signal_model("SignalFilterBankSpectralSubtraction", options, [np.zeros(n, np.uint32)],
                         [((n,), np.uint32), ((n,), np.uint32)])
    frame = np.array([1000, 2000, 3000, 4000], np.uint32)
    first = _run(model, [[frame], [frame]])
    again = _run(model, [[frame]])
    # estimate after one frame: (x << 10) * 409 >> 14 = x * 25.5625 -> 25562 for x = 1000
    assert first[0][1].tolist() == [25562, 51125, 76687, 102250]
    assert first[1][1].tolist() != first[0][1].tolist()  # it carried over
    assert again[0][1].tolist() == first[0][1].tolist()  # a fresh interpreter starts from zero


def test_bad_options_are_clear_errors():
    from edgelite.errors import ModelError
    model = signal_model("SignalWindow", {}, [np.zeros(4, np.int16), np.ones(4, np.int16)], [((4,), np.int16)],
                         constants={1: np.ones(4, np.int16)})
    with pytest.raises(ModelError, match="shift"):
        Interpreter(model_content=model).allocate_tensors()
    model = signal_model("SignalRfft", {"T": 9, "fft_length": 8}, [np.zeros(8, np.int16)], [((10,), np.int16)])
    with pytest.raises(ModelError, match="T=9"):
        Interpreter(model_content=model).allocate_tensors()


def test_reset_all_variables_is_tflm_reset():
    """Interpreter.reset_all_variables() forgets the carried state, as TFLM's reset() does."""
    path = _preprocessor("tflm_audio_preprocessor_int8")
    wav = REAL / "audio" / "yes_1000ms.wav"
    if not wav.exists():
        pytest.skip(f"{wav} not found")
    with wave.open(str(wav)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)
    frames = [audio[s:s + 480].reshape(1, 480) for s in range(0, 3200, 320)]
    runtime = _tflm()
    tflm = runtime.Interpreter.from_file(str(path), arena_size=1 << 20)
    ours = Interpreter(model_path=str(path))
    ours.allocate_tensors()
    i, o = ours.get_input_details()[0]["index"], ours.get_output_details()[0]["index"]

    def stream(chunk):
        for frame in chunk:
            tflm.set_input(frame, 0)
            tflm.invoke()
            ours.set_tensor(i, frame)
            ours.invoke()
            np.testing.assert_array_equal(ours.get_tensor(o), tflm.get_output(0))
        return ours.get_tensor(o).copy()

    carried = stream(frames)
    tflm.reset()
    ours.reset_all_variables()
    after_reset = stream(frames[-1:])
    assert not np.array_equal(carried, after_reset)  # the state mattered, and both forgot it


def test_reset_all_variables_restores_initial_state_by_hand():
    model = signal_model("SignalDelay", {"delay_length": 2}, [np.zeros(2, np.int16)], [((2,), np.int16)])
    it = Interpreter(model_content=model)
    it.allocate_tensors()
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    it.set_tensor(i, np.array([5, 6], np.int16))
    it.invoke()
    it.reset_all_variables()
    it.set_tensor(i, np.array([7, 8], np.int16))
    it.invoke()
    assert it.get_tensor(o).tolist() == [0, 0]  # not [5, 6]: the delay line was emptied

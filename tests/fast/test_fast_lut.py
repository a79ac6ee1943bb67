"""The compiled tier's AVX-512 VBMI byte-table lookup (``_compiled_lut.lookup_bytes``) against
numpy's ``table[index]`` (every byte value, every tail length, unaligned slices, in place), and
the ops that use it (the 8-bit table activations, the fused int8 swish) bit for bit against
the reference kernels, with and without the VBMI path (``EDGELITE_FAST_VBMI_LUT=0``)."""
import numpy as np
import pytest

pytest.importorskip("numba")

from test_fast_tier import assert_same_bits, both, picked, quant  # noqa: E402

from edgelite import Interpreter  # noqa: E402
from edgelite.ir import Model, Subgraph  # noqa: E402
from edgelite.kernels.fast.loader import compiled_module  # noqa: E402
from edgelite.kernels.fused_swish import FusedSwishMul  # noqa: E402
from edgelite.kernels.testing import single_op_model  # noqa: E402
from edgelite.schema import TensorType  # noqa: E402

pytestmark = pytest.mark.fast


def _lut():
    return compiled_module("_compiled_lut")


@pytest.fixture
def lut():
    module = _lut()
    if not module.vbmi_available():
        pytest.skip("the host CPU lacks AVX-512 VBMI (or numba does not compile for the host): "
                    "the scalar gather runs instead")
    return module


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
def test_every_byte_value_and_length(lut, dtype):
    rng = np.random.default_rng(1 + (dtype == np.int8))
    info = np.iinfo(dtype)
    table = rng.integers(info.min, info.max + 1, 256).astype(dtype)
    every = np.arange(256, dtype=np.uint8)
    out = np.empty(256, dtype)
    lut.lookup_bytes(every, table, out, 0, 256)
    assert out.tobytes() == table.tobytes()
    for n in list(range(201)) + [4096 + k for k in range(64)] + [1 << 16, (1 << 16) + 63]:
        index = rng.integers(0, 256, n).astype(np.uint8)
        out = np.full(n, 7, dtype)
        lut.lookup_bytes(index, table, out, 0, n)
        assert out.tobytes() == table[index].tobytes(), n


def test_int8_index_and_ranges(lut):
    """int8 indices (their uint8 bit pattern), a sub-range ``start..stop`` (untouched outside),
    read-only index and table (the kernels' cached tables)."""
    rng = np.random.default_rng(3)
    table = rng.integers(0, 256, 256).astype(np.uint8)
    index = rng.integers(-128, 128, 1000).astype(np.int8)
    table.flags.writeable = index.flags.writeable = False
    for start, stop in [(0, 1000), (1, 999), (37, 37 + 64 * 5 + 9), (500, 400), (999, 1000)]:
        out = np.zeros(1000, np.uint8)
        lut.lookup_bytes(index, table, out, start, stop)
        want = np.zeros(1000, np.uint8)
        if stop > start:
            want[start:stop] = table[index.view(np.uint8)[start:stop]]
        assert out.tobytes() == want.tobytes(), (start, stop)


@pytest.mark.parametrize("offset", [1, 3, 17, 63])
def test_unaligned_slices_and_in_place(lut, offset):
    rng = np.random.default_rng(offset)
    table = rng.integers(0, 256, 256).astype(np.uint8)
    table_buffer = np.zeros(256 + offset, np.uint8)
    table_buffer[offset:] = table
    unaligned_table = table_buffer[offset:]
    buffer = rng.integers(0, 256, 5000 + offset).astype(np.uint8)
    index = buffer[offset:offset + 4999]
    want = table[index]
    out = np.zeros(5000 + 2 * offset, np.uint8)[offset + 1:offset + 1 + 4999]
    lut.lookup_bytes(index, unaligned_table, out, 0, index.size)
    assert out.tobytes() == want.tobytes()
    lut.lookup_bytes(index, unaligned_table, index, 0, index.size)  # in place: index and out one buffer
    assert index.tobytes() == want.tobytes()


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 64 * 9 + 31, 70001])
def test_masked_lookup(lut, n):
    """Two tables picked per element (the fused swish on LiteRT's partial SIMD lanes)."""
    rng = np.random.default_rng(n)
    vector, scalar = (rng.integers(-128, 128, 256).astype(np.int8) for _ in range(2))
    index = np.resize(np.arange(256, dtype=np.uint8), n)
    rng.shuffle(index)
    lanes = rng.random(n) < 0.5
    out = np.zeros(n, np.int8)
    lut.lookup_bytes_masked(index, vector, scalar, lanes, out)
    assert out.tobytes() == np.where(lanes, vector[index], scalar[index]).tobytes()


def test_takes_table_only_byte_tables(lut):
    index, out = np.zeros(100, np.uint8), np.zeros(100, np.uint8)
    assert lut.takes_table(index, np.zeros(256, np.uint8), out)
    assert lut.takes_table(index.view(np.int8), np.zeros(256, np.uint8), out)
    assert not lut.takes_table(index, np.zeros(256, np.int8), out)       # the table is not out's type
    assert not lut.takes_table(index, np.zeros(65536, np.uint8), out)    # a pair table
    assert not lut.takes_table(index, np.zeros(256, np.int16), out.view(np.int16)[:50])
    assert not lut.takes_table(np.zeros(200, np.uint8)[::2], np.zeros(256, np.uint8), out)  # strided
    assert not lut.takes_table(index, np.zeros(512, np.uint8)[::2], out)


def test_switch_off(monkeypatch):
    monkeypatch.setenv("EDGELITE_FAST_VBMI_LUT", "0")
    assert not _lut().vbmi_available()


def _expected_gather(vbmi: str) -> str:
    """The compiled gather a byte-table kernel should have used."""
    if vbmi == "on" and _lut().vbmi_available():
        return "_compiled_lut.lookup_bytes"
    return "_compiled_int8.gather_bytes"


def _activation_case(dtype, size):
    rng = np.random.default_rng(size)
    info = np.iinfo(dtype)
    x = np.concatenate([np.arange(info.min, info.max + 1),
                        rng.integers(info.min, info.max + 1, size)]).astype(dtype).reshape(1, 1, -1, 1)
    base = 128 if dtype == np.uint8 else 0
    return x, {"input_quant": [quant(0.05, base + 7)], "output_quant": [quant(1 / 256, -128 + base)]}


@pytest.mark.parametrize("vbmi", ["on", "off"])
@pytest.mark.parametrize("size", [0, 1, 63, 64 * 7 + 5, 70001])  # plus the 256 byte values
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_table_activation_through_interpreter(monkeypatch, dtype, size, vbmi):
    if vbmi == "off":
        monkeypatch.setenv("EDGELITE_FAST_VBMI_LUT", "0")
    x, kw = _activation_case(dtype, size)
    assert picked("LOGISTIC", [x], {}, **kw).__name__ == "FastQuantizedLogistic"
    ref, got = both(monkeypatch, "LOGISTIC", [x], {}, **kw)
    assert_same_bits(ref, got)
    ref, got, kernels = _run_both(monkeypatch, single_op_model("LOGISTIC", [x], {}, **kw).to_bytes(), x)
    assert got.tobytes() == ref.tobytes()
    assert set(kernels[0]._compiled_fns) == {_expected_gather(vbmi)}  # the gather the kernel used


def _swish_model(shape, x_q, y_q, gate_first):
    """MUL(x, LOGISTIC(x)), int8: the fused swish (``fused_swish.FusedSwishMul``)."""
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", shape, TensorType.INT8, quantization=quant(*x_q))
    s = sg.add_tensor("sigmoid", shape, TensorType.INT8, quantization=quant(1 / 256, -128))
    y = sg.add_tensor("y", shape, TensorType.INT8, quantization=quant(*y_q))
    sg.add_operator("LOGISTIC", [x], [s])
    sg.add_operator("MUL", [s, x] if gate_first else [x, s], [y], {"fused_activation_function": 0})
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg]).validate().to_bytes()


def _run_both(monkeypatch, model: bytes, x):
    """(reference output, compiled-tier output, the compiled run's kernels) of a one-input model
    (``both`` of test_fast_tier, keeping the interpreter's kernels)."""
    outs, kernels = [], None
    for reference in (True, False):
        if reference:
            monkeypatch.setenv("EDGELITE_KERNELS", "reference")
        else:
            monkeypatch.delenv("EDGELITE_KERNELS", raising=False)
        it = Interpreter(model_content=model)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs.append(it.get_tensor(it.get_output_details()[0]["index"]))
        kernels = [p.kernel for p in it._runtime.executor(0)._placed]
    return outs[0], outs[1], kernels


@pytest.mark.parametrize("vbmi", ["on", "off"])
@pytest.mark.parametrize("size,x_q,y_q,gate_first,masked", [
    (1, (0.05, -3), (0.03, -100), False, False),
    (64 * 300 + 17, (0.05, -3), (0.03, -100), True, False),
    (64 * 64 * 3, (0.2, -128), (0.1, -120), True, False),
    # LiteRT's int16 SIMD lanes on part of the elements: two tables picked per element
    (1000, (0.05, 10), (0.00001, 0), False, True)])
def test_fused_swish_bit_exact(monkeypatch, size, x_q, y_q, gate_first, masked, vbmi):
    if vbmi == "off":
        monkeypatch.setenv("EDGELITE_FAST_VBMI_LUT", "0")
    rng = np.random.default_rng(size)
    x = rng.integers(-128, 128, (1, 1, size, 1)).astype(np.int8)
    x.reshape(-1)[:min(size, 256)] = np.arange(-128, 128)[:min(size, 256)]
    model = _swish_model(x.shape, x_q, y_q, gate_first)
    ref, got, kernels = _run_both(monkeypatch, model, x)
    assert got.tobytes() == ref.tobytes()
    mul = next(k for k in kernels if isinstance(k, FusedSwishMul))
    assert type(mul).__module__ == "edgelite.kernels.fast.elementwise"
    assert set(mul._compiled_fns) == {_expected_gather(vbmi) + ("_masked" if masked else "")}

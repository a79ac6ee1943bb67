"""The compiled (numba) kernel tier: bit-exact with the reference tier, on and off.

Every case runs the reference kernels (``EDGELITE_KERNELS=reference``) and the compiled
ones on the same inputs and requires identical bits; the zoo models also against LiteRT's
stored outputs. Marked ``fast`` (``-m "not fast"`` skips the pass); numba compiles into
its on-disk cache on the first run (a cold CI run pays that once).
"""
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("numba")

from conftest import MANIFEST, ZOO_KEYS, assert_matches, run_with_inputs, zoo_inputs, zoo_path, zoo_refs  # noqa: E402

from edgelite.ir import Quantization  # noqa: E402
from edgelite.kernels import fast  # noqa: E402
from edgelite.kernels.base import Node, lookup  # noqa: E402
from edgelite.kernels.testing import run_op, single_op_model  # noqa: E402

pytestmark = pytest.mark.fast


def both(monkeypatch, *args, **kw):
    """(reference outputs, compiled outputs) of one op."""
    monkeypatch.setenv("EDGELITE_KERNELS", "reference")
    with np.errstate(invalid="ignore"):  # inf * 0 in a case with non-finite weights
        ref = run_op(*args, **kw)
    monkeypatch.delenv("EDGELITE_KERNELS")
    return ref, run_op(*args, **kw)


def assert_same_bits(ref, got):
    assert len(ref) == len(got)
    for r, g in zip(ref, got):
        assert r.shape == g.shape and r.dtype == g.dtype
        assert r.tobytes() == g.tobytes()


def run_from_calls(monkeypatch, module) -> list:
    """The names of the compiled functions ``module``'s kernels run through ``run_from`` from now
    on (a spy on the module's ``run_from``), in order."""
    calls = []
    real = module.run_from

    def spy(compiled, kernel, name, *args, **kw):
        calls.append(name)
        return real(compiled, kernel, name, *args, **kw)
    monkeypatch.setattr(module, "run_from", spy)
    return calls


def picked(opcode, inputs, options, **kw):
    model = single_op_model(opcode, inputs, options, constant_inputs=(1, 2), **kw)
    sg = model.main
    return lookup(Node(op=sg.operators[0], index=0, subgraph=sg))


def random_geometry(rng):
    c = int(rng.integers(1, 20))
    mult = int(rng.choice([1, 1, 2, 3]))
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    dh, dw = (int(v) for v in rng.integers(1, 3, 2))
    opts = dict(stride_h=int(rng.integers(1, 3)), stride_w=int(rng.integers(1, 3)), dilation_h_factor=dh,
                dilation_w_factor=dw, padding=int(rng.integers(0, 2)), depth_multiplier=mult,
                fused_activation_function=int(rng.choice([0, 1, 2, 3])))
    shape = (int(rng.integers(1, 3)), int(rng.integers(kh * dh, 14)), int(rng.integers(kw * dw, 14)), c)
    return shape, (1, kh, kw, c * mult), opts


def quant(scale, zp, dim=0):
    scale = np.atleast_1d(np.asarray(scale, np.float32))
    return Quantization(scale=scale, zero_point=np.broadcast_to(np.int64(zp), scale.shape).copy(),
                        quantized_dimension=dim)


@pytest.mark.parametrize("seed", range(12))
def test_float_depthwise_bit_exact(monkeypatch, seed):
    rng = np.random.default_rng(seed)
    shape, wshape, opts = random_geometry(rng)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(wshape).astype(np.float32)
    b = rng.standard_normal(wshape[3]).astype(np.float32) if seed % 3 else None
    if seed == 5:  # signed zeros and non-finite values keep their bits
        x.reshape(-1)[::7] = -0.0
        w.reshape(-1)[0] = np.inf
    assert picked("DEPTHWISE_CONV_2D", [x, w, b], opts).__module__ == "edgelite.kernels.fast.depthwise"
    ref, got = both(monkeypatch, "DEPTHWISE_CONV_2D", [x, w, b], opts, constant_inputs=(1, 2))
    assert_same_bits(ref, got)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_quantized_depthwise_bit_exact(monkeypatch, seed, dtype):
    rng = np.random.default_rng(100 + seed)
    shape, wshape, opts = random_geometry(rng)
    oc = wshape[3]
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max + 1
    x = rng.integers(lo, hi, shape).astype(dtype)
    if dtype == np.int8:  # per-channel symmetric weights
        w = rng.integers(-127, 128, wshape).astype(np.int8)
        w_scale = rng.uniform(1e-3, 1e-2, oc)
        qw, x_zp = quant(w_scale, 0, 3), int(rng.integers(-20, 20))
    else:  # legacy uint8: per-tensor weights with a zero point
        w = rng.integers(0, 256, wshape).astype(np.uint8)
        w_scale = np.float32(rng.uniform(1e-3, 1e-2))
        qw, x_zp = quant(w_scale, 120), 128
    # power-of-two scales put many accumulators on rounding ties (ruy vs gemmlowp tails)
    x_scale = 2.0 ** -int(rng.integers(3, 7)) if seed % 2 else float(rng.uniform(0.01, 0.1))
    b = rng.integers(-3000, 3000, oc).astype(np.int32)
    qb = quant(np.float32(x_scale) * np.asarray(w_scale, np.float32), 0)
    qin, qout = quant(x_scale, x_zp), quant(float(rng.uniform(0.05, 0.3)), int(rng.integers(-5, 5)) + (128 if dtype == np.uint8 else 0))
    kw = dict(constant_inputs=(1, 2), input_quant=[qin, qw, qb], output_quant=[qout])
    assert picked("DEPTHWISE_CONV_2D", [x, w, b], opts, input_quant=[qin, qw, qb],
                  output_quant=[qout]).__name__ == "FastQuantizedDepthwiseConv2D"
    ref, got = both(monkeypatch, "DEPTHWISE_CONV_2D", [x, w, b], opts, **kw)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("case", ["pointwise", "3x3_stride2", "deep", "uint8", "left_shift"])
def test_quantized_conv_epilogue_bit_exact(monkeypatch, case):
    rng = np.random.default_rng(7)
    dtype = np.uint8 if case == "uint8" else np.int8
    c, o = (1100, 8) if case == "deep" else (24, 40)  # deep: float32 GEMM in exact depth chunks
    k = 3 if case == "3x3_stride2" else 1
    x = rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max + 1, (1, 9, 7, c)).astype(dtype)
    if dtype == np.int8:
        w = rng.integers(-127, 128, (o, k, k, c)).astype(np.int8)
        w_scale, qw = rng.uniform(1e-4, 1e-3, o), None
        qw = quant(w_scale, 0, 0)
    else:
        w = rng.integers(0, 256, (o, k, k, c)).astype(np.uint8)
        w_scale = np.float32(3e-4)
        qw = quant(w_scale, 131)
    b = rng.integers(-5000, 5000, o).astype(np.int32)
    x_scale = 0.0625
    qb = quant(np.float32(x_scale) * np.asarray(w_scale, np.float32), 0)
    qin, qout = quant(x_scale, 3 if dtype == np.int8 else 125), quant(0.2, -4 if dtype == np.int8 else 130)
    if case == "left_shift":  # multipliers above 1: a left shift, the general (unmerged) rounding
        qout = quant(2e-6, -4)
    opts = dict(stride_h=2 if k == 3 else 1, stride_w=2 if k == 3 else 1, padding=0, fused_activation_function=3)
    kw = dict(constant_inputs=(1, 2), input_quant=[qin, qw, qb], output_quant=[qout])
    assert picked("CONV_2D", [x, w, b], opts, input_quant=[qin, qw, qb],
                  output_quant=[qout]).__name__ == "FastQuantizedConv2D"
    ref, got = both(monkeypatch, "CONV_2D", [x, w, b], opts, **kw)
    assert_same_bits(ref, got)
    # the same weights as a fully connected layer over the flattened input rows
    wf = w.reshape(o, -1)[:, :c]
    ref, got = both(monkeypatch, "FULLY_CONNECTED", [x.reshape(-1, c), wf, b], {"fused_activation_function": 1},
                    **kw)
    assert_same_bits(ref, got)


def test_reference_setting_turns_the_tier_off(monkeypatch):
    x = np.zeros((1, 4, 4, 3), np.float32)
    w = np.ones((1, 3, 3, 3), np.float32)
    opts = {"stride_h": 1, "stride_w": 1}
    assert picked("DEPTHWISE_CONV_2D", [x, w, None], opts).__name__ == "FastDepthwiseConv2D"
    monkeypatch.setenv("EDGELITE_KERNELS", "reference")
    assert not fast.enabled()
    assert picked("DEPTHWISE_CONV_2D", [x, w, None], opts).__name__ == "DepthwiseConv2D"


def test_numba_loads_on_first_invoke_quietly(tmp_path):
    code = ("import sys, numpy as np, edgelite\n"
            "assert 'numba' not in sys.modules, 'import edgelite imported numba'\n"
            "from edgelite.kernels.testing import single_op_model\n"
            "m = single_op_model('DEPTHWISE_CONV_2D', [np.ones((1, 5, 5, 2), np.float32),"
            " np.ones((1, 3, 3, 2), np.float32), None], {'stride_h': 1, 'stride_w': 1}, constant_inputs=(1,))\n"
            "it = edgelite.Interpreter(model_content=m, num_threads=1)\n"
            "it.allocate_tensors()\n"
            "assert 'numba' not in sys.modules, 'allocate_tensors imported numba'\n"
            "it.set_tensor(it.get_input_details()[0]['index'], np.ones((1, 5, 5, 2), np.float32))\n"
            "it.invoke()\n"
            "assert 'numba' in sys.modules and it.get_tensor(it.get_output_details()[0]['index']).max() == 9\n")
    env = {k: v for k, v in os.environ.items() if k != "EDGELITE_KERNELS"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""


def test_num_threads_sets_numba_pool():
    import numba

    from edgelite.interpreter import BlasThreads
    from edgelite.kernels.fast.loader import compiled
    from edgelite.kernels.thread_pools import requested_threads
    compiled()
    pool = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(pool)
    with BlasThreads(1):
        assert numba.get_num_threads() == 1 and requested_threads() == 1
    assert requested_threads() is None
    assert numba.get_num_threads() == pool
    with BlasThreads(64):  # more than the pool: clamped
        assert numba.get_num_threads() == pool


@pytest.mark.skipif(not MANIFEST, reason="zoo not found")
@pytest.mark.parametrize("key", [k for k in ZOO_KEYS if k != "signatures_f32"])
def test_zoo_model_same_bits_with_the_tier_on_and_off(monkeypatch, key):
    from edgelite import Interpreter
    inputs = zoo_inputs(key)
    monkeypatch.setenv("EDGELITE_KERNELS", "reference")
    ref = run_with_inputs(Interpreter(model_path=str(zoo_path(key))), inputs)
    monkeypatch.delenv("EDGELITE_KERNELS")
    got = run_with_inputs(Interpreter(model_path=str(zoo_path(key))), inputs)
    assert_same_bits(ref, got)
    for j, (o, r) in enumerate(zip(got, zoo_refs(key))):
        assert_matches(o, r, f"{key} output {j}")


@pytest.mark.parametrize("shape,axes", [((3, 5, 37), [2]), ((2, 7, 3, 9), [2, 3]), ((4, 1), [1]), ((6, 2), [1]),
                                        ((5, 16), [1]), ((3, 12), [-1]), ((2, 3, 4), [0])])
def test_float_mean_bit_exact(monkeypatch, shape, axes):
    rng = np.random.default_rng(len(shape) * 10 + shape[-1])
    x = (rng.standard_normal(shape) * 1e3).astype(np.float32)
    opts = {"keep_dims": True}
    a = np.array(axes, np.int32)
    assert picked("MEAN", [x, a], opts).__name__ == "FastMean"
    ref, got = both(monkeypatch, "MEAN", [x, a], opts, constant_inputs=(1,))
    assert_same_bits(ref, got)


def test_threads_take_turns_in_parallel_regions():
    """Several threads running compiled kernels at once (numba's workqueue layer would abort
    the process on concurrent parallel launches): same results as one thread."""
    import threading
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 24, 24, 16)).astype(np.float32)
    w = rng.standard_normal((1, 3, 3, 16)).astype(np.float32)
    opts = {"stride_h": 1, "stride_w": 1}
    expected = run_op("DEPTHWISE_CONV_2D", [x, w, None], opts, constant_inputs=(1,))[0]
    results, errors = [], []

    def worker():
        try:
            for _ in range(30):
                results.append(run_op("DEPTHWISE_CONV_2D", [x, w, None], opts, constant_inputs=(1,))[0])
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 120
    assert all(r.tobytes() == expected.tobytes() for r in results)


def test_kernel_tests_pass_with_the_tier_off(tmp_path):
    """The default run has the tier on; the LiteRT comparisons of the ops it replaces also run
    on the reference kernels (EDGELITE_KERNELS=reference), in a child pytest."""
    pytest.importorskip("ai_edge_litert")
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = [os.path.join(tests, "kernels", f) for f in
             ("test_quantized_conv.py", "test_conv.py", "test_float_exact.py", "test_reduce.py", "test_uint8.py")]
    env = dict(os.environ, EDGELITE_KERNELS="reference")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *files],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


@pytest.mark.parametrize("seed", range(6))
def test_quantized_conv_random_geometry_bit_exact(monkeypatch, seed):
    """Compiled im2col (strides, dilations, SAME/VALID padding at the input zero point)."""
    rng = np.random.default_rng(300 + seed)
    shape, wshape, opts = random_geometry(rng)
    opts.pop("depth_multiplier")
    c, o = shape[3], int(rng.integers(1, 12))
    x = rng.integers(-128, 128, shape).astype(np.int8)
    w = rng.integers(-127, 128, (o, wshape[1], wshape[2], c)).astype(np.int8)
    w_scale = rng.uniform(1e-3, 1e-2, o)
    b = rng.integers(-3000, 3000, o).astype(np.int32)
    qin, qw = quant(0.05, int(rng.integers(-20, 20))), quant(w_scale, 0, 0)
    qb, qout = quant(np.float32(0.05) * np.asarray(w_scale, np.float32), 0), quant(0.2, 3)
    kw = dict(constant_inputs=(1, 2), input_quant=[qin, qw, qb], output_quant=[qout])
    ref, got = both(monkeypatch, "CONV_2D", [x, w, b], opts, **kw)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("approximate", [False, True])
def test_float_gelu_bit_exact(monkeypatch, approximate):
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.standard_normal(997) * 3, [0.0, -0.0, 9.5, -9.5, 20.0, -20.0, np.inf, -np.inf, np.nan]])
    x = x.astype(np.float32).reshape(1, -1)
    opts = {"approximate": approximate}
    assert picked("GELU", [x], opts).__name__ == "FastGelu"
    ref, got = both(monkeypatch, "GELU", [x], opts)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("opcode", ["ADD", "MUL"])
@pytest.mark.parametrize("shapes", [((1, 64, 64, 32), (1, 64, 64, 32)), ((1, 129, 257, 3), (1, 129, 257, 3)),
                                    ((1, 64, 64, 32), (1, 1, 1, 32)), ((1, 70, 70, 20), (1, 70, 1, 20))])
def test_int8_table_ops_bit_exact(monkeypatch, opcode, shapes):
    """8-bit ADD / MUL through their pair tables: SIMD lanes, scalar tails and broadcast masks."""
    rng = np.random.default_rng(sum(shapes[1]))
    a = rng.integers(-128, 128, shapes[0]).astype(np.int8)
    b = rng.integers(-128, 128, shapes[1]).astype(np.int8)
    q = [quant(0.03, 5), quant(0.02, -7)]
    qout = [quant(0.05 if opcode == "ADD" else 0.01, 2)]
    opts = {"fused_activation_function": 1}
    model_kw = dict(input_quant=q, output_quant=qout)
    assert picked(opcode, [a, b], opts, **model_kw).__name__ == f"FastQuantized{opcode.title()}"
    ref, got = both(monkeypatch, opcode, [a, b], opts, **model_kw)
    assert_same_bits(ref, got)


@pytest.mark.skipif(not MANIFEST, reason="zoo not found")
@pytest.mark.parametrize("key", ["mobilenet_v2_int8", "mobilenet_v2_f32"])
def test_parallel_twins_same_bits_when_opted_in(monkeypatch, key):
    """``EDGELITE_FAST_PARALLEL=1`` with ``num_threads=2`` runs the ``parallel=True`` twins
    (the default runs the serial ones): the same bits as the serial loops."""
    from edgelite import Interpreter
    from edgelite.kernels.fast import loader
    inputs = zoo_inputs(key)
    serial = run_with_inputs(Interpreter(model_path=str(zoo_path(key)), num_threads=2), inputs)
    assert not loader.parallel_twins_enabled()
    monkeypatch.setenv("EDGELITE_FAST_PARALLEL", "1")
    it = Interpreter(model_path=str(zoo_path(key)), num_threads=2)
    wide = run_with_inputs(it, inputs)
    assert_same_bits(serial, wide)
    kernels = [entry[0] for cache in it._runtime.executor(0)._kernel_cache for entry in cache.values()]
    launched = [name for k in kernels for name in getattr(k, "_compiled_fns", {})]
    assert any(name.endswith("_parallel") for name in launched), launched

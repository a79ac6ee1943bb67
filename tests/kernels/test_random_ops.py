"""RANDOM_UNIFORM, RANDOM_STANDARD_NORMAL, MULTINOMIAL: the Philox generator against the
Random123 known-answer vectors, LiteRT's exact outputs for given seeds, sequences across
invokes, distributions; the glibc logf/sincosf reimplementations against math."""
import math

import numpy as np
import pytest

from edgelite.kernels import KernelError
from edgelite.kernels.random_ops import Philox, glibc_logf, glibc_sincosf
from edgelite.kernels.testing import run_op, run_op_litert, run_op_stateful

RANDOM = {"options_type": "RandomOptions"}


def test_philox_known_answers():
    np.testing.assert_array_equal(Philox(0, 0).blocks(1)[0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8])
    g = Philox(2**64 - 1, 2**64 - 1)
    g.skip(2**64 - 1)  # counter words all ones
    np.testing.assert_array_equal(g.blocks(1)[0], [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD])
    assert g.counter == 0  # the 128-bit counter wrapped


def test_philox_blocks_continue_and_carry():
    g = Philox(7, 9)
    g.skip(2**64 - 2)  # the next blocks carry from word 1 into word 2
    first = g.blocks(5)
    h = Philox(7, 9)
    h.skip(2**64 - 2)
    parts = np.concatenate([h.blocks(2), h.blocks(3)])
    np.testing.assert_array_equal(first, parts)
    one = Philox(7, 9)
    one.skip(2**64 + 1)
    np.testing.assert_array_equal(one.blocks(1)[0], first[3])


@pytest.mark.parametrize("seeds", [(1, 2), (123456789, 0), (0, 7), (-5, 2**40 + 3), (2**31 + 3, 1)])
def test_uniform_and_multinomial_match_litert_exactly(seeds):
    pytest.importorskip("ai_edge_litert")
    o = {"seed": seeds[0], "seed2": seeds[1]}
    for shape, const in (([3, 7], ()), ([5], (0,)), ([2, 3, 1, 2], ())):
        args = [np.array(shape, np.int32)]
        kw = dict(constant_inputs=const, output_dtypes=[np.float32], **RANDOM)
        (ours,) = run_op("RANDOM_UNIFORM", args, o, **kw)
        (ref,) = run_op_litert("RANDOM_UNIFORM", args, o, **kw)
        assert ours.shape == ref.shape
        np.testing.assert_array_equal(ours, ref)
    logits = np.log(np.random.default_rng(0).random((3, 6))).astype(np.float32)
    logits[1, 2] = -np.inf
    for n, dtype, const in ((50, np.int64, ()), (7, np.int32, (0, 1))):
        kw = dict(constant_inputs=const, output_dtypes=[dtype], **RANDOM)
        args = [logits, np.array(n, np.int32)]
        (ours,) = run_op("MULTINOMIAL", args, o, **kw)
        (ref,) = run_op_litert("MULTINOMIAL", args, o, **kw)
        assert ours.dtype == ref.dtype
        np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("seeds", [(1, 2), (99, 100000)])
def test_standard_normal_matches_litert_exactly(seeds):
    pytest.importorskip("ai_edge_litert")
    o = {"seed": seeds[0], "seed2": seeds[1]}
    args = [np.array([301, 7], np.int32)]  # odd count: the last pair is half used
    kw = dict(output_dtypes=[np.float32], **RANDOM)
    (ours,) = run_op("RANDOM_STANDARD_NORMAL", args, o, **kw)
    (ref,) = run_op_litert("RANDOM_STANDARD_NORMAL", args, o, **kw)
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("op", ["RANDOM_UNIFORM", "MULTINOMIAL"])
def test_sequence_continues_across_invokes_like_litert(op):
    pytest.importorskip("ai_edge_litert")
    if op == "MULTINOMIAL":
        inputs = [np.log(np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]], np.float32)), np.array(9, np.int32)]
        kw = {"constant_inputs": (1,), "output_dtypes": [np.int64]}
        feeds = [[inputs[0]]] * 3
    else:
        inputs = [np.array([4, 3], np.int32)]
        kw = {"output_dtypes": [np.float32]}
        feeds = [[inputs[0]]] * 3
    o = {"seed": 11, "seed2": 3}
    ref = run_op_stateful(op, inputs, o, state_inputs=(), feeds=feeds, interpreter="litert", **RANDOM, **kw)
    ours = run_op_stateful(op, inputs, o, state_inputs=(), feeds=feeds, interpreter="edgelite", **RANDOM, **kw)
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(ours[0][0], ours[1][0])


def test_glibc_float_functions_are_within_an_ulp_of_math():
    rng = np.random.default_rng(3)
    u = np.maximum(rng.random(2000).astype(np.float32), np.float32(1e-7))
    want = np.array([math.log(float(a)) for a in u], np.float32)
    assert np.max(np.abs(glibc_logf(u).view(np.int32) - want.view(np.int32))) <= 1
    v = (rng.random(2000) * 2 * np.pi).astype(np.float32)
    v[:3] = [0.0, 1e-6, 3.1415927]
    s, c = glibc_sincosf(v)
    np.testing.assert_allclose(s, [math.sin(float(a)) for a in v], rtol=0, atol=2e-7)
    np.testing.assert_allclose(c, [math.cos(float(a)) for a in v], rtol=0, atol=2e-7)
    assert s[0] == 0 and c[0] == 1 and s[1] == np.float32(1e-6)


def test_distributions():
    (u,) = run_op("RANDOM_UNIFORM", [np.array([200000], np.int32)], {"seed": 5, "seed2": 1},
                  output_dtypes=[np.float32], **RANDOM)
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    (z,) = run_op("RANDOM_STANDARD_NORMAL", [np.array([400, 500], np.int32)], {"seed": 5, "seed2": 1},
                  output_dtypes=[np.float32], **RANDOM)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01 and abs(np.mean(np.abs(z) < 1) - 0.6827) < 0.005
    p = np.array([0.1, 0.6, 0.0, 0.3])
    with np.errstate(divide="ignore"):
        logits = np.log(p).astype(np.float32)[None]
    (m,) = run_op("MULTINOMIAL", [logits, np.array(50000, np.int32)], {"seed": 5, "seed2": 1},
                  output_dtypes=[np.int64], **RANDOM)
    freq = np.bincount(m.reshape(-1), minlength=4) / m.size
    np.testing.assert_allclose(freq, p, atol=0.01)
    assert freq[2] == 0


def test_zero_seeds_are_nondeterministic():
    args = [np.array([64], np.int32)]
    (a,) = run_op("RANDOM_UNIFORM", args, {"seed": 0, "seed2": 0}, output_dtypes=[np.float32], **RANDOM)
    (b,) = run_op("RANDOM_UNIFORM", args, {"seed": 0, "seed2": 0}, output_dtypes=[np.float32], **RANDOM)
    assert not np.array_equal(a, b)
    # only the low 32 bits of a seed count (as in LiteRT): 2**32 is a zero seed
    (c,) = run_op("RANDOM_UNIFORM", args, {"seed": 2**32 + 4, "seed2": 1}, output_dtypes=[np.float32], **RANDOM)
    (d,) = run_op("RANDOM_UNIFORM", args, {"seed": 4, "seed2": 1}, output_dtypes=[np.float32], **RANDOM)
    np.testing.assert_array_equal(c, d)


def test_random_errors():
    with pytest.raises(KernelError, match="float32 only"):
        run_op("RANDOM_UNIFORM", [np.array([2], np.int32)], {"seed": 1}, output_dtypes=[np.float64], **RANDOM)
    with pytest.raises(KernelError, match="1-D int32"):
        run_op("RANDOM_UNIFORM", [np.array([2], np.int64)], {"seed": 1}, output_dtypes=[np.float32], **RANDOM)
    with pytest.raises(KernelError, match="scalar"):
        run_op("MULTINOMIAL", [np.zeros((1, 2), np.float32), np.array([3], np.int32)], {"seed": 1},
               output_dtypes=[np.int64], **RANDOM)
    with pytest.raises(KernelError, match=">= 0"):
        run_op("MULTINOMIAL", [np.zeros((1, 2), np.float32), np.array(-3, np.int32)], {"seed": 1},
               output_dtypes=[np.int64], **RANDOM)

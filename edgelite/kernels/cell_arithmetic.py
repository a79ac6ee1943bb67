"""The float arithmetic of the recurrent cells (LSTM, RNN), in a form a compiled loop can
reproduce bit for bit.

The time loops of :mod:`.recurrent` (and, through them, :mod:`.bidirectional`) compute with
these functions, and the compiled tier (``fast/_compiled_recurrent.py``) repeats every one of
them operation for operation in float32, so both tiers give the same bits. What that rules
out is any step whose rounding depends on the library that runs it: BLAS's GEMV (blocked
sums, FMA) and numpy's SIMD ``exp`` / ``tanh``. Instead:

* :func:`gemv_products` (the LSTMs) and :func:`accumulate_lanes` (the RNNs) -- the
  products ``v[r, k] * w[k, n]`` summed as LiteRT sums them (measured bit for bit on one-op
  models with batch 1): four lane sums (lane j takes k = j, j + 4, ... below ``4 * (K // 4)``,
  each from 0.0), combined as ``(l0 + l2) + (l1 + l3)`` with the last ``K % 4`` products then
  added one by one, and the result added to the gate (Eigen's SSE GEMV, which LiteRT's LSTM
  reaches through its FULLY_CONNECTED); or ``((l0 + l1) + l2) + l3`` added to the gate and then
  the last products one by one (TFLite's NEON MatrixBatchVectorMultiplyAccumulate, which x86
  builds run through NEON_2_SSE, in the RNNs). With a batch above 1 LiteRT's LSTM switches to
  a blocked GEMM; edgelite keeps the GEMV order. In numpy: the products of a chunk of lane
  groups, then ``np.add.reduce`` over the group axis (a reduction over a non-innermost axis
  adds the groups one after another, vectorised along the lanes and ``n``).
* :func:`logistic_` -- Eigen's packet logistic, which is what LiteRT's float LSTM applies to
  its gates (``ApplySigmoidToVector``): the arithmetic of :mod:`.exact_logistic` (its packet
  path, on every element).
* :func:`tanh_` -- Eigen's rational tanh (``ptanh_float``): the input clamped to +-7.90738964,
  ``p = x^3 * P(x^2) + x`` and ``q = Q(x^2)`` (degrees 3 and 4 in x^2, Horner's rule), ``p / q``,
  every product and sum rounded separately -- LiteRT's float TANH bit for bit (measured on
  200,000 values), and what its LSTM cells apply.
* :func:`layer_normalize_` -- LiteRT's ``MeanStddevNormalization``: sums in element order
  (``np.add.accumulate``), ``mean = sum / n``, ``variance = sum((x - mean)^2) / n``,
  ``(x - mean) * (1 / sqrt(variance + 1e-8))``, then the coefficients and the bias.

Each is elementwise or sums in a fixed order, so the results do not depend on the array
sizes, the CPU's vector width or the BLAS library.
"""
from __future__ import annotations

import numpy as np

from .activation_fn import SIGMOID, SIGN_BIT, TANH, apply_fused_activation, check_activation
from .exact_logistic import C1, C2, EXP_HI, EXP_LO, HALF, LOG2E, ONE, P2, P3, P4, P5

F32 = np.float32

# Eigen's ptanh_float (its [9,8] rational approximation, no FMA): LiteRT's float TANH, bit for bit
TANH_CLAMP = F32(7.90738964080810547)
TANH_ALPHA = tuple(F32(v) for v in (1.394553628e-8, 2.102733560e-5, 3.520756727e-3, 1.340216100e-1))
TANH_BETA = tuple(F32(v) for v in (8.015776984e-7, 3.326951409e-4, 2.597254514e-2, 4.673548340e-1, 1.0))
LAYER_NORM_EPSILON = F32(1e-8)

LANES = 4  # float32 lanes of an SSE register

# products held at once by lane_sums (bounds its scratch memory for large cells)
_CHUNK_ELEMENTS = 1 << 17


def lane_sums(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """[R, 4, N]: lane j of row r holds ``sum v[r, k] * w[k, n]`` over k = j, j + 4, ... below
    ``4 * (K // 4)``, in k order from 0.0, every product and sum rounded to float32."""
    rows, depth = v.shape
    cols = w.shape[1]
    groups = depth // LANES
    if not groups:
        return np.zeros((rows, LANES, cols), F32)
    row_step = max(1, _CHUNK_ELEMENTS // (LANES * cols))
    if rows > row_step:  # rows are independent: a chunk of them at a time
        lanes = np.empty((rows, LANES, cols), F32)
        for r0 in range(0, rows, row_step):
            lanes[r0:r0 + row_step] = lane_sums(v[r0:r0 + row_step], w)
        return lanes
    step = max(1, _CHUNK_ELEMENTS // (rows * LANES * cols))
    if groups <= step:  # all products at once
        products = np.multiply(v[:, :groups * LANES].reshape(rows, groups, LANES, 1),
                               w[:groups * LANES].reshape(groups, LANES, cols))
        return np.add.reduce(products, axis=1, initial=F32(0))
    lanes = np.zeros((rows, LANES, cols), F32)
    # the products of a chunk of groups at a time; the running sums ride along as group 0
    buf = np.empty((rows, min(step, groups) + 1, LANES, cols), F32)
    for g0 in range(0, groups, step):
        g1 = min(groups, g0 + step)
        part = buf[:, :g1 - g0 + 1]
        part[:, 0] = lanes
        np.multiply(v[:, g0 * LANES:g1 * LANES].reshape(rows, g1 - g0, LANES, 1),
                    w[g0 * LANES:g1 * LANES].reshape(g1 - g0, LANES, cols), out=part[:, 1:])
        np.add.reduce(part, axis=1, out=lanes)
    return lanes


def gemv_products(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``v [R, K] @ w [K, N]`` in Eigen's SSE GEMV order (LiteRT's LSTM gates): the lane sums
    combined as ``(l0 + l2) + (l1 + l3)``, then the last ``K % 4`` products added one by one."""
    lanes = lane_sums(v, w)
    total = lanes[:, 0] + lanes[:, 2]
    total += lanes[:, 1] + lanes[:, 3]
    for k in range(v.shape[1] - v.shape[1] % LANES, v.shape[1]):
        total += v[:, k:k + 1] * w[k]
    return total


def accumulate_lanes(acc: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``acc [R, N] += v [R, K] @ w [K, N]`` in the order of TFLite's NEON
    MatrixBatchVectorMultiplyAccumulate (LiteRT's RNNs): ``((l0 + l1) + l2) + l3`` added to
    ``acc``, then the last ``K % 4`` products added to ``acc`` one by one; returns ``acc``."""
    lanes = lane_sums(v, w)
    total = lanes[:, 0] + lanes[:, 1]
    total += lanes[:, 2]
    total += lanes[:, 3]
    acc += total
    for k in range(v.shape[1] - v.shape[1] % LANES, v.shape[1]):
        acc += v[:, k:k + 1] * w[k]
    return acc


def logistic_(x: np.ndarray) -> np.ndarray:
    """Eigen's packet logistic of float32 ``x`` (:mod:`.exact_logistic`), in place; returns ``x``.

    The same float32 steps as :func:`.exact_logistic.logistic_packet`, written for small
    arrays: inputs below -104 (whose result is 0) are clamped there first, so no step
    overflows.
    """
    below = x < EXP_LO
    h = np.maximum(x, EXP_LO)
    np.minimum(h, EXP_HI, out=h)
    h *= HALF
    m = h * LOG2E
    m += HALF
    np.floor(m, out=m)
    r = m * C1
    r += h
    np.multiply(m, C2, out=h)
    r += h
    r2 = r * r
    p = r2 * P5
    p += P3
    p *= r
    np.multiply(r2, P4, out=h)
    h += P2
    p += h
    p *= r2
    r += ONE
    p += r
    np.ldexp(p, m.astype(np.int32), out=p)  # exact: 2^m stays a normal float32
    p *= p
    np.add(p, ONE, out=h)
    np.divide(p, h, out=x)
    np.copyto(x, F32(0), where=below)
    return x


def tanh_(x: np.ndarray) -> np.ndarray:
    """Eigen's rational tanh (LiteRT's float TANH) of float32 ``x``, in place; returns ``x``."""
    a0, a1, a2, a3 = TANH_ALPHA
    b0, b1, b2, b3, b4 = TANH_BETA
    v = np.minimum(x, TANH_CLAMP)
    np.maximum(v, -TANH_CLAMP, out=v)
    x2 = v * v
    p = x2 * a0
    p += a1
    for coef in (a2, a3):
        p *= x2
        p += coef
    q = x2 * b0
    q += b1
    for coef in (b2, b3, b4):
        q *= x2
        q += coef
    x2 *= v  # x^3
    p *= x2
    p += v
    np.divide(p, q, out=x)
    return x


def cell_activation_(x: np.ndarray, code: int) -> np.ndarray:
    """A recurrent cell's activation (``ApplyActivationToVector``) in place: TANH and SIGMOID as
    above, SIGN_BIT as 1.0 where the sign bit is set, the RELU family as clamps; returns ``x``."""
    code = check_activation(code)
    if code == TANH:
        return tanh_(x)
    if code == SIGMOID:
        return logistic_(x)
    if code == SIGN_BIT:
        np.copyto(x, np.signbit(x))
        return x
    return apply_fused_activation(x, code)


def _sequential_sum(rows: np.ndarray) -> np.ndarray:
    """Per row of [B, n]: the elements summed left to right (the first one is the start)."""
    return np.add.accumulate(rows, axis=-1)[:, -1]


def layer_normalize_(gate: np.ndarray, coef: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """In place over the rows of ``gate`` [B, n]: LiteRT's MeanStddevNormalization, times
    ``coef``, plus ``bias``; returns ``gate``."""
    n = F32(gate.shape[-1])
    mean = _sequential_sum(gate) / n
    np.subtract(gate, mean[:, None], out=gate)
    variance = _sequential_sum(gate * gate) / n
    inv = F32(1) / np.sqrt(variance + LAYER_NORM_EPSILON)
    np.multiply(gate, inv[:, None], out=gate)
    np.multiply(gate, coef, out=gate)
    np.add(gate, bias, out=gate)
    return gate

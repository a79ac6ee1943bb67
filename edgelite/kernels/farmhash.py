"""Farmhash Fingerprint64 (``farmhashna::Hash64``), vectorised over many keys of one length.

LSH_PROJECTION hashes every (seed, input row) key with ``util::Fingerprint64``. All keys of
one op have the same length, so each key is a row of a uint8 matrix and every step of the
hash is one numpy operation on a column of uint64 words (arithmetic wraps mod 2**64).
"""
from __future__ import annotations

import numpy as np

K0 = np.uint64(0xC3A5C85C97CB3127)
K1 = np.uint64(0xB492B66FBE98F273)
K2 = np.uint64(0x9AE16A3B2F90404F)
_U = np.uint64


def _rot(v: np.ndarray, shift: int) -> np.ndarray:
    return v if shift == 0 else (v >> _U(shift)) | (v << _U(64 - shift))


def _shift_mix(v: np.ndarray) -> np.ndarray:
    return v ^ (v >> _U(47))


def _hash_len16(u, v, mul):
    a = (u ^ v) * mul
    a ^= a >> _U(47)
    b = (v ^ a) * mul
    b ^= b >> _U(47)
    return b * mul


def _fetch64(keys: np.ndarray, at: int) -> np.ndarray:
    return np.ascontiguousarray(keys[:, at:at + 8]).view("<u8")[:, 0]


def _fetch32(keys: np.ndarray, at: int) -> np.ndarray:
    return np.ascontiguousarray(keys[:, at:at + 4]).view("<u4")[:, 0].astype(np.uint64)


def _len0to16(s: np.ndarray, n: int) -> np.ndarray:
    if n >= 8:
        mul = K2 + _U(n * 2)
        a = _fetch64(s, 0) + K2
        b = _fetch64(s, n - 8)
        c = _rot(b, 37) * mul + a
        d = (_rot(a, 25) + b) * mul
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = K2 + _U(n * 2)
        a = _fetch32(s, 0)
        return _hash_len16(_U(n) + (a << _U(3)), _fetch32(s, n - 4), mul)
    if n > 0:
        a, b, c = (s[:, i].astype(np.uint64) for i in (0, n >> 1, n - 1))
        y = a + (b << _U(8))
        z = _U(n) + (c << _U(2))
        return _shift_mix(y * K2 ^ z * K0) * K2
    return np.full(s.shape[0], K2, np.uint64)


def _len17to32(s: np.ndarray, n: int) -> np.ndarray:
    mul = K2 + _U(n * 2)
    a = _fetch64(s, 0) * K1
    b = _fetch64(s, 8)
    c = _fetch64(s, n - 8) * mul
    d = _fetch64(s, n - 16) * K2
    return _hash_len16(_rot(a + b, 43) + _rot(c, 30) + d, a + _rot(b + K2, 18) + c, mul)


def _len33to64(s: np.ndarray, n: int) -> np.ndarray:
    mul = K2 + _U(n * 2)
    a = _fetch64(s, 0) * K2
    b = _fetch64(s, 8)
    c = _fetch64(s, n - 8) * mul
    d = _fetch64(s, n - 16) * K2
    y = _rot(a + b, 43) + _rot(c, 30) + d
    z = _hash_len16(y, a + _rot(b + K2, 18) + c, mul)
    e = _fetch64(s, 16) * mul
    f = _fetch64(s, 24)
    g = (y + _fetch64(s, n - 32)) * mul
    h = (z + _fetch64(s, n - 24)) * mul
    return _hash_len16(_rot(e + f, 43) + _rot(g, 30) + h, e + _rot(f + a, 18) + g, mul)


def _weak32(s: np.ndarray, at: int, a, b):
    w, x, y, z = (_fetch64(s, at + 8 * i) for i in range(4))
    a = a + w
    b = _rot(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _rot(a, 44)
    return a + z, b + c


def _long(s: np.ndarray, n: int) -> np.ndarray:
    rows = s.shape[0]
    seed = _U(81)
    x = np.full(rows, seed, np.uint64)
    y = np.full(rows, seed * K1 + _U(113), np.uint64)
    z = _shift_mix(y * K2 + _U(113)) * K2
    v0 = v1 = w0 = w1 = np.zeros(rows, np.uint64)
    x = x * K2 + _fetch64(s, 0)
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    for at in range(0, end, 64):  # one vectorised step per 64-byte block of the keys
        x = _rot(x + y + v0 + _fetch64(s, at + 8), 37) * K1
        y = _rot(y + v1 + _fetch64(s, at + 48), 42) * K1
        x = x ^ w1
        y = y + v0 + _fetch64(s, at + 40)
        z = _rot(z + w0, 33) * K1
        v0, v1 = _weak32(s, at, v1 * K1, x + w0)
        w0, w1 = _weak32(s, at + 32, z + w1, y + _fetch64(s, at + 16))
        z, x = x, z
    mul = K1 + ((z & _U(0xFF)) << _U(1))
    w0 = w0 + _U((n - 1) & 63)
    v0 = v0 + w0
    w0 = w0 + v0
    x = _rot(x + y + v0 + _fetch64(s, last64 + 8), 37) * mul
    y = _rot(y + v1 + _fetch64(s, last64 + 48), 42) * mul
    x = x ^ (w1 * _U(9))
    y = y + v0 * _U(9) + _fetch64(s, last64 + 40)
    z = _rot(z + w0, 33) * mul
    v0, v1 = _weak32(s, last64, v1 * mul, x + w0)
    w0, w1 = _weak32(s, last64 + 32, z + w1, y + _fetch64(s, last64 + 16))
    z, x = x, z
    return _hash_len16(_hash_len16(v0, w0, mul) + _shift_mix(y) * K0 + z,
                       _hash_len16(v1, w1, mul) + x, mul)


def fingerprint64(keys: np.ndarray) -> np.ndarray:
    """Fingerprint64 of every row of the uint8 matrix ``keys`` (uint64 per row)."""
    keys = np.ascontiguousarray(keys, np.uint8)
    n = keys.shape[1]
    with np.errstate(over="ignore"):
        if n <= 16:
            return _len0to16(keys, n)
        if n <= 32:
            return _len17to32(keys, n)
        if n <= 64:
            return _len33to64(keys, n)
        return _long(keys, n)

"""KISS FFT (v130, as TFLite Micro builds it) in int16, int32 and float32, bit for bit.

TFLM's signal ops compute their FFTs with Mark Borgerding's kissfft 1.3.0 compiled three
times: ``FIXED_POINT=16`` (int16 samples, int32 products, Q15 twiddles), ``FIXED_POINT=32``
(int32 samples, int64 products, Q31 twiddles) and float. This module reproduces those
results exactly, vectorised with numpy over a batch of rows and over every butterfly of a
stage.

How kissfft computes (and so how we do):

* ``kf_factor`` splits n into radices: 4s first, then 2s, then odd primes (3, 5, 7...).
* ``kf_work`` is a recursive decimation in time. Unrolled, it first places the input in
  the order the recursion reads it (a fixed permutation, computed once), then runs one
  butterfly stage per factor, the innermost factor first. At the stage of radix ``p``
  and sub-length ``m``, with ``fstride = n / (p m)`` blocks, every block combines its p
  sub-results with twiddles ``tw[q u fstride]``; all blocks use the same twiddles, so a
  stage is a few whole-array operations on a ``(batch, fstride, p, m)`` view.
* Fixed point: every butterfly first divides its inputs by the radix
  (``C_FIXDIV``: multiply by ``SAMP_MAX / p`` and round), products are rounded with
  ``(x + 2^(FRACBITS-1)) >> FRACBITS`` and stored back into the sample type, so results
  wrap as C's conversions do; sums of samples wrap in the sample type.
* Float: float32 arithmetic in C's evaluation order (no fused multiply-add), twiddles
  ``(float)cos(phase)`` of a double phase.
* The real transforms (``kiss_fftr`` / ``kiss_fftri``) pack the n real samples as n/2
  complex ones, run the complex FFT of length n/2 and split (or, inverse, merge) the
  spectrum with the "super twiddles" ``exp(-i pi ((k+1)/(n/2) + 1/2))``.
"""
from __future__ import annotations

import math

import numpy as np

_PI = 3.141592653589793  # kissfft's constants, as doubles


class _FixedMath:
    """kissfft's fixed-point macros for FIXED_POINT=16 or 32."""

    def __init__(self, bits: int):
        self.dtype = np.dtype(np.int16 if bits == 16 else np.int32)
        self.wide = np.dtype(np.int32 if bits == 16 else np.int64)   # SAMPPROD
        self.frac_bits = 15 if bits == 16 else 31
        self.samp_max = 32767 if bits == 16 else 2147483647
        self.round_bias = 1 << (self.frac_bits - 1)

    def twiddle(self, phase: float) -> tuple[int, int]:
        return (math.floor(0.5 + self.samp_max * math.cos(phase)),
                math.floor(0.5 + self.samp_max * math.sin(phase)))

    def sround(self, x: np.ndarray) -> np.ndarray:
        return ((x + self.round_bias) >> self.frac_bits).astype(self.dtype)

    def cmul(self, ar, ai, br, bi):
        w = self.wide
        ar, ai = ar.astype(w), ai.astype(w)
        br, bi = br.astype(w), bi.astype(w)
        return self.sround(ar * br - ai * bi), self.sround(ar * bi + ai * br)

    def smul(self, a, s):
        """S_MUL / C_MULBYSCALAR: rounded product of samples ``a`` with sample(s) ``s``."""
        return self.sround(a.astype(self.wide) * np.asarray(s).astype(self.wide))

    def fixdiv(self, r, i, div: int):
        k = np.asarray(self.samp_max // div, dtype=self.wide)
        return self.smul(r, k), self.smul(i, k)

    def half(self, x):
        """HALF_OF of a sample: an arithmetic shift."""
        return x >> 1

    def half_of_sum(self, a, b, sign: int = 1):
        """HALF_OF(a + b) (or of a - b), the sum taken in C's int before the shift."""
        a64, b64 = a.astype(np.int64), b.astype(np.int64)
        total = a64 + b64 if sign > 0 else a64 - b64
        if self.dtype == np.int32:  # int + int wraps in 32 bits
            total = total.astype(np.int32).astype(np.int64)
        return (total >> 1).astype(self.dtype)


class _FloatMath:
    """kissfft's float macros (C_FIXDIV is a no-op, HALF_OF multiplies by 0.5f)."""

    dtype = np.dtype(np.float32)
    _half = np.float32(0.5)

    def twiddle(self, phase: float) -> tuple[float, float]:
        return float(np.float32(math.cos(phase))), float(np.float32(math.sin(phase)))

    def cmul(self, ar, ai, br, bi):
        return ar * br - ai * bi, ar * bi + ai * br

    def smul(self, a, s):
        return a * np.asarray(s, dtype=np.float32)

    def fixdiv(self, r, i, div: int):
        return r, i

    def half(self, x):
        return x * self._half

    def half_of_sum(self, a, b, sign: int = 1):
        return ((a + b) if sign > 0 else (a - b)) * self._half


def _math_for(dtype) -> _FixedMath | _FloatMath:
    dtype = np.dtype(dtype)
    if dtype == np.int16:
        return _FixedMath(16)
    if dtype == np.int32:
        return _FixedMath(32)
    if dtype == np.float32:
        return _FloatMath()
    raise ValueError(f"kissfft has no {dtype.name} variant (int16, int32 or float32)")


def kiss_factors(n: int) -> list[tuple[int, int]]:
    """``kf_factor``: (radix, remaining length) pairs, 4s first, then 2s, then odd primes."""
    factors, p = [], 4
    floor_sqrt = math.floor(math.sqrt(n))
    while True:
        while n % p:
            p = 2 if p == 4 else 3 if p == 2 else p + 2
            if p > floor_sqrt:
                p = n
        n //= p
        factors.append((p, n))
        if n <= 1:
            return factors


class ComplexFft:
    """kissfft's complex FFT of length ``n`` (``inverse`` without scaling) for one sample type."""

    def __init__(self, n: int, inverse: bool, dtype):
        if n < 1:
            raise ValueError(f"FFT length must be positive, got {n}")
        self.n = n
        self.math = m = _math_for(dtype)
        self.dtype = m.dtype
        tw = []
        for i in range(n):
            phase = -2 * _PI * i / n
            if inverse:
                phase *= -1
            tw.append(m.twiddle(phase))
        self.tw_re = np.array([t[0] for t in tw], dtype=self.dtype)
        self.tw_im = np.array([t[1] for t in tw], dtype=self.dtype)
        self.inverse = inverse
        self.factors = kiss_factors(n)
        self.perm = self._input_order()

    def _input_order(self) -> np.ndarray:
        """Input index read into each output slot by kf_work's recursion (in_stride 1)."""
        perm = np.zeros(self.n, dtype=np.intp)
        factors = self.factors

        def walk(out_off: int, in_off: int, fstride: int, level: int) -> None:
            p, m = factors[level]
            for k in range(p):
                if m == 1:
                    perm[out_off + k] = in_off + k * fstride
                else:
                    walk(out_off + k * m, in_off + k * fstride, fstride * p, level + 1)

        walk(0, 0, 1, 0)
        return perm

    def __call__(self, re: np.ndarray, im: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Transform rows ``re + i im`` (shape (batch, n), this FFT's dtype)."""
        batch = re.shape[0]
        xr = np.ascontiguousarray(re[:, self.perm], dtype=self.dtype)
        xi = np.ascontiguousarray(im[:, self.perm], dtype=self.dtype)
        for p, m in reversed(self.factors):
            fstride = self.n // (p * m)
            vr = xr.reshape(batch, fstride, p, m)
            vi = xi.reshape(batch, fstride, p, m)
            fr = [vr[:, :, q, :] for q in range(p)]
            fi = [vi[:, :, q, :] for q in range(p)]
            bfly = {2: self._bfly2, 3: self._bfly3, 4: self._bfly4, 5: self._bfly5}.get(p)
            out_r, out_i = bfly(fr, fi, fstride, m) if bfly else self._bfly_generic(fr, fi, fstride, m, p)
            xr = np.stack(out_r, axis=2).reshape(batch, self.n)
            xi = np.stack(out_i, axis=2).reshape(batch, self.n)
        return xr, xi

    # -- butterflies (kf_bfly2/3/4/5/generic), all blocks and all u at once ------------------
    def _tw(self, step: int, m: int):
        idx = np.arange(m) * step
        return self.tw_re[idx], self.tw_im[idx]

    def _bfly2(self, fr, fi, fstride, m):
        M = self.math
        r0, i0 = M.fixdiv(fr[0], fi[0], 2)
        r1, i1 = M.fixdiv(fr[1], fi[1], 2)
        tr, ti = M.cmul(r1, i1, *self._tw(fstride, m))
        return [r0 + tr, r0 - tr], [i0 + ti, i0 - ti]

    def _bfly4(self, fr, fi, fstride, m):
        M = self.math
        f = [M.fixdiv(fr[q], fi[q], 4) for q in range(4)]
        s0 = M.cmul(*f[1], *self._tw(fstride, m))
        s1 = M.cmul(*f[2], *self._tw(2 * fstride, m))
        s2 = M.cmul(*f[3], *self._tw(3 * fstride, m))
        s5 = (f[0][0] - s1[0], f[0][1] - s1[1])
        f0 = (f[0][0] + s1[0], f[0][1] + s1[1])
        s3 = (s0[0] + s2[0], s0[1] + s2[1])
        s4 = (s0[0] - s2[0], s0[1] - s2[1])
        out2 = (f0[0] - s3[0], f0[1] - s3[1])
        out0 = (f0[0] + s3[0], f0[1] + s3[1])
        if self.inverse:
            out1 = (s5[0] - s4[1], s5[1] + s4[0])
            out3 = (s5[0] + s4[1], s5[1] - s4[0])
        else:
            out1 = (s5[0] + s4[1], s5[1] - s4[0])
            out3 = (s5[0] - s4[1], s5[1] + s4[0])
        outs = (out0, out1, out2, out3)
        return [o[0] for o in outs], [o[1] for o in outs]

    def _bfly3(self, fr, fi, fstride, m):
        M = self.math
        epi3_i = self.tw_im[fstride * m]
        f = [M.fixdiv(fr[q], fi[q], 3) for q in range(3)]
        s1 = M.cmul(*f[1], *self._tw(fstride, m))
        s2 = M.cmul(*f[2], *self._tw(2 * fstride, m))
        s3 = (s1[0] + s2[0], s1[1] + s2[1])
        s0 = (s1[0] - s2[0], s1[1] - s2[1])
        m_r = f[0][0] - M.half(s3[0])
        m_i = f[0][1] - M.half(s3[1])
        s0 = (M.smul(s0[0], epi3_i), M.smul(s0[1], epi3_i))
        out0 = (f[0][0] + s3[0], f[0][1] + s3[1])
        out2 = (m_r + s0[1], m_i - s0[0])
        out1 = (m_r - s0[1], m_i + s0[0])
        outs = (out0, out1, out2)
        return [o[0] for o in outs], [o[1] for o in outs]

    def _bfly5(self, fr, fi, fstride, m):
        M = self.math
        ya = (self.tw_re[fstride * m], self.tw_im[fstride * m])
        yb = (self.tw_re[2 * fstride * m], self.tw_im[2 * fstride * m])
        f = [M.fixdiv(fr[q], fi[q], 5) for q in range(5)]
        s0 = f[0]
        s1 = M.cmul(*f[1], *self._tw(fstride, m))
        s2 = M.cmul(*f[2], *self._tw(2 * fstride, m))
        s3 = M.cmul(*f[3], *self._tw(3 * fstride, m))
        s4 = M.cmul(*f[4], *self._tw(4 * fstride, m))
        s7 = (s1[0] + s4[0], s1[1] + s4[1])
        s10 = (s1[0] - s4[0], s1[1] - s4[1])
        s8 = (s2[0] + s3[0], s2[1] + s3[1])
        s9 = (s2[0] - s3[0], s2[1] - s3[1])
        out0 = (s0[0] + (s7[0] + s8[0]), s0[1] + (s7[1] + s8[1]))
        sm = M.smul
        s5 = (s0[0] + sm(s7[0], ya[0]) + sm(s8[0], yb[0]), s0[1] + sm(s7[1], ya[0]) + sm(s8[1], yb[0]))
        s6 = (sm(s10[1], ya[1]) + sm(s9[1], yb[1]), -sm(s10[0], ya[1]) - sm(s9[0], yb[1]))
        out1 = (s5[0] - s6[0], s5[1] - s6[1])
        out4 = (s5[0] + s6[0], s5[1] + s6[1])
        s11 = (s0[0] + sm(s7[0], yb[0]) + sm(s8[0], ya[0]), s0[1] + sm(s7[1], yb[0]) + sm(s8[1], ya[0]))
        s12 = (-sm(s10[1], yb[1]) + sm(s9[1], ya[1]), sm(s10[0], yb[1]) - sm(s9[0], ya[1]))
        out2 = (s11[0] + s12[0], s11[1] + s12[1])
        out3 = (s11[0] - s12[0], s11[1] - s12[1])
        outs = (out0, out1, out2, out3, out4)
        return [o[0] for o in outs], [o[1] for o in outs]

    def _bfly_generic(self, fr, fi, fstride, m, p):
        M = self.math
        scratch = [M.fixdiv(fr[q], fi[q], p) for q in range(p)]
        u = np.arange(m)
        out_r, out_i = [], []
        for q1 in range(p):
            k = u + q1 * m
            acc_r, acc_i = scratch[0][0].copy(), scratch[0][1].copy()
            for q in range(1, p):
                idx = (q * fstride * k) % self.n
                tr, ti = M.cmul(*scratch[q], self.tw_re[idx], self.tw_im[idx])
                acc_r = acc_r + tr
                acc_i = acc_i + ti
            out_r.append(acc_r)
            out_i.append(acc_i)
        return out_r, out_i


class RealFft:
    """``kiss_fftr`` / ``kiss_fftri`` of even length ``n`` for int16, int32 or float32 samples."""

    def __init__(self, n: int, inverse: bool, dtype):
        if n < 2 or n % 2:
            raise ValueError(f"a real FFT needs an even length >= 2, got {n}")
        self.n = n
        self.ncfft = half = n // 2
        self.inverse = inverse
        self.sub = ComplexFft(half, inverse, dtype)
        self.math = m = self.sub.math
        self.dtype = m.dtype
        tw = []
        for i in range(half // 2):
            phase = -_PI * ((i + 1) / half + 0.5)
            if inverse:
                phase *= -1
            tw.append(m.twiddle(phase))
        self.super_re = np.array([t[0] for t in tw], dtype=self.dtype)
        self.super_im = np.array([t[1] for t in tw], dtype=self.dtype)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of n real samples -> (re, im) rows of n/2 + 1 bins."""
        if self.inverse:
            raise ValueError("this RealFft was made for the inverse transform")
        M, N = self.math, self.ncfft
        x = np.asarray(x, dtype=self.dtype)
        tr, ti = self.sub(x[:, 0::2], x[:, 1::2])
        out_r = np.zeros((x.shape[0], N + 1), dtype=self.dtype)
        out_i = np.zeros_like(out_r)
        dc_r, dc_i = M.fixdiv(tr[:, 0], ti[:, 0], 2)
        out_r[:, 0] = dc_r + dc_i
        out_r[:, N] = dc_r - dc_i
        k = np.arange(1, N // 2 + 1)
        if k.size:
            fpk_r, fpk_i = M.fixdiv(tr[:, k], ti[:, k], 2)
            fpnk_r, fpnk_i = M.fixdiv(tr[:, N - k], -ti[:, N - k], 2)
            f1_r, f1_i = fpk_r + fpnk_r, fpk_i + fpnk_i
            f2_r, f2_i = fpk_r - fpnk_r, fpk_i - fpnk_i
            tw_r, tw_i = M.cmul(f2_r, f2_i, self.super_re[k - 1], self.super_im[k - 1])
            out_r[:, k] = M.half_of_sum(f1_r, tw_r)
            out_i[:, k] = M.half_of_sum(f1_i, tw_i)
            # written after bin k, so at k = N/2 these values are the ones that stay
            out_r[:, N - k] = M.half_of_sum(f1_r, tw_r, -1)
            out_i[:, N - k] = M.half_of_sum(tw_i, f1_i, -1)
        return out_r, out_i

    def inverse_transform(self, re: np.ndarray, im: np.ndarray) -> np.ndarray:
        """Rows of n/2 + 1 bins -> rows of n real samples (unscaled, as kiss_fftri)."""
        if not self.inverse:
            raise ValueError("this RealFft was made for the forward transform")
        M, N = self.math, self.ncfft
        re = np.asarray(re, dtype=self.dtype)
        im = np.asarray(im, dtype=self.dtype)
        tr = np.zeros((re.shape[0], N), dtype=self.dtype)
        ti = np.zeros_like(tr)
        tr[:, 0], ti[:, 0] = M.fixdiv(re[:, 0] + re[:, N], re[:, 0] - re[:, N], 2)
        k = np.arange(1, N // 2 + 1)
        if k.size:
            fk_r, fk_i = M.fixdiv(re[:, k], im[:, k], 2)
            fn_r, fn_i = M.fixdiv(re[:, N - k], -im[:, N - k], 2)
            fe_r, fe_i = fk_r + fn_r, fk_i + fn_i
            d_r, d_i = fk_r - fn_r, fk_i - fn_i
            fo_r, fo_i = M.cmul(d_r, d_i, self.super_re[k - 1], self.super_im[k - 1])
            tr[:, k], ti[:, k] = fe_r + fo_r, fe_i + fo_i
            tr[:, N - k], ti[:, N - k] = fe_r - fo_r, -(fe_i - fo_i)
        out_r, out_i = self.sub(tr, ti)
        out = np.empty((re.shape[0], self.n), dtype=self.dtype)
        out[:, 0::2] = out_r
        out[:, 1::2] = out_i
        return out

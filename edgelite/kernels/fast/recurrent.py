"""LSTM / RNN time loops compiled: float UNIDIRECTIONAL_SEQUENCE_LSTM, LSTM (FULL kernel),
BIDIRECTIONAL_SEQUENCE_LSTM, UNIDIRECTIONAL_SEQUENCE_RNN, RNN and BIDIRECTIONAL_SEQUENCE_RNN,
and the hybrid (int8 weights) UNIDIRECTIONAL_SEQUENCE_LSTM.

The reference kernels call their time loops through :class:`..recurrent.TimeLoops`; these
subclasses swap in one compiled call for the whole loop (``_compiled_recurrent``). The
input contribution of the whole sequence stays the reference's BLAS GEMM, computed before
the loop, the same array in both tiers; inside the loop both tiers compute with
:mod:`..cell_arithmetic`'s float32 steps, so the outputs and the states are the same bits.

The hybrid LSTM's loop (``HybridLSTMMixin.hybrid_time_loop``) quantizes the input and the
state rows on the fly; compiled, each row's quantization repeats the reference's float32 /
float64 steps, the int8 products are exact int32 sums (any order gives the same), and the
gate arithmetic is the float loop's. Non-finite inputs or states, and depths where an int32
sum could overflow, run the reference loop.
"""
from __future__ import annotations

import numpy as np

from ..base import register
from ..bidirectional import BidirectionalSequenceLSTM, BidirectionalSequenceRNN
from ..hybrid import HybridUnidirectionalSequenceLSTM
from ..recurrent import (LSTM, RNN, LstmConfig, LstmWeights, UnidirectionalSequenceLSTM,
                         UnidirectionalSequenceRNN, _basic_lstm_kind)
from . import FAST_PRIORITY, enabled
from .loader import run_from

_MODULE = "_compiled_recurrent"
_EMPTY_1D = np.zeros(0, np.float32)
_EMPTY_2D = np.zeros((0, 0), np.float32)


def _vector(a) -> np.ndarray:
    return _EMPTY_1D if a is None else np.ascontiguousarray(a, np.float32).reshape(-1)


def _loop_arguments(wts: LstmWeights, cfg: LstmConfig, diagonal: bool) -> tuple:
    """The weights and options of an LSTM direction as ``lstm_loop``'s arguments (absent
    parts as empty arrays)."""
    nc = wts.recurrent.shape[-1] // wts.gates
    rec = wts.recurrent.reshape(1, -1) if diagonal else wts.recurrent
    ln = _EMPTY_2D if wts.layer_norm is None else np.stack(wts.layer_norm).astype(np.float32).reshape(-1, nc)
    proj = _EMPTY_2D if wts.projection_t is None else np.ascontiguousarray(wts.projection_t, np.float32)
    return (np.ascontiguousarray(rec, np.float32), bool(diagonal), int(wts.gates),
            _vector(wts.peephole_i), _vector(wts.peephole_f), _vector(wts.peephole_o), ln,
            np.ascontiguousarray(wts.bias, np.float32), proj, _vector(wts.projection_bias),
            int(cfg.activation), np.float32(cfg.cell_clip), np.float32(cfg.proj_clip))


class CompiledTimeLoops:
    """The time loops of :class:`..recurrent.TimeLoops`, each one compiled call."""

    def lstm_time_loop(self, wts: LstmWeights, cfg: LstmConfig, x_gates, h, c, out_tm,
                       diagonal: bool = False, reverse: bool = False):
        cache = self.__dict__.get("_loop_args")
        if cache is None:
            cache = self._loop_args = {}
        entry = cache.get(id(wts))  # an entry holds its weights alive: ids stay unique
        if entry is None or entry[0] is not wts:
            if len(cache) >= 2:  # one per direction; weights built per invoke come and go
                cache.clear()
            entry = cache[id(wts)] = (wts, _loop_arguments(wts, cfg, diagonal))
        x_gates = np.ascontiguousarray(x_gates, np.float32)
        h = np.array(h, np.float32, order="C")
        c_work = np.ascontiguousarray(c, np.float32)
        run_from(_MODULE, self, "lstm_loop", x_gates, *entry[1], h, c_work, out_tm, bool(reverse), parallel=False)
        if c_work is not c:
            np.copyto(c, c_work)
        return h, c

    def rnn_time_loop(self, x_all, h, r_t, activation: int, out_tm, reverse: bool = False):
        h = np.array(h, np.float32, order="C")
        run_from(_MODULE, self, "rnn_loop", np.ascontiguousarray(x_all, np.float32),
                 np.ascontiguousarray(r_t, np.float32), int(activation), h, out_tm, bool(reverse),
                 parallel=False)
        return h


def _full_lstm(node) -> bool:
    return enabled(node) and not _basic_lstm_kind(node)


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastUnidirectionalSequenceLSTM(CompiledTimeLoops, UnidirectionalSequenceLSTM):
    pass


@register("LSTM", kind="float", priority=FAST_PRIORITY, when=_full_lstm)
class FastLSTM(CompiledTimeLoops, LSTM):
    pass


@register("BIDIRECTIONAL_SEQUENCE_LSTM", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastBidirectionalSequenceLSTM(CompiledTimeLoops, BidirectionalSequenceLSTM):
    pass


@register("UNIDIRECTIONAL_SEQUENCE_RNN", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastUnidirectionalSequenceRNN(CompiledTimeLoops, UnidirectionalSequenceRNN):
    pass


@register("RNN", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastRNN(CompiledTimeLoops, RNN):
    pass


@register("BIDIRECTIONAL_SEQUENCE_RNN", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastBidirectionalSequenceRNN(CompiledTimeLoops, BidirectionalSequenceRNN):
    pass


_INT32_SAFE_DEPTH = (2 ** 31 - 1) // (128 * 128)


class CompiledHybridLoop:
    """``HybridLSTMMixin.hybrid_time_loop`` as one compiled call."""

    def hybrid_time_loop(self, x_tm, h, c, out_tm):
        if max(self.n_input, self.n_output, self.n_cell) > _INT32_SAFE_DEPTH or not (
                np.isfinite(x_tm).all() and np.isfinite(h).all() and np.isfinite(c).all()):
            return super().hybrid_time_loop(x_tm, h, c, out_tm)
        args = self.__dict__.get("_hybrid_args")
        if args is None:
            args = self._hybrid_args = self._hybrid_arguments()
        h = np.array(h, np.float32, order="C")
        c = np.array(c, np.float32, order="C")
        run_from(_MODULE, self, "hybrid_lstm_loop", np.asarray(x_tm, np.float32), h, c, out_tm, *args,
                 parallel=False)
        return h, c

    def _hybrid_arguments(self) -> tuple:
        def stacked(mats):
            return (np.ascontiguousarray(np.concatenate([m.t for m in mats], axis=1), np.int32),
                    np.concatenate([m.row_sums for m in mats]).astype(np.int64),
                    np.array([m.scale for m in mats], np.float32))
        wx, wx_sums, wx_scale = stacked(self.x_mats)
        wh, wh_sums, wh_scale = stacked(self.h_mats)
        ln = _EMPTY_2D if self.layer_norm is None else np.stack(self.layer_norm).astype(np.float32)
        if self.proj is None:
            proj = (np.zeros((0, 0), np.int32), np.zeros(0, np.int64), _EMPTY_1D, _EMPTY_1D)
        else:
            proj = (np.ascontiguousarray(self.proj.t, np.int32), self.proj.row_sums.astype(np.int64),
                    np.array([self.proj.scale], np.float32), _vector(self.proj_bias))
        return (wx, wx_sums, wx_scale, wh, wh_sums, wh_scale, np.concatenate(self.biases).astype(np.float32),
                _vector(self.peep.get("i")), _vector(self.peep.get("f")), _vector(self.peep.get("o")), ln,
                *proj, int(self.act), np.float32(self.cell_clip), np.float32(self.proj_clip), len(self.biases),
                bool(self.asymmetric))


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", kind="hybrid", priority=FAST_PRIORITY, when=enabled)
class FastHybridUnidirectionalSequenceLSTM(CompiledHybridLoop, HybridUnidirectionalSequenceLSTM):
    pass

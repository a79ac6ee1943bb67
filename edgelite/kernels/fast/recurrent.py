"""LSTM / RNN time loops compiled: float UNIDIRECTIONAL_SEQUENCE_LSTM, LSTM (FULL kernel),
BIDIRECTIONAL_SEQUENCE_LSTM, UNIDIRECTIONAL_SEQUENCE_RNN, RNN and BIDIRECTIONAL_SEQUENCE_RNN,
the hybrid (int8 weights) UNIDIRECTIONAL_SEQUENCE_LSTM and the full-integer (8x8_16) one.

The reference kernels compute their sequence inputs and run their time loops through
:class:`..recurrent.TimeLoops`; these subclasses swap in compiled calls: the input products
of the whole sequence (one call), then every step (another). Both tiers compute with
:mod:`..cell_arithmetic`'s float32 steps (LiteRT's summation orders, Eigen's logistic and
tanh), so the outputs and the states are the same bits.

The hybrid LSTM's loop (``HybridLSTMMixin.hybrid_time_loop``) quantizes the input and the
state rows on the fly; compiled, each row's quantization repeats the reference's float32 /
float64 steps, the int8 products are exact int32 sums (any order gives the same), and the
gate arithmetic is the float loop's. Non-finite inputs or states, and depths where an int32
sum could overflow, run the reference loop.

The integer LSTM's loop is integer arithmetic throughout: ``_compiled_integer_lstm`` repeats
its requantizations, rounding shifts and table lookups value by value.
"""
from __future__ import annotations

import numpy as np

from ..base import register
from ..bidirectional import BidirectionalSequenceLSTM, BidirectionalSequenceRNN
from ..hybrid import HybridUnidirectionalSequenceLSTM
from ..integer_lstm import IntegerUnidirectionalSequenceLSTM
from ..basic_lstm import _basic_lstm_kind
from ..recurrent import (CELL_STATE, LSTM, OUTPUT_STATE, RNN, LstmConfig, LstmWeights, UnidirectionalSequenceLSTM,
                         UnidirectionalSequenceRNN, store_state)
from . import FAST_PRIORITY, enabled
from .loader import run_from

_MODULE = "_compiled_recurrent"
_EMPTY_1D = np.zeros(0, np.float32)
_EMPTY_2D = np.zeros((0, 0), np.float32)


def _vector(a) -> np.ndarray:
    # a writable copy: numba compiles one specialization per array type, read-only flag included
    return _EMPTY_1D if a is None else np.array(a, np.float32).reshape(-1)


def _contiguous_out(out_tm: np.ndarray) -> np.ndarray:
    """``out_tm`` itself when C-contiguous, else a C-contiguous buffer to copy back: the compiled
    loops then see one array layout only (one compiled specialization each)."""
    return out_tm if out_tm.flags.c_contiguous else np.empty(out_tm.shape, out_tm.dtype)


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


def _rows(seq: np.ndarray) -> np.ndarray:
    """A [T, B, D] sequence as C-contiguous float32 rows [T*B, D]."""
    return np.ascontiguousarray(seq, np.float32).reshape(-1, seq.shape[-1])


class CompiledTimeLoops:
    """The sequence inputs and time loops of :class:`..recurrent.TimeLoops`, compiled."""

    def lstm_gate_inputs(self, wts: LstmWeights, x_tm, aux_tm=None):
        steps, batch = x_tm.shape[:2]
        width = wts.input_matrix.shape[1]
        bias = np.zeros((1, width), np.float32) if wts.layer_norm is not None else wts.bias.reshape(1, width)
        total = np.empty((steps * batch, width), np.float32)
        run_from(_MODULE, self, "gemv_rows", _rows(x_tm), np.ascontiguousarray(wts.input_matrix, np.float32),
                 np.ascontiguousarray(bias, np.float32), total, parallel=False)
        if aux_tm is not None and wts.aux_matrix is not None:
            with_aux = np.empty_like(total)
            run_from(_MODULE, self, "gemv_rows", _rows(aux_tm), np.ascontiguousarray(wts.aux_matrix, np.float32),
                     total, with_aux, parallel=False)
            total = with_aux
        return total.reshape(steps, batch, width)

    def rnn_step_inputs(self, x_tm, w_t, bias, aux_tm=None, aux_t=None):
        steps, batch = x_tm.shape[:2]
        total = np.zeros((steps * batch, w_t.shape[1]), np.float32)
        if bias is not None:
            total[...] = bias
        run_from(_MODULE, self, "accumulate_lanes_rows", total, _rows(x_tm), np.ascontiguousarray(w_t, np.float32),
                 parallel=False)
        if aux_t is not None:
            run_from(_MODULE, self, "accumulate_lanes_rows", total, _rows(aux_tm),
                     np.ascontiguousarray(aux_t, np.float32), parallel=False)
        return total.reshape(steps, batch, w_t.shape[1])

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
        out = _contiguous_out(out_tm)
        run_from(_MODULE, self, "lstm_loop", x_gates, *entry[1], h, c_work, out, bool(reverse), parallel=False)
        if out is not out_tm:
            out_tm[...] = out
        if c_work is not c:
            np.copyto(c, c_work)
        return h, c

    def rnn_time_loop(self, x_all, h, r_t, activation: int, out_tm, reverse: bool = False):
        h = np.array(h, np.float32, order="C")
        out = _contiguous_out(out_tm)
        run_from(_MODULE, self, "rnn_loop", np.ascontiguousarray(x_all, np.float32),
                 np.ascontiguousarray(r_t, np.float32), int(activation), h, out, bool(reverse), parallel=False)
        if out is not out_tm:
            out_tm[...] = out
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
        out = _contiguous_out(out_tm)
        run_from(_MODULE, self, "hybrid_lstm_loop", np.array(x_tm, np.float32, order="C"), h, c, out, *args,
                 parallel=False)
        if out is not out_tm:
            out_tm[...] = out
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


def _int8_input(node) -> bool:
    return enabled(node) and node.subgraph.tensors[node.op.inputs[0]].numpy_dtype == np.int8


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", kind="int8", priority=FAST_PRIORITY, when=_int8_input)
@register("UNIDIRECTIONAL_SEQUENCE_LSTM", kind="int16", priority=FAST_PRIORITY, when=_int8_input)
class FastIntegerUnidirectionalSequenceLSTM(IntegerUnidirectionalSequenceLSTM):
    """The 8x8_16 integer LSTM's time loop as one compiled call (``_compiled_integer_lstm``);
    layer norm, and peepholes with a projection narrower than the cell, run the reference."""

    def eval(self, inputs, outputs):
        if self.early_ln is not None or self.late_ln is not None or (
                self.has_peephole and self.n_output != self.n_cell):
            return super().eval(inputs, outputs)
        args = self.__dict__.get("_loop_args")
        if args is None:
            args = self._loop_args = self._integer_arguments()
        x_gates, h, c, out_tm = self.sequence_start(inputs, outputs)
        h = np.array(h, np.int64, order="C")
        c = np.array(c, np.int64, order="C")
        out = _contiguous_out(out_tm)
        run_from("_compiled_integer_lstm", self, "integer_lstm_loop", np.ascontiguousarray(x_gates, np.int64),
                 h, c, out, *args, parallel=False)
        if out is not out_tm:
            out_tm[...] = out
        store_state(inputs[OUTPUT_STATE], h.astype(np.int8))
        store_state(inputs[CELL_STATE], c.astype(np.int16))
        return None

    def _integer_arguments(self) -> tuple:
        p = self.params
        n_gates = len(p.gates)
        peep = np.zeros((n_gates, self.n_cell), np.int64)
        peep_mult = np.full(n_gates, -1, np.int64)
        peep_shift = np.zeros(n_gates, np.int64)
        for k, g in enumerate(p.gates):
            if g.peephole is not None:
                peep[k] = g.peephole
                peep_mult[k], peep_shift[k] = g.peephole_multiplier
        rec_mult, rec_shift = (np.asarray(a, np.int64) for a in p.recurrent_multiplier)
        if p.projection is None:
            proj = (np.zeros((0, 0), np.int64), np.zeros(0, np.int64), 0, 0)
        else:
            proj = (np.ascontiguousarray(p.projection, np.int64), np.asarray(p.projection_bias, np.int64),
                    int(p.projection_multiplier[0]), int(p.projection_multiplier[1]))
        return (np.ascontiguousarray(p.recurrent_matrix, np.int64), np.asarray(p.recurrent_bias, np.int64),
                rec_mult, rec_shift, bool(np.any(rec_shift > 0)), peep, peep_mult, peep_shift,
                self.logistic3, self.tanh3, self.cell_tanh, int(30 + p.cell_scale), int(p.cell_clip),
                int(p.hidden_multiplier[0]), int(p.hidden_multiplier[1]), *proj, int(p.hidden_zp),
                int(p.output_zp), int(p.proj_clip), n_gates)

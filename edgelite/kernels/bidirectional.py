"""Float BIDIRECTIONAL_SEQUENCE_LSTM and BIDIRECTIONAL_SEQUENCE_RNN.

Each runs two independent cells over the sequence -- the forward one from the first
step to the last, the backward one from the last to the first -- with the cell math
of recurrent.py (:func:`run_lstm`, :func:`run_rnn`). The backward output of step t
is stored at step t. With ``merge_outputs`` there is one output holding
``[forward | backward]`` along the last axis, otherwise two outputs.

BIDIRECTIONAL_SEQUENCE_LSTM inputs (48; ``None`` = omitted):
 0 input [T, B, I] (time_major, the default) or [B, T, I]
 1-17 forward cell: the 17 weight inputs of UNIDIRECTIONAL_SEQUENCE_LSTM (1-17 there)
 18-34 backward cell: the same 17
 35, 36 forward output / cell state; 37, 38 backward output / cell state (variables)
 39 aux input [T, B, A] (optional)
 40-43 forward aux_input_to_{input, forget, cell, output} weights [n_cell, A] (optional)
 44-47 backward aux weights (optional)

BIDIRECTIONAL_SEQUENCE_RNN inputs (12; LiteRT wants all 12, the aux ones omitted when
unused -- 9 are accepted here too): 0 input, 1-3 forward weights
[U, I], recurrent weights [U, U], bias [U], 4 forward hidden state, 5-7 / 8 the
backward ones, 9 aux input, 10 / 11 forward / backward aux weights [U, A].

The aux input follows LiteRT's rule: with aux weights, both cells add
``aux_weights x aux_t`` to their input contribution ("cross-linked" stacking);
with an aux input but no aux weights, the backward cell reads the aux input
*instead of* the input (a stacked layer fed the previous layer's backward output).
LiteRT's float BIDIRECTIONAL_SEQUENCE_RNN has two quirks there: in batch-major
layout its backward cell reads the input even then (reproduced here), and in
time-major layout it steps through the aux input with the *input's* depth, which
only gives meaningful results when both depths are equal (not reproduced: here
the aux input is read as laid out). LiteRT's LSTM also insists that both
directions have the same cell and output sizes; here they may differ.
"""
from __future__ import annotations

import numpy as np

from .base import Kernel, register
from .recurrent import (CELL_STATE, OUTPUT_STATE, LstmConfig, SequenceLayout, TimeLoops, check_lstm_inputs,
                        check_rnn_inputs, constant_rnn_weights, lstm_weights, rnn_weights, store_state)

LSTM_DIRECTION_INPUTS = 17           # weights per direction, at 1.. and 18..
LSTM_STATES = ((35, 36), (37, 38))   # (output state, cell state) forward, backward
LSTM_AUX_INPUT = 39
LSTM_AUX_WEIGHTS = ((40, 41, 42, 43), (44, 45, 46, 47))
RNN_DIRECTIONS = ((1, 2, 3, 4), (5, 6, 7, 8))  # weights, recurrent weights, bias, hidden state
RNN_AUX_INPUT = 9
RNN_AUX_WEIGHTS = (10, 11)


def _get(items: list, i: int):
    return items[i] if i < len(items) else None


class BidirectionalKernel(TimeLoops, SequenceLayout, Kernel):
    """What both bidirectional ops share: layout, aux-input routing and the output(s)."""

    aux_input_index: int = 0
    directions: tuple = ()
    direction_names = ("forward", "backward")

    default_time_major = False
    default_activation = 0

    def __init__(self, node):
        super().__init__(node)
        self.time_major = bool(self.options.get("time_major", self.default_time_major))
        self.merge = bool(self.options.get("merge_outputs", False))
        # the RNN only uses the activation; the LSTM also the clipping
        self.config = LstmConfig.from_options(self.options, self.default_activation)

    def check_layout(self, inputs, outputs, uses_aux_weights: bool) -> tuple[int, int, int, int]:
        """(steps, batch, input depth, backward input depth); sets the aux routing."""
        if len(outputs) != (1 if self.merge else 2):
            raise self.fail(f"expects {1 if self.merge else 2} outputs with merge_outputs={self.merge}, "
                            f"got {len(outputs)}")
        x = inputs[0]
        if x is None or len(x.shape) != 3:
            raise self.fail(f"input must be 3-D, got {None if x is None else list(x.shape)}")
        steps, batch = self.sequence_dims(x.shape)
        aux = _get(inputs, self.aux_input_index)
        self.aux_weights_used = uses_aux_weights
        if uses_aux_weights and aux is None:
            raise self.fail("aux weights are given but the aux input is missing")
        # an aux input without aux weights replaces the input of the backward cell
        self.backward_reads_aux = aux is not None and not uses_aux_weights
        if aux is not None:
            if len(aux.shape) != 3 or tuple(aux.shape[:2]) != tuple(x.shape[:2]):
                raise self.fail(f"aux input {list(aux.shape)} must match the input {list(x.shape)} "
                                f"in its first two dimensions")
        bw_depth = x.shape[-1]
        if self.backward_reads_aux and (self.time_major or self.backward_reads_aux_batch_major):
            bw_depth = aux.shape[-1]
        return steps, batch, x.shape[-1], bw_depth

    backward_reads_aux_batch_major = True  # False: LiteRT's batch-major RNN quirk (see the module doc)

    def direction_inputs(self, inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """[T, B, D] views of (forward input, backward input, aux input or None)."""
        x_tm = self.time_major_view(inputs[0])
        aux = _get(inputs, self.aux_input_index)
        aux_tm = None if aux is None else self.time_major_view(aux)
        if self.backward_reads_aux:
            if not self.time_major and not self.backward_reads_aux_batch_major:
                return x_tm, x_tm, None
            return x_tm, aux_tm, None
        return x_tm, x_tm, aux_tm

    def output_views(self, outputs, widths: tuple[int, int]) -> list[np.ndarray]:
        """[T, B, units] views the forward and backward cells write their steps into."""
        if self.merge:
            merged = self.time_major_view(outputs[0])
            return [merged[..., :widths[0]], merged[..., widths[0]:]]
        return [self.time_major_view(o) for o in outputs]

    def output_shapes(self, batch: int, steps: int, widths: tuple[int, int]) -> list[tuple]:
        if self.merge:
            return [self.output_shape(batch, steps, widths[0] + widths[1])]
        return [self.output_shape(batch, steps, w) for w in widths]


@register("BIDIRECTIONAL_SEQUENCE_LSTM", kind="float")
class BidirectionalSequenceLSTM(BidirectionalKernel):
    """Float BIDIRECTIONAL_SEQUENCE_LSTM: CIFG, peephole, projection, clipping, aux input."""

    aux_input_index = LSTM_AUX_INPUT
    default_time_major = True
    default_activation = 4

    @staticmethod
    def cell_inputs(items: list, direction: int) -> list:
        """One direction's inputs laid out as UNIDIRECTIONAL_SEQUENCE_LSTM's 24 (no layer norm)."""
        offset = direction * LSTM_DIRECTION_INPUTS
        cell = [None] * 24
        for k in range(1, LSTM_DIRECTION_INPUTS + 1):
            cell[k] = _get(items, k + offset)
        cell[OUTPUT_STATE], cell[CELL_STATE] = (_get(items, i) for i in LSTM_STATES[direction])
        return cell

    def aux_weights(self, items: list, direction: int) -> list | None:
        return [_get(items, i) for i in LSTM_AUX_WEIGHTS[direction]] if self.aux_weights_used else None

    def prepare(self, inputs, outputs):
        if len(inputs) != 48:
            raise self.fail(f"expects 48 inputs, got {len(inputs)}")
        aux_w = [inputs[i] for d in LSTM_AUX_WEIGHTS for i in d[1:]]
        if any(w is None for w in aux_w) and any(w is not None for w in aux_w):
            raise self.fail("the forget/cell/output aux weights must be given for both directions or not at all")
        steps, batch, depth, bw_depth = self.check_layout(inputs, outputs, aux_w[0] is not None)
        self.cells = []
        for direction, n_input in enumerate((depth, bw_depth)):
            specs = self.cell_inputs(inputs, direction)
            use_cifg, n_cell, n_output = check_lstm_inputs(self, specs, n_input, batch)
            self.check_aux_weights(inputs, direction, use_cifg, n_cell)
            weight_specs = [s for k, s in enumerate(specs) if k not in (OUTPUT_STATE, CELL_STATE)]
            weight_specs += self.aux_weights(inputs, direction) or []
            wts = None
            if all(s is None or s.data is not None for s in weight_specs):
                wts = self.direction_weights([None if s is None else s.data for s in inputs], direction, use_cifg)
            self.cells.append((use_cifg, n_cell, n_output, wts))
        self.batch = batch
        self.widths = (self.cells[0][2], self.cells[1][2])
        return self.output_shapes(batch, steps, self.widths)

    def check_aux_weights(self, inputs, direction: int, use_cifg: bool, n_cell: int) -> None:
        if not self.aux_weights_used:
            return
        aux_depth = inputs[LSTM_AUX_INPUT].shape[-1]
        for gate, i in enumerate(LSTM_AUX_WEIGHTS[direction]):
            w = inputs[i]
            if gate == 0 and use_cifg:
                continue
            if w is None or tuple(w.shape) != (n_cell, aux_depth):
                raise self.fail(f"{self.direction_names[direction]} aux weights (input {i}) must be "
                                f"[{n_cell}, {aux_depth}], got {None if w is None else list(w.shape)}")

    def direction_weights(self, values: list, direction: int, use_cifg: bool):
        return lstm_weights(self.cell_inputs(values, direction), use_cifg, False,
                            self.aux_weights(values, direction))

    def eval(self, inputs, outputs):
        seqs = self.direction_inputs(inputs)
        aux_tm = seqs[2]
        outs = self.output_views(outputs, self.widths)
        for direction, (use_cifg, n_cell, n_output, wts) in enumerate(self.cells):
            if wts is None:
                wts = self.direction_weights(list(inputs), direction, use_cifg)
            h_state, c_state = (inputs[i] for i in LSTM_STATES[direction])
            h = np.array(h_state, np.float32).reshape(self.batch, n_output)
            c = np.array(c_state, np.float32).reshape(self.batch, n_cell)
            x_gates = self.lstm_gate_inputs(wts, seqs[direction], aux_tm)
            h, c = self.lstm_time_loop(wts, self.config, x_gates, h, c, outs[direction], reverse=direction == 1)
            store_state(h_state, h)
            store_state(c_state, c)


@register("BIDIRECTIONAL_SEQUENCE_RNN", kind="float")
class BidirectionalSequenceRNN(BidirectionalKernel):
    """Float BIDIRECTIONAL_SEQUENCE_RNN: ``h = act(W x_t (+ A aux_t) + R h + b)`` per direction."""

    aux_input_index = RNN_AUX_INPUT
    backward_reads_aux_batch_major = False

    def prepare(self, inputs, outputs):
        if len(inputs) not in (9, 12) or any(inputs[i] is None for i in range(9)):
            raise self.fail("expects the input, weights, recurrent weights, bias and hidden state "
                            "of both directions (9 inputs, or 12 with the aux input and weights)")
        fw_aux, bw_aux = (_get(inputs, i) for i in RNN_AUX_WEIGHTS)
        if (fw_aux is None) != (bw_aux is None):
            raise self.fail("aux weights must be given for both directions or neither")
        steps, batch, depth, bw_depth = self.check_layout(inputs, outputs, fw_aux is not None)
        self.cells = []
        for direction, n_input in enumerate((depth, bw_depth)):
            w, r, b, state = (inputs[i] for i in RNN_DIRECTIONS[direction])
            units = check_rnn_inputs(self, w, r, b, state, n_input, batch,
                                     f"{self.direction_names[direction]} ")
            aux_w = (fw_aux, bw_aux)[direction] if self.aux_weights_used else None
            if aux_w is not None and tuple(aux_w.shape) != (units, inputs[RNN_AUX_INPUT].shape[-1]):
                raise self.fail(f"{self.direction_names[direction]} aux weights {list(aux_w.shape)} do not fit "
                                f"{units} units and an aux depth of {inputs[RNN_AUX_INPUT].shape[-1]}")
            aux_t = None
            if aux_w is not None and aux_w.data is not None:
                aux_t = np.ascontiguousarray(np.asarray(aux_w.data, np.float32).T)
            self.cells.append((units, constant_rnn_weights(w, r, b), aux_t))
        self.batch = batch
        self.widths = (self.cells[0][0], self.cells[1][0])
        return self.output_shapes(batch, steps, self.widths)

    def eval(self, inputs, outputs):
        seqs = self.direction_inputs(inputs)
        aux_tm = seqs[2]
        outs = self.output_views(outputs, self.widths)
        for direction, (units, weights, aux_t) in enumerate(self.cells):
            w_i, r_i, b_i, s_i = RNN_DIRECTIONS[direction]
            w_t, r_t, bias = weights if weights is not None else rnn_weights(inputs[w_i], inputs[r_i], inputs[b_i])
            if aux_tm is not None and aux_t is None:
                aux_t = np.ascontiguousarray(np.asarray(inputs[RNN_AUX_WEIGHTS[direction]], np.float32).T)
            x_all = self.rnn_step_inputs(seqs[direction], w_t, bias, aux_tm, aux_t if aux_tm is not None else None)
            h = np.array(inputs[s_i], np.float32).reshape(self.batch, units)
            h = self.rnn_time_loop(x_all, h, r_t, self.config.activation, outs[direction], reverse=direction == 1)
            store_state(inputs[s_i], h)

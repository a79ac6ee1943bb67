"""Float recurrent ops: UNIDIRECTIONAL_SEQUENCE_LSTM and LSTM (LiteRT's lstm_eval float path),
UNIDIRECTIONAL_SEQUENCE_RNN and RNN. (The LSTM op's BASIC kernel is in basic_lstm.py.)

LSTM inputs (24; ``None`` = omitted):
 0 input [B, T, I] (or [T, B, I] when time_major; [B, I] for the one-step LSTM op)
 1-4 input_to_{input, forget, cell, output} weights [n_cell, I]  (input gate omitted = CIFG)
 5-8 recurrent_to_{input, forget, cell, output} weights [n_cell, n_output]
     ([n_cell] vectors when ``diagonal_recurrent_tensors``)
 9-11 cell_to_{input, forget, output} peephole weights [n_cell]
 12-15 {input, forget, cell, output} gate bias [n_cell]
 16 projection weights [n_output, n_cell], 17 projection bias [n_output]
 18 output state [B, n_output], 19 cell state [B, n_cell]  (variable tensors)
 20-23 {input, forget, cell, output} layer-norm coefficients [n_cell]

Per time step, for gates i, f, g (cell), o::

    pre_x = W_x x + W_h h_prev (+ peephole * c, using c_prev for i/f, c_new for o)
    no layer norm:   gate = act(pre_x + bias)
    with layer norm: gate = act(normalize(pre_x) * ln_coef + bias)
    c = f * c_prev + i * g      (CIFG: i = 1 - f), clipped to +-cell_clip if > 0
    h = o * act(c), then projection + bias, clipped to +-proj_clip if > 0

The gates use the sigmoid, the cell input and output use the op's activation
(usually TANH). The input contribution of the whole sequence is computed before the
time loop; each step adds one ``[B, n_output] x [n_output, G*n_cell]`` product plus
vectorised element-wise work, all in the arithmetic of :mod:`.cell_arithmetic`
(LiteRT's summation orders, Eigen's logistic and tanh, as LiteRT's cells), which the
compiled tier (``fast/recurrent.py``) repeats bit for bit in one compiled loop. The final states are written back into the
state tensors (inputs 18, 19) in place, as LiteRT keeps them between invocations.

The RNNs compute ``h = act(W x_t + R h + b)`` per step (the activation is applied
for real, TANH included) and likewise keep their hidden state (input 4).

The cell math lives in :func:`run_lstm` / :func:`run_rnn` (time loops over a
precomputed input contribution, optionally walking backwards) so that the
bidirectional ops (bidirectional.py) run the very same cells per direction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activation_fn import check_activation
from .base import Kernel, register
from .cell_arithmetic import accumulate_lanes, cell_activation_, gemv_products, logistic_
from .cell_arithmetic import layer_normalize_

INPUT = 0
INPUT_WEIGHTS = (1, 2, 3, 4)        # gates i, f, c, o
RECURRENT_WEIGHTS = (5, 6, 7, 8)
PEEPHOLE_I, PEEPHOLE_F, PEEPHOLE_O = 9, 10, 11
BIASES = (12, 13, 14, 15)
PROJECTION_WEIGHTS, PROJECTION_BIAS = 16, 17
OUTPUT_STATE, CELL_STATE = 18, 19
LAYER_NORMS = (20, 21, 22, 23)


@dataclass
class LstmWeights:
    """The LSTM's parameters arranged for stacked-gate GEMMs (gate order [i,] f, c, o)."""

    input_matrix: np.ndarray            # [I, G*n_cell]
    recurrent: np.ndarray               # [n_output, G*n_cell], or [G*n_cell] when diagonal
    bias: np.ndarray                    # [G*n_cell]
    peephole_i: np.ndarray | None
    peephole_f: np.ndarray | None
    peephole_o: np.ndarray | None
    projection_t: np.ndarray | None     # [n_cell, n_output]
    projection_bias: np.ndarray | None
    layer_norm: list[np.ndarray] | None  # per gate [n_cell]
    aux_matrix: np.ndarray | None = None  # [aux_input_size, G*n_cell] (bidirectional LSTM's aux input)
    gates: int = 4                         # 3 with CIFG (no input gate)


@dataclass
class LstmConfig:
    """The options an LSTM cell computes with."""

    activation: int = 4
    cell_clip: float = 0.0
    proj_clip: float = 0.0

    @classmethod
    def from_options(cls, options: dict, default_activation: int = 4) -> "LstmConfig":
        return cls(activation=check_activation(options.get("fused_activation_function", default_activation)),
                   cell_clip=float(options.get("cell_clip", 0.0) or 0.0),
                   proj_clip=float(options.get("proj_clip", 0.0) or 0.0))


def _f32(a) -> np.ndarray | None:
    return None if a is None else np.asarray(a, np.float32)


def _stacked_t(mats: list) -> np.ndarray:
    """[rows_g, cols] matrices stacked by rows, transposed: [cols, sum rows_g]."""
    return np.ascontiguousarray(np.concatenate([_f32(m) for m in mats], axis=0).T)


def lstm_weights(values: list, use_cifg: bool, diagonal: bool, aux_weights: list | None = None) -> LstmWeights:
    """Arrange the 24 LSTM inputs (arrays or None) into :class:`LstmWeights`.

    ``aux_weights`` are the four aux_input_to_{i, f, c, o} weights (bidirectional LSTM), if used.
    """
    gates = [1, 2, 3] if use_cifg else [0, 1, 2, 3]
    x_ws = [values[INPUT_WEIGHTS[g]] for g in gates]
    h_ws = [_f32(values[RECURRENT_WEIGHTS[g]]) for g in gates]
    n_cell = x_ws[-1].shape[0]
    biases = [_f32(values[BIASES[g]]) for g in gates]
    bias = np.concatenate([np.zeros(n_cell, np.float32) if b is None else b.reshape(-1) for b in biases])
    if diagonal:
        recurrent = np.concatenate([w.reshape(-1) for w in h_ws])
    else:
        recurrent = _stacked_t(h_ws)
    projection = _f32(values[PROJECTION_WEIGHTS])
    layer_norm = None
    if values[LAYER_NORMS[1]] is not None:
        layer_norm = [_f32(values[LAYER_NORMS[g]]).reshape(-1) for g in gates]
    return LstmWeights(
        input_matrix=_stacked_t(x_ws), recurrent=recurrent, bias=bias,
        peephole_i=None if use_cifg else _f32(values[PEEPHOLE_I]),
        peephole_f=_f32(values[PEEPHOLE_F]), peephole_o=_f32(values[PEEPHOLE_O]),
        projection_t=None if projection is None else np.ascontiguousarray(projection.T),
        projection_bias=_f32(values[PROJECTION_BIAS]), layer_norm=layer_norm,
        aux_matrix=None if aux_weights is None else _stacked_t([aux_weights[g] for g in gates]),
        gates=len(gates))


def input_contribution(x_tm: np.ndarray, matrix: np.ndarray, bias: np.ndarray | None,
                       aux_tm: np.ndarray | None = None, aux_matrix: np.ndarray | None = None) -> np.ndarray:
    """An RNN's ``bias + x W (+ aux A)`` for every step of a [T, B, I] sequence at once:
    [T, B, cols], summed as LiteRT's RnnBatchStep (:func:`.cell_arithmetic.accumulate_lanes`)."""
    steps, batch = x_tm.shape[:2]
    total = np.zeros((steps * batch, matrix.shape[1]), np.float32)
    if bias is not None:
        total[...] = bias
    accumulate_lanes(total, np.asarray(x_tm, np.float32).reshape(steps * batch, -1), matrix)
    if aux_matrix is not None:
        accumulate_lanes(total, np.asarray(aux_tm, np.float32).reshape(steps * batch, -1), aux_matrix)
    return total.reshape(steps, batch, matrix.shape[1])


def lstm_input_gates(wts: LstmWeights, x_tm: np.ndarray, aux_tm: np.ndarray | None = None) -> np.ndarray:
    """Every step's input contribution to the stacked gates: ``x W + bias`` (``+ 0.0`` for a
    layer-normalized LSTM, whose bias comes later), then ``aux A +`` that, in
    :func:`.cell_arithmetic.gemv_products`' order."""
    steps, batch = x_tm.shape[:2]
    rows = steps * batch
    total = gemv_products(np.asarray(x_tm, np.float32).reshape(rows, -1), wts.input_matrix)
    total += wts.bias if wts.layer_norm is None else np.float32(0)
    if aux_tm is not None and wts.aux_matrix is not None:
        aux = gemv_products(np.asarray(aux_tm, np.float32).reshape(rows, -1), wts.aux_matrix)
        aux += total
        total = aux
    return total.reshape(steps, batch, -1)


def run_lstm(wts: LstmWeights, cfg: LstmConfig, x_gates: np.ndarray, h: np.ndarray, c: np.ndarray,
             out_tm: np.ndarray, diagonal: bool = False, reverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The LSTM time loop (LiteRT's lstm_eval float path) over precomputed input gates.

    ``x_gates`` [T, B, G*n_cell] from :func:`lstm_input_gates`; ``h`` [B, n_output] and ``c``
    [B, n_cell] are the initial states (``c`` is updated in place); each step's output goes to
    ``out_tm[t]`` ([T, B, n_output] view). ``reverse`` walks the steps from last to first
    (the backward direction of the bidirectional ops). Returns the final (h, c).

    The arithmetic is :mod:`.cell_arithmetic`'s (sums in a fixed order, Eigen's logistic and
    tanh), which the compiled tier repeats bit for bit.
    """
    g_count = wts.gates
    nc = wts.recurrent.shape[-1] // g_count
    batch = h.shape[0]
    z = np.empty((batch, g_count * nc), np.float32)
    cell_out = np.empty((batch, nc), np.float32)
    split = [z[:, k * nc:(k + 1) * nc] for k in range(g_count)]
    in_gate, forget_gate, cell_gate, out_gate = ([None] + split) if g_count == 3 else split
    cell_in = np.empty((batch, nc), np.float32)
    # the input and forget gates side by side: one logistic for both; and when the output
    # gate does not wait for the new c (peephole, layer norm), one logistic over all gates
    in_forget = z[:, :nc] if in_gate is None else z[:, :2 * nc]
    late_out_gate = wts.peephole_o is not None or wts.layer_norm is not None
    cell_clip, proj_clip = np.float32(cfg.cell_clip), np.float32(cfg.proj_clip)
    biases = [wts.bias[k * nc:(k + 1) * nc] for k in range(g_count)]
    gate_list = split if wts.layer_norm is not None else []
    steps = range(x_gates.shape[0] - 1, -1, -1) if reverse else range(x_gates.shape[0])
    for t in steps:
        if diagonal:
            np.multiply(np.tile(h, g_count), wts.recurrent, out=z)
        else:
            z[...] = gemv_products(h, wts.recurrent)
        np.add(z, x_gates[t], out=z)
        if in_gate is not None and wts.peephole_i is not None:
            in_gate += c * wts.peephole_i
        if wts.peephole_f is not None:
            forget_gate += c * wts.peephole_f
        for k in range(len(gate_list) - 1):  # all but the output gate (it needs the new c)
            layer_normalize_(gate_list[k], wts.layer_norm[k], biases[k])
        np.copyto(cell_in, cell_gate)
        cell_activation_(cell_in, cfg.activation)
        logistic_(in_forget if late_out_gate else z)
        # c = f * c + i * g
        np.multiply(c, forget_gate, out=c)
        if in_gate is None:
            np.subtract(np.float32(1), forget_gate, out=forget_gate)
            np.multiply(cell_in, forget_gate, out=cell_in)
        else:
            np.multiply(cell_in, in_gate, out=cell_in)
        np.add(c, cell_in, out=c)
        if cfg.cell_clip > 0:
            np.minimum(c, cell_clip, out=c)
            np.maximum(c, -cell_clip, out=c)
        if wts.peephole_o is not None:
            out_gate += c * wts.peephole_o
        if wts.layer_norm is not None:
            layer_normalize_(out_gate, wts.layer_norm[-1], biases[-1])
        if late_out_gate:
            logistic_(out_gate)
        np.copyto(cell_out, c)
        cell_activation_(cell_out, cfg.activation)
        np.multiply(cell_out, out_gate, out=cell_out)
        if wts.projection_t is not None:
            h = gemv_products(cell_out, wts.projection_t)
            h += np.float32(0) if wts.projection_bias is None else wts.projection_bias
            if cfg.proj_clip > 0:
                np.minimum(h, proj_clip, out=h)
                np.maximum(h, -proj_clip, out=h)
        else:
            h = cell_out.copy()
        out_tm[t] = h
    return h, c


def check_lstm_inputs(kernel: Kernel, specs: list, n_input: int, batch: int,
                      diagonal: bool = False) -> tuple[bool, int, int]:
    """Check one LSTM direction's inputs, laid out as the 24 of UNIDIRECTIONAL_SEQUENCE_LSTM
    (with ``fail`` messages naming those positions). Returns (use_cifg, n_cell, n_output)."""
    for i in INPUT_WEIGHTS[1:] + RECURRENT_WEIGHTS[1:] + BIASES[1:]:
        if specs[i] is None:
            raise kernel.fail(f"input {i} (forget/cell/output weights or bias) is required")
    use_cifg = specs[INPUT_WEIGHTS[0]] is None
    n_cell, w_in = specs[INPUT_WEIGHTS[3]].shape
    if w_in != n_input:
        raise kernel.fail(f"input depth {n_input} != input_to_output_weights columns {w_in}")
    rec = specs[RECURRENT_WEIGHTS[3]].shape
    if diagonal:
        if tuple(rec) != (n_cell,):
            raise kernel.fail(f"diagonal recurrent weights must be [{n_cell}], got {list(rec)}")
    elif rec[0] != n_cell:
        raise kernel.fail(f"recurrent_to_output_weights rows {rec[0]} != n_cell {n_cell}")
    proj = specs[PROJECTION_WEIGHTS]
    n_output = proj.shape[0] if proj is not None else n_cell
    if not diagonal and rec[1] != n_output:
        raise kernel.fail(f"recurrent weights have {rec[1]} columns, the output has {n_output} units")
    for idx, want in ((OUTPUT_STATE, n_output), (CELL_STATE, n_cell)):
        st = specs[idx]
        if st is None:
            raise kernel.fail(f"state input {idx} is required")
        if st.size != batch * want:
            raise kernel.fail(f"state input {idx} has {st.size} elements, expected {batch}x{want}")
    return use_cifg, n_cell, n_output


def store_state(target, value: np.ndarray) -> None:
    """Write a final state back into the variable tensor's buffer when it is writable."""
    if isinstance(target, np.ndarray) and target.flags.writeable:
        np.copyto(target, value.reshape(target.shape))


class TimeLoops:
    """How a recurrent kernel computes its sequence inputs and runs its time loops:
    :func:`lstm_input_gates`, :func:`input_contribution`, :func:`run_lstm`, :func:`run_rnn`
    here; the compiled tier's kernels override them with compiled loops of the same arithmetic."""

    def lstm_gate_inputs(self, wts: LstmWeights, x_tm: np.ndarray, aux_tm: np.ndarray | None = None) -> np.ndarray:
        return lstm_input_gates(wts, x_tm, aux_tm)

    def rnn_step_inputs(self, x_tm: np.ndarray, w_t: np.ndarray, bias: np.ndarray | None,
                        aux_tm: np.ndarray | None = None, aux_t: np.ndarray | None = None) -> np.ndarray:
        return input_contribution(x_tm, w_t, bias, aux_tm, aux_t)

    def lstm_time_loop(self, wts: LstmWeights, cfg: LstmConfig, x_gates: np.ndarray, h: np.ndarray,
                       c: np.ndarray, out_tm: np.ndarray, diagonal: bool = False,
                       reverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
        return run_lstm(wts, cfg, x_gates, h, c, out_tm, diagonal, reverse)

    def rnn_time_loop(self, x_all: np.ndarray, h: np.ndarray, r_t: np.ndarray, activation: int,
                      out_tm: np.ndarray, reverse: bool = False) -> np.ndarray:
        return run_rnn(x_all, h, r_t, activation, out_tm, reverse)


class SequenceLayout:
    """Where the steps and the batch are in a sequence op's input and output."""

    input_rank = 3
    time_major = False

    def sequence_dims(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """(steps, batch) of an input of ``shape``."""
        return (shape[0], shape[1]) if self.time_major else (shape[1], shape[0])

    def output_shape(self, batch: int, steps: int, units: int) -> tuple[int, ...]:
        return (steps, batch, units) if self.time_major else (batch, steps, units)

    def time_major_view(self, a: np.ndarray) -> np.ndarray:
        """``a`` (input or output) as a [T, B, D] view."""
        return a if self.time_major else a.transpose(1, 0, 2)


class SingleStepLayout(SequenceLayout):
    """The one-step LSTM / RNN ops: input [B, I], output [B, units]."""

    input_rank = 2
    time_major = True

    def sequence_dims(self, shape):
        return 1, shape[0]

    def output_shape(self, batch, steps, units):
        return (batch, units)

    def time_major_view(self, a):
        return a.reshape((1,) + a.shape)


@register("UNIDIRECTIONAL_SEQUENCE_LSTM", kind="float")
class UnidirectionalSequenceLSTM(TimeLoops, SequenceLayout, Kernel):
    """Float UNIDIRECTIONAL_SEQUENCE_LSTM with CIFG, peephole, projection and layer norm."""

    def __init__(self, node):
        super().__init__(node)
        o = self.options
        self.config = LstmConfig.from_options(o)
        self.activation, self.cell_clip, self.proj_clip = (self.config.activation, self.config.cell_clip,
                                                           self.config.proj_clip)
        self.time_major = bool(o.get("time_major", False))
        self.diagonal = bool(o.get("diagonal_recurrent_tensors", False))

    def prepare(self, inputs, outputs):
        if len(inputs) not in (20, 24):
            raise self.fail(f"expects 20 or 24 inputs, got {len(inputs)}")
        x = inputs[INPUT]
        if x is None or len(x.shape) != self.input_rank:
            raise self.fail(f"input must be {self.input_rank}-D, got {None if x is None else list(x.shape)}")
        specs = list(inputs) + [None] * (24 - len(inputs))
        t_len, batch = self.sequence_dims(x.shape)
        n_input = x.shape[-1]
        self.use_cifg, n_cell, n_output = check_lstm_inputs(self, specs, n_input, batch, self.diagonal)
        self.gates = 3 if self.use_cifg else 4
        self.batch, self.t_len, self.n_input = batch, t_len, n_input
        self.n_cell, self.n_output = n_cell, n_output
        weight_idx = [i for i in range(len(inputs)) if i not in (INPUT, OUTPUT_STATE, CELL_STATE)]
        self.weights = None
        if all(inputs[i] is None or inputs[i].data is not None for i in weight_idx):
            self.weights = lstm_weights([None if s is None else s.data for s in specs], self.use_cifg,
                                        self.diagonal)
        return [self.output_shape(batch, t_len, n_output)]

    def eval(self, inputs, outputs):
        wts = self.weights
        if wts is None:
            wts = lstm_weights(list(inputs) + [None] * (24 - len(inputs)), self.use_cifg, self.diagonal)
        h = np.array(inputs[OUTPUT_STATE], np.float32).reshape(self.batch, self.n_output)
        c = np.array(inputs[CELL_STATE], np.float32).reshape(self.batch, self.n_cell)
        x_gates = self.lstm_gate_inputs(wts, self.time_major_view(inputs[INPUT]))
        h, c = self.lstm_time_loop(wts, self.config, x_gates, h, c, self.time_major_view(outputs[0]),
                                   self.diagonal)
        store_state(inputs[OUTPUT_STATE], h)
        store_state(inputs[CELL_STATE], c)


@register("LSTM", kind="float")
class LSTM(SingleStepLayout, UnidirectionalSequenceLSTM):
    """Float LSTM op (FULL kernel type): one step of the sequence LSTM on a [B, I] input."""

    def __init__(self, node):
        super().__init__(node)
        self.time_major = True
        self.diagonal = False
        kernel_type = int(self.options.get("kernel_type", 0) or 0)
        if kernel_type != 0:  # BASIC (1) is BasicLSTMFloat / BasicLSTMQuantized
            raise self.fail(f"LSTM kernel_type {kernel_type} is not supported here (FULL LSTM kernel)")


def rnn_weights(w, r, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(W^T [I, U], R^T [U, U], bias [U]) of an RNN from its weights, recurrent weights and bias."""
    w, r, b = (np.asarray(v, np.float32) for v in (w, r, b))
    return np.ascontiguousarray(w.T), np.ascontiguousarray(r.T), b.reshape(-1)


def run_rnn(x_all: np.ndarray, h: np.ndarray, r_t: np.ndarray, activation: int, out_tm: np.ndarray,
            reverse: bool = False) -> np.ndarray:
    """The RNN time loop ``h = act(x_all[t] + h R^T)``; ``x_all`` [T, B, U] holds ``W x_t + b``.

    Each step's h goes to ``out_tm[t]``; ``reverse`` walks the steps backwards. Returns the final h.
    The arithmetic is :mod:`.cell_arithmetic`'s, as in :func:`run_lstm`.
    """
    steps = range(x_all.shape[0] - 1, -1, -1) if reverse else range(x_all.shape[0])
    for t in steps:
        h = accumulate_lanes(x_all[t].copy(), h, r_t)
        cell_activation_(h, activation)
        out_tm[t] = h
    return h


def check_rnn_inputs(kernel: Kernel, w, r, b, state, n_input: int, batch: int, what: str = "") -> int:
    """Check one RNN direction's weights [U, I], recurrent weights [U, U], bias [U] and state; return U."""
    if len(w.shape) != 2 or w.shape[1] != n_input:
        raise kernel.fail(f"{what}weights {list(w.shape)} do not fit an input depth of {n_input}")
    units = w.shape[0]
    if tuple(r.shape) != (units, units) or b.size != units:
        raise kernel.fail(f"{what}recurrent weights {list(r.shape)} / bias {list(b.shape)} do not fit "
                          f"{units} units")
    if state.size != batch * units:
        raise kernel.fail(f"{what}hidden state has {state.size} elements, expected {batch}x{units}")
    return units


def constant_rnn_weights(w, r, b):
    """:func:`rnn_weights` of the specs' constant values, or None when one is not constant."""
    if all(t.data is not None for t in (w, r, b)):
        return rnn_weights(w.data, r.data, b.data)
    return None


@register("UNIDIRECTIONAL_SEQUENCE_RNN", kind="float")
class UnidirectionalSequenceRNN(TimeLoops, SequenceLayout, Kernel):
    """Float UNIDIRECTIONAL_SEQUENCE_RNN: ``h = act(W x_t + R h + b)``; output every h.

    Inputs: input [B, T, I] (or [T, B, I]), weights [U, I], recurrent weights [U, U],
    bias [U], hidden state [B, U] (variable, updated in place).
    """

    def __init__(self, node):
        super().__init__(node)
        self.activation = check_activation(self.options.get("fused_activation_function", 0))
        self.time_major = bool(self.options.get("time_major", False))

    def prepare(self, inputs, outputs):
        if len(inputs) < 5 or any(inputs[i] is None for i in range(5)):
            raise self.fail("expects input, weights, recurrent weights, bias and hidden state")
        x, w, r, b, state = inputs[:5]
        if len(x.shape) != self.input_rank:
            raise self.fail(f"input must be {self.input_rank}-D, got {list(x.shape)}")
        steps, batch = self.sequence_dims(x.shape)
        units = check_rnn_inputs(self, w, r, b, state, x.shape[-1], batch)
        self.steps, self.batch, self.units = steps, batch, units
        self.weights = constant_rnn_weights(w, r, b)
        return [self.output_shape(batch, steps, units)]

    def eval(self, inputs, outputs):
        w_t, r_t, bias = self.weights if self.weights is not None else rnn_weights(*inputs[1:4])
        x_all = self.rnn_step_inputs(self.time_major_view(inputs[0]), w_t, bias)
        h = np.array(inputs[4], np.float32).reshape(self.batch, self.units)
        h = self.rnn_time_loop(x_all, h, r_t, self.activation, self.time_major_view(outputs[0]))
        store_state(inputs[4], h)


@register("RNN", kind="float")
class RNN(SingleStepLayout, UnidirectionalSequenceRNN):
    """Float RNN op: one step, input [B, I], output [B, U] (the new hidden state)."""

    def __init__(self, node):
        super().__init__(node)
        self.time_major = True

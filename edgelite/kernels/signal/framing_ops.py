"""TFLM signal ops that carry samples across invokes: Delay, Framer, OverlapAdd, Stacker.

They follow ``signal/micro/kernels/{delay,framer,overlap_add,stacker}.cc`` of
tensorflow/tflite-micro. Their state lives in the kernel instance: it is built at prepare
(the same moment TFLM's Prepare builds it) and :meth:`reset_state` restores it as TFLM's
Reset does. TFLM keeps it in ``CircularBuffer``\\ s, first-in first-out queues of int16;
a plain numpy queue per outer row gives the same values.

* ``SignalDelay`` (option ``delay_length``): each row of the last axis comes out
  ``delay_length`` samples late; the queue starts with that many zeros.
* ``SignalFramer`` (options ``frame_size``, ``frame_step``, ``prefill``): the input's last
  axis holds ``n`` steps of ``frame_step`` new samples; each step pushed makes a frame of
  the last ``frame_size`` samples once that many are queued (with ``prefill`` the queue
  starts with ``frame_size - frame_step`` zeros). ``output_valid`` is False when a frame
  could not be made; that frame is not written (TFLM leaves whatever its arena held there,
  here it keeps the previous invoke's frame, zeros at first).
* ``SignalOverlapAdd`` (options ``frame_step``, ``T``: int16 or float32): adds each frame
  of the input (..., n_frames, frame_size) into a ``frame_size`` accumulator, emits its
  first ``frame_step`` samples and shifts it; int16 saturates at every add.
* ``SignalStacker`` (options ``num_channels``, ``stacker_left_context``,
  ``stacker_right_context``, ``stacker_step``): stacks ``left + 1 + right`` consecutive
  frames of ``num_channels`` values (the first frame is repeated ``left`` extra times),
  then drops ``stacker_step`` frames; ``output_valid`` tells whether a stack was complete
  (if not, the output is not written: it keeps the previous stack here, zeros at first).
"""
from __future__ import annotations

import numpy as np

from ..base import register
from .options import SignalKernel

_OVERLAP_TYPES = {0: np.float32, 7: np.int16}


def _outer_rows(shape: tuple, inner: int) -> int:
    return int(np.prod(shape, dtype=np.int64)) // inner if inner else 0


@register("SignalDelay", kind="any")
class SignalDelay(SignalKernel):
    """Delays each int16 row of the last axis by ``delay_length`` samples."""

    def __init__(self, node):
        super().__init__(node)
        self.delay = self.int_option("delay_length", minimum=0)
        self.queues = np.zeros((0, self.delay), dtype=np.int16)

    def reset_state(self) -> None:
        self.queues = np.zeros((self.queues.shape[0], self.delay), dtype=np.int16)

    def prepare(self, inputs, outputs):
        self.require_unary(inputs, outputs, np.int16, np.int16)
        shape = tuple(inputs[0].shape)
        if not shape or shape[-1] < 1:
            raise self.fail(f"input {list(shape)} needs a non-empty last axis")
        self.queues = np.zeros((_outer_rows(shape, shape[-1]), self.delay), dtype=np.int16)
        return [shape]

    def eval(self, inputs, outputs):
        x = inputs[0]
        frame = x.shape[-1]
        joined = np.concatenate([self.queues, x.reshape(-1, frame)], axis=1)
        self.queues = joined[:, frame:].copy()
        return [joined[:, :frame].reshape(x.shape)]


@register("SignalFramer", kind="any")
class SignalFramer(SignalKernel):
    """Cuts int16 rows into overlapping frames of ``frame_size`` every ``frame_step`` samples."""

    def __init__(self, node):
        super().__init__(node)
        self.frame_size = self.int_option("frame_size", minimum=1)
        self.frame_step = self.int_option("frame_step", minimum=1)
        self.prefill = self.bool_option("prefill")
        self.rows = 0
        self.queues: list[np.ndarray] = []
        self.last_output: np.ndarray | None = None

    def reset_state(self) -> None:
        start = self.frame_size - self.frame_step if self.prefill else 0
        self.queues = [np.zeros(max(start, 0), dtype=np.int16) for _ in range(self.rows)]

    def prepare(self, inputs, outputs):
        self.require_counts(inputs, outputs, 1, 2, "input -> output, output_valid")
        x = inputs[0]
        self.require_dtype(x, np.int16, "input")
        self.require_dtype(outputs[0], np.int16, "output")
        self.require_dtype(outputs[1], np.bool_, "output_valid")
        shape = tuple(x.shape)
        if not shape or shape[-1] < self.frame_step or shape[-1] % self.frame_step:
            raise self.fail(f"the input's last axis ({list(shape)[-1:]}) must be a positive multiple "
                            f"of frame_step {self.frame_step}")
        self.rows = _outer_rows(shape, shape[-1])
        self.n_frames = shape[-1] // self.frame_step
        out_shape = shape[:-1] + (self.n_frames, self.frame_size)
        self.last_output = np.zeros(out_shape, dtype=np.int16)
        self.reset_state()
        return [out_shape, ()]

    def eval(self, inputs, outputs):
        x = inputs[0].reshape(self.rows, self.n_frames, self.frame_step)
        out = self.last_output.reshape(self.rows, self.n_frames, self.frame_size)
        valid = True
        for r in range(self.rows):
            queue = self.queues[r]
            for f in range(self.n_frames):
                queue = np.concatenate([queue, x[r, f]])
                if queue.size >= self.frame_size:
                    out[r, f] = queue[:self.frame_size]
                    queue = queue[self.frame_step:]
                else:
                    valid = False
            self.queues[r] = queue
        return [self.last_output.copy(), np.array(valid)]


@register("SignalOverlapAdd", kind="any")
class SignalOverlapAdd(SignalKernel):
    """Overlap-add of frames (..., n_frames, frame_size) into (..., n_frames * frame_step)."""

    def __init__(self, node):
        super().__init__(node)
        self.frame_step = self.int_option("frame_step", minimum=1)
        type_code = self.int_option("T")
        if type_code not in _OVERLAP_TYPES:
            raise self.fail(f"option T={type_code} is not int16 (7) or float32 (0)")
        self.dtype = np.dtype(_OVERLAP_TYPES[type_code])
        self.buffers = np.zeros((0, 0), dtype=self.dtype)

    def reset_state(self) -> None:
        self.buffers = np.zeros_like(self.buffers)

    def prepare(self, inputs, outputs):
        self.require_unary(inputs, outputs, self.dtype, self.dtype)
        x = inputs[0]
        shape = tuple(x.shape)
        if len(shape) < 2:
            raise self.fail(f"input {list(shape)} must be at least 2-D (..., n_frames, frame_size)")
        self.n_frames, self.frame_size = shape[-2], shape[-1]
        if self.frame_size < self.frame_step:
            raise self.fail(f"frame_size {self.frame_size} is smaller than frame_step {self.frame_step}")
        rows = _outer_rows(shape, self.n_frames * self.frame_size)
        self.buffers = np.zeros((rows, self.frame_size), dtype=self.dtype)
        return [shape[:-2] + (self.n_frames * self.frame_step,)]

    def eval(self, inputs, outputs):
        step, size = self.frame_step, self.frame_size
        frames = inputs[0].reshape(-1, self.n_frames, size)
        rows = frames.shape[0]
        out = np.empty((rows, self.n_frames, step), dtype=self.dtype)
        buf = self.buffers
        for f in range(self.n_frames):
            if self.dtype == np.int16:
                total = buf.astype(np.int32) + frames[:, f].astype(np.int32)
                buf = np.clip(total, -32768, 32767).astype(np.int16)
            else:
                buf = buf + frames[:, f]
            out[:, f] = buf[:, :step]
            buf = np.concatenate([buf[:, step:], np.zeros((rows, step), dtype=self.dtype)], axis=1)
        self.buffers = buf
        return [out.reshape(tuple(inputs[0].shape[:-2]) + (self.n_frames * step,))]


@register("SignalStacker", kind="any")
class SignalStacker(SignalKernel):
    """Stacks ``left + 1 + right`` frames of ``num_channels`` int16 values."""

    def __init__(self, node):
        super().__init__(node)
        self.num_channels = self.int_option("num_channels", minimum=1)
        self.left = self.int_option("stacker_left_context", minimum=0)
        self.right = self.int_option("stacker_right_context", minimum=0)
        self.step = self.int_option("stacker_step", minimum=1)
        self.buffer_size = self.num_channels * (self.left + self.right + 1)
        if self.step > self.left + self.right + 1:
            raise self.fail(f"stacker_step {self.step} exceeds the {self.left + self.right + 1} stacked frames")
        self.last_output = np.zeros(self.buffer_size, dtype=np.int16)
        self.reset_state()

    def reset_state(self) -> None:
        self.queue = np.zeros(0, dtype=np.int16)
        self.has_first_frame = False

    def prepare(self, inputs, outputs):
        self.require_counts(inputs, outputs, 1, 2, "input -> output, output_valid")
        x = inputs[0]
        self.require_dtype(x, np.int16, "input")
        self.require_dtype(outputs[0], np.int16, "output")
        self.require_dtype(outputs[1], np.bool_, "output_valid")
        if len(x.shape) != 1 or x.shape[0] < self.num_channels:
            raise self.fail(f"input {list(x.shape)} must be 1-D with num_channels={self.num_channels} values")
        return [(self.buffer_size,), ()]

    def eval(self, inputs, outputs):
        frame = inputs[0][:self.num_channels]
        queue = np.concatenate([self.queue, frame])
        if not self.has_first_frame:  # the first frame stands in for the missing left context
            queue = np.concatenate([queue] + [frame] * self.left)
            self.has_first_frame = True
        valid = queue.size >= self.buffer_size
        if valid:
            self.last_output = queue[:self.buffer_size].copy()
            queue = queue[self.num_channels * self.step:]
        self.queue = queue
        return [self.last_output.copy(), np.array(valid)]

"""Padding, space/depth/batch rearrangements and TOPK_V2.

All are pure data movement (``kind="any"``): quantized tensors keep their
values; padding inserts the output's zero point (TFLite's PAD and
SPACE_TO_BATCH_ND do the same), PADV2 inserts its constant_values input as is.

* PAD / PADV2: the output is filled with the pad value, then the input copied
  into a precomputed window.
* MIRROR_PAD: per padded axis an index array (REFLECT mirrors around the edge
  element, SYMMETRIC includes it), applied with ``np.take`` axis by axis.
* DEPTH_TO_SPACE / SPACE_TO_DEPTH / SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND:
  reshape, transpose, reshape (NHWC, channel-major blocks as TFLite).
* TOPK_V2: largest k along the last axis, sorted descending; equal values keep
  the lower index first, as TFLite's TopContainer orders them.
* REVERSE_SEQUENCE: per batch entry b, the first ``seq_lengths[b]`` elements
  along ``seq_dim`` are reversed, the rest copied; one ``take_along_axis`` with
  an index array built from the lengths.
"""
from __future__ import annotations

import numpy as np

from .base import Kernel, register
from .shape_ops import PlannedKernel, int_vector


def _paddings(kernel, value, rank: int) -> np.ndarray:
    pads = np.asarray(value).astype(np.int64)
    if pads.shape != (rank, 2):
        raise kernel.fail(f"paddings must have shape [{rank}, 2], got {list(pads.shape)}")
    if np.any(pads < 0):
        raise kernel.fail(f"paddings must be non-negative, got {pads.tolist()}")
    return pads


@register(("PAD", "PADV2"), kind="any")
class Pad(PlannedKernel):
    value_inputs = (1,)

    def setup(self, inputs, outputs):
        out = outputs[0]
        self.pad_value = None  # PADV2 reads its constant per eval unless constant
        const_in = inputs[2] if len(inputs) > 2 else None
        if const_in is not None:
            if const_in.data is not None:
                self.pad_value = np.asarray(const_in.data).reshape(-1)[0]
        elif out.quantized:
            self.pad_value = int(out.zero_point[0])
        else:
            self.pad_value = 0

    def plan(self, shapes, values):
        shape = shapes[0]
        pads = _paddings(self, values[1], len(shape))
        self.window = tuple(slice(int(b), int(b) + d) for (b, _), d in zip(pads, shape))
        self.out_shape = tuple(int(d + b + a) for d, (b, a) in zip(shape, pads))
        return [self.out_shape]

    def compute(self, inputs):
        x = inputs[0]
        value = self.pad_value if self.pad_value is not None else np.asarray(inputs[2]).reshape(-1)[0]
        out = np.full(self.out_shape, value, dtype=self.out_specs[0].dtype)
        out[self.window] = x
        return [out]


@register("MIRROR_PAD", kind="any")
class MirrorPad(PlannedKernel):
    value_inputs = (1,)

    def plan(self, shapes, values):
        shape = shapes[0]
        pads = _paddings(self, values[1], len(shape))
        mode = int(self.options.get("mode", 0) or 0)
        if mode not in (0, 1):
            raise self.fail(f"unknown mirror pad mode {mode}")
        extra = 1 if mode == 0 else 0  # REFLECT skips the edge element
        self.takes = []
        out = []
        for axis, (d, (before, after)) in enumerate(zip(shape, pads)):
            out.append(int(d + before + after))
            if not before and not after:
                continue
            if before > d - extra or after > d - extra:
                raise self.fail(f"padding {[int(before), int(after)]} too large for dimension {axis} of size {d} "
                                f"in {'REFLECT' if mode == 0 else 'SYMMETRIC'} mode")
            pos = np.arange(-before, d + after)
            # mirror into [0, d): below 0 reflect around 0 (or -0.5), above d-1 around d-1 (or d-0.5)
            idx = np.where(pos < 0, -pos - 1 + extra, pos)
            idx = np.where(idx >= d, 2 * d - 1 - idx - extra, idx)
            self.takes.append((axis, idx))
        return [out]

    def compute(self, inputs):
        x = inputs[0]
        for axis, idx in self.takes:
            x = np.take(x, idx, axis=axis)
        return [x]


def _block_size(kernel) -> int:
    b = int(kernel.options.get("block_size", 0) or 0)
    if b < 1:
        raise kernel.fail(f"block_size must be positive, got {b}")
    return b


class DepthSpaceKernel(PlannedKernel):
    """DEPTH_TO_SPACE / SPACE_TO_DEPTH on NHWC: reshape to 6-D, swap the two middle axes, reshape."""

    def plan(self, shapes, values):
        if len(shapes[0]) != 4:
            raise self.fail(f"input must be 4-D NHWC, got {shapes[0]}")
        self.split, self.out_shape = self.plan_nhwc(*shapes[0], _block_size(self))
        return [self.out_shape]

    def plan_nhwc(self, n: int, h: int, w: int, c: int, b: int) -> tuple[tuple, tuple]:
        """(6-D split shape, output shape) for an [n, h, w, c] input and block size b."""
        raise NotImplementedError

    def compute(self, inputs):
        return [inputs[0].reshape(self.split).transpose(0, 1, 3, 2, 4, 5).reshape(self.out_shape)]


@register("DEPTH_TO_SPACE", kind="any")
class DepthToSpace(DepthSpaceKernel):
    def plan_nhwc(self, n, h, w, c, b):
        if c % (b * b):
            raise self.fail(f"depth {c} is not divisible by block_size^2 = {b * b}")
        return (n, h, w, b, b, c // (b * b)), (n, h * b, w * b, c // (b * b))


@register("SPACE_TO_DEPTH", kind="any")
class SpaceToDepth(DepthSpaceKernel):
    def plan_nhwc(self, n, h, w, c, b):
        if h % b or w % b:
            raise self.fail(f"height {h} and width {w} must be divisible by block_size {b}")
        return (n, h // b, b, w // b, b, c), (n, h // b, w // b, b * b * c)


def _block_and_paddings(kernel, values, shape, divides_batch: bool) -> tuple[list[int], np.ndarray]:
    """block_shape (input 1) checked against the input ``shape`` (and its batch, for BATCH_TO_SPACE_ND),
    and the [M, 2] paddings or crops (input 2)."""
    block = int_vector(kernel, values[1], "block_shape")
    fits = len(shape) > len(block) and all(b >= 1 for b in block)
    if fits and divides_batch:
        fits = shape[0] % int(np.prod(block, dtype=np.int64)) == 0
    if not fits:
        raise kernel.fail(f"block_shape {block} does not fit input shape {shape}")
    m = len(block)
    return block, (_paddings(kernel, values[2], m) if m else np.zeros((0, 2), np.int64))


class BlockKernel(PlannedKernel):
    """SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND: planned from block_shape and paddings (or crops)."""

    value_inputs = (1, 2)
    divides_batch = False  # the block product must divide the input batch

    def plan(self, shapes, values):
        block, pads = _block_and_paddings(self, values, shapes[0], self.divides_batch)
        return self.plan_blocks(shapes[0], block, pads)

    def plan_blocks(self, shape, block: list[int], pads: np.ndarray) -> list:
        raise NotImplementedError


@register("SPACE_TO_BATCH_ND", kind="any")
class SpaceToBatchNd(BlockKernel):
    def plan_blocks(self, shape, block, pads):
        m = len(block)
        out = self.out_specs[0]
        self.pad_value = int(out.zero_point[0]) if out.quantized else 0
        padded = [int(shape[1 + i] + pads[i, 0] + pads[i, 1]) for i in range(m)]
        for i, (p, b) in enumerate(zip(padded, block)):
            if p % b:
                raise self.fail(f"padded spatial dimension {i} ({p}) is not divisible by block {b}")
        rest = list(shape[1 + m:])
        self.padded_shape = (shape[0], *padded, *rest)
        self.window = (slice(None),) + tuple(slice(int(pads[i, 0]), int(pads[i, 0]) + shape[1 + i])
                                              for i in range(m))
        split = [shape[0]]
        for p, b in zip(padded, block):
            split += [p // b, b]
        self.split = split + rest
        # [batch, s1, b1, s2, b2, ..., rest] -> [b1, b2, ..., batch, s1, s2, ..., rest]
        self.perm = ([2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)]
                     + list(range(1 + 2 * m, 1 + 2 * m + len(rest))))
        self.out_shape = (shape[0] * int(np.prod(block, dtype=np.int64)),
                          *[p // b for p, b in zip(padded, block)], *rest)
        return [self.out_shape]

    def compute(self, inputs):
        padded = np.full(self.padded_shape, self.pad_value, dtype=inputs[0].dtype)
        padded[self.window] = inputs[0]
        return [padded.reshape(self.split).transpose(self.perm).reshape(self.out_shape)]


@register("BATCH_TO_SPACE_ND", kind="any")
class BatchToSpaceNd(BlockKernel):
    divides_batch = True

    def plan_blocks(self, shape, block, crops):
        m = len(block)
        batch = shape[0] // int(np.prod(block, dtype=np.int64))
        rest = list(shape[1 + m:])
        self.split = [*block, batch, *shape[1:1 + m], *rest]
        # [b1, .., bm, batch, s1, .., sm, rest] -> [batch, s1, b1, s2, b2, ..., rest]
        perm = [m]
        for i in range(m):
            perm += [m + 1 + i, i]
        self.perm = perm + list(range(2 * m + 1, 2 * m + 1 + len(rest)))
        full = [shape[1 + i] * block[i] for i in range(m)]
        self.merged = (batch, *full, *rest)
        self.window = (slice(None),) + tuple(slice(int(crops[i, 0]), full[i] - int(crops[i, 1])) for i in range(m))
        out = [batch] + [full[i] - int(crops[i].sum()) for i in range(m)] + rest
        if any(d < 0 for d in out):
            raise self.fail(f"crops {crops.tolist()} exceed the spatial size {full}")
        return [out]

    def compute(self, inputs):
        merged = inputs[0].reshape(self.split).transpose(self.perm).reshape(self.merged)
        return [merged[self.window]]


@register("TOPK_V2", kind="any")
class TopKV2(PlannedKernel):
    value_inputs = (1,)

    def plan(self, shapes, values):
        shape = shapes[0]
        if not shape:
            raise self.fail("input must have at least one dimension")
        k = int_vector(self, values[1], "k")[0]
        if not 0 <= k <= shape[-1]:
            raise self.fail(f"k = {k} out of range for last dimension {shape[-1]}")
        self.k = k
        self.last = shape[-1]
        out = tuple(shape[:-1]) + (k,)
        return [out, out]

    def compute(self, inputs):
        x = inputs[0]
        # stable ascending sort of the reversed row, read backwards: descending, ties by lower index
        order = np.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1][..., :self.k]
        indices = (self.last - 1) - order
        values = np.take_along_axis(x, indices, axis=-1)
        return [values, indices.astype(self.out_specs[1].dtype)]


REVERSE_SEQUENCE_TYPES = tuple(np.dtype(t) for t in (np.float32, np.uint8, np.int16, np.int32, np.int64))


@register("REVERSE_SEQUENCE", kind="any")
class ReverseSequence(Kernel):
    """Inputs: the data and ``seq_lengths`` (int32/int64 [batch]); options seq_dim, batch_dim."""

    def prepare(self, inputs, outputs):
        x, lengths = (list(inputs) + [None, None])[:2]
        if len(inputs) != 2 or lengths is None or x is None:
            raise self.fail("expects two inputs: the data and seq_lengths")
        if x.dtype not in REVERSE_SEQUENCE_TYPES:
            raise self.fail(f"unsupported input type {x.dtype} (LiteRT takes float32, uint8, int16, int32, int64)")
        if lengths.dtype not in (np.dtype(np.int32), np.dtype(np.int64)) or len(lengths.shape) != 1:
            raise self.fail(f"seq_lengths must be an int32/int64 vector, got {lengths.dtype} {list(lengths.shape)}")
        rank = len(x.shape)
        self.seq_dim = int(self.options.get("seq_dim", 0) or 0)
        self.batch_dim = int(self.options.get("batch_dim", 0) or 0)
        if not (0 <= self.seq_dim < rank and 0 <= self.batch_dim < rank) or self.seq_dim == self.batch_dim:
            raise self.fail(f"seq_dim {self.seq_dim} and batch_dim {self.batch_dim} must be distinct "
                            f"dimensions of the rank-{rank} input")
        if lengths.shape[0] != x.shape[self.batch_dim]:
            raise self.fail(f"seq_lengths has {lengths.shape[0]} entries, the batch dimension "
                            f"{self.batch_dim} has {x.shape[self.batch_dim]}")
        self.rank, self.steps = rank, x.shape[self.seq_dim]
        self.index = None if lengths.data is None else self.gather_index(lengths.data)
        return [tuple(x.shape)]

    def gather_index(self, lengths: np.ndarray) -> np.ndarray:
        """Source positions along seq_dim, shaped to broadcast against the input."""
        lengths = np.asarray(lengths).astype(np.int64)
        if lengths.size and int(lengths.max()) > self.steps:
            raise self.fail(f"seq_lengths {lengths.tolist()} exceed the sequence dimension ({self.steps})")
        lengths = np.maximum(lengths, 0)[:, None]
        pos = np.arange(self.steps)[None, :]
        index = np.where(pos < lengths, lengths - 1 - pos, pos)  # [batch, steps]
        shape = [1] * self.rank
        shape[self.batch_dim], shape[self.seq_dim] = index.shape
        if self.batch_dim > self.seq_dim:  # keep the two axes in the input's order
            index = index.T
        return np.ascontiguousarray(index).reshape(shape)

    def eval(self, inputs, outputs):
        index = self.index if self.index is not None else self.gather_index(inputs[1])
        return [np.take_along_axis(inputs[0], index, axis=self.seq_dim)]

"""TFLite's sparse tensor format: decoding to dense numpy and encoding from it.

A sparse tensor of dense shape ``S`` (rank n) with ``k`` blocked dimensions
(``block_map``: which original dimensions are blocked, with the block sizes in
``dim_metadata[n + j].dense_size``) is viewed as an *expanded* tensor of rank
n + k: dimension ``d`` becomes ``S[d] / block`` when blocked, and the block
dimensions follow. ``traversal_order`` lists the expanded dimensions from the
outermost to the innermost level of storage; ``dim_metadata[l]`` describes
level ``l``:

* DENSE (0): every coordinate 0..dense_size-1 is present;
* SPARSE_CSR (1): under parent position ``p`` the present coordinates are
  ``array_indices[array_segments[p]:array_segments[p+1]]``, and a child's
  position is its index into ``array_indices``.

A DENSE child of position ``p`` at a level of size ``s`` has position
``p * s + i``. The positions reached at the last level index the values
buffer. When encoding, a sparse level keeps a coordinate iff the sub-tensor
below it holds a non-zero; dense levels keep everything (so blocks are stored
whole, zeros included).

Everything is vectorised level by level (no Python loop over elements).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .errors import ModelError
from .ir import DimensionMetadata, Sparsity

DENSE, SPARSE_CSR = 0, 1


def _expanded_dims(shape: Sequence[int], sparsity: Sparsity) -> tuple[list[int], list[int]]:
    """(expanded sizes in original order [dims..., blocks...], block sizes)."""
    n = len(shape)
    k = len(sparsity.block_map)
    if len(sparsity.dim_metadata) != n + k or len(sparsity.traversal_order) != n + k:
        raise ModelError(f"sparsity of a rank-{n} tensor with {k} block dimension(s) needs {n + k} "
                         f"traversal entries and dim_metadata, got {len(sparsity.traversal_order)} and "
                         f"{len(sparsity.dim_metadata)}")
    if sorted(sparsity.traversal_order) != list(range(n + k)):
        raise ModelError(f"traversal_order {list(sparsity.traversal_order)} is not a permutation of 0..{n + k - 1}")
    blocks = []
    sizes = list(shape)
    for j, d in enumerate(sparsity.block_map):
        if not 0 <= d < n:
            raise ModelError(f"block_map entry {d} is not a dimension of a rank-{n} tensor")
        level = list(sparsity.traversal_order).index(n + j)
        b = int(sparsity.dim_metadata[level].dense_size)
        if b <= 0 or shape[d] % b:
            raise ModelError(f"block size {b} does not divide dimension {d} of size {shape[d]}")
        blocks.append(b)
        sizes[d] = shape[d] // b
    return sizes + blocks, blocks


def _ranges(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated aranges [starts[i], stops[i]) and the owner i of each element."""
    counts = np.maximum(stops - starts, 0)
    owner = np.repeat(np.arange(starts.size), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return starts[owner] + offsets, owner


def densify(values: np.ndarray, shape: Sequence[int], sparsity: Sparsity) -> np.ndarray:
    """The dense array of ``shape`` encoded by ``values`` (1-D) and ``sparsity``."""
    shape = tuple(int(d) for d in shape)
    values = np.asarray(values).reshape(-1)
    sizes, _ = _expanded_dims(shape, sparsity)
    order = list(sparsity.traversal_order)
    pos = np.zeros(1, np.int64)
    coords: list[np.ndarray] = []
    for level, dim in enumerate(order):
        meta = sparsity.dim_metadata[level]
        if meta.format == DENSE:
            s = int(meta.dense_size)
            if s != sizes[dim]:
                raise ModelError(f"dim_metadata[{level}].dense_size {s} != expanded dimension size {sizes[dim]}")
            pos = (pos[:, None] * s + np.arange(s)).reshape(-1)
            coords = [np.repeat(c, s) for c in coords] + [np.tile(np.arange(s), pos.size // s if s else 0)]
        elif meta.format == SPARSE_CSR:
            seg = np.asarray(meta.array_segments, np.int64)
            idx = np.asarray(meta.array_indices, np.int64)
            if seg.size < (int(pos.max()) + 2 if pos.size else 1):
                raise ModelError(f"dim_metadata[{level}].array_segments has {seg.size} entries, "
                                 f"too few for {pos.size} parent positions")
            new_pos, owner = _ranges(seg[pos], seg[pos + 1])
            if new_pos.size and (new_pos.max() >= idx.size):
                raise ModelError(f"dim_metadata[{level}] segments point past its {idx.size} indices")
            coord = idx[new_pos]
            if coord.size and (coord.min() < 0 or coord.max() >= sizes[dim]):
                raise ModelError(f"dim_metadata[{level}] has an index outside 0..{sizes[dim] - 1}")
            coords = [c[owner] for c in coords] + [coord]
            pos = new_pos
        else:
            raise ModelError(f"dim_metadata[{level}]: unknown format {meta.format}")
    if pos.size and pos.max() >= values.size:
        raise ModelError(f"sparse tensor needs {int(pos.max()) + 1} values, the buffer holds {values.size}")
    n = len(shape)
    by_dim = {dim: coords[level] for level, dim in enumerate(order)}
    dense_coords = []
    for d in range(n):
        c = by_dim[d]
        if d in sparsity.block_map:
            j = list(sparsity.block_map).index(d)
            c = c * sizes[n + j] + by_dim[n + j]
        dense_coords.append(c)
    out = np.zeros(shape, values.dtype)
    if pos.size:
        out[tuple(dense_coords)] = values[pos]
    return out


def sparsify(dense: np.ndarray, traversal_order: Sequence[int] | None = None,
             block_map: Sequence[int] = (), block_size: Sequence[int] = (),
             formats: Sequence[int] | None = None) -> tuple[np.ndarray, Sparsity]:
    """Encode ``dense`` as (values, Sparsity).

    ``block_map``/``block_size``: the blocked dimensions and their block sizes;
    ``traversal_order`` defaults to the dimensions then the block dimensions;
    ``formats`` (one per level) defaults to DENSE for the first level and every
    block level, SPARSE_CSR for the others (TFLite's converter's choice).
    """
    dense = np.asarray(dense)
    shape = dense.shape
    n, k = dense.ndim, len(block_map)
    if len(block_size) != k:
        raise ValueError("block_map and block_size must have the same length")
    order = list(range(n + k)) if traversal_order is None else [int(d) for d in traversal_order]
    if sorted(order) != list(range(n + k)):
        raise ValueError(f"traversal_order {order} is not a permutation of 0..{n + k - 1}")
    if formats is None:
        formats = [DENSE if (level == 0 or dim >= n) else SPARSE_CSR for level, dim in enumerate(order)]
    # expanded tensor: split each blocked dimension into (outer, inner), then order as traversal
    split_shape, axes_of = [], {}
    for d in range(n):
        if d in block_map:
            b = int(block_size[list(block_map).index(d)])
            if b <= 0 or shape[d] % b:
                raise ValueError(f"block size {b} does not divide dimension {d} of size {shape[d]}")
            axes_of[d] = len(split_shape)
            axes_of[n + list(block_map).index(d)] = len(split_shape) + 1
            split_shape += [shape[d] // b, b]
        else:
            axes_of[d] = len(split_shape)
            split_shape.append(shape[d])
    expanded = dense.reshape(split_shape).transpose([axes_of[d] for d in order])
    sizes = expanded.shape
    nonzero = expanded != 0
    flat = np.ascontiguousarray(expanded).reshape(-1)
    metas: list[DimensionMetadata] = []
    prefix = np.zeros(1, np.int64)  # kept flat indices into the product of the levels so far
    for level in range(n + k):
        s = sizes[level]
        cand = (prefix[:, None] * s + np.arange(s)).reshape(-1)
        if formats[level] == DENSE:
            metas.append(DimensionMetadata(format=DENSE, dense_size=int(s)))
            prefix = cand
            continue
        inner = int(np.prod(sizes[level + 1:], dtype=np.int64))
        present = nonzero.reshape(-1, inner).any(axis=1)[cand]
        counts = present.reshape(prefix.size, s).sum(axis=1)
        segments = np.concatenate([[0], np.cumsum(counts)])
        indices = np.tile(np.arange(s), prefix.size)[present]
        index_dtype = np.uint8 if s <= 0xFF else np.uint16 if s <= 0xFFFF else np.int32
        seg_dtype = np.uint16 if segments[-1] <= 0xFFFF else np.int32
        metas.append(DimensionMetadata(format=SPARSE_CSR, dense_size=0,
                                       array_segments=segments.astype(seg_dtype),
                                       array_indices=indices.astype(index_dtype)))
        prefix = cand[present]
    values = flat[prefix]
    return values, Sparsity(traversal_order=order, block_map=[int(d) for d in block_map], dim_metadata=metas)


def layout_of(sparsity: Sparsity, ndim: int) -> dict:
    """The encoding choices of an existing sparse tensor, as :func:`sparsify` keywords:
    traversal order, blocked dimensions, block sizes and the format of every level."""
    order = [int(d) for d in sparsity.traversal_order]
    block_map = [int(d) for d in sparsity.block_map]
    block_size = [int(sparsity.dim_metadata[order.index(ndim + j)].dense_size) for j in range(len(block_map))]
    formats = [int(m.format) for m in sparsity.dim_metadata]
    return {"traversal_order": order, "block_map": block_map, "block_size": block_size, "formats": formats}


def sparsify_like(dense: np.ndarray, sparsity: Sparsity) -> tuple[np.ndarray, Sparsity]:
    """Encode ``dense`` with the same layout (order, blocks, level formats) as ``sparsity``;
    the index arrays are recomputed, so values that became zero are dropped."""
    dense = np.asarray(dense)
    return sparsify(dense, **layout_of(sparsity, dense.ndim))


def random_sparse(dense: np.ndarray) -> tuple[np.ndarray, Sparsity]:
    """Unstructured sparsity of a 2-D weight: DENSE rows, SPARSE_CSR columns (TFLite's default)."""
    return sparsify(dense, [0, 1], (), (), [DENSE, SPARSE_CSR])


def block_sparse(dense: np.ndarray, block: tuple[int, int] = (1, 4)) -> tuple[np.ndarray, Sparsity]:
    """Block sparsity of a 2-D weight in blocks of ``block`` (TFLite's 1x4 / 1x16 FC formats for (1, b))."""
    rows, cols = block
    if rows == 1:
        return sparsify(dense, [0, 1, 2], [1], [cols], [DENSE, SPARSE_CSR, DENSE])
    return sparsify(dense, [0, 1, 2, 3], [0, 1], [rows, cols], [DENSE, SPARSE_CSR, DENSE, DENSE])


def sparsity_ratio(values: np.ndarray, shape: Sequence[int]) -> float:
    """Fraction of the dense elements that are not stored."""
    total = int(np.prod(shape, dtype=np.int64))
    return 1.0 - (np.asarray(values).size / total if total else 0.0)

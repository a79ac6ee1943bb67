"""Table lookups: EMBEDDING_LOOKUP, EMBEDDING_LOOKUP_SPARSE, HASHTABLE_LOOKUP
(LiteRT's embedding_lookup.cc, embedding_lookup_sparse.cc, hashtable_lookup.cc).

* EMBEDDING_LOOKUP(ids int32[n], table[rows, ...]) -> table[ids]. Any dtype is copied as is.
  A float32/float16 output of an int8/uint8 table is LiteRT's *hybrid* lookup: row values times
  the table's scale (per tensor, or per row with quantized_dimension 0); the zero point must be
  0 and is not used. LiteRT reads uint8 tables through an ``int8_t`` pointer, so uint8 values
  above 127 come out negative; a table without a scale gives zeros (LiteRT's ``params.scale``
  is then 0). Both quirks are reproduced.
* EMBEDDING_LOOKUP_SPARSE(ids, indices[n, r], dense_shape[r], weights[n], table): a sparse
  [d0..d(r-1)] tensor of ids; for every position of its first r-1 dimensions the weighted sum
  of the table rows of its ids, combined per ``combiner`` (0 SUM, 1 MEAN: / sum of weights,
  2 SQRTN: / sqrt(sum of squared weights)). LiteRT combines per *run* of consecutive entries of
  the same output position (it assumes sorted indices); a position met in several runs is
  divided again at each run's end, as here (that rare case loops over runs).
* HASHTABLE_LOOKUP(lookups int32[n], keys int32[k] (sorted), values[k, ...]) -> (values of the
  matching keys, zeros where none; hits uint8[n]).
* LSH_PROJECTION(hash float32[num_hash, num_bits], input[rows, ...], weight float32[rows]?):
  for every seed of ``hash`` the key (seed's 4 bytes + one input row's bytes) is hashed with
  Farmhash Fingerprint64; the bit is 1 when the (weighted) float64 sum over rows of the signed
  hashes is > 0. DENSE (type 2) outputs all bits; SPARSE (type 1) packs each hash's bits
  (first bit most significant) and adds ``i << num_bits`` for hash i.
"""
from __future__ import annotations

import numpy as np

from ..schema import TensorType
from .base import Kernel, register
from .farmhash import fingerprint64

_HYBRID_VALUE_TYPES = (np.dtype(np.int8), np.dtype(np.uint8))
_HYBRID_OUTPUT_TYPES = (np.dtype(np.float32), np.dtype(np.float16))


@register("EMBEDDING_LOOKUP", kind="any")
class EmbeddingLookup(Kernel):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "ids, table", 2)
        ids, table = inputs
        out = outputs[0]
        if len(ids.shape) != 1 or ids.dtype != np.int32:
            raise self.fail(f"ids must be a 1-D int32 tensor, got {ids.dtype} of shape {list(ids.shape)}")
        if len(table.shape) < 2:
            raise self.fail(f"the table must have at least 2 dimensions, got shape {list(table.shape)}")
        packed = self.node.tensor(self.op_desc.inputs[1]).dtype in (TensorType.INT4, TensorType.INT2)
        if packed:
            raise self.fail("int4/int2 (packed or blockwise-quantized) tables are not supported")
        self.rows = table.shape[0]
        self.hybrid = table.dtype != out.dtype and out.dtype in _HYBRID_OUTPUT_TYPES
        if table.quantized:
            if table.dtype in _HYBRID_VALUE_TYPES and out.dtype == np.float32 and table.zero_point.size \
                    and table.zero_point[0] != 0:
                raise self.fail("a hybrid lookup needs a symmetric table (zero point 0)")
            if table.scale.size > 1:
                if table.dtype not in _HYBRID_VALUE_TYPES or out.dtype not in _HYBRID_OUTPUT_TYPES:
                    raise self.fail("per-axis quantization needs an int8/uint8 table and a float output")
                if table.quantized_dimension != 0 or table.scale.size != self.rows:
                    raise self.fail(f"per-axis scales must be per row (quantized_dimension 0, {self.rows} "
                                    f"scales), got {table.scale.size} along dimension {table.quantized_dimension}")
        if self.hybrid:
            if table.dtype not in _HYBRID_VALUE_TYPES:
                raise self.fail(f"a {out.dtype} output needs a {out.dtype}, int8 or uint8 table, got {table.dtype}")
            if table.scale.size > 1:
                self.row_scales = np.asarray(table.scale, np.float32)
            else:
                s = table.scale[0] if table.scale.size == 1 else 0.0
                self.row_scales = np.full(self.rows, s, np.float32)
        elif table.dtype != out.dtype:
            raise self.fail(f"output type {out.dtype} differs from the table's {table.dtype}")
        return [(ids.shape[0],) + tuple(table.shape[1:])]

    def check_ids(self, ids: np.ndarray) -> None:
        bad = (ids < 0) | (ids >= self.rows)
        if bad.any():
            raise self.fail(f"index out of bounds: got {int(ids[bad][0])}, bounds are [0, {self.rows - 1}]")

    def eval(self, inputs, outputs):
        ids, table = inputs
        self.check_ids(ids)
        out = outputs[0]
        if not self.hybrid:
            np.take(table, ids, axis=0, out=out)
            return
        rows = table[ids].view(np.int8).astype(np.float32)  # uint8 read as int8, as LiteRT
        scales = self.row_scales[ids].reshape((-1,) + (1,) * (rows.ndim - 1))
        np.multiply(rows, scales, out=rows)
        out[...] = rows
        return


_COMBINERS = {0: "SUM", 1: "MEAN", 2: "SQRTN"}


@register("EMBEDDING_LOOKUP_SPARSE", kind="any")
class EmbeddingLookupSparse(Kernel):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "ids, indices, dense_shape, weights, table", 5)
        ids, indices, shape, weights, table = inputs
        for name, spec, rank, dtype in (("ids", ids, 1, np.int32), ("indices", indices, 2, np.int32),
                                        ("dense_shape", shape, 1, np.int32), ("weights", weights, 1, np.float32)):
            if len(spec.shape) != rank or spec.dtype != dtype:
                raise self.fail(f"{name} must be a {rank}-D {np.dtype(dtype)} tensor, got {spec.dtype} "
                                f"of shape {list(spec.shape)}")
        n = indices.shape[0]
        if ids.shape[0] != n or weights.shape[0] != n:
            raise self.fail(f"ids ({ids.shape[0]}), indices ({n}) and weights ({weights.shape[0]}) "
                            "must have the same length")
        if len(table.shape) < 2:
            raise self.fail(f"the table must have at least 2 dimensions, got shape {list(table.shape)}")
        if outputs[0].dtype != np.float32 or table.dtype != np.float32:
            raise self.fail("table and output must be float32")
        combiner = int(self.options.get("combiner", 0))
        if combiner not in _COMBINERS:
            raise self.fail(f"unknown combiner {combiner}")
        self.combiner = _COMBINERS[combiner]
        self.rank = indices.shape[1]
        self.embedding_shape = tuple(table.shape[1:])
        return [None]

    def eval(self, inputs, outputs):
        ids, indices, dense_shape, weights, table = inputs
        r = self.rank
        if dense_shape.shape[0] != r:
            raise self.fail(f"dense_shape has {dense_shape.shape[0]} entries, indices rows have {r}")
        lookup_shape = tuple(int(d) for d in dense_shape[:r - 1])
        rows = table.shape[0]
        bad = (ids < 0) | (ids >= rows)
        if bad.any():
            raise self.fail(f"index out of bounds: got {int(ids[bad][0])}, bounds are [0, {rows - 1}]")
        pos = indices[:, :r - 1]
        limits = np.asarray(lookup_shape, np.int64)
        bad = (pos < 0) | (pos >= limits)
        if bad.any():
            i, k = np.argwhere(bad)[0]
            raise self.fail(f"index {int(pos[i, k])} at dimension {int(k)} is out of bounds [0, {lookup_shape[k]})")
        buckets = np.ravel_multi_index(pos.T, lookup_shape) if r > 1 else np.zeros(len(ids), np.intp)
        n_out = int(np.prod(lookup_shape, dtype=np.int64))
        emb = int(np.prod(self.embedding_shape, dtype=np.int64))
        out = np.zeros((n_out, emb), np.float32)
        contrib = table.reshape(rows, emb)[ids] * weights[:, None]
        if self.combiner == "SUM" or not len(ids):
            np.add.at(out, buckets, contrib)
        else:
            self.combine_runs(out, buckets, contrib, weights)
        return [out.reshape(lookup_shape + self.embedding_shape)]

    def combine_runs(self, out: np.ndarray, buckets: np.ndarray, contrib: np.ndarray,
                     weights: np.ndarray) -> None:
        """Sum each run of equal consecutive buckets, then divide the bucket's row by the run's
        total weight (MEAN) or root of summed squared weights (SQRTN), run after run."""
        new_run = np.r_[True, buckets[1:] != buckets[:-1]]
        starts = np.flatnonzero(new_run)
        run_of = np.cumsum(new_run) - 1
        totals = np.zeros(starts.size, np.float32)
        np.add.at(totals, run_of, weights if self.combiner == "MEAN" else weights * weights)
        divisors = totals if self.combiner == "MEAN" else np.sqrt(totals)
        run_buckets = buckets[starts]
        if np.unique(run_buckets).size == starts.size:  # sorted indices: every bucket is one run
            np.add.at(out, buckets, contrib)
            out[run_buckets] /= divisors[:, None]
            return
        ends = np.r_[starts[1:], buckets.size]
        for b, lo, hi, d in zip(run_buckets, starts, ends, divisors):  # rare: a bucket in several runs
            np.add.at(out, np.full(hi - lo, b), contrib[lo:hi])
            out[b] /= d


@register("HASHTABLE_LOOKUP", kind="any")
class HashtableLookup(Kernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 3 or len(outputs) != 2 or None in inputs:
            raise self.fail("needs inputs (lookups, keys, values) and outputs (values, hits)")
        lookups, keys, values = inputs
        if lookups.dtype != np.int32 or len(lookups.shape) != 1:
            raise self.fail(f"lookups must be 1-D int32, got {lookups.dtype} of shape {list(lookups.shape)}")
        if keys.dtype != np.int32 or len(keys.shape) != 1:
            raise self.fail(f"keys must be 1-D int32, got {keys.dtype} of shape {list(keys.shape)}")
        if len(values.shape) < 1 or values.shape[0] != keys.shape[0]:
            raise self.fail(f"values need one row per key ({keys.shape[0]}), got shape {list(values.shape)}")
        if outputs[1].dtype != np.uint8:
            raise self.fail(f"the hits output must be uint8, got {outputs[1].dtype}")
        if outputs[0].dtype != values.dtype:
            raise self.fail(f"output type {outputs[0].dtype} differs from the values' {values.dtype}")
        return [(lookups.shape[0],) + tuple(values.shape[1:]), (lookups.shape[0],)]

    def eval(self, inputs, outputs):
        lookups, keys, values = inputs
        out, hits = outputs
        pos = np.searchsorted(keys, lookups)
        pos_in = np.minimum(pos, max(keys.size - 1, 0))
        found = (pos < keys.size) & (keys[pos_in] == lookups) if keys.size else np.zeros(lookups.shape, bool)
        hits[...] = found
        if values.dtype == object:
            out[...] = b""
        else:
            out.fill(0)
        if found.any():
            out[found] = values[pos_in[found]]


_LSH_SPARSE, _LSH_DENSE = 1, 2


@register("LSH_PROJECTION", kind="any")
class LshProjection(Kernel):
    """Sign bits of random projections of the input rows (see the module docstring)."""

    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "hash, input[, weight]", 2, optional=1)
        seeds, x = inputs[0], inputs[1]
        weight = inputs[2] if len(inputs) == 3 else None
        if len(seeds.shape) != 2 or seeds.dtype != np.float32:
            raise self.fail(f"hash must be a 2-D float32 tensor, got {seeds.dtype} of shape {list(seeds.shape)}")
        if seeds.shape[1] > 32:
            raise self.fail(f"at most 32 bits per hash, got {seeds.shape[1]}")
        if len(x.shape) < 1:
            raise self.fail("the input needs at least one dimension")
        if x.dtype.kind == "O":
            raise self.fail("string inputs are not supported")
        if weight is not None and (len(weight.shape) != 1 or weight.shape[0] != x.shape[0]
                                   or weight.dtype != np.float32):
            raise self.fail(f"weight must be float32 with one value per input row ({x.shape[0]}), got "
                            f"{weight.dtype} of shape {list(weight.shape)}")
        if outputs[0].dtype != np.int32:
            raise self.fail(f"the output must be int32, got {outputs[0].dtype}")
        self.kind = int(self.options.get("type", 0))
        num_hash, num_bits = seeds.shape
        if self.kind == _LSH_SPARSE:
            return [(num_hash,)]
        if self.kind == _LSH_DENSE:
            return [(num_hash * num_bits,)]
        raise self.fail(f"unknown projection type {self.kind} (1 SPARSE, 2 DENSE)")

    def eval(self, inputs, outputs):
        seeds, x = inputs[0], inputs[1]
        weight = inputs[2] if len(inputs) == 3 else None
        num_hash, num_bits = seeds.shape
        rows = x.shape[0]
        items = np.ascontiguousarray(x).reshape(rows, -1).view(np.uint8).reshape(rows, -1)
        seed_bytes = np.ascontiguousarray(seeds, np.float32).reshape(-1, 1).view(np.uint8)  # [seeds, 4]
        n_seeds = seed_bytes.shape[0]
        keys = np.concatenate([np.repeat(seed_bytes, rows, axis=0), np.tile(items, (n_seeds, 1))], axis=1)
        signatures = fingerprint64(keys).view(np.int64).astype(np.float64).reshape(n_seeds, rows)
        if weight is not None:
            signatures *= weight.astype(np.float64)
        score = np.zeros(n_seeds)
        for r in range(rows):  # LiteRT's summation order, vectorised over all seeds
            score += signatures[:, r]
        bits = (score > 0).astype(np.int32).reshape(num_hash, num_bits)
        out = outputs[0]
        if self.kind == _LSH_DENSE:
            out[...] = bits.reshape(-1)
        else:
            powers = np.left_shift(np.int64(1), np.arange(num_bits - 1, -1, -1, dtype=np.int64))
            signature = bits.astype(np.int64) @ powers
            out[...] = (signature + np.arange(num_hash, dtype=np.int64) * (1 << num_bits)).astype(np.int32)

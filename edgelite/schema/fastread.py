"""The fast path of :func:`edgelite.load_model`: FlatBuffer -> IR in one pass.

The checked path (:class:`~edgelite.schema.codec.Decoder` into dicts, then
``reader._ModelBuilder``) spends most of its time in generic per-field work.
This module reads the hot tables -- SubGraph, Tensor, QuantizationParameters,
Buffer, Operator and the all-scalar options tables -- through per-vtable
compiled layouts (:mod:`.layout`: one ``struct`` unpack per table) and builds
the IR objects directly; the rare tables (operator codes, signatures, metadata,
sparsity, custom quantization, vector-valued options...) go through a
:class:`Decoder` that shares the work budget.

It accepts exactly what the checked path accepts, or less:

* the same bounds checks on every offset, vtable, table, field, vector and string;
* the same work budget, charged in the same units for the same items (so a file
  whose offsets reference far more data than it holds is refused by both);
* the reader's checks (tensor types, ranks, buffer and opcode indices,
  quantization counts, external ranges, constant sizes) and ``Model.validate``'s
  cross references (operator and subgraph tensor indices, subgraph indices in
  control-flow options, signature indices), done inline.

It does not report errors: on anything wrong or unusual it raises
:class:`FastPathUnsupported` (or lets a decoding error escape), and the reader
decodes the file again with the checked path, which names the problem. On
files it accepts it produces the same values, of the same types, as the checked
path (``tests/test_fuzz.py`` compares both on corrupted files), creating IR
objects without ``__post_init__``, whose normalisation would not change them.
"""
from __future__ import annotations

from math import prod
from typing import Any

import numpy as np

from ..errors import ModelError
from ..ir import (_SUBGRAPH_OPTION_FIELDS, DimensionMetadata, Model, Operator, Quantization,
                  SignatureDef, Sparsity, Subgraph, Tensor)
from . import TABLES, TENSOR_BITS, TENSOR_DTYPES, TensorType, opcode_name
from .codec import UNION_TABLES, Decoder
from .layout import (INT32_UNPACK, FastPathUnsupported, LayoutCache, int32_tuple,
                     read_string, soffset, uint32, uoffset_targets, utf8_decode, vector_head)

# No TFLite kernel handles more than 6 to 8 dimensions; a longer shape is corruption.
MAX_RANK = 64
# Shared read-only empties for tensors whose quantization table has no scale / zero point.
NO_SCALE = np.zeros(0, np.float32)
NO_ZERO_POINT = np.zeros(0, np.int64)
NO_SCALE.flags.writeable = NO_ZERO_POINT.flags.writeable = False

_OPTIONS_UNION = UNION_TABLES["BuiltinOptions"]
_OPTIONS2_UNION = UNION_TABLES["BuiltinOptions2"]
_DETAILS_UNION = UNION_TABLES["QuantizationDetails"]
_F32, _I64, _U8 = np.dtype("<f4"), np.dtype("<i8"), np.dtype("u1")
_NOT_FIXED_SIZE = frozenset({int(TensorType.STRING), int(TensorType.RESOURCE), int(TensorType.VARIANT)})
_PACKED = frozenset(int(t) for t, d in TENSOR_DTYPES.items()
                    if t in (TensorType.INT4, TensorType.UINT4, TensorType.INT2) or d.kind == "O")
# TensorType code -> (numpy dtype, bits per stored element, dtype.str)
_TENSOR_ITEMS = {int(t): (d, TENSOR_BITS[int(t)], d.str) for t, d in TENSOR_DTYPES.items()}
# Types stored as whole numpy elements -> (dtype, itemsize, dtype.str)
_PLAIN = {t: (d, d.itemsize, key) for t, (d, _bits, key) in _TENSOR_ITEMS.items()
          if t not in _PACKED and t not in _NOT_FIXED_SIZE}


def _options_names(tname: str) -> tuple[str, ...] | None:
    """Field names in slot order for options tables made only of scalars in slots
    0..n-1 (read from their layout); None for the others (read by the Decoder)."""
    fields = TABLES[tname]
    if any(kind[0] != "scalar" for _s, _n, kind, _d in fields):
        return None
    if [slot for slot, *_ in fields] != list(range(len(fields))):
        return None
    return tuple(name for _s, name, _k, _d in fields)


_OPTIONS_NAMES = {tname: _options_names(tname) for tname in _OPTIONS_UNION.values()}
# options table -> its fields naming a subgraph (checked against the subgraph count)
_OPTIONS_SUBGRAPH_FIELDS = {
    tname: fields for tname in _OPTIONS_UNION.values()
    if (fields := tuple(n for _s, n, _k, _d in TABLES[tname] if n in _SUBGRAPH_OPTION_FIELDS))}
_new = object.__new__


def _quantization_object(scale, zero_point, qdim: int, low, high, details) -> Quantization:
    """A Quantization without ``__post_init__`` (the values are already normalised)."""
    q = _new(Quantization)
    q.scale = scale
    q.zero_point = zero_point
    q.quantized_dimension = qdim
    q.min = low
    q.max = high
    q.details = details
    return q


class FastModelBuilder:
    """Decode ``buf`` and build its :class:`Model`; see the module docstring."""

    def __init__(self, buf):
        self.buf = buf
        self.dec = Decoder(buf)  # for the rare tables; its budget is synchronised with ours
        self.view, self.size = self.dec.view, self.dec.size
        self.layouts = LayoutCache(self.view, self.size)
        self.tensor_layouts = self.layouts.by_table["Tensor"]
        self.quant_layouts = self.layouts.by_table["QuantizationParameters"]
        self.operator_layouts = self.layouts.by_table["Operator"]
        self.budget = self.dec.budget
        self.writable = not self.view.readonly  # constants of writable buffers are made read-only
        self.buffers: list[tuple[int, int] | None] = []  # (file offset, bytes) or None
        self.u8_cache: dict[int, np.ndarray] = {}
        self.typed_cache: dict[tuple, np.ndarray] = {}

    # -- primitives ---------------------------------------------------------------
    def _check_budget(self) -> None:
        if self.budget < 0:
            raise FastPathUnsupported("work budget exhausted")

    def _layout(self, tname: str, pos: int):
        """Charge one table and return the layout of the table at ``pos``."""
        self.budget -= 1
        if pos + 4 > self.size:
            raise FastPathUnsupported(f"{tname} outside the buffer")
        vt = pos - soffset(self.view, pos)[0]
        lay = self.layouts.by_table[tname].get(vt) or self.layouts.compile(tname, vt)
        if pos + lay.table_size > self.size:
            raise FastPathUnsupported(f"{tname} extends past the buffer")
        return lay

    def _target(self, pos: int, field_offset: int, rel: int) -> int:
        target = pos + field_offset + rel
        if target >= self.size:
            raise FastPathUnsupported("offset past the end of the buffer")
        return target

    def _generic(self, method: str, *args):
        """Run a checked Decoder method on the shared budget (for the rare tables)."""
        self.dec.budget = self.budget
        try:
            return getattr(self.dec, method)(*args)
        finally:
            self.budget = self.dec.budget

    def _ints(self, pos: int, field_offset: int, rel) -> tuple:
        """An int32 vector field as a tuple (empty when absent)."""
        if rel is None:
            return ()
        values = int32_tuple(self.view, self.size, pos + field_offset + rel)
        self.budget -= len(values)
        return values

    def _array(self, pos: int, rel, dtype: np.dtype) -> tuple[np.ndarray, int]:
        """(zero-copy array, element count) of the float32/int64 vector at ``pos + rel``."""
        start = pos + rel
        n = vector_head(self.view, self.size, start, dtype.itemsize)
        if not n:
            return np.zeros(0, dtype), 0
        return np.ndarray((n,), dtype, self.buf, start + 4), n

    def _bytes(self, pos: int, rel: int) -> tuple[int, int]:
        """(data offset, length) of the ubyte vector at ``pos + rel``, charged as the Decoder does."""
        start = pos + rel
        n = vector_head(self.view, self.size, start, 1)
        self.budget -= n >> 4
        return start + 4, n

    def _string(self, pos: int, field_offset: int, rel) -> str | None:
        if rel is None:
            return None
        text, n = read_string(self.view, self.size, pos + field_offset + rel)
        self.budget -= n
        return text

    # -- model ----------------------------------------------------------------------
    def build(self) -> Model:
        view, size = self.view, self.size
        if size < 8:
            raise FastPathUnsupported("too small")
        root = uint32(view, 0)[0]
        if root >= size:
            raise FastPathUnsupported("root offset past the end")
        lay = self._layout("Model", root)
        (version, codes_rel, subgraphs_rel, description_rel, buffers_rel, metadata_buffer_rel,
         metadata_rel, signatures_rel, groups_rel, external_rel) = lay.read(view, root)
        fo = lay.field_offsets
        codes = self._opcodes(root, fo[1], codes_rel)
        if subgraphs_rel is None:
            raise FastPathUnsupported("no subgraphs")
        subgraph_positions = uoffset_targets(view, size, root + fo[2] + subgraphs_rel)
        self.budget -= len(subgraph_positions)
        if not subgraph_positions:
            raise FastPathUnsupported("no subgraphs")
        description = self._string(root, fo[3], description_rel)
        if buffers_rel is not None:
            self._read_buffers(root + fo[4] + buffers_rel)
        extra: dict[str, Any] = {}
        if metadata_buffer_rel is not None:
            value = self._generic("_numeric", self._target(root, fo[5], metadata_buffer_rel),
                                  "int32", "Model", "metadata_buffer")
            if len(value):
                extra["metadata_buffer"] = value
        model = Model(description=description or "", version=version)
        n_sg = len(subgraph_positions)
        for pos in subgraph_positions:
            model.subgraphs.append(self._subgraph(pos, codes, n_sg))
        if metadata_rel is not None:
            raw = self._generic("vector", self._target(root, fo[6], metadata_rel), "table:Metadata",
                                "Model.metadata")
            for mi, md in enumerate(raw):
                model.metadata[md["name"] or f"metadata_{mi}"] = self._u8(md["buffer"])
        if signatures_rel is not None:
            raw = self._generic("vector", self._target(root, fo[7], signatures_rel),
                                "table:SignatureDef", "Model.signature_defs")
            model.signature_defs = signature_defs(raw)
            _check_signature_defs(model)
        for slot, key, rel in ((8, "external_buffer_groups", groups_rel),
                               (9, "external_buffers", external_rel)):
            if rel is not None:
                value = self._generic("vector", self._target(root, fo[slot], rel),
                                      TABLES["Model"][slot][2][1], f"Model.{key}")
                if len(value):
                    extra[key] = value
        model.extra = extra
        self._check_budget()
        return model

    def _opcodes(self, root: int, field_offset: int, rel) -> list[tuple[str, int, str | None]]:
        if rel is None:
            return []
        raw = self._generic("vector", self._target(root, field_offset, rel), "table:OperatorCode",
                            "Model.operator_codes")
        return [(opcode_name(max(c["deprecated_builtin_code"], c["builtin_code"])), c["version"],
                 c["custom_code"]) for c in raw]

    # -- buffers ----------------------------------------------------------------------
    def _read_buffers(self, pos: int) -> None:
        """Where each buffer's bytes are; arrays are only made for the buffers used."""
        view, size = self.view, self.size
        positions = uoffset_targets(view, size, pos)
        self.budget -= len(positions)
        out = self.buffers
        layouts = self.layouts.by_table["Buffer"]
        for bpos in positions:
            self.budget -= 1
            if bpos + 4 > size:
                raise FastPathUnsupported("Buffer outside the buffer")
            vt = bpos - soffset(view, bpos)[0]
            lay = layouts.get(vt) or self.layouts.compile("Buffer", vt)
            if bpos + lay.table_size > size:
                raise FastPathUnsupported("Buffer extends past the buffer")
            if lay.empty:  # the empty buffers TF's converter gives activations
                out.append(None)
                continue
            data_rel, offset, nbytes = lay.getter(lay.unpack(view, bpos) + lay.defaults)
            place = None
            if data_rel is not None:  # _bytes, inlined
                p = bpos + lay.field_offsets[0] + data_rel
                if p + 4 > size:
                    raise FastPathUnsupported("Buffer.data outside the buffer")
                n = uint32(view, p)[0]
                if n > size - p - 4:
                    raise FastPathUnsupported("Buffer.data longer than the buffer")
                self.budget -= n >> 4
                place = (p + 4, n)
            if offset > 1:  # external data after the FlatBuffer
                if offset + nbytes > size:
                    raise FastPathUnsupported("external buffer outside the file")
                place = (offset, nbytes)
            out.append(place if place is not None and place[1] else None)
        self._check_budget()

    def _u8(self, index: int) -> np.ndarray:
        """Buffer ``index`` as a uint8 array (one object per buffer, as the checked path)."""
        if not 0 <= index < len(self.buffers):
            raise FastPathUnsupported("buffer index out of range")
        arr = self.u8_cache.get(index)
        if arr is None:
            place = self.buffers[index]
            if place is None:
                return np.zeros(0, np.uint8)
            arr = self.u8_cache[index] = np.frombuffer(self.buf, np.uint8, count=place[1],
                                                       offset=place[0])
        return arr

    # -- subgraphs ----------------------------------------------------------------------
    def _subgraph(self, pos: int, codes, n_sg: int) -> Subgraph:
        view, size = self.view, self.size
        lay = self._layout("SubGraph", pos)
        tensors_rel, inputs_rel, outputs_rel, operators_rel, name_rel, debug_index = lay.read(view, pos)
        fo = lay.field_offsets
        tensors: list[Tensor] = []
        if tensors_rel is not None:
            positions = uoffset_targets(view, size, pos + fo[0] + tensors_rel)
            self.budget -= len(positions)
            tensors = self._tensors(positions)
        n = len(tensors)
        inputs = self._ints(pos, fo[1], inputs_rel)
        outputs = self._ints(pos, fo[2], outputs_rel)
        for values in (inputs, outputs):
            if values and (min(values) < 0 or max(values) >= n):
                raise FastPathUnsupported("subgraph input/output index out of range")
        operators: list[Operator] = []
        if operators_rel is not None:
            positions = uoffset_targets(view, size, pos + fo[3] + operators_rel)
            self.budget -= len(positions)
            operators = self._operators(positions, codes, n, n_sg)
        sg = Subgraph(tensors=tensors, operators=operators, inputs=list(inputs), outputs=list(outputs),
                      name=self._string(pos, fo[4], name_rel) or "")
        if debug_index != -1:
            sg.extra["debug_metadata_index"] = debug_index
        return sg

    # -- tensors ------------------------------------------------------------------------
    # _tensors and _operators are the hot loops: vector and string reads are inlined
    # (each check mirrors int32_tuple / read_string in .layout).
    def _tensors(self, positions: list[int]) -> list[Tensor]:
        view, size, buffers, n_buffers = self.view, self.size, self.buffers, len(self.buffers)
        tensor_layouts, quant_layouts = self.tensor_layouts, self.quant_layouts
        compile_layout, typed = self.layouts.compile, self._typed
        buf, writable, typed_cache = self.buf, self.writable, self.typed_cache
        out = []
        for pos in positions:
            if pos + 4 > size:
                raise FastPathUnsupported("Tensor outside the buffer")
            vt = pos - soffset(view, pos)[0]
            lay = tensor_layouts.get(vt) or compile_layout("Tensor", vt)
            if pos + lay.table_size > size:
                raise FastPathUnsupported("Tensor extends past the buffer")
            (shape_rel, ttype, bidx, name_rel, quant_rel, is_variable, sparsity_rel, signature_rel,
             has_rank, variants_rel, external_buffer) = lay.getter(lay.unpack(view, pos) + lay.defaults)
            fo = lay.field_offsets
            units = 1  # the table itself
            shape = ()
            lowest = 0  # smallest dimension
            if shape_rel is not None:
                p = pos + fo[0] + shape_rel
                if p + 4 > size:
                    raise FastPathUnsupported("Tensor.shape outside the buffer")
                n = uint32(view, p)[0]
                if n > MAX_RANK or 4 * n > size - p - 4:  # the checked path refuses both
                    raise FastPathUnsupported("invalid shape")
                if n:
                    shape = INT32_UNPACK[n](view, p + 4)
                    units += n
                    lowest = min(shape)
                    if lowest < -1:
                        raise FastPathUnsupported("invalid shape")
            if ttype not in _TENSOR_ITEMS:
                raise FastPathUnsupported("unknown tensor type")
            signature = None
            if signature_rel is not None:
                p = pos + fo[7] + signature_rel
                if p + 4 > size:
                    raise FastPathUnsupported("Tensor.shape_signature outside the buffer")
                n = uint32(view, p)[0]
                if n > MAX_RANK or 4 * n > size - p - 4:
                    raise FastPathUnsupported("invalid shape signature")
                signature = INT32_UNPACK[n](view, p + 4)
                units += n
            name = ""
            if name_rel is not None:
                p = pos + fo[3] + name_rel
                if p + 4 > size:
                    raise FastPathUnsupported("Tensor.name outside the buffer")
                n = uint32(view, p)[0]
                if n > size - p - 4:
                    raise FastPathUnsupported("Tensor.name longer than the buffer")
                name = utf8_decode(view[p + 4:p + 4 + n], "replace")[0]
                units += n
            quantization = None
            if quant_rel is not None:
                p = pos + fo[4] + quant_rel
                if p + 4 > size:
                    raise FastPathUnsupported("QuantizationParameters outside the buffer")
                vt = p - soffset(view, p)[0]
                qlay = quant_layouts.get(vt) or compile_layout("QuantizationParameters", vt)
                if p + qlay.table_size > size:
                    raise FastPathUnsupported("QuantizationParameters extends past the buffer")
                if qlay.empty:  # the empty table TF's converter gives float tensors
                    units += 1
                    quantization = _quantization_object(NO_SCALE, NO_ZERO_POINT, 0, None, None, None)
                else:
                    quantization = self._quantization(p, qlay, shape)
            self.budget -= units
            sparsity = None
            extra = {}
            if sparsity_rel is not None or variants_rel is not None or external_buffer:
                sparsity = self._rare_tensor_fields(pos, fo, sparsity_rel, variants_rel,
                                                    external_buffer, extra)
            data = None
            if bidx >= n_buffers:
                if bidx or n_buffers:
                    raise FastPathUnsupported("buffer index out of range")
            elif buffers[bidx] is not None:
                if sparsity is None and ttype in _PLAIN:  # _typed's common case, inlined
                    offset, nbytes = buffers[bidx]
                    dtype, itemsize, dtype_key = _PLAIN[ttype]
                    if lowest < 0:
                        raise FastPathUnsupported("constant with unknown dimension")
                    if prod(shape) * itemsize != nbytes:
                        raise FastPathUnsupported("constant size does not match dtype x shape")
                    key = (bidx, dtype_key, shape)
                    data = typed_cache.get(key)
                    if data is None:
                        data = typed_cache[key] = np.ndarray(shape, dtype, buf, offset)
                        if writable:
                            data.flags.writeable = False
                else:
                    data = typed(bidx, ttype, shape, sparsity is not None)
            # attributes set one by one, in field order: the object keeps them inline (no
            # per-object dict to allocate, and fewer objects for the garbage collector)
            t = _new(Tensor)
            t.name = name
            t.shape = shape
            t.dtype = ttype
            t.data = data
            t.quantization = quantization
            t.shape_signature = signature
            t.is_variable = is_variable
            t.sparsity = sparsity
            t.has_rank = has_rank
            t.extra = extra
            out.append(t)
            if self.budget < 0:
                raise FastPathUnsupported("work budget exhausted")
        return out

    def _rare_tensor_fields(self, pos, fo, sparsity_rel, variants_rel, external_buffer, extra):
        """Decode sparsity (returned), variant types and external buffer id (into ``extra``)."""
        sparsity = None
        if sparsity_rel is not None:
            raw = self._generic("table", self._target(pos, fo[6], sparsity_rel), "SparsityParameters",
                                "Tensor.sparsity")
            sparsity = build_sparsity(raw, "Tensor.sparsity")
        if variants_rel is not None:
            variants = self._generic("vector", self._target(pos, fo[9], variants_rel),
                                     "table:VariantSubType", "Tensor.variant_tensors")
            if variants:
                extra["variant_tensors"] = variants
        if external_buffer:
            extra["external_buffer"] = external_buffer
        return sparsity

    def _typed(self, bidx: int, ttype: int, shape: tuple, sparse: bool) -> np.ndarray:
        """The constant of a tensor, as ``reader._ModelBuilder._typed`` makes it."""
        offset, nbytes = self.buffers[bidx]
        dtype, bits, dtype_key = _TENSOR_ITEMS[ttype]
        if not sparse and ttype not in _NOT_FIXED_SIZE and (not shape or min(shape) >= 0):
            if (prod(shape) * bits + 7) >> 3 != nbytes:
                raise FastPathUnsupported("constant size does not match dtype x shape")
        if ttype in _PACKED:
            return self._u8(bidx)
        if sparse:
            if nbytes % dtype.itemsize:
                raise FastPathUnsupported("sparse values size")
            shape = (nbytes // dtype.itemsize,)
        elif shape and min(shape) < 0:
            raise FastPathUnsupported("constant with unknown dimension")
        key = (bidx, dtype_key, shape)
        arr = self.typed_cache.get(key)
        if arr is None:
            arr = np.ndarray(shape, dtype, self.buf, offset)
            if self.writable:
                arr.flags.writeable = False
            self.typed_cache[key] = arr
        return arr

    def _quantization(self, pos: int, lay, shape: tuple) -> Quantization:
        """A non-empty QuantizationParameters table (``lay``: its checked layout)."""
        min_rel, max_rel, scale_rel, zp_rel, details_type, details_rel, qdim = \
            lay.getter(lay.unpack(self.view, pos) + lay.defaults)
        fo = lay.field_offsets
        units = 1
        scale, zero_point, low, high, details = NO_SCALE, NO_ZERO_POINT, None, None, None
        view, size, buf = self.view, self.size, self.buf
        if scale_rel is not None:  # _array, inlined
            p = pos + fo[2] + scale_rel
            if p + 4 > size:
                raise FastPathUnsupported("scale outside the buffer")
            n = uint32(view, p)[0]
            if 4 * n > size - p - 4:
                raise FastPathUnsupported("scale longer than the buffer")
            scale = np.ndarray((n,), _F32, buf, p + 4) if n else np.zeros(0, _F32)
            units += n
        if zp_rel is not None:
            p = pos + fo[3] + zp_rel
            if p + 4 > size:
                raise FastPathUnsupported("zero_point outside the buffer")
            n = uint32(view, p)[0]
            if 8 * n > size - p - 4:
                raise FastPathUnsupported("zero_point longer than the buffer")
            zero_point = np.ndarray((n,), _I64, buf, p + 4) if n else np.zeros(0, _I64)
            units += n
        n_scale = scale.size
        if n_scale and zero_point.size and n_scale != zero_point.size:
            raise FastPathUnsupported("scale and zero point counts differ")
        if n_scale > 1 and not (0 <= qdim < len(shape) and shape[qdim] == n_scale):
            raise FastPathUnsupported("per-axis scales vs quantized dimension")
        if min_rel is not None:
            low, n = self._array(pos + fo[0], min_rel, _F32)
            units += n
        if max_rel is not None:
            high, n = self._array(pos + fo[1], max_rel, _F32)
            units += n
        self.budget -= units
        if details_rel is not None:
            target = self._target(pos, fo[5], details_rel)
            if details_type:
                if details_type not in _DETAILS_UNION:
                    raise FastPathUnsupported("unknown quantization details type")
                details = (details_type, self._generic("table", target, _DETAILS_UNION[details_type],
                                                       "QuantizationParameters.details"))
        return _quantization_object(scale, zero_point, qdim, low, high, details)

    # -- operators ------------------------------------------------------------------------
    def _operators(self, positions: list[int], codes, n: int, n_sg: int) -> list[Operator]:
        view, size = self.view, self.size
        operator_layouts, compile_layout = self.operator_layouts, self.layouts.compile
        layouts_by_table = self.layouts.by_table
        out = []
        for pos in positions:
            if pos + 4 > size:
                raise FastPathUnsupported("Operator outside the buffer")
            vt = pos - soffset(view, pos)[0]
            lay = operator_layouts.get(vt) or compile_layout("Operator", vt)
            if pos + lay.table_size > size:
                raise FastPathUnsupported("Operator extends past the buffer")
            (code_index, inputs_rel, outputs_rel, options_type, options_rel, custom_rel, custom_format,
             mutating_rel, intermediates_rel, large_offset, large_size, options2_type, options2_rel,
             debug_index) = lay.getter(lay.unpack(view, pos) + lay.defaults)
            fo = lay.field_offsets
            if code_index >= len(codes):
                raise FastPathUnsupported("opcode index out of range")
            opcode, version, custom_code = codes[code_index]
            units = 1
            inputs = outputs = intermediates = ()
            if inputs_rel is not None:
                inputs = int32_tuple(view, size, pos + fo[1] + inputs_rel)
                units += len(inputs)
                if inputs and (min(inputs) < -1 or max(inputs) >= n):
                    raise FastPathUnsupported("operator input index out of range")
            if outputs_rel is not None:
                outputs = int32_tuple(view, size, pos + fo[2] + outputs_rel)
                units += len(outputs)
                if outputs and (min(outputs) < 0 or max(outputs) >= n):
                    raise FastPathUnsupported("operator output index out of range")
            if intermediates_rel is not None:
                intermediates = int32_tuple(view, size, pos + fo[8] + intermediates_rel)
                units += len(intermediates)
                if intermediates and (min(intermediates) < 0 or max(intermediates) >= n):
                    raise FastPathUnsupported("operator intermediate index out of range")
            self.budget -= units
            options = options_name = None
            if options_rel is not None:
                p = pos + fo[4] + options_rel
                if p + 4 > size:
                    raise FastPathUnsupported("Operator.builtin_options outside the buffer")
                if options_type:
                    options_name = _OPTIONS_UNION.get(options_type)
                    if options_name is None:
                        raise FastPathUnsupported("unknown builtin options type")
                    names = _OPTIONS_NAMES[options_name]
                    if names is None:
                        options = self._generic("table", p, options_name, "Operator.builtin_options")
                    else:
                        self.budget -= 1
                        vt = p - soffset(view, p)[0]
                        olay = (layouts_by_table[options_name].get(vt)
                                or compile_layout(options_name, vt))
                        if p + olay.table_size > size:
                            raise FastPathUnsupported("options table extends past the buffer")
                        options = dict(zip(names, olay.getter(olay.unpack(view, p) + olay.defaults)))
                    for key in _OPTIONS_SUBGRAPH_FIELDS.get(options_name, ()):
                        if not 0 <= options[key] < n_sg:
                            raise FastPathUnsupported("subgraph index out of range")
            custom = options2 = options2_name = None
            mutating = []
            extra = {}
            if (options2_rel is not None or custom_rel is not None or mutating_rel is not None
                    or large_offset > 1 or custom_format or debug_index != -1):
                options2, options2_name, custom, mutating = self._rare_operator_fields(
                    pos, fo, options2_type, options2_rel, custom_rel, mutating_rel, large_offset,
                    large_size)
                if custom_format:
                    extra["custom_options_format"] = custom_format
                if debug_index != -1:
                    extra["debug_metadata_index"] = debug_index
            op = _new(Operator)  # as Tensor above
            op.opcode = opcode
            op.inputs = list(inputs)
            op.outputs = list(outputs)
            op.options = options
            op.options_type = options_name
            op.version = version
            op.custom_code = custom_code
            op.custom_options = custom
            op.options2 = options2
            op.options2_type = options2_name
            op.intermediates = list(intermediates)
            op.mutating_variable_inputs = mutating
            op.extra = extra
            out.append(op)
            if self.budget < 0:
                raise FastPathUnsupported("work budget exhausted")
        return out

    def _rare_operator_fields(self, pos, fo, options2_type, options2_rel, custom_rel, mutating_rel,
                              large_offset, large_size):
        """(options2, its table name, custom options, mutating_variable_inputs)."""
        options2 = options2_name = custom = None
        if options2_rel is not None:
            target = self._target(pos, fo[12], options2_rel)
            if options2_type:
                options2_name = _OPTIONS2_UNION.get(options2_type)
                if options2_name is None:
                    raise FastPathUnsupported("unknown builtin options 2 type")
                options2 = self._generic("table", target, options2_name, "Operator.builtin_options_2")
        if custom_rel is not None:
            start, count = self._bytes(pos + fo[5], custom_rel)
            custom = np.ndarray((count,), _U8, self.buf, start) if count else np.zeros(0, _U8)
        mutating = []
        if mutating_rel is not None:
            start, count = self._bytes(pos + fo[7], mutating_rel)
            self.budget -= count  # the Decoder's bool copy
            mutating = [b != 0 for b in self.view[start:start + count]]
        if large_offset > 1:
            if large_offset + large_size > self.size:
                raise FastPathUnsupported("large custom options outside the file")
            custom = np.frombuffer(self.buf, np.uint8, count=large_size, offset=large_offset)
        return options2, options2_name, custom, mutating


# -- shared with the checked path ------------------------------------------------------
def build_sparsity(raw: dict, where: str) -> Sparsity:
    """The IR form of a decoded SparsityParameters table."""
    dims = []
    for i, dm in enumerate(raw["dim_metadata"] or []):
        seg = dm["array_segments"]["values"] if dm["array_segments"] else None
        idx = dm["array_indices"]["values"] if dm["array_indices"] else None
        if dm["format"] not in (0, 1):
            raise ModelError(f"{where}.dim_metadata[{i}].format: unknown dimension type {dm['format']}")
        if dm["format"] == 1 and (seg is None or idx is None):
            raise ModelError(f"{where}.dim_metadata[{i}]: SPARSE_CSR dimension lacks segments or indices")
        dims.append(DimensionMetadata(format=dm["format"], dense_size=dm["dense_size"],
                                      array_segments=seg, array_indices=idx))
    return Sparsity(traversal_order=[] if raw["traversal_order"] is None else raw["traversal_order"].tolist(),
                    block_map=[] if raw["block_map"] is None else raw["block_map"].tolist(),
                    dim_metadata=dims)


def signature_defs(raw: list[dict]) -> list[SignatureDef]:
    """The IR form of decoded SignatureDef tables."""
    return [SignatureDef(key=sd["signature_key"] or "", subgraph_index=sd["subgraph_index"],
                         inputs={m["name"] or "": m["tensor_index"] for m in sd["inputs"] or []},
                         outputs={m["name"] or "": m["tensor_index"] for m in sd["outputs"] or []})
            for sd in raw]


def _check_signature_defs(model: Model) -> None:
    n_sg = len(model.subgraphs)
    for sig in model.signature_defs:
        if not 0 <= sig.subgraph_index < n_sg:
            raise FastPathUnsupported("signature subgraph index out of range")
        n = len(model.subgraphs[sig.subgraph_index].tensors)
        for mapping in (sig.inputs, sig.outputs):
            for t in mapping.values():
                if not 0 <= t < n:
                    raise FastPathUnsupported("signature tensor index out of range")

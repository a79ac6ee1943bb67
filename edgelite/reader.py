"""``.tflite`` file -> :class:`edgelite.ir.Model`.

The file is memory-mapped (or taken as bytes); constant tensor data become
zero-copy numpy views into the mapping. Everything is validated before use: the
``TFL3`` identifier, every offset and length, every tensor, buffer, opcode and
subgraph index, quantization parameter counts, external buffer ranges, and that
each dense constant's dtype x shape matches its buffer size. Problems raise
:class:`edgelite.ModelError` naming table, field and index.

Two decoders produce the same :class:`~edgelite.ir.Model`:

* the fast path (:class:`edgelite.schema.fastread.FastModelBuilder`) reads the hot
  tables (SubGraph, Tensor, QuantizationParameters, Buffer, Operator and scalar
  options tables) through per-vtable compiled layouts (:mod:`edgelite.schema.layout`)
  and builds the IR objects directly, doing the same bounds, index, size and
  work-budget checks as the checked path, and ``Model.validate``'s cross-reference
  checks inline. It only *decides* on files it fully accepts: at the first sign of
  anything wrong or unusual it gives up (:class:`FastPathUnsupported`);
* the checked path (:class:`~edgelite.schema.codec.Decoder` into dicts, then
  :class:`_ModelBuilder`) then decodes the file again and reports the precise
  error, so error messages (and results on odd-but-valid files) come from one
  place.
"""
from __future__ import annotations

import gc
import mmap
import os
import struct
import warnings
from typing import Any

import numpy as np

from .appended_zip import split_appended_zip
from .errors import ModelError
from .ir import Model, Operator, Quantization, Subgraph, Tensor, expected_data_bytes
from .schema import BUILTIN_OPTIONS2_NAMES, BUILTIN_OPTIONS_NAMES, TENSOR_DTYPES, TensorType, opcode_name
from .schema.codec import Decoder
from .schema.fastread import MAX_RANK, FastModelBuilder, build_sparsity, signature_defs
from .schema.fastread import NO_SCALE as _NO_SCALE
from .schema.fastread import NO_ZERO_POINT as _NO_ZERO_POINT
from .schema.layout import FastPathUnsupported

FILE_IDENTIFIER = b"TFL3"
# Anything the fast path may raise on a file it does not accept: parse_model then
# decodes the file with the checked decoder, which raises the proper ModelError.
_FAST_PATH_GIVES_UP = (FastPathUnsupported, ModelError, struct.error, IndexError, KeyError,
                       ValueError, TypeError, OverflowError)


class gc_paused:
    """Context manager: the cyclic garbage collector's automatic runs are off inside.

    Building a model creates a few thousand long-lived, acyclic container objects
    (tensors, operators, their dicts and lists) in a burst; every 700 of them
    would trigger a young-generation collection that traverses them all again, and
    every tenth of those an older-generation one that traverses everything the
    imports left (about a millisecond). Loading, constructing the interpreter and
    allocating run with collections paused (as bulk loaders such as ``pickle``
    users commonly do); the collector resumes where it was when the block ends, so
    nothing is kept from it. Nested uses and a collector already disabled by the
    application are left alone.
    """

    __slots__ = ("_resume",)

    def __enter__(self) -> "gc_paused":
        self._resume = gc.isenabled()
        if self._resume:
            gc.disable()
        return self

    def __exit__(self, *exc) -> None:
        if self._resume:
            gc.enable()


def load_model(source: str | os.PathLike | bytes | bytearray | memoryview) -> Model:
    """Load a ``.tflite`` model from a path (memory-mapped) or from bytes.

    Raises :class:`edgelite.ModelError` if the file is not a valid TFLite model,
    and ``FileNotFoundError`` if the path does not exist.
    """
    with gc_paused():
        return _load_model(source)


def _load_model(source) -> Model:
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise ModelError(f"{os.fspath(source)}: file is empty, not a .tflite model")
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return parse_model(buf)
    if isinstance(source, (bytes, bytearray, memoryview, mmap.mmap)):
        return parse_model(source)
    raise TypeError(f"load_model expects a path or bytes, got {type(source).__name__}")


def parse_model(buf) -> Model:
    view = memoryview(buf)
    if len(view) < 8:
        raise ModelError(f"Model: {len(view)} bytes is too short for a .tflite file")
    if bytes(view[4:8]) != FILE_IDENTIFIER:
        raise ModelError(f"Model: file identifier is {bytes(view[4:8])!r}, expected b'TFL3' "
                         "(not a .tflite FlatBuffer)")
    try:
        model = FastModelBuilder(buf).build()
    except _FAST_PATH_GIVES_UP:
        return parse_model_checked(buf)  # decode again with the checked decoder, which names the problem
    return _keep_appended_zip(model, buf)


def parse_model_checked(buf) -> Model:
    """The checked (slow) decoder alone: the reference the fast path must agree with."""
    raw = Decoder(buf).root("Model")
    return _keep_appended_zip(_ModelBuilder(raw, buf, len(memoryview(buf))).build(), buf)


def _keep_appended_zip(model: Model, buf) -> Model:
    """Keep the zip of associated files appended after the FlatBuffer (TFLite metadata)."""
    found = split_appended_zip(buf)
    if found is not None:
        model.appended_zip = found[1]
    return model


def parse_model_fast(buf) -> Model:
    """The fast path alone; raises :class:`FastPathUnsupported` (or another error) where
    :func:`parse_model` would fall back to the checked decoder. For tests."""
    return FastModelBuilder(buf).build()


class _ModelBuilder:
    def __init__(self, raw: dict, buf, size: int):
        self.raw, self.buf, self.size = raw, buf, size
        self.buffers = self._buffers()
        self.cache: dict[tuple, np.ndarray] = {}

    def build(self) -> Model:
        raw = self.raw
        model = Model(description=raw["description"] or "", version=raw["version"])
        codes = self._opcodes()
        subgraphs_raw = raw["subgraphs"] or []
        if not subgraphs_raw:
            raise ModelError("Model.subgraphs: the model has no subgraphs")
        for si, sg in enumerate(subgraphs_raw):
            model.subgraphs.append(self._subgraph(sg, si, codes))
        for mi, md in enumerate(raw["metadata"] or []):
            model.metadata[md["name"] or f"metadata_{mi}"] = self._buffer_data(
                md["buffer"], f"Model.metadata[{mi}].buffer")
        model.signature_defs = signature_defs(raw["signature_defs"] or [])
        for key in ("metadata_buffer", "external_buffer_groups", "external_buffers"):
            if raw[key] is not None and len(raw[key]):
                model.extra[key] = raw[key]
        return model.validate()

    # -- buffers --------------------------------------------------------------
    def _buffers(self) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = []
        for i, b in enumerate(self.raw["buffers"] or []):
            where = f"Model.buffers[{i}]"
            if b["offset"] > 1:
                off, n = b["offset"], b["size"]
                if off + n > self.size:
                    raise ModelError(f"{where}.offset: external data at {off} (+{n} bytes) lies "
                                     f"outside the {self.size}-byte file")
                out.append(np.frombuffer(self.buf, np.uint8, count=n, offset=off) if n else None)
            else:
                data = b["data"]
                out.append(data if data is not None and len(data) else None)
        return out

    def _buffer_data(self, index: int, where: str) -> np.ndarray:
        if not 0 <= index < len(self.buffers):
            raise ModelError(f"{where}: buffer index {index} out of range (0..{len(self.buffers) - 1})")
        data = self.buffers[index]
        return data if data is not None else np.zeros(0, np.uint8)

    # -- operator codes -----------------------------------------------------------
    def _opcodes(self) -> list[tuple[str, int, str | None]]:
        out = []
        for i, c in enumerate(self.raw["operator_codes"] or []):
            code = max(c["deprecated_builtin_code"], c["builtin_code"])
            out.append((opcode_name(code), c["version"], c["custom_code"]))
        return out

    # -- subgraphs --------------------------------------------------------------
    def _subgraph(self, raw: dict, si: int, codes) -> Subgraph:
        where = f"Model.subgraphs[{si}]"
        sg = Subgraph(name=raw["name"] or "")
        if raw["debug_metadata_index"] != -1:
            sg.extra["debug_metadata_index"] = raw["debug_metadata_index"]
        for ti, t in enumerate(raw["tensors"] or []):
            sg.tensors.append(self._tensor(t, f"{where}.tensors[{ti}]"))
        n = len(sg.tensors)
        sg.inputs = self._indices(raw["inputs"], n, f"{where}.inputs")
        sg.outputs = self._indices(raw["outputs"], n, f"{where}.outputs")
        for oi, op in enumerate(raw["operators"] or []):
            sg.operators.append(self._operator(op, codes, n, f"{where}.operators[{oi}]"))
        return sg

    @staticmethod
    def _indices(vec, n: int, where: str, allow_omitted: bool = False) -> list[int]:
        if vec is None:
            return []
        values = vec.tolist()
        low = -1 if allow_omitted else 0
        for j, t in enumerate(values):
            if not low <= t < n:
                raise ModelError(f"{where}[{j}]: tensor index {t} out of range (0..{n - 1})")
        return values

    def _operator(self, raw: dict, codes, n: int, where: str) -> Operator:
        idx = raw["opcode_index"]
        if not 0 <= idx < len(codes):
            raise ModelError(f"{where}.opcode_index: {idx} out of range (0..{len(codes) - 1})")
        name, version, custom_code = codes[idx]
        extra: dict[str, Any] = {}
        for key, default in (("custom_options_format", 0), ("debug_metadata_index", -1)):
            if raw[key] != default:
                extra[key] = raw[key]
        custom = raw["custom_options"]
        if raw["large_custom_options_offset"] > 1:
            off, size = raw["large_custom_options_offset"], raw["large_custom_options_size"]
            if off + size > self.size:
                raise ModelError(f"{where}.large_custom_options_offset: {off} (+{size} bytes) lies "
                                 f"outside the {self.size}-byte file")
            custom = np.frombuffer(self.buf, np.uint8, count=size, offset=off)
        op = Operator(
            opcode=name, version=version, custom_code=custom_code,
            inputs=self._indices(raw["inputs"], n, f"{where}.inputs", allow_omitted=True),
            outputs=self._indices(raw["outputs"], n, f"{where}.outputs"),
            options=raw["builtin_options"],
            options_type=BUILTIN_OPTIONS_NAMES.get(raw["builtin_options_type"]) if raw["builtin_options"] is not None else None,
            options2=raw["builtin_options_2"],
            options2_type=BUILTIN_OPTIONS2_NAMES.get(raw["builtin_options_2_type"]) if raw["builtin_options_2"] is not None else None,
            custom_options=custom,
            intermediates=self._indices(raw["intermediates"], n, f"{where}.intermediates"),
            mutating_variable_inputs=[] if raw["mutating_variable_inputs"] is None else raw["mutating_variable_inputs"].tolist(),
            extra=extra)
        if raw["builtin_options"] is None:  # keep the file as it is: no options table
            op.options_type, op.options = None, None
        return op

    # -- tensors --------------------------------------------------------------
    def _tensor(self, raw: dict, where: str) -> Tensor:
        shape = () if raw["shape"] is None else tuple(raw["shape"].tolist())
        if len(shape) > MAX_RANK:
            raise ModelError(f"{where}.shape: rank {len(shape)} exceeds the {MAX_RANK} dimensions "
                             "a tensor may have")
        if shape and min(shape) < -1:
            raise ModelError(f"{where}.shape: invalid dimension in {list(shape)}")
        if raw["type"] not in TENSOR_DTYPES:
            raise ModelError(f"{where}.type: unknown tensor type {raw['type']}")
        signature = None if raw["shape_signature"] is None else tuple(raw["shape_signature"].tolist())
        if signature is not None and len(signature) > MAX_RANK:
            raise ModelError(f"{where}.shape_signature: rank {len(signature)} exceeds the {MAX_RANK} "
                             "dimensions a tensor may have")
        t = Tensor(name=raw["name"] or "", shape=shape, dtype=raw["type"], shape_signature=signature,
                   is_variable=raw["is_variable"], has_rank=raw["has_rank"])
        if raw["quantization"] is not None:
            t.quantization = self._quantization(raw["quantization"], shape, where + ".quantization", t.name)
        if raw["sparsity"] is not None:
            t.sparsity = build_sparsity(raw["sparsity"], where + ".sparsity")
        for key in ("variant_tensors", "external_buffer"):
            if raw[key]:
                t.extra[key] = raw[key]
        bidx = raw["buffer"]
        if not 0 <= bidx < max(1, len(self.buffers)):
            raise ModelError(f"{where}.buffer: index {bidx} out of range (0..{len(self.buffers) - 1})")
        data = self.buffers[bidx] if self.buffers else None
        if data is not None:
            t.data = self._typed(data, t, bidx, where)
        return t

    def _typed(self, data: np.ndarray, t: Tensor, bidx: int, where: str) -> np.ndarray:
        expected = expected_data_bytes(t)
        if expected is not None and expected != data.nbytes:
            raise ModelError(f"{where}: {t.type_name} tensor {t.name!r} of shape {list(t.shape)} needs "
                             f"{expected} bytes but buffer {bidx} holds {data.nbytes}")
        dtype = TENSOR_DTYPES[t.dtype]
        packed = t.dtype in (TensorType.INT4, TensorType.UINT4, TensorType.INT2) or dtype.kind == "O"
        if packed:
            return data
        if t.sparsity is not None:
            if data.nbytes % dtype.itemsize:
                raise ModelError(f"{where}: sparse {t.type_name} values need a multiple of "
                                 f"{dtype.itemsize} bytes, buffer {bidx} holds {data.nbytes}")
            shape = (data.nbytes // dtype.itemsize,)
        else:
            shape = t.shape
            if shape and min(shape) < 0:
                raise ModelError(f"{where}.shape: constant tensor {t.name!r} (buffer {bidx}) has an "
                                 f"unknown dimension in {list(shape)}")
        key = (bidx, dtype.str, shape)
        arr = self.cache.get(key)
        if arr is None:
            arr = data.view(dtype).reshape(shape)
            arr.flags.writeable = False
            self.cache[key] = arr
        return arr

    @staticmethod
    def _quantization(raw: dict, shape: tuple, where: str, name: str = "") -> Quantization:
        scale = raw["scale"] if raw["scale"] is not None else _NO_SCALE
        zp = raw["zero_point"] if raw["zero_point"] is not None else _NO_ZERO_POINT
        if scale.size and zp.size and scale.size != zp.size:
            raise ModelError(f"{where}: {scale.size} scales but {zp.size} zero points")
        qdim = raw["quantized_dimension"]
        if scale.size > 1 and len(shape) == 1 and shape[0] == scale.size and qdim != 0:
            # A 1-D per-channel tensor (a bias) whose quantized_dimension was copied from its
            # filter (TFLM's person_detect: 3). TFLM runs it, LiteRT refuses it; the only
            # dimension is the one the scales can belong to.
            warnings.warn(f"{where}: tensor {name!r} is 1-D with {scale.size} per-axis scales but "
                          f"quantized_dimension {qdim}; read as quantized_dimension 0", stacklevel=2)
            qdim = 0
        if scale.size > 1 and not (0 <= qdim < len(shape) and shape[qdim] == scale.size):
            raise ModelError(f"{where}.quantized_dimension: {scale.size} per-axis scales do not "
                             f"match dimension {qdim} of shape {list(shape)}")
        details = None
        if raw["details"] is not None:
            details = (raw["details_type"], raw["details"])
        # zero-copy: the file's float32 / int64 vectors are used as they are (read-only views)
        return Quantization(scale=scale, zero_point=zp, quantized_dimension=qdim,
                            min=raw["min"], max=raw["max"], details=details)

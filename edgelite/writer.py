""":class:`edgelite.ir.Model` -> ``.tflite`` bytes.

Layout decisions:

* Buffer 0 is the empty buffer every TFLite file starts with; activations
  point at it. Each distinct constant array (by identity) gets one buffer, so
  tensors that shared a buffer when loaded share it again.
* Buffer data are aligned to 16 bytes, the ``force_align`` the schema asks
  for and what LiteRT's kernels expect.
* When the constant data exceed what a FlatBuffer can hold (2 GB), or when
  ``external=True``, buffers are written after the FlatBuffer and referenced by
  ``Buffer.offset``/``size`` (TFLite's "large model" layout), each aligned to
  64 bytes. Offsets are only known once the FlatBuffer's size is, so the
  FlatBuffer is built twice; its size does not depend on the offset values.
"""
from __future__ import annotations

import os

import flatbuffers
import numpy as np

from .appended_zip import relocate_zip
from .errors import ModelError
from .ir import Model, Operator, Sparsity, Tensor
from .schema import (BUILTIN_OPTIONS2_CODES, BUILTIN_OPTIONS_CODES, ENUMS,
                     PLACEHOLDER_FOR_GREATER_OP_CODES)
from .schema.codec import encode_table
from .reader import FILE_IDENTIFIER

FLATBUFFER_LIMIT = 2**31 - 1
INLINE_ALIGN = 16
EXTERNAL_ALIGN = 64
_OPCODES = ENUMS["BuiltinOperator"]


def write_model(model: Model, external: bool | None = None) -> bytes:
    """Serialize ``model``. ``external=None`` picks external buffers only when needed."""
    return b"".join(_chunks(model, external))


def save_model(model: Model, path: str | os.PathLike, external: bool | None = None) -> None:
    """Write ``model`` to ``path`` (streams large external buffers instead of joining them)."""
    with open(path, "wb") as f:
        for chunk in _chunks(model, external):
            f.write(chunk)


def _chunks(model: Model, external: bool | None):
    """The file's bytes in pieces: the FlatBuffer, external buffers, the appended zip."""
    archive = model.appended_zip
    if archive:
        relocate_zip(archive, 0)  # refuse a broken archive before writing anything
    size = 0
    for chunk in _model_chunks(model, external):
        size += len(chunk)
        yield chunk
    if archive:  # associated files of TFLite metadata: offsets count from the file's start
        yield relocate_zip(archive, size)


def _model_chunks(model: Model, external: bool | None):
    model.validate()
    blobs, tensor_buffers, metadata_buffers = _assign_buffers(model)
    total = sum(b.nbytes for b in blobs)
    if external is None:
        external = total > FLATBUFFER_LIMIT - (64 << 20)
    if not external:
        yield _build(model, blobs, tensor_buffers, metadata_buffers, None, total)
        return
    placeholder = [(1, b.nbytes) for b in blobs]
    head = _build(model, blobs, tensor_buffers, metadata_buffers, placeholder, total)
    pos = _align(len(head), EXTERNAL_ALIGN)
    places = []
    for b in blobs:
        places.append((pos, b.nbytes))
        pos = _align(pos + b.nbytes, EXTERNAL_ALIGN)
    head = _build(model, blobs, tensor_buffers, metadata_buffers, places, total)
    if places and _align(len(head), EXTERNAL_ALIGN) != places[0][0]:
        raise AssertionError("FlatBuffer size changed between passes")
    yield head
    pos = len(head)
    for (off, n), b in zip(places, blobs):
        yield b"\0" * (off - pos)
        yield memoryview(np.ascontiguousarray(b)).cast("B")
        pos = off + n


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _assign_buffers(model: Model):
    """Give each distinct constant array a buffer index (1-based; 0 is the empty buffer)."""
    blobs: list[np.ndarray] = []
    by_id: dict[int, int] = {}
    tensor_buffers: list[list[int]] = []
    for sg in model.subgraphs:
        idx = []
        for t in sg.tensors:
            if t.data is None:
                idx.append(0)
                continue
            key = id(t.data)
            if key not in by_id:
                blobs.append(t.data)
                by_id[key] = len(blobs)
            idx.append(by_id[key])
        tensor_buffers.append(idx)
    metadata_buffers = {}
    for name, value in model.metadata.items():
        arr = np.frombuffer(bytes(value), np.uint8) if isinstance(value, (bytes, bytearray, memoryview)) else np.asarray(value)
        blobs.append(arr)
        metadata_buffers[name] = len(blobs)
    return blobs, tensor_buffers, metadata_buffers


def _build(model, blobs, tensor_buffers, metadata_buffers, external_places, total) -> bytes:
    size_hint = 1024 + (0 if external_places else total + 16 * len(blobs))
    builder = flatbuffers.Builder(min(size_hint, FLATBUFFER_LIMIT))
    codes, code_index = [], {}
    subgraphs = []
    for si, sg in enumerate(model.subgraphs):
        ops = []
        for op in sg.operators:
            key = (op.opcode, op.version, op.custom_code)
            if key not in code_index:
                code_index[key] = len(codes)
                codes.append(_opcode_table(op))
            ops.append(_operator_table(op, code_index[key]))
        subgraphs.append({
            "tensors": [_tensor_table(t, b) for t, b in zip(sg.tensors, tensor_buffers[si])],
            "inputs": np.array(sg.inputs, np.int32), "outputs": np.array(sg.outputs, np.int32),
            "operators": ops, "name": sg.name or None,
            "debug_metadata_index": sg.extra.get("debug_metadata_index", -1),
        })
    buffers = [{}]
    for i, blob in enumerate(blobs):
        if external_places:
            off, n = external_places[i]
            buffers.append({"offset": off, "size": n})
        else:
            buffers.append({"data": np.ascontiguousarray(blob).reshape(-1).view(np.uint8)})
    raw = {
        "version": model.version, "description": model.description or None,
        "operator_codes": codes, "subgraphs": subgraphs, "buffers": buffers,
        "metadata": [{"name": name, "buffer": b} for name, b in metadata_buffers.items()] or None,
        "signature_defs": [{
            "signature_key": s.key, "subgraph_index": s.subgraph_index,
            "inputs": [{"name": k, "tensor_index": v} for k, v in s.inputs.items()],
            "outputs": [{"name": k, "tensor_index": v} for k, v in s.outputs.items()],
        } for s in model.signature_defs] or None,
    }
    for key, value in model.extra.items():
        raw[key] = value
    try:
        root = encode_table(builder, "Model", raw)
        builder.Finish(root, file_identifier=FILE_IDENTIFIER)
    except flatbuffers.builder.BuilderSizeError as e:
        raise ModelError(f"Model: too large for a single FlatBuffer ({e}); save with external=True") from None
    return bytes(builder.Output())


def _opcode_table(op: Operator) -> dict:
    if op.opcode in _OPCODES:
        code = _OPCODES[op.opcode]
    elif op.opcode.startswith("UNKNOWN_OP_"):
        code = int(op.opcode[len("UNKNOWN_OP_"):])
    else:
        raise ModelError(f"Operator: unknown builtin op {op.opcode!r}")
    return {"deprecated_builtin_code": min(code, PLACEHOLDER_FOR_GREATER_OP_CODES),
            "builtin_code": code, "version": op.version, "custom_code": op.custom_code}


def _operator_table(op: Operator, opcode_index: int) -> dict:
    raw = {
        "opcode_index": opcode_index,
        "inputs": np.array(op.inputs, np.int32), "outputs": np.array(op.outputs, np.int32),
        "intermediates": np.array(op.intermediates, np.int32) if op.intermediates else None,
        "mutating_variable_inputs": np.array(op.mutating_variable_inputs, np.bool_) if op.mutating_variable_inputs else None,
        "custom_options": None if op.custom_options is None else np.frombuffer(bytes(op.custom_options), np.uint8),
    }
    if op.options_type is not None:
        raw["builtin_options_type"] = BUILTIN_OPTIONS_CODES[op.options_type]
        raw["builtin_options"] = op.options or {}
    if op.options2_type is not None:
        raw["builtin_options_2_type"] = BUILTIN_OPTIONS2_CODES[op.options2_type]
        raw["builtin_options_2"] = op.options2 or {}
    raw.update(op.extra)
    return raw


def _int32_dims(t: Tensor, dims, field: str) -> np.ndarray:
    try:
        return np.array(dims, np.int32)
    except OverflowError:  # the schema stores int32 dimensions
        raise ModelError(f"tensor {t.name!r}: {field} {list(dims)} does not fit the int32 dimensions of "
                         ".tflite") from None


def _tensor_table(t: Tensor, buffer: int) -> dict:
    raw = {"shape": _int32_dims(t, t.shape, "shape"), "type": t.dtype, "buffer": buffer, "name": t.name,
           "is_variable": t.is_variable, "has_rank": t.has_rank,
           "shape_signature": None if t.shape_signature is None else _int32_dims(t, t.shape_signature,
                                                                                 "shape_signature")}
    q = t.quantization
    if q is not None and not q.is_empty():
        raw["quantization"] = {
            "scale": q.scale if q.scale.size else None,
            "zero_point": q.zero_point if q.zero_point.size else None,
            "quantized_dimension": q.quantized_dimension, "min": q.min, "max": q.max,
            "details_type": q.details[0] if q.details else 0,
            "details": q.details[1] if q.details else None,
        }
    if t.sparsity is not None:
        raw["sparsity"] = _sparsity_table(t.sparsity)
    raw.update(t.extra)
    return raw


_INDEX_VECTORS = {np.dtype("int32"): 1, np.dtype("uint16"): 2, np.dtype("uint8"): 3}


def _sparsity_table(s: Sparsity) -> dict:
    dims = []
    for dm in s.dim_metadata:
        d = {"format": dm.format, "dense_size": dm.dense_size}
        for key, arr in (("array_segments", dm.array_segments), ("array_indices", dm.array_indices)):
            if arr is not None:
                arr = np.asarray(arr)
                kind = _INDEX_VECTORS.get(arr.dtype, 1)
                d[key + "_type"] = kind
                d[key] = {"values": arr}
        dims.append(d)
    return {"traversal_order": np.array(s.traversal_order, np.int32),
            "block_map": np.array(s.block_map, np.int32), "dim_metadata": dims}

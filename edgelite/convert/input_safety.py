"""Loading untrusted ONNX files safely: what is checked before the converter touches a model.

``load_onnx_checked`` replaces a bare ``onnx.load``:

* **Size.** A file (or bytes) over 2 GiB, protobuf's own limit, is refused before
  parsing; a protobuf that does not parse is a :class:`ConversionError`, not
  ``google.protobuf.DecodeError``.
* **External data.** Every tensor stored outside the model (``data_location: EXTERNAL``)
  must name a *relative* file inside the model's folder: absolute paths, ``..`` escapes
  and symbolic links leading out are refused, and so is external data in a model given
  as bytes (there is no folder to read it from). ``offset`` + ``length`` must lie inside
  the file. Only then is the data read (``onnx.external_data_helper``).
* **Declared sizes.** Each initializer's dims must be non-negative and its stored bytes
  must match the dims (a 1 kB tensor claiming 10^12 elements is refused), and its size
  is checked against a :class:`~edgelite.runtime.budget.MemoryBudget` before numpy
  materialises it (:class:`edgelite.ResourceError`).
* **Nesting.** Subgraphs in attributes (If/Loop/Scan bodies) are walked iteratively;
  more than ``MAX_GRAPH_DEPTH`` levels is a recursion bomb and refused.

``fold_would_exceed`` lets constant folding skip (leave to run time, where the
interpreter's budget applies) a node whose output size is driven by input *values*
(ConstantOfShape, Expand, Tile, Range...) before evaluating it.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..errors import ConversionError
from ..runtime.budget import MemoryBudget, format_bytes

MAX_ONNX_BYTES = (2 << 30) - 1   # protobuf cannot hold more
MAX_GRAPH_DEPTH = 16             # nested If/Loop/Scan bodies (protobuf itself parses ~30)


def _itemsize(data_type: int) -> int:
    from onnx import helper
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(data_type)).itemsize
    except (KeyError, TypeError, ValueError):
        return 1


def load_onnx_checked(model_or_path, budget: MemoryBudget | None = None):
    """An ``onnx.ModelProto`` from a path, bytes or a ModelProto, checked as the module says."""
    import onnx
    from google.protobuf.message import DecodeError
    budget = budget or MemoryBudget()
    base_dir: Path | None = None
    if isinstance(model_or_path, onnx.ModelProto):
        model = model_or_path
    elif isinstance(model_or_path, (bytes, bytearray, memoryview)):
        data = bytes(model_or_path)
        if len(data) > MAX_ONNX_BYTES:
            raise ConversionError(f"the ONNX protobuf is {format_bytes(len(data))}, over protobuf's 2 GiB limit")
        model = _parse(data, "the given bytes", DecodeError)
    elif isinstance(model_or_path, (str, os.PathLike)):
        path = Path(os.fspath(model_or_path))
        size = path.stat().st_size
        if size > MAX_ONNX_BYTES:
            raise ConversionError(f"{path}: {format_bytes(size)}, over protobuf's 2 GiB limit for an ONNX file")
        model = _parse(path.read_bytes(), str(path), DecodeError)
        base_dir = path.resolve().parent
    else:
        error = TypeError(f"from_onnx expects a path, bytes or onnx.ModelProto, got {type(model_or_path).__name__}")
        error.wrong_argument = True
        raise error
    _check_declared_dims(model)
    tensors = list(_all_tensors(model))
    external = [t for t in tensors if t.data_location == onnx.TensorProto.EXTERNAL]
    for t in tensors:
        _check_declared_size(t, budget, external=t.data_location == onnx.TensorProto.EXTERNAL)
    if external:
        if base_dir is None:
            if isinstance(model_or_path, onnx.ModelProto):
                return model  # the caller loaded it (and its external data) already
            raise ConversionError(f"tensor {external[0].name!r} keeps its data in an external file, which a model "
                                  "given as bytes cannot reference: pass the model's path instead")
        for t in external:
            _check_external(t, base_dir)
        from onnx.external_data_helper import load_external_data_for_model
        load_external_data_for_model(model, str(base_dir))
    return model


def _parse(data: bytes, where: str, decode_error):
    import onnx
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (decode_error, RecursionError, ValueError) as e:
        raise ConversionError(f"{where} is not an ONNX model protobuf: {e}") from None
    if not model.HasField("graph"):
        raise ConversionError(f"{where} is not an ONNX model: it has no graph")
    return model


def _all_tensors(model):
    """Every TensorProto of the model (initializers, Constant values, attribute tensors), walking
    nested graphs iteratively; raises ConversionError past MAX_GRAPH_DEPTH levels."""
    from onnx import AttributeProto
    stack = [(model.graph, 0)]
    while stack:
        graph, depth = stack.pop()
        if depth > MAX_GRAPH_DEPTH:
            raise ConversionError(f"graphs nested more than {MAX_GRAPH_DEPTH} levels deep (graph {graph.name!r}): "
                                  "refused as a recursion bomb")
        yield from graph.initializer
        for sparse in graph.sparse_initializer:
            yield sparse.values
        for node in graph.node:
            for attr in node.attribute:
                if attr.type == AttributeProto.TENSOR:
                    yield attr.t
                elif attr.type == AttributeProto.TENSORS:
                    yield from attr.tensors
                elif attr.type == AttributeProto.GRAPH:
                    stack.append((attr.g, depth + 1))
                elif attr.type == AttributeProto.GRAPHS:
                    stack.extend((g, depth + 1) for g in attr.graphs)


def _check_declared_dims(model) -> None:
    """Graph input/output/value_info dims must fit TFLite's int32 dimensions."""
    g = model.graph
    for info in (*g.input, *g.output, *g.value_info):
        if not info.type.HasField("tensor_type"):
            continue
        dims = [d.dim_value for d in info.type.tensor_type.shape.dim if d.HasField("dim_value")]
        if any(not 0 <= d < 2 ** 31 for d in dims):
            raise ConversionError(f"{info.name!r}: dims {dims} do not fit TFLite's int32 dimensions")


def _external_info(t) -> dict[str, str]:
    return {entry.key: entry.value for entry in t.external_data}


def _check_declared_size(t, budget: MemoryBudget, external: bool) -> None:
    dims = list(t.dims)
    if any(d < 0 for d in dims):
        raise ConversionError(f"tensor {t.name!r}: negative dimension in dims {dims}")
    count = math.prod(dims)
    nbytes = count * _itemsize(t.data_type)
    budget.check(nbytes, f"ONNX tensor {t.name!r} (dims {dims})")
    if external:
        length = _external_info(t).get("length")
        if length is not None and length.isdigit() and int(length) != nbytes and t.data_type != 8:
            raise ConversionError(f"tensor {t.name!r}: dims {dims} need {nbytes} bytes, its external data "
                                  f"declares {length}")
        return
    if t.HasField("raw_data") and t.data_type != 8:  # strings have no raw_data layout
        if len(t.raw_data) != nbytes:
            raise ConversionError(f"tensor {t.name!r}: dims {dims} need {nbytes} bytes, raw_data holds "
                                  f"{len(t.raw_data)}")


def _check_external(t, base_dir: Path) -> None:
    info = _external_info(t)
    location = info.get("location", "")
    where = f"tensor {t.name!r}: external data location {location!r}"
    if not location:
        raise ConversionError(f"{where} is empty")
    if os.path.isabs(location) or Path(location).is_absolute() or location.startswith(("/", "\\")) \
            or (len(location) > 1 and location[1] == ":"):
        raise ConversionError(f"{where} is an absolute path; external data must be inside the model's folder")
    target = (base_dir / location).resolve()
    try:
        target.relative_to(base_dir)
    except ValueError:
        raise ConversionError(f"{where} leads outside the model's folder {str(base_dir)!r}") from None
    if not target.is_file():
        raise ConversionError(f"{where}: no such file in the model's folder")
    size = target.stat().st_size
    try:
        offset = int(info.get("offset", "0") or 0)
        length = int(info["length"]) if info.get("length") else size - offset
    except ValueError:
        raise ConversionError(f"{where}: offset/length are not integers") from None
    if offset < 0 or length < 0 or offset + length > size:
        raise ConversionError(f"{where}: bytes {offset}..{offset + length} are outside the "
                              f"{size}-byte file")


# ops whose output size comes from input values; folding them first checks the size
_SHAPE_FROM_VALUES = {"ConstantOfShape", "Expand", "Tile", "Range", "OneHot", "Resize", "Upsample", "Pad"}


def fold_would_exceed(op_type: str, values: list, limit_elements: int) -> bool:
    """True if folding ``op_type`` on these constant inputs would make an output of more than
    ``limit_elements`` elements (judged before evaluating it). Unknown ops: False."""
    if op_type not in _SHAPE_FROM_VALUES:
        return False
    try:
        arrays = [None if v is None else np.asarray(v) for v in values]
        if op_type == "ConstantOfShape":
            return _prod(arrays[0]) > limit_elements
        if op_type == "Expand":
            target = [int(d) for d in arrays[1].reshape(-1)]
            shape = np.broadcast_shapes(arrays[0].shape, tuple(max(d, 0) for d in target))
            return math.prod(shape) > limit_elements
        if op_type == "Tile":
            return arrays[0].size * _prod(arrays[1]) > limit_elements
        if op_type == "Range":
            start, limit, delta = (float(np.asarray(a).reshape(-1)[0]) for a in arrays[:3])
            if delta == 0 or not all(map(math.isfinite, (start, limit, delta))):
                return True
            return math.ceil((limit - start) / delta) > limit_elements
        if op_type == "OneHot":
            return arrays[0].size * abs(int(np.asarray(arrays[1]).reshape(-1)[0])) > limit_elements
        # Resize / Upsample / Pad: scales, sizes or pads; bound by the largest plausible growth
        extra = [a for a in arrays[1:] if a is not None and a.size]
        if any(a.dtype.kind == "f" and a.size and float(np.max(np.abs(a))) * arrays[0].size > limit_elements
               for a in extra):
            return True
        return any(a.dtype.kind in "iu" and a.size and int(np.max(np.abs(a))) > limit_elements for a in extra)
    except (ValueError, TypeError, IndexError, OverflowError):
        return False  # malformed: the evaluator will refuse it itself


def _prod(a) -> int:
    return math.prod(max(int(d), 0) for d in np.asarray(a).reshape(-1))


def typed_errors(convert):
    """Decorator for a conversion entry point: any exception that is not already an edgelite error
    (a converter bug a hostile model trips: IndexError, OverflowError, numpy or onnx errors...)
    becomes a :class:`ConversionError` saying so, the original as its ``__cause__``. ``TypeError``
    from a wrong argument type and ``KeyboardInterrupt`` pass through."""
    import functools

    from ..errors import ModelError

    @functools.wraps(convert)
    def wrapper(*args, **kwargs):
        try:
            return convert(*args, **kwargs)
        except (ConversionError, ModelError, MemoryError, RecursionError) as e:
            if isinstance(e, MemoryError):
                raise ConversionError(f"ran out of memory while converting: {e}") from e
            if isinstance(e, RecursionError):
                raise ConversionError(f"the model nests too deeply to convert: {e}") from e
            raise
        except OSError:
            raise  # a missing file is the caller's problem, as for any open()
        except Exception as e:  # noqa: BLE001 - the point of the decorator
            if isinstance(e, TypeError) and (getattr(e, "wrong_argument", False) or (
                    e.__traceback__ is not None and e.__traceback__.tb_next is None)):
                raise  # a wrong argument (bad keyword, not a path/bytes/ModelProto)
            raise ConversionError(f"internal converter error {type(e).__name__}: {e} (please report it)") from e
    return wrapper

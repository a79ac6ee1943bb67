"""Datasets from paths, read with Ray Data's own readers, and the default image decoding.

``read_dataset("imgs/*.jpg")`` gives rows ``{"path", "bytes"}`` (``ray.data.read_binary_files``):
images are decoded inside the workers, one row at a time, so that an undecodable file becomes
an error in that row instead of failing the job. ``.npy`` files go through
``ray.data.read_numpy`` (one row per entry of axis 0, column ``data``), Parquet through
``ray.data.read_parquet``, and ``.npz`` files are expanded to one row per entry of axis 0 with a
column per array name.
"""
from __future__ import annotations

import glob
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from .feeding import ERROR_COLUMN, to_input_dtype

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
KINDS = ("images", "numpy", "npz", "parquet")


def _ray_data():
    try:
        import ray.data
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("edgelite.batch needs Ray Data: pip install 'edgelite[ray]'") from e
    return ray.data


def _expand(source: str | os.PathLike | list) -> list[str]:
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    paths: list[str] = []
    for item in items:
        item = os.fspath(item)
        if os.path.isdir(item):
            paths += sorted(str(p) for p in Path(item).rglob("*") if p.is_file())
        elif glob.has_magic(item):
            paths += sorted(glob.glob(item, recursive=True))
        else:
            paths.append(item)
    if not paths:
        raise FileNotFoundError(f"no files match {source!r}")
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"no such file: {p}")
    return paths


def source_kind(paths: list[str]) -> str:
    """The reader for these files: images, numpy (.npy), npz or parquet (one kind per call)."""
    kinds = set()
    for p in paths:
        suffix = Path(p).suffix.lower()
        kinds.add("images" if suffix in IMAGE_SUFFIXES else
                  {".npy": "numpy", ".npz": "npz", ".parquet": "parquet"}.get(suffix, suffix or p))
    if len(kinds) != 1 or not kinds <= set(KINDS):
        raise ValueError(f"cannot read {sorted(kinds)} as one dataset; give images, .npy, .npz or "
                         "Parquet files (one kind), or a ray.data.Dataset")
    return kinds.pop()


def _npz_rows(row: dict[str, Any]) -> list[dict[str, np.ndarray]]:
    with np.load(io.BytesIO(row["bytes"])) as z:
        arrays = {k: z[k] for k in z.files}
    n = min(len(a) for a in arrays.values()) if arrays else 0
    return [{k: a[i] for k, a in arrays.items()} for i in range(n)]


def read_dataset(source) -> tuple[Any, str]:
    """``(dataset, kind)`` for a ``ray.data.Dataset`` (kind "dataset") or paths/globs/folders."""
    rd = _ray_data()
    if isinstance(source, rd.Dataset):
        return source, "dataset"
    paths = _expand(source)
    kind = source_kind(paths)
    if kind == "images":
        return rd.read_binary_files(paths, include_paths=True), kind
    if kind == "numpy":
        return rd.read_numpy(paths), kind
    if kind == "parquet":
        return rd.read_parquet(paths), kind
    return rd.read_binary_files(paths).flat_map(_npz_rows), kind


class ImageDecoder:
    """Default preprocessing of image rows: decode, resize to the model input, scale.

    RGB (or grayscale for 1-channel inputs), bilinear resize to the input's height and width.
    uint8 inputs get the pixels as they are; other inputs get pixels / 255, quantized where the
    input is quantized. Pass ``preprocess=`` to ``predict`` for any other normalization.
    """

    def __init__(self, input_detail: dict):
        shape = [int(s) for s in input_detail["shape"]]
        if len(shape) != 4 or shape[3] not in (1, 3):
            raise ValueError(f"image files need a model with one NHWC image input of 1 or 3 channels, "
                             f"not shape {shape}")
        self.detail = input_detail
        self.height, self.width, self.channels = shape[1], shape[2], shape[3]

    def decode(self, data: bytes) -> np.ndarray:
        from PIL import Image
        with Image.open(io.BytesIO(data)) as im:
            im = im.convert("L" if self.channels == 1 else "RGB")
            im = im.resize((self.width, self.height), Image.BILINEAR)
            pixels = np.asarray(im, np.uint8).reshape(self.height, self.width, self.channels)
        if np.dtype(self.detail["dtype"]) == np.uint8:
            return pixels
        return to_input_dtype(pixels.astype(np.float32) / 255.0, self.detail)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        images, errors = [], []
        blank = np.zeros((self.height, self.width, self.channels), self.detail["dtype"])
        for data in batch["bytes"]:
            try:
                images.append(self.decode(data))
                errors.append(None)
            except Exception as e:  # noqa: BLE001 - recorded in the row's error column
                images.append(blank)
                errors.append(f"cannot decode image: {type(e).__name__}: {e}")
        return {self.detail["name"]: np.stack(images) if images else blank[:0],
                ERROR_COLUMN: np.array(errors, dtype=object)}

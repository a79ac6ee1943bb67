"""Labelled image sets for the model maker: a folder with one subfolder per class, or arrays.

Images are kept as uint8 RGB arrays of their own size; the backbone resizes them to its input
size when it computes features (``edgelite.model_maker.backbones``).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"}


def _to_rgb_uint8(image, where: str) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating) and a.size and a.min() >= 0 and a.max() <= 1.0:
            a = a * 255.0
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"{where}: an image must be HxW, HxWx1, HxWx3 or HxWx4, got shape {a.shape}")
    return np.ascontiguousarray(a)


class DataLoader:
    """Images (uint8 RGB arrays) with integer labels and the class names."""

    def __init__(self, images: Sequence[np.ndarray], labels: Sequence[int], label_names: Sequence[str]):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images = list(images)
        self.labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        self.label_names = [str(n) for n in label_names]
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() >= len(self.label_names)):
            raise ValueError(f"labels must be in [0, {len(self.label_names)}), got "
                             f"{self.labels.min()}..{self.labels.max()}")

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def __len__(self) -> int:
        return len(self.images)

    @classmethod
    def from_folder(cls, path: str | os.PathLike, *, shuffle: bool = True, seed: int = 0) -> DataLoader:
        """One subfolder per class (sorted names are the labels), any Pillow-readable image in it.
        The order is shuffled with ``seed`` (as TFLite Model Maker does) so that ``split`` is not
        one class after another."""
        from PIL import Image
        root = Path(path)
        if not root.is_dir():
            raise FileNotFoundError(f"image folder not found: {root}")
        classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not classes:
            raise ValueError(f"{root}: no class subfolders (expected one subfolder per class)")
        images, labels = [], []
        for label, name in enumerate(classes):
            for f in sorted((root / name).iterdir()):
                if f.suffix.lower() not in _IMAGE_SUFFIXES:
                    continue
                try:
                    with Image.open(f) as im:
                        images.append(_to_rgb_uint8(np.asarray(im.convert("RGB")), str(f)))
                except OSError as e:
                    raise ValueError(f"{f}: not a readable image ({e})") from e
                labels.append(label)
        if not images:
            raise ValueError(f"{root}: no images found in the class subfolders")
        data = cls(images, labels, classes)
        return data.shuffled(seed) if shuffle else data

    @classmethod
    def from_arrays(cls, images, labels, label_names: Sequence[str] | None = None) -> DataLoader:
        """``images``: an (N, H, W[, C]) array or a list of arrays (uint8, or float in [0, 1]);
        ``labels``: N integers. ``label_names`` defaults to "0", "1", ..."""
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
        conv = [_to_rgb_uint8(im, f"image {i}") for i, im in enumerate(images)]
        if label_names is None:
            label_names = [str(i) for i in range(int(labels.max()) + 1 if labels.size else 0)]
        return cls(conv, labels, label_names)

    def shuffled(self, seed: int = 0) -> DataLoader:
        order = np.random.default_rng(seed).permutation(len(self))
        return DataLoader([self.images[i] for i in order], self.labels[order], self.label_names)

    def split(self, fraction: float) -> tuple[DataLoader, DataLoader]:
        """The first ``fraction`` of the items and the rest (no reshuffle: fixed splits)."""
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"split fraction must be in (0, 1), got {fraction}")
        n = round(len(self) * fraction)
        return (DataLoader(self.images[:n], self.labels[:n], self.label_names),
                DataLoader(self.images[n:], self.labels[n:], self.label_names))

"""Loading calibration / debugging data for the command line.

``DATA`` is an ``.npz`` file (arrays named after the model inputs, or
``input_0 .. input_k``, each with a leading sample axis — or a single sample
when the array has exactly the input's rank), an ``.npy`` file (one input,
leading sample axis), or a folder of images (``.png``/``.jpg``/... with Pillow;
binary ``.ppm``/``.pgm`` also without it) resized to the input's height and width, then
``(pixel - mean) / std`` per channel.

For a model with several signatures, ``DATA`` is an ``.npz`` whose arrays are named
``SIGNATURE/INPUT`` (signature key and signature input name, leading sample axis);
signatures without arrays get no samples.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..ir import Model

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".gif", ".webp"}


def _split_samples(arr: np.ndarray, rank: int) -> list[np.ndarray]:
    if arr.ndim == rank:
        return [arr]
    if arr.ndim == rank + 1:
        return list(arr)
    raise ValueError(f"array of shape {list(arr.shape)} fits neither one sample (rank {rank}) nor a "
                     f"stack of samples (rank {rank + 1})")


def load_samples(path: str | Path, model: Model, size: tuple[int, int] | None = None,
                 mean: float | list[float] = 0.0, std: float | list[float] = 1.0,
                 limit: int | None = None) -> list[list[np.ndarray]]:
    """One list of input arrays per sample, in model input order."""
    path = Path(path)
    sg = model.main
    inputs = [sg.tensors[i] for i in sg.inputs]
    if not path.exists():
        raise FileNotFoundError(f"calibration data {path} does not exist")
    if path.is_dir():
        return _load_images(path, inputs, size, mean, std, limit)
    if path.suffix == ".npy":
        if len(inputs) != 1:
            raise ValueError(f"{path}: a .npy file feeds one input; the model has {len(inputs)}")
        per_input = [_split_samples(np.load(path), len(inputs[0].shape))]
    elif path.suffix == ".npz":
        z = np.load(path)
        per_input = []
        for k, t in enumerate(inputs):
            for key in (t.name, f"input_{k}", t.name.split(":")[0]):
                if key in z.files:
                    per_input.append(_split_samples(z[key], len(t.shape)))
                    break
            else:
                raise ValueError(f"{path}: no array for input {k} {t.name!r} (looked for {t.name!r}, "
                                 f"'input_{k}'); arrays: {z.files}")
    else:
        raise ValueError(f"{path}: calibration data must be .npz, .npy or a folder of images")
    n = min(len(p) for p in per_input)
    samples = [[p[i].astype(t.numpy_dtype) for p, t in zip(per_input, inputs)] for i in range(n)]
    return samples[:limit] if limit else samples


def read_pnm(path: Path) -> np.ndarray:
    """A binary PPM (P6) or PGM (P5) image as uint8 HxWxC, without Pillow."""
    raw = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:
        while raw[pos:pos + 1].isspace():
            pos += 1
        if raw[pos:pos + 1] == b"#":
            pos = raw.index(b"\n", pos) + 1
            continue
        end = pos
        while not raw[end:end + 1].isspace():
            end += 1
        fields.append(raw[pos:end])
        pos = end
    magic, w, h, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic not in (b"P5", b"P6") or maxval > 255:
        raise ValueError(f"{path}: only 8-bit binary PGM (P5) / PPM (P6) images are read without Pillow")
    c = 3 if magic == b"P6" else 1
    pixels = np.frombuffer(raw, np.uint8, count=h * w * c, offset=pos + 1)
    return pixels.reshape(h, w, c)


def resize_bilinear(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """Half-pixel-centre bilinear resize of an HxWxC float image."""
    ih, iw = img.shape[:2]
    ys = np.clip((np.arange(h) + 0.5) * ih / h - 0.5, 0, ih - 1)
    xs = np.clip((np.arange(w) + 0.5) * iw / w - 0.5, 0, iw - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, ih - 1), np.minimum(x0 + 1, iw - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - fx) + img[y0][:, x1] * fx
    bottom = img[y1][:, x0] * (1 - fx) + img[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def _read_image(path: Path, h: int, w: int, c: int) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        if path.suffix.lower() not in (".ppm", ".pgm"):
            raise ValueError(f"{path}: reading {path.suffix} images needs Pillow (pip install pillow); "
                             "PPM/PGM work without it") from None
        img = read_pnm(path).astype(np.float32)
        if img.shape[2] != c:
            img = np.repeat(img, c, axis=2) if img.shape[2] == 1 else img.mean(axis=2, keepdims=True)
        return resize_bilinear(img, h, w).astype(np.float32)
    img = Image.open(path).convert("RGB" if c == 3 else "L").resize((w, h), Image.BILINEAR)
    return np.asarray(img, np.float32).reshape(h, w, c)


def _load_images(folder: Path, inputs, size, mean, std, limit) -> list[list[np.ndarray]]:
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise ValueError("a folder of images feeds a model with one NHWC image input")
    _, h, w, c = inputs[0].shape
    if size:
        h, w = size
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    mean_a = np.asarray(mean, np.float32).reshape(-1)
    std_a = np.asarray(std, np.float32).reshape(-1)
    out = []
    for f in files[:limit] if limit else files:
        x = _read_image(f, h, w, c)
        out.append([((x - mean_a) / std_a)[None].astype(np.float32)])
    return out


def load_signature_samples(path: str | Path, model: Model,
                           limit: int | None = None) -> dict[str, list[dict[str, np.ndarray]]]:
    """{signature key: samples} from an ``.npz`` with arrays named ``SIGNATURE/INPUT``; each
    sample is a dict {signature input name: array}."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"calibration data {path} does not exist")
    if path.suffix != ".npz":
        raise ValueError(f"{path}: a model with several signatures is calibrated from an .npz with "
                         "arrays named SIGNATURE/INPUT")
    z = np.load(path)
    out: dict[str, list[dict[str, np.ndarray]]] = {}
    for sig in model.signature_defs:
        sg = model.subgraphs[sig.subgraph_index]
        present = [name for name in sig.inputs if f"{sig.key}/{name}" in z.files]
        if not present:
            continue
        missing = [name for name in sig.inputs if name not in present]
        if missing:
            raise ValueError(f"{path}: signature {sig.key!r} has arrays for {present} but not for "
                             f"{missing} (expected arrays named {[f'{sig.key}/{m}' for m in missing]})")
        per_input = {name: _split_samples(z[f"{sig.key}/{name}"], len(sg.tensors[t].shape))
                     for name, t in sig.inputs.items()}
        n = min(len(v) for v in per_input.values())
        samples = [{name: per_input[name][i].astype(sg.tensors[t].numpy_dtype)
                    for name, t in sig.inputs.items()} for i in range(n)]
        out[sig.key] = samples[:limit] if limit else samples
    known = {f"{s.key}/{name}" for s in model.signature_defs for name in s.inputs}
    unknown = [k for k in z.files if k not in known]
    if unknown:
        raise ValueError(f"{path}: arrays {unknown} name no signature input; expected names among "
                         f"{sorted(known)}")
    return out

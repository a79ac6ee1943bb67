"""``TensorImage``: an image for the vision tasks (decoded with Pillow, or from a numpy array)."""
from __future__ import annotations

import enum
import io
import os

import numpy as np


class ColorSpaceType(enum.Enum):
    UNKNOWN = 0
    RGB = 1
    GRAYSCALE = 2
    RGBA = 3


def _pillow():
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("decoding images needs Pillow: pip install 'edgelite[vision]'") from e
    return Image


def _decode(image) -> np.ndarray:
    """A Pillow image as uint8 RGB, RGBA or gray, like stb_image's channel choices."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
    elif image.mode in ("L", "1", "I;16", "I", "F"):
        image = image.convert("L")
    elif image.mode != "RGB":
        image = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))


class TensorImage:
    """A uint8 image of shape (H, W, 3) RGB, (H, W, 4) RGBA or (H, W) gray."""

    def __init__(self, array: np.ndarray, is_from_numpy_array: bool = True) -> None:
        self._buffer = array
        self._is_from_numpy_array = is_from_numpy_array

    @classmethod
    def create_from_file(cls, file_name: str) -> "TensorImage":
        """Decode an image file (JPEG, PNG, BMP, GIF...) with Pillow."""
        path = os.fspath(file_name)
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such image file: {path}")
        try:
            with _pillow().open(path) as image:
                return cls(_decode(image), is_from_numpy_array=False)
        except OSError as e:
            raise RuntimeError(f"Image decoding failed ({e}) for file {path}") from e

    @classmethod
    def create_from_buffer(cls, buffer: bytes) -> "TensorImage":
        """Decode an encoded image held in memory."""
        try:
            with _pillow().open(io.BytesIO(bytes(buffer))) as image:
                return cls(_decode(image), is_from_numpy_array=False)
        except OSError as e:
            raise RuntimeError(f"Image decoding failed: {e}") from e

    @classmethod
    def create_from_array(cls, array: np.ndarray) -> "TensorImage":
        """Wrap a uint8 array: (h, w, 3) or (1, h, w, 3) RGB, (h, w[, 4]) gray or RGBA."""
        array = np.asarray(array)
        if array.dtype != np.uint8:
            raise ValueError("Expect numpy array with dtype=uint8.")
        squeezed = np.squeeze(array)
        if squeezed.ndim not in (2, 3) or (squeezed.ndim == 3 and squeezed.shape[2] not in (3, 4)):
            raise ValueError(f"Expect an image of shape (h, w), (h, w, 3) or (h, w, 4), got "
                             f"{array.shape}.")
        return cls(np.ascontiguousarray(squeezed))

    @property
    def buffer(self) -> np.ndarray:
        return self._buffer

    @property
    def height(self) -> int:
        return int(self._buffer.shape[0])

    @property
    def width(self) -> int:
        return int(self._buffer.shape[1])

    @property
    def color_space_type(self) -> ColorSpaceType:
        if self._buffer.ndim == 2:
            return ColorSpaceType.GRAYSCALE
        return ColorSpaceType.RGB if self._buffer.shape[2] == 3 else ColorSpaceType.RGBA

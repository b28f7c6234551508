"""Mask codec: official RGB PNG masks <-> uint16 label maps.

A pixel's label is R + 256 * G (B unused); 0 is "other", 1000 is "ignore".
Single-channel PNGs (modes L, P, I;16, I) are accepted too: there the pixel
value is the label.
"""

from __future__ import annotations

import io
import os
from typing import Any, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

MaskSource = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, dict, Image.Image, np.ndarray]

MAX_LABEL = 65535  # largest label the RGB encoding can hold (R = 255, G = 255)

_SINGLE_CHANNEL_MODES = ("L", "P", "I;16", "I;16L", "I;16B", "I;16N", "I")


def decode_mask(source: MaskSource, *, name: str | None = None) -> np.ndarray:
    """Decode a mask or prediction to its label map.

    Args:
        source: a PNG path, PNG bytes, a `{"bytes": ..., "path": ...}` dict as
            `datasets.Image(decode=False)` gives, a PIL image, or an array:
            (H, W) integer labels or (H, W, 3) uint8 RGB.
        name: what to call the mask in error messages (defaults to its path).

    Returns:
        (H, W) uint16 label map.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: the file is not a readable PNG, or its mode or values
            cannot hold labels.
    """
    if isinstance(source, np.ndarray):
        return _labels_from_array(source, name or "array")
    if isinstance(source, Image.Image):
        return _labels_from_image(source, name or getattr(source, "filename", "") or "image")
    if isinstance(source, dict):
        if source.get("bytes") is not None:
            return decode_mask(source["bytes"], name=name or source.get("path") or "bytes")
        if source.get("path"):
            return decode_mask(source["path"], name=name)
        raise ValueError(f"{name or 'mask'}: the dict has neither 'bytes' nor 'path'")
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _decode_png(io.BytesIO(bytes(source)), name or "bytes")
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"mask not found: {path}")
        with open(path, "rb") as file:
            return _decode_png(file, name or path)
    raise TypeError(
        f"{name or 'mask'}: cannot decode a {type(source).__name__}; "
        "give a PNG path, PNG bytes, a PIL image or a numpy array"
    )


def encode_mask(labels: np.ndarray) -> Image.Image:
    """Encode an (H, W) label map (values 0..65535) as the official RGB image: R = I % 256, G = I // 256."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"a label map must be 2-D (H, W), got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > MAX_LABEL):
        raise ValueError(f"labels must lie in 0..{MAX_LABEL}, got {labels.min()}..{labels.max()}")
    labels = labels.astype(np.uint16, copy=False)
    rgb = np.zeros(labels.shape + (3,), dtype=np.uint8)
    rgb[..., 0] = labels & 0xFF
    rgb[..., 1] = labels >> 8
    return Image.fromarray(rgb, mode="RGB")


def encode_mask_png(labels: np.ndarray, *, compress_level: int = 6) -> bytes:
    """`encode_mask` as PNG file bytes."""
    buffer = io.BytesIO()
    encode_mask(labels).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def _decode_png(file: Any, name: str) -> np.ndarray:
    try:
        image = Image.open(file)
        image_format = image.format
        image.load()
    except UnidentifiedImageError:
        # PIL's message only names its file object ("<_io.BytesIO object at 0x...>"): say what we know
        raise ValueError(
            f"{name}: not a readable PNG (empty, truncated or not an image); re-save it as an RGB or single-channel PNG"
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"{name}: not a readable PNG ({error}); re-save it as an RGB or single-channel PNG") from None
    if image_format != "PNG":
        raise ValueError(
            f"{name}: is a {image_format} file, not a PNG; masks and predictions must be lossless PNGs "
            "(label I encoded as R = I % 256, G = I // 256)"
        )
    return _labels_from_image(image, name)


def _labels_from_image(image: Image.Image, name: str) -> np.ndarray:
    mode = image.mode
    if mode == "RGB":
        rgb = np.asarray(image)
        # uint8 * 256 overflows (or raises) under numpy 2: widen before combining.
        return rgb[..., 0].astype(np.uint16) | (rgb[..., 1].astype(np.uint16) << 8)
    if mode in _SINGLE_CHANNEL_MODES:
        return _labels_from_array(np.asarray(image), name)
    raise ValueError(
        f"{name}: unsupported image mode {mode!r}; use RGB (label = R + 256 * G) "
        f"or a single-channel mode ({', '.join(_SINGLE_CHANNEL_MODES)}) whose value is the label"
    )


def _labels_from_array(array: np.ndarray, name: str) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] in (3, 4) and array.dtype == np.uint8:
        if array.shape[2] == 4:
            raise ValueError(f"{name}: RGBA masks are not supported; drop the alpha channel (label = R + 256 * G)")
        return array[..., 0].astype(np.uint16) | (array[..., 1].astype(np.uint16) << 8)
    if array.ndim != 2:
        raise ValueError(f"{name}: expected an (H, W) label map or (H, W, 3) uint8 RGB array, got shape {array.shape}")
    return as_label_map(array, name)


def as_label_map(array, name: str = "label map") -> np.ndarray:
    """Check that `array` is an (H, W) integer label map with values 0..65535 -> (H, W) uint16.

    Raises:
        ValueError: another shape, a non-integer dtype, or values out of range;
            the message starts with `name`.
    """
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"{name}: must be an (H, W) label map, got shape {array.shape}")
    if array.dtype == np.uint16:
        return array
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name}: label maps must hold integer labels, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() > MAX_LABEL):
        raise ValueError(f"{name}: labels {array.min()}..{array.max()} lie outside 0..{MAX_LABEL}")
    return array.astype(np.uint16)

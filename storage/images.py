"""Reading images from untrusted files and bytes, and normalising them.

Every image that enters retouch goes through `load_image`: it refuses what is not
a complete image or is too large *before* decoding pixels, applies the EXIF
orientation, and converts every mode to RGB, or RGBA when the image has alpha, so
tools and the store only ever see those two modes.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from storage.errors import ImageError

# 64 megapixels: a 8000x8000 photo passes, a decompression bomb does not.
DEFAULT_MAX_PIXELS = 64_000_000

ImageSource = Union[str, os.PathLike, bytes, Image.Image]


def load_image(source: ImageSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open, validate and normalise an image from a path, raw bytes or a PIL image."""
    if isinstance(source, Image.Image):
        _check_size(source.size, max_pixels, "image")
        return normalize_mode(source)
    name, data = _read_source(source)
    if not data:
        raise ImageError(f"{name} is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            # Pillow warns (then errors) on bombs itself; we enforce our own limit first.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _check_size(image.size, max_pixels, name)
            image.load()
    except ImageError:
        raise
    except Image.DecompressionBombError:
        # Pillow's own guard fired before ours could read the size: same answer.
        raise ImageError(f"{name} is too large to open safely: over the limit of "
                         f"{max_pixels:,} pixels (set RETOUCH_MAX_PIXELS to allow more)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image retouch can read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name} is truncated or corrupt ({exc})") from None
    image = ImageOps.exif_transpose(image)
    return normalize_mode(image)


def _read_source(source) -> tuple[str, bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "the uploaded image", bytes(source)
    path = Path(source)
    if not path.is_file():
        raise ImageError(f"{path} does not exist or is not a file")
    return str(path), path.read_bytes()


def _check_size(size: tuple[int, int], max_pixels: int, name: str) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(f"{name} has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ImageError(
            f"{name} is {width}x{height} = {width * height:,} pixels, over the limit of "
            f"{max_pixels:,} (set RETOUCH_MAX_PIXELS to allow more)"
        )


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )


def normalize_mode(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB, or RGBA when the image carries alpha.

    16- and 32-bit greyscale are scaled to 8 bits by their real range of values
    (so a 12-bit scan is not clipped to white); CMYK goes through Pillow's
    conversion; palettes are expanded.
    """
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") else max(float(array.max()), 1.0)
        if image.mode == "F" and array.max() <= 1.0:
            top = 1.0
        eight_bit = np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(eight_bit, "L").convert("RGB")
    return image.convert("RGBA" if has_alpha(image) else "RGB")

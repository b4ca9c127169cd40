"""Masks: where an edit may change the image.

A mask is an "L" image the size of the photo, 255 = change here, 0 = keep. It comes
from an uploaded mask image, a box, or a scribble (the user paints over a copy of the
photo in a bright colour, red by default, and the painted pixels become the region).
`grow` and `feather` widen and soften a mask; `difference_mask` measures where an
edit actually changed pixels.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageColor

from tools.errors import ToolError

# A differently-sized mask is accepted (and resized) only when its shape matches.
_ASPECT_TOLERANCE = 0.01


def _as_array(mask: Image.Image | np.ndarray) -> np.ndarray:
    return np.asarray(mask.convert("L") if isinstance(mask, Image.Image) else mask, dtype=np.uint8)


def check_mask(mask: Image.Image, size: tuple[int, int], what: str = "mask") -> Image.Image:
    """An "L" mask of exactly `size`, or a one-line ToolError saying what is wrong with it."""
    if mask.mode != "L":
        mask = mask.convert("L")
    if mask.size != tuple(size):
        mask = _resize_same_shape(mask, size, what)
    if not np.asarray(mask).any():
        raise ToolError(f"the {what} is empty (all black): paint the region to change in white")
    return mask


def _resize_same_shape(mask: Image.Image, size: tuple[int, int], what: str) -> Image.Image:
    (mw, mh), (w, h) = mask.size, size
    if abs(mw / mh - w / h) > _ASPECT_TOLERANCE * (w / h):
        raise ToolError(f"the {what} is {mw}x{mh} but the image is {w}x{h}: "
                        f"a mask must have the image's size (or at least its shape)")
    return mask.resize(size, Image.Resampling.BILINEAR)


def mask_from_image(upload: Image.Image, size: tuple[int, int]) -> Image.Image:
    """An uploaded mask: white (or opaque, for a transparent PNG) = change here."""
    if upload.mode in ("RGBA", "LA") or "transparency" in upload.info:
        alpha = np.asarray(upload.convert("RGBA"))[..., 3]
        if alpha.min() < 255:  # a cut-out or painted layer: its opaque pixels are the region
            return check_mask(Image.fromarray(alpha, "L"), size)
    grey = np.asarray(upload.convert("L"))
    binary = np.where(grey >= 128, 255, 0).astype(np.uint8)
    return check_mask(Image.fromarray(binary, "L"), size)


def mask_from_box(box: tuple[float, float, float, float], size: tuple[int, int]) -> Image.Image:
    """A rectangle (x0, y0, x1, y1) in pixels, or in fractions of the image when all are <= 1."""
    if len(box) != 4:
        raise ToolError(f"a box needs four numbers x0,y0,x1,y1 (got {len(box)})")
    w, h = size
    x0, y0, x1, y1 = (float(v) for v in box)
    if max(x0, y0, x1, y1) <= 1.0:
        x0, x1, y0, y1 = x0 * w, x1 * w, y0 * h, y1 * h
    x0, x1 = (min(max(0, round(v)), w) for v in sorted((x0, x1)))
    y0, y1 = (min(max(0, round(v)), h) for v in sorted((y0, y1)))
    if x1 - x0 < 1 or y1 - y0 < 1:
        raise ToolError(f"the box {tuple(box)} covers no pixels of the {w}x{h} image")
    array = np.zeros((h, w), np.uint8)
    array[y0:y1, x0:x1] = 255
    return Image.fromarray(array, "L")


def parse_color(name: str) -> tuple[int, int, int]:
    """'red', '#ff0000', 'rgb(255,0,0)' -> (255, 0, 0), or a one-line ToolError."""
    try:
        return ImageColor.getrgb(str(name).strip().lower().replace(" ", ""))[:3]
    except ValueError:
        raise ToolError(f"'{name}' is not a colour (try a name like red or a code like #ff0000)") from None


def mask_from_scribble(scribble: Image.Image, original: Image.Image | None = None,
                       color: str | tuple[int, int, int] = "red", fill_holes: bool = True) -> Image.Image:
    """The painted region of a scribble: pixels of the paint colour that differ from the original.

    With the original photo, only pixels the user changed count, so a red jumper in
    the photo is not mistaken for paint. A closed outline is filled, as a person who
    circles an object means the object.
    """
    paint = np.array(parse_color(color) if isinstance(color, str) else color, np.int16)
    pixels = np.asarray(scribble.convert("RGB"), np.int16)
    # Close to the paint colour, allowing for anti-aliased brush edges and JPEG.
    painted = np.abs(pixels - paint).max(axis=2) <= 60
    if original is not None:
        if original.size != scribble.size:
            raise ToolError(f"the scribble is {scribble.width}x{scribble.height} but the image is "
                            f"{original.width}x{original.height}: paint over a copy of the image itself")
        before = np.asarray(original.convert("RGB"), np.int16)
        painted &= np.abs(pixels - before).max(axis=2) > 40
    region = painted.astype(np.uint8) * 255
    if not region.any():
        raise ToolError(f"no strokes of the paint colour {color} were found in the scribble: "
                        f"paint over the region to change in {color}")
    # Join the gaps between brush strokes, then fill enclosed outlines.
    region = cv2.morphologyEx(region, cv2.MORPH_CLOSE, _disk(max(2, min(region.shape) // 200)))
    if fill_holes:
        region = _fill_holes(region)
    return Image.fromarray(region, "L")


def _fill_holes(region: np.ndarray) -> np.ndarray:
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = region.copy()
    cv2.drawContours(filled, contours, -1, 255, thickness=cv2.FILLED)
    return filled


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def grow(mask: Image.Image | np.ndarray, pixels: int) -> np.ndarray:
    """Widen the region by `pixels` (shrink it when negative); returns a uint8 array."""
    array = _as_array(mask)
    if pixels == 0:
        return array.copy()
    kernel = _disk(abs(pixels))
    return cv2.dilate(array, kernel) if pixels > 0 else cv2.erode(array, kernel)


def feather(mask: Image.Image | np.ndarray, pixels: float) -> np.ndarray:
    """Soften the mask's edge over about `pixels`; returns a uint8 array."""
    array = _as_array(mask)
    if pixels <= 0:
        return array.copy()
    sigma = pixels / 2.0
    size = 2 * int(np.ceil(2 * sigma)) + 1  # a finite kernel: far pixels stay exactly 0
    return cv2.GaussianBlur(array, (size, size), sigma)


def difference_mask(before: Image.Image | np.ndarray, after: Image.Image | np.ndarray,
                    threshold: int = 20, blur: float = 2.0) -> np.ndarray:
    """Where `after` really differs from `before` (uint8 0/255), ignoring faint noise.

    The per-pixel largest channel difference is smoothed before thresholding, so the
    faint, speckled drift of a re-encoded image does not count as an edit.
    """
    a = np.asarray(before, np.uint8)
    b = np.asarray(after, np.uint8)
    diff = cv2.absdiff(a, b)
    if diff.ndim == 3:
        channels = cv2.split(diff)
        diff = channels[0]
        for channel in channels[1:]:
            diff = cv2.max(diff, channel)
    if blur > 0:
        size = 2 * int(np.ceil(2 * blur)) + 1
        diff = cv2.GaussianBlur(diff, (size, size), blur)
    _, changed = cv2.threshold(diff, threshold, 255, cv2.THRESH_BINARY)
    # Drop isolated specks a few pixels wide.
    return cv2.morphologyEx(changed, cv2.MORPH_OPEN, _disk(2))


def coverage(mask: Image.Image | np.ndarray) -> float:
    """Fraction of the image inside the mask (0..1)."""
    array = _as_array(mask)
    return float(np.count_nonzero(array)) / array.size

"""Camera changes the classic backend can do with pixels alone: zoom in (crop and
resample), zoom out (shrink, and fill the new border from the picture's edges),
rotate and mirror. New viewpoints (side view, from above) need a generative model."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import cv2
import numpy as np

from tools.classic.inpaint import fill_hole
from tools.errors import ToolError, Unsupported

_VIEWPOINT_WORDS = ("angle", "side view", "from above", "from below", "bird", "aerial",
                    "profile", "perspective", "behind", "back view", "top view", "low angle",
                    "high angle", "orbit", "overhead", "worm", "dolly")


@dataclass
class CameraMove:
    kind: str            # zoom_in, zoom_out, rotate, flip
    amount: float = 0.0  # zoom factor (> 1), or degrees counter-clockwise
    axis: str = ""       # flip: horizontal | vertical


def parse_camera(description: str) -> CameraMove:
    text = " ".join(description.lower().split())
    factor = _factor(text)
    if re.search(r"\bzoom(ed|ing)?\s*(in|closer)\b|\bclose[- ]?up\b|\bcloser\b|\bpush in\b|\bcrop in\b", text):
        return CameraMove("zoom_in", factor or 1.5)
    if re.search(r"\bzoom(ed|ing)?\s*out\b|\bwider\b|\bwide shot\b|\bpull back\b|\bfurther away\b", text):
        return CameraMove("zoom_out", factor or 1.4)
    if re.search(r"\b(flip|mirror)", text):
        vertical = re.search(r"vertical|upside|top to bottom", text)
        return CameraMove("flip", axis="vertical" if vertical else "horizontal")
    if re.search(r"\brotat|\bturn|\btilt|\bstraighten", text):
        if "upside down" in text:
            return CameraMove("rotate", 180.0)
        degrees = _degrees(text)
        if degrees is None:
            raise ToolError(f"how far should '{description}' rotate? say e.g. 'rotate 90 degrees "
                            f"left' or 'rotate 5 degrees clockwise'")
        clockwise = re.search(r"\bclockwise|\bright\b|\bcw\b", text) and not re.search(
            r"counter|anti|\bleft\b|\bccw\b", text)
        return CameraMove("rotate", -degrees if clockwise else degrees)
    if "upside down" in text:
        return CameraMove("rotate", 180.0)
    if any(word in text for word in _VIEWPOINT_WORDS):
        raise Unsupported(f"a new viewpoint ('{description}') needs a diffusion backend "
                          f"(see `retouch models`); the classic backend can zoom, rotate and mirror")
    raise Unsupported(f"the classic backend does not understand the camera change '{description}': "
                      f"it can zoom in/out, rotate and mirror; other changes need a diffusion "
                      f"backend (see `retouch models`)")


def _factor(text: str) -> float | None:
    match = re.search(r"(\d+(?:\.\d+)?)\s*(?:x|times|×)", text)
    if match:
        value = float(match.group(1))
    else:
        match = re.search(r"(\d+(?:\.\d+)?)\s*%", text)
        if not match:
            return None
        percent = float(match.group(1))
        value = percent / 100 if percent > 100 else 1 + percent / 100  # 200% -> 2, 50% -> 1.5
    if not 1.0 < value <= 8.0:
        raise ToolError(f"a zoom factor must be between 1 and 8 (got {value:g})")
    return value


def _degrees(text: str) -> float | None:
    match = re.search(r"(-?\d+(?:\.\d+)?)\s*(?:°|deg|degrees?)?", text)
    if match:
        return float(match.group(1))
    if re.search(r"\b(left|right|clockwise|counter|anti|quarter)", text):
        return 90.0
    return None


def move_camera(pixels: np.ndarray, move: CameraMove, seed: int | None = None) -> np.ndarray:
    if move.kind == "zoom_in":
        return zoom_in(pixels, move.amount)
    if move.kind == "zoom_out":
        return zoom_out(pixels, move.amount, seed)
    if move.kind == "flip":
        return np.ascontiguousarray(pixels[:, ::-1] if move.axis == "horizontal" else pixels[::-1])
    return rotate(pixels, move.amount)


def zoom_in(pixels: np.ndarray, factor: float) -> np.ndarray:
    """Crop the centre 1/factor of the frame and resample it to the full size."""
    h, w = pixels.shape[:2]
    cw, ch = max(1, round(w / factor)), max(1, round(h / factor))
    x, y = (w - cw) // 2, (h - ch) // 2
    return cv2.resize(pixels[y:y + ch, x:x + cw], (w, h), interpolation=cv2.INTER_LANCZOS4)


def zoom_out(pixels: np.ndarray, factor: float, seed: int | None = None) -> np.ndarray:
    """Shrink the picture by `factor` inside the same frame and fill the new border from its edges."""
    h, w = pixels.shape[:2]
    sw, sh = max(1, round(w / factor)), max(1, round(h / factor))
    x, y = (w - sw) // 2, (h - sh) // 2
    small = cv2.resize(pixels, (sw, sh), interpolation=cv2.INTER_AREA)
    # Mirror the edges outward as a start, so the fill continues the picture's colours.
    canvas = cv2.copyMakeBorder(small, y, h - sh - y, x, w - sw - x, cv2.BORDER_REFLECT)
    border = np.full((h, w), 255, np.uint8)
    border[y:y + sh, x:x + sw] = 0
    if canvas.ndim == 3 and canvas.shape[2] == 3:
        return fill_hole(canvas, border, seed=seed, margin=1)
    return canvas


def rotate(pixels: np.ndarray, degrees: float) -> np.ndarray:
    """Quarter turns exactly (the frame turns with the picture); other angles straighten:
    rotate and crop to the largest upright rectangle, scaled back to the frame size."""
    turns = degrees / 90.0
    if abs(turns - round(turns)) < 1e-9:
        return np.ascontiguousarray(np.rot90(pixels, k=int(round(turns)) % 4))
    h, w = pixels.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cw, ch = _inscribed(w, h, math.radians(degrees))
    matrix[0, 2] += cw / 2 - w / 2
    matrix[1, 2] += ch / 2 - h / 2
    cropped = cv2.warpAffine(pixels, matrix, (int(cw), int(ch)), flags=cv2.INTER_CUBIC,
                             borderMode=cv2.BORDER_REFLECT)
    return cv2.resize(cropped, (w, h), interpolation=cv2.INTER_CUBIC)


def _inscribed(w: int, h: int, angle: float) -> tuple[float, float]:
    """Largest axis-aligned rectangle of the frame's aspect inside the w x h frame rotated by angle."""
    sin, cos = abs(math.sin(angle)), abs(math.cos(angle))
    # Scale s so the rotated s*w x s*h box fits in w x h.
    scale = min(w / (w * cos + h * sin), h / (w * sin + h * cos))
    return max(1.0, w * scale), max(1.0, h * scale)

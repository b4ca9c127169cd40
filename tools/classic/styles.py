"""The artistic styles OpenCV's non-photorealistic rendering and plain pixel maths can
really do, each by name; anything else is honestly refused."""

from __future__ import annotations

import re
from typing import Callable

import cv2
import numpy as np
from PIL import Image

from tools.errors import Unsupported

# Heavy filters run at about this many pixels and are scaled back up (a sketch of a
# 12 MP photo looks the same and takes seconds, not a minute).
_WORK_PIXELS = 1_200_000


def pencil_sketch(rgb: np.ndarray) -> np.ndarray:
    grey, _ = cv2.pencilSketch(rgb, sigma_s=50, sigma_r=0.08, shade_factor=0.04)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)


def colour_pencil(rgb: np.ndarray) -> np.ndarray:
    _, colour = cv2.pencilSketch(rgb, sigma_s=50, sigma_r=0.08, shade_factor=0.04)
    return colour


def watercolour(rgb: np.ndarray) -> np.ndarray:
    return cv2.stylization(rgb, sigma_s=60, sigma_r=0.45)


def cartoon(rgb: np.ndarray) -> np.ndarray:
    """Flat colour areas (repeated bilateral filtering, few levels per channel) with ink outlines."""
    smooth = rgb
    for _ in range(4):
        smooth = cv2.bilateralFilter(smooth, 9, 40, 7)
    levels = 8
    flat = (smooth // (256 // levels)) * (256 // levels) + (128 // levels)
    grey = cv2.medianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 7)
    block = max(3, (min(rgb.shape[:2]) // 60) | 1)
    edges = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 5)
    return np.where(edges[..., None] > 0, flat, 20).astype(np.uint8)


def oil_painting(rgb: np.ndarray) -> np.ndarray:
    """Kuwahara filter: each pixel takes the mean of its calmest neighbouring quadrant,
    which flattens texture into brush-like patches while keeping edges."""
    radius = max(3, round(min(rgb.shape[:2]) / 120))
    image = rgb.astype(np.float32)
    lum = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    k = radius + 1
    mean = cv2.boxFilter(image, -1, (k, k), anchor=(0, 0), borderType=cv2.BORDER_REFLECT)
    lmean = cv2.boxFilter(lum, -1, (k, k), anchor=(0, 0), borderType=cv2.BORDER_REFLECT)
    lsq = cv2.boxFilter(lum * lum, -1, (k, k), anchor=(0, 0), borderType=cv2.BORDER_REFLECT)
    var = lsq - lmean * lmean
    h, w = lum.shape
    best_var = np.full((h, w), np.inf, np.float32)
    out = np.zeros_like(image)
    # The box anchored at (0, 0) covers [y, y+k) x [x, x+k); shifting it gives the four quadrants.
    for dy in (0, radius):
        for dx in (0, radius):
            qv = _shift(var, dy, dx)
            qm = _shift(mean, dy, dx)
            better = qv < best_var
            best_var = np.where(better, qv, best_var)
            out = np.where(better[..., None], qm, out)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _shift(array: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """array[y - dy, x - dx], edges repeated."""
    pad = [(dy, 0), (dx, 0)] + [(0, 0)] * (array.ndim - 2)
    padded = np.pad(array, pad, mode="edge")
    return padded[: array.shape[0], : array.shape[1]]


def black_and_white_film(rgb: np.ndarray) -> np.ndarray:
    """Panchromatic-looking grey (reds a little lighter), an S-curve, grain and a soft vignette."""
    lum = (rgb.astype(np.float32) @ np.array([0.35, 0.5, 0.15], np.float32)) / 255.0
    curved = 0.5 + 0.5 * np.tanh(2.2 * (lum - 0.5)) / np.tanh(1.1)
    h, w = lum.shape
    grain = np.random.default_rng(7).normal(0.0, 0.03, (h, w)).astype(np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), 0.8)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    radius = np.hypot(xs / w - 0.5, ys / h - 0.5) / np.sqrt(0.5)
    film = np.clip((curved + grain) * (1.0 - 0.25 * radius ** 2), 0, 1)
    grey = (film * 255 + 0.5).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def sepia(rgb: np.ndarray) -> np.ndarray:
    matrix = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]],
                      np.float32)
    toned = rgb.astype(np.float32) @ matrix.T
    return np.clip(toned + 0.5, 0, 255).astype(np.uint8)


def colour_match(rgb: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Give the photo the colour palette of the reference (mean and spread of each Lab channel)."""
    src = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    ref = cv2.cvtColor(reference, cv2.COLOR_RGB2LAB).astype(np.float32)
    src_mean, src_std = src.reshape(-1, 3).mean(0), src.reshape(-1, 3).std(0) + 1e-3
    ref_mean, ref_std = ref.reshape(-1, 3).mean(0), ref.reshape(-1, 3).std(0)
    matched = (src - src_mean) * (ref_std / src_std) + ref_mean
    return cv2.cvtColor(np.clip(matched + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


# Canonical name -> (words that name it, filter). The first name whose words appear wins.
STYLES: dict[str, tuple[tuple[str, ...], Callable[[np.ndarray], np.ndarray]]] = {
    "colour pencil": (("colour pencil", "color pencil", "coloured pencil", "colored pencil",
                       "crayon"), colour_pencil),
    "pencil sketch": (("pencil", "sketch", "charcoal", "drawing"), pencil_sketch),
    "watercolour": (("watercolour", "watercolor", "water colour", "water color", "stylized",
                     "stylised", "painterly"), watercolour),
    "cartoon": (("cartoon", "comic", "anime", "cel shad", "toon"), cartoon),
    "oil painting": (("oil", "impasto", "kuwahara"), oil_painting),
    "black-and-white film": (("black and white", "black-and-white", "b&w", "b/w", "monochrome",
                              "greyscale", "grayscale", "noir", "film"), black_and_white_film),
    "sepia": (("sepia", "vintage", "old photo", "antique"), sepia),
}
COLOUR_MATCH_WORDS = ("colour", "color", "palette", "look", "grade", "grading", "tone", "mood")


def style_name(style: str) -> str:
    """The canonical style a description asks for, or Unsupported naming what exists."""
    text = " ".join(style.lower().replace("_", " ").split())
    for name, (words, _) in STYLES.items():
        if any(re.search(rf"\b{re.escape(word)}", text) for word in words):
            return name
    raise Unsupported(
        f"unknown style '{style}' for the classic backend (it can do: {', '.join(STYLES)}, "
        f"or the colours of a reference image); other styles need a diffusion backend "
        f"(see `retouch models`)")


def apply_style(rgb: np.ndarray, style: str, strength: float = 1.0,
                reference: Image.Image | None = None) -> tuple[np.ndarray, str]:
    """(styled image, the style's canonical name)."""
    text = style.lower()
    if reference is not None and not _names_a_style(text):
        # Classic code can copy a reference's colours, not its brushwork: only do that
        # when colours (or just "the reference") are what was asked for.
        if not any(word in text for word in COLOUR_MATCH_WORDS + ("reference", "this", "that")):
            raise Unsupported(
                f"the classic backend can copy only the colours of a reference image, not the "
                f"style '{style}'; a style from a reference needs a diffusion backend "
                f"(see `retouch models`)")
        styled = colour_match(rgb, np.asarray(reference.convert("RGB")))
        return _mix(rgb, styled, strength), "colours of the reference"
    name = style_name(style)
    styled = _at_working_size(rgb, STYLES[name][1])
    return _mix(rgb, styled, strength), name


def _names_a_style(text: str) -> bool:
    try:
        style_name(text)
        return True
    except Unsupported:
        return False


def _at_working_size(rgb: np.ndarray, style: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    h, w = rgb.shape[:2]
    if h * w <= _WORK_PIXELS:
        return style(rgb)
    scale = np.sqrt(_WORK_PIXELS / (h * w))
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return cv2.resize(style(small), (w, h), interpolation=cv2.INTER_CUBIC)


def _mix(rgb: np.ndarray, styled: np.ndarray, strength: float) -> np.ndarray:
    if strength >= 1.0:
        return styled
    return cv2.addWeighted(styled, strength, rgb, 1.0 - strength, 0)

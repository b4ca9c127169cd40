"""New backgrounds the classic backend can really make: a reference photo, a colour,
a blur of the old background, or a gradient named in words ("sunset", "studio grey")."""

from __future__ import annotations

import re

import cv2
import numpy as np
from PIL import Image, ImageColor

from tools.classic.inpaint import fill_hole
from tools.errors import Unsupported

# Word -> (top colour, bottom colour) of a vertical gradient, or "radial" studio backdrops.
GRADIENTS: dict[str, tuple[str, str]] = {
    "sunset": ("#2b1d4e", "#ff9e45"),
    "sunrise": ("#7fa6d9", "#ffc27a"),
    "golden hour": ("#f5b86b", "#fde3b0"),
    "sky": ("#3f7fd0", "#cfe6fb"),
    "night": ("#02030a", "#142447"),
    "ocean": ("#0b3d6e", "#2f9ec2"),
    "sea": ("#0b3d6e", "#2f9ec2"),
    "forest": ("#1f3d1c", "#5e8b3a"),
    "desert": ("#e8c9a0", "#c98a4b"),
    "snow": ("#dfe9f3", "#ffffff"),
}
STUDIO: dict[str, tuple[str, str]] = {  # centre colour, edge colour
    "studio grey": ("#9a9a9a", "#4a4a4a"),
    "studio gray": ("#9a9a9a", "#4a4a4a"),
    "studio white": ("#ffffff", "#d9d9d9"),
    "studio black": ("#303030", "#050505"),
    "studio": ("#9a9a9a", "#4a4a4a"),
}
BLUR_WORDS = ("blur", "bokeh", "out of focus", "defocus", "shallow depth")


def describe_background(description: str) -> str:
    """What the classic backend will make of a description, or Unsupported if nothing."""
    kind, _ = _parse(description)
    return kind


def make_background(description: str, rgb: np.ndarray, subject: np.ndarray,
                    reference: Image.Image | None = None) -> tuple[np.ndarray, str]:
    """(background H x W x 3, what was made) for the image `rgb` with soft `subject` matte."""
    h, w = rgb.shape[:2]
    if reference is not None:
        return _cover(np.asarray(reference.convert("RGB")), w, h), "reference image"
    kind, value = _parse(description)
    if kind == "blur":
        # Take the subject out first so its colours do not bleed into the blurred backdrop;
        # a quarter of the resolution is plenty for something about to be blurred.
        scale = min(1.0, 256 / max(h, w))
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        hole = cv2.resize(np.where(subject > 32, 255, 0).astype(np.uint8), size,
                          interpolation=cv2.INTER_NEAREST)
        empty = cv2.GaussianBlur(fill_hole(small, hole, margin=2), (0, 0), max(size) / 60)
        return cv2.resize(empty, (w, h), interpolation=cv2.INTER_CUBIC), "blurred background"
    if kind == "gradient":
        top, bottom = (np.array(ImageColor.getrgb(c), np.float32) for c in GRADIENTS[value])
        t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        return _dither(top * (1 - t) + bottom * t, w), f"'{value}' gradient"
    if kind == "studio":
        centre, edge = (np.array(ImageColor.getrgb(c), np.float32) for c in STUDIO[value])
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        r = np.sqrt(((xs - w / 2) / (0.75 * w)) ** 2 + ((ys - h * 0.45) / (0.75 * h)) ** 2)
        t = np.clip(r, 0, 1)[..., None] ** 1.5
        return _dither(centre * (1 - t) + edge * t, w), f"'{value}' backdrop"
    colour = np.array(value, np.uint8)
    return np.broadcast_to(colour, (h, w, 3)).copy(), f"solid colour {description.strip()}"


def _parse(description: str) -> tuple[str, object]:
    text = " ".join(re.sub(r"[^a-z0-9# ]", " ", description.lower()).split())
    if any(word in text for word in BLUR_WORDS):
        return "blur", None
    for name in sorted(STUDIO, key=len, reverse=True):
        if name in text:
            return "studio", name
    for name in sorted(GRADIENTS, key=len, reverse=True):
        if re.search(rf"\b{name}\b", text):
            return "gradient", name
    colour = _find_colour(text)
    if colour is not None:
        return "colour", colour
    raise Unsupported(
        f"the classic backend cannot paint '{description}': it makes backgrounds from a "
        f"reference image, a colour, a blur, or a gradient ({', '.join(sorted(GRADIENTS))}, "
        f"studio grey/white/black); a described scene needs a diffusion backend (see `retouch models`)")


def _find_colour(text: str) -> tuple[int, int, int] | None:
    words = text.split()
    # Longest run of words first: "light sky blue" before "blue".
    for size in range(min(3, len(words)), 0, -1):
        for start in range(len(words) - size + 1):
            try:
                return ImageColor.getrgb("".join(words[start:start + size]))[:3]
            except ValueError:
                continue
    return None


def _cover(reference: np.ndarray, w: int, h: int) -> np.ndarray:
    """Scale the reference to cover w x h and crop its centre (no stretching)."""
    rh, rw = reference.shape[:2]
    scale = max(w / rw, h / rh)
    size = (max(w, round(rw * scale)), max(h, round(rh * scale)))
    resized = cv2.resize(reference, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    x, y = (size[0] - w) // 2, (size[1] - h) // 2
    return np.ascontiguousarray(resized[y:y + h, x:x + w])


def _dither(gradient: np.ndarray, w: int) -> np.ndarray:
    """A smooth gradient, with a little noise so 8 bits do not band."""
    h = gradient.shape[0]
    full = np.broadcast_to(gradient, (h, w, 3)).astype(np.float32)
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, (h, w, 1)).astype(np.float32)
    return np.clip(full + noise + 0.5, 0, 255).astype(np.uint8)


def place_subject(rgb: np.ndarray, background: np.ndarray, subject: np.ndarray) -> np.ndarray:
    """The subject (soft matte) over the new background."""
    alpha = subject.astype(np.float32)[..., None] / 255.0
    mixed = rgb.astype(np.float32) * alpha + background.astype(np.float32) * (1.0 - alpha)
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)

"""Relighting as a smooth light field: colour temperature, exposure and light from a side.

The description is read for words the classic backend understands; the light is
applied in linear light as a per-pixel gain that varies smoothly over the frame
(brighter on the lit side, falling off across the picture), not as a flat filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from tools.errors import Unsupported


@dataclass
class Light:
    warmth: float = 0.0      # -1 cold blue .. +1 warm orange
    exposure: float = 0.0    # stops
    direction: tuple[float, float] | None = None  # unit vector pointing where the light comes from
    side_strength: float = 0.0   # stops brighter on the lit side than the far side
    saturation: float = 1.0
    contrast: float = 1.0
    vignette: float = 0.0    # stops darker in the corners
    spot: float = 0.0        # stops brighter in the centre (studio / spotlight)

    @property
    def changes_anything(self) -> bool:
        return any((self.warmth, self.exposure, self.side_strength, self.vignette, self.spot,
                    self.saturation != 1.0, self.contrast != 1.0))


_DIRECTIONS = {
    "left": (-1.0, 0.0), "right": (1.0, 0.0), "above": (0.0, -1.0), "top": (0.0, -1.0),
    "overhead": (0.0, -1.0), "below": (0.0, 1.0), "bottom": (0.0, 1.0), "beneath": (0.0, 1.0),
}


def parse_light(description: str) -> Light:
    text = description.lower()
    has = lambda *words: any(re.search(rf"\b{w}", text) for w in words)  # noqa: E731
    light = Light()
    if has("golden hour", "sunset", "sunrise", "dusk"):
        light.warmth += 0.7
        light.side_strength += 1.0
        light.contrast *= 1.08
        light.saturation *= 1.1
    if has("night", "moonlight", "moonlit", "midnight"):
        light.exposure -= 1.4
        light.warmth -= 0.6
        light.saturation *= 0.6
        light.vignette += 0.8
    if has("studio", "spotlight", "spot light", "dramatic", "rembrandt"):
        light.spot += 0.6 if has("studio") else 1.0
        light.vignette += 0.4 if has("studio") else 0.9
        light.contrast *= 1.1
    if has("warm", "tungsten", "candle", "cosy", "cozy", "orange"):
        light.warmth += 0.5
    if has("cool", "cold", "blue", "icy", "overcast", "winter"):
        light.warmth -= 0.5
    if has("bright", "lighter", "sunny", "daylight", "overexpos", "more light"):
        light.exposure += 0.7
    if has("dark", "dim", "moody", "underexpos", "less light", "gloomy"):
        light.exposure -= 0.7
    if has("soft", "diffuse", "flat"):
        light.contrast *= 0.9
    if has("hard", "contrast", "punchy"):
        light.contrast *= 1.15
    for word, vector in _DIRECTIONS.items():
        if re.search(rf"\b(from|on|at) (the )?{word}\b|\b{word} side\b|\b{word}-lit\b|\blit from (the )?{word}\b", text):
            light.direction = vector
            light.side_strength = max(light.side_strength, 1.2)
            break
    if light.side_strength and light.direction is None:
        light.direction = (-1.0, -0.3)  # a low sun from the upper left, the painter's default
    if not light.changes_anything:
        raise Unsupported(
            f"the classic backend does not understand the light '{description}': it knows warm/cool, "
            f"brighter/darker, light from the left/right/above/below, golden hour, night, studio, "
            f"spotlight, soft/hard; other lighting needs a diffusion backend (see `retouch models`)")
    return light


def relight(rgb: np.ndarray, light: Light, strength: float = 1.0) -> np.ndarray:
    h, w = rgb.shape[:2]
    linear = (rgb.astype(np.float32) / 255.0) ** 2.2
    stops = np.full((h, w), light.exposure * strength, np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    nx, ny = (xs / max(w - 1, 1)) * 2 - 1, (ys / max(h - 1, 1)) * 2 - 1  # -1..1 across the frame
    if light.direction is not None and light.side_strength:
        dx, dy = light.direction
        norm = max(np.hypot(dx, dy), 1e-6)
        towards = (nx * dx + ny * dy) / norm  # +1 on the lit side, -1 on the far side
        ramp = 0.5 + 0.5 * np.tanh(1.5 * towards)  # smooth fall-off, no hard line
        stops += (ramp - 0.5) * light.side_strength * strength
    radius = np.sqrt(nx ** 2 + ny ** 2) / np.sqrt(2)
    if light.vignette:
        stops -= (radius ** 2) * light.vignette * strength
    if light.spot:
        stops += np.exp(-(radius / 0.45) ** 2) * light.spot * strength - 0.3 * light.spot * strength
    gain = np.exp2(stops)[..., None]
    warmth = light.warmth * strength
    colour = np.array([1.0 + 0.35 * warmth, 1.0 + 0.05 * warmth, 1.0 - 0.4 * warmth], np.float32)
    lit = linear * gain * colour
    # A soft shoulder instead of a hard clip, so brightened highlights keep detail.
    lit = np.where(lit > 0.8, 0.8 + 0.2 * np.tanh((lit - 0.8) / 0.2), lit)
    out = np.clip(lit, 0, 1) ** (1 / 2.2)
    if light.contrast != 1.0:
        k = 1.0 + (light.contrast - 1.0) * strength
        out = np.clip((out - 0.5) * k + 0.5, 0, 1)
    if light.saturation != 1.0:
        s = 1.0 + (light.saturation - 1.0) * strength
        grey = out @ np.array([0.299, 0.587, 0.114], np.float32)
        out = np.clip(grey[..., None] + (out - grey[..., None]) * s, 0, 1)
    return (out * 255 + 0.5).astype(np.uint8)

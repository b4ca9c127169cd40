"""Filling a hole from its surroundings (object removal, the border of a zoom-out).

OpenCV's Telea inpainting gives the right colours but a plastic, grain-free fill;
the photo's own grain, measured around the hole, is added back so the patch does
not stand out. The hole is first filled smoothly from every side of its rim (a push-pull
pyramid), then its rim is refined by Telea at full scale.
"""

from __future__ import annotations

import cv2
import numpy as np

from tools.masks import grow

def fill_hole(rgb: np.ndarray, hole: np.ndarray, seed: int | None = None,
              margin: int | None = None) -> np.ndarray:
    """`rgb` (H, W, 3 uint8) with the pixels where `hole` > 0 filled from around them.

    The hole is widened by `margin` pixels (default: ~0.5% of the image) so the
    object's soft edge and halo go with it. Pixels outside the widened hole are untouched.
    """
    h, w = hole.shape
    if margin is None:
        margin = max(2, round(max(h, w) * 0.005))
    hole = grow(np.where(hole > 0, 255, 0).astype(np.uint8), margin)
    if not hole.any():
        return rgb.copy()
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    coarse = _coarse_fill(bgr, hole)
    # Full-scale pass: starts from the coarse fill, so the hole is already the right
    # colour and Telea only has to sharpen the few pixels along the rim.
    start = np.where(hole[..., None] > 0, coarse, bgr)
    rim = hole & ~grow(hole, -max(3, margin))
    filled = cv2.inpaint(start, rim, 3, cv2.INPAINT_TELEA) if rim.any() else start
    filled = _add_grain(cv2.cvtColor(filled, cv2.COLOR_BGR2RGB), rgb, hole, seed)
    out = rgb.copy()
    inside = hole > 0
    out[inside] = filled[inside]
    return out


def _coarse_fill(bgr: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """A smooth fill of the hole: colours pulled in from every side of its rim (push-pull)."""
    known = (hole == 0).astype(np.float32)
    filled = _push_pull(bgr.astype(np.float32), known)
    return np.clip(filled + 0.5, 0, 255).astype(np.uint8)


def _push_pull(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill unknown pixels by averaging known ones at ever coarser scales, then blending back up."""
    h, w = known.shape
    if known.min() > 0.999 or min(h, w) < 4:
        return image
    weighted = cv2.pyrDown(image * known[..., None])
    weight = cv2.pyrDown(known)
    coarse = weighted / np.maximum(weight, 1e-6)[..., None]
    coarse = _push_pull(coarse, np.clip(weight * 4.0, 0.0, 1.0))
    up = cv2.pyrUp(coarse, dstsize=(w, h))
    return image * known[..., None] + up * (1.0 - known[..., None])


def _add_grain(filled: np.ndarray, original: np.ndarray, hole: np.ndarray,
               seed: int | None) -> np.ndarray:
    """Add noise with the strength of the photo's fine detail in a ring around the hole."""
    ring = (grow(hole, 12) > 0) & (hole == 0)
    if ring.sum() < 50:
        return filled
    grey = cv2.cvtColor(original, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), 1.5)
    sigma = float(np.std(detail[ring]))
    sigma = min(sigma, 12.0)  # a textured ring (leaves, hair) would otherwise add snow
    if sigma < 0.5:
        return filled
    noise = np.random.default_rng(seed if seed is not None else 0).normal(0, sigma, hole.shape)
    noise = cv2.GaussianBlur(noise.astype(np.float32), (0, 0), 0.7)
    grainy = filled.astype(np.float32) + noise[..., None]
    return np.clip(grainy + 0.5, 0, 255).astype(np.uint8)

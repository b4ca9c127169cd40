"""The one compositing step every edit result passes through: no drift outside the edit.

Instruction-edit models re-encode the whole picture on every step, so regions they
were not asked to touch slowly drift in colour and detail over a chain of edits.
Here, for a local operation, the result is blended onto the input inside the edited
region (the backend's own mask, else the mask the user gave, else the measured
difference grown and feathered); every pixel outside it is copied from the input
exactly, so after any number of edits the untouched pixels are bit-identical to
the original. Global operations (style, relight, camera) opt out.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from tools.masks import coverage, difference_mask, feather, grow
from tools.registry import EditResult

# The changed region is widened by GROW pixels and its edge softened over FEATHER
# pixels, outward only: inside the region the result is taken as it is.
GROW = 4
FEATHER = 6
# A measured difference wider than this share of the image is a global edit
# ("make it winter"); cutting it back to patches would leave seams.
GLOBAL_SHARE = 0.5


def composite_result(input_image: Image.Image, result: EditResult, local: bool,
                     mask: Image.Image | None = None) -> EditResult:
    """Blend `result.image` onto `input_image` inside the edited region; outside, keep the input.

    `mask` is the region the caller asked to change ("L", 255 = change); the backend's
    `result.mask`, when it reports one, says better where it changed pixels and wins.
    On return `result.mask` is the region where pixels may differ from the input.
    """
    if not local:
        result.metadata.setdefault("composite", "global")
        return result
    edited = result.image
    if edited.mode != input_image.mode:
        edited = edited.convert(input_image.mode)
    if edited.size != input_image.size:  # models work at multiples of 8 or 16 pixels
        edited = edited.resize(input_image.size, Image.Resampling.LANCZOS)
    before = np.asarray(input_image)
    after = np.asarray(edited)

    region = result.mask if result.mask is not None else mask
    if region is not None:
        region = np.asarray(region.convert("L"), np.uint8)
        source = "backend mask" if result.mask is not None else "given mask"
    else:
        region = difference_mask(before, after)
        source = "measured difference"
        if coverage(region) > GLOBAL_SHARE:
            result.image, result.mask = edited, None
            result.metadata["composite"] = "global (the edit changed most of the image)"
            return result

    if not region.any():  # nothing was edited: hand back the input itself, untouched
        result.image = input_image.copy()
        result.mask = Image.fromarray(region, "L")
        result.metadata["composite"] = f"unchanged ({source} is empty)"
        return result

    # Soft inside (a matte keeps its own alpha), feathered outward from its solid part.
    halo = feather(grow(np.where(region >= 128, 255, 0).astype(np.uint8), GROW), FEATHER)
    alpha = np.maximum(region, halo)
    result.image = Image.fromarray(_blend(before, after, alpha), input_image.mode)
    result.mask = Image.fromarray(np.where(alpha > 0, 255, 0).astype(np.uint8), "L")
    result.metadata["composite"] = source
    return result


def _blend(before: np.ndarray, after: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """before*(1-a) + after*a in exact integer arithmetic: where a == 0 the input is kept bit for bit."""
    out = before.copy()
    x, y, w, h = cv2.boundingRect(alpha)  # only the edited box is touched: fast for small edits
    if w == 0 or h == 0:
        return out
    a = alpha[y:y + h, x:x + w].astype(np.uint16)
    if before.ndim == 3:
        a = a[..., None]
    mixed = (before[y:y + h, x:x + w].astype(np.uint16) * (255 - a)
             + after[y:y + h, x:x + w].astype(np.uint16) * a + 127) // 255
    out[y:y + h, x:x + w] = mixed.astype(np.uint8)
    return out

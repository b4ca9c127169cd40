"""The compositing step: outside the edited region the input survives bit for bit."""

from __future__ import annotations

import io
import statistics
import time

import numpy as np
from PIL import Image

from tests.conftest import photo
from tools.compositing import FEATHER, GROW, composite_result
from tools.masks import grow, mask_from_box
from tools.registry import EditResult


def _reencoded(image: Image.Image, quality: int = 85) -> Image.Image:
    """What an edit model does to the pixels it was not asked to touch: a lossy round trip."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _painted(image: Image.Image, box, colour=(0, 200, 255)) -> Image.Image:
    array = np.asarray(image).copy()
    x0, y0, x1, y1 = box
    array[y0:y1, x0:x1] = colour
    return Image.fromarray(array)


def test_given_mask_outside_is_the_input_exactly_inside_is_the_result():
    original = photo("astronaut")
    box = (200, 150, 300, 260)
    edited = _reencoded(_painted(original, box))
    mask = mask_from_box(box, original.size)
    out = composite_result(original, EditResult(edited, "test"), local=True, mask=mask)
    before, after = np.asarray(original), np.asarray(out.image)
    reach = grow(np.asarray(mask), GROW + 2 * FEATHER) > 0
    assert np.array_equal(after[~reach], before[~reach])
    inside = grow(np.asarray(mask), -1) > 0
    assert np.array_equal(after[inside], np.asarray(edited)[inside])
    assert out.metadata["composite"] == "given mask"
    changed = np.asarray(out.mask) > 0
    assert not (np.any(after != before, axis=2) & ~changed).any()   # result.mask tells the truth


def test_measured_difference_keeps_drifted_pixels_out():
    original = photo("chelsea")
    box = (150, 100, 230, 180)
    edited = _reencoded(_painted(original, box), quality=80)
    drift = np.abs(np.asarray(edited, int) - np.asarray(original, int)).max(axis=2)
    assert (drift > 0).mean() > 0.5     # the re-encode really touched most of the picture
    out = composite_result(original, EditResult(edited, "test"), local=True)
    assert out.metadata["composite"] == "measured difference"
    before, after = np.asarray(original), np.asarray(out.image)
    region = np.asarray(mask_from_box(box, original.size))
    reach = grow(region, GROW + 2 * FEATHER + 6) > 0
    assert np.array_equal(after[~reach], before[~reach])
    assert np.abs(after[125:155, 175:205].astype(int) - (0, 200, 255)).max() < 40


def test_global_operations_and_global_looking_edits_pass_through():
    original = photo("coffee")
    warmer = Image.fromarray(np.clip(np.asarray(original, int) * (1.2, 1.0, 0.8), 0, 255).astype(np.uint8))
    out = composite_result(original, EditResult(warmer, "test"), local=False)
    assert out.image is warmer and out.metadata["composite"] == "global"
    # A local operation whose result differs nearly everywhere is a global edit too.
    out = composite_result(original, EditResult(warmer, "test"), local=True)
    assert np.array_equal(np.asarray(out.image), np.asarray(warmer))
    assert out.metadata["composite"].startswith("global")


def test_result_at_another_size_is_brought_back_to_the_input_size():
    original = photo("rocket")    # 640x427: models return multiples of 16
    edited = _painted(original, (100, 100, 200, 200)).resize((640, 432))
    out = composite_result(original, EditResult(edited, "test"), local=True,
                           mask=mask_from_box((100, 100, 200, 200), original.size))
    assert out.image.size == original.size
    assert np.array_equal(np.asarray(out.image)[300:], np.asarray(original)[300:])


def test_an_unchanged_result_gives_back_the_input():
    original = photo("coffee")
    out = composite_result(original, EditResult(original.copy(), "test"), local=True)
    assert np.array_equal(np.asarray(out.image), np.asarray(original))
    assert out.metadata["composite"].startswith("unchanged")


def test_backend_mask_wins_over_the_given_mask():
    original = photo("astronaut")
    edited = _painted(original, (0, 0, 100, 100))
    out = composite_result(original, EditResult(edited, "test", mask=mask_from_box((0, 0, 100, 100), original.size)),
                           local=True, mask=mask_from_box((300, 300, 400, 400), original.size))
    assert out.metadata["composite"] == "backend mask"
    assert np.array_equal(np.asarray(out.image)[50, 50], (0, 200, 255))


def test_compositing_a_megapixel_takes_under_30_ms():
    original = photo("astronaut").resize((1024, 1024))
    edited = _reencoded(_painted(original, (300, 300, 700, 700)))
    mask = mask_from_box((300, 300, 700, 700), original.size)
    times = {"given mask": [], "measured difference": []}
    for _ in range(5):
        for kind, given in (("given mask", mask), ("measured difference", None)):
            start = time.perf_counter()
            composite_result(original, EditResult(edited, "test"), local=True, mask=given)
            times[kind].append(time.perf_counter() - start)
    # 30 ms is the target (bench/tools.py reports it); the margin absorbs a busy CI machine.
    assert statistics.median(times["given mask"]) < 0.060
    assert statistics.median(times["measured difference"]) < 0.090

"""Masks from uploads, boxes and red scribbles on real photos; grow, feather, difference."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.conftest import photo
from tools.errors import ToolError
from tools.masks import (check_mask, coverage, difference_mask, feather, grow, mask_from_box,
                         mask_from_image, mask_from_scribble)


def _scribbled(original: Image.Image, colour=(255, 0, 0), outline_only=False):
    """A copy of the photo with a brush stroke: a thick circle outline, or a filled blob."""
    painted = np.asarray(original).copy()
    thickness = 6 if outline_only else -1
    cv2.circle(painted, (300, 200), 60, colour, thickness, lineType=cv2.LINE_AA)
    return Image.fromarray(painted)


def test_scribble_painted_pixels_become_the_region():
    original = photo("astronaut")
    mask = np.asarray(mask_from_scribble(_scribbled(original), original))
    assert mask.shape == (512, 512)
    assert mask[200, 300] == 255 and mask[200, 355] == 255    # inside the blob
    assert mask[200, 380] == 0 and mask[50, 50] == 0           # outside it
    area = np.count_nonzero(mask) / (np.pi * 60 ** 2)
    assert 0.9 < area < 1.2


def test_a_circled_object_is_filled():
    original = photo("astronaut")
    mask = np.asarray(mask_from_scribble(_scribbled(original, outline_only=True), original))
    assert mask[200, 300] == 255   # the centre of the circle, never painted itself


def test_red_in_the_photo_itself_is_not_paint():
    # The astronaut's flag has red stripes; with the original to compare, only strokes count.
    original = photo("astronaut")
    reds = np.asarray(original).astype(int)
    flag = (reds[..., 0] > 150) & (reds[..., 1] < 80) & (reds[..., 2] < 80)
    assert flag.sum() > 1000
    mask = np.asarray(mask_from_scribble(_scribbled(original), original))
    ys, xs = np.mgrid[0:512, 0:512]
    outside_stroke = np.hypot(xs - 300, ys - 200) > 64
    assert not (mask.astype(bool) & flag & outside_stroke).any()


def test_other_paint_colours_and_no_strokes():
    original = photo("coffee")
    green = _scribbled(original, colour=(0, 255, 0))
    assert np.asarray(mask_from_scribble(green, original, color="lime"))[200, 300] == 255
    with pytest.raises(ToolError, match="no strokes of the paint colour red"):
        mask_from_scribble(original, original)
    with pytest.raises(ToolError, match="is not a colour"):
        mask_from_scribble(green, original, color="blurple")


def test_scribble_of_another_size_is_refused():
    with pytest.raises(ToolError, match="scribble is 600x400 but the image is 512x512"):
        mask_from_scribble(_scribbled(photo("coffee")), photo("astronaut"))


def test_box_in_pixels_and_fractions():
    pixels = np.asarray(mask_from_box((10, 20, 110, 70), (200, 100)))
    assert pixels.sum() == 100 * 50 * 255 and pixels[20, 10] == 255 and pixels[70, 110] == 0
    fractions = np.asarray(mask_from_box((0.5, 0.5, 1.0, 1.0), (200, 100)))
    assert fractions[50:, 100:].all() and not fractions[:50].any()
    with pytest.raises(ToolError, match="covers no pixels"):
        mask_from_box((300, 300, 400, 400), (200, 100))


def test_uploaded_mask_white_or_transparent():
    white = Image.new("L", (64, 48), 0)
    white.paste(255, (10, 10, 30, 30))
    assert np.asarray(mask_from_image(white.convert("RGB"), (64, 48)))[15, 15] == 255
    layer = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    layer.paste((255, 0, 0, 255), (40, 5, 60, 20))
    mask = np.asarray(mask_from_image(layer, (64, 48)))
    assert mask[10, 50] == 255 and mask[30, 10] == 0


def test_uploaded_mask_of_the_wrong_size_or_empty_is_refused():
    with pytest.raises(ToolError, match="mask is 100x100 but the image is 64x48"):
        mask_from_image(Image.new("L", (100, 100), 255), (64, 48))
    with pytest.raises(ToolError, match="empty \\(all black\\)"):
        mask_from_image(Image.new("L", (64, 48), 0), (64, 48))
    # Same shape at another resolution (a mask painted on a preview) is scaled.
    assert check_mask(Image.new("L", (32, 24), 255), (64, 48)).size == (64, 48)


def test_grow_and_feather_widen_and_soften_outward_only_so_far():
    mask = np.asarray(mask_from_box((40, 40, 60, 60), (100, 100)))
    grown = grow(mask, 5)
    assert grown[35, 50] == 255 and grown[30, 50] == 0
    assert grow(mask, -5)[44, 50] == 0 and grow(mask, -5)[50, 50] == 255
    soft = feather(mask, 6)
    assert 0 < soft[40, 50] < 255 and soft[50, 50] == 255
    assert soft[30, 50] == 0 and coverage(soft) < coverage(grow(mask, 7))


def test_difference_mask_ignores_faint_noise_and_finds_the_edit():
    before = np.asarray(photo("chelsea"))
    noise = np.random.default_rng(1).integers(-4, 5, before.shape)
    after = np.clip(before.astype(int) + noise, 0, 255).astype(np.uint8)
    after[100:150, 200:260] = (0, 255, 0)
    changed = difference_mask(before, after)
    assert changed[125, 230] == 255
    assert coverage(changed) < (50 * 60 * 1.3) / changed.size

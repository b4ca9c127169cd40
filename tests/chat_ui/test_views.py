"""The chat's pictures, drawn from a real history: version tree, before/after, mask overlay."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from chat_ui.views import (ACCENT, Thumbnails, describe_mask, mask_overlay, preview, side_by_side,
                           tree_layout, tree_picture)
from storage import Operation
from tests.conftest import photo


@pytest.fixture
def small_photo() -> Image.Image:
    return photo("astronaut").resize((96, 96))


@pytest.fixture
def branched(store, small_photo):
    """1 import -> 2 grey -> 3 invert (main); 4 mirror from 2 on branch 'alt'."""
    history = store.session("views")
    root = history.import_image(small_photo, name="astronaut.png")
    grey = history.commit(ImageOps.grayscale(small_photo).convert("RGB"), Operation("grayscale"))
    history.commit(ImageOps.invert(small_photo), Operation("invert"))
    history.branch("alt", from_version=grey.id)
    history.commit(ImageOps.mirror(small_photo), Operation("mirror"))
    history.checkout("main")
    return history, root


def test_tree_layout_continues_rows_and_opens_new_rows_for_branches(branched):
    history, root = branched
    positions = tree_layout(history.log())
    assert positions[1] == (0, 0)
    assert positions[2] == (1, 0)
    assert positions[3] == (2, 0)          # first child stays on its parent's row
    assert positions[4] == (2, 1)          # the branch opens a row below


def test_tree_picture_draws_every_thumbnail_and_marks_the_head(branched):
    history, _ = branched
    thumbs = Thumbnails(size=64)
    picture = tree_picture(history.log(), history.current_branch, thumbs, history.image)
    assert picture.width >= 3 * 64 and picture.height >= 2 * 64
    pixels = np.asarray(picture)
    # The head (version 3, main) is framed in the accent colour; nothing else is.
    assert (np.abs(pixels.astype(int) - ACCENT).max(axis=2) < 8).sum() > 4 * 64
    # Four versions, four distinct thumbnails (cached by content).
    assert len(thumbs._cache) == 4


def test_tree_picture_of_long_history_shows_latest_only(store, small_photo):
    history = store.session("long")
    history.import_image(small_photo)
    for shift in range(1, 50):
        array = np.clip(np.asarray(small_photo).astype(int) + shift, 0, 255).astype(np.uint8)
        history.commit(Image.fromarray(array), Operation("brighten", {"by": shift}))
    picture = tree_picture(history.log(), "main", Thumbnails(size=32), history.image, max_versions=10)
    assert picture.width < 10 * (32 + 64) + 100  # ten columns, not fifty


def test_thumbnails_are_cached_by_content(branched):
    history, _ = branched
    loads = []

    def load(version_id):
        loads.append(version_id)
        return history.image(version_id)

    thumbs = Thumbnails(size=32)
    head = history.head()
    first = thumbs.get(head, load)
    again = thumbs.get(head, load)
    assert first is again and loads == [head.id]
    assert max(first.size) == 32


def test_side_by_side_keeps_both_images_at_one_height():
    left, right = photo("astronaut"), photo("coffee")
    picture = side_by_side([left, right], ["before", "after"], height=200)
    assert picture.height > 200
    # Each half carries its own image: the left half is the astronaut, not the coffee.
    crop = picture.crop((12, 34, 12 + 200, 34 + 200)).resize((16, 16))
    expected = left.resize((16, 16))
    assert np.abs(np.asarray(crop, int) - np.asarray(expected, int)).mean() < 20


def test_mask_overlay_tints_the_region_and_dims_the_rest():
    image = photo("coffee")
    mask = Image.new("L", image.size, 0)
    mask.paste(255, (100, 100, 300, 250))
    overlay = np.asarray(mask_overlay(image, mask), int)
    original = np.asarray(image.convert("RGB"), int)
    inside = overlay[150:200, 150:250]
    outside = overlay[350:380, 450:550]
    assert (inside[..., 0] - inside[..., 1]).mean() > 60          # red tint inside
    assert outside.mean() < original[350:380, 450:550].mean() * 0.6  # dimmed outside


def test_describe_mask_says_where_the_region_is():
    mask = Image.new("L", (200, 100), 0)
    mask.paste(255, (100, 0, 200, 50))
    text = describe_mask(mask)
    assert "25%" in text and "x 50%–100%" in text and "y 0%–50%" in text
    assert "empty" in describe_mask(Image.new("L", (10, 10), 0))


def test_preview_never_enlarges_and_caps_the_long_side():
    big = photo("astronaut").resize((2048, 1024))
    assert preview(big).size == (1024, 512)
    small = photo("coffee")
    assert preview(small).size == small.size

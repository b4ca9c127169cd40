"""Fixtures for the agent tests: a real session on a temporary data dir, real photos."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from tests.conftest import photo


def small_coffee() -> Image.Image:
    """skimage's coffee photo at half size (300x200): real content, fast classic edits."""
    return photo("coffee").resize((300, 200), Image.Resampling.LANCZOS)


def cup_mask(size: tuple[int, int]) -> Image.Image:
    """An ellipse over the cup of the coffee photo, scaled to `size`."""
    w, h = size
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse((0.2 * w, 0.15 * h, 0.8 * w, 0.82 * h), fill=255)
    return mask


@pytest.fixture
def settings(data_dir):
    from agent.config import load_settings

    return load_settings(data_dir=data_dir)


@pytest.fixture
def make_session(settings):
    from agent.session import RetouchSession

    def make(name: str = "test", **kwargs):
        return RetouchSession(name, settings, **kwargs)

    return make


def run(session, text: str, **attachments) -> list:
    """All events of one request, in order."""
    return list(session.send(text, **attachments))

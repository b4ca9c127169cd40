"""Tiny models built once per test session, and the configuration that points at them."""

from __future__ import annotations

import pytest

from tests.tools.diffusion.tiny_models import BUILDERS


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """tiny_model('flux_kontext') -> folder of that tiny pipeline (built on first use)."""
    built = {}

    def get(kind: str):
        if kind not in built:
            built[kind] = BUILDERS[kind](tmp_path_factory.mktemp(kind) / kind)
        return built[kind]

    return get

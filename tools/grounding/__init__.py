"""Grounding: a mask from words ("the man on the left"), for operations given no mask."""

from __future__ import annotations

from tools.grounding.clipseg import ClipSegGrounder
from tools.grounding.grounded_sam import GroundedSamGrounder
from tools.models import ModelManager
from tools.models_config import GroundingConfig


def build_grounder(config: GroundingConfig | None, manager: ModelManager):
    """The configured grounder, or None (masks then come from the user)."""
    if config is None:
        return None
    if config.kind == "grounding_dino_sam":
        return GroundedSamGrounder(config, manager)
    return ClipSegGrounder(config, manager)


__all__ = ["ClipSegGrounder", "GroundedSamGrounder", "build_grounder"]

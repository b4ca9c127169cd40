"""The process-wide toolbox: backends are built once per configuration and stay
resident, so models loaded for one step are still there for the next."""

from __future__ import annotations

import threading

from agent.config import Settings
from tools.classic import ClassicBackend
from tools.registry import Toolbox

_lock = threading.Lock()
_toolboxes: dict[str, Toolbox] = {}


def build_toolbox(settings: Settings) -> Toolbox:
    """The configured backends in order of preference; classic, which always works, last."""
    return Toolbox([*diffusion_backends(settings), ClassicBackend()])


def diffusion_backends(settings: Settings) -> list:
    """The configured edit models (none configured: none), sharing one model manager."""
    if not settings.models.edit:
        return []
    from tools.diffusion import build_diffusion_backends
    from tools.grounding import build_grounder
    from tools.models import ModelManager

    manager = ModelManager.from_config(settings.models)
    grounder = build_grounder(settings.models.grounding, manager)
    return build_diffusion_backends(settings.models, manager, grounder)


def get_toolbox(settings: Settings) -> Toolbox:
    """The toolbox for these settings, built on first use and then shared."""
    key = settings.models.model_dump_json()  # only the model settings decide the backends
    with _lock:
        if key not in _toolboxes:
            _toolboxes[key] = build_toolbox(settings)
        return _toolboxes[key]

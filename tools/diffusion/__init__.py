"""Diffusion edit backends: one module per model family, built from the models configuration.

Each configured edit model becomes one backend. The default model comes first and
serves every operation it can; a model named in `models.operations` serves that
operation and the others leave it to it; a model that is neither default nor named
still serves what the models before it cannot (references, try-on, ...).
"""

from __future__ import annotations

from tools.diffusion.base import DiffusionBackend
from tools.diffusion.flux2 import Flux2Backend
from tools.diffusion.flux2_klein import Flux2KleinBackend
from tools.diffusion.flux_kontext import FluxKontextBackend
from tools.diffusion.instruct_pix2pix import InstructPix2PixBackend
from tools.diffusion.longcat_image_edit import LongCatImageEditBackend
from tools.diffusion.qwen_image_edit import QwenImageEditBackend, QwenImageEditPlusBackend
from tools.errors import ToolError
from tools.models import ModelManager
from tools.models_config import ModelsConfig

BACKENDS: dict[str, type[DiffusionBackend]] = {
    backend.kind: backend for backend in (
        FluxKontextBackend, QwenImageEditBackend, QwenImageEditPlusBackend,
        InstructPix2PixBackend, Flux2Backend, Flux2KleinBackend, LongCatImageEditBackend)
}


def build_diffusion_backends(config: ModelsConfig, manager: ModelManager | None = None,
                             grounder=None) -> list[DiffusionBackend]:
    """The configured edit models as backends, in order of preference."""
    if not config.edit:
        return []
    check_routes(config)
    manager = manager or ModelManager.from_config(config)
    backends = []
    for name in config.ordered_names():
        routed_elsewhere = {op for op, target in config.operations.items() if target != name}
        model = config.edit[name]
        backend_class = BACKENDS[model.kind]
        every = set(backend_class.capable)
        backends.append(backend_class(name, model, manager, grounder=grounder,
                                      operations=every - routed_elsewhere))
    return backends


def check_routes(config: ModelsConfig) -> None:
    """Every per-operation override names a real operation its model can do."""
    from tools.registry import operations

    known = operations()
    for operation, name in config.operations.items():
        if operation not in known:
            raise ToolError(f"models.operations names unknown operation '{operation}' "
                            f"(known: {', '.join(sorted(known))})")
        backend_class = BACKENDS[config.edit[name].kind]
        if operation not in backend_class.capable:
            raise ToolError(f"models.operations.{operation} = '{name}', but {backend_class.title} "
                            f"cannot do {operation}")


__all__ = ["BACKENDS", "DiffusionBackend", "build_diffusion_backends"]

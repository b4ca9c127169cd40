"""The operation registry and the toolbox that runs operations on backends.

An *operation* (remove_object, relight, ...) is declared once, in the file of its
family under tools/operations/, with `@operation`: a name, a one-line description
the LLM reads, a pydantic argument model, and whether it is local (composited
back onto the input so unedited pixels never drift) or global.

A *backend* (classic, kontext, qwen_edit, ...) knows how to run some operations.
A `Toolbox` holds the configured backends in order of preference; `run` picks
the first that supports the operation (or the one asked for), runs it, and passes
the result through the one compositing step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Protocol, runtime_checkable

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.errors import ToolError, UnknownOperation, Unsupported


class OperationArgs(BaseModel):
    """Arguments every operation accepts besides its own."""

    model_config = ConfigDict(extra="forbid")

    mask: str | None = Field(
        None, description="Region to change: 'mask' for the attached mask or scribble. "
                          "Leave empty to let the tool find the region itself.")
    references: list[str] = Field(
        default_factory=list,
        description="Attached reference images this edit uses, as 'reference 1', 'reference 2', ...")


@dataclass(frozen=True)
class OperationSpec:
    name: str
    description: str
    args_model: type[OperationArgs]
    local: bool  # True: composite onto the input outside the changed region; False: global
    # True when the attached mask marks what to keep (the subject of replace_background)
    # rather than the region to change; the region to change is then its complement.
    mask_keeps: bool = False


_OPERATIONS: dict[str, OperationSpec] = {}


def operation(name: str, description: str, local: bool = True, mask_keeps: bool = False):
    """Class decorator that registers an argument model as operation `name`."""

    def register(args_model: type[OperationArgs]) -> type[OperationArgs]:
        if name in _OPERATIONS:
            raise ValueError(f"operation {name} is registered twice")
        _OPERATIONS[name] = OperationSpec(name, description, args_model, local, mask_keeps)
        return args_model

    return register


def operations() -> dict[str, OperationSpec]:
    """Every registered operation, by name (importing the operation families first)."""
    import tools.operations  # noqa: F401  (registers the families)

    return dict(_OPERATIONS)


def get_operation(name: str) -> OperationSpec:
    specs = operations()
    if name not in specs:
        raise UnknownOperation(f"unknown operation '{name}' (known: {', '.join(sorted(specs))})")
    return specs[name]


def validate_args(name: str, args: dict | OperationArgs) -> OperationArgs:
    """Parse arguments against the operation's own model; a clear one-line error if wrong."""
    spec = get_operation(name)
    if isinstance(args, spec.args_model):
        return args
    try:
        return spec.args_model.model_validate(dict(args or {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}"
            for error in exc.errors())
        raise ToolError(f"bad arguments for {name}: {problems}") from None


# Called with (fraction done 0..1, short message) while an operation runs.
ProgressCallback = Callable[[float, str], None]


@dataclass
class EditContext:
    """Everything an operation needs besides the image and its arguments."""

    mask: Image.Image | None = None        # "L", same size as the image, 255 = change here
    references: list[Image.Image] = field(default_factory=list)
    seed: int | None = None
    progress: ProgressCallback | None = None

    def report(self, fraction: float, message: str = "") -> None:
        if self.progress is not None:
            self.progress(min(max(fraction, 0.0), 1.0), message)

    def reference(self, name: str) -> Image.Image:
        """Resolve 'reference 2' (1-based, as the user counts) to the attached image."""
        digits = "".join(ch for ch in str(name) if ch.isdigit())
        index = int(digits) - 1 if digits else 0
        if not 0 <= index < len(self.references):
            raise ToolError(f"'{name}' was asked for but {len(self.references)} reference "
                            f"image(s) came with the request")
        return self.references[index]


@dataclass
class EditResult:
    image: Image.Image
    backend: str
    mask: Image.Image | None = None        # "L": where the operation changed pixels, if known
    model_id: str | None = None
    seed: int | None = None
    steps: int | None = None
    duration_s: float | None = None
    metadata: dict = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """A way to run operations: classic CPU code, or one diffusion model."""

    name: str

    def supports(self, operation: str) -> bool: ...

    def run(self, operation: str, image: Image.Image, args: OperationArgs,
            ctx: EditContext) -> EditResult: ...

    def describe(self) -> dict:
        """{'name', 'available': bool, 'detail': str, 'operations': [...], 'models': [...]}"""
        ...


class Toolbox:
    """The configured backends, in order of preference, and the one way to run an operation."""

    def __init__(self, backends: list[Backend]):
        self.backends = list(backends)

    def backend(self, name: str) -> Backend:
        for backend in self.backends:
            if backend.name == name:
                return backend
        known = ", ".join(b.name for b in self.backends)
        raise ToolError(f"no backend '{name}' is configured (configured: {known})")

    def backends_for(self, operation_name: str) -> list[Backend]:
        return [b for b in self.backends if b.supports(operation_name)]

    def run(self, operation_name: str, image: Image.Image, args: dict | OperationArgs,
            ctx: EditContext | None = None, backend: str | None = None) -> EditResult:
        spec = get_operation(operation_name)
        parsed = validate_args(operation_name, args)
        ctx = ctx or EditContext()
        if ctx.mask is not None:
            from tools.masks import check_mask

            ctx.mask = check_mask(ctx.mask, image.size)
        elif parsed.mask:
            raise ToolError(f"{spec.name} was asked to use '{parsed.mask}' but no mask or "
                            f"scribble came with the request")
        chosen = self._choose(spec, backend)
        start = time.perf_counter()
        result = chosen.run(spec.name, image, parsed, ctx)
        from tools.compositing import composite_result  # one compositing step for all backends

        result = composite_result(image, result, local=spec.local, mask=change_region(spec, ctx))
        result.duration_s = time.perf_counter() - start
        return result

    def _choose(self, spec: OperationSpec, backend: str | None) -> Backend:
        if backend is not None:
            chosen = self.backend(backend)
            if not chosen.supports(spec.name):
                able = ", ".join(b.name for b in self.backends_for(spec.name))
                hint = f"use {able}" if able else "it needs a diffusion backend (see `retouch models`)"
                raise Unsupported(f"backend '{backend}' cannot do {spec.name}: {hint}")
            return chosen
        candidates = self.backends_for(spec.name)
        if not candidates:
            raise Unsupported(f"{spec.name} needs a diffusion backend (see `retouch models`)")
        return candidates[0]


def change_region(spec: OperationSpec, ctx: EditContext) -> Image.Image | None:
    """The region the caller asked to change: the attached mask, or its complement for
    operations whose mask marks what to keep."""
    if ctx.mask is None or not spec.mask_keeps:
        return ctx.mask
    from PIL import ImageOps

    return ImageOps.invert(ctx.mask.convert("L"))

"""What every diffusion edit backend shares: from an operation to a pipeline call and back.

A backend module (flux_kontext.py, qwen_image_edit.py, ...) subclasses
`DiffusionBackend` and states its model's facts as class attributes (pipeline
classes, recommended steps/guidance/area, the multiple its sizes snap to, how many
extra images it takes, which operations it does well) and writes `pipeline_kwargs`,
the one place where its pipeline's own arguments are spelled out. This class does
the rest the same way for all: resolve references, ground a mask from text when
configured, phrase the instruction, pick a working size that keeps the aspect ratio,
run on the model manager's queue with per-step progress, and map the output back
onto the input's exact pixel grid.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from PIL import Image, ImageOps

from tools.diffusion import instructions, sizing
from tools.errors import NeedsMask, ToolError, Unsupported
from tools.models import ModelManager, PipelineSpec, locate
from tools.models.manager import first_line
from tools.models_config import EditModelConfig
from tools.registry import EditContext, EditResult, OperationArgs

ALL_OPERATIONS = frozenset({
    "remove_object", "replace_object", "add_object", "replace_background", "relight",
    "style_transfer", "edit_text", "change_camera", "try_on", "control_generate",
    "refine_collage", "edit"})

# Operations that need an attached image to mean anything (not done by single-image models).
REFERENCE_OPERATIONS = frozenset({"try_on", "control_generate"})

# What grounding looks for when an operation comes without a mask.
GROUNDED = {"remove_object": "target", "replace_object": "target"}
BACKGROUND_SUBJECT = "the main subject in the foreground"


@dataclass
class EditCall:
    """Everything `pipeline_kwargs` needs to spell one call of its pipeline."""

    prompt: str
    image: Image.Image                 # the edited image at the working size
    references: list[Image.Image]      # attached images the model also sees
    mask: Image.Image | None           # "L" at the working size, 255 = change (inpaint only)
    size: tuple[int, int]              # (width, height), multiples of the model's snap
    steps: int
    guidance: float
    generator: torch.Generator
    callback: Any


class DiffusionBackend:
    kind: ClassVar[str]
    title: ClassVar[str]                         # "FLUX.1 Kontext [dev]"
    pipeline_class: ClassVar[str]                # the diffusers class loaded
    inpaint_class: ClassVar[str | None] = None   # used, with the same weights, when a mask is given
    accepted_classes: ClassVar[tuple[str, ...]] = ()
    default_steps: ClassVar[int] = 28
    default_guidance: ClassVar[float] = 2.5
    default_resolution: ClassVar[int] = 1024     # works at about resolution x resolution pixels
    multiple: ClassVar[int] = 16                 # output sides are multiples of this
    min_side: ClassVar[int] = 0                  # shortest side the pipeline accepts
    max_references: ClassVar[int] = 0            # attached images besides the edited one
    step_progress: ClassVar[bool] = True         # the pipeline calls back after every step
    capable: ClassVar[frozenset[str]] = ALL_OPERATIONS - REFERENCE_OPERATIONS
    phrasing: ClassVar[instructions.Phrasing] = instructions.Phrasing()

    def __init__(self, name: str, config: EditModelConfig, manager: ModelManager,
                 grounder=None, operations: set[str] | None = None):
        self.name = name
        self.config = config
        self.manager = manager
        self.grounder = grounder
        allowed = set(config.operations) if config.operations is not None else set(ALL_OPERATIONS)
        if operations is not None:
            allowed &= operations
        self.operations = frozenset(allowed & self.capable)

    # ------------------------------------------------------------------ contract

    def supports(self, operation: str) -> bool:
        return operation in self.operations

    def spec(self) -> PipelineSpec:
        return PipelineSpec(key=self.name, source=self.config.path,
                            pipeline_class=self.pipeline_class,
                            accepted_classes=self.accepted_classes or (self.pipeline_class,),
                            loras=tuple(self.config.loras),
                            extra_components=self.extra_components,
                            attach_components=self.attach_components)

    # A backend may build components itself (see qwen_image_edit.py, flux2.py).
    extra_components = None
    attach_components = None

    def run(self, operation: str, image: Image.Image, args: OperationArgs,
            ctx: EditContext) -> EditResult:
        names = instructions.reference_names(operation, args)
        if operation == "control_generate":  # the control image is what the model draws from
            names = [n for n in names if n != args.control_image]
            sources = [ctx.reference(args.control_image)]
        else:
            sources = [image]
        if len(names) > self.max_references:
            raise Unsupported(self._too_many_references(len(names)))
        references = [ctx.reference(name) for name in names]

        changed_mask, grounded = self._region(operation, image, args, ctx)
        prompt = instructions.instruction(operation, args, self.phrasing, names)
        size = self._working_size(image.size)
        steps = self.config.steps or self.default_steps
        guidance = self.config.guidance if self.config.guidance is not None else self.default_guidance
        seed = ctx.seed if ctx.seed is not None else random.randrange(2**31)
        # Inpaint pipelines take one image: with references the whole set is edited instead
        # (and the mask still bounds the change in the compositing step).
        inpaint = changed_mask is not None and self.inpaint_class is not None and not references
        variant = self.inpaint_class if inpaint else None
        call = EditCall(
            prompt=prompt, image=sizing.to_working(sources[0], size),
            references=[sizing.to_working(r, self._working_size(r.size)) for r in references],
            mask=sizing.mask_to_working(changed_mask, size) if variant else None,
            size=size, steps=steps, guidance=guidance,
            generator=torch.Generator("cpu").manual_seed(seed),
            callback=self._progress_callback(ctx, steps))
        kwargs = self.pipeline_kwargs(call, inpaint=variant is not None)

        ctx.report(0.0, f"{self.name}: {'loading and ' if self.name not in self.manager.resident() else ''}"
                        f"editing at {size[0]}x{size[1]}")
        try:
            output = self.manager.run(
                self.spec(), lambda pipeline: pipeline(**kwargs).images[0], variant=variant,
                on_wait=lambda ahead: ctx.report(0.0, f"waiting for the GPU ({ahead} job(s) ahead)"))
        except (ValueError, TypeError, RuntimeError) as exc:  # the pipeline refused the inputs
            raise ToolError(f"{self.name} ({self.title}) could not run {operation}: "
                            f"{type(exc).__name__}: {first_line(exc)}") from exc
        ctx.report(1.0, f"{self.name}: done")
        return EditResult(
            image=sizing.to_input_grid(output, image.size), backend=self.name,
            mask=grounded, model_id=self.config.path, seed=seed, steps=steps,
            metadata={"instruction": prompt, "model": self.title, "pipeline": variant or self.pipeline_class,
                      "working_size": list(size), "guidance": guidance,
                      "loras": [{"path": l.path, "weight": l.weight} for l in self.config.loras],
                      **({"grounded": True} if grounded is not None else {})})

    # ------------------------------------------------------------------ per model

    def pipeline_kwargs(self, call: EditCall, inpaint: bool) -> dict:
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers

    def _working_size(self, size: tuple[int, int]) -> tuple[int, int]:
        return sizing.working_size(size, self._area(), self.multiple, self.min_side)

    def _area(self) -> int:
        side = self.config.resolution or self.default_resolution
        return side * side

    def _too_many_references(self, count: int) -> str:
        if self.max_references == 0:
            return (f"{self.name} ({self.title}) edits one image and cannot use attached "
                    f"references; configure a multi-image model (qwen_image_edit_plus or flux2_klein)")
        return f"{self.name} ({self.title}) takes at most {self.max_references} reference image(s), got {count}"

    def _region(self, operation: str, image: Image.Image, args: OperationArgs,
                ctx: EditContext) -> tuple[Image.Image | None, Image.Image | None]:
        """(region to change for an inpaint pipeline, grounded region to report) for this call."""
        if ctx.mask is not None:
            mask = ctx.mask.convert("L")
            if operation == "replace_background":  # the given mask marks the subject to keep
                mask = ImageOps.invert(mask)
            return mask, None
        if self.grounder is None:
            return None, None
        if operation in GROUNDED:
            text = getattr(args, GROUNDED[operation])
            mask = self.grounder.mask(image, text)
            if mask.getbbox() is None:
                raise NeedsMask(f"could not find {text} in the picture; draw a mask over it")
            return mask, mask
        if operation == "replace_background":
            subject = self.grounder.mask(image, BACKGROUND_SUBJECT)
            if subject.getbbox() is None:
                return None, None  # no clear subject: let the model decide
            background = ImageOps.invert(subject)
            return background, background
        return None, None

    def _progress_callback(self, ctx: EditContext, steps: int):
        name = self.name

        def on_step_end(pipeline, step: int, timestep, callback_kwargs: dict) -> dict:
            total = getattr(pipeline, "_num_timesteps", None) or steps
            ctx.report((step + 1) / total, f"{name}: step {step + 1}/{total}")
            return callback_kwargs

        return on_step_end

    def describe(self) -> dict:
        location = locate(self.config.path, self.manager.hf_cache)
        models = [{"id": self.config.path, "path": str(location.path), "found": location.found,
                   "detail": location.detail}]
        for lora in self.config.loras:
            found = locate(lora.path, self.manager.hf_cache)
            models.append({"id": f"LoRA {lora.adapter_name()} x{lora.weight}", "path": str(found.path),
                           "found": found.found, "detail": found.detail})
        if self.grounder is not None:
            models.extend(self.grounder.describe_models())
        settings = (f"{self.config.steps or self.default_steps} steps, guidance "
                    f"{self.config.guidance if self.config.guidance is not None else self.default_guidance}, "
                    f"~{self.config.resolution or self.default_resolution}px, sides multiple of {self.multiple}")
        detail = f"{self.title} via {self.pipeline_class}"
        if self.inpaint_class:
            detail += f" ({self.inpaint_class} when a mask is given)"
        detail += f"; {settings}; on {self.manager.device}"
        detail += f"; {self.describe_extra()}" if self.describe_extra() else ""
        if not location.found:
            detail = f"missing weights: {location.detail}. {detail}"
        return {"name": self.name, "available": location.found, "detail": detail,
                "operations": sorted(self.operations), "models": models}

    def describe_extra(self) -> str:
        return ""

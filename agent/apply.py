"""Running one edit operation on a session's head and committing the result.

The one place where an edit step meets the history: the CLI's `retouch apply`
calls it directly, and the agent's executor calls it for every step of a plan.
The head it started from is the new version's parent, so if someone else moved
the branch meanwhile the commit fails cleanly (ConflictError) and nothing is lost.
"""

from __future__ import annotations

import os
from typing import Iterable

from PIL import Image

from storage import History, Operation, Version, load_image
from tools.masks import check_mask, mask_from_image
from tools.registry import EditContext, OperationArgs, ProgressCallback, Toolbox, get_operation, validate_args

# Argument fields that name an attached image ("reference 1"): filled in when exactly
# one image came with the request and the caller did not name it.
IMAGE_FIELDS = ("reference", "garment_reference", "control_image")

ImageInput = Image.Image | str | os.PathLike | bytes


def apply_operation(history: History, toolbox: Toolbox, tool: str, args: dict | OperationArgs,
                    *, mask: ImageInput | None = None, references: Iterable[ImageInput] = (),
                    backend: str | None = None, seed: int | None = None,
                    instruction: str | None = None, progress: ProgressCallback | None = None,
                    parent_id: int | None = None, move_head: bool = True) -> Version:
    """Run `tool` on version `parent_id` (default: the current head) and commit the result.

    `mask` is an "L" image the size of the picture, 255 = change here (see tools.masks
    for masks from scribbles and boxes); `references` are the attached images, as
    'reference 1', 'reference 2', ... in the arguments. Returns the new version.
    Bad arguments, a mask of the wrong size or an operation no backend can do raise
    a ToolError before anything is committed.
    """
    start = history.version(parent_id) if parent_id is not None else history.head()
    image = history.image(start.id)
    max_pixels = history.store.max_pixels
    reference_images = [load_image(source, max_pixels) for source in references]
    mask_image = _mask(mask, image.size, max_pixels) if mask is not None else None
    parsed = validate_args(tool, with_attachments(tool, args, mask_image is not None,
                                                  len(reference_images)))
    ctx = EditContext(mask=mask_image, references=reference_images, seed=seed, progress=progress)
    result = toolbox.run(tool, image, parsed, ctx, backend=backend)
    recorded = parsed.model_dump(mode="json", exclude_defaults=True)
    recorded.update(_keep_attachments(history, mask_image, reference_images))
    operation = Operation(tool=tool, args=recorded, backend=result.backend,
                          model_id=result.model_id,
                          seed=result.seed if result.seed is not None else seed,
                          steps=result.steps, duration_s=result.duration_s,
                          instruction=instruction)
    return history.commit(result.image, operation, parent_id=start.id, move_head=move_head)


def _mask(mask: ImageInput, size: tuple[int, int], max_pixels: int) -> Image.Image:
    """An "L" mask is taken as it is; a file or colour image is read as an uploaded mask."""
    if isinstance(mask, Image.Image) and mask.mode == "L":
        return check_mask(mask, size)
    upload = mask if isinstance(mask, Image.Image) else load_image(mask, max_pixels)
    return mask_from_image(upload, size)


def with_attachments(tool: str, args: dict | OperationArgs, has_mask: bool,
                     references: int) -> dict:
    """The arguments with the attached mask and images named where the caller left them out."""
    data = dict(args.model_dump(exclude_unset=True) if isinstance(args, OperationArgs) else args or {})
    fields = get_operation(tool).args_model.model_fields
    if has_mask and not data.get("mask"):
        data["mask"] = "mask"
    if references and not data.get("references"):
        data["references"] = [f"reference {n}" for n in range(1, references + 1)]
    if references == 1:
        for name in IMAGE_FIELDS:
            if name in fields and not data.get(name):
                data[name] = "reference 1"
                break
    return data


def _keep_attachments(history: History, mask: Image.Image | None,
                      references: list[Image.Image]) -> dict:
    """Store the mask and reference images with the session; their asset ids go in the record."""
    kept: dict = {}
    if mask is not None:
        kept["mask_asset"] = history.add_asset(mask, "mask").id
    if references:
        kept["reference_assets"] = [history.add_asset(image, "reference").id for image in references]
    return {"assets": kept} if kept else {}

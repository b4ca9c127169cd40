"""Running one plan step: an edit through `agent.apply.apply_operation`, or a history intent.

Edits run on the current head and commit a child version (N sibling versions for
N variants, each with its own recorded seed, the first becoming head). History
intents move heads and branches in the store; no model is touched.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Callable

from PIL import Image

from agent.apply import apply_operation
from agent.errors import AgentError
from agent.history_view import render_tree, summarize
from agent.plan import Step, step_in_words
from agent.planners.base import CURRENT_IMAGE, attachment_index
from storage import History, Version
from tools.registry import Toolbox

# (fraction of this step done 0..1, message)
Progress = Callable[[float, str], None]


@dataclass
class StepOutcome:
    versions: list[Version] = field(default_factory=list)   # new versions (edits), head first
    head: Version | None = None                              # where the branch head is now
    message: str = ""
    details: dict = field(default_factory=dict)              # e.g. compare: {"a": id, "b": id}


def new_seed() -> int:
    return random.SystemRandom().randrange(1, 2**31 - 1)


def run_step(step: Step, history: History, toolbox: Toolbox | Callable[[], Toolbox], *,
             masks: list[Image.Image] = (), references: list[Image.Image] = (),
             instruction: str | None = None, progress: Progress | None = None,
             backend: str | None = None, next_step: Step | None = None) -> StepOutcome:
    if step.is_edit:
        box = toolbox() if callable(toolbox) else toolbox
        return run_edit(step, history, box, masks=masks, references=references,
                        instruction=instruction, progress=progress, backend=backend)
    return run_history_intent(step, history, next_step=next_step)


def run_edit(step: Step, history: History, toolbox: Toolbox, *, masks=(), references=(),
             instruction: str | None = None, progress: Progress | None = None,
             backend: str | None = None, seeds: list[int] | None = None) -> StepOutcome:
    args = dict(step.args)
    mask = None
    if args.get("mask"):
        index = attachment_index(args["mask"])
        if index > len(masks):
            raise AgentError(f"{step.tool} needs {args['mask']}, but {len(masks)} mask(s) came "
                             f"with the request")
        mask = masks[index - 1]
    references = list(references)
    parent = history.head()
    if step.tool == "control_generate" and args.get("control_image") == CURRENT_IMAGE:
        # "a dancer in this pose": the photo itself is the control image.
        references.append(history.image(parent.id))
        args["control_image"] = f"reference {len(references)}"
    seeds = seeds or [new_seed() for _ in range(step.variants)]
    versions: list[Version] = []
    for index, seed in enumerate(seeds):
        def report(fraction: float, message: str = "", index=index) -> None:
            if progress is not None:
                progress((index + fraction) / len(seeds), message)

        versions.append(apply_operation(
            history, toolbox, step.tool, args, mask=mask, references=references, backend=backend,
            seed=seed, instruction=instruction, progress=report, parent_id=parent.id,
            move_head=index == 0))  # siblings: only the first becomes head
        if len(seeds) > 1:
            report(1.0, f"option {index + 1} of {len(seeds)} done")
    what = step_in_words(step.model_copy(update={"variants": 1}))
    if len(versions) == 1:
        message = f"version {versions[0].id}: {what}"
    else:
        ids = ", ".join(str(version.id) for version in versions)
        message = (f"versions {ids}: {len(versions)} options of {what}; showing option 1 "
                   f"(say 'use option 2' to switch)")
        if len({version.image_sha256 for version in versions}) == 1:
            message += f"; they are identical: the {versions[0].backend} backend does not vary " \
                       f"with the seed"
    return StepOutcome(versions=versions, head=versions[0], message=message)


def run_history_intent(step: Step, history: History, next_step: Step | None = None) -> StepOutcome:
    args = step.args
    if step.tool == "undo":
        head = history.undo(args.get("steps", 1))
        return StepOutcome(head=head, message=f"undid {args.get('steps', 1)} step(s): now at "
                                              f"version {head.id} ({summarize(head)})")
    if step.tool in ("revert", "use_variant"):
        head = history.revert(args["version"])
        what = f"option {args['option']}" if step.tool == "use_variant" else f"version {head.id}"
        return StepOutcome(head=head, message=f"back to {what} ({summarize(head)}) on branch "
                                              f"{history.current_branch}")
    if step.tool == "branch":
        name = args.get("name") or made_up_branch_name(history, next_step)
        head = history.branch(name, from_version=args.get("from_version"))
        return StepOutcome(head=head, message=f"new branch '{name}' from version {head.id} "
                                              f"({summarize(head)}); the next edits go there")
    if step.tool == "checkout":
        head = history.checkout(args["branch"])
        return StepOutcome(head=head, message=f"on branch '{args['branch']}', at version "
                                              f"{head.id} ({summarize(head)})")
    if step.tool == "show_history":
        return StepOutcome(head=history.head(),
                           message=render_tree(history.log(), history.current_branch))
    if step.tool == "compare":
        return compare(history, args["a"], args["b"])
    raise AgentError(f"unknown history intent {step.tool}")


def compare(history: History, a: str, b: str) -> StepOutcome:
    """What separates two versions: the edits from their common ancestor to each."""
    first, second = history.version(a), history.version(b)
    path_a, path_b = history.ancestry(first.id), history.ancestry(second.id)
    common = [x for x, y in zip(path_a, path_b) if x.id == y.id]
    base = common[-1] if common else None

    def since(path: list[Version]) -> str:
        edits = [summarize(v) for v in path[len(common):]]
        return ", then ".join(edits) if edits else "nothing"

    if base is None:
        text = (f"Versions {first.id} and {second.id} come from different imports: "
                f"{summarize(path_a[0])} and {summarize(path_b[0])}.")
    else:
        text = (f"Version {first.id} vs version {second.id} (both from version {base.id}): "
                f"{first.id} has {since(path_a)}; {second.id} has {since(path_b)}.")
    if (first.width, first.height) != (second.width, second.height):
        text += f" Sizes: {first.width}x{first.height} vs {second.width}x{second.height}."
    if first.image_sha256 == second.image_sha256:
        text += " The two images are identical."
    return StepOutcome(head=history.head(), message=text, details={"a": first.id, "b": second.id})


def made_up_branch_name(history: History, next_step: Step | None) -> str:
    """A readable, unused name: from the edit that follows ('forest'), else 'branch-3'."""
    existing = set(history.branches())
    base = ""
    if next_step is not None and next_step.is_edit:
        words = next((str(value) for key, value in next_step.args.items()
                      if key not in ("mask", "references", "strength") and value), "")
        base = "-".join(re.findall(r"[a-z0-9]+", words.lower())[:3])
    if not base:
        base = f"branch-{len(existing) + 1}"
    name, number = base, 2
    while name in existing:
        name, number = f"{base}-{number}", number + 1
    return name

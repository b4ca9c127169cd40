"""What every planner shares: its interface, its input, and the checks after it.

A planner turns a `PlanningContext` (the words, what was attached, the session's
history) into a `Plan`. `finalize_plan` then runs the same checks for every
planner: version references become real ids (agent/references.py), attachments
named by a step must exist, and an edit with no photo becomes a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from agent.errors import AgentError
from agent.plan import Plan, Step
from agent.references import HistorySnapshot, UnresolvedReference, resolve_version, variant

# Arguments that name an attached image ('reference 1', ...).
IMAGE_ARGUMENTS = ("reference", "garment_reference", "control_image")
CURRENT_IMAGE = "current image"  # control_generate on the photo itself ("in this pose")


class PlanningError(AgentError):
    """The planner could not produce a valid plan (e.g. an LLM answered nonsense twice)."""


@dataclass
class PlanningContext:
    text: str
    snapshot: HistorySnapshot = field(default_factory=HistorySnapshot)
    masks: int = 0          # attached masks/scribbles: 'mask' (or 'mask 1', 'mask 2', ...)
    references: int = 0     # attached reference images: 'reference 1', 'reference 2', ...
    turns: list[dict] = field(default_factory=list)  # recent exchanges: {"user", "reply"}


@runtime_checkable
class Planner(Protocol):
    name: str

    def plan(self, context: PlanningContext) -> Plan: ...

    def describe(self) -> str:
        """One line for `status`: what planner, which model."""
        ...


def finalize_plan(plan: Plan, context: PlanningContext) -> Plan:
    """Resolve version references and check attachments; a question when that fails."""
    if plan.clarify:
        return plan
    if plan.edits and context.snapshot.head is None:
        return Plan(clarify="Which photo? Send me an image to edit first.")
    try:
        steps = [_finalize_step(step, context) for step in plan.steps]
    except UnresolvedReference as exc:
        return Plan(clarify=f"I could not tell which version you mean: {exc}. "
                            f"Name it by number (see the history) or describe the edit.")
    except _MissingAttachment as exc:
        return Plan(clarify=str(exc))
    return Plan(steps=steps, reply=plan.reply)


class _MissingAttachment(Exception):
    pass


def _finalize_step(step: Step, context: PlanningContext) -> Step:
    snapshot, args = context.snapshot, dict(step.args)
    if step.tool == "revert":
        args["version"] = str(resolve_version(snapshot, args["version"]).id)
    elif step.tool == "branch" and args.get("from_version"):
        args["from_version"] = str(resolve_version(snapshot, args["from_version"]).id)
    elif step.tool == "compare":
        for key, default in (("a", "current"), ("b", "previous")):
            args[key] = str(resolve_version(snapshot, args.get(key, default)).id)
    elif step.tool == "use_variant":
        args["version"] = str(variant(snapshot, args["option"]).id)
    elif step.tool in ("undo",) and snapshot.head is None:
        raise UnresolvedReference("there is nothing to undo yet")
    elif step.is_edit:
        _check_attachments(step, args, context)
    return Step(tool=step.tool, args=args, variants=step.variants)


def _check_attachments(step: Step, args: dict, context: PlanningContext) -> None:
    names = [args.get(key) for key in IMAGE_ARGUMENTS if args.get(key)]
    names += list(args.get("references") or [])
    for name in names:
        if step.tool == "control_generate" and name == CURRENT_IMAGE:
            continue
        index = attachment_index(name)
        if index > context.references:
            have = (f"only {context.references} reference image(s) came"
                    if context.references else "no reference image came")
            raise _MissingAttachment(
                f"{step.tool} needs '{name}', but {have} with this message: attach it and "
                f"ask again.")
    mask = args.get("mask")
    if mask and attachment_index(mask) > context.masks:
        raise _MissingAttachment(f"{step.tool} needs a mask, but none came with this message: "
                                 f"attach a mask or scribble and ask again.")


def attachment_index(name: str) -> int:
    """'reference 2' -> 2, 'mask' -> 1: the 1-based position of an attached image."""
    digits = re.findall(r"\d+", str(name))
    return int(digits[0]) if digits else 1

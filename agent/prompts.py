"""The LLM planner's prompt, built from the registry and the session's real state.

The operation list comes from the registry itself (name, one-line description,
argument schema), so a new operation is planned for the moment it is registered.
The state part shows the current branch, the head and the last few versions on
the current line, so "undo that" and "before the background change" have
something real to refer to; the planner names versions in words and
agent/references.py finds them.
"""

from __future__ import annotations

from agent.history_view import summarize
from agent.plan import HISTORY_INTENTS
from agent.planners.base import PlanningContext
from tools.registry import operations

FORMAT = """Answer with one JSON object and nothing else:
{"steps": [{"tool": "<name>", "args": {...}, "variants": 1}], "reply": "<one short sentence for the user>", "clarify": null}
- steps run in order, each on the result of the previous one; split compound requests
  ("remove X, then make it warmer") into one step per edit, in the order asked.
- Use a specific operation when one fits; "edit" only for anything else.
- Copy the user's words into the arguments (targets, descriptions, styles); never invent
  objects, places or text the user did not mention.
- "mask": set it to "mask" only on the step that needs a region when a mask is attached
  (with one mask and several steps: the removal/replacement step). Never otherwise.
- Image arguments and "references" name attached images as "reference 1", "reference 2".
  When the user says "the second image/picture", that is "reference 1" (the first image
  is the photo being edited).
- History: to go back or branch from an earlier version, put the user's own words for it
  in the version argument ("the original", "before the background change", "two steps
  back", "3"); code finds the version. Do not do version arithmetic yourself.
- "variants": N when the user asks for N options/variants of an edit (max 8).
- If the request cannot be planned safely (nothing to refer to, e.g. "remove it" with
  no mask and no earlier object; a garment or style image mentioned but not attached),
  return no steps and put a short question in "clarify".
- Small talk or questions about what you can do: no steps, answer in "reply"."""


def operation_catalogue() -> str:
    lines = []
    for name, spec in sorted(operations().items()):
        schema = spec.args_model.model_json_schema()
        required = set(schema.get("required", []))
        args = []
        for arg, info in schema.get("properties", {}).items():
            if arg in ("mask", "references"):
                continue
            mark = "" if arg in required else "?"
            args.append(f"{arg}{mark}: {info.get('description', '')}".strip())
        lines.append(f"- {name}: {spec.description}\n    args: " + "; ".join(args)
                     + "; mask?; references?")
    return "\n".join(lines)


def intent_catalogue() -> str:
    lines = []
    for name, (model, description) in HISTORY_INTENTS.items():
        fields = ", ".join(f"{arg}" + ("" if info.is_required() else "?")
                           for arg, info in model.model_fields.items())
        lines.append(f"- {name}({fields}): {description}")
    return "\n".join(lines)


def session_state(context: PlanningContext, recent_versions: int = 8) -> str:
    snapshot = context.snapshot
    if snapshot.head is None:
        return "The session has no photo yet."
    line = snapshot.line()
    shown = line[-recent_versions:] if recent_versions else []
    lines = [f"Current branch: {snapshot.branch}; head: version {snapshot.head.id}; "
             f"branches: {', '.join(snapshot.branches) or 'main'}.",
             "Versions on the current line, oldest first:"]
    if len(line) > len(shown):
        lines.append(f"  ... {len(line) - len(shown)} older")
    for version in shown:
        said = f'  (asked: "{version.instruction}")' if version.instruction else ""
        lines.append(f"  {version.id}: {summarize(version, 80)}{said}")
    return "\n".join(lines)


def system_prompt(context: PlanningContext, recent_versions: int = 8) -> str:
    return "\n\n".join([
        "You plan image edits for retouch, a local photo editor with a versioned history. "
        "Turn the user's request into a plan of operations.",
        FORMAT,
        "Edit operations:\n" + operation_catalogue(),
        "History actions (no image model):\n" + intent_catalogue(),
        "Session state:\n" + session_state(context, recent_versions),
    ])


def user_message(context: PlanningContext) -> str:
    attached = []
    if context.masks:
        attached.append("1 mask ('mask')" if context.masks == 1 else
                        f"{context.masks} masks ('mask 1'..'mask {context.masks}')")
    if context.references:
        names = ", ".join(f"'reference {n}'" for n in range(1, context.references + 1))
        attached.append(f"{context.references} reference image(s): {names}")
    note = f"\n(Attached: {'; '.join(attached)}.)" if attached else "\n(Nothing attached.)"
    return context.text + note


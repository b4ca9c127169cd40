"""Edit-tool subcommands: `retouch apply` (one operation, no planning) and `retouch models`."""

from __future__ import annotations

import argparse
import json
import sys

from agent.cli.common import describe, open_history, print_json, settings_from
from storage import load_image
from tools.errors import ToolError
from tools.registry import operations


def register(subparsers, common: argparse.ArgumentParser) -> None:
    names = ", ".join(sorted(operations()))
    parser = subparsers.add_parser(
        "apply", parents=[common], help="run one edit operation on the head and commit the result",
        description=f"Run one edit operation on the session's head (no planning) and commit the "
                    f"result as a child version; prints its id. Operations: {names}. "
                    f"Example: retouch apply remove_object target='the cup' --scribble painted.png")
    parser.add_argument("operation", help="operation name (see `retouch models`)")
    parser.add_argument("arguments", nargs="*", metavar="key=value",
                        help="the operation's arguments, e.g. style='pencil sketch'")
    parser.add_argument("--mask", help="mask image: white (or opaque) where to change")
    parser.add_argument("--scribble", help="a copy of the image painted over the region (red)")
    parser.add_argument("--color", default="red", help="the scribble's paint colour (default red)")
    parser.add_argument("--box", help="region as x0,y0,x1,y1 in pixels or fractions (0-1)")
    parser.add_argument("--ref", action="append", default=[], metavar="FILE",
                        help="reference image ('reference 1', 'reference 2', ... in order)")
    parser.add_argument("--backend", help="run on this backend (default: the first that can)")
    parser.add_argument("--seed", type=int, help="random seed, for repeatable results")
    parser.add_argument("--instruction", help="the words this edit answers, kept in the history")
    parser.add_argument("--json", action="store_true", help="print the new version as JSON")
    parser.set_defaults(func=cmd_apply)

    parser = subparsers.add_parser(
        "models", parents=[common], help="list the backends and models available here",
        description="List the edit backends and models available on this machine and the "
                    "operations each can run.")
    parser.add_argument("--json", action="store_true", help="print as JSON")
    parser.set_defaults(func=cmd_models)


def parse_arguments(pairs: list[str]) -> dict:
    """key=value pairs; values that look like JSON lists/objects are parsed, the rest stay text
    (pydantic turns '0.5' into a number where the field is one)."""
    parsed: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ToolError(f"'{pair}' is not a key=value argument (e.g. target='the red cup')")
        value = value.strip()
        if value[:1] in "[{":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise ToolError(f"the value of {key} is not valid JSON: {value}") from None
        parsed[key.strip()] = value
    return parsed


def cmd_apply(args) -> int:
    from agent.apply import apply_operation  # OpenCV and the backends load only when editing
    from agent.runtime import get_toolbox

    history = open_history(args)
    toolbox = get_toolbox(settings_from(args))
    head = history.head()
    mask = _region(args, history, head.id)
    version = apply_operation(
        history, toolbox, args.operation, parse_arguments(args.arguments), mask=mask,
        references=args.ref, backend=args.backend, seed=args.seed,
        instruction=args.instruction, parent_id=head.id,
        progress=_progress if sys.stderr.isatty() else None)
    if args.json:
        print_json(version.to_json())
    else:
        print(version.id)
        if sys.stderr.isatty():
            print(f"committed {describe(version)}", file=sys.stderr)
    return 0


def _region(args, history, head_id: int):
    """The mask from --mask, --scribble or --box (one of them), checked against the head's size."""
    given = [name for name in ("mask", "scribble", "box") if getattr(args, name)]
    if len(given) > 1:
        raise ToolError(f"give one region, not {' and '.join('--' + name for name in given)}")
    if not given:
        return None
    from tools.masks import mask_from_box, mask_from_scribble

    size = (history.version(head_id).width, history.version(head_id).height)
    if args.box:
        try:
            box = tuple(float(part) for part in args.box.split(","))
        except ValueError:
            raise ToolError(f"--box needs four numbers x0,y0,x1,y1 (got '{args.box}')") from None
        return mask_from_box(box, size)
    if args.scribble:
        scribble = load_image(args.scribble)
        return mask_from_scribble(scribble, history.image(head_id), color=args.color)
    return load_image(args.mask)


def _progress(fraction: float, message: str) -> None:
    print(f"\r{fraction:4.0%} {message:<40}", end="" if fraction < 1 else "\n", file=sys.stderr)


def cmd_models(args) -> int:
    from agent.runtime import get_toolbox

    toolbox = get_toolbox(settings_from(args))
    backends = [backend.describe() for backend in toolbox.backends]
    runnable = {name for backend in toolbox.backends for name in operations()
                if backend.supports(name)}
    missing = sorted(set(operations()) - runnable)
    if args.json:
        print_json({"backends": backends, "operations": _operation_table(toolbox),
                    "unavailable": missing})
        return 0
    for info in backends:
        state = "available" if info.get("available") else "not available"
        print(f"{info['name']}  ({state})")
        if info.get("detail"):
            print(f"  {info['detail']}")
        for model in info.get("models") or []:
            print(f"  model: {_model_line(model)}")
        print(f"  operations: {', '.join(info.get('operations') or []) or 'none'}")
    if missing:
        print(f"\nneeds a diffusion backend (none configured here): {', '.join(missing)}")
    return 0


def _model_line(model) -> str:
    """One model of a backend: where it was looked for and whether it is there."""
    if not isinstance(model, dict):
        return str(model)
    if model.get("found"):
        return f"{model['id']}: found at {model['path']}"
    return f"{model['id']}: MISSING ({model.get('detail') or 'looked at ' + str(model['path'])})"


def _operation_table(toolbox) -> list[dict]:
    return [{"name": spec.name, "description": spec.description, "local": spec.local,
             "backends": [backend.name for backend in toolbox.backends_for(spec.name)],
             "arguments": spec.args_model.model_json_schema().get("properties", {})}
            for spec in sorted(operations().values(), key=lambda spec: spec.name)]

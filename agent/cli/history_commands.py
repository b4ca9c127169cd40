"""History subcommands: import, log, show, undo, revert, branch, branches, checkout, sessions."""

from __future__ import annotations

import argparse

from agent.cli.common import describe, open_history, print_json, settings_from
from agent.history_view import render_tree
from storage import Store


def register(subparsers, common: argparse.ArgumentParser) -> None:
    def add(name: str, func, help_text: str) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, parents=[common], help=help_text,
                                       description=help_text)
        parser.set_defaults(func=func)
        return parser

    parser = add("import", cmd_import, "import an image as a new root version; prints its id")
    parser.add_argument("image", help="image file (PNG, JPEG, WebP, TIFF, ...)")

    parser = add("log", cmd_log, "show the version tree of the session")
    parser.add_argument("--json", action="store_true", help="print the versions as JSON")

    parser = add("show", cmd_show, "show a version, or write its image with -o")
    parser.add_argument("version", help="version id (default: head)", nargs="?")
    parser.add_argument("-o", "--output", help="write the image to this file")
    parser.add_argument("--json", action="store_true", help="print the version as JSON")

    parser = add("undo", cmd_undo, "move the branch head back to the parent (kept in the tree)")
    parser.add_argument("steps", nargs="?", type=int, default=1, help="how many steps (default 1)")

    parser = add("revert", cmd_revert, "make any version the head of the current branch")
    parser.add_argument("version")

    parser = add("branch", cmd_branch, "create a branch at a version and switch to it")
    parser.add_argument("name")
    parser.add_argument("--from", dest="from_version", help="version to start from (default: head)")

    add("branches", cmd_branches, "list the session's branches")

    parser = add("checkout", cmd_checkout, "switch to another branch")
    parser.add_argument("name")

    parser = add("sessions", cmd_sessions, "list sessions")
    parser.add_argument("--json", action="store_true")


def cmd_import(args) -> int:
    version = open_history(args).import_image(args.image)
    print(version.id)
    return 0


def cmd_log(args) -> int:
    history = open_history(args)
    versions = history.log()
    if args.json:
        print_json([version.to_json() for version in versions])
    else:
        print(render_tree(versions, history.current_branch))
    return 0


def cmd_show(args) -> int:
    history = open_history(args)
    version = history.version(args.version) if args.version else history.head()
    if args.output:
        print(history.export(version.id, args.output))
    elif args.json:
        print_json(version.to_json())
    else:
        for key, value in version.to_json().items():
            print(f"{key:>13}: {value}")
    return 0


def cmd_undo(args) -> int:
    history = open_history(args)
    version = history.undo(args.steps)
    print(f"{history.current_branch} is now at {describe(version)}")
    return 0


def cmd_revert(args) -> int:
    history = open_history(args)
    version = history.revert(args.version)
    print(f"{history.current_branch} is now at {describe(version)}")
    return 0


def cmd_branch(args) -> int:
    version = open_history(args).branch(args.name, from_version=args.from_version)
    print(f"switched to new branch {args.name} at {describe(version)}")
    return 0


def cmd_branches(args) -> int:
    history = open_history(args)
    current = history.current_branch
    for name, head_id in history.branches().items():
        print(f"{'*' if name == current else ' '} {name}  {head_id}")
    return 0


def cmd_checkout(args) -> int:
    version = open_history(args).checkout(args.name)
    print(f"switched to branch {args.name} at {describe(version)}")
    return 0


def cmd_sessions(args) -> int:
    settings = settings_from(args)
    infos = Store(settings.data_dir, url=settings.db_url).sessions()
    if args.json:
        print_json([info.__dict__ for info in infos])
        return 0
    for info in infos:
        last = info.last_activity.strftime("%Y-%m-%d %H:%M") if info.last_activity else "-"
        print(f"{info.name:<24} {info.versions:>5} versions  on {info.current_branch:<12} last {last}")
    return 0

"""The `retouch` command line: one subcommand module per concern, one entry point.

Every subcommand accepts --session and --data-dir (after its own arguments too);
errors print one line on stderr and exit non-zero.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from agent.cli.common import add_common_options
from agent.errors import USER_ERRORS

# Each module defines register(subparsers, common) and sets `func` on its parsers.
COMMAND_MODULES = [
    "agent.cli.history_commands",
    "agent.cli.ui_commands",
    "agent.cli.mcp_commands",
    "agent.cli.tool_commands",
    "agent.cli.agent_commands",
]


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    add_common_options(common)
    parser = argparse.ArgumentParser(
        prog="retouch", parents=[common],
        description="Edit images by instruction, with a versioned history.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("retouch: interrupted; the history is unchanged by the unfinished step",
              file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        print(f"retouch: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

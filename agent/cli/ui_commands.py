"""`retouch ui`: open the chat in the browser (the Chainlit app in chat_ui/).

The command replaces this process with `python -m chat_ui ...` rather than
importing it: arrows point from chat_ui to agent, never back.
"""

from __future__ import annotations

import argparse
import os
import sys

from agent.cli.common import settings_from

DEFAULT_PORT = 8000


def register(subparsers, common: argparse.ArgumentParser) -> None:
    help_text = "open the chat UI on localhost (Chainlit); runs until Ctrl+C"
    parser = subparsers.add_parser("ui", parents=[common], help=help_text, description=help_text)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT})")
    parser.set_defaults(func=cmd_ui)


def cmd_ui(args) -> int:
    settings = settings_from(args)
    argv = [sys.executable, "-m", "chat_ui", "--host", args.host, "--port", str(args.port),
            "--data-dir", str(settings.data_dir)]
    if getattr(args, "session", None):
        argv += ["--session", args.session]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
    return 0  # not reached

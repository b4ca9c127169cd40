"""Options and helpers shared by every subcommand."""

from __future__ import annotations

import argparse
import json
import sys

from agent.config import Settings, load_settings
from storage import History, Store, Version


def add_common_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS keeps a value given before the subcommand from being reset after it.
    parser.add_argument("--session", default=argparse.SUPPRESS,
                        help="session name (default: default)")
    parser.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="data folder (default: $RETOUCH_DATA_DIR or ~/.local/share/retouch)")


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(data_dir=getattr(args, "data_dir", None))


def session_name(args: argparse.Namespace) -> str:
    return getattr(args, "session", None) or "default"


def open_history(args: argparse.Namespace) -> History:
    settings = settings_from(args)
    store = Store(settings.data_dir, url=settings.db_url, max_pixels=settings.max_pixels)
    return store.session(session_name(args))


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def describe(version: Version) -> str:
    what = version.instruction or version.tool
    return f"version {version.id} ({what}, {version.width}x{version.height})"

"""Which retouch session a chat opens, and the chat's memory of the last one used.

Each chat works on one retouch session (its history and conversation live in the
data dir). Opening the app continues the session used last, so a restart or a
reload picks up where the person left off; `retouch ui --session NAME` opens a
given one. The last-used name is kept in `DATA_DIR/chat_ui.json`; without it the
session with the newest activity is taken.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

from chat_ui.launch import SESSION_ENV

STATE_FILE = "chat_ui.json"
DEFAULT_SESSION = "default"
_VALID_NAME = re.compile(r"^[\w.\-]{1,80}$")


def requested_session() -> str | None:
    """The session named on the command line (`retouch ui --session NAME`), if any."""
    return os.environ.get(SESSION_ENV) or None


def last_session(data_dir: Path, sessions: list) -> str:
    """The session to continue: the remembered one if it exists, else the newest active."""
    remembered = _read_state(data_dir).get("last_session")
    if isinstance(remembered, str) and remembered.strip():
        return remembered  # even if it has no images yet: a new session the person started
    if sessions:
        newest = max(sessions, key=lambda info: (info.last_activity or info.created_at))
        return newest.name
    return DEFAULT_SESSION


def remember_session(data_dir: Path, name: str) -> None:
    """Write the last-used session name; atomically, so a crash never leaves half a file."""
    state = _read_state(data_dir)
    state["last_session"] = name
    path = Path(data_dir) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, path)


def new_session_name(existing: set[str], wanted: str | None = None,
                     now: datetime | None = None) -> str:
    """A valid unused name: the one asked for, else `chat-YYYY-MM-DD-HHMM` (suffixed if taken)."""
    if wanted:
        name = wanted.strip()
        if not _VALID_NAME.match(name):
            raise ValueError(f"'{wanted}' is not a usable session name "
                             f"(letters, digits, . _ - only, at most 80)")
        if name in existing:
            raise ValueError(f"a session named '{name}' already exists; "
                             f"use /switch {name} to open it")
        return name
    base = f"chat-{(now or datetime.now()).strftime('%Y-%m-%d-%H%M')}"
    name, counter = base, 2
    while name in existing:
        name, counter = f"{base}-{counter}", counter + 1
    return name


def _read_state(data_dir: Path) -> dict:
    path = Path(data_dir) / STATE_FILE
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}

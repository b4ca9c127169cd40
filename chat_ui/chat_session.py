"""The retouch session behind the open chat: opening, switching, listing, status.

Each browser chat holds one `RetouchSession` (the agent façade) in Chainlit's user
session; every request and button of that chat goes through it, one at a time.
"""

from __future__ import annotations

import asyncio

import chainlit as cl

from agent.config import load_settings
from agent.session import RetouchSession, store_for
from chat_ui.history import send_welcome_back
from chat_ui.sessions import last_session, new_session_name, remember_session, requested_session

HELP = """**What you can do**
- Attach a photo with the paperclip, or drag and drop it and say what to change, e.g. *remove the cup, then make it black and white*.
- Attach a **mask** (white = change here) or a **scribble** (a copy of the photo with the region painted red) to say where.
- Further images are **references** (“reference 1”, “reference 2”, …).
- Ask for **options** (*give me three options*) and pick one with its *Use option* button.
- Every result has buttons: **Undo**, **Revert**, **Branch from here**, **Compare with previous**, **Download**.
  Words work too: *go back two steps*, *revert to the original*, *branch from version 2*.

**Commands**: `/history` the version tree · `/sessions` list sessions · `/switch NAME` open one ·
`/new [NAME]` start a new session · `/status` backends and planner · `/help` this text"""

COMMANDS = [
    {"id": "history", "icon": "git-branch", "description": "Show the version tree"},
    {"id": "sessions", "icon": "folders", "description": "List sessions and switch"},
    {"id": "new", "icon": "square-pen", "description": "Start a new session (optional name)"},
    {"id": "switch", "icon": "folder-open", "description": "Open a session by name"},
    {"id": "status", "icon": "info", "description": "Active backends and planner"},
    {"id": "help", "icon": "circle-help", "description": "What you can do here"},
]


def current() -> RetouchSession:
    return cl.user_session.get("session")


def request_lock() -> asyncio.Lock:
    """One request or button at a time per chat: the history moves in order."""
    lock = cl.user_session.get("lock")
    if lock is None:
        lock = asyncio.Lock()
        cl.user_session.set("lock", lock)
    return lock


async def start_chat() -> None:
    """A new browser chat: continue the session asked for or used last."""
    await cl.context.emitter.set_commands(COMMANDS)
    settings = load_settings()
    name = requested_session() or await asyncio.to_thread(_last_session_name, settings)
    await open_session(name)


async def open_session(name: str, created: bool = False) -> RetouchSession:
    settings = load_settings()
    session = await asyncio.to_thread(RetouchSession, name, settings)
    cl.user_session.set("session", session)
    await asyncio.to_thread(remember_session, settings.data_dir, name)
    status = await asyncio.to_thread(session.status)
    opened = f"started a new session **`{name}`**" if created else f"session **`{name}`**"
    actions = [
        cl.Action(name="show_history", payload={}, label="History", icon="git-branch",
                  tooltip="The version tree of this session"),
        cl.Action(name="list_sessions", payload={}, label="Sessions", icon="folders",
                  tooltip="List sessions and switch"),
        cl.Action(name="new_session", payload={}, label="New session", icon="square-pen",
                  tooltip="Start an empty session (this one is kept)"),
    ]
    await cl.Message(content=f"**retouch** · {opened}\n\n{status}\n\n"
                             f"Attach a photo and say what to change; `/help` lists everything.",
                     actions=actions).send()
    await send_welcome_back(session)
    return session


async def new_session(wanted: str | None = None) -> None:
    existing = {info.name for info in await asyncio.to_thread(_sessions, current())}
    try:
        name = new_session_name(existing, wanted)
    except ValueError as exc:
        await cl.Message(content=f"⚠ {exc}").send()
        return
    await open_session(name, created=True)


async def switch_session(name: str) -> None:
    name = (name or "").strip()
    infos = await asyncio.to_thread(_sessions, current())
    names = [info.name for info in infos]
    if not name:
        await list_sessions()
        return
    if name not in names:
        known = ", ".join(f"`{n}`" for n in names) or "none yet"
        await cl.Message(content=f"⚠ There is no session `{name}` (sessions: {known}). "
                                 f"`/new {name}` starts one.").send()
        return
    await open_session(name)


async def list_sessions() -> None:
    session = current()
    infos = await asyncio.to_thread(_sessions, session)
    rows = ["| session | versions | branch | last edit |", "| --- | ---: | --- | --- |"]
    if session.history.name not in {info.name for info in infos}:
        rows.append(f"| `{session.history.name}` (open) | 0 | main | no images yet |")
    for info in sorted(infos, key=lambda i: i.last_activity or i.created_at, reverse=True):
        mark = " (open)" if info.name == session.history.name else ""
        last = info.last_activity.strftime("%Y-%m-%d %H:%M") if info.last_activity else "–"
        rows.append(f"| `{info.name}`{mark} | {info.versions} | {info.current_branch} | {last} |")
    actions = [cl.Action(name="switch_session", payload={"name": info.name},
                         label=f"Open {info.name}", icon="folder-open")
               for info in infos if info.name != session.history.name][:12]
    await cl.Message(content="**Sessions**\n\n" + "\n".join(rows), actions=actions).send()


async def send_status() -> None:
    status = await asyncio.to_thread(current().status)
    await cl.Message(content=f"**Status** · session `{current().history.name}`\n\n{status}").send()


def _sessions(session: RetouchSession) -> list:
    return session.history.store.sessions()


def _last_session_name(settings) -> str:
    return last_session(settings.data_dir, store_for(settings).sessions())

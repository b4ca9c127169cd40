"""Slash commands typed in the chat (`/history`, `/new NAME`, ...) or picked from the menu."""

from __future__ import annotations

import chainlit as cl

from chat_ui import chat_session
from chat_ui.history import send_history


def parse(message: cl.Message) -> tuple[str, str] | None:
    """(command, rest) for `/history`, `/switch NAME`, or a command picked from the menu."""
    text = (message.content or "").strip()
    if message.command:
        return message.command.lower(), text
    if text.startswith("/") and len(text) > 1 and not text.startswith("//"):
        word, _, rest = text[1:].partition(" ")
        return word.lower(), rest.strip()
    return None


async def run(command: str, rest: str) -> None:
    session = chat_session.current()
    if command in ("history", "log", "tree"):
        await send_history(session)
    elif command == "new":
        await chat_session.new_session(rest or None)
    elif command in ("sessions", "session"):
        await chat_session.list_sessions()
    elif command in ("switch", "open"):
        await chat_session.switch_session(rest)
    elif command == "status":
        await chat_session.send_status()
    elif command == "help":
        await cl.Message(content=chat_session.HELP).send()
    else:
        await cl.Message(content=f"⚠ Unknown command `/{command}`.\n\n{chat_session.HELP}").send()

"""The history in the chat: the version tree picture, branch switching, the welcome back.

All reads go through the session's history (read-only); every change goes through
the session (undo, revert, branch, checkout), as for the CLI and the MCP server.
"""

from __future__ import annotations

import asyncio

import chainlit as cl

from agent.history_view import render_tree
from chat_ui.render import send_result, tree_element
from chat_ui.views import caption_text

RECENT_TURNS = 6  # exchanges shown again when a session is reopened


async def send_history(session, parent_id: str | None = None) -> None:
    """The version tree as a picture and as text, with buttons to switch branches."""
    def read():
        history = session.history
        return history.log(), history.current_branch, history.branches()

    versions, current, branches = await asyncio.to_thread(read)
    if not versions:
        await cl.Message(content="No versions yet: attach a photo to start.", parent_id=parent_id).send()
        return
    text = render_tree(versions, current)
    actions = [cl.Action(name="checkout", payload={"branch": name}, label=f"Switch to {name}",
                         icon="git-branch", tooltip=f"Continue on branch {name} (at version {head})")
               for name, head in branches.items() if name != current]
    await cl.Message(
        content=f"**History of session `{session.history.name}`** — on branch `{current}`\n"
                f"```text\n{text}\n```",
        elements=[await tree_element(session)], actions=actions, parent_id=parent_id).send()


async def send_welcome_back(session) -> None:
    """A reopened session: the last exchanges, then the tree and the current image."""
    def read():
        history = session.history
        versions = history.log()
        head = history.head() if versions else None
        return versions, head, history.current_branch, session.conversation()

    versions, head, branch, turns = await asyncio.to_thread(read)
    for turn in turns[-RECENT_TURNS:]:
        if turn.get("user"):
            await cl.Message(content=turn["user"], type="user_message", author="You").send()
        if turn.get("reply"):
            await cl.Message(content=turn["reply"]).send()
    if head is None:
        return
    lines = [f"Continuing session **{session.history.name}**: {len(versions)} version(s), "
             f"on branch `{branch}` at **version {head.id}** ({caption_text(head)})."]
    if not turns:  # history made elsewhere (the CLI, MCP): its instructions tell the story
        requests = _recent_requests(versions)
        if requests:
            lines.append("\nEarlier in this session:")
            lines += [f"- “{text}” → version {last}" for text, last in requests]
    await cl.Message(content="\n".join(lines), elements=[await tree_element(session)]).send()
    await send_result(session, head.id, f"Current image: version {head.id} (head of `{branch}`).")


def _recent_requests(versions) -> list[tuple[str, int]]:
    """The last few instructions and the newest version each one made."""
    latest: dict[str, int] = {}
    for version in versions:
        if version.instruction:
            latest.pop(version.instruction, None)  # re-insert: keeps newest-use order
            latest[version.instruction] = version.id
    items = list(latest.items())[-RECENT_TURNS:]
    return [(_short(text), version_id) for text, version_id in items]


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""What the buttons under results do. Each goes through the session (the agent façade)."""

from __future__ import annotations

import asyncio

import chainlit as cl

from chat_ui.render import compare_element, send_result
from chat_ui.views import caption_text, png_bytes


async def undo(session, payload: dict) -> None:
    def run():
        before = session.history.head()
        version = session.undo(1)
        return before, version, session.history.current_branch

    before, version, branch = await asyncio.to_thread(run)
    await send_result(session, version.id,
                      f"↩ Undone: `{branch}` is back at **version {version.id}** "
                      f"({caption_text(version)}). Version {before.id} stays in the history.")


async def revert(session, payload: dict) -> None:
    version_id = int(payload["version"])

    def run():
        return session.revert(version_id), session.history.current_branch

    version, branch = await asyncio.to_thread(run)
    await send_result(session, version.id, f"`{branch}` now points at **version {version.id}** "
                                           f"({caption_text(version)}).")


async def use_version(session, payload: dict) -> None:
    version_id = int(payload["version"])
    version = await asyncio.to_thread(session.revert, version_id)
    option = payload.get("option")
    which = f"option {option}, " if option else ""
    await send_result(session, version.id, f"✓ Using {which}**version {version.id}**: "
                                           f"it is the head now; further edits start from it.")


async def branch(session, payload: dict) -> None:
    version_id = int(payload["version"])

    def run():
        return session.branch(None, from_version=version_id), session.history.current_branch

    version, name = await asyncio.to_thread(run)
    await send_result(session, version.id,
                      f"New branch **`{name}`** at version {version.id}; edits now continue "
                      f"there. The other branches stay as they were (`/history`).")


async def checkout(session, payload: dict) -> None:
    name = str(payload["branch"])
    version = await asyncio.to_thread(session.checkout, name)
    await send_result(session, version.id, f"Switched to branch **`{name}`** at "
                                           f"version {version.id} ({caption_text(version)}).")


async def compare(session, payload: dict) -> None:
    version_id = int(payload["version"])
    version = await asyncio.to_thread(session.history.version, version_id)
    if version.parent_id is None:
        await cl.Message(content=f"Version {version_id} is an imported original: there is no "
                                 f"earlier version to compare it with.").send()
        return
    element = await compare_element(session, version.parent_id, version.id,
                                    labels=("before", "after"))
    await cl.Message(content=f"Version {version.parent_id} → version {version.id}: "
                             f"`{caption_text(version)}`", elements=[element]).send()


async def download(session, payload: dict) -> None:
    version_id = int(payload["version"])

    def read():
        version = session.history.version(version_id)
        return version, png_bytes(session.history.image(version_id))

    version, data = await asyncio.to_thread(read)
    name = f"{session.history.name}-v{version_id}.png"
    await cl.Message(content=f"Version {version_id} at full size ({version.width}×{version.height}):",
                     elements=[cl.File(name=name, content=data, mime="image/png",
                                       display="inline")]).send()

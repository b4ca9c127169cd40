"""The Chainlit app: wires the chat's events to the agent façade (`agent.session`).

Started by `retouch ui` (see chat_ui/launch.py). Each hook only routes: requests go
to `RetouchSession.send` and are shown by chat_ui.render; commands, buttons and
sessions live in their own modules. Errors reach the person as one readable line;
the traceback goes to the server log only.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
from pathlib import Path

import chainlit as cl

from agent.errors import USER_ERRORS
from chat_ui import actions, chat_session, commands
from chat_ui.history import send_history
from chat_ui.launch import remove_app_root
from agent.session import region_mask
from chat_ui.render import RequestView, image_element
from chat_ui.uploads import Upload, sort_attachments
from chat_ui.views import describe_mask, mask_overlay
from storage import load_image

log = logging.getLogger("retouch.chat")


@cl.on_app_shutdown
async def on_app_shutdown() -> None:
    remove_app_root()


@cl.on_chat_start
async def on_chat_start() -> None:
    await guarded(chat_session.start_chat)


@cl.on_message
async def on_message(message: cl.Message) -> None:
    command = commands.parse(message)
    if command is not None:
        await guarded(commands.run, *command)
    else:
        await guarded(handle_request, message)


async def handle_request(message: cl.Message) -> None:
    session = chat_session.current()
    uploads = [Upload(element.name or Path(element.path).name, Path(element.path))
               for element in message.elements or [] if getattr(element, "path", None)]
    text = (message.content or "").strip()
    if not text and not uploads:
        return

    def prepare():
        head = _head(session)
        current = session.history.image(head.id) if head is not None and uploads else None
        return head, current, sort_attachments(uploads, text, current)

    head, current, attached = await asyncio.to_thread(prepare)
    if attached.notes:
        await cl.Message(content="Attached: " + "; ".join(attached.notes) + ".").send()
    if attached.masks:
        await show_regions(session, attached, current)
    view = RequestView(session, parent_id=_parent_id(), head_before=head.id if head else None)
    with tempfile.TemporaryDirectory(prefix="retouch-upload-") as folder:
        # The history records the photo's own file name, not Chainlit's upload id.
        photo = [named_copy(attached.photo, Path(folder))] if attached.photo else []
        events = session.send(
            text, images=photo,
            masks=[upload.path for upload in attached.masks],
            references=[upload.path for upload in attached.references],
        )
        await stream(events, view)


def named_copy(upload: Upload, folder: Path) -> Path:
    name = re.sub(r"[^\w.\-]+", "_", Path(upload.name).name).strip("._") or "photo"
    target = folder / name
    shutil.copyfile(upload.path, target)
    return target


async def show_regions(session, attached, current) -> None:
    """The region each mask or scribble marks, as the agent will read it, over the photo."""
    limit = session.history.store.max_pixels

    def draw():
        base = load_image(attached.photo.path, limit) if attached.photo else current
        shown = []
        for upload in attached.masks:
            try:
                region = region_mask(upload.path, base, limit)
            except USER_ERRORS as exc:
                shown.append((upload, None, str(exc)))
                continue
            picture = mask_overlay(base, region) if base is not None else region
            shown.append((upload, picture, describe_mask(region)))
        return shown

    for upload, picture, description in await asyncio.to_thread(draw):
        if picture is None:
            await cl.Message(content=f"⚠️ {upload.name}: {description}").send()
            continue
        await cl.Message(content=f"Region from **{upload.name}**: {description}.",
                         elements=[image_element(picture, f"region {upload.name}", size="medium")]
                         ).send()


async def stream(events, view: RequestView) -> None:
    """Run the agent's generator in a worker thread; show each event as it arrives."""
    iterator = iter(events)
    while True:
        event = await asyncio.to_thread(next, iterator, None)
        if event is None:
            return
        await view.show(event)


# ----- buttons ----------------------------------------------------------------------------

def button(handler):
    async def callback(action: cl.Action) -> None:
        await guarded(handler, chat_session.current(), action.payload or {})

    return callback


for _name, _handler in {
    "undo": actions.undo, "revert": actions.revert, "branch": actions.branch,
    "compare": actions.compare, "download": actions.download, "use_version": actions.use_version,
    "checkout": actions.checkout,
}.items():
    cl.action_callback(_name)(button(_handler))


@cl.action_callback("show_history")
async def on_show_history(action: cl.Action) -> None:
    await guarded(send_history, chat_session.current())


@cl.action_callback("list_sessions")
async def on_list_sessions(action: cl.Action) -> None:
    await guarded(chat_session.list_sessions)


@cl.action_callback("new_session")
async def on_new_session(action: cl.Action) -> None:
    await guarded(chat_session.new_session)


@cl.action_callback("switch_session")
async def on_switch_session(action: cl.Action) -> None:
    await guarded(chat_session.switch_session, str((action.payload or {}).get("name", "")))


# ----- helpers ----------------------------------------------------------------------------

async def guarded(handler, *args) -> None:
    """Run one request or button, one at a time per chat; errors become a readable message."""
    async with chat_session.request_lock():
        try:
            await handler(*args)
        except USER_ERRORS as exc:
            await cl.Message(content=f"⚠️ {exc}").send()
        except Exception as exc:  # a bug: say so plainly, keep the traceback for the log
            log.exception("chat request failed")
            await cl.Message(content=f"⚠️ Something went wrong inside retouch ({type(exc).__name__}: "
                                     f"{exc}). Versions made so far are kept; the server log has "
                                     f"the details.").send()


def _head(session):
    try:
        return session.history.head()
    except USER_ERRORS:
        return None


def _parent_id() -> str | None:
    step = cl.context.current_step
    return step.id if step else None

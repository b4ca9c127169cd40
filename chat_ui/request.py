"""One request from the chat: sort the attachments, preview the regions, run it, show it.

The request goes to the agent façade (`RetouchSession.send`), whose events are
shown as they arrive by `chat_ui.render.RequestView`.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from pathlib import Path

import chainlit as cl

from agent.errors import USER_ERRORS
from agent.session import region_mask
from chat_ui import chat_session
from chat_ui.render import RequestView, head_or_none, image_element
from chat_ui.uploads import Attachments, Upload, sort_attachments
from chat_ui.views import describe_mask, mask_overlay
from storage import load_image


async def handle_request(message: cl.Message) -> None:
    session = chat_session.current()
    uploads = [Upload(element.name or Path(element.path).name, Path(element.path))
               for element in message.elements or [] if getattr(element, "path", None)]
    text = (message.content or "").strip()
    if not text and not uploads:
        return

    def prepare():
        head = head_or_none(session)
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


async def show_regions(session, attached: Attachments, current) -> None:
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
            await cl.Message(content=f"⚠ {upload.name}: {description}").send()
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


def _parent_id() -> str | None:
    """The run step of the message being answered: steps and replies nest under it."""
    step = cl.context.current_step
    return step.id if step else None

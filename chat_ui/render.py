"""Showing the agent's events in the chat: one Chainlit step per plan step, result messages.

`RequestView` receives the events of one request as they arrive and turns them
into what the person sees: the plan, a step per operation (its arguments, a
progress bar while it runs, its result image when committed), options side by
side with "use this" buttons, and a final message with the result and before/after.
`send_result` builds the message every version gets: its image and the history
buttons (undo, revert, branch from here, compare with previous, download).
"""

from __future__ import annotations

import asyncio
import time

import chainlit as cl
from chainlit.utils import utc_now
from PIL import Image

from agent.errors import USER_ERRORS
from agent.events import AgentEvent
from chat_ui.views import (PREVIEW_SIDE, Thumbnails, caption_text, png_bytes, preview, side_by_side,
                           tree_picture)

PROGRESS_INTERVAL_S = 0.25  # at most four progress updates a second per step
# Caches for the process, keyed by image content (not by session): a version's image is
# decoded once for the chat, however many messages show it.
THUMBNAILS = Thumbnails()
PREVIEWS = Thumbnails(size=PREVIEW_SIDE, capacity=64)


def image_element(image: Image.Image, name: str, size: str = "large") -> cl.Image:
    return cl.Image(content=png_bytes(preview(image)), name=name, display="inline", size=size,
                    mime="image/png")


def version_actions(version_id: int) -> list[cl.Action]:
    payload = {"version": version_id}
    return [
        cl.Action(name="undo", payload=payload, label="Undo", icon="undo-2",
                  tooltip="Move the branch head back one step (nothing is deleted)"),
        cl.Action(name="revert", payload=payload, label=f"Revert to v{version_id}", icon="history",
                  tooltip=f"Make version {version_id} the head of the current branch"),
        cl.Action(name="branch", payload=payload, label="Branch from here", icon="git-branch",
                  tooltip=f"Start a new branch at version {version_id}"),
        cl.Action(name="compare", payload=payload, label="Compare with previous", icon="columns-2",
                  tooltip=f"Version {version_id} next to the version it was made from"),
        cl.Action(name="download", payload=payload, label="Download", icon="download",
                  tooltip=f"Version {version_id} at full resolution, as PNG"),
    ]


def progress_text(fraction: float | None, message: str = "") -> str:
    if fraction is None:
        return message or "working…"
    filled = round(max(0.0, min(1.0, fraction)) * 20)
    return f"`{'█' * filled}{'░' * (20 - filled)}` {fraction:.0%} {message}".rstrip()


class RequestView:
    """The chat side of one request: what each event adds to the conversation."""

    def __init__(self, session, parent_id: str | None, head_before: int | None):
        self.session = session
        self.parent_id = parent_id
        self.head_before = head_before
        self.total_steps = 0
        self.plan_steps: list[dict] = []
        self.steps: dict[int, cl.Step] = {}
        self.committed: dict[int, list[dict]] = {}
        self.last_progress: dict[int, float] = {}
        self.headers: dict[int, str] = {}   # each step's arguments, shown above its status

    async def show(self, event: AgentEvent) -> None:
        handler = getattr(self, f"on_{event.kind}", None)
        if handler is not None:
            await handler(event)

    # ----- the plan and its steps -----------------------------------------------------

    async def on_planned(self, event: AgentEvent) -> None:
        plan = event.plan or {}
        self.plan_steps = list(plan.get("steps") or [])
        self.total_steps = len(self.plan_steps)
        if self.total_steps > 1:
            lines = [f"{index}. {_describe(step.get('tool', '?'), step.get('args') or {}, step.get('variants', 1))}"
                     for index, step in enumerate(self.plan_steps, 1)]
            await cl.Message(content="**Plan**\n" + "\n".join(lines), parent_id=self.parent_id).send()

    async def on_started(self, event: AgentEvent) -> None:
        index = event.step if event.step is not None else len(self.steps)
        of = f" · step {index + 1} of {self.total_steps}" if self.total_steps > 1 else ""
        step = cl.Step(name=f"{event.tool}{of}", type="tool", parent_id=self.parent_id,
                       default_open=True, show_input=False)
        step.start = utc_now()
        self.headers[index] = _arguments_line(event.args or {})
        self.steps[index] = step
        self._set_output(index, progress_text(None, event.message or "starting…"))
        await step.send()

    async def on_progress(self, event: AgentEvent) -> None:
        step = self.steps.get(event.step)
        if step is None:
            return
        now = time.monotonic()
        if (event.fraction or 0) < 1 and now - self.last_progress.get(event.step, 0) < PROGRESS_INTERVAL_S:
            return
        self.last_progress[event.step] = now
        self._set_output(event.step, progress_text(event.fraction, event.message))
        await step.update()

    async def on_committed(self, event: AgentEvent) -> None:
        version = event.version or {}
        index = event.step if event.step is not None else -1
        self.committed.setdefault(index, []).append(version)
        step = self.steps.get(index)
        done = _without_version_prefix(event.message) or event.tool or "done"
        facts = [f"{version['width']}×{version['height']}", version.get("backend")]
        if version.get("duration_s") is not None:
            facts.append(f"{version['duration_s']:.1f} s")
        line = f"✓ version **{version['id']}** — {done} · " + " · ".join(filter(None, facts))
        if step is not None and (len(self.committed[index]) > 1 or self._planned_variants(index) > 1):
            # Options are shown side by side, with their buttons, once the step is done.
            self._set_output(index, "\n".join(
                f"✓ option {n}: version {v['id']}" for n, v in enumerate(self.committed[index], 1)))
            step.end = utc_now()
            await step.update()
            return
        image = await asyncio.to_thread(preview_of, self.session, version["id"])
        element = image_element(image, f"v{version['id']}", size="medium")
        if step is None:  # a version made outside a plan step
            await post(line, [element], parent_id=self.parent_id)
            return
        self._set_output(index, line)
        step.elements = [element]
        step.end = utc_now()
        await step.update()

    async def on_failed(self, event: AgentEvent) -> None:
        step = self.steps.get(event.step) if event.step is not None else None
        if step is None:
            await cl.Message(content=f"⚠ {event.message}", parent_id=self.parent_id).send()
            return
        step.is_error = True
        self._set_output(event.step, f"✗ {event.message}")
        step.end = utc_now()
        await step.update()

    async def on_history(self, event: AgentEvent) -> None:
        if event.tool == "import" and event.version:
            # The attached photo became a new root version: it is the "before" of this request.
            self.head_before = event.version["id"]
            return
        index = event.step if event.step is not None else len(self.steps)
        step = self.steps.get(index)
        if step is None:
            step = cl.Step(name=event.tool or "history", type="tool", parent_id=self.parent_id,
                           default_open=True, show_input=False)
            step.start = utc_now()
            self.steps[index] = step
        message = event.message or "done"
        if "\n" in message:  # the text tree: keep its lines and columns
            message = f"```text\n{message}\n```"
        self._set_output(index, message)
        if event.tool == "show_history":
            step.elements = [await tree_element(self.session)]
        elif event.tool == "compare" and event.args:
            pair = [event.args.get("b"), event.args.get("a")]
            if all(pair):
                step.elements = [await compare_element(self.session, *pair)]
        step.end = utc_now()
        await step.update()

    # ----- the end ----------------------------------------------------------------------

    async def on_reply(self, event: AgentEvent) -> None:
        await self._send_variants()
        head = await asyncio.to_thread(head_or_none, self.session)
        content = event.message or "Done."
        if head is None or head.id == self.head_before:  # nothing new to show
            await cl.Message(content=content, parent_id=self.parent_id).send()
            return
        elements = []
        if self.head_before is not None:
            elements.append(await compare_element(self.session, self.head_before, head.id,
                                                  labels=("before", "after")))
        await send_result(self.session, head.id, content, elements, parent_id=self.parent_id)

    async def on_clarify(self, event: AgentEvent) -> None:
        await cl.Message(content=f"**Question:** {event.message}", parent_id=self.parent_id).send()

    # ----- helpers ----------------------------------------------------------------------

    def _set_output(self, index: int, status: str) -> None:
        header = self.headers.get(index)
        self.steps[index].output = f"{header}\n\n{status}" if header else status

    def _planned_variants(self, index: int) -> int:
        if 0 <= index < len(self.plan_steps):
            return int(self.plan_steps[index].get("variants") or 1)
        return 1

    async def _send_variants(self) -> None:
        """Options made by one step, side by side, each with a "use this" button."""
        for index, versions in self.committed.items():
            if len(versions) < 2:
                continue
            images = await asyncio.to_thread(
                lambda: [preview_of(self.session, v["id"]) for v in versions])
            elements = [image_element(image, f"option {n} (v{v['id']})", size="small")
                        for n, (image, v) in enumerate(zip(images, versions), 1)]
            actions = [cl.Action(name="use_version", payload={"version": v["id"], "option": n},
                                 label=f"Use option {n}", icon="check",
                                 tooltip=f"Make version {v['id']} the head")
                       for n, v in enumerate(versions, 1)]
            await post(f"**{len(versions)} options** — pick one to continue from "
                       f"(option 1 is the head for now):", elements, actions, self.parent_id)


async def post(content: str, elements=(), actions=(), parent_id: str | None = None) -> cl.Message:
    """Send a message, then its images one by one: Chainlit shows them in arrival order."""
    message = cl.Message(content=content, actions=list(actions), parent_id=parent_id)
    await message.send()
    for element in elements:
        await element.send(for_id=message.id)
    return message


async def send_result(session, version_id: int, content: str, extra_elements=(),
                      parent_id: str | None = None) -> None:
    """A version's message: its image first, then any extra pictures, then the history buttons."""
    image = await asyncio.to_thread(preview_of, session, version_id)
    elements = [image_element(image, f"v{version_id}"), *extra_elements]
    await post(content, elements, version_actions(version_id), parent_id=parent_id)


async def tree_element(session) -> cl.Image:
    def draw():
        history = session.history
        return tree_picture(history.log(), history.current_branch, THUMBNAILS, history.image)

    picture = await asyncio.to_thread(draw)
    return image_element(picture, "version tree")


async def compare_element(session, before_id, after_id, labels=None) -> cl.Image:
    def draw():
        history = session.history
        before, after = history.version(before_id), history.version(after_id)
        names = labels or ("", "")
        return side_by_side(
            [PREVIEWS.get(before, history.image), PREVIEWS.get(after, history.image)],
            [f"{names[0]} · v{before.id} {caption_text(before)}".strip(" ·"),
             f"{names[1]} · v{after.id} {caption_text(after)}".strip(" ·")])

    picture = await asyncio.to_thread(draw)
    return image_element(picture, f"v{before_id} vs v{after_id}")


def preview_of(session, version_id: int) -> Image.Image:
    """A version's image at preview size, decoded once per process."""
    return PREVIEWS.get(session.history.version(version_id), session.history.image)


def head_or_none(session):
    try:
        return session.history.head()
    except USER_ERRORS:  # no versions yet
        return None


def _arguments_line(args: dict) -> str:
    shown = [f"`{key}={value}`" for key, value in args.items() if value not in (None, "", [], {})]
    return " · ".join(shown)


def _without_version_prefix(message: str) -> str:
    """'version 3: style: sepia' -> 'style: sepia' (the version number is shown already)."""
    head, sep, rest = (message or "").partition(": ")
    return rest if sep and head.startswith("version") else (message or "")


def _describe(tool: str, args: dict, variants: int = 1) -> str:
    shown = ", ".join(f"{key}={value}" for key, value in args.items() if value not in (None, "", [], {}))
    times = f" ×{variants}" if variants and variants > 1 else ""
    return f"`{tool}({shown})`{times}"

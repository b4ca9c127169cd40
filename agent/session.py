"""The one façade: the CLI, the Chainlit app and the MCP server all drive a RetouchSession.

    session = RetouchSession("default")
    for event in session.send("remove the cup, then make it warmer", images=["photo.jpg"],
                              masks=["cup-mask.png"]):
        print(event.kind, event.message)

`send` plans the request and runs it through the graph (agent/graph.py), yielding
AgentEvents as they happen; `apply` runs one operation without planning; `plan`
only plans. Nothing else in retouch plans or writes history for a front end.

The events come from a synchronous generator. The graph itself runs in a worker
thread and hands events over through a queue, so the generator may be advanced
from any thread (Chainlit and MCP call `next` in `asyncio.to_thread`), and one
session runs one request at a time.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from PIL import Image
from pydantic import ValidationError

from agent.config import Settings, load_settings
from agent.errors import USER_ERRORS, AgentError
from agent.events import AgentEvent
from agent.executor import made_up_branch_name, run_edit
from agent.graph import build_graph, checkpointer_for, prune_checkpoints
from agent.plan import Plan, Step, step_in_words
from agent.planners import make_planner
from agent.planners.base import Planner, PlanningContext, finalize_plan
from agent.references import HistorySnapshot
from agent.state import AgentContext, new_request
from storage import History, NotFound, Store, Version, load_image
from storage.images import ImageSource
from tools.registry import Toolbox, operations

log = logging.getLogger(__name__)

_stores: dict[tuple, Store] = {}
_stores_lock = threading.Lock()


def store_for(settings: Settings) -> Store:
    """One Store (engine, connection pool) per data dir and database per process."""
    key = (str(Path(settings.data_dir).expanduser().resolve()), settings.db_url, settings.max_pixels)
    with _stores_lock:
        if key not in _stores:
            _stores[key] = Store(settings.data_dir, url=settings.db_url,
                                 max_pixels=settings.max_pixels)
        return _stores[key]


class RetouchSession:
    def __init__(self, name: str = "default", settings: Settings | None = None, *,
                 planner: Planner | None = None, toolbox: Toolbox | None = None,
                 planner_kind: str | None = None):
        self.settings = settings or load_settings()
        self.name = name
        self.history: History = store_for(self.settings).session(name)
        self.planner: Planner = planner or make_planner(self.settings, planner_kind)
        self._toolbox = toolbox
        self._saver = checkpointer_for(self.settings.data_dir)
        self._graph = build_graph(self._saver)
        self._config = {"configurable": {"thread_id": f"session:{self.history.name}"}}
        self._lock = threading.Lock()

    @property
    def toolbox(self) -> Toolbox:
        if self._toolbox is None:
            from agent.runtime import get_toolbox  # loads backends only when an edit runs

            self._toolbox = get_toolbox(self.settings)
        return self._toolbox

    # ----- conversation -------------------------------------------------------------------

    def send(self, text: str, images: Iterable = (), masks: Iterable = (),
             references: Iterable = ()) -> Iterator[AgentEvent]:
        """Plan the request and run it step by step, yielding events (see agent/events.py)."""
        images, masks, references = list(images), list(masks), list(references)

        def work(emit: Callable[[dict], None]) -> None:
            # Read every attachment before anything is written: a broken file changes nothing.
            limit = self.history.store.max_pixels
            attached = [load_image(source, limit) for source in references + images[1:]]
            uploads = [mask if isinstance(mask, Image.Image) else load_image(mask, limit)
                       for mask in masks]
            if images:
                root = self.history.import_image(images[0], instruction=text,
                                                 name=_source_name(images[0]))
                emit({"kind": "history", "tool": "import", "version": root.to_json(),
                      "message": f"imported the photo as version {root.id}"})
            base = self._head_image() if uploads else None  # masks are fitted to the photo
            context = AgentContext(
                history=self.history, toolbox_factory=lambda: self.toolbox, planner=self.planner,
                masks=[region_mask(upload, base, limit) for upload in uploads],
                references=attached, recent_turns=self.settings.planner.recent_turns)
            request = new_request(text, len(context.masks), len(attached))
            for event in self._graph.stream(request, self._config, context=context,
                                            stream_mode="custom"):
                emit(event)
            prune_checkpoints(self._saver, self._config["configurable"]["thread_id"])

        return self._events(work)

    def apply(self, tool: str, args: dict, *, mask=None, references: Iterable = (),
              backend: str | None = None, variants: int = 1) -> Iterator[AgentEvent]:
        """Run one registry operation on the head (no planning); N variants as siblings."""
        references = list(references)

        def work(emit: Callable[[dict], None]) -> None:
            data = dict(args or {})
            if mask is not None and not data.get("mask"):
                data["mask"] = "mask"
            try:
                step = Step(tool=tool, args=data, variants=variants)
            except ValidationError as exc:
                raise AgentError("; ".join(e["msg"].removeprefix("Value error, ")
                                           for e in exc.errors())) from None
            if not step.is_edit:
                raise AgentError(f"{tool} is a history action: use undo/revert/branch/checkout")
            limit = self.history.store.max_pixels
            base = self._head_image()
            masks = [region_mask(mask, base, limit)] if mask is not None else []
            attached = [load_image(source, limit) for source in references]
            emit({"kind": "started", "step": 0, "tool": tool, "args": step.args,
                  "message": step_in_words(step)})

            def progress(fraction: float, message: str = "") -> None:
                emit({"kind": "progress", "step": 0, "tool": tool, "fraction": fraction,
                      "message": message})

            try:
                outcome = run_edit(step, self.history, self.toolbox, masks=masks,
                                   references=attached, instruction=None, progress=progress,
                                   backend=backend)
            except USER_ERRORS as exc:
                emit({"kind": "failed", "step": 0, "tool": tool, "args": step.args,
                      "message": str(exc)})
                emit({"kind": "reply", "message": f"{step_in_words(step)} failed: {exc}"})
                return
            for number, version in enumerate(outcome.versions):
                emit({"kind": "committed", "step": 0, "tool": tool, "args": step.args,
                      "version": version.to_json(),
                      "message": outcome.message if number == 0 else f"option {number + 1}: "
                                                                      f"version {version.id}"})
            emit({"kind": "reply", "message": f"Done. {outcome.message}"})

        return self._events(work)

    def plan(self, text: str, masks: Iterable = (), references: Iterable = ()) -> Plan:
        """The plan for this request in the session's current state; nothing runs."""
        context = PlanningContext(text=text, snapshot=HistorySnapshot.of(self.history),
                                  masks=len(list(masks)), references=len(list(references)),
                                  turns=self.conversation()[-self.settings.planner.recent_turns:])
        return finalize_plan(self.planner.plan(context), context)

    def conversation(self) -> list[dict]:
        """The checkpointed exchanges of this session: {"user", "reply", "versions", "at"}."""
        state = self._graph.get_state(self._config)
        return list(state.values.get("turns", [])) if state and state.values else []

    # ----- history ------------------------------------------------------------------------

    def undo(self, steps: int = 1) -> Version:
        return self.history.undo(steps)

    def revert(self, version) -> Version:
        return self.history.revert(version)

    def branch(self, name: str | None, from_version=None) -> Version:
        return self.history.branch(name or made_up_branch_name(self.history, None),
                                   from_version=from_version)

    def checkout(self, name: str) -> Version:
        return self.history.checkout(name)

    # ----- status -------------------------------------------------------------------------

    def status(self) -> str:
        """One honest paragraph: backends, planner, what they can and cannot do, where we are."""
        parts = [f"Planner: {self.planner.describe()}."]
        able: set[str] = set()
        try:
            backends = self.toolbox.backends
        except USER_ERRORS as exc:
            backends = []
            parts.append(f"The edit backends could not be set up: {exc}.")
        for backend in backends:
            info = backend.describe()
            ops = [op for op in info.get("operations", []) if op in operations()]
            if info.get("available", True):
                able.update(ops)
            state = "ready" if info.get("available", True) else "not available"
            parts.append(f"Backend {info.get('name', backend.name)} ({state}): "
                         f"{info.get('detail', '')}".rstrip(": ") + ".")
        missing = sorted(set(operations()) - able)
        if missing:
            parts.append(f"Nothing configured can do {', '.join(missing)} (they need a "
                         f"diffusion backend, see `retouch models`).")
        if self.history.exists():
            head = self.history.head()
            parts.append(f"Session '{self.name}': {len(self.history.log())} versions, branch "
                         f"{self.history.current_branch}, at version {head.id} "
                         f"({head.width}x{head.height}).")
        else:
            parts.append(f"Session '{self.name}' has no photo yet.")
        return " ".join(parts)

    # ----- helpers ------------------------------------------------------------------------

    def _head_image(self) -> Image.Image | None:
        try:
            return self.history.image(self.history.head().id)
        except NotFound:
            return None

    def _events(self, work: Callable[[Callable[[dict], None]], None]) -> Iterator[AgentEvent]:
        """Run `work` in a worker thread; yield the events it emits, in order, as they come."""
        events: queue.Queue = queue.Queue()
        done = object()

        def target() -> None:
            try:
                with self._lock:
                    work(events.put)
            except USER_ERRORS as exc:
                events.put({"kind": "failed", "message": str(exc)})
                events.put({"kind": "reply", "message": f"That did not work: {exc}"})
            except Exception as exc:  # a bug must not kill the chat; it is logged in full
                log.exception("request in session %s crashed", self.name)
                events.put({"kind": "failed", "message": f"internal error: {exc}"})
                events.put({"kind": "reply", "message": f"Something went wrong inside retouch "
                                                        f"({type(exc).__name__}: {exc}). The "
                                                        f"history is intact."})
            finally:
                events.put(done)

        threading.Thread(target=target, name=f"retouch-{self.name}", daemon=True).start()
        while True:
            item = events.get()
            if item is done:
                return
            yield AgentEvent(**item)


def region_mask(source, image: Image.Image | None, max_pixels: int) -> Image.Image:
    """A mask image (white = region) or a scribbled copy of the photo (red paint = region)
    as an "L" mask of the photo's size."""
    from tools.masks import check_mask, mask_from_image, mask_from_scribble

    if isinstance(source, Image.Image) and source.mode in ("L", "1"):
        upload = source.convert("L")
        return check_mask(upload, image.size) if image is not None else upload
    upload = load_image(source, max_pixels)
    size = image.size if image is not None else upload.size
    if upload.mode == "RGBA" or _is_grey(upload):
        return mask_from_image(upload, size)
    original = image if image is not None and image.size == upload.size else None
    return check_mask(mask_from_scribble(upload, original), size, "scribble")


def _is_grey(image: Image.Image) -> bool:
    pixels = np.asarray(image.convert("RGB").resize((64, 64)), np.int16)
    return bool((pixels.max(axis=2) - pixels.min(axis=2) <= 24).mean() > 0.98)


def _source_name(source: ImageSource) -> str | None:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return None

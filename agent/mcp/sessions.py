"""The façade sessions the MCP server drives, and running their blocking calls off the event loop.

One `RetouchSession` per session name stays open for the life of the server (the
toolbox behind it is shared per process, so models stay resident). Writes to one
session are serialised by a lock held by the worker thread that does the work:
two clients editing the same session take turns instead of racing for the branch
head, and a request the client cancels still finishes its current step under the
lock before the next one starts.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

from agent.config import Settings
from agent.events import AgentEvent
from agent.session import RetouchSession

T = TypeVar("T")

_DONE = object()


class SessionPool:
    def __init__(self, settings: Settings, default_session: str = "default"):
        self.settings = settings
        self.default_session = default_session
        self._sessions: dict[str, RetouchSession] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def name(self, session: str | None) -> str:
        return (session or "").strip() or self.default_session

    def get(self, session: str | None) -> RetouchSession:
        """The open façade session of that name (opened on first use; blocking)."""
        name = self.name(session)
        with self._guard:
            if name not in self._sessions:
                self._sessions[name] = RetouchSession(name, self.settings)
                self._locks[name] = threading.Lock()
            return self._sessions[name]

    def _lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())

    async def read(self, session: str | None, work: Callable[[RetouchSession], T]) -> T:
        """Run a read (history, image) in a worker thread; reads need no lock."""
        return await asyncio.to_thread(lambda: work(self.get(session)))

    async def write(self, session: str | None, work: Callable[[RetouchSession], T]) -> T:
        """Run a change (undo, revert, ...) in a worker thread, holding the session's lock."""
        name = self.name(session)

        def locked() -> T:
            with self._lock(name):
                return work(self.get(name))

        return await asyncio.to_thread(locked)

    async def stream(self, session: str | None,
                     start: Callable[[RetouchSession], Iterator[AgentEvent]]
                     ) -> AsyncIterator[AgentEvent]:
        """Run a façade generator (send, apply) in one worker thread, yielding its events here.

        The thread owns the generator from start to end, so it is never driven from
        two threads; when the consumer stops early (the client cancelled), the thread
        stops after the event in progress and closes the generator.
        """
        name = self.name(session)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def put(item) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone: the server is shutting down
                stop.set()

        def pump() -> None:
            try:
                with self._lock(name):
                    events = start(self.get(name))
                    try:
                        for event in events:
                            put(event)
                            if stop.is_set():
                                break
                    finally:
                        close = getattr(events, "close", None)
                        if close is not None:
                            close()
            except BaseException as exc:  # handed to the consumer, which re-raises it
                put(exc)
            finally:
                put(_DONE)

        worker = threading.Thread(target=pump, name=f"retouch-mcp-{name}", daemon=True)
        worker.start()
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()

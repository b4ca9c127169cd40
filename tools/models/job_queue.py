"""One GPU job at a time, served in the order they asked (a ticket queue)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator


class JobQueue:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def waiting(self) -> int:
        """Jobs queued or running right now."""
        with self._changed:
            return self._next_ticket - self._serving

    @contextmanager
    def turn(self, on_wait: Callable[[int], None] | None = None) -> Iterator[None]:
        """Hold the GPU for the body; `on_wait(jobs ahead)` is called if the caller must wait."""
        with self._changed:
            ticket = self._next_ticket
            self._next_ticket += 1
            if ticket != self._serving and on_wait is not None:
                on_wait(ticket - self._serving)
            while ticket != self._serving:
                self._changed.wait()
        try:
            yield
        finally:
            with self._changed:
                self._serving += 1
                self._changed.notify_all()

"""What a request produces as it runs: one stream of events for the CLI, the chat and MCP.

`RetouchSession.send` yields these in order: "planned" (the plan), then per step
"started", "progress"..., and "committed" (a new version) or "history" (the head
moved, the tree was shown) or "failed"; the last event is always "reply" or
"clarify". Front ends render them; none of them plans or touches history itself.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

EventKind = Literal["planned", "started", "progress", "committed", "failed", "history", "reply",
                    "clarify"]


class AgentEvent(BaseModel):
    kind: EventKind
    step: int | None = None          # 0-based index of the plan step
    tool: str | None = None
    args: dict = {}
    fraction: float | None = None    # progress 0..1
    message: str = ""
    version: dict | None = None      # Version.to_json()
    plan: dict | None = None         # Plan JSON, on "planned"

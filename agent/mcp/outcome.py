"""What an edit request returns to an MCP client: built from the façade's events as they pass.

The same `EditOutcome` model is the tool's published output schema, its structured
content, and (as JSON) the text that clients without structured output read.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.events import AgentEvent


class EditOutcome(BaseModel):
    """The result of edit_image / apply_operation."""

    session: str = Field(description="The session the request ran in")
    status: Literal["done", "clarify", "failed"] = Field(
        description="done: every step ran; clarify: nothing ran, `reply` asks a question; "
                    "failed: a step failed (the versions made before it are kept)")
    reply: str = Field(description="The assistant's summary, question, or what failed and why")
    imported: dict[str, Any] | None = Field(
        None, description="The version the request's `image` was imported as, if one was given")
    versions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Edited versions this request made, in order (objects as `retouch log "
                    "--json` prints them)")
    head: dict[str, Any] | None = Field(
        None, description="The current branch head after the request (None if no versions)")
    plan: dict[str, Any] | None = Field(None, description="The plan that ran, when one was made")
    failed_step: int | None = Field(None, description="0-based index of the step that failed")
    error: str | None = Field(None, description="Why that step failed")

    def summary(self) -> str:
        """Two or three readable lines for the model on the other side."""
        lines = [self.reply.strip() or self.status]
        if self.imported:
            lines.append(f"Imported the image as version {self.imported['id']}.")
        if self.versions:
            made = ", ".join(f"{v['id']} ({v.get('tool')})" for v in self.versions)
            lines.append(f"Versions made: {made}.")
        if self.head:
            branches = ", ".join(self.head.get("branches") or []) or "detached"
            lines.append(f"Head: version {self.head['id']} on {branches} "
                         f"({self.head['width']}x{self.head['height']}).")
        return "\n".join(lines)

    def to_text(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, default=str)


class OutcomeBuilder:
    """Folds the event stream of one request into an EditOutcome."""

    def __init__(self, session: str):
        self.session = session
        self.imported: dict[str, Any] | None = None
        self.versions: list[dict[str, Any]] = []
        self.plan: dict[str, Any] | None = None
        self.reply = ""
        self.clarify: str | None = None
        self.failed_step: int | None = None
        self.error: str | None = None

    def add(self, event: AgentEvent) -> None:
        if event.kind == "planned" and event.plan is not None:
            self.plan = event.plan
        elif event.kind == "history" and event.tool == "import" and event.version is not None:
            self.imported = event.version
        elif event.kind == "committed" and event.version is not None:
            self.versions.append(event.version)
        elif event.kind == "failed":
            self.failed_step = event.step
            self.error = event.message
        elif event.kind == "clarify":
            self.clarify = event.message
        elif event.kind == "reply":
            self.reply = event.message

    @property
    def steps(self) -> int:
        return len((self.plan or {}).get("steps") or []) or 1

    def outcome(self, head: dict[str, Any] | None) -> EditOutcome:
        if self.error is not None:
            status, reply = "failed", self.reply or self.error
        elif self.clarify is not None:
            status, reply = "clarify", self.clarify
        else:
            status, reply = "done", self.reply
        return EditOutcome(session=self.session, status=status, reply=reply,
                           imported=self.imported, versions=self.versions, head=head,
                           plan=self.plan, failed_step=self.failed_step, error=self.error)

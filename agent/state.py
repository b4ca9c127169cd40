"""What the graph carries: the checkpointed conversation state and the per-request context.

`AgentState` is saved by LangGraph's SQLite checkpointer after every node, keyed by
the session name, so a conversation resumes after a restart. It holds plain data
only (the plan as JSON, version ids); images never enter it.

`AgentContext` is what the nodes work with but is never checkpointed: the history,
the toolbox, the planner, and the images attached to the current message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, TypedDict

from PIL import Image

from storage import History
from tools.registry import Toolbox

# How many past exchanges a session keeps in its checkpointed conversation.
MAX_TURNS = 200


def keep_recent_turns(old: list[dict] | None, new: list[dict] | None) -> list[dict]:
    """Reducer: append this request's exchange, keep the most recent MAX_TURNS."""
    return ((old or []) + (new or []))[-MAX_TURNS:]


class AgentState(TypedDict, total=False):
    # The current request (every field below `turns` is reset by each new message).
    request: str
    masks: int                # how many masks/scribbles came with it
    references: int           # how many reference images came with it
    plan: dict | None         # Plan JSON
    step_index: int           # the next step to run
    made: list[dict]          # what each finished step did: {"step", "tool", "version", "message"}
    failure: dict | None      # {"step", "tool", "error"} when a step (or planning) failed
    # The conversation so far: {"user", "reply", "versions", "at"} per exchange.
    turns: Annotated[list[dict], keep_recent_turns]


@dataclass
class AgentContext:
    history: History
    toolbox_factory: object                 # () -> Toolbox, called only when an edit runs
    planner: object                         # agent.planners.Planner
    masks: list[Image.Image] = field(default_factory=list)       # "L", 255 = region
    references: list[Image.Image] = field(default_factory=list)
    backend: str | None = None              # force one backend (None: the toolbox's choice)
    recent_turns: int = 6

    @property
    def toolbox(self) -> Toolbox:
        return self.toolbox_factory()


def new_request(text: str, masks: int = 0, references: int = 0) -> AgentState:
    """The graph input for one message: resets every per-request field."""
    return AgentState(request=text, masks=masks, references=references, plan=None, step_index=0,
                      made=[], failure=None)

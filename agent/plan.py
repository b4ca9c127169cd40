"""The Plan: what a request turns into before anything runs.

A plan is an ordered list of steps plus what to tell the user. A step is either one
registry operation (its arguments validated by the operation's own model, so a
plan that validates can run) or one history intent, which the executor runs
against the store without touching a model. Every planner produces this model;
the CLI prints it (`retouch plan --json`) and the graph executes it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)

from agent.errors import AgentError
from tools.errors import ToolError
from tools.registry import operations, validate_args


class InvalidPlan(AgentError):
    """A plan (usually an LLM's) does not validate; the message says what is wrong."""


# A version named by id or in words; an id given as a number (as LLMs like to) is fine too.
VersionRef = Annotated[str, BeforeValidator(lambda value: str(value) if isinstance(value, int)
                                            else value)]


class _IntentArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UndoArgs(_IntentArgs):
    steps: int = Field(1, ge=1, le=1000, description="How many edits to step back")


class RevertArgs(_IntentArgs):
    version: VersionRef = Field(description="A version id ('3') or a reference to one in words: "
                                     "'the original', 'before the background change', "
                                     "'two steps back'")


class BranchArgs(_IntentArgs):
    name: str | None = Field(None, description="Branch name; made up when empty")
    from_version: VersionRef | None = Field(None, description="Version to branch from (id or words); "
                                                       "default: the current head")


class CheckoutArgs(_IntentArgs):
    branch: str = Field(description="Name of an existing branch")


class ShowHistoryArgs(_IntentArgs):
    pass


class CompareArgs(_IntentArgs):
    a: VersionRef = Field("current", description="First version (id or words)")
    b: VersionRef = Field("previous", description="Second version (id or words)")


class UseVariantArgs(_IntentArgs):
    option: int = Field(ge=1, le=16, description="Which of the last variants, 1-based")
    version: str | None = Field(None, description="Filled in by the resolver: the version id")


# History intents: steps the executor runs on the store, with no model.
HISTORY_INTENTS: dict[str, tuple[type[_IntentArgs], str]] = {
    "undo": (UndoArgs, "Step the current branch back N edits (the edits stay in the tree)."),
    "revert": (RevertArgs, "Make an earlier (or any) version the head of the current branch."),
    "branch": (BranchArgs, "Create a new branch at a version and continue on it."),
    "checkout": (CheckoutArgs, "Switch to another existing branch."),
    "show_history": (ShowHistoryArgs, "Show the version tree of the session."),
    "compare": (CompareArgs, "Compare two versions: what was done between them."),
    "use_variant": (UseVariantArgs, "Pick one of the variants just made ('use option 2')."),
}

# Operations whose arguments name a region: the one a single attached mask belongs to.
REGION_OPERATIONS = ("remove_object", "replace_object", "add_object", "edit_text", "edit")

MAX_VARIANTS = 8


def is_history_intent(tool: str) -> bool:
    return tool in HISTORY_INTENTS


def known_tools() -> list[str]:
    return sorted(operations()) + list(HISTORY_INTENTS)


class Step(BaseModel):
    """One operation (validated by the registry) or one history intent."""

    model_config = ConfigDict(extra="forbid")

    tool: str
    args: dict = Field(default_factory=dict)
    variants: int = Field(1, ge=1, le=MAX_VARIANTS,
                          description="How many options to make (seeds); the first becomes head")

    @field_validator("tool")
    @classmethod
    def _known_tool(cls, tool: str) -> str:
        tool = tool.strip()
        if tool not in HISTORY_INTENTS and tool not in operations():
            raise ValueError(f"unknown tool '{tool}' (known: {', '.join(known_tools())})")
        return tool

    @model_validator(mode="after")
    def _valid_args(self) -> "Step":
        if self.tool in HISTORY_INTENTS:
            model = HISTORY_INTENTS[self.tool][0]
            try:
                parsed = model.model_validate(self.args or {})
            except ValidationError as exc:
                raise ValueError(f"bad arguments for {self.tool}: {_one_line(exc)}") from None
            if self.variants != 1:
                raise ValueError(f"{self.tool} cannot have variants")
        else:
            try:
                parsed = validate_args(self.tool, self.args or {})
            except ToolError as exc:
                raise ValueError(str(exc)) from None
        # Keep only what was said: defaults stay implicit, so plans read cleanly.
        self.args = parsed.model_dump(mode="json", exclude_defaults=True)
        return self

    @property
    def is_edit(self) -> bool:
        return self.tool not in HISTORY_INTENTS

    def describe(self) -> str:
        args = ", ".join(f"{key}={value}" for key, value in self.args.items())
        times = f" x{self.variants}" if self.variants > 1 else ""
        return f"{self.tool}({args}){times}"


class Plan(BaseModel):
    """Steps to run in order, what to tell the user, or a question instead of steps."""

    model_config = ConfigDict(extra="forbid")

    steps: list[Step] = Field(default_factory=list)
    reply: str = ""
    clarify: str | None = None

    @model_validator(mode="after")
    def _clarify_runs_nothing(self) -> "Plan":
        if self.clarify is not None and not self.clarify.strip():
            self.clarify = None
        if self.clarify and self.steps:
            raise ValueError("a plan that asks a question must not have steps")
        return self

    @property
    def edits(self) -> list[Step]:
        return [step for step in self.steps if step.is_edit]

    def to_json(self) -> dict:
        return self.model_dump(mode="json")

    def describe(self) -> str:
        """Numbered steps, the question, or the reply: how `retouch plan` prints a plan."""
        if self.clarify:
            return f"question: {self.clarify}"
        lines = [f"{index}. {step.describe()}" for index, step in enumerate(self.steps, 1)]
        if self.reply:
            lines.append(self.reply)
        return "\n".join(lines) or "(nothing to do)"


def step_in_words(step: Step) -> str:
    """How a step reads to a person: 'remove the cup', 'relight: warmer'."""
    a = step.args
    words = {
        "remove_object": lambda: f"remove {a.get('target')}",
        "replace_object": lambda: f"replace {a.get('target')} with {a.get('replacement')}",
        "add_object": lambda: f"add {a.get('object')}" + (f" {a['where']}" if a.get("where") else ""),
        "replace_background": lambda: f"new background: {a.get('description')}",
        "relight": lambda: f"relight: {a.get('description')}",
        "style_transfer": lambda: f"style: {a.get('style')}",
        "edit_text": lambda: f"text -> \"{a.get('new_text')}\"",
        "change_camera": lambda: f"camera: {a.get('description')}",
        "try_on": lambda: f"dress {a.get('target')} in {a.get('garment_reference')}",
        "control_generate": lambda: f"new image of {a.get('prompt')} following the {a.get('kind')}",
        "refine_collage": lambda: f"blend the collage: {a.get('description')}",
        "edit": lambda: f"edit: {a.get('instruction')}",
        "undo": lambda: f"undo {a.get('steps', 1)} step(s)",
        "revert": lambda: f"go back to {_version_words(a.get('version'))}",
        "branch": lambda: "new branch" + (f" '{a['name']}'" if a.get("name") else "")
                          + (f" from {_version_words(a['from_version'])}"
                             if a.get("from_version") else ""),
        "checkout": lambda: f"switch to branch {a.get('branch')}",
        "show_history": lambda: "show the history",
        "compare": lambda: f"compare {_version_words(a.get('a', 'current'))} with "
                           f"{_version_words(a.get('b', 'previous'))}",
        "use_variant": lambda: f"use option {a.get('option')}",
    }
    text = words.get(step.tool, step.describe)()
    if a.get("mask"):
        text += " (keeping the marked subject)" if step.tool == "replace_background" else \
            " (in the marked region)"
    return text + (f", {step.variants} options" if step.variants > 1 else "")


def _version_words(value) -> str:
    return f"version {value}" if str(value).isdigit() else str(value)


def parse_plan(data: dict) -> Plan:
    """Validate a plan from plain data; InvalidPlan with one readable line if it is wrong."""
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise InvalidPlan(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)

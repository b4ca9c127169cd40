"""The agent graph: plan -> execute (one node run per step, looping) -> respond.

    START -> plan --(question)---------------------------> clarify --------> END
                  --(nothing to run)---------------------> respond --------> END
                  --(steps)--> execute --(more steps)--> execute
                                       --(all done)----> respond --------> END
                                       --(step failed)-> report_failure -> END
                  --(planning failed)--------------------> report_failure -> END

Every node reports what happens as AgentEvent dicts on the graph's custom stream
(`stream_mode="custom"`), which `RetouchSession.send` forwards to the CLI, the chat
and the MCP server. State is checkpointed per session (thread id = session name).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from agent.errors import USER_ERRORS
from agent.executor import run_step
from agent.plan import Plan, step_in_words
from agent.planners.base import PlanningContext, finalize_plan
from agent.references import HistorySnapshot
from agent.state import AgentContext, AgentState

log = logging.getLogger(__name__)


def build_graph(checkpointer=None):
    graph = StateGraph(AgentState, context_schema=AgentContext)
    graph.add_node("plan", plan)
    graph.add_node("execute", execute)
    graph.add_node("respond", respond)
    graph.add_node("clarify", clarify)
    graph.add_node("report_failure", report_failure)

    graph.add_edge(START, "plan")
    graph.add_conditional_edges("plan", after_plan, ["clarify", "execute", "respond",
                                                     "report_failure"])
    graph.add_conditional_edges("execute", after_step, ["execute", "respond", "report_failure"])
    graph.add_edge("respond", END)
    graph.add_edge("clarify", END)
    graph.add_edge("report_failure", END)
    return graph.compile(checkpointer=checkpointer)


# ----- nodes ---------------------------------------------------------------------------------

def plan(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Turn the request into a Plan (planner, then shared reference resolution and checks)."""
    ctx = runtime.context
    context = PlanningContext(text=state["request"], snapshot=HistorySnapshot.of(ctx.history),
                              masks=len(ctx.masks), references=len(ctx.references),
                              turns=(state.get("turns") or [])[-ctx.recent_turns:])
    try:
        the_plan = finalize_plan(ctx.planner.plan(context), context)
    except USER_ERRORS as exc:
        return {"failure": {"step": None, "tool": None, "error": str(exc)}}
    runtime.stream_writer(_event("planned", plan=the_plan.to_json(),
                                 message=the_plan.clarify or the_plan.reply))
    return {"plan": the_plan.to_json(), "step_index": 0, "made": [], "failure": None}


def execute(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Run the next step of the plan and commit what it made."""
    ctx, write = runtime.context, runtime.stream_writer
    steps = Plan.model_validate(state["plan"]).steps
    index = state["step_index"]
    step = steps[index]
    write(_event("started", step=index, tool=step.tool, args=step.args,
                 message=step_in_words(step)))

    def progress(fraction: float, message: str = "") -> None:
        write(_event("progress", step=index, tool=step.tool, fraction=fraction, message=message))

    try:
        outcome = run_step(step, ctx.history, lambda: ctx.toolbox, masks=ctx.masks,
                           references=ctx.references, instruction=state["request"],
                           progress=progress, backend=ctx.backend,
                           next_step=steps[index + 1] if index + 1 < len(steps) else None)
    except USER_ERRORS as exc:
        error = str(exc)
    except Exception as exc:  # a bug must not take the conversation down; it is logged
        log.exception("step %s (%s) crashed", index, step.tool)
        error = f"internal error: {type(exc).__name__}: {exc}"
    else:
        made = []
        for number, version in enumerate(outcome.versions):
            message = outcome.message if number == 0 else f"option {number + 1}: version {version.id}"
            write(_event("committed", step=index, tool=step.tool, args=step.args,
                         version=version.to_json(), message=message))
            made.append({"step": index, "tool": step.tool, "version": version.id,
                         "message": message})
        if not outcome.versions:
            write(_event("history", step=index, tool=step.tool, args={**step.args,
                                                                       **outcome.details},
                         version=outcome.head.to_json() if outcome.head else None,
                         message=outcome.message))
            made.append({"step": index, "tool": step.tool,
                         "version": outcome.head.id if outcome.head else None,
                         "message": outcome.message})
        return {"step_index": index + 1, "made": state.get("made", []) + made}
    write(_event("failed", step=index, tool=step.tool, args=step.args, message=error))
    return {"failure": {"step": index, "tool": step.tool, "error": error}}


def respond(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Summarise what was done: each step's new version (or history move) and where we are."""
    made = [entry["message"] for entry in state.get("made", [])]
    if not made:  # small talk, a question about what retouch can do
        reply = state["plan"].get("reply") or "Nothing to change. Tell me an edit, e.g. 'make " \
                                               "it warmer'."
    elif len(made) == 1:
        reply = f"Done. {made[0]}{_where_now(runtime.context)}"
    else:
        numbered = "\n".join(f"{n}. {line}" for n, line in enumerate(made, 1))
        reply = f"Done, step by step:\n{numbered}{_where_now(runtime.context)}"
    runtime.stream_writer(_event("reply", message=reply))
    return {"turns": [_turn(state, reply)]}


def clarify(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Ask instead of guessing: nothing ran, nothing changed."""
    question = state["plan"]["clarify"]
    runtime.stream_writer(_event("clarify", message=question))
    return {"turns": [_turn(state, question)]}


def report_failure(state: AgentState, runtime: Runtime[AgentContext]) -> dict:
    """Say which step failed and why; the versions made before it are kept."""
    failure = state["failure"]
    if failure["step"] is None:
        reply = f"I could not plan that: {failure['error']}"
    else:
        steps = Plan.model_validate(state["plan"]).steps
        step = steps[failure["step"]]
        reply = (f"Step {failure['step'] + 1} of {len(steps)} ({step_in_words(step)}) failed: "
                 f"{failure['error']}")
        made = state.get("made", [])
        if made:
            reply += "\nKept from the steps before it: " + "; ".join(m["message"] for m in made)
        if failure["step"] + 1 < len(steps):
            reply += "\nNot run: " + "; ".join(step_in_words(s) for s in steps[failure["step"] + 1:])
        reply += _where_now(runtime.context)
    runtime.stream_writer(_event("reply", message=reply))
    return {"turns": [_turn(state, reply)]}


# ----- edges ---------------------------------------------------------------------------------

def after_plan(state: AgentState) -> str:
    if state.get("failure"):
        return "report_failure"
    if state["plan"].get("clarify"):
        return "clarify"
    return "execute" if state["plan"]["steps"] else "respond"


def after_step(state: AgentState) -> str:
    if state.get("failure"):
        return "report_failure"
    return "execute" if state["step_index"] < len(state["plan"]["steps"]) else "respond"


# ----- helpers -------------------------------------------------------------------------------

def _event(kind: str, **fields) -> dict:
    return {"kind": kind, **fields}


def _where_now(ctx: AgentContext) -> str:
    try:
        head = ctx.history.head()
    except USER_ERRORS:
        return ""
    return f"\n\nNow at version {head.id} on branch {ctx.history.current_branch}."


def _turn(state: AgentState, reply: str) -> dict:
    return {"user": state.get("request", ""), "reply": reply,
            "versions": [m["version"] for m in state.get("made", []) if m.get("version")],
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


# ----- the checkpointer ----------------------------------------------------------------------

_savers: dict[Path, SqliteSaver] = {}
_savers_lock = threading.Lock()


def checkpointer_for(data_dir: Path) -> SqliteSaver:
    """One SQLite checkpointer per data dir and process (DATA_DIR/checkpoints.db)."""
    path = (Path(data_dir).expanduser() / "checkpoints.db").resolve()
    with _savers_lock:
        if path not in _savers:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, check_same_thread=False, timeout=30)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA busy_timeout=30000")
            saver = SqliteSaver(connection)
            saver.setup()
            _savers[path] = saver
        return _savers[path]


def prune_checkpoints(saver: SqliteSaver, thread_id: str, keep: int = 10) -> None:
    """Drop all but the newest `keep` checkpoints of a conversation.

    Every node writes a checkpoint holding the whole state; without pruning a long-lived
    session's checkpoints.db grows by the full conversation several times per request.
    Our channels are plain values (no DeltaChannel), so the newest checkpoint is complete.
    """
    with saver.cursor() as cursor:
        cursor.execute("SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? "
                       "ORDER BY checkpoint_id DESC LIMIT 1 OFFSET ?", (thread_id, keep - 1))
        row = cursor.fetchone()
        if row is None:
            return
        for table in ("writes", "checkpoints"):
            cursor.execute(f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id < ?",
                           (thread_id, row[0]))

"""The LLM planner with langchain-core's fake chat models: scripted answers, real checks."""

from __future__ import annotations

import importlib.util
import json

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from agent.planners.base import PlanningContext, PlanningError
from agent.planners.hybrid import HybridPlanner
from agent.planners.llm import LLMPlanner
from agent.planners.offline import OfflinePlanner
from storage import Operation
from tests.agent.conftest import run, small_coffee


class RecordingFakeChat(GenericFakeChatModel):
    """A scripted chat model that also keeps the messages it was sent (for assertions)."""

    seen: list = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def scripted(*answers) -> RecordingFakeChat:
    messages = [a if isinstance(a, AIMessage) else
                AIMessage(content=a if isinstance(a, str) else json.dumps(a)) for a in answers]
    return RecordingFakeChat(messages=iter(messages), seen=[])


def a_plan(*steps, reply="ok", clarify=None) -> dict:
    return {"steps": [{"tool": tool, "args": args} for tool, args in steps], "reply": reply,
            "clarify": clarify}


def test_a_valid_answer_becomes_a_validated_plan():
    model = scripted(a_plan(("remove_object", {"target": "the cup"}),
                            ("relight", {"description": "warm"})))
    plan = LLMPlanner(model).plan(PlanningContext(text="remove the cup and warm it"))
    assert [step.tool for step in plan.steps] == ["remove_object", "relight"]
    assert plan.steps[0].args == {"target": "the cup"}
    assert len(model.seen) == 1


@pytest.mark.parametrize("broken, problem", [
    ("Sure! Here is the plan: remove the cup", "no JSON object"),
    ('{"steps": [{"tool": "remove_object", "args": {"target": "cup"}]', "does not parse"),
    (a_plan(("teleport", {"where": "mars"})), "unknown tool 'teleport'"),
    (a_plan(("relight", {"colour": "warm"})), "bad arguments for relight"),
])
def test_invalid_output_is_repaired_once_with_the_error_fed_back(broken, problem):
    model = scripted(broken, "```json\n" + json.dumps(a_plan(("relight", {"description": "warm"})))
                     + "\n```")
    plan = LLMPlanner(model).plan(PlanningContext(text="make it warmer"))
    assert [step.tool for step in plan.steps] == ["relight"]
    assert len(model.seen) == 2
    repair_request = model.seen[1][-1].content
    assert problem in repair_request and "corrected JSON" in repair_request


def test_invalid_output_twice_fails_with_a_clear_message():
    model = scripted("not json", a_plan(("remove_object", {})))
    with pytest.raises(PlanningError) as caught:
        LLMPlanner(model, label="tiny-model").plan(PlanningContext(text="remove the cup"))
    message = str(caught.value)
    assert "tiny-model" in message and "invalid plan twice" in message and "target" in message


def test_a_tool_call_answer_is_read_too():
    call = AIMessage(content="", tool_calls=[{"name": "Plan", "id": "1", "args": a_plan(
        ("style_transfer", {"style": "sepia"}))}])
    plan = LLMPlanner(scripted(call)).plan(PlanningContext(text="old photo look"))
    assert plan.steps[0].args == {"style": "sepia"}


def test_the_prompt_holds_the_registry_and_the_real_history(make_session):
    model = scripted(a_plan(("revert", {"version": "before the background change"})))
    session = make_session(planner=LLMPlanner(model))
    image = small_coffee()
    session.history.import_image(image, name="coffee.png")
    session.history.commit(image, Operation(tool="replace_background",
                                            args={"description": "beach"}, instruction="beach"))
    session.history.commit(image, Operation(tool="relight", args={"description": "warm"}))
    plan = session.plan("go back to before the beach")
    # The model named the version in words; code found it: the import, version 1.
    assert plan.steps[0].args == {"version": "1"}
    system = model.seen[0][0].content
    for needle in ("remove_object", "garment_reference", "undo", "head: version 3",
                   "replace_background(description=beach)"):
        assert needle in system


def test_an_llm_plan_runs_through_the_graph_on_the_classic_backend(make_session):
    model = scripted(a_plan(("relight", {"description": "warm"}),
                            ("style_transfer", {"style": "sepia"}), reply="warm, then sepia"))
    session = make_session(planner=LLMPlanner(model))
    events = run(session, "warm vintage look please", images=[small_coffee()])
    committed = [e for e in events if e.kind == "committed"]
    assert [e.tool for e in committed] == ["relight", "style_transfer"]
    assert committed[1].version["parent_id"] == committed[0].version["id"]
    assert events[-1].kind == "reply"


def test_planning_failure_reaches_the_user_as_events_not_an_exception(make_session):
    session = make_session(planner=LLMPlanner(scripted("nonsense", "more nonsense")))
    events = run(session, "do something clever", images=[small_coffee()])
    assert events[-1].kind == "reply" and "could not plan" in events[-1].message
    assert not [e for e in events if e.kind == "committed"]
    assert len(session.history.log()) == 1  # just the imported photo


def test_hybrid_uses_the_offline_plan_when_it_is_sure():
    model = scripted()  # would fail if called
    hybrid = HybridPlanner(OfflinePlanner(), LLMPlanner(model))
    plan = hybrid.plan(PlanningContext(text="remove the cup, then make it night"))
    assert [s.tool for s in plan.steps] == ["remove_object", "relight"]
    assert model.seen == [] and hybrid.last_source == "offline"


def test_hybrid_asks_the_llm_for_what_the_grammar_cannot_read():
    model = scripted(a_plan(("edit", {"instruction": "give her a big smile"})))
    hybrid = HybridPlanner(OfflinePlanner(), LLMPlanner(model))
    plan = hybrid.plan(PlanningContext(text="she should look happier"))
    assert plan.steps[0].args == {"instruction": "give her a big smile"}
    assert hybrid.last_source == "llm" and len(model.seen) == 1


def test_hybrid_falls_back_to_the_offline_guess_when_the_llm_fails():
    hybrid = HybridPlanner(OfflinePlanner(), LLMPlanner(scripted("x", "y")))
    plan = hybrid.plan(PlanningContext(text="make her smile"))
    assert plan.steps[0].tool == "edit" and hybrid.last_source == "offline"


def test_the_conversation_so_far_is_sent_to_the_llm(make_session):
    first = make_session(planner=OfflinePlanner())
    run(first, "make it warmer", images=[small_coffee()])
    model = scripted(a_plan(reply="It is warmer now."))
    later = make_session(planner=LLMPlanner(model))  # a fresh session object, same checkpoint
    run(later, "what did you just do?")
    texts = [message.content for message in model.seen[0]]
    assert "make it warmer" in texts


def test_planner_choice_follows_the_configuration(settings):
    from agent.planners import make_planner

    assert make_planner(settings).name == "offline"
    configured = settings.model_copy(update={"planner": settings.planner.model_copy(update={
        "base_url": "http://127.0.0.1:9/v1", "model": "qwen2.5:7b"})})
    planner = make_planner(configured)
    assert planner.name == "hybrid" and "qwen2.5:7b" in planner.describe()
    assert make_planner(configured, "llm").name == "llm"
    # A dead endpoint is a clear planning error, never a traceback.
    with pytest.raises(PlanningError, match="could not be reached"):
        make_planner(configured, "llm").plan(PlanningContext(text="make her smile"))
    local = settings.model_copy(update={"planner": settings.planner.model_copy(update={
        "provider": "gguf", "gguf_path": "/models/planner.gguf"})})
    assert make_planner(local).name == "hybrid"
    if importlib.util.find_spec("llama_cpp") is None:  # optional; absent here, said clearly
        with pytest.raises(PlanningError, match="pip install llama-cpp-python"):
            make_planner(local, "llm").plan(PlanningContext(text="make her smile"))


def test_version_ids_given_as_numbers_are_accepted():
    model = scripted(a_plan(("revert", {"version": 1})))
    plan = LLMPlanner(model).plan(PlanningContext(text="back to version 1"))
    assert plan.steps[0].args == {"version": "1"} and len(model.seen) == 1

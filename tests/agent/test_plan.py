"""The Plan model: steps validate against the registry's own argument models."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent.plan import InvalidPlan, Plan, Step, parse_plan


def test_edit_step_arguments_are_validated_and_defaults_stay_implicit():
    step = Step(tool="relight", args={"description": "  warm  "})
    assert step.args == {"description": "warm"}
    assert step.is_edit


@pytest.mark.parametrize("tool, args, problem", [
    ("levitate", {}, "unknown tool 'levitate'"),
    ("remove_object", {}, "target"),
    ("remove_object", {"target": ""}, "target"),
    ("relight", {"description": "warm", "colour": "red"}, "colour"),
    ("undo", {"steps": 0}, "steps"),
    ("checkout", {}, "branch"),
])
def test_invalid_steps_say_what_is_wrong_in_one_line(tool, args, problem):
    with pytest.raises(InvalidPlan) as caught:
        parse_plan({"steps": [{"tool": tool, "args": args}]})
    message = str(caught.value)
    assert problem in message and "\n" not in message


def test_history_intents_validate_their_own_arguments():
    plan = parse_plan({"steps": [{"tool": "undo", "args": {"steps": 2}},
                                 {"tool": "branch", "args": {"from_version": "the original"}},
                                 {"tool": "show_history"}]})
    assert [step.tool for step in plan.steps] == ["undo", "branch", "show_history"]
    assert not any(step.is_edit for step in plan.steps)
    with pytest.raises(ValidationError):
        Step(tool="undo", variants=3)


def test_a_question_runs_nothing():
    with pytest.raises(InvalidPlan, match="must not have steps"):
        parse_plan({"steps": [{"tool": "undo"}], "clarify": "which one?"})
    assert Plan(clarify="   ").clarify is None


def test_plan_json_has_the_documented_shape():
    plan = Plan(steps=[Step(tool="remove_object", args={"target": "cup", "mask": "mask"})],
                reply="ok")
    data = plan.to_json()
    assert data == {"steps": [{"tool": "remove_object", "args": {"target": "cup", "mask": "mask"},
                               "variants": 1}], "reply": "ok", "clarify": None}
    assert parse_plan(data) == plan

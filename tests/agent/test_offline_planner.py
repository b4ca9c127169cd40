"""The offline planner: the shared evaluation set, our own cases, and its behaviours."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.planners.base import PlanningContext
from agent.planners.offline import OfflinePlanner
from bench.plan_eval import evaluate, load_cases

REPO = Path(__file__).resolve().parents[2]
SHARED_CASES = REPO / ".." / "shared" / "eval" / "plans.jsonl"
OWN_CASES = REPO / "bench" / "plan_cases.jsonl"


def _report_failures(report: dict) -> str:
    return "\n".join(f"{r['request']}: expected {r['expected']}, got {r['got']} {r['clarify'] or ''}"
                     for r in report["results"] if not r["args_ok"])


@pytest.mark.skipif(not SHARED_CASES.exists(), reason="the shared evaluation set is not here")
def test_offline_planner_reaches_90_percent_on_the_shared_eval_set():
    report = evaluate(load_cases(SHARED_CASES), kind="offline")
    assert report["tool_accuracy"] >= 0.9, _report_failures(report)
    assert report["arg_accuracy"] >= 0.9, _report_failures(report)
    assert report["latency_median_s"] < 0.25


def test_offline_planner_on_our_own_cases():
    report = evaluate(load_cases(OWN_CASES), kind="offline")
    assert report["cases"] >= 40
    assert report["tool_accuracy"] >= 0.9, _report_failures(report)


def plan(text: str, **context):
    return OfflinePlanner().parse(PlanningContext(text=text, **context))


def tools(text: str, **context) -> list[str]:
    return [step.tool for step in plan(text, **context).plan.steps]


@pytest.mark.parametrize("text, expected", [
    ("remove the cup then make it warmer", ["remove_object", "relight"]),
    ("remove the cup; make it warmer", ["remove_object", "relight"]),
    ("remove the cup. After that, make it warmer", ["remove_object", "relight"]),
    ("remove the cup, make it warmer and zoom out", ["remove_object", "relight", "change_camera"]),
    # "and" / commas inside one edit do not split it.
    ("make it black and white", ["style_transfer"]),
    ("remove the man and the dog", ["remove_object"]),
    ("make the lighting more dramatic, like a film noir", ["relight"]),
])
def test_compound_requests_split_into_ordered_steps(text, expected):
    assert tools(text) == expected


def test_quoted_text_is_kept_whole_and_in_its_case():
    result = plan('change the sign to say "Open, then Closed"').plan
    assert [s.tool for s in result.steps] == ["edit_text"]
    assert result.steps[0].args["new_text"] == "Open, then Closed"


def test_a_single_mask_goes_to_the_step_that_needs_a_region():
    steps = plan("make it warmer, then remove the cup", masks=1).plan.steps
    assert [s.args.get("mask") for s in steps] == [None, "mask"]
    lone = plan("make it warmer", masks=1).plan.steps
    assert lone[0].args.get("mask") == "mask"
    two = plan("remove the cup and remove the spoon", masks=2).plan.steps
    assert [s.args.get("mask") for s in two] == ["mask 1", "mask 2"]


@pytest.mark.parametrize("text, context", [
    ("remove it", {}),
    ("remove", {}),
    ("remove the marked area", {}),
    ("what is this", {}),
])
def test_unsure_requests_become_a_question_not_a_guess(text, context):
    result = plan(text, **context).plan
    assert result.clarify and not result.steps


def test_variants_and_picking_an_option():
    step = plan("make it an oil painting, give me 3 variations").plan.steps[0]
    assert (step.tool, step.variants) == ("style_transfer", 3)
    assert plan("use option 2").plan.steps[0].args == {"option": 2}
    assert plan("I like the third one best").plan.steps[0].args == {"option": 3}


def test_confidence_marks_free_form_fallbacks():
    assert plan("remove the cup").confident
    assert not plan("make her smile").confident
    assert plan("make her smile").plan.steps[0].tool == "edit"


def test_history_modifiers_open_a_branch_first():
    steps = plan("from the original, make it sepia on a new branch called old").plan.steps
    assert [s.tool for s in steps] == ["branch", "style_transfer"]
    assert steps[0].args == {"name": "old", "from_version": "the original"}
    assert [s.tool for s in plan("branch from version 2").plan.steps] == ["branch"]


def test_the_eval_sentences_are_not_special_cased():
    # Paraphrases of the shared cases plan the same way.
    assert tools("please erase the man standing on the left") == ["remove_object"]
    assert tools("could you swap the dog for a cat") == ["replace_object"]
    assert tools("place a lighthouse on the horizon") == ["add_object"]
    assert tools("set the background to a snowy forest") == ["replace_background"]
    assert tools("make it dusk, then turn it into a watercolour") == ["relight", "style_transfer"]


def test_it_refers_to_what_an_earlier_clause_added():
    steps = plan("add a hat to the dog and then remove it").plan.steps
    assert [(s.tool, s.args.get("target")) for s in steps] == [("add_object", None),
                                                               ("remove_object", "hat")]
    garment = plan("take the jacket from image 2 and put it on her", references=1).plan.steps
    assert [(s.tool, s.args) for s in garment] == [
        ("try_on", {"garment_reference": "reference 1", "target": "her"})]

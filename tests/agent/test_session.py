"""The façade and the graph end to end: real SQLite, the classic backend, real photos."""

from __future__ import annotations

import asyncio
import sqlite3

import numpy as np

from tests.agent.conftest import cup_mask, run, small_coffee


def kinds(events) -> list[str]:
    return [event.kind for event in events]


def committed(events):
    return [event for event in events if event.kind == "committed"]


def test_a_three_step_request_makes_three_chained_versions(make_session):
    session = make_session()
    image = small_coffee()
    events = run(session, "remove the cup, then make the background a sunset and relight it warm",
                 images=[image], masks=[cup_mask(image.size)])
    made = committed(events)
    assert [e.tool for e in made] == ["remove_object", "replace_background", "relight"]
    assert [e.step for e in made] == [0, 1, 2]
    root = session.history.log()[0]
    parents = [root.id] + [e.version["id"] for e in made[:-1]]
    assert [e.version["parent_id"] for e in made] == parents
    assert session.history.head().id == made[-1].version["id"]
    # Events: import, plan, then per step started -> progress... -> committed, and a reply last.
    order = kinds(events)
    assert order[:2] == ["history", "planned"] and order[-1] == "reply"
    assert order.count("started") == 3
    fractions = [e.fraction for e in events if e.kind == "progress"]
    assert fractions and all(0.0 <= f <= 1.0 for f in fractions)
    assert events[1].plan["steps"][0]["args"] == {"target": "cup", "mask": "mask"}
    # The removal really changed the cup region and nothing outside it.
    before = np.asarray(image, np.int16)
    after = np.asarray(session.history.image(made[0].version["id"]), np.int16)
    inside = np.asarray(cup_mask(image.size)) > 0
    assert np.abs(after - before)[inside].mean() > 5
    ring = np.asarray(cup_mask(image.size).resize(image.size)) == 0
    assert np.abs(after - before)[ring].mean() < np.abs(after - before)[inside].mean() / 4


def test_a_failing_middle_step_keeps_the_first_version_and_says_why(make_session):
    session = make_session()
    image = small_coffee()
    events = run(session, "remove the cup, then add a hat to the saucer, then make it warmer",
                 images=[image], masks=[cup_mask(image.size)])
    made = committed(events)
    assert [e.tool for e in made] == ["remove_object"]
    failed = [e for e in events if e.kind == "failed"]
    assert len(failed) == 1 and failed[0].step == 1 and failed[0].tool == "add_object"
    assert "diffusion backend" in failed[0].message
    assert kinds(events)[-1] == "reply"
    reply = events[-1].message
    assert "Step 2 of 3" in reply and "diffusion backend" in reply and "Not run" in reply
    assert session.history.head().id == made[0].version["id"]
    assert [v.tool for v in session.history.log()] == ["import", "remove_object"]


def test_an_unclear_request_asks_and_changes_nothing(make_session):
    session = make_session()
    events = run(session, "remove it", images=[small_coffee()])
    assert kinds(events)[-1] == "clarify" and "remove" in events[-1].message.lower()
    assert not committed(events) and len(session.history.log()) == 1
    no_photo = run(make_session("empty"), "make it warmer")
    assert no_photo[-1].kind == "clarify" and "image" in no_photo[-1].message


def test_variants_are_siblings_and_use_option_moves_the_head(make_session):
    session = make_session()
    session.history.import_image(small_coffee(), name="coffee.png")
    events = run(session, "make it warmer, give me three options")
    made = committed(events)
    assert len(made) == 3
    assert len({e.version["parent_id"] for e in made}) == 1
    seeds = [e.version["seed"] for e in made]
    assert all(seeds) and len(set(seeds)) == 3
    assert session.history.head().id == made[0].version["id"]
    events = run(session, "use option 2")
    assert session.history.head().id == made[1].version["id"]
    assert [e.kind for e in events if e.kind == "history"] == ["history"]


def test_do_it_again_repeats_the_last_edit_without_its_attachments(make_session):
    session = make_session()
    image = small_coffee()
    run(session, "remove the cup", images=[image], masks=[cup_mask(image.size)])
    events = run(session, "make it warmer")
    events = run(session, "do it again")
    assert [e.tool for e in committed(events)] == ["relight"]
    head = session.history.head()
    assert head.args == {"description": "warmer"}
    assert session.history.version(head.parent_id).tool == "relight"


def test_history_intents_run_against_the_store(make_session):
    session = make_session()
    run(session, "make it warmer", images=[small_coffee()])
    original = session.history.log()[0]
    events = run(session, "from the original, make it sepia on a new branch")
    assert session.history.current_branch == "sepia"
    sepia_head = session.history.head()
    assert sepia_head.tool == "style_transfer" and sepia_head.parent_id == original.id
    assert session.history.branches()["main"] != sepia_head.id
    run(session, "switch to branch main")
    assert session.history.current_branch == "main"
    events = run(session, "compare with the original")
    compare = [e for e in events if e.kind == "history"][0]
    assert compare.args["b"] == original.id and "relight" in compare.message
    events = run(session, "show me the history")
    tree = [e for e in events if e.kind == "history"][0].message
    assert "sepia" in tree and "relight" in tree
    events = run(session, "undo")
    assert session.history.head().id == original.id
    events = run(session, "undo")
    assert events[-1].kind == "reply" and "original import" in events[-1].message


def test_bad_input_becomes_events_and_loses_nothing(make_session):
    session = make_session()
    run(session, "make it warmer", images=[small_coffee()])
    before = session.history.log()
    events = run(session, "make it cooler", images=[b"this is not an image"])
    assert kinds(events) == ["failed", "reply"]
    assert "not an image" in events[0].message
    events = run(session, "make it cooler", images=[small_coffee()], masks=["/nowhere/mask.png"])
    assert kinds(events) == ["failed", "reply"] and "mask.png" in events[0].message
    assert session.history.log() == before


def test_apply_runs_one_operation_with_variants_and_reports_bad_arguments(make_session):
    session = make_session()
    session.history.import_image(small_coffee(), name="coffee.png")
    events = list(session.apply("style_transfer", {"style": "sepia"}, variants=2))
    assert kinds(events)[0] == "started" and kinds(events)[-3:] == ["committed", "committed",
                                                                    "reply"]
    made = committed(events)
    assert len(made) == 2 and made[0].version["parent_id"] == made[1].version["parent_id"]
    bad = list(session.apply("style_transfer", {"colour": "red"}))
    assert kinds(bad) == ["failed", "reply"] and "style" in bad[0].message
    unsupported = list(session.apply("add_object", {"object": "hat"}))
    assert kinds(unsupported)[-2:] == ["failed", "reply"]
    assert len(session.history.log()) == 3


def test_events_can_be_pulled_from_other_threads(make_session):
    session = make_session()

    async def chat() -> list:
        stream = session.send("make it warmer", images=[small_coffee()])
        events = []
        while (event := await asyncio.to_thread(next, stream, None)) is not None:
            events.append(event)
        return events

    events = asyncio.run(chat())
    assert kinds(events)[-1] == "reply" and len(committed(events)) == 1


def test_the_conversation_is_checkpointed_per_session(make_session, data_dir):
    session = make_session()
    run(session, "make it warmer", images=[small_coffee()])
    run(session, "remove it")
    turns = make_session().conversation()   # a new façade object reads the checkpoint
    assert [t["user"] for t in turns] == ["make it warmer", "remove it"]
    assert turns[0]["versions"] == [session.history.head().id]
    assert make_session("other").conversation() == []
    for text in ("make it cooler", "make it brighter", "show me the history", "undo"):
        run(session, text)
    assert [t["user"] for t in make_session().conversation()][-2:] == ["show me the history",
                                                                      "undo"]
    assert len(make_session().conversation()) == 6
    with sqlite3.connect(data_dir / "checkpoints.db") as db:
        threads = {row[0] for row in db.execute("select distinct thread_id from checkpoints")}
        kept = db.execute("select count(*) from checkpoints").fetchone()[0]
    assert threads == {"session:test"}
    assert kept <= 10  # old checkpoints are pruned; the conversation is whole


def test_status_is_honest_about_backends_and_planner(make_session):
    session = make_session()
    text = session.status()
    assert "offline" in text and "classic" in text
    assert "add_object" in text and "diffusion backend" in text
    assert "no photo yet" in text

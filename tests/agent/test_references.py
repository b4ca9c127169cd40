"""History references are resolved by code over real version records."""

from __future__ import annotations

import pytest
from PIL import Image

from agent.references import HistorySnapshot, UnresolvedReference, resolve_version, variant
from storage import Operation


@pytest.fixture
def history(store):
    """import -> remove car -> beach background -> warm light, on main."""
    history = store.session("refs")
    image = Image.new("RGB", (32, 24), (90, 120, 150))
    history.import_image(image, name="street.png")
    for tool, args, said in [("remove_object", {"target": "car"}, "remove the car"),
                             ("replace_background", {"description": "beach"}, "beach please"),
                             ("relight", {"description": "warm"}, "warmer")]:
        history.commit(image, Operation(tool=tool, args=args, instruction=said))
    return history


def ids(history) -> list[int]:
    return [version.id for version in history.log()]


@pytest.mark.parametrize("phrase, index", [
    ("the original", 0), ("the original photo", 0), ("start", 0),
    ("current", 3), ("head", 3),
    ("previous", 2), ("the one before", 2), ("two steps back", 1), ("3 edits ago", 0),
    ("before the background change", 1), ("the version before the background change", 1),
    ("after the car was removed", 1), ("right after the car was removed", 1),
    ("the beach one", 2), ("with the warm light", 3),
])
def test_phrases_find_the_right_version(history, phrase, index):
    snapshot = HistorySnapshot.of(history)
    assert resolve_version(snapshot, phrase).id == ids(history)[index]


def test_ids_in_any_spelling(history):
    snapshot = HistorySnapshot.of(history)
    second = ids(history)[1]
    for spelling in (str(second), f"@{second}", f"v{second}", f"version {second}"):
        assert resolve_version(snapshot, spelling).id == second


@pytest.mark.parametrize("phrase, problem", [
    ("version 99", "no version 99"),
    ("ten steps back", "only 3 edit"),
    ("before the dragon was added", "no version matches"),
    ("option 2", "no options"),
])
def test_unresolvable_references_say_why(history, phrase, problem):
    with pytest.raises(UnresolvedReference, match=problem):
        resolve_version(HistorySnapshot.of(history), phrase)


def test_the_current_line_wins_over_other_branches(history):
    first = ids(history)[0]
    history.branch("forest", from_version=first)
    image = history.image(first)
    forest = history.commit(image, Operation(tool="replace_background",
                                             args={"description": "forest"}))
    snapshot = HistorySnapshot.of(history)
    assert resolve_version(snapshot, "the background change").id == forest.id
    assert resolve_version(snapshot, "previous").id == first
    history.checkout("main")
    assert resolve_version(HistorySnapshot.of(history), "the background change").id == ids(history)[2]


def test_options_are_the_newest_siblings_of_the_same_edit(history):
    head = history.head()
    image = history.image(head.id)
    made = [history.commit(image, Operation(tool="style_transfer", args={"style": "sepia"},
                                            seed=seed), move_head=index == 0, parent_id=head.id)
            for index, seed in enumerate((11, 22, 33))]
    snapshot = HistorySnapshot.of(history)
    assert [variant(snapshot, n).id for n in (1, 2, 3)] == [v.id for v in made]
    assert resolve_version(snapshot, "option 2").id == made[1].id
    assert resolve_version(snapshot, "the third option").id == made[2].id
    with pytest.raises(UnresolvedReference, match="3 options"):
        variant(snapshot, 4)

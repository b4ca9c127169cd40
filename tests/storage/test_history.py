"""The history's operations on a real SQLite file: import, commit, head, undo, revert,
branch, checkout, log, ancestry, export, assets, sessions."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from PIL import Image

from storage import ConflictError, NotFound, Operation, StorageError, Store
from tests.conftest import photo


def edited(image: Image.Image, shift: int) -> Image.Image:
    array = np.asarray(image).astype(np.int16)
    return Image.fromarray(np.clip(array + shift, 0, 255).astype(np.uint8), image.mode)


@pytest.fixture
def history(store):
    return store.session("test")


def test_import_creates_root_on_main(history, photo_path):
    version = history.import_image(photo_path)
    assert version.parent_id is None
    assert version.tool == "import"
    assert (version.width, version.height, version.mode) == (512, 512, "RGB")
    assert history.head().id == version.id
    assert history.current_branch == "main"
    assert history.branches() == {"main": version.id}
    assert np.array_equal(np.asarray(history.image(version.id)), np.asarray(photo("astronaut")))


def test_commit_records_operation_and_moves_head(history, photo_path):
    root = history.import_image(photo_path)
    op = Operation(tool="relight", args={"description": "warm"}, backend="classic",
                   model_id=None, seed=7, steps=None, duration_s=0.25, instruction="make it warmer")
    child = history.commit(edited(history.image(root.id), 10), op)
    assert child.parent_id == root.id
    assert history.head().id == child.id
    stored = history.version(child.id)
    assert (stored.tool, stored.args, stored.backend, stored.seed, stored.duration_s,
            stored.instruction) == ("relight", {"description": "warm"}, "classic", 7, 0.25,
                                    "make it warmer")
    assert stored.branches == ("main",)


def test_blob_is_content_addressed_and_deduplicated(history, store, photo_path):
    root = history.import_image(photo_path)
    again = history.import_image(photo_path)
    assert root.image_sha256 == again.image_sha256
    blob = store.blobs.path(root.image_sha256)
    assert blob.parent.name == root.image_sha256[:2]
    import hashlib
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == root.image_sha256
    assert len(list((store.data_dir / "blobs").rglob("*.png"))) == 1


def test_undo_keeps_undone_version_in_tree(history, photo_path):
    root = history.import_image(photo_path)
    first = history.commit(edited(history.image(root.id), 5), Operation(tool="edit"))
    second = history.commit(edited(history.image(first.id), 5), Operation(tool="edit"))
    assert history.undo().id == first.id
    assert history.head().id == first.id
    assert [v.id for v in history.log()] == [root.id, first.id, second.id]
    assert history.undo().id == root.id
    with pytest.raises(StorageError, match="original import"):
        history.undo()
    assert history.head().id == root.id


def test_undo_several_steps_at_once_or_not_at_all(history, photo_path):
    root = history.import_image(photo_path)
    first = history.commit(edited(history.image(root.id), 5), Operation(tool="edit"))
    second = history.commit(edited(history.image(first.id), 5), Operation(tool="edit"))
    with pytest.raises(StorageError):
        history.undo(3)
    assert history.head().id == second.id  # a failed undo moves nothing
    assert history.undo(2).id == root.id


def test_revert_to_any_version_deletes_nothing(history, photo_path):
    root = history.import_image(photo_path)
    first = history.commit(edited(history.image(root.id), 5), Operation(tool="edit"))
    second = history.commit(edited(history.image(first.id), 5), Operation(tool="edit"))
    assert history.revert(root.id).id == root.id
    assert history.head().id == root.id
    assert history.revert(f"@{second.id}").id == second.id  # forward again: nothing was lost
    assert len(history.log()) == 3


def test_branch_from_version_and_checkout(history, photo_path):
    root = history.import_image(photo_path)
    beach = history.commit(edited(history.image(root.id), 20), Operation(tool="replace_background"))
    history.branch("forest", from_version=root.id)
    assert history.current_branch == "forest"
    assert history.head().id == root.id
    forest = history.commit(edited(history.image(root.id), -20), Operation(tool="replace_background"))
    assert forest.parent_id == root.id
    assert history.branches() == {"main": beach.id, "forest": forest.id}
    assert history.checkout("main").id == beach.id
    assert history.head().id == beach.id
    with pytest.raises(StorageError, match="already exists"):
        history.branch("forest")
    with pytest.raises(StorageError, match="not a valid branch name"):
        history.branch("two words")


def test_log_marks_branches_in_creation_order(history, photo_path):
    root = history.import_image(photo_path)
    child = history.commit(edited(history.image(root.id), 3), Operation(tool="edit"))
    history.branch("alt", from_version=root.id)
    log = history.log()
    assert [v.id for v in log] == [root.id, child.id]
    assert log[0].branches == ("alt",)
    assert log[1].branches == ("main",)
    data = log[1].to_json()
    for key in ("id", "parent_id", "branches", "tool", "instruction", "image_sha256", "created_at"):
        assert key in data


def test_ancestry_is_root_first(history, photo_path):
    root = history.import_image(photo_path)
    first = history.commit(edited(history.image(root.id), 1), Operation(tool="edit"))
    history.branch("side", from_version=root.id)
    history.commit(edited(history.image(root.id), 2), Operation(tool="edit"))
    history.checkout("main")
    second = history.commit(edited(history.image(first.id), 1), Operation(tool="edit"))
    assert [v.id for v in history.ancestry(second.id)] == [root.id, first.id, second.id]


def test_export_writes_the_exact_pixels(history, photo_path, tmp_path):
    root = history.import_image(photo_path)
    out = history.export(root.id, tmp_path / "out.png")
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(photo("astronaut")))
    jpeg = history.export(root.id, tmp_path / "out.jpg")
    assert Image.open(jpeg).format == "JPEG"


def test_export_into_missing_folder_fails_cleanly(history, photo_path, tmp_path):
    root = history.import_image(photo_path)
    with pytest.raises(StorageError, match="does not exist"):
        history.export(root.id, tmp_path / "missing" / "out.png")
    assert not (tmp_path / "missing").exists()


def test_unknown_version_and_branch(history, photo_path, store):
    history.import_image(photo_path)
    with pytest.raises(NotFound, match="version 999"):
        history.version(999)
    with pytest.raises(NotFound):
        history.revert("abc")
    with pytest.raises(NotFound, match="no branch 'nope'"):
        history.checkout("nope")
    other = store.session("other")
    other_root = other.import_image(photo_path)
    with pytest.raises(NotFound):  # versions of another session are not reachable
        history.revert(other_root.id)


def test_empty_session_reads_and_writes(store):
    empty = store.session("empty")
    assert empty.log() == []
    with pytest.raises(NotFound, match="import one first"):
        empty.head()
    with pytest.raises(NotFound, match="import one first"):
        empty.commit(photo("coffee"), Operation(tool="edit"))
    assert not empty.exists()


def test_commit_on_stale_parent_conflicts_and_records_nothing(history, photo_path):
    root = history.import_image(photo_path)
    first = history.commit(edited(history.image(root.id), 5), Operation(tool="edit"))
    with pytest.raises(ConflictError):
        history.commit(edited(history.image(root.id), 9), Operation(tool="edit"), parent_id=root.id)
    assert [v.id for v in history.log()] == [root.id, first.id]
    # a sibling without moving the head is fine (variants)
    sibling = history.commit(edited(history.image(root.id), 9), Operation(tool="edit"),
                             parent_id=root.id, move_head=False)
    assert sibling.parent_id == root.id and history.head().id == first.id


def test_assets_are_kept_per_session(history, tmp_path):
    mask_path = tmp_path / "mask.png"
    Image.new("L", (64, 64), 255).save(mask_path)
    asset = history.add_asset(mask_path, "mask", name="mask.png")
    assert asset.kind == "mask" and (asset.width, asset.height) == (64, 64)
    assert history.assets("mask") == [asset]
    assert history.asset_image(asset.id).size == (64, 64)
    with pytest.raises(StorageError):
        history.add_asset(mask_path, "weird")


def test_sessions_are_listed_with_counts(store, photo_path):
    store.session("a").import_image(photo_path)
    b = store.session("b")
    root = b.import_image(photo_path)
    b.commit(edited(b.image(root.id), 4), Operation(tool="edit"))
    infos = {info.name: info.versions for info in store.sessions()}
    assert infos == {"a": 1, "b": 2}


def test_database_is_sqlite_in_wal_mode(store, photo_path):
    store.session().import_image(photo_path)
    with sqlite3.connect(store.data_dir / "retouch.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_any_sqlalchemy_url(tmp_path, photo_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    store = Store(tmp_path / "data", url=url)
    version = store.session().import_image(photo_path)
    assert (tmp_path / "elsewhere.db").exists()
    assert Store(tmp_path / "data", url=url).session().head().id == version.id

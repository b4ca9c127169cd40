"""The history CLI as a user runs it: output contracts, errors on stderr, nothing half-written."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from storage import Operation, Store
from tests.conftest import photo


def commit_edit(data_dir, session="default", shift=30):
    history = Store(data_dir).session(session)
    image = np.asarray(history.image(history.head().id)).astype(np.int16)
    edited = Image.fromarray(np.clip(image + shift, 0, 255).astype(np.uint8))
    return history.commit(edited, Operation(tool="relight", args={"description": "brighter"},
                                            instruction="make it brighter"))


def test_import_prints_the_version_id(run_cli, photo_path):
    out = run_cli("import", photo_path)
    assert out.stdout.strip() == "1"
    assert run_cli("import", photo_path, "--session", "other").stdout.strip() == "2"


def test_log_json_contract(run_cli, photo_path, data_dir):
    run_cli("import", photo_path)
    child = commit_edit(data_dir)
    log = json.loads(run_cli("log", "--json").stdout)
    assert [entry["id"] for entry in log] == [1, child.id]
    assert log[1]["parent_id"] == 1
    assert log[1]["branches"] == ["main"]
    assert log[1]["tool"] == "relight"
    assert log[1]["instruction"] == "make it brighter"
    assert len(log[1]["image_sha256"]) == 64
    assert log[1]["created_at"].startswith("20")


def test_log_tree_marks_branches_and_head(run_cli, photo_path, data_dir):
    run_cli("import", photo_path)
    commit_edit(data_dir)
    run_cli("branch", "dark", "--from", "1")
    commit_edit(data_dir, shift=-40)
    text = run_cli("log").stdout
    assert "import astronaut.png" in text
    assert "relight(description=brighter)" in text
    assert "← main" in text and "← dark (HEAD)" in text
    assert "├─" in text and "└─" in text


def test_show_undo_revert_branch_checkout(run_cli, photo_path, data_dir, tmp_path):
    run_cli("import", photo_path)
    child = commit_edit(data_dir)
    run_cli("show", child.id, "-o", tmp_path / "child.png")
    assert not np.array_equal(np.asarray(Image.open(tmp_path / "child.png")),
                              np.asarray(photo("astronaut")))
    assert "now at version 1" in run_cli("undo").stdout
    assert json.loads(run_cli("show", "--json").stdout)["id"] == 1
    assert f"now at version {child.id}" in run_cli("revert", child.id).stdout
    assert "switched to new branch alt at version 1" in run_cli("branch", "alt", "--from", "1").stdout
    assert "switched to branch main" in run_cli("checkout", "main").stdout
    assert json.loads(run_cli("show", "--json", "--session", "default").stdout)["id"] == child.id


def test_options_work_before_and_after_the_subcommand(run_cli, photo_path, tmp_path):
    other = tmp_path / "elsewhere"
    run_cli("--data-dir", other, "import", photo_path)
    assert json.loads(run_cli("log", "--json", "--data-dir", other).stdout)[0]["id"] == 1
    assert json.loads(run_cli("--session", "s", "log", "--json").stdout) == []


def test_errors_are_one_line_on_stderr_and_change_nothing(run_cli, photo_path, tmp_path, data_dir):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    cases = [
        ("import", bad),
        ("import", tmp_path / "missing.png"),
        ("show", "99", "-o", tmp_path / "out.png"),
        ("revert", "99"),
        ("checkout", "nope"),
        ("undo",),
        ("show", "1", "-o", tmp_path / "no" / "such" / "dir.png"),
    ]
    run_cli("import", photo_path)
    before = run_cli("log", "--json").stdout
    for args in cases:
        result = run_cli(*args, check=False)
        assert result.returncode != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("retouch: error: "), (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert run_cli("log", "--json").stdout == before
    assert not (tmp_path / "out.png").exists()

"""`retouch plan`, `retouch edit` and `retouch chat` in child processes, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from tests.agent.conftest import cup_mask
from tests.conftest import REPO, photo


def test_done_when_remove_sunset_relight_on_coffee_leaves_a_three_version_chain(run_cli, tmp_path):
    image = photo("coffee")
    image.save(tmp_path / "coffee.png")
    cup_mask(image.size).save(tmp_path / "cup.png")
    done = run_cli("edit", tmp_path / "coffee.png",
                   "remove the cup, then make the background a sunset and relight it warm",
                   "--mask", tmp_path / "cup.png", "-o", tmp_path / "out.png")
    assert "version 2" in done.stdout and "version 4" in done.stdout
    versions = json.loads(run_cli("log", "--json").stdout)
    assert [v["tool"] for v in versions] == ["import", "remove_object", "replace_background",
                                             "relight"]
    assert [v["parent_id"] for v in versions] == [None, versions[0]["id"], versions[1]["id"],
                                                  versions[2]["id"]]
    assert versions[1]["args"]["target"] == "cup" and versions[1]["backend"] == "classic"
    out = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"), np.int16)
    assert out.shape == np.asarray(image).shape
    assert np.abs(out - np.asarray(image, np.int16)).mean() > 10  # a visibly different picture


def test_plan_prints_the_plan_json_and_runs_nothing(run_cli, photo_path):
    run_cli("import", photo_path)
    done = run_cli("plan", "erase the watermark, then make it look like a watercolor", "--json")
    plan = json.loads(done.stdout)
    assert set(plan) == {"steps", "reply", "clarify"}
    assert [(s["tool"], s["args"]) for s in plan["steps"]] == [
        ("remove_object", {"target": "watermark"}), ("style_transfer", {"style": "watercolor"})]
    assert len(json.loads(run_cli("log", "--json").stdout)) == 1
    text = run_cli("plan", "put this shirt on her").stdout
    assert text.startswith("question:")
    photo("chelsea").save(photo_path.parent / "shirt.png")
    with_ref = json.loads(run_cli("plan", "put this shirt on her", "--ref",
                                  photo_path.parent / "shirt.png", "--json").stdout)
    assert with_ref["steps"] == [{"tool": "try_on", "variants": 1, "args": {
        "garment_reference": "reference 1", "target": "her"}}]


def test_edit_reports_questions_and_failures_with_a_nonzero_exit(run_cli, photo_path):
    run_cli("import", photo_path)
    question = run_cli("edit", "remove it", check=False)
    assert question.returncode == 1 and "What should I remove" in question.stdout
    failed = run_cli("edit", "make it warmer, then add a hat to the astronaut", check=False)
    assert failed.returncode == 1 and "add_object" in failed.stderr
    tools = [v["tool"] for v in json.loads(run_cli("log", "--json").stdout)]
    assert tools == ["import", "relight"]
    missing = run_cli("edit", "missing.png", "make it warmer", check=False)
    assert missing.returncode == 1 and "missing.png" in missing.stderr + missing.stdout


def test_a_new_process_continues_the_same_conversation(run_cli, photo_path, data_dir, settings):
    run_cli("edit", photo_path, "make it warmer")
    # A second process: `retouch chat` on the same session, fed from stdin.
    env = {**os.environ, "RETOUCH_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    chat = subprocess.run([sys.executable, "-m", "agent.cli", "chat"], input="undo that\n/quit\n",
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert chat.returncode == 0, chat.stderr
    assert "Resuming 1 earlier exchange" in chat.stdout and "make it warmer" in chat.stdout
    assert "undid 1 step" in chat.stdout
    from agent.session import RetouchSession

    session = RetouchSession("default", settings)
    turns = session.conversation()
    assert [t["user"] for t in turns] == ["make it warmer", "undo that"]
    assert session.history.head().tool == "import"

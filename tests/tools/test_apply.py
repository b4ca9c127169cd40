"""`apply_operation` and the `retouch apply` / `retouch models` commands, on a real store."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from agent.apply import apply_operation
from agent.config import Settings
from agent.runtime import get_toolbox
from storage import ConflictError
from tests.conftest import photo
from tools.errors import ToolError
from tools.masks import mask_from_box


@pytest.fixture
def history(store, photo_path):
    history = store.session("edits")
    history.import_image(photo_path)
    return history


@pytest.fixture
def toolbox(data_dir):
    return get_toolbox(Settings(data_dir=data_dir))


def test_apply_commits_a_child_with_the_whole_record(history, toolbox):
    root = history.head()
    seen = []
    version = apply_operation(history, toolbox, "remove_object", {"target": "the patch"},
                              mask=mask_from_box((40, 40, 90, 90), (512, 512)), seed=7,
                              instruction="remove the patch", progress=lambda f, m: seen.append(f))
    assert version.parent_id == root.id and history.head().id == version.id
    assert version.tool == "remove_object" and version.backend == "classic"
    assert version.seed == 7 and version.instruction == "remove the patch"
    assert version.duration_s > 0
    assert version.args["target"] == "the patch" and version.args["mask"] == "mask"
    mask_asset = version.args["assets"]["mask_asset"]
    assert [asset.id for asset in history.assets("mask")] == [mask_asset]
    assert seen[0] == 0.0 and seen[-1] == 1.0
    changed = np.any(np.asarray(history.image(version.id)) != np.asarray(history.image(root.id)), axis=2)
    assert changed[60, 60] and not changed[300, 300]


def test_one_reference_fills_the_image_argument(history, toolbox, tmp_path):
    reference = tmp_path / "backdrop.png"
    photo("coffee").save(reference)
    version = apply_operation(history, toolbox, "replace_background", {"description": "this photo"},
                              mask=mask_from_box((100, 100, 400, 512), (512, 512)), references=[reference])
    assert version.args["reference"] == "reference 1" and version.args["references"] == ["reference 1"]
    assert len(version.args["assets"]["reference_assets"]) == 1


def test_a_moved_head_fails_cleanly_and_commits_nothing(history, toolbox):
    started_from = history.head().id
    apply_operation(history, toolbox, "relight", {"description": "warm"})   # someone else's edit
    count = len(history.log())
    with pytest.raises(ConflictError, match="nothing was committed"):
        apply_operation(history, toolbox, "relight", {"description": "cool"}, parent_id=started_from)
    assert len(history.log()) == count
    branched = apply_operation(history, toolbox, "relight", {"description": "cool"},
                               parent_id=started_from, move_head=False)
    assert branched.parent_id == started_from and history.head().id != branched.id


def test_bad_requests_commit_nothing(history, toolbox):
    count = len(history.log())
    for tool, args, kwargs, message in [
        ("remove_object", {"target": ""}, {}, "target"),
        ("remove_object", {"target": "cup"}, {}, "attach a mask"),
        ("remove_object", {"target": "cup"}, {"mask": Image.new("L", (10, 20), 255)}, "mask is 10x20"),
        ("remove_object", {"target": "cup"}, {"mask": Image.new("L", (512, 512), 0)}, "all black"),
        ("add_object", {"object": "a hat"}, {}, "needs a diffusion backend"),
        ("style_transfer", {"style": "ukiyo-e"}, {}, "unknown style"),
        ("relight", {"description": "warm"}, {"backend": "kontext"}, "no backend 'kontext'"),
    ]:
        with pytest.raises(ToolError, match=message):
            apply_operation(history, toolbox, tool, args, **kwargs)
    assert len(history.log()) == count and history.assets() == []


def test_the_toolbox_is_built_once_per_configuration(data_dir, tmp_path):
    assert get_toolbox(Settings(data_dir=data_dir)) is get_toolbox(Settings(data_dir=tmp_path))


# ----- the command line ------------------------------------------------------------------

def test_cli_apply_with_a_scribble_and_json(run_cli, photo_path, tmp_path):
    run_cli("import", photo_path)
    scribble = np.asarray(photo("astronaut")).copy()
    cv2.circle(scribble, (420, 120), 40, (255, 0, 0), -1)
    Image.fromarray(scribble).save(tmp_path / "scribble.png")
    done = run_cli("apply", "remove_object", "target=the rocket", "--scribble", tmp_path / "scribble.png",
                   "--seed", "3", "--json")
    version = json.loads(done.stdout)
    assert version["parent_id"] == 1 and version["tool"] == "remove_object"
    assert version["backend"] == "classic" and version["seed"] == 3
    out = tmp_path / "out.png"
    run_cli("show", str(version["id"]), "-o", out)
    changed = np.any(np.asarray(Image.open(out).convert("RGB")) != np.asarray(photo("astronaut")), axis=2)
    assert changed[120, 420] and not changed[400, 100]
    done = run_cli("apply", "style_transfer", "style=sepia", "strength=0.5")
    assert done.stdout.strip() == str(version["id"] + 1)


def test_cli_apply_errors_are_one_line_and_commit_nothing(run_cli, photo_path, tmp_path):
    run_cli("import", photo_path)
    Image.new("L", (64, 32), 255).save(tmp_path / "small.png")
    for args, message in [
        (["remove_object", "target=cup", "--mask", tmp_path / "small.png"], "mask is 64x32 but the image is 512x512"),
        (["remove_object", "target=cup"], "attach a mask or a scribble"),
        (["try_on", "garment_reference=reference 1"], "needs a diffusion backend"),
        (["relight", "description"], "not a key=value argument"),
        (["relight", "description=warm", "strength=lots"], "strength"),
        (["fly_to_mars"], "unknown operation 'fly_to_mars'"),
        (["relight", "description=warm", "--box", "1,2,3", "--mask", tmp_path / "small.png"], "give one region"),
    ]:
        done = run_cli("apply", *args, check=False)
        assert done.returncode == 1, args
        assert message in done.stderr and done.stderr.count("\n") == 1, done.stderr
        assert done.stdout == ""
    log = json.loads(run_cli("log", "--json").stdout)
    assert len(log) == 1


def test_cli_models_lists_backends_and_operations(run_cli):
    data = json.loads(run_cli("models", "--json").stdout)
    classic = next(backend for backend in data["backends"] if backend["name"] == "classic")
    assert classic["available"] and "remove_object" in classic["operations"]
    by_name = {operation["name"]: operation for operation in data["operations"]}
    assert by_name["relight"]["backends"] == ["classic"] and by_name["try_on"]["backends"] == []
    assert "target" in by_name["remove_object"]["arguments"]
    assert "add_object" in data["unavailable"]
    text = run_cli("models").stdout
    assert "classic" in text and "needs a diffusion backend" in text

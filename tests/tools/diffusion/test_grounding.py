"""Grounding: a CLIPSeg model (tiny, random weights, built in code) turns words into the mask
that bounds an edit given no mask."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import photo
from tools.diffusion import build_diffusion_backends
from tools.errors import NeedsMask
from tools.grounding import build_grounder
from tools.models import ModelManager
from tools.models_config import ModelsConfig
from tools.registry import EditContext, Toolbox


def grounded_toolbox(tiny_model, threshold: float):
    config = ModelsConfig.model_validate({
        "device": "cpu",
        "edit": {"k": {"kind": "flux_kontext", "path": str(tiny_model("flux_kontext")),
                       "steps": 2, "resolution": 64}},
        "grounding": {"kind": "clipseg", "path": str(tiny_model("clipseg")), "threshold": threshold}})
    manager = ModelManager.from_config(config)
    grounder = build_grounder(config.grounding, manager)
    return Toolbox(build_diffusion_backends(config, manager, grounder)), grounder, manager


def test_grounder_gives_a_mask_at_the_image_size(tiny_model):
    _, grounder, manager = grounded_toolbox(tiny_model, 0.5)
    image = photo("coffee").resize((90, 60))
    scores = grounder.scores(image, "the cup")
    assert scores.shape == (60, 90) and 0.0 <= scores.min() <= scores.max() <= 1.0
    threshold = float(np.median(scores))
    grounder.config = grounder.config.model_copy(update={"threshold": threshold})
    mask = grounder.mask(image, "the cup")
    assert mask.size == image.size and mask.mode == "L"
    assert 0 < (np.asarray(mask) > 0).mean() < 1
    assert any(name.startswith("grounding:") for name in manager.resident())  # stays loaded


def test_remove_without_mask_edits_only_the_grounded_region(tiny_model):
    toolbox, grounder, _ = grounded_toolbox(tiny_model, 0.5)
    image = photo("coffee").resize((90, 60))
    scores = grounder.scores(image, "the cup")
    grounder.config = grounder.config.model_copy(update={"threshold": float(np.quantile(scores, 0.8))})
    result = toolbox.run("remove_object", image, {"target": "the cup"}, EditContext(seed=0))
    assert result.metadata["grounded"] and result.metadata["pipeline"] == "FluxKontextInpaintPipeline"
    region = np.asarray(result.mask) > 0
    changed = np.any(np.asarray(result.image) != np.asarray(image), axis=-1)
    assert changed.any() and not changed[~region].any()


def test_nothing_found_asks_for_a_mask(tiny_model):
    toolbox, _, _ = grounded_toolbox(tiny_model, 0.999)
    with pytest.raises(NeedsMask, match="could not find the cup"):
        toolbox.run("remove_object", photo("coffee").resize((90, 60)), {"target": "the cup"})


def test_grounding_dino_and_sam_mask_the_found_boxes_and_bound_the_edit(tiny_model):
    config = ModelsConfig.model_validate({
        "device": "cpu",
        "edit": {"k": {"kind": "flux_kontext", "path": str(tiny_model("flux_kontext")),
                       "steps": 2, "resolution": 64}},
        "grounding": {"kind": "grounding_dino_sam", "path": str(tiny_model("grounding_dino")),
                      "sam_path": str(tiny_model("sam")), "threshold": 0.01,
                      "text_threshold": 0.01}})
    manager = ModelManager.from_config(config)
    grounder = build_grounder(config.grounding, manager)
    image = photo("coffee").resize((90, 60))
    boxes = grounder.boxes(image, "The cup")
    assert boxes and all(0 <= x0 <= x1 <= 90 and 0 <= y0 <= y1 <= 60 for x0, y0, x1, y1 in boxes)
    mask = grounder.mask(image, "the cup")
    assert mask.size == image.size and mask.getbbox() is not None

    toolbox = Toolbox(build_diffusion_backends(config, manager, grounder))
    result = toolbox.run("replace_object", image, {"target": "the cup", "replacement": "a bowl"},
                         EditContext(seed=0))
    assert result.metadata["grounded"]
    region = np.asarray(result.mask) > 0
    changed = np.any(np.asarray(result.image) != np.asarray(image), axis=-1)
    assert not changed[~region].any()
    info = toolbox.backends[0].describe()
    roles = [m["detail"].split(":")[0] for m in info["models"]]
    assert "grounding (Grounding DINO)" in roles and "grounding (SAM)" in roles


def test_grounding_dino_needs_a_sam_model():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="needs sam_path"):
        ModelsConfig.model_validate({"grounding": {"kind": "grounding_dino_sam", "path": "/m/gd"}})

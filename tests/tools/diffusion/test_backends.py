"""Every edit backend diffusers offers here, end to end on its tiny model: configuration ->
model manager -> Toolbox.run -> a committed version."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from storage import Operation, Store
from tests.conftest import photo
from tools.diffusion import build_diffusion_backends
from tools.models_config import ModelsConfig
from tools.registry import EditContext, Toolbox

# Small images keep the tiny models fast; an odd size proves the exact-grid mapping.
SIZE = (101, 67)

CASES = [
    # kind, operation, args, references
    ("flux_kontext", "replace_object", {"target": "the cup", "replacement": "a red apple"}, 0),
    ("qwen_image_edit", "relight", {"description": "warm light from the left"}, 0),
    ("qwen_image_edit_plus", "try_on", {"garment_reference": "reference 1", "target": "the woman"}, 1),
    ("instruct_pix2pix", "style_transfer", {"style": "watercolour"}, 0),
    ("flux2_klein", "replace_background", {"description": "the scene in reference 1",
                                           "reference": "reference 1"}, 1),
    ("flux2", "edit", {"instruction": "put the cup from reference 1 on the table in reference 2",
                       "references": ["reference 1", "reference 2"]}, 2),
    ("longcat_image_edit", "edit_text", {"new_text": "OPEN", "old_text": "CLOSED",
                                         "where": "the shop sign"}, 0),
]


def config_for(name: str, kind: str, folder, **extra) -> ModelsConfig:
    return ModelsConfig.model_validate({
        "device": "cpu",
        "edit": {name: {"kind": kind, "path": str(folder), "steps": 2, "resolution": 64, **extra}},
    })


def small_photo(name: str = "astronaut") -> Image.Image:
    return photo(name).resize(SIZE)


@pytest.mark.parametrize("kind,operation,args,references", CASES, ids=[c[0] for c in CASES])
def test_backend_runs_an_operation_end_to_end_and_commits(tmp_path, tiny_model, kind, operation,
                                                          args, references):
    config = config_for("model", kind, tiny_model(kind))
    backends = build_diffusion_backends(config)
    toolbox = Toolbox(backends)
    image = small_photo()
    progress = []
    ctx = EditContext(references=[photo("coffee").resize((80, 60))] * references, seed=7,
                      progress=lambda fraction, message: progress.append((fraction, message)))

    result = toolbox.run(operation, image, args, ctx)

    assert result.backend == "model"
    assert result.image.size == image.size  # mapped back onto the input's exact grid
    assert result.seed == 7 and result.steps == 2
    assert result.metadata["instruction"]
    w, h = result.metadata["working_size"]
    assert w % 8 == 0 and h % 8 == 0 and abs(w / h - SIZE[0] / SIZE[1]) < 0.25
    if backends[0].step_progress:
        assert any("step 2/2" in message for _, message in progress), progress
    assert progress[-1] == (1.0, "model: done")

    store = Store(tmp_path / "data")
    try:
        history = store.session("diffusion")
        history.import_image(image)
        version = history.commit(result.image, Operation(
            tool=operation, args=args, backend=result.backend, model_id=result.model_id,
            seed=result.seed, steps=result.steps, instruction=result.metadata["instruction"]))
        assert history.head().id == version.id
        assert history.image(version.id).size == image.size
    finally:
        store.close()


def test_same_seed_gives_the_same_edit_and_the_pipeline_stays_resident(tiny_model):
    config = config_for("kontext", "flux_kontext", tiny_model("flux_kontext"))
    backends = build_diffusion_backends(config)
    toolbox = Toolbox(backends)
    image = small_photo()
    first = toolbox.run("relight", image, {"description": "golden hour"}, EditContext(seed=3))
    second = toolbox.run("relight", image, {"description": "golden hour"}, EditContext(seed=3))
    assert np.array_equal(np.asarray(first.image), np.asarray(second.image))
    assert backends[0].manager.resident() == ["kontext"]


@pytest.mark.parametrize("kind", ["flux_kontext", "qwen_image_edit"])
def test_a_mask_runs_the_inpaint_pipeline_and_only_the_mask_changes(tiny_model, kind):
    config = config_for("model", kind, tiny_model(kind))
    toolbox = Toolbox(build_diffusion_backends(config))
    image = small_photo()
    mask = Image.new("L", image.size, 0)
    mask.paste(255, (20, 10, 60, 40))
    result = toolbox.run("remove_object", image, {"target": "the cup", "mask": "mask"},
                         EditContext(mask=mask, seed=1))
    assert result.metadata["pipeline"].endswith("InpaintPipeline")
    before, after = np.asarray(image), np.asarray(result.image)
    changed = np.any(before != after, axis=-1)
    assert changed[10:40, 20:60].any()
    assert not changed[:, 80:].any() and not changed[55:, :].any()  # outside: bit-identical


def test_per_operation_override_routes_to_the_named_model(tiny_model):
    config = ModelsConfig.model_validate({
        "device": "cpu", "default": "kontext", "operations": {"relight": "pix2pix"},
        "edit": {"kontext": {"kind": "flux_kontext", "path": str(tiny_model("flux_kontext")),
                             "steps": 2, "resolution": 64},
                 "pix2pix": {"kind": "instruct_pix2pix", "path": str(tiny_model("instruct_pix2pix")),
                             "steps": 2, "resolution": 64}}})
    toolbox = Toolbox(build_diffusion_backends(config))
    assert [b.name for b in toolbox.backends_for("relight")] == ["pix2pix"]
    assert toolbox.backends_for("remove_object")[0].name == "kontext"
    result = toolbox.run("relight", small_photo(), {"description": "night"}, EditContext(seed=0))
    assert result.backend == "pix2pix"
    assert result.metadata["instruction"] == "make the lighting night"


def test_single_image_model_refuses_references_clearly(tiny_model):
    from tools.errors import Unsupported

    config = config_for("kontext", "flux_kontext", tiny_model("flux_kontext"))
    toolbox = Toolbox(build_diffusion_backends(config))
    assert not toolbox.backends_for("try_on")
    with pytest.raises(Unsupported, match="cannot use attached references"):
        toolbox.run("style_transfer", small_photo(), {"style": "like it", "reference": "reference 1"},
                    EditContext(references=[small_photo("coffee")]))


def test_lora_is_loaded_with_its_weight_and_changes_the_output(tmp_path, tiny_model):
    import torch
    from peft import LoraConfig, get_peft_model_state_dict
    from diffusers import FluxKontextPipeline

    folder = tiny_model("flux_kontext")
    pipeline = FluxKontextPipeline.from_pretrained(folder)
    torch.manual_seed(1)
    pipeline.transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights="gaussian",
                                                target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    for name, parameter in pipeline.transformer.named_parameters():
        if "lora_B" in name:  # peft starts B at zero (a no-op LoRA); make it do something
            torch.nn.init.normal_(parameter, std=0.5)
    FluxKontextPipeline.save_lora_weights(
        tmp_path / "lora", transformer_lora_layers=get_peft_model_state_dict(pipeline.transformer),
        weight_name="style.safetensors")

    image = small_photo()
    plain = Toolbox(build_diffusion_backends(config_for("m", "flux_kontext", folder)))
    with_lora = Toolbox(build_diffusion_backends(config_for(
        "m", "flux_kontext", folder, loras=[{"path": str(tmp_path / "lora" / "style.safetensors"),
                                             "weight": 2.0}])))
    args = {"description": "golden hour"}
    a = plain.run("relight", image, args, EditContext(seed=5))
    b = with_lora.run("relight", image, args, EditContext(seed=5))
    assert b.metadata["loras"] == [{"path": str(tmp_path / "lora" / "style.safetensors"), "weight": 2.0}]
    assert not np.array_equal(np.asarray(a.image), np.asarray(b.image))

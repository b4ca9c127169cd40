"""The model manager and loader: where weights are looked for, what is refused, residency
within a budget, the one-job queue, and out-of-memory that leaves history untouched."""

from __future__ import annotations

import json
import shutil
import threading
import time

import pytest
import torch
from pydantic import ValidationError

from storage import Store
from tests.conftest import photo
from tools.diffusion import build_diffusion_backends
from tools.errors import ToolError
from tools.models import ModelManager, ModelNotFound, OutOfMemory, UnsafeCheckpoint, locate
from tools.models.job_queue import JobQueue
from tools.models_config import ModelsConfig
from tools.registry import EditContext, Toolbox


def config(edit: dict, **extra) -> ModelsConfig:
    return ModelsConfig.model_validate({"device": "cpu", "edit": edit, **extra})


def kontext(folder, **extra) -> dict:
    return {"kind": "flux_kontext", "path": str(folder), "steps": 2, "resolution": 64, **extra}


def test_missing_folder_fails_with_the_exact_path(tmp_path):
    missing = tmp_path / "nowhere" / "FLUX.1-Kontext-dev"
    toolbox = Toolbox(build_diffusion_backends(config({"k": kontext(missing)})))
    with pytest.raises(ModelNotFound, match=str(missing)):
        toolbox.run("relight", photo().resize((64, 48)), {"description": "warm"})


def test_hub_id_is_looked_up_in_the_local_cache_only(tmp_path, tiny_model):
    cache = tmp_path / "hub"
    cfg = config({"k": kontext("black-forest-labs/FLUX.1-Kontext-dev")}, hf_cache=str(cache))
    backend = build_diffusion_backends(cfg)[0]
    expected = cache / "models--black-forest-labs--FLUX.1-Kontext-dev"
    info = backend.describe()
    assert info["available"] is False
    assert info["models"][0]["path"] == str(expected) and not info["models"][0]["found"]
    with pytest.raises(ModelNotFound, match="hf download black-forest-labs/FLUX.1-Kontext-dev"):
        Toolbox([backend]).run("relight", photo().resize((64, 48)), {"description": "warm"})

    # The same id once it is in the cache (the layout huggingface_hub writes) loads from there.
    snapshot = expected / "snapshots" / "abc123"
    shutil.copytree(tiny_model("flux_kontext"), snapshot)
    (expected / "refs").mkdir()
    (expected / "refs" / "main").write_text("abc123")
    assert locate("black-forest-labs/FLUX.1-Kontext-dev", cache).path == snapshot
    result = Toolbox([backend]).run("relight", photo().resize((64, 48)), {"description": "warm"},
                                    EditContext(seed=0))
    assert result.image.size == (64, 48)


@pytest.mark.parametrize("entry,message", [
    ({"trust_remote_code": True}, "never runs code shipped with a model"),
    ({"path": "/models/kontext.ckpt"}, "pickle checkpoint"),
    ({"loras": [{"path": "/loras/style.bin"}]}, "pickle checkpoint"),
])
def test_config_asking_for_remote_code_or_pickle_is_refused(entry, message):
    with pytest.raises(ValidationError, match=message):
        config({"k": {**kontext("/models/k"), **entry}})


def test_folder_with_only_pickle_weights_or_custom_code_is_refused(tmp_path, tiny_model):
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_model("flux_kontext"), pickled)
    for weights in (pickled / "transformer").glob("*.safetensors"):
        weights.rename(weights.with_name("diffusion_pytorch_model.bin"))
    toolbox = Toolbox(build_diffusion_backends(config({"k": kontext(pickled)})))
    with pytest.raises(UnsafeCheckpoint, match="pickle"):
        toolbox.run("relight", photo().resize((64, 48)), {"description": "warm"})

    custom = tmp_path / "custom"
    shutil.copytree(tiny_model("flux_kontext"), custom)
    index = json.loads((custom / "model_index.json").read_text())
    index["transformer"] = ["my_package.models", "FancyTransformer"]
    (custom / "model_index.json").write_text(json.dumps(index))
    toolbox = Toolbox(build_diffusion_backends(config({"k": kontext(custom)})))
    with pytest.raises(UnsafeCheckpoint, match="never runs code"):
        toolbox.run("relight", photo().resize((64, 48)), {"description": "warm"})


def test_wrong_pipeline_in_folder_is_named(tiny_model):
    toolbox = Toolbox(build_diffusion_backends(config(
        {"q": {"kind": "qwen_image_edit", "path": str(tiny_model("flux_kontext")), "steps": 2}})))
    with pytest.raises(ToolError, match="holds a FluxKontextPipeline pipeline; expected QwenImageEditPipeline"):
        toolbox.run("relight", photo().resize((64, 48)), {"description": "warm"})


def test_out_of_memory_fails_clearly_and_leaves_history_untouched(tmp_path, tiny_model):
    toolbox = Toolbox(build_diffusion_backends(config({"k": kontext(tiny_model("flux_kontext"))})))
    store = Store(tmp_path / "data")
    try:
        history = store.session("oom")
        history.import_image(photo().resize((64, 48)))
        before = [v.id for v in history.log()]
        head = history.head()

        def out_of_memory(fraction, message):  # raised from inside the pipeline's step loop
            if "step 1/" in message:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

        with pytest.raises(OutOfMemory, match="ran out of memory running k; the step was not applied"):
            toolbox.run("relight", history.image(head.id), {"description": "warm"},
                        EditContext(seed=0, progress=out_of_memory))
        assert [v.id for v in history.log()] == before
        assert history.head().id == head.id
    finally:
        store.close()


def test_out_of_memory_retries_once_after_evicting_other_models(tiny_model):
    manager = ModelManager(device="cpu")
    cfg = config({"k": kontext(tiny_model("flux_kontext")),
                  "p": {"kind": "instruct_pix2pix", "path": str(tiny_model("instruct_pix2pix")),
                        "steps": 2, "resolution": 64}}, default="k")
    kontext_backend, pix2pix_backend = build_diffusion_backends(cfg, manager)
    image = photo().resize((64, 48))
    Toolbox([pix2pix_backend]).run("relight", image, {"description": "night"}, EditContext(seed=0))
    assert manager.resident() == ["p"]
    failures = []

    def fails_once(fraction, message):
        if "step 1/" in message and not failures:
            failures.append(message)
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    result = Toolbox([kontext_backend]).run("relight", image, {"description": "warm"},
                                            EditContext(seed=0, progress=fails_once))
    assert failures and result.image.size == image.size
    assert manager.resident() == ["k"]  # the other model was freed to make room


def test_least_recently_used_pipeline_is_evicted_beyond_the_budget(tiny_model):
    cfg = config({"k": kontext(tiny_model("flux_kontext")),
                  "p": {"kind": "instruct_pix2pix", "path": str(tiny_model("instruct_pix2pix")),
                        "steps": 2, "resolution": 64}}, default="k")
    roomy = ModelManager(device="cpu", memory_budget_gb=1.0)
    tight = ModelManager(device="cpu", memory_budget_gb=1e-6)
    image = photo().resize((64, 48))
    for manager, expected in ((roomy, ["k", "p"]), (tight, ["p"])):
        k, p = build_diffusion_backends(cfg, manager)
        Toolbox([k]).run("relight", image, {"description": "warm"}, EditContext(seed=0))
        Toolbox([p]).run("relight", image, {"description": "warm"}, EditContext(seed=0))
        assert manager.resident() == expected


def test_job_queue_serves_one_job_at_a_time_in_order():
    queue = JobQueue()
    running, order, waits = [], [], []
    first_in = threading.Event()

    def job(name):
        with queue.turn(on_wait=lambda ahead: waits.append((name, ahead))):
            running.append(name)
            first_in.set()
            assert len(running) == 1  # nobody else holds the GPU
            time.sleep(0.05)
            order.append(name)
            running.remove(name)

    first = threading.Thread(target=job, args=("a",))
    first.start()
    first_in.wait()
    second = threading.Thread(target=job, args=("b",))
    second.start()
    first.join()
    second.join()
    assert order == ["a", "b"] and waits == [("b", 1)]


def test_device_and_dtype_follow_the_configuration():
    manager = ModelManager(device="cpu")
    assert manager.describe()["device"] == "cpu" and manager.dtype == torch.float32
    assert ModelManager(device="cpu", dtype="bfloat16").dtype == torch.bfloat16
    with pytest.raises(ValidationError):
        ModelsConfig.model_validate({"device": "gpu0"})
    with pytest.raises(ValidationError, match="models.default is 'nope'"):
        ModelsConfig.model_validate({"default": "nope"})


def test_per_operation_overrides_are_checked(tiny_model):
    folder = str(tiny_model("flux_kontext"))
    with pytest.raises(ToolError, match="unknown operation 'relite'"):
        build_diffusion_backends(config({"k": kontext(folder)}, operations={"relite": "k"}))
    with pytest.raises(ToolError, match="FLUX.1 Kontext cannot do try_on"):
        build_diffusion_backends(config({"k": kontext(folder)}, operations={"try_on": "k"}))

"""The diffusion path on a real CUDA GPU, end to end through retouch's own code: configuration
(device = "cuda", dtype auto = bf16) -> model manager (placement, speedups, residency,
out-of-memory handling, CPU offload) -> backend -> Toolbox.run -> a committed version.

Uses the tiny random-weight models of tiny_models.py, so it needs a GPU but no weights.
Skipped where torch sees no CUDA device (CI runs on CPUs); run it on a GPU machine with
`python -m pytest tests/tools/diffusion/test_cuda.py -q -s` (-s shows the timings).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from PIL import Image

from agent.apply import apply_operation
from storage import Store
from tests.conftest import photo
from tests.tools.diffusion.test_backends import CASES, SIZE
from tools.compositing import FEATHER, GROW
from tools.diffusion import build_diffusion_backends
from tools.errors import ToolError
from tools.masks import feather, grow
from tools.models import OutOfMemory
from tools.models.speedups import denoiser
from tools.models_config import ModelsConfig
from tools.registry import Toolbox

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA GPU (torch.cuda.is_available() is False)")

# Far beyond any GPU's memory (10 TB): a real allocation failure, not a simulated one.
IMPOSSIBLE_BYTES = 10**13


def cuda_toolbox(kind: str, folder, **models) -> Toolbox:
    config = ModelsConfig.model_validate({
        "device": "cuda", **models,
        "edit": {"model": {"kind": kind, "path": str(folder), "steps": 2, "resolution": 64}}})
    return Toolbox(build_diffusion_backends(config))


def placement(toolbox: Toolbox, variant: str | None = None) -> dict:
    """Where the resident pipeline's weights are, asked through the manager's own queue."""
    backend = toolbox.backends[0]

    def describe(pipeline) -> dict:
        modules = [c for c in pipeline.components.values() if isinstance(c, torch.nn.Module)]
        return {"pipeline": pipeline,
                "devices": {p.device.type for m in modules for p in m.parameters()},
                "denoiser_dtype": next(denoiser(pipeline).parameters()).dtype}

    return backend.manager.run(backend.spec(), describe, variant=variant)


@pytest.fixture
def history(tmp_path):
    store = Store(tmp_path / "data")
    session = store.session("cuda")
    session.import_image(photo("astronaut").resize(SIZE))
    yield session
    store.close()


def timed_apply(history, toolbox, operation, args, **kwargs):
    messages = []
    start = time.perf_counter()
    version = apply_operation(history, toolbox, operation, args, seed=7,
                              progress=lambda fraction, message: messages.append(message), **kwargs)
    torch.cuda.synchronize()
    return version, time.perf_counter() - start, messages


@needs_cuda
@pytest.mark.parametrize("kind,operation,args,references", CASES, ids=[c[0] for c in CASES])
def test_backend_edits_on_cuda_in_bf16_and_stays_resident(tiny_model, history, kind, operation,
                                                          args, references):
    toolbox = cuda_toolbox(kind, tiny_model(kind))
    manager = toolbox.backends[0].manager
    assert (manager.device, manager.dtype) == ("cuda", torch.bfloat16)
    refs = [photo("coffee").resize((80, 60))] * references
    start_id = history.head().id

    first, first_s, first_messages = timed_apply(history, toolbox, operation, args, references=refs)
    loaded = placement(toolbox)
    second, second_s, second_messages = timed_apply(history, toolbox, operation, args,
                                                    references=refs, parent_id=start_id,
                                                    move_head=False)  # same input again

    for version in (first, second):
        assert history.image(version.id).size == SIZE  # the input's exact grid
        assert version.backend == "model" and version.tool == operation
    assert history.head().id == first.id and second.parent_id == start_id
    assert loaded["devices"] == {"cuda"}
    assert loaded["denoiser_dtype"] == torch.bfloat16
    assert manager.describe()["dtype"] == "bfloat16"
    # The second edit reuses the resident pipeline: no "loading" and the very same object.
    assert any("loading and editing" in m for m in first_messages), first_messages
    assert not any("loading" in m for m in second_messages), second_messages
    assert placement(toolbox)["pipeline"] is loaded["pipeline"]
    assert manager.resident() == ["model"]
    same = np.array_equal(np.asarray(history.image(first.id)), np.asarray(history.image(second.id)))
    print(f"\nCUDA {kind}: first edit (load + run) {first_s:.2f} s, second (resident) "
          f"{second_s:.3f} s, same seed same pixels: {same}")


@needs_cuda
@pytest.mark.parametrize("kind", ["flux_kontext", "qwen_image_edit"])
def test_masked_edit_on_cuda_changes_only_the_mask(tiny_model, history, kind):
    toolbox = cuda_toolbox(kind, tiny_model(kind))
    before = history.image(history.head().id)
    mask = Image.new("L", SIZE, 0)
    mask.paste(255, (20, 10, 60, 40))

    version, seconds, _ = timed_apply(history, toolbox, "remove_object", {"target": "the cup"},
                                      mask=mask)

    variant = toolbox.backends[0].inpaint_class
    inpaint = placement(toolbox, variant=variant)
    assert type(inpaint["pipeline"]).__name__ == variant
    assert inpaint["devices"] == {"cuda"} and inpaint["denoiser_dtype"] == torch.bfloat16
    after = history.image(version.id)
    assert after.size == SIZE
    changed = np.any(np.asarray(before) != np.asarray(after), axis=-1)
    assert changed[10:40, 20:60].any()
    # Bit-identical outside the mask and the seam compositing feathers outward from it.
    seam = feather(grow(np.asarray(mask), GROW), FEATHER)
    assert not changed[seam == 0].any()
    print(f"\nCUDA {kind} masked ({variant}): {seconds:.2f} s")


@needs_cuda
def test_out_of_memory_on_cuda_is_a_clear_error_and_the_history_is_untouched(tiny_model, history):
    toolbox = cuda_toolbox("flux_kontext", tiny_model("flux_kontext"))
    before = [v.id for v in history.log()]
    head = history.head().id
    attempts = []

    def allocate_too_much(fraction, message):
        # Called back from inside the pipeline after each denoising step: the step's
        # allocation fails as a real one would on a picture too large for the GPU.
        if "step" in message:
            attempts.append(message)
            torch.empty(IMPOSSIBLE_BYTES, dtype=torch.uint8, device="cuda")

    with pytest.raises(OutOfMemory) as caught:
        apply_operation(history, toolbox, "relight", {"description": "golden hour"}, seed=1,
                        progress=allocate_too_much)

    error = caught.value
    assert isinstance(error, ToolError)
    message = str(error)
    assert "\n" not in message
    assert "out of memory" in message and "history is unchanged" in message
    assert len(attempts) == 2  # tried once as loaded, once more with CPU offload
    assert history.head().id == head
    assert [v.id for v in history.log()] == before
    # The failed attempts left nothing behind: the next edit runs and commits.
    version = apply_operation(history, toolbox, "relight", {"description": "golden hour"}, seed=1)
    assert history.head().id == version.id and history.image(version.id).size == SIZE


@needs_cuda
def test_cpu_offload_configuration_runs_on_cuda(tiny_model, history):
    toolbox = cuda_toolbox("flux_kontext", tiny_model("flux_kontext"), offload="model")
    version, seconds, _ = timed_apply(history, toolbox, "relight", {"description": "golden hour"})
    assert history.image(version.id).size == SIZE
    # Between calls the offloaded weights wait in host memory, in bf16.
    parked = placement(toolbox)
    assert parked["devices"] == {"cpu"} and parked["denoiser_dtype"] == torch.bfloat16
    print(f"\nCUDA flux_kontext with model CPU offload: {seconds:.2f} s")


def test_inpaint_variant_keeps_the_configured_dtype_on_any_device(tiny_model, history):
    """Runs everywhere: the masked path must not cast the shared weights to float32 (diffusers'
    from_pipe does unless told the dtype), which on a GPU doubles the model's memory."""
    config = ModelsConfig.model_validate({
        "device": "cpu", "dtype": "bfloat16",
        "edit": {"model": {"kind": "flux_kontext", "path": str(tiny_model("flux_kontext")),
                           "steps": 2, "resolution": 64}}})
    toolbox = Toolbox(build_diffusion_backends(config))
    mask = Image.new("L", SIZE, 0)
    mask.paste(255, (20, 10, 60, 40))
    apply_operation(history, toolbox, "remove_object", {"target": "the cup"}, mask=mask, seed=1)
    inpaint = placement(toolbox, variant="FluxKontextInpaintPipeline")
    assert inpaint["denoiser_dtype"] == torch.bfloat16
    assert placement(toolbox)["denoiser_dtype"] == torch.bfloat16  # the shared weights too

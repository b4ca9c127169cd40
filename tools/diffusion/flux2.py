"""FLUX.2 [dev]: Black Forest Labs' 32 B edit-and-generate model, with up to ten reference
images (the edited one first) and a Mistral text encoder.

Recommended use: 50 steps at guidance 4 (its guidance is distilled: one pass per step),
about one megapixel in multiples of 16, each image at least 64 px a side. Its
`tokenizer` component is a PixtralProcessor, whose class needs torchvision; edits
send it text only, so where torchvision is absent retouch loads the plain tokenizer
(with the same chat template) from the same folder instead. `retouch models` says which.
"""

from __future__ import annotations

from pathlib import Path

from tools.diffusion.base import ALL_OPERATIONS, DiffusionBackend, EditCall
from tools.diffusion.instructions import Phrasing
from tools.diffusion.qwen_processor import torchvision_works


def text_only_tokenizer(folder: Path) -> dict:
    """{} (the stock PixtralProcessor loads) or {'tokenizer': plain tokenizer} to attach."""
    if torchvision_works():
        return {}
    from transformers import AutoTokenizer

    return {"tokenizer": AutoTokenizer.from_pretrained(folder / "tokenizer", local_files_only=True)}


class Flux2Backend(DiffusionBackend):
    kind = "flux2"
    title = "FLUX.2 [dev]"
    pipeline_class = "Flux2Pipeline"
    default_steps = 50
    default_guidance = 4.0
    default_resolution = 1024
    multiple = 16
    min_side = 64
    max_references = 9
    capable = ALL_OPERATIONS
    phrasing = Phrasing(image_word="image")

    attach_components = staticmethod(text_only_tokenizer)

    def pipeline_kwargs(self, call: EditCall, inpaint: bool) -> dict:
        width, height = call.size
        return dict(prompt=call.prompt, image=[call.image, *call.references], width=width,
                    height=height, num_inference_steps=call.steps, guidance_scale=call.guidance,
                    generator=call.generator, callback_on_step_end=call.callback)

    def describe_extra(self) -> str:
        if torchvision_works():
            return "text input: stock PixtralProcessor (torchvision present)"
        return "text input: plain tokenizer from the PixtralProcessor folder (torchvision not importable)"

"""LongCat-Image-Edit (Meituan): one image, bilingual instructions, strong at keeping
what it is not told to change.

Recommended use: 50 steps, guidance 4.5. The pipeline picks its own working size (about
one megapixel, the input's aspect ratio rounded up to multiples of 16) and reports no
per-step progress; its output is mapped back onto the input's grid like every other.
"""

from __future__ import annotations

from functools import partial

from tools.diffusion.base import DiffusionBackend, EditCall
from tools.diffusion.qwen_processor import pipeline_processor, processor_choice


class LongCatImageEditBackend(DiffusionBackend):
    kind = "longcat_image_edit"
    title = "LongCat-Image-Edit"
    pipeline_class = "LongCatImageEditPipeline"
    default_steps = 50
    default_guidance = 4.5
    default_resolution = 1024  # fixed by the pipeline
    multiple = 16
    step_progress = False

    extra_components = staticmethod(partial(pipeline_processor, component="text_processor"))

    def pipeline_kwargs(self, call: EditCall, inpaint: bool) -> dict:
        return dict(prompt=call.prompt, negative_prompt="", image=call.image,
                    num_inference_steps=call.steps, guidance_scale=call.guidance,
                    generator=call.generator)

    def describe_extra(self) -> str:
        return processor_choice() + "; working size fixed by the pipeline (~1 MP), no per-step progress"

"""Qwen-Image-Edit and Qwen-Image-Edit-2509 (several images: try-on, subject into scene,
style or background from a reference).

Recommended use (Qwen): 50 steps with true classifier-free guidance 4.0 and an empty
negative prompt, about one megapixel in multiples of 16 (the pipelines condition on
the input at about 1 MP, and the 2509 "Plus" pipeline also at 384x384 for its
vision encoder). 2509 takes the edited image plus up to two more, named "Picture 1",
"Picture 2", ... in the instruction. With a mask and no references, the same weights
run as QwenImageEditInpaintPipeline.
"""

from __future__ import annotations

from tools.diffusion.base import ALL_OPERATIONS, DiffusionBackend, EditCall
from tools.diffusion.instructions import Phrasing
from tools.diffusion.qwen_processor import pipeline_processor, processor_choice

NEGATIVE_PROMPT = " "  # true CFG switches on only with a negative prompt


class QwenImageEditBackend(DiffusionBackend):
    kind = "qwen_image_edit"
    title = "Qwen-Image-Edit"
    pipeline_class = "QwenImageEditPipeline"
    inpaint_class = "QwenImageEditInpaintPipeline"
    accepted_classes = ("QwenImageEditPipeline", "QwenImageEditInpaintPipeline")
    default_steps = 50
    default_guidance = 4.0
    default_resolution = 1024
    multiple = 16
    phrasing = Phrasing(image_word="Picture")

    extra_components = staticmethod(pipeline_processor)

    def pipeline_kwargs(self, call: EditCall, inpaint: bool) -> dict:
        width, height = call.size
        kwargs = dict(prompt=call.prompt, negative_prompt=NEGATIVE_PROMPT, image=self.images(call),
                      width=width, height=height, num_inference_steps=call.steps,
                      true_cfg_scale=call.guidance, generator=call.generator,
                      callback_on_step_end=call.callback)
        if inpaint:
            kwargs.update(mask_image=call.mask, strength=1.0)
        return kwargs

    def images(self, call: EditCall):
        return call.image

    def describe_extra(self) -> str:
        return processor_choice()


class QwenImageEditPlusBackend(QwenImageEditBackend):
    kind = "qwen_image_edit_plus"
    title = "Qwen-Image-Edit-2509"
    pipeline_class = "QwenImageEditPlusPipeline"
    accepted_classes = ("QwenImageEditPlusPipeline",)
    max_references = 2
    capable = ALL_OPERATIONS

    def images(self, call: EditCall):
        return [call.image, *call.references] if call.references else call.image

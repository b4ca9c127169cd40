"""InstructPix2Pix: the small edit model (about 1 B parameters) that fits any GPU and runs on CPU.

Recommended use (timbrooks/instruct-pix2pix): an Euler-ancestral scheduler, 20 steps,
text guidance 7.5 and image guidance 1.5 (higher keeps more of the input), terse
imperatives ("make it winter"), 512 px in multiples of 8.
"""

from __future__ import annotations

from tools.diffusion.base import DiffusionBackend, EditCall
from tools.diffusion.instructions import Phrasing

IMAGE_GUIDANCE = 1.5


class InstructPix2PixBackend(DiffusionBackend):
    kind = "instruct_pix2pix"
    title = "InstructPix2Pix"
    pipeline_class = "StableDiffusionInstructPix2PixPipeline"
    default_steps = 20
    default_guidance = 7.5
    default_resolution = 512
    multiple = 8
    phrasing = Phrasing(terse=True)

    def pipeline_kwargs(self, call: EditCall, inpaint: bool) -> dict:
        return dict(prompt=call.prompt, image=call.image, num_inference_steps=call.steps,
                    guidance_scale=call.guidance, image_guidance_scale=IMAGE_GUIDANCE,
                    generator=call.generator, callback_on_step_end=call.callback)

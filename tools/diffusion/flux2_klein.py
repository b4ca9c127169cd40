"""FLUX.2 [klein]: a compact FLUX.2 that edits with up to four images (the edited one first).

Recommended use (Black Forest Labs): the distilled checkpoints take 4 steps with no
guidance; the base checkpoints 50 steps at guidance 4 (set `steps` and `guidance` in
retouch.toml for those). About one megapixel in multiples of 16; every image at
least 64 px a side.
"""

from __future__ import annotations

from tools.diffusion.base import ALL_OPERATIONS, DiffusionBackend, EditCall
from tools.diffusion.instructions import Phrasing


class Flux2KleinBackend(DiffusionBackend):
    kind = "flux2_klein"
    title = "FLUX.2 [klein]"
    pipeline_class = "Flux2KleinPipeline"
    default_steps = 4
    default_guidance = 1.0
    default_resolution = 1024
    multiple = 16
    min_side = 64
    max_references = 3
    capable = ALL_OPERATIONS
    phrasing = Phrasing(image_word="image")

    def pipeline_kwargs(self, call: EditCall, inpaint: bool) -> dict:
        width, height = call.size
        images = [call.image, *call.references]
        return dict(prompt=call.prompt, image=images if len(images) > 1 else call.image,
                    width=width, height=height, num_inference_steps=call.steps,
                    guidance_scale=call.guidance, generator=call.generator,
                    callback_on_step_end=call.callback)

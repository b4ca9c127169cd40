"""FLUX.1 Kontext: one image in, one instruction, an edit that keeps what it is not told to change.

Recommended use (Black Forest Labs): 28 steps, guidance 2.5, about one megapixel in
multiples of 16. The pipeline would snap the input to its preset resolutions
(cropping and zooming); retouch passes its own aspect-true size instead, with
`_auto_resize=False`. With a mask, the same weights run as FluxKontextInpaintPipeline
so only the masked region is regenerated.
"""

from __future__ import annotations

from tools.diffusion.base import DiffusionBackend, EditCall


class FluxKontextBackend(DiffusionBackend):
    kind = "flux_kontext"
    title = "FLUX.1 Kontext"
    pipeline_class = "FluxKontextPipeline"
    inpaint_class = "FluxKontextInpaintPipeline"
    accepted_classes = ("FluxKontextPipeline", "FluxKontextInpaintPipeline")
    default_steps = 28
    default_guidance = 2.5
    default_resolution = 1024
    multiple = 16

    def pipeline_kwargs(self, call: EditCall, inpaint: bool) -> dict:
        width, height = call.size
        kwargs = dict(
            prompt=call.prompt, image=call.image, width=width, height=height,
            max_area=width * height, _auto_resize=False, num_inference_steps=call.steps,
            guidance_scale=call.guidance, generator=call.generator,
            callback_on_step_end=call.callback)
        if inpaint:
            kwargs.update(mask_image=call.mask, strength=1.0)
        return kwargs

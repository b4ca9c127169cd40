"""CLIPSeg grounding: text -> soft mask -> the region an edit may change.

CLIPSeg scores every pixel of a 352x352 view against the phrase; the score map is
stretched back over the image, thresholded, and grown a little so an object's
outline and shadow fall inside the region a removal regenerates.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from tools.grounding.regions import grow_mask
from tools.models import ModelManager, loading, locate
from tools.models_config import GroundingConfig


class ClipSegGrounder:
    name = "clipseg"

    def __init__(self, config: GroundingConfig, manager: ModelManager):
        self.config = config
        self.manager = manager
        self._processor = None

    def _load(self):
        from transformers import CLIPSegForImageSegmentation, CLIPSegProcessor

        folder = loading.model_folder(self.config.path, self.manager.hf_cache, "grounding model")
        self._processor = CLIPSegProcessor.from_pretrained(folder, local_files_only=True)
        return CLIPSegForImageSegmentation.from_pretrained(
            folder, local_files_only=True, use_safetensors=True)

    def scores(self, image: Image.Image, text: str) -> np.ndarray:
        """Per-pixel probability (0..1) that the pixel shows `text`, at the image's size."""

        def job(model):
            inputs = self._processor(text=[text], images=[image.convert("RGB")],
                                     padding=True, return_tensors="pt")
            inputs = {k: v.to(self.manager.device) for k, v in inputs.items()}
            if "pixel_values" in inputs:
                inputs["pixel_values"] = inputs["pixel_values"].to(self.manager.dtype)
            logits = model(**inputs).logits.float()
            logits = logits.reshape(1, 1, *logits.shape[-2:])
            grid = torch.nn.functional.interpolate(
                logits, size=(image.height, image.width), mode="bilinear", align_corners=False)
            return torch.sigmoid(grid)[0, 0].cpu().numpy()

        return self.manager.run_module(f"grounding:{self.config.path}", self._load, job)

    def mask(self, image: Image.Image, text: str) -> Image.Image:
        """"L" mask, 255 where `text` is; all black when it is not found."""
        hits = self.scores(image, text) >= self.config.threshold
        return grow_mask(Image.fromarray(np.where(hits, 255, 0).astype(np.uint8), "L"))

    def describe_models(self) -> list[dict]:
        location = locate(self.config.path, self.manager.hf_cache)
        return [{"id": self.config.path, "path": str(location.path), "found": location.found,
                 "detail": f"grounding (CLIPSeg, threshold {self.config.threshold}): {location.detail}"}]

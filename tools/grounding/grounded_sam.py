"""Grounding DINO + SAM: words -> boxes -> exact object masks.

Grounding DINO finds boxes for a phrase ("the man on the left."); SAM turns each box
into a pixel-exact mask; their union, grown a little, is the region an edit may
change. Sharper than CLIPSeg on object outlines, at the cost of two models.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from tools.grounding.regions import grow_mask
from tools.models import ModelManager, loading, locate
from tools.models_config import GroundingConfig


def detection_phrase(text: str) -> str:
    """Grounding DINO wants lower-case phrases ending with a full stop."""
    phrase = text.strip().lower()
    return phrase if phrase.endswith(".") else phrase + "."


class GroundedSamGrounder:
    name = "grounding_dino_sam"

    def __init__(self, config: GroundingConfig, manager: ModelManager):
        self.config = config
        self.manager = manager
        self._detector_processor = None
        self._sam_processor = None

    def _load_detector(self):
        from transformers import GroundingDinoForObjectDetection, GroundingDinoProcessor

        folder = loading.model_folder(self.config.path, self.manager.hf_cache, "grounding model")
        self._detector_processor = GroundingDinoProcessor.from_pretrained(folder, local_files_only=True)
        return GroundingDinoForObjectDetection.from_pretrained(
            folder, local_files_only=True, use_safetensors=True)

    def _load_sam(self):
        from transformers import SamModel, SamProcessor

        folder = loading.model_folder(self.config.sam_path, self.manager.hf_cache, "SAM model")
        self._sam_processor = SamProcessor.from_pretrained(folder, local_files_only=True)
        return SamModel.from_pretrained(folder, local_files_only=True, use_safetensors=True)

    def boxes(self, image: Image.Image, text: str) -> list[list[float]]:
        """Boxes (x0, y0, x1, y1 in pixels) where `text` is, best first."""
        image = image.convert("RGB")

        def detect(model):
            processor = self._detector_processor
            inputs = processor(images=image, text=detection_phrase(text), return_tensors="pt")
            inputs = {k: v.to(self.manager.device) for k, v in inputs.items()}
            inputs["pixel_values"] = inputs["pixel_values"].to(self.manager.dtype)
            outputs = model(**inputs)
            found = processor.post_process_grounded_object_detection(
                outputs, inputs["input_ids"], threshold=self.config.threshold,
                text_threshold=self.config.text_threshold, target_sizes=[image.size[::-1]])[0]
            order = found["scores"].float().argsort(descending=True)
            return found["boxes"][order].float().cpu().tolist()

        return self.manager.run_module(f"grounding:{self.config.path}", self._load_detector, detect)

    def mask(self, image: Image.Image, text: str) -> Image.Image:
        """"L" mask, 255 on every object `text` names; all black when none is found."""
        image = image.convert("RGB")
        boxes = self.boxes(image, text)
        if not boxes:
            return Image.new("L", image.size, 0)

        def segment(model):
            processor = self._sam_processor
            inputs = processor(image, input_boxes=[boxes], return_tensors="pt")
            sizes = (inputs.pop("original_sizes"), inputs.pop("reshaped_input_sizes"))
            inputs = {k: v.to(self.manager.device) for k, v in inputs.items()}
            inputs["pixel_values"] = inputs["pixel_values"].to(self.manager.dtype)
            outputs = model(**inputs, multimask_output=False)
            masks = processor.image_processor.post_process_masks(
                outputs.pred_masks.float().cpu(), *sizes)[0]  # (boxes, 1, height, width)
            return masks.any(dim=0)[0].numpy()

        hits = self.manager.run_module(f"grounding:{self.config.sam_path}", self._load_sam, segment)
        return grow_mask(Image.fromarray(np.where(hits, 255, 0).astype(np.uint8), "L"))

    def describe_models(self) -> list[dict]:
        rows = []
        for source, role in ((self.config.path, "Grounding DINO"), (self.config.sam_path, "SAM")):
            location = locate(source, self.manager.hf_cache)
            rows.append({"id": source, "path": str(location.path), "found": location.found,
                         "detail": f"grounding ({role}): {location.detail}"})
        return rows

"""The Qwen2-VL processor the Qwen-Image-Edit pipelines feed their text encoder with.

In transformers 5 the stock `Qwen2VLProcessor` always builds a video processor, which
needs torchvision. Edits never send video, so where torchvision is absent (or does not
import beside the installed torch) retouch builds the same processor without its
video slot, from the same files; where torchvision works, the stock one is used.
`retouch models` shows which one is active.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def torchvision_works() -> bool:
    try:
        import torchvision  # noqa: F401
    except Exception:  # missing, or built for another torch
        return False
    return True


def processor_choice() -> str:
    if torchvision_works():
        return "processor: stock Qwen2VLProcessor (torchvision present)"
    return "processor: image-only Qwen2VLProcessor (torchvision not importable)"


def _image_only_class():
    from transformers import Qwen2VLProcessor
    from transformers.processing_utils import ProcessorMixin

    class ImageOnlyQwen2VLProcessor(Qwen2VLProcessor):
        """Qwen2VLProcessor with images and text only (its attributes follow __init__)."""

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            self.image_token = getattr(tokenizer, "image_token", "<|image_pad|>")
            self.video_token = getattr(tokenizer, "video_token", "<|video_pad|>")
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            self.video_processor = None
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    return ImageOnlyQwen2VLProcessor


def pipeline_processor(folder: Path, component: str = "processor") -> dict:
    """Components for from_pretrained: {} (stock processor) or an image-only one."""
    if torchvision_works():
        return {}
    from transformers import AutoTokenizer
    from transformers.models.qwen2_vl import Qwen2VLImageProcessorPil

    source = folder / component
    image_processor = Qwen2VLImageProcessorPil.from_pretrained(source, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    template = getattr(tokenizer, "chat_template", None)
    return {component: image_only_processor(image_processor, tokenizer, chat_template=template)}


def image_only_processor(image_processor, tokenizer, chat_template=None):
    """A Qwen2VLProcessor for images and text, with no video slot (needs no torchvision)."""
    return _image_only_class()(image_processor, tokenizer, chat_template=chat_template)

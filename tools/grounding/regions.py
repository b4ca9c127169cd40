"""What every grounder does to the region it found."""

from __future__ import annotations

from PIL import Image, ImageFilter

GROW_SHARE = 0.015  # grow the mask by this share of the image's longer side


def grow_mask(mask: Image.Image) -> Image.Image:
    """Grow a found region a little, so an object's outline and shadow fall inside it."""
    if mask.getbbox() is None:
        return mask
    size = max(1, int(max(mask.size) * GROW_SHARE)) | 1  # odd kernel
    return mask.filter(ImageFilter.MaxFilter(size))
